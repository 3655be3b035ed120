//! The history: what clients asked and what they were told, with true
//! times. It is the input of history checkers (linearizability, uniqueness,
//! liveness) and the one thing a design is judged on.
//!
//! Each operation is invoked once and completed at most once: `Ok` with a
//! result, `Fail` (it certainly did not take effect), or `Info` (the client
//! does not know: a timeout). An operation with no completion when the run
//! ends is treated like `Info`. Every invoke and completion gets a
//! `position`, a counter shared by the whole run, so "A completed before B
//! was invoked" is `a.completion.position < b.invoke.position`, exact even
//! when both happened at the same nanosecond.

use std::marker::PhantomData;

use crate::node::NodeId;
use crate::time::SimTime;

/// Index of an operation in its history.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct OpId(pub u32);

/// When something happened: its place in the history's total order, the
/// true time, and the engine event (step) that recorded it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct Stamp {
    pub position: u64,
    pub time: SimTime,
    pub event: u64,
}

/// How an operation ended, as the client saw it.
#[derive(Clone, PartialEq, Eq, Hash, Debug, serde::Serialize, serde::Deserialize)]
pub enum Outcome<R> {
    /// It happened, and this is what it returned.
    Ok(R),
    /// It certainly did not happen.
    Fail,
    /// Unknown: it may have happened (at any point after its invocation) or
    /// not. A timeout is `Info`.
    Info,
}

#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct Completion<R> {
    pub stamp: Stamp,
    pub outcome: Outcome<R>,
}

/// One client operation: what was asked, by whom, when, and how it ended.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct Operation<O, R> {
    pub id: OpId,
    /// The client node that invoked it.
    pub node: NodeId,
    pub op: O,
    pub invoke: Stamp,
    /// `None` while pending, and for operations still pending at the end.
    pub completion: Option<Completion<R>>,
}

impl<O, R> Operation<O, R> {
    /// The result if the operation completed `Ok`.
    pub fn ok_value(&self) -> Option<&R> {
        match &self.completion {
            Some(Completion {
                outcome: Outcome::Ok(r),
                ..
            }) => Some(r),
            _ => None,
        }
    }
    pub fn is_failed(&self) -> bool {
        matches!(
            &self.completion,
            Some(Completion {
                outcome: Outcome::Fail,
                ..
            })
        )
    }
    /// True for `Info` completions and for operations that never completed:
    /// both may or may not have taken effect.
    pub fn is_indeterminate(&self) -> bool {
        matches!(
            &self.completion,
            None | Some(Completion {
                outcome: Outcome::Info,
                ..
            })
        )
    }
    /// Did this operation complete (any outcome) before `other` was invoked?
    pub fn precedes(&self, other: &Operation<O, R>) -> bool {
        self.completion
            .as_ref()
            .is_some_and(|c| c.stamp.position < other.invoke.position)
    }
}

/// Something a client showed its user: item `item` of stream `stream` (a
/// chat message in a conversation). Not an operation: nobody asked, the
/// client just displays it; stream checks (`stream.rs`) judge these.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct Shown {
    pub node: NodeId,
    pub stream: u64,
    pub item: u64,
    pub stamp: Stamp,
}

/// All operations of a run, in invocation order, and what clients showed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct History<O, R> {
    ops: Vec<Operation<O, R>>,
    shown: Vec<Shown>,
    next_position: u64,
    /// The completed operations, in completion order: what incremental
    /// checks read (`CompletionFeed`), without scanning the pending ones.
    #[serde(skip)]
    completed: Vec<OpId>,
}

impl<O, R> Default for History<O, R> {
    fn default() -> Self {
        History {
            ops: Vec::new(),
            shown: Vec::new(),
            next_position: 0,
            completed: Vec::new(),
        }
    }
}

impl<O, R> History<O, R> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an invocation and returns its id.
    pub fn invoke(&mut self, node: NodeId, op: O, time: SimTime, event: u64) -> OpId {
        let id = OpId(u32::try_from(self.ops.len()).expect("more than 2^32 operations in one run"));
        let invoke = self.stamp(time, event);
        self.ops.push(Operation {
            id,
            node,
            op,
            invoke,
            completion: None,
        });
        id
    }

    /// Records how `id` ended.
    ///
    /// # Panics
    /// If `id` is unknown or already completed: that is a bug in the model's
    /// client, and a history with two answers to one question means nothing.
    pub fn complete(&mut self, id: OpId, outcome: Outcome<R>, time: SimTime, event: u64) {
        let stamp = self.stamp(time, event);
        let op = &mut self.ops[id.0 as usize];
        assert!(op.completion.is_none(), "operation {id:?} completed twice");
        op.completion = Some(Completion { stamp, outcome });
        self.completed.push(id);
    }

    /// Records that `node` showed item `item` of stream `stream`, now.
    pub fn show(&mut self, node: NodeId, stream: u64, item: u64, time: SimTime, event: u64) {
        let stamp = self.stamp(time, event);
        self.shown.push(Shown {
            node,
            stream,
            item,
            stamp,
        });
    }

    /// Everything clients showed, in order.
    pub fn shown(&self) -> &[Shown] {
        &self.shown
    }

    pub fn operations(&self) -> &[Operation<O, R>] {
        &self.ops
    }
    pub fn get(&self, id: OpId) -> &Operation<O, R> {
        &self.ops[id.0 as usize]
    }
    pub fn len(&self) -> usize {
        self.ops.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
    /// How many entries have been recorded (invocations, completions and
    /// shows): it grows with every one, so an unchanged count means an
    /// unchanged history.
    pub fn recorded(&self) -> u64 {
        self.next_position
    }
    /// Operations invoked but not (yet) completed.
    pub fn pending(&self) -> impl Iterator<Item = &Operation<O, R>> {
        self.ops.iter().filter(|op| op.completion.is_none())
    }

    fn stamp(&mut self, time: SimTime, event: u64) -> Stamp {
        let position = self.next_position;
        self.next_position += 1;
        Stamp {
            position,
            time,
            event,
        }
    }
}

/// Builds histories by hand, for checker tests and for external history
/// files: positions are assigned in call order.
impl<O, R> FromIterator<Operation<O, R>> for History<O, R> {
    fn from_iter<I: IntoIterator<Item = Operation<O, R>>>(iter: I) -> Self {
        let ops: Vec<_> = iter.into_iter().collect();
        let next_position = ops
            .iter()
            .map(|op| {
                op.completion
                    .as_ref()
                    .map_or(op.invoke.position, |c| c.stamp.position)
                    + 1
            })
            .max()
            .unwrap_or(0);
        let mut completed: Vec<OpId> = ops
            .iter()
            .filter(|op| op.completion.is_some())
            .map(|op| op.id)
            .collect();
        completed.sort_by_key(|&id| {
            ops[id.0 as usize]
                .completion
                .as_ref()
                .map(|c| c.stamp.position)
        });
        History {
            ops,
            shown: Vec::new(),
            next_position,
            completed,
        }
    }
}

/// Hands out each operation of a growing history once, when it completes:
/// what an incremental invariant needs to judge answers as they are given.
/// A cursor into the history's completions, which are kept in completion
/// order, so an event that completed nothing costs one comparison.
#[derive(Debug)]
pub struct CompletionFeed<O, R> {
    seen: usize,
    history: PhantomData<fn() -> (O, R)>,
}

impl<O, R> Default for CompletionFeed<O, R> {
    fn default() -> Self {
        CompletionFeed {
            seen: 0,
            history: PhantomData,
        }
    }
}

impl<O, R> CompletionFeed<O, R> {
    /// Calls `on_completed` for every operation that completed since the
    /// last call, in completion order, and stops at its first error.
    pub fn for_each_completed<E>(
        &mut self,
        history: &History<O, R>,
        mut on_completed: impl FnMut(&Operation<O, R>) -> Result<(), E>,
    ) -> Result<(), E> {
        let fresh = &history.completed[self.seen..];
        self.seen = history.completed.len();
        fresh
            .iter()
            .try_for_each(|&id| on_completed(history.get(id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The operations (by their `op` value) the feed hands out now.
    fn fed(feed: &mut CompletionFeed<u32, u32>, history: &History<u32, u32>) -> Vec<u32> {
        let mut seen = Vec::new();
        feed.for_each_completed(history, |op| {
            seen.push(op.op);
            Ok::<(), ()>(())
        })
        .unwrap();
        seen
    }

    #[test]
    fn the_feed_hands_out_each_completion_once_in_completion_order() {
        let mut history: History<u32, u32> = History::new();
        let t = SimTime::ZERO;
        let a = history.invoke(NodeId(0), 1, t, 1);
        let b = history.invoke(NodeId(1), 2, t, 1);
        let c = history.invoke(NodeId(0), 3, t, 2);
        let mut feed = CompletionFeed::default();
        assert!(fed(&mut feed, &history).is_empty(), "nothing completed yet");
        history.complete(c, Outcome::Ok(3), t, 3);
        history.complete(a, Outcome::Fail, t, 3);
        assert_eq!(fed(&mut feed, &history), [3, 1], "completion order");
        assert!(fed(&mut feed, &history).is_empty(), "each once");
        history.complete(b, Outcome::Info, t, 4);
        assert_eq!(fed(&mut feed, &history), [2]);

        // A history built from its operations knows the same order.
        let rebuilt: History<u32, u32> = history.operations().iter().cloned().collect();
        assert_eq!(fed(&mut CompletionFeed::default(), &rebuilt), [3, 1, 2]);
    }
}
