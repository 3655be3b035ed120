//! Floating-point functions from IEEE-754 basic arithmetic only (add,
//! multiply, divide, square root), which every platform rounds the same
//! way. std's `ln` and `exp` call the platform's libm, whose last bit may
//! differ between systems; a run's draws and the numbers dsim prints must
//! not.

/// Natural logarithm of a positive finite `x`, from basic arithmetic only:
/// split `x = m * 2^e` with `m` in [1, 2), then
/// `ln m = 2 atanh((m-1)/(m+1))` by its series. std's `ln` calls the
/// platform's libm, whose last bit may differ between systems.
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
    // Centre the mantissa on 1 so the series converges fast: m in [0.75,
    // 1.5]. Halving is one off the exponent bits, exact, and done without
    // a branch: for a uniform draw it goes either way half the time, and
    // a mispredicted branch cost more than the rest of this prologue.
    let high = u64::from(mantissa > 1.5);
    let mantissa = f64::from_bits(mantissa.to_bits() - (high << 52));
    exponent += high as i64;
    let s = (mantissa - 1.0) / (mantissa + 1.0);
    2.0 * atanh_series(s) + exponent as f64 * std::f64::consts::LN_2
}

/// How many terms of the series are summed. Every term has the sign of
/// `s` and is smaller than the one before, and |sum| ≥ |s|; for |s| ≤ 0.2
/// the twelfth, s²³/23, is under 2⁻⁵⁵|s|, less than half a unit in the
/// last place of the sum, so it and every later term leave the sum
/// unchanged (rounding to nearest is monotonic). Twelve terms are thus the
/// same bits as twenty, or as stopping at the first term that changes
/// nothing.
const SERIES_TERMS: usize = 12;

/// The odd denominators of the series.
const ODD: [f64; SERIES_TERMS] = {
    let mut odd = [0.0; SERIES_TERMS];
    let mut i = 0;
    while i < SERIES_TERMS {
        odd[i] = (2 * i + 1) as f64;
        i += 1;
    }
    odd
};

/// `s + s³/3 + s⁵/5 + ...` for |s| ≤ 0.2: the first `SERIES_TERMS`
/// terms, summed in order. The powers come first, then every division
/// at once, then the sum: with no branch between them the compiler
/// divides two terms per instruction, and the divisions are most of what
/// this costs. (Dividing, adding and testing each term in turn, to stop
/// at the first that changed nothing, did fewer divisions but one at a
/// time, and the test's exit was a branch mispredicted on nearly every
/// call.)
#[inline]
fn atanh_series(s: f64) -> f64 {
    let s2 = s * s;
    let mut powers = [0.0; SERIES_TERMS];
    let mut power = s;
    for p in &mut powers {
        *p = power;
        power *= s2;
    }
    let mut terms = [0.0; SERIES_TERMS];
    for ((term, power), odd) in terms.iter_mut().zip(powers).zip(ODD) {
        *term = power / odd;
    }
    terms.into_iter().fold(0.0, |sum, term| sum + term)
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

    /// The series as it was summed before twelve terms: the first 20, in
    /// full or (`stop_early`) up to the first that left the sum unchanged.
    fn atanh_series_of_twenty(s: f64, stop_early: bool) -> f64 {
        let s2 = s * s;
        let mut term = s;
        let mut sum = 0.0;
        let mut k = 1.0;
        while k < 40.0 {
            let next = sum + term / k;
            if stop_early && next == sum {
                break;
            }
            sum = next;
            term *= s2;
            k += 2.0;
        }
        sum
    }

    #[test]
    fn twelve_terms_are_the_same_bits_as_twenty_or_stopping_early() {
        let mut rng = crate::rng::SimRng::new(3, crate::rng::Stream::User(0));
        // 0.2 and -1/7 bound what `ln` passes, (m - 1) / (m + 1) for m in
        // [0.75, 1.5]; the series converges slowest there.
        let below_fifth = f64::from_bits(0.2f64.to_bits() - 1);
        let edges = [
            0.0,
            -0.0,
            0.2,
            -0.2,
            below_fifth,
            -below_fifth,
            1e-300,
            -1e-300,
            0.142_857,
            -0.142_857,
        ];
        let drawn = (0..400_000).map(|_| {
            // Uniform in [-0.2, 0.2], and small values at every scale.
            let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            let scale = 2f64.powi(-(rng.below(60) as i32));
            (u * 0.4 - 0.2) * scale
        });
        for s in edges.into_iter().chain(drawn) {
            let ours = atanh_series(s).to_bits();
            for stop_early in [false, true] {
                let before = atanh_series_of_twenty(s, stop_early).to_bits();
                assert_eq!(ours, before, "s = {s:e}, stop_early = {stop_early}");
            }
        }
    }

    #[test]
    fn ln_agrees_with_std() {
        for &x in &[
            1e-300, 1e-9, 0.001, 0.3, 0.5, 0.75, 1.0, 1.4, 1.6, 2.0, 10.0, 1e12,
        ] {
            let ours = ln(x);
            let std = x.ln();
            assert!(
                (ours - std).abs() <= 1e-12 * std.abs().max(1.0),
                "ln({x}): {ours} vs {std}"
            );
        }
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
