//! The lists the search walks: invocations (calls) and returns of one
//! key's operations in history order, as doubly linked lists kept in index
//! arrays. Taking an operation out and putting it back are O(1) and
//! allocate nothing, because a removed entry keeps its own links and is
//! put back in reverse order of removal (Knuth's "dancing links").
//!
//! A key has two lists: calls and returns of the operations with a known
//! result, and calls of those with an unknown result, whose returns are
//! at infinity and so never need an entry.

use std::mem::size_of;

use super::budget::heap_block_bytes;
use crate::history::Operation;

/// Marks "no entry" in the link arrays.
pub(super) const NO_ENTRY: u32 = u32::MAX;
/// The sentinel head: entry 0, never removed.
const HEAD: u32 = 0;

/// One key's lists, and where each operation's bit is in the memo's sets.
/// Built for each call order's search, which walks its own.
/// Read-only operations with an unknown result are in neither list: they
/// constrain nothing (`Spec::is_read_only`).
pub(super) struct KeyLists {
    /// Calls and returns of the operations with a known result.
    pub known: EntryList,
    /// Calls of the operations with an unknown result.
    pub unknown: EntryList,
    /// Per operation: its index among those of its kind (known or not);
    /// `usize::MAX` for one left out.
    pub index_in_kind: Vec<usize>,
    pub known_count: usize,
    pub unknown_count: usize,
}

/// A call or a return, before it becomes an entry. Ordered by position,
/// then calls before returns, then operation: at equal positions
/// operations overlap rather than follow each other.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct Event {
    position: u64,
    is_return: bool,
    /// Index into the key's operations.
    operation: u32,
}

pub(super) struct EntryList {
    /// Entry 0 is the head; the others are the events in order. One
    /// array of small records, so a key's list is one heap block (a check
    /// of many short keys makes thousands of lists).
    entries: Vec<Link>,
}

/// One entry: its links and what it stands for.
#[derive(Clone, Copy)]
struct Link {
    next: u32,
    previous: u32,
    /// Its operation (index into the key's operations).
    operation: u32,
    /// For a call: its return entry, or `NO_ENTRY` if this list holds
    /// only the call.
    matching_return: u32,
    /// Its place in the history's total order.
    position: u64,
    is_return: bool,
}

impl KeyLists {
    /// Builds the lists of one key's operations, failed ones removed,
    /// leaving out those with an unknown result that `read_only` says
    /// never change the state.
    pub(super) fn new<O, R>(
        operations: &[&Operation<O, R>],
        read_only: impl Fn(&O) -> bool,
    ) -> Self {
        let left_out = |op: &Operation<O, R>| op.ok_value().is_none() && read_only(&op.op);
        let known_count = operations
            .iter()
            .filter(|op| op.ok_value().is_some())
            .count();
        let mut known = Vec::with_capacity(2 * known_count);
        let mut unknown = Vec::with_capacity(operations.len() - known_count);
        let mut index_in_kind = Vec::with_capacity(operations.len());
        for (index, operation) in (0..).zip(operations) {
            let invoked = operation.invoke.position;
            let call = Event {
                position: invoked,
                is_return: false,
                operation: index,
            };
            match &operation.completion {
                Some(completion) if operation.ok_value().is_some() => {
                    index_in_kind.push(known.len() / 2);
                    // A completion stamped before its invocation is bad
                    // input; at worst it makes the two overlap.
                    let position = completion.stamp.position.max(invoked);
                    known.extend([
                        call,
                        Event {
                            position,
                            is_return: true,
                            operation: index,
                        },
                    ]);
                }
                _ if left_out(operation) => index_in_kind.push(usize::MAX),
                _ => {
                    index_in_kind.push(unknown.len());
                    unknown.push(call);
                }
            }
        }
        KeyLists {
            known_count,
            unknown_count: unknown.len(),
            known: EntryList::new(known),
            unknown: EntryList::new(unknown),
            index_in_kind,
        }
    }
}

impl EntryList {
    /// Builds a list from events in any order. A return without its call
    /// in `events` is a bug in the caller.
    fn new(mut events: Vec<Event>) -> Self {
        sort_nearly_sorted(&mut events);
        let count = u32::try_from(events.len() + 1).expect("more than 2^32 events on one key");
        let mut entries: Vec<Link> = (0..count)
            .map(|entry| Link {
                next: if entry + 1 == count {
                    NO_ENTRY
                } else {
                    entry + 1
                },
                // The head's predecessor wraps around to `NO_ENTRY`.
                previous: entry.wrapping_sub(1),
                operation: NO_ENTRY,
                matching_return: NO_ENTRY,
                position: 0,
                is_return: false,
            })
            .collect();
        let operations = events
            .iter()
            .map(|event| event.operation as usize + 1)
            .max()
            .unwrap_or(0);
        let mut call_of_operation = vec![NO_ENTRY; operations];
        for (entry, event) in (1..).zip(&events) {
            let link = &mut entries[entry];
            link.operation = event.operation;
            link.position = event.position;
            link.is_return = event.is_return;
            let call = &mut call_of_operation[event.operation as usize];
            if event.is_return {
                entries[*call as usize].matching_return = entry as u32;
            } else {
                *call = entry as u32;
            }
        }
        EntryList { entries }
    }

    /// Whether the list was built with no events (lifting some does not
    /// make it empty).
    pub(super) fn is_empty(&self) -> bool {
        self.entries.len() == 1
    }

    /// The first entry still in the list, or `NO_ENTRY`.
    pub(super) fn first(&self) -> u32 {
        self.entries[HEAD as usize].next
    }
    pub(super) fn next(&self, entry: u32) -> u32 {
        self.entries[entry as usize].next
    }
    pub(super) fn operation(&self, entry: u32) -> usize {
        self.entries[entry as usize].operation as usize
    }
    pub(super) fn position(&self, entry: u32) -> u64 {
        self.entries[entry as usize].position
    }
    pub(super) fn is_return(&self, entry: u32) -> bool {
        self.entries[entry as usize].is_return
    }

    /// The heap block of the entries, for the memory budget.
    pub(super) fn heap_bytes(&self) -> usize {
        heap_block_bytes(self.entries.len() * size_of::<Link>())
    }

    /// Takes an operation out of the list: its call, and its return if
    /// the list holds one.
    pub(super) fn lift(&mut self, call: u32) {
        self.unlink(call);
        let matching_return = self.entries[call as usize].matching_return;
        if matching_return != NO_ENTRY {
            self.unlink(matching_return);
        }
    }

    /// Puts back what `lift` took out, in reverse order. Only the most
    /// recently lifted operation still out may be put back.
    pub(super) fn unlift(&mut self, call: u32) {
        let matching_return = self.entries[call as usize].matching_return;
        if matching_return != NO_ENTRY {
            self.relink(matching_return);
        }
        self.relink(call);
    }

    fn unlink(&mut self, entry: u32) {
        let Link { previous, next, .. } = self.entries[entry as usize];
        self.entries[previous as usize].next = next;
        if next != NO_ENTRY {
            self.entries[next as usize].previous = previous;
        }
    }

    fn relink(&mut self, entry: u32) {
        let Link { previous, next, .. } = self.entries[entry as usize];
        self.entries[previous as usize].next = entry;
        if next != NO_ENTRY {
            self.entries[next as usize].previous = entry;
        }
    }
}

/// Sorts events that come nearly in order: made operation by operation in
/// history order, a call is in place and a return is behind only the
/// calls of the few operations that began while it ran. Insertion sort
/// then costs one pass and a move per event out of place, where a
/// general sort paid for the whole order again (a fifth of a short
/// register run's check). Past a budget of moves, a history far from
/// order (as a file's can be) goes to the general sort instead, and so
/// do a few events (the general sort's own small case is quicker).
fn sort_nearly_sorted(events: &mut [Event]) {
    if events.len() <= 20 {
        events.sort_unstable();
        return;
    }
    let mut moves_left = 8 * events.len();
    for i in 1..events.len() {
        let event = events[i];
        let mut at = i;
        while at > 0 && events[at - 1] > event {
            if moves_left == 0 {
                events[at] = event;
                events.sort_unstable();
                return;
            }
            events[at] = events[at - 1];
            at -= 1;
            moves_left -= 1;
        }
        events[at] = event;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(position: u64, is_return: bool, operation: u32) -> Event {
        Event {
            position,
            is_return,
            operation,
        }
    }

    fn walk(list: &EntryList) -> Vec<(usize, bool)> {
        let mut entries = Vec::new();
        let mut entry = list.first();
        while entry != NO_ENTRY {
            entries.push((list.operation(entry), list.is_return(entry)));
            entry = list.next(entry);
        }
        entries
    }

    #[test]
    fn lift_and_unlift_restore_the_list() {
        let mut list = EntryList::new(vec![
            event(0, false, 0),
            event(1, false, 1),
            event(2, true, 0),
            event(3, true, 1),
        ]);
        let before = walk(&list);
        let first = list.first();
        list.lift(first);
        assert_eq!(walk(&list), vec![(1, false), (1, true)]);
        let second = list.first();
        list.lift(second);
        assert_eq!(walk(&list), vec![]);
        list.unlift(second);
        list.unlift(first);
        assert_eq!(walk(&list), before);
    }

    #[test]
    fn nearly_sorted_and_shuffled_events_sort_as_the_general_sort_does() {
        use crate::rng::{SimRng, Stream};
        let mut rng = SimRng::new(5, Stream::User(0));
        for round in 0..200u64 {
            let len = rng.below(300) as u32;
            // Every fourth round far from order (past the moves budget),
            // the others a few places out at most.
            let spread = if round % 4 == 0 { 1_000_000 } else { 4 };
            let mut events: Vec<Event> = (0..len)
                .map(|i| {
                    let position = u64::from(i) * 2 + rng.below(spread);
                    event(position, rng.below(2) == 0, i % 7)
                })
                .collect();
            let mut expected = events.clone();
            expected.sort_unstable();
            sort_nearly_sorted(&mut events);
            assert_eq!(events, expected, "round {round}");
        }
    }

    #[test]
    fn calls_come_before_returns_at_equal_positions() {
        let list = EntryList::new(vec![
            event(5, true, 0),
            event(5, false, 1),
            event(1, false, 0),
            event(9, true, 1),
        ]);
        assert_eq!(
            walk(&list),
            vec![(0, false), (1, false), (0, true), (1, true)]
        );
    }
}
