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
    fn an_even_multiplier_maps_counters_4096_apart_to_one_id() {
        let map = IdMap::new(EVEN_MULTIPLIER);
        assert!(!map.is_invertible());
        assert_eq!(map.id(7), map.id(7 + 4096));
        let (first, step) = map.counters(map.id(7)).unwrap();
        assert_eq!((first, step), (7, 4096));
        assert_eq!(map.counters(1), None, "an odd ID is no multiple of 2^52");
    }
}
