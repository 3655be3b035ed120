//! The Wing–Gong–Lowe search for one key in one call order, in the form
//! of Lowe's "Testing for linearizability" (2017): calls and returns in a
//! doubly linked list (`entry_list.rs`), a stack of the operations
//! linearized so far for backtracking, and a memo of configurations
//! explored (`memo.rs`).
//!
//! The search walks the list from its head. At a call it tries to let that
//! operation take effect next; at a return it has met an operation that
//! should already have taken effect, so it undoes the last choice. The key
//! is linearizable once every operation with a known result has taken
//! effect; any operation with an unknown result still left simply never
//! took effect. Those return "at infinity", never block, and have their
//! calls in a second list.
//!
//! Which calls a configuration tries first, those with an unknown result
//! or the others, is the `CallOrder`; `key_search.rs` runs both. A search
//! runs in slices of steps and counts the bytes it holds, so that the
//! caller can interleave keys and bound their memory.

use std::mem::size_of;

use super::budget::{Budget, Limit, heap_block_bytes};
use super::entry_list::{EntryList, KeyLists, NO_ENTRY};
use super::memo::{Bitset, Memo};
use super::spec::Spec;
use crate::history::Operation;

/// How the search for one key ended.
pub(super) enum SearchOutcome {
    Linearizable,
    NotLinearizable(DeepestPoint),
    OutOfBudget(Limit),
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

/// How many steps a search takes in one slice, before another search
/// (the other call order, or another key) gets a turn.
const SLICE_STEPS: u64 = 4096;

/// Which calls a configuration tries first.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum CallOrder {
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

pub(super) struct Search<'a, S: Spec> {
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
    /// The bytes of the lists and sets, which never change size.
    fixed_bytes: u64,
    /// The heap bytes of the states saved on the stack.
    stack_heap_bytes: u64,
    /// The bytes this search last told the budget it holds.
    held_bytes: u64,
}

impl<'a, S: Spec> Search<'a, S> {
    pub(super) fn new(
        spec: &'a S,
        key: &S::Key,
        operations: &'a [&'a Operation<S::Op, S::Ret>],
        lists: KeyLists,
        order: CallOrder,
        budget: &mut Budget<'_>,
    ) -> Self {
        let (known_done, unknown_done) = (
            Bitset::new(lists.known_count),
            Bitset::new(lists.unknown_count),
        );
        let fixed_bytes = lists.known.heap_bytes()
            + lists.unknown.heap_bytes()
            + heap_block_bytes(lists.index_in_kind.len() * size_of::<usize>())
            + known_done.heap_bytes()
            + unknown_done.heap_bytes();
        let mut search = Search {
            spec,
            operations,
            order,
            known: lists.known,
            unknown: lists.unknown,
            index_in_kind: lists.index_in_kind,
            known_done,
            unknown_done,
            state: spec.init(key),
            stack: Vec::with_capacity(operations.len()),
            memo: Memo::with_capacity(operations.len() + 1),
            known_left: lists.known_count,
            cursor: Cursor {
                second_phase: false,
                entry: NO_ENTRY,
                first_return: NO_ENTRY,
            },
            deepest: None,
            deepest_prefix_on_stack: 0,
            fixed_bytes: fixed_bytes as u64,
            stack_heap_bytes: 0,
            held_bytes: 0,
        };
        search.memo.insert_if_new(
            &search.known_done,
            &search.state,
            &search.unknown_done,
            |state| spec.state_heap_bytes(state),
        );
        search.cursor = search.enter();
        let bytes = search.bytes();
        budget.hold_memory(&mut search.held_bytes, bytes);
        search
    }

    /// Runs one slice of steps; returns the outcome once there is one.
    pub(super) fn run(
        &mut self,
        budget: &mut Budget<'_>,
        key_steps: &mut u64,
    ) -> Option<SearchOutcome> {
        for _ in 0..SLICE_STEPS {
            if self.known_left == 0 {
                return Some(SearchOutcome::Linearizable);
            }
            if let Err(limit) = budget.spend_step(*key_steps) {
                return Some(SearchOutcome::OutOfBudget(limit));
            }
            *key_steps += 1;
            let next = self.advance(self.cursor);
            let bytes = self.bytes();
            budget.hold_memory(&mut self.held_bytes, bytes);
            match next {
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

    /// Whether the key has operations with an unknown result to place.
    pub(super) fn has_unknown_results(&self) -> bool {
        !self.unknown.is_empty()
    }

    /// Drops the search and gives its memory back to the budget.
    pub(super) fn free(mut self, budget: &mut Budget<'_>) {
        budget.hold_memory(&mut self.held_bytes, 0);
    }

    /// What the search holds now, by the count: the memo, the stack with
    /// the states it saved, the deepest prefix, the lists.
    fn bytes(&self) -> u64 {
        let stack = self.stack.len() * size_of::<Frame<S::State>>();
        let prefix = self
            .deepest
            .as_ref()
            .map_or(0, |deepest| deepest.prefix.len() * size_of::<usize>());
        self.fixed_bytes + self.memo.bytes() + self.stack_heap_bytes + (stack + prefix) as u64
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
        let spec = self.spec;
        if !self
            .memo
            .insert_if_new(&self.known_done, &next_state, &self.unknown_done, |state| {
                spec.state_heap_bytes(state)
            })
        {
            self.mark_done(index, known_result, false);
            return false;
        }
        let state_before = std::mem::replace(&mut self.state, next_state);
        self.stack_heap_bytes += spec.state_heap_bytes(&state_before) as u64;
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
        self.stack_heap_bytes -= self.spec.state_heap_bytes(&frame.state_before) as u64;
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
