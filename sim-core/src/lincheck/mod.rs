//! The linearizability checker: is there one order of the history's
//! operations, each taking effect at a single instant between its
//! invocation and its completion, that a sequential specification accepts
//! with every result the clients saw?
//!
//! This file owns the public API: `check`, the `Budget` that bounds it, and
//! the `Verdict` with its `Counterexample`. It splits the history by key,
//! since operations on different keys are independent and the search is
//! exponential in the worst case. Each key is searched alone against a
//! `Spec` (`spec.rs`) by the Wing–Gong–Lowe search (`search.rs`), over a
//! linked list of calls and returns (`entry_list.rs`) with a memo of the
//! configurations explored (`memo.rs`).
//!
//! How the history is read:
//! - Real-time order is `Stamp.position`, a total order over every
//!   invocation and completion, never the time, which can tie.
//! - `Fail` operations certainly did not happen and are dropped.
//! - `Info` operations, and those that never completed, may take effect
//!   at any point after their invocation, or never, with any result.
//!
//! The verdict is a pure function of the history and the step limit (a
//! stop callback aside): keys are visited in key order, the search makes
//! no random choice, and no hash map is ever iterated.

mod entry_list;
mod memo;
mod search;
mod spec;

use std::collections::BTreeMap;
use std::fmt;

use crate::history::{History, OpId, Operation};
use search::{DeepestPoint, SearchOutcome};

pub use spec::{KvCall, KvOp, KvSpec, RegisterCall, RegisterOp, RegisterSpec, SetSpec, Spec};

/// Checks that `history` is linearizable under `spec`, key by key, and
/// reports the first failing key in key order.
pub fn check<S: Spec>(
    spec: &S,
    history: &History<S::Op, S::Ret>,
    budget: &mut Budget<'_>,
) -> Verdict<S::Key> {
    let mut undecided_keys = Vec::new();
    for (key, operations) in operations_by_key(spec, history) {
        match search::search(spec, &key, &operations, budget) {
            SearchOutcome::Linearizable => {}
            SearchOutcome::OutOfBudget => undecided_keys.push(key),
            SearchOutcome::NotLinearizable(deepest) => {
                return Verdict::NotLinearizable(counterexample(spec, key, &operations, &deepest));
            }
        }
    }
    if undecided_keys.is_empty() {
        Verdict::Linearizable
    } else {
        Verdict::Unknown { undecided_keys }
    }
}

/// How much work a check may do: a step limit per key, and optionally a
/// callback asked every few thousand steps whether to stop.
///
/// The step limit is deterministic: the same history and limit give the
/// same verdict on every machine. The callback is for the CLI's wall-clock
/// deadline; once it says stop, every key not yet decided is undecided.
pub struct Budget<'a> {
    max_steps_per_key: u64,
    steps_taken: u64,
    stopped: bool,
    should_stop: Option<&'a mut dyn FnMut() -> bool>,
}

/// The outcome of a check.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub enum Verdict<K> {
    Linearizable,
    NotLinearizable(Counterexample<K>),
    /// The budget ran out before a verdict; names the keys not decided.
    Unknown {
        undecided_keys: Vec<K>,
    },
}

/// Why a key is not linearizable, as far as the search got.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct Counterexample<K> {
    pub key: K,
    /// The operation whose return the search could not reach at its
    /// deepest point: no order of what was left let it take effect in time.
    pub op: OpId,
    /// The operations on `key` whose intervals overlap `op`'s, by id.
    /// Those with an unknown result count as lasting forever.
    pub concurrent: Vec<OpId>,
    /// The longest linearizable prefix found, in linearization order.
    pub prefix: Vec<OpId>,
    /// One paragraph for people: what could not be linearized, and why.
    pub explanation: String,
}

impl<K> Counterexample<K> {
    /// The operations involved: `op`, then those concurrent with it.
    pub fn involved(&self) -> Vec<OpId> {
        std::iter::once(self.op)
            .chain(self.concurrent.iter().copied())
            .collect()
    }
}

/// How often, in steps, the stop callback is asked: rarely enough that a
/// clock read costs nothing, often enough to stop within milliseconds.
const STOP_POLL_INTERVAL_STEPS: u64 = 4096;

impl<'a> Budget<'a> {
    pub fn unlimited() -> Self {
        Self::steps(u64::MAX)
    }

    /// At most `max` search steps for each key; a step visits one
    /// invocation or return. The limit is per key so that one hard key
    /// cannot starve the others, and so that shrinking a history by
    /// removing other keys never changes a key's verdict. A key with
    /// timed-out operations runs two searches that share its steps.
    pub fn steps(max: u64) -> Self {
        Budget {
            max_steps_per_key: max,
            steps_taken: 0,
            stopped: false,
            should_stop: None,
        }
    }

    /// Also stops the check when `should_stop` returns true.
    pub fn with_stop(self, should_stop: &'a mut dyn FnMut() -> bool) -> Self {
        Budget {
            should_stop: Some(should_stop),
            ..self
        }
    }

    /// Search steps spent so far, over all keys and checks.
    pub fn steps_taken(&self) -> u64 {
        self.steps_taken
    }

    /// Spends one step of a key that has spent `key_steps` already, or
    /// says the budget is gone.
    fn spend_step(&mut self, key_steps: u64) -> bool {
        if self.stopped || key_steps >= self.max_steps_per_key {
            return false;
        }
        self.steps_taken += 1;
        if self.steps_taken.is_multiple_of(STOP_POLL_INTERVAL_STEPS)
            && let Some(should_stop) = self.should_stop.as_mut()
        {
            self.stopped = should_stop();
        }
        !self.stopped
    }
}

impl fmt::Debug for Budget<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Budget")
            .field("max_steps_per_key", &self.max_steps_per_key)
            .field("steps_taken", &self.steps_taken)
            .field("stopped", &self.stopped)
            .field("has_stop_callback", &self.should_stop.is_some())
            .finish()
    }
}

type OperationsByKey<'h, S> =
    BTreeMap<<S as Spec>::Key, Vec<&'h Operation<<S as Spec>::Op, <S as Spec>::Ret>>>;

/// Groups the operations that may have happened by key, in key order.
fn operations_by_key<'h, S: Spec>(
    spec: &S,
    history: &'h History<S::Op, S::Ret>,
) -> OperationsByKey<'h, S> {
    let mut by_key: OperationsByKey<'h, S> = BTreeMap::new();
    for operation in history.operations().iter().filter(|op| !op.is_failed()) {
        by_key
            .entry(spec.key(&operation.op))
            .or_default()
            .push(operation);
    }
    by_key
}

/// Describes the deepest point of a failed search, for people and tools.
fn counterexample<S: Spec>(
    spec: &S,
    key: S::Key,
    operations: &[&Operation<S::Op, S::Ret>],
    deepest: &DeepestPoint,
) -> Counterexample<S::Key> {
    let blocked = operations[deepest.blocked];
    let concurrent: Vec<OpId> = {
        let mut ids: Vec<OpId> = operations
            .iter()
            .filter(|other| other.id != blocked.id && overlap(blocked, other))
            .map(|other| other.id)
            .collect();
        ids.sort_unstable();
        ids
    };
    let prefix: Vec<OpId> = deepest
        .prefix
        .iter()
        .map(|&index| operations[index].id)
        .collect();
    let state = deepest
        .prefix
        .iter()
        .fold(spec.init(&key), |state, &index| {
            let operation = operations[index];
            spec.step(&state, &operation.op, operation.ok_value())
                .expect("the search linearized this prefix")
        });
    let returned = blocked
        .ok_value()
        .expect("only a known result blocks the search");
    let explanation = format!(
        "On key {key:?}, operation {} ({:?} by {}, returned {returned:?}) cannot be linearized. \
         The longest linearizable prefix found, [{}], leaves the state {state:?}, and from there \
         no order of the remaining operations lets {} take effect before it returned. \
         Operations concurrent with it: [{}].",
        format_id(blocked.id),
        blocked.op,
        blocked.node,
        format_ids(&prefix),
        format_id(blocked.id),
        format_ids(&concurrent),
    );
    Counterexample {
        key,
        op: blocked.id,
        concurrent,
        prefix,
        explanation,
    }
}

/// Whether two operations' intervals overlap, taking an unknown result to
/// return never, as the search does.
fn overlap<O, R>(a: &Operation<O, R>, b: &Operation<O, R>) -> bool {
    let returned = |operation: &Operation<O, R>| match &operation.completion {
        Some(completion) if operation.ok_value().is_some() => completion.stamp.position,
        _ => u64::MAX,
    };
    a.invoke.position < returned(b) && b.invoke.position < returned(a)
}

fn format_id(id: OpId) -> String {
    format!("#{}", id.0)
}

fn format_ids(ids: &[OpId]) -> String {
    ids.iter()
        .map(|&id| format_id(id))
        .collect::<Vec<_>>()
        .join(", ")
}
