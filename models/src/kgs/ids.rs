//! The ID map: clients never see the counter. An ID is the counter times
//! an odd 64-bit constant, modulo 2^64: a bijection, so no two counters
//! share an ID, and its inverse (the constant's modular multiplicative
//! inverse, computed here, never typed in) turns any ID back into its
//! counter. An even multiplier is the broken variant: multiplying by 2^k
//! throws away the counter's top k bits, so counters 2^(64-k) apart share
//! an ID.

/// The default multiplier: odd, and with no structure a client could use
/// (2^64 divided by the golden ratio).
pub const DEFAULT_MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

/// The broken variant's multiplier: the default's low 12 bits shifted up
/// 52 places (even: counters 4,096 apart collide).
pub const EVEN_MULTIPLIER: u64 = DEFAULT_MULTIPLIER << 52;

/// counter ↦ ID.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct IdMap {
    multiplier: u64,
    /// How many times 2 divides the multiplier (0 for a bijection).
    twos: u32,
    /// The inverse of the multiplier's odd part, modulo 2^64.
    odd_inverse: u64,
}

impl IdMap {
    pub fn new(multiplier: u64) -> IdMap {
        assert!(multiplier != 0, "a zero multiplier maps everything to 0");
        let twos = multiplier.trailing_zeros();
        IdMap {
            multiplier,
            twos,
            odd_inverse: inverse(multiplier >> twos),
        }
    }

    pub fn id(&self, counter: u64) -> u64 {
        counter.wrapping_mul(self.multiplier)
    }

    pub fn is_invertible(&self) -> bool {
        self.twos == 0
    }

    /// The counters that map to `id`: `(first, step)` such that they are
    /// `first + j·step` (mod 2^64) for every j, or `None` if none does.
    /// With an odd multiplier, `step` is 0: exactly one counter.
    pub fn counters(&self, id: u64) -> Option<(u64, u64)> {
        // counter·2^k·odd ≡ id (mod 2^64) ⇔ counter·odd ≡ id/2^k (mod 2^(64−k)).
        if self.twos > 0 && id.trailing_zeros() < self.twos {
            return None;
        }
        let first = (id >> self.twos).wrapping_mul(self.odd_inverse);
        let modulus_bits = 64 - self.twos;
        let first = if modulus_bits == 64 {
            first
        } else {
            first & ((1u64 << modulus_bits) - 1)
        };
        let step = if self.twos == 0 { 0 } else { 1u64 << modulus_bits };
        Some((first, step))
    }

    pub fn multiplier(&self) -> u64 {
        self.multiplier
    }

    /// The counters behind `ids`, in their order, as runs of consecutive
    /// counters: `(first, last)`, both included. A server hands out IDs
    /// from a bulk in counter order, so one answer is one run, or two
    /// where it crossed into the next bulk; the checks judge a run at a
    /// time instead of an ID at a time. Only for an invertible map (where
    /// each ID has exactly one counter).
    pub fn counter_runs<'a>(&self, ids: &'a [u64]) -> CounterRuns<'a> {
        assert!(self.is_invertible(), "an even multiplier has no one counter per ID");
        CounterRuns {
            odd_inverse: self.odd_inverse,
            ids,
        }
    }
}

/// See [`IdMap::counter_runs`].
#[derive(Debug)]
pub struct CounterRuns<'a> {
    odd_inverse: u64,
    ids: &'a [u64],
}

impl Iterator for CounterRuns<'_> {
    type Item = (u64, u64);

    fn next(&mut self) -> Option<(u64, u64)> {
        let counter = |id: u64| id.wrapping_mul(self.odd_inverse);
        let (&id, rest) = self.ids.split_first()?;
        let first = counter(id);
        let mut last = first;
        let mut taken = 1;
        for &id in rest {
            if last.checked_add(1) != Some(counter(id)) {
                break;
            }
            last += 1;
            taken += 1;
        }
        self.ids = &self.ids[taken..];
        Some((first, last))
    }
}

/// The inverse of an odd `a` modulo 2^64, by Newton's iteration: each
/// step doubles the correct low bits (3, 6, 12, 24, 48, 96).
pub fn inverse(a: u64) -> u64 {
    assert!(!a.is_multiple_of(2), "only odd numbers have an inverse modulo 2^64");
    let mut x = a; // a·a ≡ 1 (mod 8) for odd a: three bits right
    for _ in 0..5 {
        x = x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x)));
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inverse_is_computed_and_round_trips() {
        let map = IdMap::new(DEFAULT_MULTIPLIER);
        assert_eq!(DEFAULT_MULTIPLIER.wrapping_mul(inverse(DEFAULT_MULTIPLIER)), 1);
        for counter in [0, 1, 2, 1_000_003, u64::MAX, 1 << 63] {
            assert_eq!(map.counters(map.id(counter)), Some((counter, 0)));
        }
        assert_ne!(map.id(1) + 1, map.id(2), "not sequential");
    }

    #[test]
    fn counter_runs_split_where_counters_stop_being_consecutive() {
        let map = IdMap::new(DEFAULT_MULTIPLIER);
        let ids: Vec<u64> = [5, 6, 7, 1000, 1001, 7, u64::MAX, 0].map(|c| map.id(c)).to_vec();
        let runs: Vec<(u64, u64)> = map.counter_runs(&ids).collect();
        assert_eq!(runs, [(5, 7), (1000, 1001), (7, 7), (u64::MAX, u64::MAX), (0, 0)]);
        assert_eq!(map.counter_runs(&[]).count(), 0);
    }

    #[test]
    fn an_even_multiplier_maps_counters_4096_apart_to_one_id() {
        let map = IdMap::new(EVEN_MULTIPLIER);
        assert!(!map.is_invertible());
        assert_eq!(map.id(7), map.id(7 + 4096));
        let (first, step) = map.counters(map.id(7)).unwrap();
        assert_eq!((first, step), (7, 4096));
        assert_eq!(map.counters(1), None, "an odd ID is no multiple of 2^52");
    }
}
