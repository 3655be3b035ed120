//! The order of pending events: `(time, seq, slot)` keys, popped earliest
//! first, exactly by `(time, seq)`. The event queue keeps the events; this
//! keeps only their keys.
//!
//! While the queue is small its keys are one binary heap (`near`), which
//! nothing beats then. But a pop costs `log n` levels, and past a few
//! thousand keys those levels no longer fit in the cache: a 10,000-node
//! run, whose every node has a timer and messages in flight, spent most of
//! its time sifting. Most keys are due soon, though (a message's latency,
//! a node's next tick), so past `RING_FROM` keys they go into a ring of
//! short time buckets, unsorted, and only the bucket due next is a heap
//! (`near`). A key due past the ring's end waits in a second heap (`far`)
//! until the ring reaches it. Below `HEAP_BELOW` keys it is one heap
//! again.
//!
//! The order stays exact because the three parts never overlap in time:
//! every key in `near` is due before `near_end`; ring bucket `k` (counted
//! from `head`) holds keys due in `[near_end + k w, near_end + (k+1) w)`;
//! every key in `far` is due at or after the ring's end. Within `near`,
//! the heap orders by `(time, seq)`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::time::SimTime;

/// A pending event's place in the order, and its slot in the queue.
pub(crate) type Key = (SimTime, u64, u32);

/// How many buckets the ring has (a power of two).
const BUCKETS: usize = 2048;
/// One bucket's span: 2^13 ns, about 8 µs; the ring spans about 17 ms,
/// which covers network latencies and short timers.
const WIDTH_SHIFT: u32 = 13;
const WIDTH: u64 = 1 << WIDTH_SHIFT;
const SPAN: u64 = WIDTH * BUCKETS as u64;
const WORDS: usize = BUCKETS / 64;
/// Queue sizes at which the ring starts, and stops, being used.
const RING_FROM: usize = 4096;
const HEAP_BELOW: usize = 512;

#[derive(Debug)]
pub(crate) struct Timeline {
    /// Whether the ring is in use. A small queue is one heap (`near`),
    /// which is cheaper than any ring while it fits in the cache; past
    /// `RING_FROM` keys the ring takes over, and below `HEAP_BELOW` the
    /// heap again (the gap keeps the O(n) switches rare).
    ringed: bool,
    /// Keys due before `near_end` (every key, unless `ringed`): the next
    /// to run.
    near: BinaryHeap<Reverse<Key>>,
    near_end: u64,
    ring: Vec<Vec<Key>>,
    /// The ring bucket that starts at `near_end`.
    head: usize,
    /// One bit per ring bucket: does it hold a key?
    occupied: [u64; WORDS],
    in_ring: usize,
    /// Keys due at or after the ring's end.
    far: BinaryHeap<Reverse<Key>>,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            ringed: false,
            near: BinaryHeap::new(),
            near_end: 0,
            // Made when first needed: most runs never grow that large.
            ring: Vec::new(),
            head: 0,
            occupied: [0; WORDS],
            in_ring: 0,
            far: BinaryHeap::new(),
        }
    }
}

impl Timeline {
    /// Every key held, including any whose event was removed since.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.near.len() + self.in_ring + self.far.len()
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, key: Key) {
        if !self.ringed {
            self.near.push(Reverse(key));
            if self.near.len() >= RING_FROM {
                self.start_ring();
            }
            return;
        }
        let at = time_ns(key);
        if at < self.near_end {
            self.near.push(Reverse(key));
            return;
        }
        let ahead = (at - self.near_end) >> WIDTH_SHIFT;
        if ahead < BUCKETS as u64 {
            self.put_in_ring(ahead as usize, key);
        } else {
            self.far.push(Reverse(key));
        }
    }

    /// The earliest key, left in place.
    #[inline]
    pub(crate) fn peek(&mut self) -> Option<Key> {
        if self.near.is_empty() {
            if self.ringed && self.in_ring == 0 {
                // Only far keys are left. Restarting the ring there can
                // wait for a pop: the run may end before them (a deep
                // queue of timers past the end is never spread).
                return self.far.peek().map(|&Reverse(key)| key);
            }
            if !self.advance() {
                return None;
            }
        }
        self.near.peek().map(|&Reverse(key)| key)
    }

    /// Removes and returns the earliest key.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Key> {
        if self.near.is_empty() && !self.advance() {
            return None;
        }
        self.near.pop().map(|Reverse(key)| key)
    }

    fn put_in_ring(&mut self, ahead: usize, key: Key) {
        let bucket = (self.head + ahead) % BUCKETS;
        self.ring[bucket].push(key);
        self.occupied[bucket / 64] |= 1 << (bucket % 64);
        self.in_ring += 1;
    }

    /// Spreads the one heap over the ring: `near` keeps the keys of the
    /// first bucket's span, the rest go to the ring and `far`.
    #[inline(never)]
    fn start_ring(&mut self) {
        if self.ring.is_empty() {
            self.ring = (0..BUCKETS).map(|_| Vec::new()).collect();
        }
        let keys = std::mem::take(&mut self.near).into_vec();
        let first = keys.iter().map(|&Reverse(key)| time_ns(key)).min();
        self.ringed = true;
        self.near_end = first.unwrap_or(0).saturating_add(WIDTH);
        self.head = 0;
        for Reverse(key) in keys {
            self.push(key);
        }
    }

    /// Gathers every key back into one heap.
    #[inline(never)]
    fn stop_ring(&mut self) {
        self.ringed = false;
        for bucket in &mut self.ring {
            self.near.extend(bucket.drain(..).map(Reverse));
        }
        self.occupied = [0; WORDS];
        self.in_ring = 0;
        self.near.append(&mut self.far);
    }

    /// Refills an empty `near` with the next occupied bucket (or, if the
    /// ring is empty, restarts the ring at the earliest far key; or, if
    /// few keys are left, goes back to one heap). False when nothing is
    /// left at all.
    #[inline(never)]
    fn advance(&mut self) -> bool {
        if !self.ringed {
            return false; // `near` is every key, and it is empty
        }
        if self.in_ring + self.far.len() < HEAP_BELOW {
            self.stop_ring();
            return !self.near.is_empty();
        }
        loop {
            if self.in_ring == 0 {
                let Some(&Reverse(first)) = self.far.peek() else {
                    return false;
                };
                // Start the ring at the earliest far key.
                self.near_end = time_ns(first);
                self.pull_from_far();
                continue;
            }
            let ahead = self.next_occupied();
            let bucket = (self.head + ahead) % BUCKETS;
            // Every bucket up to and including this one is passed: near
            // now ends where this bucket ends.
            self.near_end = self.near_end.saturating_add((ahead as u64 + 1) * WIDTH);
            self.head = (bucket + 1) % BUCKETS;
            self.occupied[bucket / 64] &= !(1 << (bucket % 64));
            let keys = &mut self.ring[bucket];
            self.in_ring -= keys.len();
            self.near.extend(keys.drain(..).map(Reverse));
            // The ring's end moved on: far keys it now covers join it.
            self.pull_from_far();
            return true;
        }
    }

    /// How many buckets past `head` the first occupied one is.
    fn next_occupied(&self) -> usize {
        let (word, bit) = (self.head / 64, self.head % 64);
        // The head's own word, from the head on.
        let here = self.occupied[word] >> bit;
        if here != 0 {
            return here.trailing_zeros() as usize;
        }
        let mut ahead = 64 - bit;
        for step in 1..=WORDS {
            let w = self.occupied[(word + step) % WORDS];
            if w != 0 {
                // The head's word comes round again last: only its bits
                // before the head are ahead of it then.
                return ahead + w.trailing_zeros() as usize;
            }
            ahead += 64;
        }
        unreachable!("in_ring > 0 but no bucket is occupied")
    }

    /// Moves the far keys the ring now covers into their buckets.
    fn pull_from_far(&mut self) {
        let end = self.near_end.saturating_add(SPAN);
        while let Some(&Reverse(key)) = self.far.peek() {
            let at = time_ns(key);
            if at >= end {
                break;
            }
            self.far.pop();
            let ahead = ((at - self.near_end) >> WIDTH_SHIFT) as usize;
            self.put_in_ring(ahead, key);
        }
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
    /// to far past the ring, against a sorted set. The queue grows past
    /// `RING_FROM` and shrinks below `HEAP_BELOW` in turns, so it moves
    /// between one heap and the ring several times.
    fn agrees_with_a_sorted_set(seed: u64, spread_ns: u64) {
        let mut rng = SimRng::new(seed, Stream::User(0));
        let mut timeline = Timeline::default();
        let mut expected = BTreeSet::new();
        let mut now = 0u64;
        let mut seq = 0u64;
        let (mut ringed, mut switches) = (false, 0);
        for i in 0..60_000 {
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
            assert_eq!(timeline.len(), expected.len());
            switches += usize::from(timeline.ringed != ringed);
            ringed = timeline.ringed;
        }
        assert!(switches >= 2, "{switches} switches between heap and ring");
        while let Some(key) = timeline.pop() {
            assert_eq!(Some(key), expected.pop_first());
        }
        assert!(expected.is_empty());
    }

    #[test]
    fn pops_in_time_then_seq_order_at_every_spread() {
        for (seed, spread) in [
            (1, 1),
            (2, 1_000),
            (3, WIDTH * 3),
            (4, SPAN / 2),
            (5, SPAN * 3),
            (6, SPAN * 1_000),
            (7, u64::MAX / 1_000_000),
        ] {
            agrees_with_a_sorted_set(seed, spread);
        }
    }
}
