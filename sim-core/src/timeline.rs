//! The order of pending events: `(time, seq, slot)` keys, popped earliest
//! first, exactly by `(time, seq)`. The event queue keeps the events; this
//! keeps only their keys.
//!
//! While the queue is small its keys are one binary heap (`near`), which
//! nothing beats then. But a pop costs `log n` levels, and past a few
//! thousand keys those levels no longer fit in the cache: a 10,000-node
//! run, whose every node has a timer and messages in flight, spent most of
//! its time sifting. So past `WHEELS_FROM` keys they go into two wheels of
//! time buckets, unsorted (a hierarchical timing wheel), and only the
//! bucket due next is a heap (`near`). Below `HEAP_BELOW` keys it is one
//! heap again.
//!
//! Time is cut into blocks of about 17 ms (`BLOCK_SHIFT`). The fine wheel
//! holds the keys of the current block and the next, in buckets of about
//! 8 µs (`WIDTH_SHIFT`): network latencies and short timers go straight
//! there. The coarse wheel holds the next `BUCKETS - 2` blocks (about
//! 34 s), a block per slot; later keys wait in a heap (`far`). Each time
//! the current block moves on, the block that becomes the next one is
//! spread over the fine wheel. A key so moves at most twice before it
//! reaches `near`. With one wheel of 17 ms, every key due later went
//! through `far`: a crowd of 5,000 users, whose timers are seconds apart,
//! sifted nearly all of them through that heap.
//!
//! The order stays exact because the parts never overlap in time: every
//! key in `near` is due before `near_end`; the fine wheel's are due at or
//! after it and before the end of block `block + 1`, each in the slot of
//! its bucket; the coarse wheel's are in blocks `block + 2 .. block +
//! BUCKETS`, each in its block's slot; `far`'s are later still. Within
//! `near`, the heap orders by `(time, seq)`.

use crate::key_heap::KeyHeap;
use crate::time::SimTime;

/// A pending event's place in the order, and its slot in the queue.
pub(crate) type Key = (SimTime, u64, u32);

/// Fine buckets in a block, and slots of the coarse wheel.
const BUCKETS: usize = 2048;
/// The fine wheel's slots: two blocks' worth.
const FINE_SLOTS: usize = 2 * BUCKETS;
/// A fine bucket's span: 2^13 ns, about 8 µs.
const WIDTH_SHIFT: u32 = 13;
#[cfg(test)]
const WIDTH: u64 = 1 << WIDTH_SHIFT;
/// A block's span: 2^24 ns, about 17 ms.
const BLOCK_SHIFT: u32 = WIDTH_SHIFT + BUCKETS.trailing_zeros();
#[cfg(test)]
const BLOCK: u64 = 1 << BLOCK_SHIFT;
/// Queue sizes at which the wheels start, and stop, being used.
const WHEELS_FROM: usize = 4096;
const HEAP_BELOW: usize = 512;

#[derive(Debug, Default)]
pub(crate) struct Timeline {
    /// Whether the wheels are in use. A small queue is one heap (`near`),
    /// which is cheaper than any wheel while it fits in the cache; past
    /// `WHEELS_FROM` keys the wheels take over, and below `HEAP_BELOW` the
    /// heap again (the gap keeps the O(n) switches rare).
    on_wheels: bool,
    /// Keys due before `near_end` (every key, unless `on_wheels`): the next
    /// to run.
    near: KeyHeap,
    /// Where `near` ends, a bucket's edge; the block it is in (`block()`)
    /// and the next are the fine wheel's.
    near_end: u64,
    /// Keys due from `near_end` to the end of block `block() + 1`, by
    /// bucket.
    fine: Wheel<FINE_SLOTS>,
    /// Keys of blocks `block() + 2 .. block() + BUCKETS`, by block.
    coarse: Wheel<BUCKETS>,
    /// Keys due past the coarse wheel.
    far: KeyHeap,
}

impl Timeline {
    /// Every key held, including any whose event was removed since.
    pub(crate) fn len(&self) -> usize {
        self.near.len() + self.fine.len + self.coarse.len + self.far.len()
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, key: Key) {
        if !self.on_wheels {
            self.near.push(key);
            if self.near.len() >= WHEELS_FROM {
                self.start_wheels();
            }
            return;
        }
        if time_ns(key) < self.near_end {
            self.near.push(key);
        } else {
            self.place(key);
        }
    }

    /// The block `near_end` is in.
    fn block(&self) -> u64 {
        self.near_end >> BLOCK_SHIFT
    }

    /// Puts a key due at or after `near_end` in its wheel, or in `far`.
    #[inline(always)]
    fn place(&mut self, key: Key) {
        let at = time_ns(key);
        if (at >> BLOCK_SHIFT) - self.block() < 2 {
            // Most keys: a message in flight, a short timer.
            self.fine.put(at >> WIDTH_SHIFT, key);
        } else {
            self.place_later(key);
        }
    }

    /// Puts a key due past the fine wheel in the coarse wheel, or in
    /// `far`. Out of line: the hot path is the fine wheel.
    #[inline(never)]
    fn place_later(&mut self, key: Key) {
        let at = time_ns(key);
        if (at >> BLOCK_SHIFT) - self.block() < BUCKETS as u64 {
            self.coarse.put(at >> BLOCK_SHIFT, key);
        } else {
            self.far.push(key);
        }
    }

    /// The earliest key, left in place.
    #[inline]
    pub(crate) fn peek(&mut self) -> Option<Key> {
        if self.near.is_empty() {
            if self.on_wheels && self.fine.len == 0 && self.coarse.len == 0 {
                // Only far keys are left. Restarting the wheels there can
                // wait for a pop: the run may end before them (a deep
                // queue of timers past the end is never spread).
                return self.far.peek();
            }
            if !self.advance() {
                return None;
            }
        }
        self.near.peek()
    }

    /// Removes and returns the earliest key.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Key> {
        if self.near.is_empty() && !self.advance() {
            return None;
        }
        self.near.pop()
    }

    /// Drops the keys `keep` refuses, wherever they wait.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(Key) -> bool) {
        self.near.retain(&mut keep);
        self.far.retain(&mut keep);
        self.fine.retain(&mut keep);
        self.coarse.retain(&mut keep);
    }

    /// Spreads the one heap over the wheels, from the block of its
    /// earliest key.
    #[inline(never)]
    fn start_wheels(&mut self) {
        let keys = std::mem::take(&mut self.near).into_vec();
        let first = keys.iter().map(|&key| time_ns(key)).min();
        self.on_wheels = true;
        self.near_end = first.unwrap_or(0) >> BLOCK_SHIFT << BLOCK_SHIFT;
        for key in keys {
            self.place(key);
        }
    }

    /// Gathers every key back into one heap.
    #[inline(never)]
    fn stop_wheels(&mut self) {
        self.on_wheels = false;
        let mut keys = std::mem::take(&mut self.near).into_vec();
        self.fine.drain_into(&mut keys);
        self.coarse.drain_into(&mut keys);
        keys.append(&mut std::mem::take(&mut self.far).into_vec());
        // One heap built once, not three merges each rebuilding it.
        self.near = KeyHeap::from_vec(keys);
    }

    /// Refills an empty `near` with the next occupied fine bucket; when
    /// the fine wheel is empty, first moves on to the next occupied block
    /// (of the coarse wheel, or else `far`'s earliest). Goes back to one
    /// heap if few keys are left. False when nothing is left at all.
    #[inline(never)]
    fn advance(&mut self) -> bool {
        if !self.on_wheels {
            return false; // `near` is every key, and it is empty
        }
        if self.fine.len + self.coarse.len + self.far.len() < HEAP_BELOW {
            self.stop_wheels();
            return !self.near.is_empty();
        }
        if self.fine.len == 0 {
            let block = if self.coarse.len > 0 {
                let from = Wheel::<BUCKETS>::slot(self.block() + 2);
                let slot = self.coarse.next_occupied(from);
                self.block() + 2 + ((slot + BUCKETS - from) % BUCKETS) as u64
            } else {
                let Some(first) = self.far.peek() else {
                    return false;
                };
                time_ns(first) >> BLOCK_SHIFT
            };
            // Nothing is due before that block: jump to its start, and
            // spread it and the next one over the fine wheel.
            self.near_end = block << BLOCK_SHIFT;
            self.spread(block);
            self.spread(block + 1);
            self.pull_from_far();
        }
        // No fine slot holds a key due before `near_end`: going round from
        // its slot finds the earliest.
        let first = self.near_end >> WIDTH_SHIFT;
        let from = Wheel::<FINE_SLOTS>::slot(first);
        let slot = self.fine.next_occupied(from);
        let bucket = first + ((slot + FINE_SLOTS - from) % FINE_SLOTS) as u64;
        let passed = self.block();
        self.near_end = (bucket + 1) << WIDTH_SHIFT;
        self.fine.take_as_heap(slot, &mut self.near);
        // Each block `near_end` passed into makes the one after it the
        // fine wheel's second (at most two: the fine wheel holds two).
        if self.block() > passed {
            for block in passed + 1..=self.block() {
                self.spread(block + 1);
            }
            self.pull_from_far();
        }
        true
    }

    /// Moves the coarse keys of `block` to the fine wheel (an empty slot
    /// if none are there).
    fn spread(&mut self, block: u64) {
        let slot = Wheel::<BUCKETS>::slot(block);
        if !self.coarse.holds(slot) {
            return;
        }
        let mut keys = std::mem::take(&mut self.coarse.buckets[slot]);
        self.coarse.clear(slot, keys.len());
        for key in keys.drain(..) {
            self.fine.put(time_ns(key) >> WIDTH_SHIFT, key);
        }
        // Its room goes back, so the slot does not grow it again.
        self.coarse.buckets[slot] = keys;
    }

    /// Moves the far keys the coarse wheel now covers into the wheels.
    fn pull_from_far(&mut self) {
        let end = self.block() + BUCKETS as u64;
        while let Some(key) = self.far.peek() {
            if time_ns(key) >> BLOCK_SHIFT >= end {
                break;
            }
            self.far.pop();
            self.place(key);
        }
    }
}

/// One wheel of `SLOTS` slots (a power of two): keys by slot, unsorted,
/// with a bit per slot that holds any. Made when first needed: most runs
/// never grow that large.
#[derive(Debug, Default)]
struct Wheel<const SLOTS: usize> {
    /// Keys are kept as the heap keeps them, so a bucket becomes `near`'s
    /// heap in place.
    buckets: Vec<Vec<Key>>,
    occupied: Vec<u64>,
    len: usize,
}

impl<const SLOTS: usize> Wheel<SLOTS> {
    /// The slot of a bucket or block number.
    fn slot(number: u64) -> usize {
        (number % SLOTS as u64) as usize
    }

    /// Adds a key to the slot of its bucket or block `number`.
    #[inline(always)]
    fn put(&mut self, number: u64, key: Key) {
        if self.buckets.is_empty() {
            self.make();
        }
        let slot = Self::slot(number);
        self.buckets[slot].push(key);
        self.occupied[slot / 64] |= 1 << (slot % 64);
        self.len += 1;
    }

    #[cold]
    #[inline(never)]
    fn make(&mut self) {
        self.buckets = (0..SLOTS).map(|_| Vec::new()).collect();
        self.occupied = vec![0; SLOTS / 64];
    }

    fn holds(&self, slot: usize) -> bool {
        self.occupied
            .get(slot / 64)
            .is_some_and(|word| word & (1 << (slot % 64)) != 0)
    }

    /// Marks `slot` empty, its `count` keys gone.
    fn clear(&mut self, slot: usize, count: usize) {
        self.occupied[slot / 64] &= !(1 << (slot % 64));
        self.len -= count;
    }

    /// Makes the keys of `slot` the empty `heap`: the bucket's vector
    /// becomes the heap's, and the heap's (empty, with its room) the
    /// bucket's, so nothing is copied or allocated.
    fn take_as_heap(&mut self, slot: usize, heap: &mut KeyHeap) {
        debug_assert!(heap.is_empty(), "near is refilled only when empty");
        let room = std::mem::take(heap).into_vec();
        let keys = std::mem::replace(&mut self.buckets[slot], room);
        self.clear(slot, keys.len());
        *heap = KeyHeap::from_vec(keys);
    }

    /// Moves every key into `keys`.
    fn drain_into(&mut self, keys: &mut Vec<Key>) {
        keys.extend(self.buckets.iter_mut().flat_map(|bucket| bucket.drain(..)));
        self.occupied.fill(0);
        self.len = 0;
    }

    /// Drops the keys `keep` refuses.
    /// Visits only the occupied slots: a wheel may hold few keys.
    fn retain(&mut self, mut keep: impl FnMut(Key) -> bool) {
        self.len = 0;
        for (word, bits) in self.occupied.iter_mut().enumerate() {
            let mut left = *bits;
            while left != 0 {
                let bit = left.trailing_zeros();
                left &= left - 1;
                let bucket = &mut self.buckets[word * 64 + bit as usize];
                bucket.retain(|&key| keep(key));
                self.len += bucket.len();
                if bucket.is_empty() {
                    *bits &= !(1 << bit);
                }
            }
        }
    }

    /// The first occupied slot at or after `from`, going round.
    ///
    /// # Panics
    /// If the wheel is empty.
    fn next_occupied(&self, from: usize) -> usize {
        let words = SLOTS / 64;
        let (word, bit) = (from / 64, from % 64);
        // The starting word, from `from` on.
        let here = self.occupied[word] >> bit;
        if here != 0 {
            return from + here.trailing_zeros() as usize;
        }
        for step in 1..=words {
            let at = (word + step) % words;
            let w = self.occupied[at];
            if w != 0 {
                // The starting word comes round again last: only its bits
                // before `from` are left then.
                return at * 64 + w.trailing_zeros() as usize;
            }
        }
        unreachable!("next_occupied on an empty wheel")
    }
}

fn time_ns(key: Key) -> u64 {
    key.0.as_nanos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{SimRng, Stream};
    use std::collections::BTreeSet;

    /// Pushes and pops at random, the times spread from the same instant
    /// to far past the coarse wheel, against a sorted set. The queue grows past
    /// `WHEELS_FROM` and shrinks below `HEAP_BELOW` in turns, so it moves
    /// between one heap and the wheels several times, and now and then a
    /// third of the keys are dropped. Returns whether keys waited in the coarse wheel, and in `far`.
    fn agrees_with_a_sorted_set(seed: u64, spread_ns: u64) -> (bool, bool) {
        let mut rng = SimRng::new(seed, Stream::User(0));
        let mut timeline = Timeline::default();
        let mut expected = BTreeSet::new();
        let mut now = 0u64;
        let mut seq = 0u64;
        let (mut on_wheels, mut switches) = (false, 0);
        let (mut coarse, mut far) = (false, false);
        for i in 0..60_000u64 {
            let pushes_in_ten = if (i / 10_000) % 2 == 0 { 8 } else { 2 };
            if rng.below(10) < pushes_in_ten {
                // Never before the last pop, as in a run.
                let at = now + rng.below(spread_ns);
                let key = (SimTime::from_nanos(at), seq, seq as u32);
                seq += 1;
                timeline.push(key);
                expected.insert(key);
            } else {
                assert_eq!(timeline.peek(), expected.first().copied());
                let popped = timeline.pop();
                assert_eq!(popped, expected.pop_first());
                if let Some((time, _, _)) = popped {
                    now = time.as_nanos();
                }
            }
            if i.is_multiple_of(4_999) {
                // The queue drops the keys of removed events in passes.
                let keep = |key: Key| !key.1.is_multiple_of(3);
                timeline.retain(keep);
                expected.retain(|&key| keep(key));
            }
            assert_eq!(timeline.len(), expected.len());
            coarse |= timeline.coarse.len > 0;
            far |= !timeline.far.is_empty();
            switches += usize::from(timeline.on_wheels != on_wheels);
            on_wheels = timeline.on_wheels;
        }
        assert!(switches >= 2, "{switches} switches between heap and wheels");
        while let Some(key) = timeline.pop() {
            assert_eq!(Some(key), expected.pop_first());
        }
        assert!(expected.is_empty());
        (coarse, far)
    }

    #[test]
    fn keys_seconds_apart_wait_in_the_coarse_wheel_not_far() {
        // A crowd: 10,000 timers spread over 5 s, popped in order while
        // each popped one sets another a few seconds on.
        let mut rng = SimRng::new(12, Stream::User(0));
        let mut timeline = Timeline::default();
        for seq in 0..10_000u64 {
            let at = rng.below(5_000_000_000);
            timeline.push((SimTime::from_nanos(at), seq, 0));
        }
        assert!(timeline.on_wheels);
        let mut last = (SimTime::ZERO, 0);
        for seq in 10_000..40_000u64 {
            let (time, popped, _) = timeline.pop().expect("never empty");
            assert!((time, popped) > last, "in order");
            last = (time, popped);
            let at = time.as_nanos() + rng.below(4_000_000_000);
            timeline.push((SimTime::from_nanos(at), seq, 0));
            assert!(timeline.far.is_empty(), "a key due within 34 s went to far");
        }
        assert!(timeline.coarse.len > 0);
    }

    #[test]
    fn pops_in_time_then_seq_order_at_every_spread() {
        for (seed, spread) in [
            (1, 1),
            (2, 1_000),
            (3, WIDTH * 3),
            (4, BLOCK / 2),
            (5, BLOCK * 3),
            (6, BLOCK * 1_000),
            (8, BLOCK * BUCKETS as u64 * 3),
            (7, u64::MAX / 1_000_000),
        ] {
            let (coarse, far) = agrees_with_a_sorted_set(seed, spread);
            // Each part of the order was exercised where the spread
            // reaches it.
            assert!(
                coarse || spread <= BLOCK,
                "spread {spread}: coarse wheel unused"
            );
            assert_eq!(
                far,
                spread > BLOCK * BUCKETS as u64,
                "spread {spread}: far used"
            );
        }
    }
}
