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

use std::hash::{BuildHasher, Hash};
use std::mem::size_of;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use super::budget::heap_block_bytes;

/// A set of small integers (operation indices). Up to 128 of them live
/// inline: most keys' histories are that short, and a memo entry then
/// costs no heap blocks for its sets (a search makes thousands of them).
///
/// The set keeps its own hash, the XOR of a fixed random word per
/// member, updated as members come and go (Zobrist hashing): the memo
/// looks a configuration up at almost every step, and hashing a long
/// history's set word by word each time would cost as much as the rest
/// of the step.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(super) struct Bitset {
    words: Words,
    fingerprint: u64,
}

const INLINE_WORDS: usize = 2;

#[derive(Clone, PartialEq, Eq, Debug)]
enum Words {
    Inline([u64; INLINE_WORDS]),
    Heap(Vec<u64>),
}

/// The random word of `bit` in a set's fingerprint (SplitMix64's
/// finalizer: fixed, so a search is the same everywhere, though only
/// equality of fingerprints matters).
fn bit_hash(bit: usize) -> u64 {
    let mut z = (bit as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(super) struct Memo<State> {
    /// The entries' indices, by the hash of their known set and state.
    /// Looked up only, never iterated, so the hasher's order never shows.
    by_hash: HashTable<u32>,
    /// The entries, `BLOCK` to a block.
    blocks: Vec<Block<State>>,
    /// How many entries the first block has room for when made.
    first_room: usize,
    /// How many words each known set has.
    set_words: usize,
    /// The bytes the memo holds, by the count in `insert_if_new`.
    bytes: u64,
}

/// How many entries a block holds (a power of two).
const BLOCK: usize = 1024;

/// `BLOCK` entries and their known sets, `set_words` words each, end to
/// end: a few large blocks instead of a heap block per set. Past the
/// first, a block is made at its full size and never grows, so a large
/// memo's growth never copies it, and the memory in use stays close to
/// the count (a vector doubling would hold both copies at its peak).
struct Block<State> {
    entries: Vec<Entry<State>>,
    known_sets: Vec<u64>,
}

/// One (known set, state) explored, with the sets of unknown-result
/// operations used to reach it: `first`, then `more` (most entries have
/// one, and an empty `more` holds no heap block). No set in it is a
/// subset of another.
struct Entry<State> {
    /// The hash of the known set and the state.
    hash: u64,
    state: State,
    first: Bitset,
    more: Vec<Bitset>,
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
            fingerprint: 0,
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
        let word = &mut self.words_mut()[bit / 64];
        let mask = 1 << (bit % 64);
        if *word & mask == 0 {
            *word |= mask;
            self.fingerprint ^= bit_hash(bit);
        }
    }
    pub(super) fn remove(&mut self, bit: usize) {
        let word = &mut self.words_mut()[bit / 64];
        let mask = 1 << (bit % 64);
        if *word & mask != 0 {
            *word &= !mask;
            self.fingerprint ^= bit_hash(bit);
        }
    }
    /// Both sets must have room for the same bits.
    #[inline]
    pub(super) fn is_subset_of(&self, other: &Bitset) -> bool {
        if let (Words::Inline(mine), Words::Inline(theirs)) = (&self.words, &other.words) {
            // Most keys have few operations: a fixed-length loop, unrolled.
            return mine
                .iter()
                .zip(theirs)
                .fold(0, |extra, (m, t)| extra | (m & !t))
                == 0;
        }
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

impl<State> Entry<State> {
    /// Whether an unknown set explored here is a subset of `unknown`.
    fn covers(&self, unknown: &Bitset) -> bool {
        self.first.is_subset_of(unknown) || self.more.iter().any(|used| used.is_subset_of(unknown))
    }

    /// Adds `unknown`, dropping the sets it makes redundant (those that
    /// used more than it).
    fn add(&mut self, unknown: &Bitset) {
        self.more.retain(|used| !unknown.is_subset_of(used));
        if unknown.is_subset_of(&self.first) {
            self.first = unknown.clone();
        } else {
            self.more.push(unknown.clone());
        }
    }
}

/// Where entry `at` lives: its block, and its place in the block.
fn place(at: u32) -> (usize, usize) {
    (at as usize / BLOCK, at as usize % BLOCK)
}

/// Entry `at` and its known set.
fn entry_at<State>(blocks: &[Block<State>], set_words: usize, at: u32) -> (&Entry<State>, &[u64]) {
    let (block, offset) = place(at);
    let block = &blocks[block];
    let start = offset * set_words;
    (
        &block.entries[offset],
        &block.known_sets[start..start + set_words],
    )
}

/// What one entry costs besides the state's and the unknown set's heap
/// blocks: its place in a block, its slot in the hash index (an index
/// and a control byte) and its known set's words.
fn entry_bytes<State>(set_words: usize) -> usize {
    size_of::<Entry<State>>() + size_of::<u32>() + 1 + set_words * size_of::<u64>()
}

impl<State: Eq + Hash> Memo<State> {
    #[cfg(test)]
    pub(super) fn new() -> Self {
        Self::with_capacity(0)
    }

    /// A memo with room for `entries` before it grows: a search of a key
    /// of n operations that never backtracks makes about n entries, and
    /// most keys are short, so growing from nothing would be most of
    /// their memo's cost. (The count of bytes held counts entries made,
    /// not room.)
    pub(super) fn with_capacity(entries: usize) -> Self {
        Memo {
            by_hash: HashTable::with_capacity(entries),
            blocks: Vec::new(),
            first_room: entries.min(BLOCK),
            set_words: 0,
            bytes: 0,
        }
    }

    /// Records the configuration (`known`, `state`, `unknown`) and returns
    /// true, unless it or one that can do everything it can was recorded
    /// before: then returns false, and the search should not enter it.
    /// `state_heap_bytes` says what a copy of `state` owns on the heap.
    /// Every `known` set given must have room for the same bits.
    pub(super) fn insert_if_new(
        &mut self,
        known: &Bitset,
        state: &State,
        unknown: &Bitset,
        state_heap_bytes: impl FnOnce(&State) -> usize,
    ) -> bool
    where
        State: Clone,
    {
        let words = known.words();
        let hash = known.fingerprint ^ FxBuildHasher.hash_one(state);
        let set_words = self.set_words;
        let blocks = &mut self.blocks;
        let found = self.by_hash.find(hash, |&at| {
            let (entry, set) = entry_at(blocks, set_words, at);
            entry.hash == hash && entry.state == *state && set == words
        });
        if let Some(&at) = found {
            let (block, offset) = place(at);
            let entry = &mut blocks[block].entries[offset];
            if entry.covers(unknown) {
                return false;
            }
            // The count keeps the sets `add` drops: their room in the
            // vector stays, and a count that only grows while the search
            // lives is simpler to trust.
            entry.add(unknown);
            self.bytes += (size_of::<Bitset>() + unknown.heap_bytes()) as u64;
            return true;
        }
        if blocks
            .last()
            .is_none_or(|block| block.entries.len() == BLOCK)
        {
            // Most keys' memos stay small: the first block starts with
            // the room asked for and grows as a vector does, the later
            // ones are made whole.
            let room = if blocks.is_empty() {
                self.first_room
            } else {
                BLOCK
            };
            self.set_words = words.len();
            blocks.push(Block {
                entries: Vec::with_capacity(room),
                known_sets: Vec::with_capacity(room * words.len()),
            });
        }
        let at = (blocks.len() - 1) * BLOCK + blocks[blocks.len() - 1].entries.len();
        let block = blocks.last_mut().expect("made above");
        block.entries.push(Entry {
            hash,
            state: state.clone(),
            first: unknown.clone(),
            more: Vec::new(),
        });
        block.known_sets.extend_from_slice(words);
        let at = u32::try_from(at).expect("more than 2^32 memo entries");
        self.by_hash
            .insert_unique(hash, at, |&other| entry_at(blocks, set_words, other).0.hash);
        let bytes =
            entry_bytes::<State>(words.len()) + state_heap_bytes(state) + unknown.heap_bytes();
        self.bytes += bytes as u64;
        true
    }

    /// The bytes the memo holds, by the count.
    pub(super) fn bytes(&self) -> u64 {
        self.bytes
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
    fn a_set_hashes_by_its_members_whatever_the_order_they_came_in() {
        let mut a = set(&[3, 70, 99]);
        let mut b = set(&[99]);
        b.insert(3);
        b.insert(70);
        b.insert(70);
        assert_eq!(a, b);
        a.remove(70);
        a.remove(70);
        b.remove(70);
        assert_eq!((a.fingerprint, &a), (b.fingerprint, &b));
        assert_ne!(a.fingerprint, set(&[3, 70, 99]).fingerprint);
        assert_eq!(
            Bitset::new(100).fingerprint,
            set(&[5]).fingerprint ^ bit_hash(5)
        );
    }

    /// A state whose every value hashes alike: every configuration with
    /// one known set lands on one hash.
    #[derive(Clone, PartialEq, Eq, Debug)]
    struct Colliding(u32);
    impl Hash for Colliding {
        fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
    }

    #[test]
    fn configurations_whose_hashes_collide_stay_apart() {
        let mut memo = Memo::new();
        let known = set(&[1]);
        for state in 0..5 {
            assert!(memo.insert_if_new(&known, &Colliding(state), &set(&[2]), |_| 0));
        }
        for state in 0..5 {
            assert!(!memo.insert_if_new(&known, &Colliding(state), &set(&[2, 3]), |_| 0));
            assert!(memo.insert_if_new(&known, &Colliding(state), &set(&[4]), |_| 0));
        }
        assert!(memo.insert_if_new(&known, &Colliding(5), &set(&[2]), |_| 0));
        assert!(memo.insert_if_new(&set(&[0]), &Colliding(0), &set(&[2]), |_| 0));
    }

    #[test]
    fn entries_past_the_first_blocks_are_found_again() {
        let mut memo = Memo::new();
        let known = |i: usize| set(&[i % 100, (i / 100) % 100]);
        let count = 3 * BLOCK + 7;
        for i in 0..count {
            assert!(memo.insert_if_new(&known(i), &(i as u32), &set(&[]), |_| 0));
        }
        for i in 0..count {
            assert!(!memo.insert_if_new(&known(i), &(i as u32), &set(&[1]), |_| 0));
        }
        assert_eq!(memo.bytes(), (count * entry_bytes::<u32>(2)) as u64);
    }

    #[test]
    fn the_count_grows_with_each_new_configuration_only() {
        let mut memo = Memo::new();
        let known = set(&[1]);
        assert!(memo.insert_if_new(&known, &5u32, &set(&[3]), |_| 0));
        let one_entry = memo.bytes();
        // 100 bits fit inline: the entry is its place, its index slot and
        // its known set's words, with no block for either set.
        assert_eq!(one_entry, entry_bytes::<u32>(2) as u64);
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
