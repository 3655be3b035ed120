//! The event queue: pending events ordered by `(time, sequence)`. The
//! sequence number is a counter bumped on every push, so events due at the
//! same nanosecond run in the order they were scheduled, on every machine.
//! A push may name a class, carried in the sequence's top bits: at one
//! nanosecond a lower class runs first (faults before the events they
//! strike, so a planned fault and the nemesis's strike at that time run
//! alike).
//!
//! Events live in a slab (a `Vec` with a free list); their order is kept
//! apart, as small `(time, seq, slot)` keys (`timeline.rs`: one binary heap
//! while the queue is small, two wheels of time buckets when it is large).
//! After warm-up, a push reuses a freed slot and a key's place, so the hot
//! loop allocates nothing. Removing an event (a cancelled timer) frees its
//! slot at once; its key stays in the timeline and is skipped when popped,
//! recognised by its sequence number, or dropped with the others when
//! the dead keys come to outnumber the living.

use crate::time::SimTime;
use crate::timeline::Timeline;

/// The sequence's top bits hold the class; the counter stays below.
const CLASS_SHIFT: u32 = 56;
/// The class of an ordinary event.
pub const LAST_CLASS: u8 = 3;

/// Names one scheduled event so it can be removed before it runs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct EventKey {
    slot: u32,
    seq: u64,
}

#[derive(Debug)]
pub struct EventQueue<E> {
    order: Timeline,
    slots: Vec<Slot<E>>,
    free: Vec<u32>,
    next_seq: u64,
    live: usize,
}

/// `repr(C)`, the sequence first: a peek compares it and reads the
/// event's tag, and so finds both in one cache line.
#[derive(Debug)]
#[repr(C)]
struct Slot<E> {
    seq: u64,
    event: Option<E>,
}

impl<E> Slot<E> {
    /// Whether this slot still holds the event pushed with `seq`: not
    /// run or removed since, and the slot not reused by a later push.
    #[inline(always)]
    fn holds(&self, seq: u64) -> bool {
        self.seq == seq && self.event.is_some()
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            order: Timeline::default(),
            slots: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
            live: 0,
        }
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `event` at `time`, after everything already scheduled for
    /// that same time.
    pub fn push(&mut self, time: SimTime, event: E) -> EventKey {
        self.push_in_class(time, LAST_CLASS, event)
    }

    /// Schedules `event` at `time`, after everything of its class or a
    /// lower one already scheduled for that time, and before every event
    /// of a higher class there.
    #[inline(always)]
    pub fn push_in_class(&mut self, time: SimTime, class: u8, event: E) -> EventKey {
        self.push_made(time, class, || event)
    }

    /// As `push_in_class`, the event made by `make` once its slot is
    /// chosen, so that it is built where it stays.
    #[inline(always)]
    pub fn push_made(&mut self, time: SimTime, class: u8, make: impl FnOnce() -> E) -> EventKey {
        let seq = (u64::from(class.min(LAST_CLASS)) << CLASS_SHIFT) | self.next_seq;
        self.next_seq += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                // Field by field: assigning a whole new `Slot` built it
                // aside and copied it in, and the copy read the event
                // back in pieces wider than the stores just made.
                let entry = &mut self.slots[slot as usize];
                entry.seq = seq;
                entry.event = Some(make());
                slot
            }
            None => {
                let slot = u32::try_from(self.slots.len()).expect("more than 2^32 pending events");
                self.slots.push(Slot {
                    seq,
                    event: Some(make()),
                });
                slot
            }
        };
        self.order.push((time, seq, slot));
        self.live += 1;
        EventKey { slot, seq }
    }

    /// Removes the earliest event, with its time.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        while let Some((time, seq, slot)) = self.order.pop() {
            let entry = &mut self.slots[slot as usize];
            if !entry.holds(seq) {
                continue; // removed earlier; its slot may since have been reused
            }
            let event = entry.event.take().expect("checked above");
            self.free.push(slot);
            self.live -= 1;
            return Some((time, event));
        }
        None
    }

    /// The earliest event without removing it, skipping removed ones.
    #[inline]
    pub fn peek(&mut self) -> Option<(SimTime, EventKey, &E)> {
        while let Some((time, seq, slot)) = self.order.peek() {
            let entry = &self.slots[slot as usize];
            if entry.holds(seq) {
                let event = self.slots[slot as usize]
                    .event
                    .as_ref()
                    .expect("checked above");
                return Some((time, EventKey { slot, seq }, event));
            }
            self.order.pop();
        }
        None
    }

    /// The time of the earliest event, skipping removed ones.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        self.peek().map(|(time, _, _)| time)
    }

    /// Takes the earliest event off the schedule but keeps it (and its
    /// key) until `release`: a paused node's timers and deliveries wait
    /// this way, and the node's `TimerId`s stay valid for cancelling.
    ///
    /// # Panics
    /// If the queue is empty.
    pub fn hold_next(&mut self) -> EventKey {
        let (_, key, _) = self.peek().expect("hold_next on an empty queue");
        self.order.pop();
        key
    }

    /// Schedules a held event again, at `time`. Events released together
    /// keep their original relative order (their sequence numbers).
    pub fn release(&mut self, key: EventKey, time: SimTime) {
        if self.get(key).is_some() {
            self.order.push((time, key.seq, key.slot));
        }
    }

    /// Removes a scheduled event. Returns it, or `None` if it already ran or
    /// was removed.
    pub fn remove(&mut self, key: EventKey) -> Option<E> {
        let event = self.pending(key)?.event.take();
        self.freed(key.slot);
        event
    }

    /// Removes a scheduled event and drops it where it lies; false if it
    /// already ran or was removed. What a cancelled timer needs: `remove`
    /// moves the whole event out to hand it back, a copy a cancel throws
    /// away.
    pub fn cancel(&mut self, key: EventKey) -> bool {
        let Some(entry) = self.pending(key) else {
            return false;
        };
        entry.event = None;
        self.freed(key.slot);
        true
    }

    /// `key`'s event, if it is still scheduled.
    pub fn get(&self, key: EventKey) -> Option<&E> {
        let entry = self.slots.get(key.slot as usize)?;
        entry
            .holds(key.seq)
            .then_some(entry.event.as_ref())
            .flatten()
    }

    /// The slot of `key`'s event, if that event is still scheduled.
    fn pending(&mut self, key: EventKey) -> Option<&mut Slot<E>> {
        let entry = self.slots.get_mut(key.slot as usize)?;
        entry.holds(key.seq).then_some(entry)
    }

    /// A slot's event is gone: the slot is free for the next push.
    fn freed(&mut self, slot: u32) {
        self.free.push(slot);
        self.live -= 1;
        // The keys of removed events outnumber those of pending ones.
        if self.order.len() > 2 * self.live {
            self.compact();
        }
    }

    /// Drops the keys of removed events from the order. A cancelled
    /// timer's key otherwise waits there until its time: a client's
    /// deadline or a lease's timeout is long, and most are cancelled, so
    /// the keys of the dead came to outnumber the living twenty to one
    /// (`kgs/correct.ron`: 207 keys for 10 pending events), and every pop
    /// sifted through them. Compacting once they outnumber the living
    /// costs a pass over the keys per as many removals.
    #[inline(never)]
    fn compact(&mut self) {
        let slots = &self.slots;
        self.order
            .retain(|(_, seq, slot)| slots[slot as usize].holds(seq));
    }

    /// Number of events still scheduled.
    pub fn len(&self) -> usize {
        self.live
    }
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deadlines set and nearly all cancelled, as a client's are: their
    /// keys are dropped in passes, so the order stays within twice the
    /// pending events, and what is left pops in order.
    #[test]
    fn the_keys_of_cancelled_events_do_not_pile_up() {
        let mut q = EventQueue::new();
        let mut kept = Vec::new();
        for i in 0..10_000u64 {
            let at = SimTime::from_millis(1_000 + i);
            let key = q.push(at, i);
            if i % 100 == 0 {
                kept.push(i);
            } else {
                assert_eq!(q.remove(key), Some(i));
            }
            assert!(q.order.len() <= 2 * q.len() + 1, "{} keys", q.order.len());
        }
        let order: Vec<u64> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, kept);
    }

    #[test]
    fn at_one_time_a_lower_class_runs_first_and_within_a_class_the_earlier_push() {
        let mut q = EventQueue::new();
        let t = SimTime::from_millis(5);
        q.push(t, "node event, pushed first");
        q.push_in_class(t, 1, "fault");
        q.push_in_class(t, 0, "undo");
        q.push_in_class(t, 1, "second fault");
        q.push(SimTime::from_millis(4), "earlier time");
        let order: Vec<&str> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(
            order,
            [
                "earlier time",
                "undo",
                "fault",
                "second fault",
                "node event, pushed first"
            ]
        );
    }

    #[test]
    fn equal_times_pop_in_insertion_order() {
        let mut q = EventQueue::new();
        let t = SimTime::from_millis(5);
        for label in ["a", "b", "c", "d"] {
            q.push(t, label);
        }
        q.push(SimTime::from_millis(1), "first");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ["first", "a", "b", "c", "d"]);
    }

    #[test]
    fn removed_events_never_pop_even_when_their_slot_is_reused() {
        let mut q = EventQueue::new();
        let early = q.push(SimTime::from_millis(1), "cancelled");
        assert_eq!(q.remove(early), Some("cancelled"));
        assert_eq!(q.remove(early), None);
        // The freed slot is reused by a later event; the stale heap key for
        // the removed one must not pop the newcomer early.
        q.push(SimTime::from_millis(9), "late");
        q.push(SimTime::from_millis(2), "middle");
        assert_eq!(q.len(), 2);
        assert_eq!(q.peek_time(), Some(SimTime::from_millis(2)));
        assert_eq!(q.pop(), Some((SimTime::from_millis(2), "middle")));
        assert_eq!(q.pop(), Some((SimTime::from_millis(9), "late")));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn held_events_keep_their_key_and_order() {
        let mut q = EventQueue::new();
        let a = q.push(SimTime::from_millis(1), "a");
        let b = q.push(SimTime::from_millis(2), "b");
        q.push(SimTime::from_millis(3), "c");
        assert_eq!(q.hold_next(), a);
        assert_eq!(q.hold_next(), b);
        assert_eq!(q.peek_time(), Some(SimTime::from_millis(3)));
        q.release(b, SimTime::from_millis(5));
        q.release(a, SimTime::from_millis(5));
        assert_eq!(q.pop(), Some((SimTime::from_millis(3), "c")));
        assert_eq!(
            q.pop(),
            Some((SimTime::from_millis(5), "a")),
            "released together: original order"
        );
        assert_eq!(
            q.remove(b),
            Some("b"),
            "a held event can still be removed by its key"
        );
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn pops_in_time_then_push_order_under_random_pushes_pops_and_removals() {
        use crate::rng::{SimRng, Stream};
        use std::collections::BTreeMap;
        let mut rng = SimRng::new(7, Stream::User(0));
        let mut q = EventQueue::new();
        // The order the queue must follow: (time, push number).
        let mut expected = BTreeMap::new();
        let mut keys = Vec::new();
        for pushed in 0..20_000u64 {
            match rng.below(10) {
                0..=4 => {
                    let time = SimTime::from_nanos(rng.below(500));
                    keys.push((q.push(time, pushed), time, pushed));
                    expected.insert((time, pushed), ());
                }
                5..=7 => {
                    let popped = q.pop();
                    let want = expected.pop_first().map(|((time, e), ())| (time, e));
                    assert_eq!(popped, want);
                }
                _ if !keys.is_empty() => {
                    let (key, time, e) = keys.swap_remove(rng.index(keys.len()));
                    // Half removed (handed back), half cancelled (dropped
                    // in place): the queue must not tell them apart.
                    let removed = if rng.below(2) == 0 {
                        q.remove(key).is_some()
                    } else {
                        q.cancel(key)
                    };
                    assert_eq!(removed, expected.remove(&(time, e)).is_some());
                }
                _ => {}
            }
            assert_eq!(q.len(), expected.len());
        }
        while let Some(popped) = q.pop() {
            assert_eq!(Some(popped), expected.pop_first().map(|(k, ())| k));
        }
        assert!(expected.is_empty());
    }

    #[test]
    fn a_queue_large_enough_for_the_ring_still_pops_in_order_around_removals() {
        use crate::rng::{SimRng, Stream};
        use std::collections::BTreeMap;
        let mut rng = SimRng::new(11, Stream::User(0));
        let mut q = EventQueue::new();
        let mut expected = BTreeMap::new();
        // 20,000 events over 50 ms (the fine wheel spans 17 to 34 ms), a third
        // of them removed again, with pushes going on while it drains.
        let mut keys = Vec::new();
        for i in 0..20_000u64 {
            let time = SimTime::from_nanos(rng.below(50_000_000));
            keys.push((q.push(time, i), time, i));
            expected.insert((time, i), ());
        }
        for (key, time, i) in keys.iter().copied().filter(|_| rng.below(3) == 0) {
            assert_eq!(q.remove(key), Some(i));
            expected.remove(&(time, i));
        }
        let mut next = 20_000u64;
        while let Some((time, e)) = q.pop() {
            assert_eq!(Some((time, e)), expected.pop_first().map(|(k, ())| k));
            if next < 30_000 && rng.below(2) == 0 {
                let later = SimTime::from_nanos(time.as_nanos() + rng.below(30_000_000));
                q.push(later, next);
                expected.insert((later, next), ());
                next += 1;
            }
        }
        assert!(expected.is_empty());
    }

    #[test]
    fn steady_state_reuses_slots() {
        let mut q = EventQueue::new();
        for i in 0..10u64 {
            q.push(SimTime::from_nanos(i), i);
        }
        for i in 10..10_000u64 {
            let (_, e) = q.pop().expect("non-empty");
            assert_eq!(e, i - 10);
            q.push(SimTime::from_nanos(i), i);
        }
        assert_eq!(
            q.slots.len(),
            10,
            "slab grew although at most 10 events were pending"
        );
    }
}
