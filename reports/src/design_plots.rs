//! The design's own plots: each `PlotSpec` a design put in its record,
//! drawn from the record's series (a counter per bucket of true time, or
//! its running total), one line per series, over the same fault shading
//! as the latency plots. Only result data is read: series by name, never
//! a model's types, so a new design gets its plots without touching this
//! crate.

use plotters::prelude::*;
use sim_core::metrics::Series;
use sim_core::record::{PlotSpec, RunRecord};

use crate::backdrop::Backdrop;
use crate::html::{figure, paragraph};
use crate::numbers;
use crate::palette;
use crate::plot::{self, Area, DrawResult, Mark, colour};

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 300;
/// Room on the right of each chart for its legend.
const LEGEND_WIDTH: u32 = 190;

/// What one design plot draws from.
#[derive(Clone, Copy, Debug)]
pub struct DesignPlotInput<'a> {
    /// Names the `<svg>`: `design-plot-{number}`.
    pub number: usize,
    pub spec: &'a PlotSpec,
    /// Every series of the run; the plot picks its own by name.
    pub series: &'a [Series],
    pub end_ns: u64,
    pub backdrop: Backdrop<'a>,
}

/// One line of a plot: its series' name and points `(seconds, value)`.
struct Line<'a> {
    name: &'a str,
    points: Vec<(f64, f64)>,
}

/// The run report's section: every plot the design asked for, in its
/// order, each with a caption saying what is counted.
pub fn design_section(record: &RunRecord, backdrop: Backdrop<'_>) -> String {
    let mut out = paragraph(
        "What the design counted as it ran, in the plots it asked for; \
         faults shaded as in the latency plots.",
    );
    for (index, spec) in record.plots.iter().enumerate() {
        let input = DesignPlotInput {
            number: index + 1,
            spec,
            series: &record.series,
            end_ns: record.stats.end_time.as_nanos(),
            backdrop,
        };
        out.push_str(&figure(
            &design_plot(&input),
            &caption(spec, &record.series),
        ));
    }
    out
}

fn caption(spec: &PlotSpec, series: &[Series]) -> String {
    let names = spec.series.join(", ");
    let mut caption = match (spec.cumulative, bucket_ns(spec, series)) {
        _ if spec.y_label.is_some() => match bucket_ns(spec, series) {
            Some(bucket) => format!(
                "{names}: {}, per {} of true time.",
                spec.y_label.as_deref().unwrap_or_default(),
                numbers::duration(bucket)
            ),
            None => format!("{names} over true time."),
        },
        (true, _) => format!("Running totals of {names} over true time."),
        (false, Some(bucket)) => format!(
            "{names}, counted per {} of true time.",
            numbers::duration(bucket)
        ),
        (false, None) => format!("{names} over true time."),
    };
    let missing = missing_series(spec, series);
    if !missing.is_empty() {
        caption.push_str(&format!(
            " Never counted in this run, so drawn at zero: {}.",
            missing.join(", ")
        ));
    }
    caption
}

/// Draws the plot as an `<svg id="design-plot-N">`.
pub fn design_plot(input: &DesignPlotInput<'_>) -> String {
    let lines = lines(input);
    let id = format!("design-plot-{}", input.number);
    plot::render(&id, &input.spec.title, (WIDTH, HEIGHT), |area| {
        draw(area, input, &lines)
    })
}

/// The series a plot names that the record does not have: a counter no
/// node ever counted. They are drawn as zero, and the caption says so.
pub fn missing_series<'a>(spec: &'a PlotSpec, series: &[Series]) -> Vec<&'a str> {
    spec.series
        .iter()
        .filter(|name| !series.iter().any(|s| &s.name == *name))
        .map(String::as_str)
        .collect()
}

/// The width of the buckets the plot's series were counted in.
pub fn bucket_ns(spec: &PlotSpec, series: &[Series]) -> Option<u64> {
    spec.series
        .iter()
        .find_map(|name| series.iter().find(|s| &s.name == name))
        .map(|s| s.bucket_ns)
}

fn lines<'a>(input: &DesignPlotInput<'a>) -> Vec<Line<'a>> {
    input
        .spec
        .series
        .iter()
        .map(|name| {
            let series = input.series.iter().find(|s| &s.name == name);
            Line {
                name,
                points: points(series, input.end_ns, input.spec.cumulative),
            }
        })
        .collect()
}

/// A count per bucket sits at the bucket's middle; a running total at the
/// bucket's end, from zero at the start. Buckets after the run ended
/// (a run a violation stopped early) are left out.
fn points(series: Option<&Series>, end_ns: u64, cumulative: bool) -> Vec<(f64, f64)> {
    let end_s = end_ns as f64 / 1e9;
    let Some(series) = series else {
        return vec![(0.0, 0.0), (end_s, 0.0)];
    };
    let bucket = series.bucket_ns.max(1);
    let buckets = end_ns / bucket + 1;
    let mut total = 0;
    let mut points = if cumulative {
        vec![(0.0, 0.0)]
    } else {
        Vec::new()
    };
    for index in 0..buckets {
        let count = series.counts.get(index as usize).copied().unwrap_or(0);
        let (value, at_ns) = if cumulative {
            total += count;
            (total, (index + 1) * bucket)
        } else {
            (count, index * bucket + bucket / 2)
        };
        points.push(((at_ns as f64 / 1e9).min(end_s), value as f64));
    }
    points
}

fn draw(area: &Area<'_>, input: &DesignPlotInput<'_>, lines: &[Line<'_>]) -> DrawResult {
    let high = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .fold(1.0, f64::max)
        * 1.15;
    let end_s = (input.end_ns.max(1) as f64 / 1e9).max(0.001);
    let y_desc = match (&input.spec.y_label, input.spec.cumulative) {
        (Some(label), _) => label.clone(),
        (None, true) => "running total".to_owned(),
        (None, false) => match bucket_ns(input.spec, input.series) {
            Some(bucket) => format!("count per {}", numbers::duration(bucket)),
            None => "count".to_owned(),
        },
    };
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .margin_right(LEGEND_WIDTH)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .caption(&input.spec.title, plot::title_font())
        .build_cartesian_2d(0f64..end_s, 0f64..high)?;
    chart
        .configure_mesh()
        .light_line_style(plot::grid_style())
        .bold_line_style(plot::bold_grid_style())
        .y_max_light_lines(0)
        .x_desc("true time (s)")
        .x_label_formatter(&|v| numbers::number(*v))
        .y_desc(y_desc)
        .y_label_formatter(&|v| numbers::number(*v))
        .label_style(plot::label_font())
        .draw()?;
    input.backdrop.draw(&mut chart, (0.0, high))?;
    let mut legend: Vec<(&str, Mark)> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let hex = palette::SERIES[index % palette::SERIES.len()];
        let style = colour(hex).stroke_width(2);
        chart.draw_series(LineSeries::new(line.points.iter().copied(), style))?;
        legend.push((line.name, Mark::Line(colour(hex))));
    }
    legend.extend(input.backdrop.legend_entries());
    plot::side_legend(area, WIDTH, &legend)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(name: &str, counts: Vec<u64>) -> Series {
        Series {
            name: name.to_owned(),
            bucket_ns: 1_000_000_000,
            counts,
        }
    }

    #[test]
    fn running_totals_start_at_zero_and_counts_sit_mid_bucket() {
        let acks = series("acks", vec![2, 0, 3]);
        let totals = points(Some(&acks), 4_000_000_000, true);
        let values: Vec<f64> = totals.iter().map(|p| p.1).collect();
        assert_eq!(values, vec![0.0, 2.0, 2.0, 5.0, 5.0, 5.0]);
        assert_eq!(totals.last().unwrap().0, 4.0, "clamped to the run's end");
        let counts = points(Some(&acks), 2_500_000_000, false);
        assert_eq!(counts, vec![(0.5, 2.0), (1.5, 0.0), (2.5, 3.0)]);
    }

    #[test]
    fn a_series_nobody_counted_is_a_zero_line_and_named_as_missing() {
        let spec = PlotSpec {
            title: "t".to_owned(),
            series: vec!["acks".to_owned(), "lost".to_owned()],
            cumulative: false,
            y_label: None,
        };
        let have = [series("acks", vec![1])];
        assert_eq!(missing_series(&spec, &have), vec!["lost"]);
        assert_eq!(
            points(None, 2_000_000_000, false),
            vec![(0.0, 0.0), (2.0, 0.0)]
        );
        assert_eq!(bucket_ns(&spec, &have), Some(1_000_000_000));
    }

    #[test]
    fn a_plot_of_latencies_says_what_it_measures_not_that_it_counts() {
        let spec = PlotSpec {
            title: "delivery latency".to_owned(),
            series: vec!["delivery_ms_p99".to_owned()],
            cumulative: false,
            y_label: Some("p99 ms".to_owned()),
        };
        let have = [series("delivery_ms_p99", vec![12, 40])];
        let text = caption(&spec, &have);
        assert!(text.contains("delivery_ms_p99: p99 ms, per"), "{text}");
        assert!(!text.contains("counted"), "{text}");
        let counts = PlotSpec {
            y_label: None,
            ..spec
        };
        assert!(caption(&counts, &have).contains("counted per"));
    }
}
