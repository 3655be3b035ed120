//! The design's checks, named as scenario files expect them:
//!
//! - `seat_sold_once` (invariant): no seat is on two tickets users were
//!   given.
//! - `zone_capacity` (invariant): the zone places on tickets never
//!   exceed the zone's capacity.
//! - `seat_map_fresh` (invariant): a seat map served as current lacks no
//!   journal entry committed more than `map_fresh_ms` before.
//! - `money_conserved` (final state): every charge the provider made
//!   ends in a ticket (the order is paid in the store) or a refund, never
//!   neither and never both. Charges made within the liveness bound of the
//!   end are not judged: they may still be on their way.
//! - `payments_resolved` (final state): no order is still paying a
//!   liveness bound before the end: after the heal, every payment ends in
//!   a ticket or a release.
//!
//! Tickets are read from the history (what users were told); the final
//! state from the provider's ledger and the store's leader.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use sim_core::history::CompletionFeed;
use sim_core::{Breach, Checks, FinalCheck, Invariant, NodeId, OpId, SimTime, Step, World};

use super::ledger::{Ledger, OrderId, OrderState};
use super::msg::ChargeStatus;
use super::node::{BookingDisk, BookingNode};
use super::workload::{Op, Ret};
use super::{BookingConfig, Layout};

pub const SEAT_SOLD_ONCE: &str = "seat_sold_once";
pub const ZONE_CAPACITY: &str = "zone_capacity";
pub const SEAT_MAP_FRESH: &str = "seat_map_fresh";
pub const MONEY_CONSERVED: &str = "money_conserved";
pub const PAYMENTS_RESOLVED: &str = "payments_resolved";

/// The checks; `settle` is (the liveness bound, when the run ends).
pub fn checks(config: &BookingConfig, names: Arc<[String]>, settle: Option<(Duration, SimTime)>) -> Checks<BookingNode> {
    let layout = Layout::of(config);
    Checks::new()
        .invariant(SeatSoldOnce::new(&names))
        .invariant(ZoneCapacity::new(config.zone_capacity))
        .invariant(SeatMapFresh::new(layout, Duration::from_millis(config.map_fresh_ms), &names))
        .final_state(MoneyConserved { layout, settle })
        .final_state(PaymentsResolved { layout, settle })
}

/// The tickets users were given, as they complete.
#[derive(Debug, Default)]
struct Tickets {
    feed: CompletionFeed<Op, Ret>,
}

impl Tickets {
    /// Calls `on_ticket(op, node, ticket)` for each ticket given since.
    fn each_new(
        &mut self,
        world: &World<'_, BookingNode>,
        mut on_ticket: impl FnMut(OpId, NodeId, &super::msg::Ticket) -> Result<(), Breach>,
    ) -> Result<(), Breach> {
        self.feed.for_each_completed(world.history(), |op| match op.ok_value() {
            Some(Ret::Ticket(ticket)) => on_ticket(op.id, op.node, ticket),
            _ => Ok(()),
        })
    }
}

#[derive(Debug)]
pub struct SeatSoldOnce {
    names: Arc<[String]>,
    tickets: Tickets,
    sold: BTreeMap<u16, (OrderId, OpId, NodeId)>,
}

impl SeatSoldOnce {
    fn new(names: &Arc<[String]>) -> SeatSoldOnce {
        SeatSoldOnce {
            names: Arc::clone(names),
            tickets: Tickets::default(),
            sold: BTreeMap::new(),
        }
    }
}

impl Invariant<BookingNode> for SeatSoldOnce {
    fn name(&self) -> &str {
        SEAT_SOLD_ONCE
    }

    fn reads_only_history(&self) -> bool {
        true
    }

    fn check(&mut self, world: &World<'_, BookingNode>, _step: &Step<'_>) -> Result<(), Breach> {
        let (sold, names) = (&mut self.sold, &self.names);
        self.tickets.each_new(world, |op, user, ticket| {
            for &seat in ticket.seats.iter() {
                if let Some(&(other, other_op, other_user)) = sold.get(&seat)
                    && other != ticket.order
                {
                    return Err(Breach::new(format!(
                        "seat {seat} is on two tickets: order {} ({}, operation #{}) and \
                         order {} ({}, operation #{})",
                        other.label(),
                        name(names, other_user),
                        other_op.0,
                        ticket.order.label(),
                        name(names, user),
                        op.0
                    ))
                    .with_ops([other_op, op]));
                }
                sold.insert(seat, (ticket.order, op, user));
            }
            Ok(())
        })
    }
}

#[derive(Debug)]
pub struct ZoneCapacity {
    capacity: u32,
    tickets: Tickets,
    /// Zone places per order on tickets given.
    sold: BTreeMap<OrderId, (u32, OpId)>,
}

impl ZoneCapacity {
    fn new(capacity: u32) -> ZoneCapacity {
        ZoneCapacity {
            capacity,
            tickets: Tickets::default(),
            sold: BTreeMap::new(),
        }
    }
}

impl Invariant<BookingNode> for ZoneCapacity {
    fn name(&self) -> &str {
        ZONE_CAPACITY
    }

    fn reads_only_history(&self) -> bool {
        true
    }

    fn check(&mut self, world: &World<'_, BookingNode>, _step: &Step<'_>) -> Result<(), Breach> {
        let (sold, capacity) = (&mut self.sold, self.capacity);
        self.tickets.each_new(world, |op, _, ticket| {
            if ticket.zone == 0 {
                return Ok(());
            }
            sold.insert(ticket.order, (ticket.zone, op));
            let total: u32 = sold.values().map(|(n, _)| n).sum();
            if total > capacity {
                return Err(Breach::new(format!(
                    "{total} zone places are on tickets, but the zone holds {capacity}: \
                     {} orders share it",
                    sold.len()
                ))
                .with_ops(sold.values().map(|(_, op)| *op)));
            }
            Ok(())
        })
    }
}

/// When each journal entry was first seen committed by a leader: how
/// stale a seat map at an offset is (the freshness check and the
/// staleness metric both read it).
#[derive(Debug, Default)]
pub struct Commits {
    at: Vec<SimTime>,
}

impl Commits {
    pub fn update(&mut self, world: &World<'_, BookingNode>, step: &Step<'_>, layout: Layout) {
        for &node in step.nodes.iter().filter(|n| layout.is_store(**n)) {
            if let Some(BookingNode::Store(store)) = world.node(node)
                && store.leads().is_some()
            {
                let committed = store.committed().unwrap_or(0) as usize;
                while self.at.len() < committed {
                    self.at.push(step.time);
                }
            }
        }
    }

    /// How long before `now` the first entry a map at `offset` lacks was
    /// committed (zero if none is).
    pub fn staleness(&self, offset: u64, now: SimTime) -> (Duration, Option<SimTime>) {
        match self.at.get(offset as usize) {
            Some(&at) => (Duration::from_nanos(now.as_nanos().saturating_sub(at.as_nanos())), Some(at)),
            None => (Duration::ZERO, None),
        }
    }
}

#[derive(Debug)]
pub struct SeatMapFresh {
    layout: Layout,
    bound: Duration,
    names: Arc<[String]>,
    commits: Commits,
    /// Per app server: the maps it had served at its last look.
    served: BTreeMap<NodeId, u64>,
}

impl SeatMapFresh {
    fn new(layout: Layout, bound: Duration, names: &Arc<[String]>) -> SeatMapFresh {
        SeatMapFresh {
            layout,
            bound,
            names: Arc::clone(names),
            commits: Commits::default(),
            served: BTreeMap::new(),
        }
    }
}

impl Invariant<BookingNode> for SeatMapFresh {
    fn name(&self) -> &str {
        SEAT_MAP_FRESH
    }

    fn check(&mut self, world: &World<'_, BookingNode>, step: &Step<'_>) -> Result<(), Breach> {
        self.commits.update(world, step, self.layout);
        for &node in step.nodes.iter().filter(|n| self.layout.is_app(**n)) {
            let Some(BookingNode::App(app)) = world.node(node) else {
                continue;
            };
            let (count, offset, current) = app.served;
            let before = self.served.insert(node, count).unwrap_or(0);
            if count == before || !current {
                continue;
            }
            // The first entry the map lacks: committed how long ago?
            if let (stale, Some(at)) = self.commits.staleness(offset, step.time)
                && stale > self.bound
            {
                return Err(Breach::new(format!(
                    "{} served a seat map at journal offset {offset} as current, but entry \
                     {offset} was committed at {at}, more than {} ms before",
                    name(&self.names, node),
                    self.bound.as_millis()
                )));
            }
        }
        Ok(())
    }
}

/// The store's final state: the leader of the newest epoch, or if none
/// leads, the newest epoch's longest journal.
fn final_ledger<'w>(world: &World<'w, BookingNode>, layout: Layout) -> Option<&'w Ledger> {
    let stores = layout.stores().filter_map(|n| match world.node(n) {
        Some(BookingNode::Store(s)) => Some((n, s)),
        _ => None,
    });
    let epoch_of = |n: NodeId| match world.durable(n) {
        BookingDisk::Store(d) => d.epoch,
        _ => 0,
    };
    stores
        .max_by_key(|(n, s)| (s.leads().unwrap_or(0), epoch_of(*n), s.ledger().offset))
        .map(|(_, s)| s.ledger())
}

fn provider_charges<'w>(world: &World<'w, BookingNode>, layout: Layout) -> Option<&'w BTreeMap<OrderId, (ChargeStatus, i64)>> {
    match world.durable(layout.provider()) {
        BookingDisk::Provider(d) => Some(&d.charges),
        _ => None,
    }
}

#[derive(Debug)]
pub struct MoneyConserved {
    layout: Layout,
    settle: Option<(Duration, SimTime)>,
}

impl FinalCheck<BookingNode> for MoneyConserved {
    fn name(&self) -> &str {
        MONEY_CONSERVED
    }

    fn check(&mut self, world: &World<'_, BookingNode>) -> Result<(), Breach> {
        let (Some(ledger), Some(charges)) = (final_ledger(world, self.layout), provider_charges(world, self.layout)) else {
            return Ok(());
        };
        let judged_before = self.settle.map(|(bound, end)| end.as_nanos().saturating_sub(bound.as_nanos() as u64));
        for (&order, &(status, at)) in charges {
            let state = ledger.orders.get(&order).map(|o| o.state);
            let settled = judged_before.is_some_and(|t| u64::try_from(at).unwrap_or(0) <= t);
            let problem = match (status, state) {
                (ChargeStatus::Refunded, Some(OrderState::Paid)) => Some("refunded, and yet paid for in the store"),
                (ChargeStatus::Charged, Some(OrderState::Paid)) => None,
                (ChargeStatus::Charged, _) if settled => Some("charged, with neither a ticket nor a refund"),
                _ => None,
            };
            if let Some(problem) = problem {
                let state = state.map_or("not in the store".to_owned(), |s| format!("{s:?} in the store"));
                return Err(Breach::new(format!(
                    "order {} was {problem}: the provider has it {status:?} since {:.3} s, the \
                     order is {state}",
                    order.label(),
                    at as f64 / 1e9
                )));
            }
        }
        Ok(())
    }
}

#[derive(Debug)]
pub struct PaymentsResolved {
    layout: Layout,
    settle: Option<(Duration, SimTime)>,
}

impl FinalCheck<BookingNode> for PaymentsResolved {
    fn name(&self) -> &str {
        PAYMENTS_RESOLVED
    }

    fn check(&mut self, world: &World<'_, BookingNode>) -> Result<(), Breach> {
        let (Some((bound, end)), Some(ledger)) = (self.settle, final_ledger(world, self.layout)) else {
            return Ok(());
        };
        let before = i64::try_from(end.as_nanos().saturating_sub(bound.as_nanos() as u64)).unwrap_or(i64::MAX);
        let stuck = ledger.orders.iter().find(|(_, o)| {
            o.state == OrderState::Paying && o.paying_since_ns.is_some_and(|s| s <= before)
        });
        match stuck {
            Some((order, o)) => Err(Breach::new(format!(
                "order {} has been paying since {:.3} s and nobody finished it: neither a \
                 ticket nor a release by the end",
                order.label(),
                o.paying_since_ns.unwrap_or(0) as f64 / 1e9
            ))),
            None => Ok(()),
        }
    }
}

fn name(names: &[String], node: NodeId) -> &str {
    names.get(node.index()).map_or("?", String::as_str)
}
