//! How numbers and times are written in reports. Every float goes through
//! a fixed-precision format here, so the same input always gives the same
//! bytes, and a reader sees the same precision everywhere.

/// A metric value: integers without decimals, other values with a
/// precision that suits their size, trailing zeros trimmed.
pub fn number(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "∞" } else { "-∞" }.to_owned();
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{value:.0}");
    }
    let magnitude = value.abs();
    let text = if magnitude >= 1000.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.3}")
    } else {
        format!("{value:.4}")
    };
    trim_zeros(&text)
}

/// A true time in seconds with microsecond precision: `12.345678 s`.
pub fn time(ns: u64) -> String {
    format!(
        "{}.{:06} s",
        ns / 1_000_000_000,
        (ns % 1_000_000_000) / 1_000
    )
}

/// A duration in milliseconds with microsecond precision, zeros trimmed:
/// `12.5 ms`.
pub fn millis(ns: u64) -> String {
    let text = format!("{}.{:03}", ns / 1_000_000, (ns % 1_000_000) / 1_000);
    format!("{} ms", trim_zeros(&text))
}

/// A duration in the unit that reads best: `250 ms`, `10 s`, `1.5 s`.
pub fn duration(ns: u64) -> String {
    if ns < 1_000_000_000 {
        return millis(ns);
    }
    let text = format!(
        "{}.{:03}",
        ns / 1_000_000_000,
        (ns % 1_000_000_000) / 1_000_000
    );
    format!("{} s", trim_zeros(&text))
}

/// `part` of `whole` as a percentage with one decimal: `12.5%`.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "–".to_owned();
    }
    // Integer arithmetic, rounded half up, so the text never depends on
    // how a float rounds.
    let tenths = (part * 1000 + whole / 2) / whole;
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// An axis label for `seconds`, with as many decimals as `step` needs.
pub fn axis_seconds(seconds: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else if step >= 0.1 {
        1
    } else if step >= 0.01 {
        2
    } else {
        3
    };
    format!("{seconds:.decimals$}")
}

/// A "nice" step (1, 2 or 5 times a power of ten) that cuts `span` into
/// at most about `target` pieces.
pub fn nice_step(span: f64, target: usize) -> f64 {
    if span <= 0.0 || !span.is_finite() {
        return 1.0;
    }
    let rough = span / target.max(1) as f64;
    let power = 10f64.powi(rough.log10().floor() as i32);
    for factor in [1.0, 2.0, 5.0, 10.0] {
        if factor * power >= rough {
            return factor * power;
        }
    }
    10.0 * power
}

fn trim_zeros(text: &str) -> String {
    if !text.contains('.') {
        return text.to_owned();
    }
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.125), "0.125");
        assert_eq!(number(12.3456789), "12.346");
        assert_eq!(number(12345.678), "12345.7");
        assert_eq!(number(f64::NAN), "NaN");
    }

    #[test]
    fn times_and_percentages() {
        assert_eq!(time(1_250_000_000), "1.250000 s");
        assert_eq!(millis(12_500_000), "12.5 ms");
        assert_eq!(millis(3_000_000), "3 ms");
        assert_eq!(duration(10_000_000_000), "10 s");
        assert_eq!(duration(1_500_000_000), "1.5 s");
        assert_eq!(duration(200_000_000), "200 ms");
        assert_eq!(percent(1, 8), "12.5%");
        assert_eq!(percent(0, 0), "–");
    }

    #[test]
    fn nice_steps_are_one_two_or_five() {
        assert_eq!(nice_step(10.0, 10), 1.0);
        assert_eq!(nice_step(17.0, 10), 2.0);
        assert_eq!(nice_step(0.4, 10), 0.05);
    }
}
