//! The search's memo: the configurations already explored, so none is
//! searched twice. A configuration is which operations have taken effect
//! plus the state they left.
//!
//! Operations with an unknown result are tracked apart from the others,
//! because a configuration that used fewer of them, with the same known
//! operations and state, can do everything this one can: those operations
//! are never required, so leaving one unused only keeps an option open.
//! Each memo entry therefore keeps, for one (known set, state), the sets
//! of unknown-result operations explored with it, and a configuration is
//! new only if none of them is a subset of its own. Without this, k
//! timed-out operations pending at once cost up to 2^k configurations.
//!
//! The memo is what grows without bound on a hard history, so it counts
//! the bytes it holds for the memory budget (`budget.rs`).

use std::hash::Hash;
use std::mem::size_of;

use indexmap::{Equivalent, IndexMap};
use rustc_hash::FxBuildHasher;

use super::budget::heap_block_bytes;

/// A set of small integers (operation indices). Up to 128 of them live
/// inline: most keys' histories are that short, and a memo entry then
/// costs no heap blocks for its sets (a search makes thousands of them).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(super) struct Bitset {
    words: Words,
}

const INLINE_WORDS: usize = 2;

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
enum Words {
    Inline([u64; INLINE_WORDS]),
    Heap(Vec<u64>),
}

pub(super) struct Memo<State> {
    /// Lookups only, never iterated, so the hasher's order never shows.
    explored: IndexMap<MemoKey<State>, Vec<Bitset>, FxBuildHasher>,
    /// The bytes `explored` holds, by the count in `insert_if_new`.
    bytes: u64,
}

#[derive(PartialEq, Eq, Hash)]
struct MemoKey<State> {
    known: Bitset,
    state: State,
}

/// A borrowed `MemoKey`, to look up without cloning. Hashes exactly like
/// `MemoKey`.
#[derive(Hash)]
struct MemoProbe<'a, State> {
    known: &'a Bitset,
    state: &'a State,
}

impl Bitset {
    pub(super) fn new(bits: usize) -> Self {
        let words = bits.div_ceil(64);
        Bitset {
            words: if words <= INLINE_WORDS {
                Words::Inline([0; INLINE_WORDS])
            } else {
                Words::Heap(vec![0; words])
            },
        }
    }
    fn words(&self) -> &[u64] {
        match &self.words {
            Words::Inline(words) => words,
            Words::Heap(words) => words,
        }
    }
    fn words_mut(&mut self) -> &mut [u64] {
        match &mut self.words {
            Words::Inline(words) => words,
            Words::Heap(words) => words,
        }
    }
    pub(super) fn insert(&mut self, bit: usize) {
        self.words_mut()[bit / 64] |= 1 << (bit % 64);
    }
    pub(super) fn remove(&mut self, bit: usize) {
        self.words_mut()[bit / 64] &= !(1 << (bit % 64));
    }
    /// Both sets must have room for the same bits.
    pub(super) fn is_subset_of(&self, other: &Bitset) -> bool {
        self.words()
            .iter()
            .zip(other.words())
            .all(|(mine, theirs)| mine & !theirs == 0)
    }
    /// The heap block holding the words, if they are not inline.
    pub(super) fn heap_bytes(&self) -> usize {
        match &self.words {
            Words::Inline(_) => 0,
            Words::Heap(words) => heap_block_bytes(words.len() * size_of::<u64>()),
        }
    }
}

/// What one entry of the map costs besides its heap blocks: the bucket
/// (hash, key, value) in the entries vector and its slot (an index and a
/// control byte) in the hash table.
fn entry_bytes<State>() -> usize {
    size_of::<u64>()
        + size_of::<MemoKey<State>>()
        + size_of::<Vec<Bitset>>()
        + size_of::<usize>()
        + 1
}

impl<State: Clone + Eq + Hash> Memo<State> {
    pub(super) fn new() -> Self {
        Memo {
            explored: IndexMap::default(),
            bytes: 0,
        }
    }

    /// Records the configuration (`known`, `state`, `unknown`) and returns
    /// true, unless it or one that can do everything it can was recorded
    /// before: then returns false, and the search should not enter it.
    /// `state_heap_bytes` says what a copy of `state` owns on the heap.
    pub(super) fn insert_if_new(
        &mut self,
        known: &Bitset,
        state: &State,
        unknown: &Bitset,
        state_heap_bytes: impl FnOnce(&State) -> usize,
    ) -> bool {
        let Some(explored) = self.explored.get_mut(&MemoProbe { known, state }) else {
            let key = MemoKey {
                known: known.clone(),
                state: state.clone(),
            };
            self.explored.insert(key, vec![unknown.clone()]);
            let bytes = entry_bytes::<State>()
                + known.heap_bytes()
                + state_heap_bytes(state)
                + heap_block_bytes(size_of::<Bitset>())
                + unknown.heap_bytes();
            self.bytes += bytes as u64;
            return true;
        };
        if explored.iter().any(|used| used.is_subset_of(unknown)) {
            return false;
        }
        // Entries that used more than this one are now redundant. The
        // count keeps them: their room in the vector stays, and a count
        // that only grows while the search lives is simpler to trust.
        explored.retain(|used| !unknown.is_subset_of(used));
        explored.push(unknown.clone());
        self.bytes += (size_of::<Bitset>() + unknown.heap_bytes()) as u64;
        true
    }

    /// The bytes the memo holds, by the count.
    pub(super) fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl<State: Eq> Equivalent<MemoKey<State>> for MemoProbe<'_, State> {
    fn equivalent(&self, key: &MemoKey<State>) -> bool {
        *self.known == key.known && *self.state == key.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(bits: &[usize]) -> Bitset {
        let mut set = Bitset::new(100);
        bits.iter().for_each(|&bit| set.insert(bit));
        set
    }

    #[test]
    fn a_configuration_using_more_unknown_operations_is_not_new() {
        let mut memo = Memo::new();
        let mut insert = |known: &Bitset, state: u32, unknown: &[usize]| {
            memo.insert_if_new(known, &state, &set(unknown), |_| 0)
        };
        let known = set(&[1, 70]);
        assert!(insert(&known, 5, &[3]));
        assert!(!insert(&known, 5, &[3]));
        assert!(!insert(&known, 5, &[3, 99]));
        assert!(insert(&known, 5, &[4]));
        assert!(insert(&known, 6, &[3, 99]));
        assert!(insert(&set(&[1]), 5, &[3, 99]));
        assert!(insert(&known, 5, &[]));
        assert!(!insert(&known, 5, &[4]));
    }

    #[test]
    fn the_count_grows_with_each_new_configuration_only() {
        let mut memo = Memo::new();
        let known = set(&[1]);
        assert!(memo.insert_if_new(&known, &5u32, &set(&[3]), |_| 0));
        let one_entry = memo.bytes();
        // 100 bits fit inline: the entry is its bucket and its vector of
        // unknown sets, with no block for either set.
        assert!(one_entry > size_of::<MemoKey<u32>>() as u64, "{one_entry}");
        assert!(!memo.insert_if_new(&known, &5, &set(&[3]), |_| 0));
        assert_eq!(memo.bytes(), one_entry);
        assert!(memo.insert_if_new(&known, &6, &set(&[3]), |_| 1_000));
        assert_eq!(memo.bytes(), 2 * one_entry + 1_000);
        assert!(memo.insert_if_new(&known, &6, &set(&[4]), |_| 1_000));
        assert_eq!(
            memo.bytes(),
            2 * one_entry + 1_000 + size_of::<Bitset>() as u64
        );
    }

    #[test]
    fn a_set_past_128_bits_lives_on_the_heap_and_is_counted() {
        let (small, large) = (Bitset::new(128), Bitset::new(129));
        assert_eq!(small.heap_bytes(), 0);
        assert!(large.heap_bytes() >= 3 * size_of::<u64>());
        let mut a = Bitset::new(300);
        let mut b = Bitset::new(300);
        a.insert(7);
        a.insert(250);
        b.insert(250);
        assert!(b.is_subset_of(&a) && !a.is_subset_of(&b));
        a.remove(7);
        assert!(a.is_subset_of(&b) && a == b);
    }
}
