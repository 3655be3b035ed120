//! The distribution of one metric across seeds, as a histogram whose bars
//! split into passing seeds (bottom) and failing seeds (top), so a reader
//! sees at a glance whether failures sit in one tail.

use plotters::prelude::*;

use crate::numbers;
use crate::palette;
use crate::plot::{self, DrawResult, colour};

/// Most bars a histogram gets; integer metrics with fewer distinct values
/// get one bar per value.
const MAX_BINS: usize = 30;

/// One seed's value of the metric and whether the seed passed.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub value: f64,
    pub passed: bool,
}

/// Bars: `(low, high, passing seeds, failing seeds)`.
type Bins = Vec<(f64, f64, u64, u64)>;

/// Draws the histogram of `samples` (finite values only) as an
/// `<svg id="{id}">`.
pub fn metric_histogram(id: &str, metric: &str, samples: &[Sample]) -> String {
    let finite: Vec<Sample> = samples
        .iter()
        .copied()
        .filter(|s| s.value.is_finite())
        .collect();
    let bins = bin(&finite);
    let label = format!("histogram of {metric} across seeds");
    plot::render(id, &label, (590, 250), |area| draw(area, metric, &bins))
}

fn bin(samples: &[Sample]) -> Bins {
    let Some(low) = samples.iter().map(|s| s.value).reduce(f64::min) else {
        return Vec::new();
    };
    let high = samples.iter().map(|s| s.value).fold(low, f64::max);
    let integers = samples.iter().all(|s| s.value.fract() == 0.0);
    let (start, width, count) = if integers && high - low < MAX_BINS as f64 {
        (low - 0.5, 1.0, (high - low) as usize + 1)
    } else if high == low {
        (low - 0.5, 1.0, 1)
    } else {
        (low, (high - low) / MAX_BINS as f64, MAX_BINS)
    };
    let mut bins: Bins = (0..count)
        .map(|i| {
            (
                start + width * i as f64,
                start + width * (i + 1) as f64,
                0,
                0,
            )
        })
        .collect();
    for sample in samples {
        let index = (((sample.value - start) / width) as usize).min(count - 1);
        if sample.passed {
            bins[index].2 += 1;
        } else {
            bins[index].3 += 1;
        }
    }
    bins
}

fn draw(area: &plot::Area<'_>, metric: &str, bins: &Bins) -> DrawResult {
    let (low, high) = match (bins.first(), bins.last()) {
        (Some(first), Some(last)) => (first.0, last.1),
        _ => (0.0, 1.0),
    };
    let tallest = bins.iter().map(|b| b.2 + b.3).max().unwrap_or(1).max(1);
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .caption(metric, plot::title_font())
        .x_label_area_size(34)
        .y_label_area_size(48)
        .build_cartesian_2d(low..high, 0f64..tallest as f64 * 1.1)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(plot::grid_style())
        .x_labels(8)
        .x_label_formatter(&|v| numbers::number(*v))
        .y_label_formatter(&|v| numbers::number(*v))
        .y_desc("seeds")
        .label_style(plot::label_font())
        .draw()?;
    let passing = colour(palette::PASS).mix(0.85).filled();
    let failing = colour(palette::failure_kind(0)).mix(0.85).filled();
    let gap = (high - low) / bins.len().max(1) as f64 * 0.06;
    chart
        .draw_series(
            bins.iter()
                .filter(|b| b.2 > 0)
                .map(|b| Rectangle::new([(b.0 + gap, 0.0), (b.1 - gap, b.2 as f64)], passing)),
        )?
        .label("passing seeds")
        .legend(move |(x, y)| Rectangle::new([(x - 5, y - 5), (x + 5, y + 5)], passing));
    chart
        .draw_series(bins.iter().filter(|b| b.3 > 0).map(|b| {
            Rectangle::new(
                [(b.0 + gap, b.2 as f64), (b.1 - gap, (b.2 + b.3) as f64)],
                failing,
            )
        }))?
        .label("failing seeds")
        .legend(move |(x, y)| Rectangle::new([(x - 5, y - 5), (x + 5, y + 5)], failing));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(0xd9, 0xde, 0xe7))
        .label_font(plot::label_font())
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(values: &[f64]) -> Vec<Sample> {
        values
            .iter()
            .map(|&value| Sample {
                value,
                passed: value < 3.0,
            })
            .collect()
    }

    #[test]
    fn small_integer_metrics_get_one_bar_per_value() {
        let bins = bin(&samples(&[1.0, 2.0, 2.0, 4.0]));
        let counts: Vec<_> = bins.iter().map(|b| (b.2, b.3)).collect();
        assert_eq!(counts, vec![(1, 0), (2, 0), (0, 0), (0, 1)]);
    }

    #[test]
    fn continuous_metrics_get_equal_bins_and_keep_the_maximum() {
        let bins = bin(&samples(&[0.0, 0.5, 1.0]));
        assert_eq!(bins.len(), MAX_BINS);
        assert_eq!(bins.last().unwrap().2 + bins.last().unwrap().3, 1);
    }
}
