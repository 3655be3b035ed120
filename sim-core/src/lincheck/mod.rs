//! The linearizability checker: is there one order of the history's
//! operations, each taking effect at a single instant between its
//! invocation and its completion, that a sequential specification accepts
//! with every result the clients saw?
//!
//! This file owns the public API: `check` and the `Verdict` with its
//! `Counterexample`; the `Budget` that bounds a check is in `budget.rs`.
//! It splits the history by key, since operations on different keys are
//! independent and the search is exponential in the worst case. Each key
//! is searched alone against a `Spec` (`spec.rs`) by the Wing–Gong–Lowe
//! search (`search.rs`, two call orders in lockstep in `key_search.rs`),
//! over a linked list of calls and returns (`entry_list.rs`) with a memo
//! of the configurations explored (`memo.rs`). A key whose operations
//! never overlap has one order, which is replayed instead (`in_order.rs`).
//!
//! Keys are searched in turn, a slice of steps each, not one after
//! another: one key whose search explodes must not keep the check from
//! refuting an easy key behind it, nor hold the memory of keys already
//! decided. A decided key frees its search at once.
//!
//! How the history is read:
//! - Real-time order is `Stamp.position`, a total order over every
//!   invocation and completion, never the time, which can tie.
//! - `Fail` operations certainly did not happen and are dropped.
//! - `Info` operations, and those that never completed, may take effect
//!   at any point after their invocation, or never, with any result.
//!   Those the spec calls read-only (`Spec::is_read_only`) then change
//!   nothing either way and are left out of the search.
//!
//! The verdict is a pure function of the history and the step and memory
//! limits (a stop callback aside): keys take turns in key order, the
//! search makes no random choice, memory is counted rather than measured,
//! and no hash map is ever iterated.

mod budget;
mod entry_list;
mod in_order;
mod key_search;
mod memo;
mod search;
mod spec;

use std::collections::{BTreeMap, VecDeque};

use crate::history::{History, OpId, Operation};
use key_search::KeySearch;
use search::{DeepestPoint, SearchOutcome};

pub use budget::{Budget, Limit, heap_block_bytes};
pub use spec::{KvCall, KvOp, KvSpec, RegisterCall, RegisterOp, RegisterSpec, SetSpec, Spec};

/// Checks that `history` is linearizable under `spec`, key by key.
///
/// Keys take turns in key order, a slice of steps each, until each is
/// decided or out of steps. The first key found not linearizable ends the
/// check with its counterexample: the key whose refutation takes the
/// fewest rounds, the first in key order among those.
pub fn check<S: Spec>(
    spec: &S,
    history: &History<S::Op, S::Ret>,
    budget: &mut Budget<'_>,
) -> Verdict<S::Key> {
    let by_key = operations_by_key(spec, history);
    // The first round starts the keys one by one, so that the many keys
    // decided in their first slice never hold memory together.
    let mut not_started = by_key.iter();
    let mut running: VecDeque<KeySearch<'_, S>> = VecDeque::new();
    let mut undecided_keys = Vec::new();
    let verdict = loop {
        let next = match not_started.next() {
            Some((key, operations)) => {
                if in_order::linearizable_in_order(spec, key, operations, budget) {
                    continue;
                }
                Some(KeySearch::new(spec, key, operations, budget))
            }
            None => running.pop_front(),
        };
        let Some(mut search) = next else {
            break undecided(undecided_keys, Limit::Steps);
        };
        match search.run_slice(budget) {
            None => running.push_back(search),
            Some(SearchOutcome::Linearizable) => search.free(budget),
            Some(SearchOutcome::OutOfBudget(Limit::Steps)) => {
                undecided_keys.push(search.key.clone());
                search.free(budget);
            }
            Some(SearchOutcome::NotLinearizable(deepest)) => {
                let key = search.key.clone();
                let counterexample = counterexample(spec, key, search.operations, &deepest);
                running.push_back(search);
                break Verdict::NotLinearizable(counterexample);
            }
            // The memory limit and a stop end the check: every key not
            // yet decided is undecided, started or not.
            Some(SearchOutcome::OutOfBudget(limit)) => {
                running.push_back(search);
                let running_keys = running.iter().map(|search| search.key);
                undecided_keys.extend(running_keys.chain(not_started.map(|(key, _)| key)).cloned());
                break undecided(undecided_keys, limit);
            }
        }
    };
    // What is left was given up; its memory goes back for the next check.
    for search in running {
        search.free(budget);
    }
    verdict
}

/// The verdict once every key has been searched as far as it will be.
fn undecided<K: Ord>(mut undecided_keys: Vec<K>, limit: Limit) -> Verdict<K> {
    if undecided_keys.is_empty() {
        return Verdict::Linearizable;
    }
    undecided_keys.sort_unstable();
    Verdict::Unknown {
        undecided_keys,
        limit,
    }
}

/// The outcome of a check.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub enum Verdict<K> {
    Linearizable,
    NotLinearizable(Counterexample<K>),
    /// The budget ran out before a verdict.
    Unknown {
        /// The keys not decided, in key order.
        undecided_keys: Vec<K>,
        /// Which limit ran out. `Memory` and `Stop` end the check at once,
        /// so keys that had already spent their steps are counted with
        /// them.
        limit: Limit,
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
        "On {}, operation {} ({} by {}, returned {}) cannot be linearized. \
         The longest linearizable prefix found, [{}], leaves {}, and from there \
         no order of the remaining operations lets {} take effect before it returned. \
         Operations concurrent with it: [{}].",
        spec.describe_key(&key),
        format_id(blocked.id),
        spec.describe_op(&blocked.op),
        spec.describe_node(blocked.node),
        spec.describe_ret(returned),
        format_ids(&prefix),
        spec.describe_state(&state),
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
