//! The design's own metrics and plots (the harness adds the shared ones):
//!
//! - `seats_sold`: seats and zone places on tickets users were given;
//! - `refunds`: charges the provider refunded;
//! - `holds_expired`: orders the store ended with that held seats and ran
//!   out of time unpaid;
//! - `booking_ms_p50`, `booking_ms_p99`: from a hold's request to its
//!   ticket, for orders that got one;
//! - `failed_holds_per_success`: refused holds per hold granted (the
//!   contention);
//! - `seat_map_staleness_ms_p99`: of every seat map served, how long
//!   before it was served the first entry it lacked was committed;
//! - counters: `charges`, `payment_timeouts`, `reconciled`, `failovers`,
//!   `maps_served`, `tickets`, and the store's `seats_held`,
//!   `seats_sold_in_store`, `seats_freed`.
//!
//! The run report plots seats held, sold and freed (released, refunded or
//! expired) over time, and failovers, with the faults shaded.

use std::collections::BTreeMap;
use std::sync::Arc;

use sim_core::metrics::{Series, nearest_rank};
use sim_core::record::PlotSpec;
use sim_core::{NodeId, Observer, SimTime, Step, World};

use super::invariants::Commits;
use super::ledger::{OrderId, OrderState};
use super::node::BookingNode;
use super::workload::{Op, Ret};
use super::{BookingConfig, BookingDesign, Layout};
use crate::harness::Finished;

#[derive(Debug)]
pub struct Observations {
    layout: Layout,
    commits: Commits,
    served: BTreeMap<NodeId, u64>,
    /// Staleness of every map served, in ns.
    staleness_ns: Vec<u64>,
    /// From the store's final state: when each expired hold ran out (its
    /// leader clock, ns) and how many seats and places it held.
    expired: Vec<(i64, u64)>,
}

impl Observations {
    pub fn new(config: &Arc<BookingConfig>) -> Observations {
        Observations {
            layout: Layout::of(config),
            commits: Commits::default(),
            served: BTreeMap::new(),
            staleness_ns: Vec::new(),
            expired: Vec::new(),
        }
    }
}

impl Observer<BookingNode> for Observations {
    fn observe(&mut self, world: &World<'_, BookingNode>, step: &Step<'_>) {
        self.commits.update(world, step, self.layout);
        for &node in step.nodes.iter().filter(|n| self.layout.is_app(**n)) {
            if let Some(BookingNode::App(app)) = world.node(node) {
                let (count, offset, _) = app.served;
                if self.served.insert(node, count).unwrap_or(0) != count {
                    let (stale, _) = self.commits.staleness(offset, step.time);
                    self.staleness_ns.push(stale.as_nanos() as u64);
                }
            }
        }
    }

    fn finish(&mut self, world: &World<'_, BookingNode>) {
        let now = world.now().as_nanos() as i64;
        let leader = self.layout.stores().find_map(|n| match world.node(n) {
            Some(BookingNode::Store(s)) if s.leads().is_some() => Some(s),
            _ => None,
        });
        if let Some(store) = leader {
            for order in store.ledger().orders.values() {
                let unpaid = matches!(order.state, OrderState::Held | OrderState::Paying);
                if unpaid && order.expires_ns <= now {
                    self.expired.push((order.expires_ns, order.seats.len() as u64 + u64::from(order.zone)));
                }
            }
        }
    }
}

pub fn compute(_config: &BookingConfig, run: &Finished<'_, BookingDesign>) -> BTreeMap<String, f64> {
    let result = run.result;
    let history = &result.history;
    let mut metrics = BTreeMap::new();
    let mut held_at: BTreeMap<OrderId, SimTime> = BTreeMap::new();
    let (mut granted, mut refused, mut seats_sold) = (0u64, 0u64, 0u64);
    let mut booking_ns = Vec::new();
    for op in history.operations() {
        match (&op.op, op.ok_value()) {
            (Op::Hold { order, .. }, Some(_)) => {
                granted += 1;
                held_at.insert(*order, op.invoke.time);
            }
            (Op::Hold { .. }, None) if op.is_failed() => refused += 1,
            (Op::Pay { order }, Some(Ret::Ticket(ticket))) => {
                seats_sold += ticket.seats.len() as u64 + u64::from(ticket.zone);
                if let (Some(start), Some(done)) = (held_at.get(order), &op.completion) {
                    booking_ns.push(done.stamp.time.as_nanos().saturating_sub(start.as_nanos()));
                }
            }
            _ => {}
        }
    }
    metrics.insert("seats_sold".to_owned(), seats_sold as f64);
    if granted > 0 {
        metrics.insert("failed_holds_per_success".to_owned(), refused as f64 / granted as f64);
    }
    booking_ns.sort_unstable();
    for (name, per_mille) in [("booking_ms_p50", 500), ("booking_ms_p99", 990)] {
        if let Some(ns) = nearest_rank(&booking_ns, per_mille) {
            metrics.insert(name.to_owned(), ns as f64 / 1e6);
        }
    }
    let mut staleness = run.observer.staleness_ns.clone();
    staleness.sort_unstable();
    if let Some(ns) = nearest_rank(&staleness, 990) {
        metrics.insert("seat_map_staleness_ms_p99".to_owned(), ns as f64 / 1e6);
    }
    metrics.insert("holds_expired".to_owned(), run.observer.expired.len() as f64);
    for counter in ["refunds", "failovers", "reconciled", "payment_timeouts"] {
        metrics.insert(counter.to_owned(), result.metrics.counter(counter) as f64);
    }
    metrics
}

/// Seats and places freed by expiry, when they ran out.
pub fn series(run: &Finished<'_, BookingDesign>) -> Vec<Series> {
    let expired = run
        .observer
        .expired
        .iter()
        .map(|&(at, n)| (SimTime::from_nanos(u64::try_from(at).unwrap_or(0)), n));
    vec![Series::bucketed("seats_expired", run.end, expired)]
}

pub fn plots() -> Vec<PlotSpec> {
    vec![
        PlotSpec {
            title: "seats held, sold and freed".to_owned(),
            series: vec![
                "seats_held".to_owned(),
                "seats_sold_in_store".to_owned(),
                "seats_freed".to_owned(),
                "seats_expired".to_owned(),
            ],
            cumulative: true,
            y_label: None,
        },
        PlotSpec {
            title: "failovers".to_owned(),
            series: vec!["failovers".to_owned()],
            cumulative: true,
            y_label: None,
        },
    ]
}
