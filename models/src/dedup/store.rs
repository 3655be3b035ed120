//! A replica's seen set: an exact set (the correct store) or a Bloom
//! filter (the `BloomFilter` variant: less memory, false positives).
//!
//! The exact set remembers, for each X, which request added it. A
//! duplicated or re-delivered add from that same request then still hears
//! "absent": without it, a network duplicate would let a request see its
//! own write and answer `true` for an X nobody had asked about before. A
//! Bloom filter cannot remember adders, which is one more way it lies.

use std::collections::BTreeMap;

use sim_core::NodeId;

use super::msg::RequestNumber;

/// Who added an X: a client and its request.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Adder {
    pub client: NodeId,
    pub request: RequestNumber,
}

/// A replica's seen set.
#[derive(Clone, Debug)]
pub enum Store {
    Exact(ExactSet),
    Bloom(BloomFilter),
}

impl Store {
    /// Is X in the set? (A Bloom filter may say yes wrongly.)
    pub fn contains(&self, x: u64) -> bool {
        match self {
            Store::Exact(set) => set.adders.contains_key(&x),
            Store::Bloom(filter) => filter.contains(x),
        }
    }

    /// Adds X atomically and says whether it was there already, put there
    /// by someone other than `adder`.
    pub fn test_and_set(&mut self, x: u64, adder: Adder) -> bool {
        match self {
            Store::Exact(set) => match set.adders.get(&x) {
                Some(first) => *first != adder,
                None => {
                    set.adders.insert(x, adder);
                    false
                }
            },
            Store::Bloom(filter) => filter.test_and_set(x),
        }
    }
}

/// Every X ever added, with the request that added it first.
#[derive(Clone, Debug, Default)]
pub struct ExactSet {
    adders: BTreeMap<u64, Adder>,
}

/// A Bloom filter of `bits` bits and `hashes` hash functions (double
/// hashing over one pinned 64-bit mixer, so runs stay reproducible).
#[derive(Clone)]
pub struct BloomFilter {
    words: Vec<u64>,
    bits: u32,
    hashes: u32,
}

impl std::fmt::Debug for BloomFilter {
    /// The bit vector itself is noise in a debug dump; its fill is not.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set: u32 = self.words.iter().map(|w| w.count_ones()).sum();
        f.debug_struct("BloomFilter")
            .field("bits", &self.bits)
            .field("hashes", &self.hashes)
            .field("bits_set", &set)
            .finish()
    }
}

impl BloomFilter {
    /// An empty filter.
    ///
    /// # Panics
    /// If `bits` or `hashes` is zero (the configuration validates both).
    pub fn new(bits: u32, hashes: u32) -> BloomFilter {
        assert!(bits > 0 && hashes > 0, "an empty Bloom filter");
        BloomFilter {
            words: vec![0; bits.div_ceil(64) as usize],
            bits,
            hashes,
        }
    }

    pub fn contains(&self, x: u64) -> bool {
        self.positions(x).all(|bit| self.is_set(bit))
    }

    /// Sets X's bits; true if all were set already.
    pub fn test_and_set(&mut self, x: u64) -> bool {
        let mut had_all = true;
        for bit in self.positions(x) {
            had_all &= self.is_set(bit);
            self.words[(bit / 64) as usize] |= 1 << (bit % 64);
        }
        had_all
    }

    fn is_set(&self, bit: u32) -> bool {
        self.words[(bit / 64) as usize] & (1 << (bit % 64)) != 0
    }

    /// Kirsch–Mitzenmacher double hashing: position i is h1 + i·h2.
    fn positions(&self, x: u64) -> impl Iterator<Item = u32> + use<> {
        let first = mix64(x);
        let step = mix64(x ^ 0x9e37_79b9_7f4a_7c15) | 1;
        let bits = u64::from(self.bits);
        (0..u64::from(self.hashes))
            .map(move |i| (first.wrapping_add(i.wrapping_mul(step)) % bits) as u32)
    }
}

/// SplitMix64's finalizer: a fixed, well-mixed hash of a u64. Pinned here
/// (not std's hasher) because its values decide runs.
pub fn mix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adder(client: u32, request: u64) -> Adder {
        Adder {
            client: NodeId(client),
            request: RequestNumber(request),
        }
    }

    #[test]
    fn exact_set_answers_its_adder_absent_and_everyone_else_present() {
        let mut store = Store::Exact(ExactSet::default());
        assert!(!store.contains(7));
        assert!(!store.test_and_set(7, adder(3, 1)));
        assert!(!store.test_and_set(7, adder(3, 1)), "a duplicate of the add");
        assert!(store.test_and_set(7, adder(3, 2)));
        assert!(store.test_and_set(7, adder(4, 1)));
        assert!(store.contains(7));
    }

    #[test]
    fn bloom_filter_has_no_false_negatives_and_some_false_positives() {
        let mut filter = BloomFilter::new(64, 2);
        for x in 0..40 {
            filter.test_and_set(x);
        }
        assert!((0..40).all(|x| filter.contains(x)));
        let false_positives = (1_000..2_000).filter(|&x| filter.contains(x)).count();
        assert!(false_positives > 100, "{false_positives}");
    }
}
