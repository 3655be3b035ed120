//! The design's metrics, computed at the end of a run from the history,
//! the engine's counters, and what an observer saw during the run.
//!
//! Two metrics need facts the history lacks: whether a replica was down
//! when a request was invoked, and how each read phase ended. The
//! `MetricsObserver` collects both with the god's-eye view checkers get,
//! as a `sim_core::Observer` the run hands back. Names carry their unit:
//!
//! - `requests`: operations invoked.
//! - `ok_fraction`: of the operations that completed, those that completed
//!   `Ok` (the rest timed out).
//! - `latency_ms_p50`, `latency_ms_p99`: of `Ok` operations, in true time.
//! - `messages_per_request`: messages sent per operation invoked.
//! - `read_miss_fraction`: of the read phases invoked after a request for
//!   the same X had completed `Ok`, those that found nothing.
//! - `availability_while_down`: of the operations invoked while a replica
//!   was crashed or paused, and completed, those that completed `Ok`.
//! - `bloom_false_positive_rate` (`BloomFilter` only): of the first
//!   requests ever made for an X that completed `Ok`, those that answered
//!   `true`.
//!
//! A fraction with nothing to count is left out rather than made up.

use std::collections::BTreeMap;

use sim_core::time::duration_nanos;
use sim_core::{NodeId, Observer, Operation, RunResult, Step, World};

use super::Seen;
use super::coordinator::ReadPhase;
use super::node::DedupNode;

/// What the observer saw, read by the run at the end.
#[derive(Debug, Default)]
pub struct Observations {
    /// By operation index: was a replica down when it was invoked?
    invoked_while_down: Vec<bool>,
    /// Every read phase that ended, in the order they ended.
    read_phases: Vec<ReadPhase>,
}

/// Watches every step for the facts the metrics need; never fails.
#[derive(Debug)]
pub struct MetricsObserver {
    /// What it saw so far; read once the run is over.
    pub observations: Observations,
    replicas: u32,
    invoked: usize,
    /// Per client: how much of its read-phase log has been copied.
    read_cursor: BTreeMap<NodeId, usize>,
}

impl MetricsObserver {
    pub fn new(replicas: u32) -> MetricsObserver {
        MetricsObserver {
            observations: Observations::default(),
            replicas,
            invoked: 0,
            read_cursor: BTreeMap::new(),
        }
    }
}

impl Observer<DedupNode> for MetricsObserver {
    fn observe(&mut self, world: &World<'_, DedupNode>, step: &Step<'_>) {
        let shared = &mut self.observations;
        let invoked = world.history().len();
        if invoked > self.invoked {
            let down = (0..self.replicas)
                .map(NodeId)
                .any(|id| world.node(id).is_none() || world.is_paused(id));
            shared.invoked_while_down.resize(invoked, down);
            self.invoked = invoked;
        }
        for &node in step.nodes.iter().filter(|n| n.0 >= self.replicas) {
            let cursor = self.read_cursor.entry(node).or_default();
            match world.node(node) {
                Some(DedupNode::Client(client)) => {
                    let phases = client.coordinator.read_phases();
                    if *cursor > phases.len() {
                        // Stopped and restarted within one event: a new log.
                        *cursor = 0;
                    }
                    shared.read_phases.extend_from_slice(&phases[*cursor..]);
                    *cursor = phases.len();
                }
                // Crashed: its log is gone, and a restarted client starts anew.
                _ => *cursor = 0,
            }
        }
    }
}

/// Every metric of a run, by name.
pub fn compute(
    result: &RunResult<Seen, bool>,
    observations: &Observations,
    bloom_filter: bool,
) -> BTreeMap<String, f64> {
    let operations = result.history.operations();
    let mut metrics = BTreeMap::new();
    let requests = operations.len();
    metrics.insert("requests".to_owned(), requests as f64);
    if requests > 0 {
        let sent = result.stats.messages_sent as f64;
        metrics.insert("messages_per_request".to_owned(), sent / requests as f64);
    }
    let completed = operations.iter().filter(|op| op.completion.is_some());
    if let Some(fraction) = fraction(completed.map(|op| op.ok_value().is_some())) {
        metrics.insert("ok_fraction".to_owned(), fraction);
    }
    let mut latencies_ns: Vec<u64> = operations
        .iter()
        .filter_map(|op| {
            op.ok_value()?;
            let completion = op.completion.as_ref()?;
            Some(duration_nanos(completion.stamp.time - op.invoke.time))
        })
        .collect();
    latencies_ns.sort_unstable();
    for (name, quantile) in [("latency_ms_p50", 0.5), ("latency_ms_p99", 0.99)] {
        if let Some(ns) = nearest_rank(&latencies_ns, quantile) {
            metrics.insert(name.to_owned(), ns as f64 / 1e6);
        }
    }
    let while_down = operations
        .iter()
        .zip(&observations.invoked_while_down)
        .filter(|(op, down)| **down && op.completion.is_some())
        .map(|(op, _)| op.ok_value().is_some());
    if let Some(fraction) = fraction(while_down) {
        metrics.insert("availability_while_down".to_owned(), fraction);
    }
    if let Some(fraction) = read_miss_fraction(result, observations) {
        metrics.insert("read_miss_fraction".to_owned(), fraction);
    }
    if bloom_filter && let Some(rate) = first_request_true_rate(result) {
        metrics.insert("bloom_false_positive_rate".to_owned(), rate);
    }
    metrics
}

/// Read phases that missed an X whose request had completed before.
fn read_miss_fraction(result: &RunResult<Seen, bool>, observations: &Observations) -> Option<f64> {
    let history = &result.history;
    // X -> the earliest history position at which a request on X completed Ok.
    let mut first_ok: BTreeMap<u64, u64> = BTreeMap::new();
    for op in history.operations() {
        if let (Some(_), Some(c)) = (op.ok_value(), &op.completion) {
            let earliest = first_ok.entry(op.op.0).or_insert(c.stamp.position);
            *earliest = (*earliest).min(c.stamp.position);
        }
    }
    let after_a_write = observations.read_phases.iter().filter_map(|phase| {
        let op = history.get(phase.op);
        let written = first_ok
            .get(&op.op.0)
            .is_some_and(|&position| position < op.invoke.position);
        written.then_some(!phase.found)
    });
    fraction(after_a_write)
}

/// How often the first request ever made for an X answered `true`.
fn first_request_true_rate(result: &RunResult<Seen, bool>) -> Option<f64> {
    let mut first: BTreeMap<u64, &Operation<Seen, bool>> = BTreeMap::new();
    for op in result.history.operations() {
        first.entry(op.op.0).or_insert(op); // invocation order: the first wins
    }
    fraction(first.values().filter_map(|op| op.ok_value().copied()))
}

/// The fraction of `true`s, or `None` when there is nothing to count.
fn fraction(flags: impl Iterator<Item = bool>) -> Option<f64> {
    let (hits, total) = flags.fold((0u64, 0u64), |(h, t), f| (h + u64::from(f), t + 1));
    (total > 0).then(|| hits as f64 / total as f64)
}

/// The nearest-rank percentile of sorted values.
fn nearest_rank(sorted: &[u64], quantile: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (quantile * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}
