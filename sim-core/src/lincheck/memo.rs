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

use std::hash::Hash;

use indexmap::{Equivalent, IndexMap};
use rustc_hash::FxBuildHasher;

/// A set of small integers (operation indices).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(super) struct Bitset {
    words: Vec<u64>,
}

pub(super) struct Memo<State> {
    /// Lookups only, never iterated, so the hasher's order never shows.
    explored: IndexMap<MemoKey<State>, Vec<Bitset>, FxBuildHasher>,
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
        Bitset {
            words: vec![0; bits.div_ceil(64)],
        }
    }
    pub(super) fn insert(&mut self, bit: usize) {
        self.words[bit / 64] |= 1 << (bit % 64);
    }
    pub(super) fn remove(&mut self, bit: usize) {
        self.words[bit / 64] &= !(1 << (bit % 64));
    }
    /// Both sets must have room for the same bits.
    pub(super) fn is_subset_of(&self, other: &Bitset) -> bool {
        self.words
            .iter()
            .zip(&other.words)
            .all(|(mine, theirs)| mine & !theirs == 0)
    }
}

impl<State: Clone + Eq + Hash> Memo<State> {
    pub(super) fn new() -> Self {
        Memo {
            explored: IndexMap::default(),
        }
    }

    /// Records the configuration (`known`, `state`, `unknown`) and returns
    /// true, unless it or one that can do everything it can was recorded
    /// before: then returns false, and the search should not enter it.
    pub(super) fn insert_if_new(
        &mut self,
        known: &Bitset,
        state: &State,
        unknown: &Bitset,
    ) -> bool {
        let Some(explored) = self.explored.get_mut(&MemoProbe { known, state }) else {
            let key = MemoKey {
                known: known.clone(),
                state: state.clone(),
            };
            self.explored.insert(key, vec![unknown.clone()]);
            return true;
        };
        if explored.iter().any(|used| used.is_subset_of(unknown)) {
            return false;
        }
        // Entries that used more than this one are now redundant.
        explored.retain(|used| !unknown.is_subset_of(used));
        explored.push(unknown.clone());
        true
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
        let known = set(&[1, 70]);
        assert!(memo.insert_if_new(&known, &5, &set(&[3])));
        assert!(!memo.insert_if_new(&known, &5, &set(&[3])));
        assert!(!memo.insert_if_new(&known, &5, &set(&[3, 99])));
        assert!(memo.insert_if_new(&known, &5, &set(&[4])));
        assert!(memo.insert_if_new(&known, &6, &set(&[3, 99])));
        assert!(memo.insert_if_new(&set(&[1]), &5, &set(&[3, 99])));
        assert!(memo.insert_if_new(&known, &5, &set(&[])));
        assert!(!memo.insert_if_new(&known, &5, &set(&[4])));
    }
}
