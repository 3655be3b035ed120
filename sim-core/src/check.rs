//! Checkers: the judges of a run. Nodes never check themselves; checkers
//! are their own types, named after the property they guard.
//!
//! - An `Invariant` looks at every node's state (typed, god's-eye) after
//!   every event that ran a handler, and at the history so far.
//! - A `HistoryCheck` reads the finished history (linearizability,
//!   uniqueness).
//! - A `FinalCheck` reads the final state of every node together with the
//!   history, when the run is over (money conserved: every charge the
//!   payment provider made ends in a ticket or a refund in the store).
//! - Liveness (`liveness.rs`) is judged by the engine itself.

use crate::Node;
use crate::history::{History, OpId};
use crate::node::NodeId;
use crate::time::SimTime;
use crate::world::World;

/// What a checker found wrong, before the engine stamps it with where and
/// when.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Breach {
    /// What is wrong, in a sentence a person can act on.
    pub message: String,
    /// The client operations involved, if any.
    pub ops: Vec<OpId>,
}

impl Breach {
    pub fn new(message: impl Into<String>) -> Breach {
        Breach {
            message: message.into(),
            ops: Vec::new(),
        }
    }
    pub fn with_ops(mut self, ops: impl IntoIterator<Item = OpId>) -> Breach {
        self.ops.extend(ops);
        self
    }
}

/// A property of the whole system's state that must hold after every
/// event, e.g. "no bulk is leased twice".
pub trait Invariant<N: Node> {
    /// The property's name, as scenarios' `expect: Violation("...")` use it.
    fn name(&self) -> &str;
    /// Checks the world right after `step`. Keep it cheap or incremental:
    /// it runs after every event.
    fn check(&mut self, world: &World<'_, N>, step: &Step<'_>) -> Result<(), Breach>;
    /// Whether the check judges the history alone: not the nodes, not the
    /// step (its time, its nodes). The engine then calls it only after
    /// events that recorded something (an invocation, a completion, a
    /// show), which most events do not: its verdict cannot change after
    /// the others.
    fn reads_only_history(&self) -> bool {
        false
    }
}

/// A design's checks: its invariants and its history checks, in the order
/// they are checked. The names a scenario's `expect` may use come from
/// here, from the checkers themselves, never from a list kept beside them.
pub struct Checks<N: Node> {
    pub(crate) invariants: Vec<Box<dyn Invariant<N>>>,
    pub(crate) history_checks: Vec<Box<dyn HistoryCheck<N>>>,
    pub(crate) final_checks: Vec<Box<dyn FinalCheck<N>>>,
}

impl<N: Node> Default for Checks<N> {
    fn default() -> Self {
        Checks {
            invariants: Vec::new(),
            history_checks: Vec::new(),
            final_checks: Vec::new(),
        }
    }
}

impl<N: Node> std::fmt::Debug for Checks<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl<N: Node> Checks<N> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a state invariant, checked after every event.
    pub fn invariant(mut self, invariant: impl Invariant<N> + 'static) -> Self {
        self.invariants.push(Box::new(invariant));
        self
    }

    /// Adds a check of the finished history.
    pub fn history(mut self, check: impl HistoryCheck<N> + 'static) -> Self {
        self.history_checks.push(Box::new(check));
        self
    }

    /// Adds a check of the final state, run when the run is over.
    pub fn final_state(mut self, check: impl FinalCheck<N> + 'static) -> Self {
        self.final_checks.push(Box::new(check));
        self
    }

    /// Every check's name, in the order they are checked: invariants,
    /// then final-state checks, then history checks.
    pub fn names(&self) -> Vec<String> {
        let invariants = self.invariants.iter().map(|i| i.name().to_owned());
        let finals = self.final_checks.iter().map(|f| f.name().to_owned());
        let history = self.history_checks.iter().map(|h| h.name().to_owned());
        invariants.chain(finals).chain(history).collect()
    }
}

/// Watches the run for metrics: sees what an invariant sees, after every
/// event, but cannot fail it. The caller keeps the observer (see
/// `Sim::run_observed`) and reads what it gathered when the run is over.
pub trait Observer<N: Node> {
    fn observe(&mut self, world: &World<'_, N>, step: &Step<'_>);

    /// Sees the final state once, when the run is over (what a store
    /// ended with, say). Does nothing unless an observer needs it.
    fn finish(&mut self, _world: &World<'_, N>) {}
}

/// Observes nothing: what `Sim::run` uses.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl<N: Node> Observer<N> for NoObserver {
    fn observe(&mut self, _world: &World<'_, N>, _step: &Step<'_>) {}
}

/// The event an invariant is checked after.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Step<'a> {
    pub event: u64,
    pub time: SimTime,
    /// The nodes whose state this event may have changed: the node whose
    /// handler ran, the node a fault crashed, or every node a heal
    /// restarted. Empty for events that changed no node (a network fault,
    /// a message dropped on arrival). Incremental checks look only here.
    pub nodes: &'a [NodeId],
}

/// A property of the final state of the whole system and its history,
/// judged once when the run is over (not after every event, when work in
/// flight would make it false for a moment).
pub trait FinalCheck<N: Node> {
    fn name(&self) -> &str;
    fn check(&mut self, world: &World<'_, N>) -> Result<(), Breach>;
}

/// A property of the finished history, e.g. linearizability.
pub trait HistoryCheck<N: Node> {
    fn name(&self) -> &str;
    fn check(&mut self, history: &History<N::Op, N::Ret>) -> HistoryVerdict;
}

/// What a history check concluded.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum HistoryVerdict {
    Pass,
    Violated(Breach),
    /// The check ran out of budget (a hard linearizability search).
    Unknown(String),
}

/// A safety property that failed: which, where, when, and who was involved.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct Violation {
    /// The invariant or check's name.
    pub invariant: String,
    /// The engine step at which it was seen (for a history check, the step
    /// of the latest operation involved).
    pub event: u64,
    pub time: SimTime,
    pub message: String,
    pub ops: Vec<OpId>,
}

/// Operations that did not finish in the liveness phase.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct LivenessFailure {
    /// When faults stopped and everything healed.
    pub healed_at: SimTime,
    /// How long operations had to finish after that.
    pub bound_ms: u64,
    pub message: String,
    pub ops: Vec<OpId>,
}

/// Which limit a run hit.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub enum Limit {
    /// More engine events than `Limits::max_events`.
    Events,
    /// More events pending at once than `Limits::max_pending`.
    PendingEvents,
}

/// The verdict of a run. "Did something wrong" (`Violated`), "did not
/// finish" (`NotLive`), and "could not tell" (`Unknown`, `LimitReached`)
/// are different answers.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub enum Verdict {
    Pass,
    Violated(Violation),
    NotLive(LivenessFailure),
    /// A history check could not decide within its budget.
    Unknown {
        check: String,
        reason: String,
    },
    LimitReached {
        limit: Limit,
        event: u64,
        time: SimTime,
    },
}

impl Verdict {
    pub fn is_pass(&self) -> bool {
        matches!(self, Verdict::Pass)
    }

    /// The verdict in one line, the same wherever it is printed (the
    /// terminal, replays, reports): `pass`, `violated `x` at event E,
    /// t=T: why`, `not live: ...`, `unknown: ...`, `limit: ...`.
    pub fn sentence(&self) -> String {
        match self {
            Verdict::Pass => "pass".to_owned(),
            Verdict::Violated(v) => format!(
                "violated `{}` at event {}, t={}: {}",
                v.invariant, v.event, v.time, v.message
            ),
            Verdict::NotLive(l) => format!("not live: {}", l.message),
            Verdict::Unknown { check, reason } => {
                format!("unknown: `{check}` could not decide: {reason}")
            }
            Verdict::LimitReached { limit, event, time } => {
                format!("limit: the run hit its {limit:?} limit at event {event}, t={time}")
            }
        }
    }
    /// The name a scenario's expected outcome matches against: `pass`, the
    /// violated invariant, `liveness`, `unknown`, or `limit`.
    pub fn label(&self) -> &str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Violated(v) => &v.invariant,
            Verdict::NotLive(_) => "liveness",
            Verdict::Unknown { .. } => "unknown",
            Verdict::LimitReached { .. } => "limit",
        }
    }
}
