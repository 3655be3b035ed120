//! A binary min-heap of the timeline's keys, earliest `(time, seq)` first.
//!
//! std's `BinaryHeap<Reverse<Key>>` orders them as well, and it was what
//! the timeline used. It compares keys as tuples: time, and only when the
//! times are equal, the sequence number, a branch taken or not as the data
//! falls. Here a key's rank is one `u128` (time above, sequence below),
//! compared without a branch, and the smaller child's index is computed
//! from the comparison. It executes more instructions than std's heap
//! (quorum-bench 756 → 787 per message) yet runs faster: quorum-bench
//! 1.15-1.2×, library sweeps 1.04-1.08× (pinned side-by-side runs, see
//! the README). This machine exposes no hardware counters, so that the
//! branch is the reason is inferred, not measured. Keys differ in `(time,
//! seq)` (the queue numbers every push), so any heap pops them in one
//! order, this one included: every seed's digest is unchanged.

use crate::time::SimTime;
use crate::timeline::Key;

/// Where a key sorts: its time, then its sequence number, as one integer
/// (compared without a branch).
#[inline(always)]
fn rank(key: &Key) -> u128 {
    (u128::from(key.0.as_nanos()) << 64) | u128::from(key.1)
}

#[derive(Debug, Default, Clone)]
pub(crate) struct KeyHeap {
    /// `keys[i]` sorts no later than `keys[2i + 1]` and `keys[2i + 2]`.
    keys: Vec<Key>,
}

impl KeyHeap {
    /// A heap of `keys`, in any order.
    pub(crate) fn from_vec(keys: Vec<Key>) -> KeyHeap {
        let mut heap = KeyHeap { keys };
        heap.rebuild();
        heap
    }

    /// Restores the order of keys in any order (Floyd's construction:
    /// O(n)).
    fn rebuild(&mut self) {
        for at in (0..self.keys.len() / 2).rev() {
            self.sift_down(at);
        }
    }

    /// Drops the keys `keep` refuses.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(Key) -> bool) {
        self.keys.retain(|&key| keep(key));
        self.rebuild();
    }

    /// The keys, in no particular order; their room goes with them.
    pub(crate) fn into_vec(self) -> Vec<Key> {
        self.keys
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The earliest key.
    #[inline]
    pub(crate) fn peek(&self) -> Option<Key> {
        self.keys.first().copied()
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, key: Key) {
        self.push_parts(key.0, key.1, key.2);
    }

    /// `push`, out of line, with the key's fields as three arguments,
    /// which go in registers: a key passed whole goes through memory, and
    /// this function's wide loads of the caller's narrower stores waited
    /// for them to reach the cache (store forwarding fails for a load
    /// wider than the store it reads; perf: half of this function in
    /// booking, two thirds in quorum-bench).
    #[inline(never)]
    fn push_parts(&mut self, time: SimTime, seq: u64, slot: u32) {
        let key = (time, seq, slot);
        let mut hole = self.keys.len();
        self.keys.push(key);
        let rank_of_key = rank(&key);
        // A new event is usually due after most of those pending, so this
        // stops after a level or two, a branch that is rarely mispredicted.
        while hole > 0 {
            let parent = (hole - 1) / 2;
            if rank_of_key >= rank(&self.keys[parent]) {
                break;
            }
            self.keys[hole] = self.keys[parent];
            hole = parent;
        }
        self.keys[hole] = key;
    }

    /// Removes and returns the earliest key. The hole it leaves moves down
    /// to a leaf through the smaller child of each level, then the last
    /// key fills it and climbs back as far as it must (usually not at all:
    /// the last key is among the latest).
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Key> {
        let last = self.keys.pop()?;
        let len = self.keys.len();
        if len == 0 {
            return Some(last);
        }
        let keys = self.keys.as_mut_slice();
        let earliest = keys[0];
        // Every key from `child` on has a right sibling while `child < end`.
        let end = len - 1;
        let mut hole = 0;
        let mut child = 1;
        while child < end {
            let smaller = child + usize::from(rank(&keys[child + 1]) < rank(&keys[child]));
            keys[hole] = keys[smaller];
            hole = smaller;
            child = 2 * smaller + 1;
        }
        if child == end {
            keys[hole] = keys[child];
            hole = child;
        }
        let rank_of_last = rank(&last);
        while hole > 0 {
            let parent = (hole - 1) / 2;
            if rank_of_last >= rank(&keys[parent]) {
                break;
            }
            keys[hole] = keys[parent];
            hole = parent;
        }
        keys[hole] = last;
        Some(earliest)
    }

    /// Moves the key at `at` down until neither child sorts before it.
    fn sift_down(&mut self, mut hole: usize) {
        let len = self.keys.len();
        let key = self.keys[hole];
        let rank_of_key = rank(&key);
        loop {
            let mut child = 2 * hole + 1;
            if child >= len {
                break;
            }
            if child + 1 < len {
                child += usize::from(rank(&self.keys[child + 1]) < rank(&self.keys[child]));
            }
            if rank(&self.keys[child]) >= rank_of_key {
                break;
            }
            self.keys[hole] = self.keys[child];
            hole = child;
        }
        self.keys[hole] = key;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{SimRng, Stream};

    fn key(time: u64, seq: u64) -> Key {
        (SimTime::from_nanos(time), seq, seq as u32)
    }

    /// Random pushes and pops, and heaps built whole, pop exactly what a
    /// sorted list would, ties in time broken by sequence number.
    #[test]
    fn pops_in_time_then_seq_order_like_a_sorted_list() {
        let mut rng = SimRng::new(11, Stream::User(0));
        for round in 0..200 {
            let spread = [1, 10, 1_000, u64::MAX / 2][round % 4];
            let mut heap = KeyHeap::default();
            let mut sorted: Vec<Key> = Vec::new();
            let mut seq = 0;
            for _ in 0..rng.below(300) {
                if rng.below(3) == 0 {
                    sorted.sort_by_key(rank);
                    let expected = (!sorted.is_empty()).then(|| sorted.remove(0));
                    assert_eq!(heap.pop(), expected);
                } else {
                    let k = key(rng.below(spread), seq);
                    seq += 1;
                    heap.push(k);
                    sorted.push(k);
                }
                assert_eq!(heap.len(), sorted.len());
            }
            let rebuilt = KeyHeap::from_vec(heap.clone().into_vec());
            sorted.sort_by_key(rank);
            for mut heap in [heap, rebuilt] {
                let drained: Vec<Key> = std::iter::from_fn(|| heap.pop()).collect();
                assert_eq!(drained, sorted);
            }
        }
    }

    #[test]
    fn a_heap_built_whole_peeks_and_pops_the_earliest_first() {
        let mut heap =
            KeyHeap::from_vec(vec![key(5, 0), key(3, 1), key(4, 2), key(3, 0), key(9, 3)]);
        assert_eq!(heap.peek(), Some(key(3, 0)));
        let order: Vec<Key> = std::iter::from_fn(|| heap.pop()).collect();
        assert_eq!(
            order,
            vec![key(3, 0), key(3, 1), key(4, 2), key(5, 0), key(9, 3)]
        );
        assert!(heap.is_empty() && heap.peek().is_none());
    }
}
