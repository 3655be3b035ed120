//! Floating-point functions from IEEE-754 basic arithmetic only (add,
//! multiply, divide, square root), which every platform rounds the same
//! way. std's `ln` and `exp` call the platform's libm, whose last bit may
//! differ between systems; a run's draws and the numbers dsim prints must
//! not.

/// Natural logarithm of a positive finite `x`, from basic arithmetic only:
/// split `x = m * 2^e` with `m` in [√½, √2), then
/// `ln m = 2 atanh(s) = 2s (1 + s²/3 + s⁴/5 + ...)` with `s = (m-1)/(m+1)`.
/// std's `ln` calls the platform's libm, whose last bit may differ between
/// systems.
///
/// Within 2 units in the last place of the true logarithm (a test checks
/// it against std's on hundreds of thousands of inputs). The one division
/// is `s`'s; the series is a polynomial in `s²` with its coefficients'
/// reciprocals as constants.
pub fn ln(x: f64) -> f64 {
    debug_assert!(x > 0.0 && x.is_finite());
    let bits = x.to_bits();
    let mut exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mantissa = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    if exponent == -1023 {
        // Subnormal: normalise by hand. (Unreachable from `exponential`.)
        let scaled = x * (1u64 << 54) as f64;
        return ln(scaled) - 54.0 * std::f64::consts::LN_2;
    }
    // Centre the mantissa on 1 so the series converges fast. Halving is
    // one off the exponent bits, exact, and done without a branch: for a
    // uniform draw it goes either way about half the time, and a
    // mispredicted branch cost more than the rest of this prologue.
    let high = u64::from(mantissa > std::f64::consts::SQRT_2);
    let mantissa = f64::from_bits(mantissa.to_bits() - (high << 52));
    exponent += high as i64;
    let s = (mantissa - 1.0) / (mantissa + 1.0);
    let twice_s = 2.0 * s;
    twice_s + twice_s * atanh_tail(s * s) + exponent as f64 * std::f64::consts::LN_2
}

/// `1/(2k + 1)` for k = 1..=9: the series' coefficients after its first.
const SERIES: [f64; 9] = {
    let mut coefficients = [0.0; 9];
    let mut k = 0;
    while k < 9 {
        coefficients[k] = 1.0 / (2 * k + 3) as f64;
        k += 1;
    }
    coefficients
};

/// `z/3 + z²/5 + ... + z⁹/19` for `z = s²` ≤ 3 − 2√2 ≈ 0.0294 (from `m`
/// in [√½, √2)): `atanh(s) = s (1 + this)`. The next term, z¹⁰/21, is
/// under 2⁻⁵⁵, less than half a unit in the last place of `1 + this`,
/// and this part is under 1% of it, so the rounding of the coefficients
/// weighs a hundredth as much as in the result. Summed by Estrin's
/// scheme (pairs, then pairs of pairs) rather than Horner's: the
/// multiplications of a level run side by side instead of one after the
/// other, a shorter chain of dependent operations.
#[inline]
fn atanh_tail(z: f64) -> f64 {
    let c = SERIES;
    let z2 = z * z;
    let z4 = z2 * z2;
    let low = (c[0] + c[1] * z) + (c[2] + c[3] * z) * z2;
    let high = (c[4] + c[5] * z) + (c[6] + c[7] * z) * z2;
    z * (low + (high + c[8] * z4) * z4)
}

/// ln(1 + x) for x > -1, accurate for tiny x too (where `ln(1.0 + x)`
/// would lose x's digits).
pub fn ln_1p(x: f64) -> f64 {
    if x.abs() < 1e-4 {
        // x - x²/2 + x³/3 - ...: five terms reach 1e-20 relative.
        let mut term = x;
        let mut sum = 0.0;
        for k in 1..=6 {
            sum += term / k as f64;
            term *= -x;
        }
        sum
    } else {
        ln(1.0 + x)
    }
}

/// e^x for x ≤ 0 (probabilities from log-probabilities): x = k ln 2 + r
/// with |r| ≤ ln 2 / 2, then e^r by its series.
pub fn exp_neg(x: f64) -> f64 {
    debug_assert!(x <= 0.0);
    if x < -745.0 {
        return 0.0;
    }
    // ln 2 in two parts (Cody and Waite): k * LN2_HI is exact, so the
    // reduction loses nothing even for large k.
    // (fdlibm's split: the high part has its low 21 bits zero.)
    const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
    let k = (x / std::f64::consts::LN_2).round();
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 1..=20 {
        term *= r / n as f64;
        sum += term;
    }
    // 2^k by halving: k is between -1075 and 0.
    let mut scale = 1.0;
    for _ in 0..(-k as i64) {
        scale *= 0.5;
    }
    sum * scale
}

/// 1 - e^x for x ≤ 0, accurate when x is tiny (a small probability).
pub fn one_minus_exp(x: f64) -> f64 {
    if x > -1e-4 {
        // -(x + x²/2 + x³/6 + ...)
        let mut term = x;
        let mut sum = 0.0;
        for n in 1..=8 {
            sum += term;
            term *= x / (n + 1) as f64;
        }
        -sum
    } else {
        1.0 - exp_neg(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How far apart two finite values of one sign are, in units in the
    /// last place.
    fn ulps_apart(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn ln_is_within_two_ulps_of_std_everywhere() {
        let mut rng = crate::rng::SimRng::new(3, crate::rng::Stream::User(0));
        let sqrt_half = std::f64::consts::FRAC_1_SQRT_2;
        let edges = [
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::from_bits(1),
            1.0,
            f64::from_bits(1.0f64.to_bits() + 1),
            f64::from_bits(1.0f64.to_bits() - 1),
            std::f64::consts::SQRT_2,
            f64::from_bits(std::f64::consts::SQRT_2.to_bits() + 1),
            sqrt_half,
            f64::from_bits(sqrt_half.to_bits() - 1),
            2.0,
            0.5,
        ];
        let uniform = |rng: &mut crate::rng::SimRng| {
            // What `exponential` passes: 53 random bits, in (0, 1].
            ((rng.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
        };
        let draws = (0..300_000).map(|i| match i % 3 {
            0 => uniform(&mut rng),
            // Any positive finite double, subnormals included.
            1 => f64::from_bits(rng.below(f64::MAX.to_bits()) + 1),
            // Close to 1, where the logarithm is tiny.
            _ => 1.0 + (uniform(&mut rng) - 0.5) * 2f64.powi(-(rng.below(52) as i32)),
        });
        for x in edges.into_iter().chain(draws) {
            let (ours, std) = (ln(x), x.ln());
            assert!(
                ulps_apart(ours, std) <= 2,
                "ln({x:e}) = {ours:e}, std says {std:e}"
            );
        }
    }

    #[test]
    fn ln_gives_the_same_bits_as_when_its_draws_were_pinned() {
        // Every exponential draw of every run goes through `ln`: a change
        // of its bits may change runs, so it must be made on purpose. The
        // digest of these inputs' logarithms, pinned when `ln` last
        // changed.
        let mut rng = crate::rng::SimRng::new(5, crate::rng::Stream::User(0));
        let mut digest = crate::digest::TraceDigest::new();
        for _ in 0..10_000 {
            let u = ((rng.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64;
            digest.bytes(&ln(u).to_le_bytes());
        }
        assert_eq!(digest.hex(), "667958e5e7ed9937f48663522463fe07");
    }

    #[test]
    fn ln_1p_exp_and_one_minus_exp_agree_with_std() {
        for &x in &[-0.9, -0.5, -1e-3, -1e-5, -1e-12, 0.0, 1e-9, 0.25, 3.0] {
            let (ours, std) = (ln_1p(x), x.ln_1p());
            assert!(
                (ours - std).abs() <= 1e-14 * std.abs().max(1e-300),
                "ln_1p({x}): {ours} vs {std}"
            );
        }
        for &x in &[0.0, -1e-12, -1e-5, -0.3, -1.0, -20.0, -700.0] {
            let (ours, std) = (exp_neg(x), x.exp());
            assert!(
                (ours - std).abs() <= 1e-14 * std,
                "exp({x}): {ours} vs {std}"
            );
            let (ours, std) = (one_minus_exp(x), -x.exp_m1());
            assert!(
                (ours - std).abs() <= 1e-14 * std.abs().max(1e-300),
                "1-exp({x}): {ours} vs {std}"
            );
        }
    }
}
