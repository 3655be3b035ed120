//! The design's own metrics, computed at the end of a run from the
//! history and what an observer saw during the run (the harness adds the
//! ones every model shares: requests, ok fraction, latency, messages per
//! request).
//!
//! Two metrics need facts the history lacks: whether a replica was down
//! when a request was invoked, and how each read phase ended. The
//! `MetricsObserver` collects both with the god's-eye view checkers get,
//! as a `sim_core::Observer` the run hands back. Names carry their unit:
//!
//! - `read_miss_fraction`: of the first request for each X invoked after
//!   some request for X was answered, those whose read phase found
//!   nothing;
//! - `read_miss_predicted`: what the combinatorics predict for it,
//!   C(N − W, R) / C(N, R) for random R-of-N reads of a random W-of-N
//!   write (zero when reads and writes cannot miss each other);
//! - `availability_while_down`: of the operations invoked while a replica
//!   was crashed or paused, and completed, those that completed `Ok`;
//! - `bloom_false_positive_rate` (`BloomFilter` only): of the first
//!   requests ever made for an X that completed `Ok`, those that answered
//!   `true`.
//!
//! A fraction with nothing to count is left out rather than made up.

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap, FxHashSet};
use sim_core::{NodeId, Observer, OpId, Operation, RunResult, Step, World};

use super::coordinator::ReadPhase;
use super::node::DedupNode;
use super::{DedupConfig, ReplicaChoice, Seen, Variant, WriteFanOut};
use crate::harness::fraction;

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
    /// Per client, by node index: how much of its read-phase log has been
    /// copied.
    read_cursor: Vec<usize>,
}

impl MetricsObserver {
    pub fn new(replicas: u32) -> MetricsObserver {
        MetricsObserver {
            observations: Observations::default(),
            replicas,
            invoked: 0,
            read_cursor: Vec::new(),
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
            if self.read_cursor.len() <= node.index() {
                self.read_cursor.resize(node.index() + 1, 0);
            }
            let cursor = &mut self.read_cursor[node.index()];
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

/// The design's own metrics (the harness adds the shared ones).
pub fn compute(
    config: &DedupConfig,
    result: &RunResult<Seen, bool>,
    observations: &Observations,
) -> BTreeMap<String, f64> {
    let operations = result.history.operations();
    let mut metrics = BTreeMap::new();
    let while_down = operations
        .iter()
        .zip(&observations.invoked_while_down)
        .filter(|(op, down)| **down && op.completion.is_some())
        .map(|(op, _)| op.ok_value().is_some());
    if let Some(share) = fraction(while_down) {
        metrics.insert("availability_while_down".to_owned(), share);
    }
    if let Some(share) = read_miss_fraction(result, observations) {
        metrics.insert("read_miss_fraction".to_owned(), share);
    }
    metrics.insert("read_miss_predicted".to_owned(), read_miss_predicted(config));
    if config.variant == Variant::BloomFilter
        && let Some(rate) = first_request_true_rate(result)
    {
        metrics.insert("bloom_false_positive_rate".to_owned(), rate);
    }
    metrics
}

/// The chance that a read of R replicas misses a write of W replicas, when
/// both are chosen at random among the N of X's preference list: every one
/// of the R read lands among the N − W not written,
/// C(N − W, R) / C(N, R) = Π_{i<R} (N − W − i) / (N − i). Zero when
/// reads and writes are not both random W- and R-subsets: a consistent-hash
/// order starts both at the same replica, and a write to the whole
/// preference list reaches every replica.
pub fn read_miss_predicted(config: &DedupConfig) -> f64 {
    let random = config.replica_choice == ReplicaChoice::Random
        && config.write_fan_out == WriteFanOut::Quorum;
    if !random {
        return 0.0;
    }
    let n = u64::from(config.replication_factor());
    let (r, w) = (u64::from(config.read_quorum), u64::from(config.write_quorum));
    (0..r)
        .map(|i| (n.saturating_sub(w + i)) as f64 / (n - i) as f64)
        .product()
}

/// Of the first request for each X invoked after some request for X was
/// answered, the share whose read phase found nothing: a read that missed
/// the one completed write (the case the closed form predicts; later
/// requests meet copies that misses and repairs spread).
fn read_miss_fraction(result: &RunResult<Seen, bool>, observations: &Observations) -> Option<f64> {
    let history = &result.history;
    // X -> the earliest history position at which a request on X completed Ok.
    let mut first_ok: FxHashMap<u64, u64> = FxHashMap::default();
    for op in history.operations() {
        if let (Some(_), Some(c)) = (op.ok_value(), &op.completion) {
            let earliest = first_ok.entry(op.op.0).or_insert(c.stamp.position);
            *earliest = (*earliest).min(c.stamp.position);
        }
    }
    let found: FxHashMap<OpId, bool> = observations
        .read_phases
        .iter()
        .map(|phase| (phase.op, phase.found))
        .collect();
    let mut measured: FxHashSet<u64> = FxHashSet::default();
    let misses = history.operations().iter().filter_map(|op| {
        let answered = first_ok.get(&op.op.0)?;
        if op.invoke.position < *answered || !measured.insert(op.op.0) {
            return None;
        }
        found.get(&op.id).map(|found| !found)
    });
    fraction(misses)
}
/// How often the first request ever made for an X answered `true`.
fn first_request_true_rate(result: &RunResult<Seen, bool>) -> Option<f64> {
    let mut first: FxHashMap<u64, &Operation<Seen, bool>> = FxHashMap::default();
    for op in result.history.operations() {
        first.entry(op.op.0).or_insert(op); // invocation order: the first wins
    }
    fraction(first.values().filter_map(|op| op.ok_value().copied()))
}

