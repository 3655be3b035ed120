//! The birthday math behind random IDs: how many IDs drawn at random from
//! a space of d = 2^b values reach a chance p of at least one collision.
//!
//! Exactly: K draws are all distinct with probability
//! Π_{i<K} (1 − i/d), so the chance of a collision is
//! 1 − exp(Σ_{i<K} ln(1 − i/d)). The smallest K that reaches p is found
//! exactly, not from an approximation: for small K the sum is added up
//! term by term; for large K it is the series
//! Σ_{m≥1} S_m(K) / (m d^m) with S_m(K) = Σ_{i<K} i^m in closed form (its
//! first terms in exact integers). Both are precise to far below the
//! step of one more draw, for spaces of up to 64 bits.
//!
//! The approximations the guide weighs, beside it: √(2 d ln(1/(1 − p)))
//! (from ln(1 − x) ≈ −x and Σ i ≈ K²/2) and √(2 d p) (also 1 − p ≈ e^−p,
//! good only for small p). All arithmetic is IEEE basic operations
//! (`sim_core::float`), so every machine prints the same digits.

use sim_core::float::{ln_1p, one_minus_exp};

/// The largest space the exact figure is computed for: beyond 2^64 values
/// the answer needs more than double precision.
pub const EXACT_BITS_MAX: u32 = 64;

/// Up to this many draws, the sum is added term by term.
const DIRECT_DRAWS_MAX: u64 = 1 << 22;

/// The figures for one space and one target probability.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Birthday {
    pub bits: u32,
    pub p: f64,
    /// The smallest number of draws whose collision chance is at least p
    /// (`None` beyond `EXACT_BITS_MAX`).
    pub exact: Option<u64>,
    /// √(2 d ln(1/(1 − p))).
    pub approx_log: f64,
    /// √(2 d p).
    pub approx_linear: f64,
}

impl Birthday {
    /// # Panics
    /// If `bits` is 0 or above 128, or `p` is not in (0, 1): callers
    /// validate their input first.
    pub fn new(bits: u32, p: f64) -> Birthday {
        assert!((1..=128).contains(&bits), "bits out of range: {bits}");
        assert!(p > 0.0 && p < 1.0, "p out of range: {p}");
        let d = space(bits);
        Birthday {
            bits,
            p,
            exact: (bits <= EXACT_BITS_MAX).then(|| exact_draws(bits, p)),
            approx_log: (2.0 * d * -ln_1p(-p)).sqrt(),
            approx_linear: (2.0 * d * p).sqrt(),
        }
    }
}

/// 2^bits as a float (exact).
fn space(bits: u32) -> f64 {
    (0..bits).fold(1.0, |x, _| x * 2.0)
}

/// The chance that `draws` values drawn at random from 2^bits collide at
/// least once.
pub fn collision_probability(bits: u32, draws: u64) -> f64 {
    one_minus_exp(-distinct_log(bits, draws))
}

/// −ln P(all `draws` distinct) = −Σ_{i<draws} ln(1 − i/d).
pub fn distinct_log(bits: u32, draws: u64) -> f64 {
    assert!((1..=EXACT_BITS_MAX).contains(&bits), "bits out of range: {bits}");
    if bits < 64 && draws > 1u64 << bits {
        return f64::INFINITY; // more draws than values: a collision is certain
    }
    if draws <= DIRECT_DRAWS_MAX {
        let d = space(bits);
        (1..draws).map(|i| draw_log(i, d)).sum()
    } else {
        series(bits, draws)
    }
}

/// −ln(1 − i/d): what the i-th draw after the first adds to −ln P(all
/// distinct); infinite once every value has been drawn.
fn draw_log(i: u64, d: f64) -> f64 {
    let x = i as f64 / d;
    if x >= 1.0 { f64::INFINITY } else { -ln_1p(-x) }
}

/// Σ_{m≥1} S_m(K) / (m d^m), for K far below d (K/d < 2^-10 whenever
/// K > 2^22 draws have a collision chance below 1).
fn series(bits: u32, k: u64) -> f64 {
    let d = space(bits);
    let k128 = u128::from(k);
    // S_1 = K(K−1)/2 and S_2 = (K−1)K(2K−1)/6, exact in integers.
    let s1 = (k128 * (k128 - 1) / 2) as f64;
    let s2 = (k128 - 1)
        .checked_mul(k128)
        .and_then(|x| x.checked_mul(2 * k128 - 1))
        .map_or_else(|| (k as f64).powi(3) / 3.0, |x| (x / 6) as f64);
    let mut total = s1 / d + s2 / (2.0 * d * d);
    // Higher terms: S_m ≈ K^(m+1)/(m+1) − K^m/2, each far smaller.
    let ratio = k as f64 / d;
    let mut k_over_d_pow = ratio * ratio * ratio; // (K/d)^m for m = 3
    for m in 3..60 {
        let sm_over_dm = k as f64 * k_over_d_pow * (1.0 / (m + 1) as f64 - 0.5 / k as f64);
        let term = sm_over_dm / m as f64;
        total += term;
        if term < total * 1e-20 {
            break;
        }
        k_over_d_pow *= ratio;
    }
    total
}

/// The smallest K with 1 − Π_{i<K}(1 − i/d) ≥ p.
fn exact_draws(bits: u32, p: f64) -> u64 {
    let target = -ln_1p(-p);
    // Term by term while that is cheap.
    let d = space(bits);
    let mut sum = 0.0;
    let direct_limit = if bits < 64 {
        DIRECT_DRAWS_MAX.min((1u64 << bits) + 1)
    } else {
        DIRECT_DRAWS_MAX
    };
    for k in 1..=direct_limit {
        // sum is −ln P(k draws distinct).
        if sum >= target {
            return k;
        }
        sum += draw_log(k, d);
    }
    // Beyond: the series is increasing in K; search for the boundary.
    let (mut low, mut high) = (direct_limit, direct_limit);
    while series(bits, high) < target {
        low = high;
        high = high.saturating_mul(2);
    }
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        if series(bits, mid) >= target {
            high = mid;
        } else {
            low = mid;
        }
    }
    high
}

/// How long `draws` IDs last at `per_second`, in words: `4.6 hours`.
pub fn lasting(draws: f64, per_second: f64) -> String {
    let seconds = draws / per_second;
    let units = [
        ("years", 365.25 * 86_400.0),
        ("days", 86_400.0),
        ("hours", 3_600.0),
        ("minutes", 60.0),
        ("seconds", 1.0),
    ];
    let (name, size) = units
        .iter()
        .find(|(_, size)| seconds >= *size)
        .copied()
        .unwrap_or(("seconds", 1.0));
    format!("{:.3} {name}", seconds / size)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact collision chance of `k` draws from `d` values, by counting
    /// every sequence of draws.
    fn brute_force(d: u64, k: u32) -> f64 {
        let total = d.pow(k);
        let distinct = (0..total)
            .filter(|&sequence| {
                let mut seen = 0u64;
                let mut rest = sequence;
                (0..k).all(|_| {
                    let value = rest % d;
                    rest /= d;
                    let fresh = seen & (1 << value) == 0;
                    seen |= 1 << value;
                    fresh
                })
            })
            .count();
        1.0 - distinct as f64 / total as f64
    }

    #[test]
    fn small_spaces_agree_with_counting_every_sequence() {
        for bits in 1..=3u32 {
            let d = 1u64 << bits;
            for k in 1..=(d as u32 + 1).min(6) {
                let counted = brute_force(d, k);
                let ours = collision_probability(bits, u64::from(k));
                assert!((ours - counted).abs() < 1e-12, "d={d} k={k}: {ours} vs {counted}");
            }
        }
    }

    #[test]
    fn the_exact_draws_are_the_first_to_reach_p() {
        for bits in [1, 3, 8, 16, 20] {
            for p in [0.01, 0.1, 0.5, 0.9] {
                let k = Birthday::new(bits, p).exact.unwrap();
                assert!(collision_probability(bits, k) >= p, "bits {bits} p {p}: {k}");
                assert!(collision_probability(bits, k - 1) < p, "bits {bits} p {p}: {k}");
            }
        }
        // 16 values: 5 draws collide with even odds (1 - 16·15·14·13·12/16^5 = 0.60).
        assert_eq!(Birthday::new(4, 0.5).exact, Some(5));
    }

    #[test]
    fn the_series_meets_the_direct_sum_where_both_apply() {
        for k in [1u64 << 10, 1 << 16, 1 << 21] {
            let direct: f64 = (1..k).map(|i| draw_log(i, space(48))).sum();
            let series = series(48, k);
            assert!((direct - series).abs() <= 1e-12 * direct, "{k}: {direct} vs {series}");
        }
    }

    #[test]
    fn sixty_four_bits_at_five_nines() {
        // The guide quotes 19,207,723 draws, and 19,207,677.7 from
        // √(2·d·p); computed exactly, the boundary is a few draws later.
        let b = Birthday::new(64, 1e-5);
        let exact = b.exact.unwrap();
        assert!((19_207_723..19_207_760).contains(&exact), "{exact}");
        assert!((b.approx_linear - 19_207_677.7).abs() < 1.0, "{}", b.approx_linear);
        assert!(b.approx_log > b.approx_linear);
        assert!(collision_probability(64, exact) >= 1e-5);
        assert!(collision_probability(64, exact - 1) < 1e-5);
        // Even odds in 2^64: a little over 2^32 (the guide: 17.7% more).
        let half = Birthday::new(64, 0.5).exact.unwrap() as f64;
        assert!((half / 2f64.powi(32) - 1.177).abs() < 0.001, "{half}");
    }
}
