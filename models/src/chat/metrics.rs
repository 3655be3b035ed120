//! The design's own metrics and plots (the harness adds the shared ones:
//! sends, ok fraction, send latency, messages per request):
//!
//! - `delivery_ms_p50`, `delivery_ms_p99`: from a message's send to each
//!   other member showing it, in true time (nearest rank);
//! - `requests_per_delivery`: requests servers handled (sends, polls,
//!   subscribes, fetches) per message shown to a member other than its
//!   sender: what polling costs;
//! - `push_connections_mean`: push connections servers held, averaged
//!   over the run;
//! - `in_flight_max`, `in_flight_mean`: acknowledged messages some member
//!   has not shown yet;
//! - counters: `server_requests`, `messages_shown`, `connections_opened`,
//!   `reconnects`.
//!
//! The run report plots delivery latency (the p99 of the messages shown
//! in each bucket), server requests and messages shown over time, faults
//! (connection breaks among them) shaded.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;
use sim_core::history::CompletionFeed;
use sim_core::metrics::{Series, nearest_rank};
use sim_core::record::PlotSpec;
use sim_core::{NodeId, Observer, SimTime, Step, World};

use super::node::ChatNode;
use super::workload::{Op, Ret};
use super::{ChatConfig, ChatDesign, Layout};
use crate::harness::Finished;

/// Some members of a conversation, inline for groups of up to eight: a
/// set is made for every message acknowledged.
type Members = SmallVec<[NodeId; 8]>;

/// What the observer saw over time.
#[derive(Debug)]
pub struct Observations {
    config: Arc<ChatConfig>,
    layout: Layout,
    feed: CompletionFeed<Op, Ret>,
    shown_read: usize,
    /// Acknowledged messages: item → members still to show it. (These
    /// maps are only looked up and counted, never walked in order: Fx
    /// hash maps, updated on every event.)
    owed: FxHashMap<u64, Members>,
    /// Shows that came before their acknowledgement.
    early: FxHashMap<u64, Members>,
    /// Push connections each server held when last looked at, by node
    /// index.
    push_per_server: Vec<usize>,
    push_open: usize,
    in_flight_max: usize,
    /// Time integrals, exact: (push connections × ns, in flight × ns)
    /// up to `last`, the last time either count changed. Between changes
    /// the counts are constant, so an event that changes neither is
    /// passed over.
    integral: (u128, u128),
    last: SimTime,
    /// The history's size (`History::recorded`) when last looked at.
    recorded: u64,
}

impl Observations {
    pub fn new(config: &Arc<ChatConfig>) -> Observations {
        Observations {
            config: Arc::clone(config),
            layout: Layout::of(config),
            feed: CompletionFeed::default(),
            shown_read: 0,
            owed: FxHashMap::default(),
            early: FxHashMap::default(),
            push_per_server: Vec::new(),
            push_open: 0,
            in_flight_max: 0,
            integral: (0, 0),
            last: SimTime::ZERO,
            recorded: 0,
        }
    }

    /// The time integrals up to `now`, at the counts held since `last`.
    fn integrals_until(&self, now: SimTime) -> (u128, u128) {
        let elapsed = u128::from(now.as_nanos().saturating_sub(self.last.as_nanos()));
        (
            self.integral.0 + self.push_open as u128 * elapsed,
            self.integral.1 + self.owed.len() as u128 * elapsed,
        )
    }
}

impl Observer<ChatNode> for Observations {
    fn observe(&mut self, world: &World<'_, ChatNode>, step: &Step<'_>) {
        // What moves the counts: a server's push connections, and the
        // history (acknowledgements and shows move what is in flight).
        let mut push_open = self.push_open;
        for &node in step.nodes.iter().filter(|&&n| self.layout.is_server(n)) {
            let open = match world.node(node) {
                Some(ChatNode::Server(server)) => server.push_connections(),
                _ => 0,
            };
            if self.push_per_server.len() <= node.index() {
                self.push_per_server.resize(node.index() + 1, 0);
            }
            let before = std::mem::replace(&mut self.push_per_server[node.index()], open);
            push_open = push_open + open - before;
        }
        let recorded = world.history().recorded();
        if push_open == self.push_open && recorded == self.recorded {
            return;
        }
        self.integral = self.integrals_until(step.time);
        self.last = step.time;
        self.push_open = push_open;
        self.recorded = recorded;
        let history = world.history();
        let (owed, early) = (&mut self.owed, &mut self.early);
        let (layout, workload) = (self.layout, &self.config.workload);
        let members = |conv: u32| -> Members {
            workload.member_indices(conv).map(|i| layout.client(i)).collect()
        };
        let _ = self.feed.for_each_completed(history, |op| {
            if op.ok_value().is_some() {
                let mut still = members(op.op.conv);
                if let Some(seen) = early.remove(&op.op.item) {
                    still.retain(|n| !seen.contains(n));
                }
                if !still.is_empty() {
                    owed.insert(op.op.item, still);
                }
            }
            Ok::<(), ()>(())
        });
        for show in &history.shown()[self.shown_read..] {
            match self.owed.get_mut(&show.item) {
                Some(still) => {
                    still.retain(|n| *n != show.node);
                    if still.is_empty() {
                        self.owed.remove(&show.item);
                    }
                }
                None => self.early.entry(show.item).or_default().push(show.node),
            }
        }
        self.shown_read = history.shown().len();
        self.in_flight_max = self.in_flight_max.max(self.owed.len());
    }
}

/// Every delivery: (when a member other than the sender showed it, how
/// long after it was sent, in ns).
fn deliveries(run: &Finished<'_, ChatDesign>) -> Vec<(SimTime, u64)> {
    let history = &run.result.history;
    let sent_at: BTreeMap<u64, (SimTime, NodeId)> = history
        .operations()
        .iter()
        .map(|op| (op.op.item, (op.invoke.time, op.node)))
        .collect();
    history
        .shown()
        .iter()
        .filter_map(|s| {
            let &(at, sender) = sent_at.get(&s.item)?;
            let took = s.stamp.time.as_nanos().saturating_sub(at.as_nanos());
            (sender != s.node).then_some((s.stamp.time, took))
        })
        .collect()
}

pub fn compute(_config: &ChatConfig, run: &Finished<'_, ChatDesign>) -> BTreeMap<String, f64> {
    let result = run.result;
    let mut metrics = BTreeMap::new();
    let mut delivery_ns: Vec<u64> = deliveries(run).into_iter().map(|(_, ns)| ns).collect();
    delivery_ns.sort_unstable();
    for (name, per_mille) in [("delivery_ms_p50", 500), ("delivery_ms_p99", 990)] {
        if let Some(ns) = nearest_rank(&delivery_ns, per_mille) {
            metrics.insert(name.to_owned(), ns as f64 / 1e6);
        }
    }
    let requests = result.metrics.counter("server_requests");
    if !delivery_ns.is_empty() {
        metrics.insert(
            "requests_per_delivery".to_owned(),
            requests as f64 / delivery_ns.len() as f64,
        );
    }
    for counter in ["reconnects", "connections_opened"] {
        metrics.insert(counter.to_owned(), result.metrics.counter(counter) as f64);
    }
    let span = (result.stats.end_time.as_nanos() as f64).max(1.0);
    let observed = run.observer;
    let (push, in_flight) = observed.integrals_until(result.stats.end_time);
    metrics.insert("push_connections_mean".to_owned(), push as f64 / span);
    metrics.insert("in_flight_mean".to_owned(), in_flight as f64 / span);
    metrics.insert("in_flight_max".to_owned(), observed.in_flight_max as f64);
    metrics
}

/// The delivery latency p99 of the messages shown in each bucket, in ms.
pub fn series(run: &Finished<'_, ChatDesign>) -> Vec<Series> {
    let template = Series::bucketed("delivery_ms_p99", run.end, std::iter::empty());
    let bucket = template.bucket_ns.max(1);
    let mut per_bucket: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for (at, ns) in deliveries(run) {
        per_bucket.entry(at.as_nanos() / bucket).or_default().push(ns);
    }
    let last = per_bucket.keys().next_back().copied().unwrap_or(0);
    let mut counts = vec![0; usize::try_from(last + 1).unwrap_or(0)];
    for (index, mut took) in per_bucket {
        took.sort_unstable();
        let p99 = nearest_rank(&took, 990).unwrap_or(0);
        counts[index as usize] = p99 / 1_000_000;
    }
    vec![Series {
        counts,
        ..template
    }]
}

pub fn plots() -> Vec<PlotSpec> {
    vec![
        PlotSpec {
            title: "delivery latency".to_owned(),
            series: vec!["delivery_ms_p99".to_owned()],
            cumulative: false,
            y_label: Some("p99 ms of the messages shown in the bucket".to_owned()),
        },
        PlotSpec {
            title: "server requests".to_owned(),
            series: vec!["server_requests".to_owned()],
            cumulative: false,
            y_label: None,
        },
        PlotSpec {
            title: "messages shown".to_owned(),
            series: vec!["messages_shown".to_owned()],
            cumulative: true,
            y_label: None,
        },
    ]
}
