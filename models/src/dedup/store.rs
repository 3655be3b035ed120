//! A replica's seen set: an exact set (the correct store) or a Bloom
//! filter (the `BloomFilter` variant: less memory, false positives).
//!
//! The exact set remembers, for each X, its owner: the request whose add
//! came first (see `ownership.rs` for why the coordinator needs it). A
//! duplicated add from the owner then still finds itself the owner, where
//! a bare "already had it" would let a network duplicate make a request
//! see its own write. A Bloom filter cannot remember owners, which is one
//! more way it lies.

use std::collections::BTreeMap;

use sim_core::NodeId;

use super::msg::RequestNumber;
use super::ownership::Owner;

/// A request that adds an X: a client and its request number.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, serde::Serialize)]
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
    /// X's owner, or `None` if X is absent. (A Bloom filter may find X
    /// wrongly, and never knows its owner.)
    pub fn owner(&self, x: u64) -> Option<Owner> {
        match self {
            Store::Exact(set) => set.owners.get(&x).map(|&adder| Owner::Request(adder)),
            Store::Bloom(filter) => filter.contains(x).then_some(Owner::Unknown),
        }
    }

    /// Adds X atomically, owned by `adder` if it was absent, and returns
    /// its owner.
    pub fn add(&mut self, x: u64, adder: Adder) -> Owner {
        match self {
            Store::Exact(set) => Owner::Request(*set.owners.entry(x).or_insert(adder)),
            Store::Bloom(filter) => {
                if filter.test_and_set(x) {
                    Owner::Unknown
                } else {
                    Owner::Request(adder)
                }
            }
        }
    }
}

/// Every X ever added, with its owner.
#[derive(Clone, Debug, Default)]
pub struct ExactSet {
    owners: BTreeMap<u64, Adder>,
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
    fn the_first_add_owns_x_for_good() {
        let mut store = Store::Exact(ExactSet::default());
        let first = Owner::Request(adder(3, 1));
        assert_eq!(store.owner(7), None);
        assert_eq!(store.add(7, adder(3, 1)), first);
        assert_eq!(store.add(7, adder(3, 1)), first, "a duplicate of the add");
        assert_eq!(store.add(7, adder(4, 1)), first);
        assert_eq!(store.owner(7), Some(first));
    }

    #[test]
    fn a_bloom_store_knows_no_owners() {
        let mut store = Store::Bloom(BloomFilter::new(64, 2));
        assert_eq!(store.add(7, adder(3, 1)), Owner::Request(adder(3, 1)));
        assert_eq!(store.add(7, adder(3, 1)), Owner::Unknown);
        assert_eq!(store.owner(7), Some(Owner::Unknown));
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
