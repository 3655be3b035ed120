//! The design's checks, named as scenario files expect them:
//!
//! - `acknowledged_writes_survive`: the version on the server's disk never
//!   falls below the version of a write a client was told is done.
//!   Checked after every event: a crash that loses an acknowledged write
//!   is caught at the crash.
//! - `linearizable`: the finished history is a linearizable register
//!   (sim-core's generic checker, with the register's spec below).
//!
//! The first names the mistake where it happens; the second judges only
//! what clients saw, as a client of a real system would.

use sim_core::history::CompletionFeed;
use sim_core::lincheck::{self, Budget, Spec};
use sim_core::{Breach, History, HistoryCheck, HistoryVerdict, Invariant, OpId, Step, World};

use super::SERVER;
use super::node::RegisterNode;
use super::workload::Op;

/// The name of the durability invariant.
pub const ACKNOWLEDGED_WRITES_SURVIVE: &str = "acknowledged_writes_survive";
/// The name of the linearizability check.
pub const LINEARIZABLE: &str = "linearizable";

/// No acknowledged write is ever lost from the server's disk.
#[derive(Debug, Default)]
pub struct AcknowledgedWritesSurvive {
    feed: CompletionFeed<Op, u64>,
    /// The highest version acknowledged so far, and the write it was.
    acknowledged: Option<(u64, OpId)>,
}

impl Invariant<RegisterNode> for AcknowledgedWritesSurvive {
    fn name(&self) -> &str {
        ACKNOWLEDGED_WRITES_SURVIVE
    }

    fn check(&mut self, world: &World<'_, RegisterNode>, _step: &Step<'_>) -> Result<(), Breach> {
        let acknowledged = &mut self.acknowledged;
        let _ = self
            .feed
            .for_each_completed(world.history(), |op| {
                if let (Op::Write(_), Some(&version)) = (op.op, op.ok_value())
                    && acknowledged.is_none_or(|(highest, _)| version > highest)
                {
                    *acknowledged = Some((version, op.id));
                }
                Ok::<(), ()>(())
            });
        let on_disk = world.durable(SERVER).version();
        match self.acknowledged {
            Some((version, op)) if on_disk < version => Err(Breach::new(format!(
                "the server's disk is at version {on_disk}, but write #{} was acknowledged at \
                 version {version}: the server acknowledged it before it was on disk, and a \
                 crash lost it",
                op.0
            ))
            .with_ops([op])),
            _ => Ok(()),
        }
    }
}

/// The register as one correct copy would answer: a read returns the last
/// value written (0 at first); a write returns its version, which the
/// spec does not judge.
#[derive(Clone, Copy, Debug)]
pub struct RegisterSpec<'a> {
    /// Node names, for explanations.
    pub names: &'a [String],
}

impl Spec for RegisterSpec<'_> {
    type Op = Op;
    type Ret = u64;
    type Key = ();
    type State = u64;

    fn key(&self, _op: &Op) {}
    fn init(&self, _key: &()) -> u64 {
        0
    }
    fn step(&self, value: &u64, op: &Op, ret: Option<&u64>) -> Option<u64> {
        match op {
            Op::Read if ret.is_some_and(|read| read != value) => None,
            Op::Read => Some(*value),
            Op::Write(written) => Some(*written),
        }
    }
    fn is_read_only(&self, op: &Op) -> bool {
        matches!(op, Op::Read)
    }
    fn describe_key(&self, _key: &()) -> String {
        "the register".to_owned()
    }
    fn describe_op(&self, op: &Op) -> String {
        match op {
            Op::Read => "a read".to_owned(),
            Op::Write(v) => format!("a write of {v}"),
        }
    }
    fn describe_ret(&self, value: &u64) -> String {
        value.to_string()
    }
    fn describe_state(&self, value: &u64) -> String {
        format!("the register at {value}")
    }
    fn describe_node(&self, node: sim_core::NodeId) -> String {
        self.names.get(node.index()).cloned().unwrap_or_else(|| node.to_string())
    }
}

/// The finished history is a linearizable register; explanations name
/// nodes by `names`.
#[derive(Debug)]
pub struct Linearizable {
    pub names: Vec<String>,
}

impl HistoryCheck<RegisterNode> for Linearizable {
    fn name(&self) -> &str {
        LINEARIZABLE
    }

    fn check(&mut self, history: &History<Op, u64>) -> HistoryVerdict {
        let mut budget = Budget::steps(1_000_000);
        let spec = RegisterSpec { names: &self.names };
        match lincheck::check(&spec, history, &mut budget) {
            lincheck::Verdict::Linearizable => HistoryVerdict::Pass,
            lincheck::Verdict::NotLinearizable(counterexample) => HistoryVerdict::Violated(
                Breach::new(counterexample.explanation.clone()).with_ops(counterexample.involved()),
            ),
            lincheck::Verdict::Unknown { .. } => {
                HistoryVerdict::Unknown("the search ran out of its 1,000,000 steps".to_owned())
            }
        }
    }
}
