//! Summaries of a metric across seeds (min, median, p90, max, mean), as
//! sweep tables and grid heatmaps show them. Values that are not finite
//! (a ratio with a zero denominator) are left out and counted apart.

use std::collections::BTreeSet;

use sim_core::metrics::nearest_rank;
use sim_core::record::SeedLine;

/// A metric's distribution over some seeds.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Distribution {
    /// Seeds with a finite value.
    pub count: usize,
    /// Seeds whose value was NaN or infinite.
    pub not_finite: usize,
    pub min: f64,
    pub median: f64,
    pub p90: f64,
    pub max: f64,
    pub mean: f64,
}

/// The distribution of `values`; `None` if none is finite.
pub fn distribution(values: impl IntoIterator<Item = f64>) -> Option<Distribution> {
    let mut finite = Vec::new();
    let mut not_finite = 0;
    for value in values {
        if value.is_finite() {
            finite.push(value);
        } else {
            not_finite += 1;
        }
    }
    if finite.is_empty() {
        return None;
    }
    finite.sort_by(f64::total_cmp);
    // The project's one quantile: the same median `dsim` prints for a grid.
    let at = |per_mille| nearest_rank(&finite, per_mille).unwrap_or(f64::NAN);
    // Summing in sorted order makes the mean independent of seed order.
    let mean = finite.iter().sum::<f64>() / finite.len() as f64;
    Some(Distribution {
        count: finite.len(),
        not_finite,
        min: finite[0],
        median: at(500),
        p90: at(900),
        max: finite[finite.len() - 1],
        mean,
    })
}

/// Every metric name any of `lines` reports, sorted.
pub fn metric_names<'a>(lines: impl IntoIterator<Item = &'a SeedLine>) -> Vec<String> {
    let names: BTreeSet<&String> = lines.into_iter().flat_map(|l| l.metrics.keys()).collect();
    names.into_iter().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_use_nearest_rank_and_skip_nan() {
        let d = distribution([3.0, f64::NAN, 1.0, 2.0, 10.0]).unwrap();
        assert_eq!((d.count, d.not_finite), (4, 1));
        assert_eq!((d.min, d.median, d.max, d.mean), (1.0, 2.0, 10.0, 4.0));
        assert_eq!(distribution([f64::NAN]), None);
    }
}
