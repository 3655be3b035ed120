//! The Wing–Gong–Lowe search for one key, in the form of Lowe's "Testing
//! for linearizability" (2017): calls and returns in a doubly linked list
//! (`entry_list.rs`), a stack of the operations linearized so far for
//! backtracking, and a memo of configurations explored (`memo.rs`).
//!
//! The search walks the list from its head. At a call it tries to let that
//! operation take effect next; at a return it has met an operation that
//! should already have taken effect, so it undoes the last choice. The key
//! is linearizable once every operation with a known result has taken
//! effect; any operation with an unknown result still left simply never
//! took effect. Those return "at infinity", never block, and have their
//! calls in a second list.
//!
//! Which calls a configuration tries first decides how fast the search
//! ends, and no order wins everywhere. Trying unknown-result calls first
//! finds a linearization fast when timed-out operations did take effect,
//! above all for values that never repeat (appends). Trying them last
//! explores the configurations that use fewer of them first, so the memo
//! prunes the rest: this is what lets a failing search with many timeouts
//! finish. Both orders are complete, so two searches run in lockstep, in
//! fixed slices of steps, and the first to finish decides. That costs at
//! most twice the better order, deterministically.

use super::Budget;
use super::entry_list::{EntryList, KeyLists, NO_ENTRY};
use super::memo::{Bitset, Memo};
use super::spec::Spec;
use crate::history::Operation;

/// How the search for one key ended.
pub(super) enum SearchOutcome {
    Linearizable,
    NotLinearizable(DeepestPoint),
    OutOfBudget,
}

/// Where the search got furthest before failing, in indices into the
/// key's operation slice.
pub(super) struct DeepestPoint {
    /// The operation whose return the search hit there: nothing it could
    /// still try let this operation take effect before it returned.
    pub blocked: usize,
    /// The operations linearized at that point, in order.
    pub prefix: Vec<usize>,
}

/// Searches for a linearization of one key's operations (failed ones
/// already removed), spending `budget` one step per list entry visited.
pub(super) fn search<S: Spec>(
    spec: &S,
    key: &S::Key,
    operations: &[&Operation<S::Op, S::Ret>],
    budget: &mut Budget<'_>,
) -> SearchOutcome {
    let mut key_steps = 0;
    let mut searches = vec![Search::new(spec, key, operations, CallOrder::UnknownFirst)];
    // With no unknown results the two orders are the same search.
    if operations
        .iter()
        .any(|operation| operation.ok_value().is_none())
    {
        searches.push(Search::new(spec, key, operations, CallOrder::KnownFirst));
    }
    loop {
        for search in &mut searches {
            if let Some(outcome) = search.run(budget, &mut key_steps) {
                return outcome;
            }
        }
    }
}

/// How many steps one search takes before the other gets a turn.
const SLICE_STEPS: u64 = 4096;

/// Which calls a configuration tries first.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CallOrder {
    UnknownFirst,
    KnownFirst,
}

/// Where the walk is in the current configuration: in its first or second
/// phase (one list each, per the call order), at `entry`. `first_return`
/// is the first return still in the known list, where the known phase
/// ends and the unknown calls in reach end (calls made before it).
#[derive(Clone, Copy)]
struct Cursor {
    second_phase: bool,
    entry: u32,
    first_return: u32,
}

/// One choice on the backtracking stack.
struct Frame<State> {
    call: u32,
    known_result: bool,
    state_before: State,
    /// Where the walk continues if this choice is undone.
    resume: Cursor,
}

struct Search<'a, S: Spec> {
    spec: &'a S,
    operations: &'a [&'a Operation<S::Op, S::Ret>],
    order: CallOrder,
    /// Calls and returns of operations with a known result.
    known: EntryList,
    /// Calls of operations with an unknown result.
    unknown: EntryList,
    /// Per operation: its bit in `known_done` or `unknown_done`.
    index_in_kind: Vec<usize>,
    known_done: Bitset,
    unknown_done: Bitset,
    state: S::State,
    stack: Vec<Frame<S::State>>,
    memo: Memo<S::State>,
    /// Operations with a known result not yet linearized; zero is success.
    known_left: usize,
    cursor: Cursor,
    deepest: Option<DeepestPoint>,
    /// How much of `deepest.prefix` still equals the bottom of the stack,
    /// so a deeper point copies only what changed since the last one.
    deepest_prefix_on_stack: usize,
}

impl<'a, S: Spec> Search<'a, S> {
    fn new(
        spec: &'a S,
        key: &S::Key,
        operations: &'a [&'a Operation<S::Op, S::Ret>],
        order: CallOrder,
    ) -> Self {
        let lists = KeyLists::new(operations);
        let mut search = Search {
            spec,
            operations,
            order,
            known: lists.known,
            unknown: lists.unknown,
            index_in_kind: lists.index_in_kind,
            known_done: Bitset::new(lists.known_count),
            unknown_done: Bitset::new(lists.unknown_count),
            state: spec.init(key),
            stack: Vec::new(),
            memo: Memo::new(),
            known_left: lists.known_count,
            cursor: Cursor {
                second_phase: false,
                entry: NO_ENTRY,
                first_return: NO_ENTRY,
            },
            deepest: None,
            deepest_prefix_on_stack: 0,
        };
        search
            .memo
            .insert_if_new(&search.known_done, &search.state, &search.unknown_done);
        search.cursor = search.enter();
        search
    }

    /// Runs one slice of steps; returns the outcome once there is one.
    fn run(&mut self, budget: &mut Budget<'_>, key_steps: &mut u64) -> Option<SearchOutcome> {
        for _ in 0..SLICE_STEPS {
            if self.known_left == 0 {
                return Some(SearchOutcome::Linearizable);
            }
            if !budget.spend_step(*key_steps) {
                return Some(SearchOutcome::OutOfBudget);
            }
            *key_steps += 1;
            match self.advance(self.cursor) {
                Some(next) => self.cursor = next,
                None => {
                    let deepest = self
                        .deepest
                        .take()
                        .expect("a failed search was blocked somewhere");
                    return Some(SearchOutcome::NotLinearizable(deepest));
                }
            }
        }
        None
    }

    /// Takes one step of the walk from `cursor`; returns where to go next,
    /// or `None` when every choice has been undone without success.
    fn advance(&mut self, cursor: Cursor) -> Option<Cursor> {
        let known_phase = cursor.second_phase == (self.order == CallOrder::UnknownFirst);
        let list = if known_phase {
            &self.known
        } else {
            &self.unknown
        };
        let phase_over = if known_phase {
            cursor.entry == cursor.first_return
        } else {
            cursor.entry == NO_ENTRY
                || list.position(cursor.entry) > self.known.position(cursor.first_return)
        };
        match (phase_over, cursor.second_phase) {
            (false, _) => {
                let resume = Cursor {
                    entry: list.next(cursor.entry),
                    ..cursor
                };
                Some(if self.try_linearize(cursor.entry, known_phase, resume) {
                    self.enter()
                } else {
                    resume
                })
            }
            (true, false) => {
                let entry = if known_phase {
                    self.unknown.first()
                } else {
                    self.known.first()
                };
                Some(Cursor {
                    second_phase: true,
                    entry,
                    ..cursor
                })
            }
            (true, true) => {
                self.note_blocked(self.known.operation(cursor.first_return));
                self.backtrack()
            }
        }
    }

    /// Where the walk starts in a configuration just entered. While a
    /// known result is outstanding its return is in the list, so there is
    /// a first return; without one the search has succeeded.
    fn enter(&self) -> Cursor {
        let mut first_return = self.known.first();
        while first_return != NO_ENTRY && !self.known.is_return(first_return) {
            first_return = self.known.next(first_return);
        }
        let entry = match self.order {
            CallOrder::UnknownFirst => self.unknown.first(),
            CallOrder::KnownFirst => self.known.first(),
        };
        Cursor {
            second_phase: false,
            entry,
            first_return,
        }
    }

    /// Lets the operation of `call` take effect next if its result allows
    /// it and the configuration it leads to is worth exploring.
    fn try_linearize(&mut self, call: u32, known_result: bool, resume: Cursor) -> bool {
        let list = if known_result {
            &self.known
        } else {
            &self.unknown
        };
        let index = list.operation(call);
        let operation = self.operations[index];
        let Some(next_state) = self
            .spec
            .step(&self.state, &operation.op, operation.ok_value())
        else {
            return false;
        };
        if !known_result && self.erases_previous_unknown(operation, &next_state) {
            return false;
        }
        self.mark_done(index, known_result, true);
        if !self
            .memo
            .insert_if_new(&self.known_done, &next_state, &self.unknown_done)
        {
            self.mark_done(index, known_result, false);
            return false;
        }
        let state_before = std::mem::replace(&mut self.state, next_state);
        self.stack.push(Frame {
            call,
            known_result,
            state_before,
            resume,
        });
        if known_result {
            self.known.lift(call);
            self.known_left -= 1;
        } else {
            self.unknown.lift(call);
        }
        true
    }

    /// Whether `operation`, with an unknown result, would wipe out the
    /// effect of the unknown-result operation linearized just before it,
    /// reaching the state it reaches without that one. Skipping that one
    /// instead reaches the same state using less, and the walk tries that
    /// too, so this order is pointless. This keeps k timed-out writes
    /// pending together from costing 2^k configurations when tried first;
    /// the memo cannot see it, since the configuration using less comes
    /// later.
    fn erases_previous_unknown(
        &self,
        operation: &Operation<S::Op, S::Ret>,
        next_state: &S::State,
    ) -> bool {
        let Some(top) = self.stack.last().filter(|top| !top.known_result) else {
            return false;
        };
        self.spec
            .step(&top.state_before, &operation.op, None)
            .as_ref()
            == Some(next_state)
    }

    /// Undoes the most recent choice; returns where the walk continues,
    /// or `None` when there is nothing left to undo.
    fn backtrack(&mut self) -> Option<Cursor> {
        let frame = self.stack.pop()?;
        let list = if frame.known_result {
            &mut self.known
        } else {
            &mut self.unknown
        };
        let index = list.operation(frame.call);
        list.unlift(frame.call);
        self.mark_done(index, frame.known_result, false);
        if frame.known_result {
            self.known_left += 1;
        }
        self.state = frame.state_before;
        self.deepest_prefix_on_stack = self.deepest_prefix_on_stack.min(self.stack.len());
        Some(frame.resume)
    }

    fn mark_done(&mut self, index: usize, known_result: bool, done: bool) {
        let set = if known_result {
            &mut self.known_done
        } else {
            &mut self.unknown_done
        };
        if done {
            set.insert(self.index_in_kind[index])
        } else {
            set.remove(self.index_in_kind[index])
        }
    }

    /// Records the point where `blocked` stopped the search if it is deeper
    /// than any before; the first of equally deep points wins.
    fn note_blocked(&mut self, blocked: usize) {
        if let Some(deepest) = &self.deepest
            && self.stack.len() <= deepest.prefix.len()
        {
            return;
        }
        let deepest = self.deepest.get_or_insert(DeepestPoint {
            blocked,
            prefix: Vec::new(),
        });
        let unchanged = self.deepest_prefix_on_stack;
        deepest.prefix.truncate(unchanged);
        let (known, unknown) = (&self.known, &self.unknown);
        deepest
            .prefix
            .extend(self.stack[unchanged..].iter().map(|frame| {
                if frame.known_result {
                    known.operation(frame.call)
                } else {
                    unknown.operation(frame.call)
                }
            }));
        deepest.blocked = blocked;
        self.deepest_prefix_on_stack = self.stack.len();
    }
}
