//! The plots Jepsen and Maelstrom users know, from a run's operations:
//! every operation's latency against its invocation time, latency
//! quantiles over time buckets, and throughput over time. Times when any
//! fault was in force are shaded, so a reader sees what the faults did to
//! clients.

use std::collections::{BTreeMap, BTreeSet};

use plotters::prelude::*;
use sim_core::metrics::nearest_rank;
use sim_core::record::{OperationEnding as Ending, OperationRecord};

use crate::backdrop::{Backdrop, TimeChart};
use crate::numbers;
use crate::palette;
use crate::plot::{self, Area, DrawResult, Mark, colour};

/// Most scatter points drawn: points of one outcome that would land close
/// together are merged until this many remain, so a long run still gives
/// a small page.
pub const MAX_POINTS: usize = 8_000;
const WIDTH: u32 = 1200;
/// Room on the right of each chart for its legend.
const LEGEND_WIDTH: u32 = 190;
/// How many time buckets the quantile and throughput plots aim for.
const BUCKETS: usize = 60;

/// What the latency plots draw from.
#[derive(Clone, Copy, Debug)]
pub struct LatencyInput<'a> {
    pub operations: &'a [OperationRecord],
    pub backdrop: Backdrop<'a>,
    pub end_ns: u64,
    /// Operations (by `OpId`) a violation names: drawn with a ring.
    pub highlighted: &'a BTreeSet<u32>,
}

impl LatencyInput<'_> {
    fn end_seconds(&self) -> f64 {
        (self.end_ns.max(1) as f64 / 1e9).max(0.001)
    }
}

/// Latency (log scale) against invocation time, one point per operation,
/// coloured by outcome; `info` operations sit at their timeout.
pub fn latency_scatter(input: &LatencyInput<'_>) -> (String, usize, u64) {
    let (points, cell_pixels) = scatter_points(input);
    let drawn = points.len();
    let label = "latency of each operation against the time it was invoked";
    let svg = plot::render("latency-scatter", label, (WIDTH, 380), |area| {
        draw_scatter(area, input, &points)
    });
    (svg, drawn, cell_pixels)
}

/// p50, p95 and p99 latency of the operations invoked in each time bucket.
pub fn latency_quantiles(input: &LatencyInput<'_>) -> String {
    let label = "latency quantiles over time";
    plot::render("latency-quantiles", label, (WIDTH, 300), |area| {
        draw_quantiles(area, input)
    })
}

/// Operations completed per second, by outcome, in each time bucket.
pub fn throughput(input: &LatencyInput<'_>) -> String {
    let label = "throughput over time";
    plot::render("throughput", label, (WIDTH, 280), |area| {
        draw_throughput(area, input)
    })
}

/// The width of the time buckets, in nanoseconds (a nice number of ms).
pub fn bucket_ns(end_ns: u64) -> u64 {
    let step_s = numbers::nice_step(end_ns.max(1) as f64 / 1e9, BUCKETS);
    ((step_s * 1e9).round() as u64).max(1_000_000)
}

struct Point {
    seconds: f64,
    millis: f64,
    ending: Ending,
    highlighted: bool,
}

/// One point per operation, except that points of one outcome landing in
/// the same cell are drawn once (they look the same). Cells start at about
/// a pixel and double in size until at most `MAX_POINTS` remain, so a long
/// run is thinned evenly over its whole length. Highlighted operations are
/// always kept. Returns the points and the cell size in pixels.
fn scatter_points(input: &LatencyInput<'_>) -> (Vec<Point>, u64) {
    let span = input.end_ns.max(1);
    let mut cell_pixels = 1;
    loop {
        let mut seen: BTreeSet<(Ending, u64, i64)> = BTreeSet::new();
        let mut points = Vec::new();
        for op in input.operations {
            let Some(latency) = op.latency_ns() else {
                continue;
            };
            let millis = (latency as f64 / 1e6).max(0.001);
            let highlighted = input.highlighted.contains(&op.id.0);
            let x_cell = op.invoke_ns.min(span) * 1_000 / span / cell_pixels;
            let y_cell = (millis.log2() * 40.0 / cell_pixels as f64).floor() as i64;
            if seen.insert((op.ending, x_cell, y_cell)) || highlighted {
                points.push(Point {
                    seconds: op.invoke_ns as f64 / 1e9,
                    millis,
                    ending: op.ending,
                    highlighted,
                });
            }
        }
        if points.len() <= MAX_POINTS || cell_pixels >= 64 {
            return (points, cell_pixels);
        }
        cell_pixels *= 2;
    }
}

fn draw_scatter(area: &Area<'_>, input: &LatencyInput<'_>, points: &[Point]) -> DrawResult {
    let low = points
        .iter()
        .map(|p| p.millis)
        .fold(f64::INFINITY, f64::min);
    let high = points.iter().map(|p| p.millis).fold(0.0, f64::max);
    let (low, high) = if points.is_empty() {
        (0.1, 100.0)
    } else {
        (low * 0.7, high * 1.4)
    };
    let mut chart = latency_chart(area, input, (low, high), "invocation time (s)".to_owned())?;
    for ending in [Ending::Ok, Ending::Fail, Ending::Info] {
        let style = colour(ending_colour(ending)).mix(0.75).filled();
        let series = points
            .iter()
            .filter(move |p| p.ending == ending)
            .map(move |p| Circle::new((p.seconds, p.millis), 2, style));
        chart.draw_series(series)?;
    }
    let ring = BLACK.stroke_width(2);
    let rings = points
        .iter()
        .filter(|p| p.highlighted)
        .map(move |p| Circle::new((p.seconds, p.millis), 6, ring));
    chart.draw_series(rings)?;
    let mut legend: Vec<(&str, Mark)> = [Ending::Ok, Ending::Fail, Ending::Info]
        .map(|e| (e.label(), Mark::Dot(colour(ending_colour(e)))))
        .to_vec();
    if points.iter().any(|p| p.highlighted) {
        legend.push(("named by the verdict", Mark::Ring));
    }
    draw_legend(area, input, legend)
}

fn draw_quantiles(area: &Area<'_>, input: &LatencyInput<'_>) -> DrawResult {
    let bucket = bucket_ns(input.end_ns);
    let mut by_bucket: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for op in input.operations {
        if let Some(latency) = op.latency_ns() {
            by_bucket
                .entry(op.invoke_ns / bucket)
                .or_default()
                .push(latency);
        }
    }
    let mut lines: [Vec<(u64, f64)>; 3] = Default::default();
    for (index, latencies) in &mut by_bucket {
        latencies.sort_unstable();
        for (line, q) in lines.iter_mut().zip([500, 950, 990]) {
            let value = nearest_rank(latencies, q).unwrap_or(0);
            line.push((*index, (value as f64 / 1e6).max(0.001)));
        }
    }
    let all = lines.iter().flatten().map(|(_, v)| *v);
    let high = all.clone().fold(0.0, f64::max).max(0.01) * 1.4;
    let low = all.fold(f64::INFINITY, f64::min).min(high / 2.0) * 0.7;
    let x_desc = format!(
        "invocation time (s), buckets of {}",
        numbers::duration(bucket)
    );
    let mut chart = latency_chart(area, input, (low, high), x_desc)?;
    let names = ["p50", "p95", "p99"];
    let colours = ["#2f7ed8", "#8e44ad", "#c0392b"];
    for (line, hex) in lines.iter().zip(colours) {
        let style = colour(hex).stroke_width(2);
        for run in contiguous_runs(line) {
            let points = run.iter().map(|(i, v)| (bucket_middle(*i, bucket), *v));
            chart.draw_series(LineSeries::new(points, style))?;
        }
        let dots = line
            .iter()
            .map(|(i, v)| Circle::new((bucket_middle(*i, bucket), *v), 2, style.filled()));
        chart.draw_series(dots)?;
    }
    let legend = names
        .iter()
        .zip(colours)
        .map(|(n, hex)| (*n, Mark::Line(colour(hex))))
        .collect();
    draw_legend(area, input, legend)
}

fn draw_throughput(area: &Area<'_>, input: &LatencyInput<'_>) -> DrawResult {
    let bucket = bucket_ns(input.end_ns);
    let buckets = input.end_ns / bucket + 1;
    let mut counts: BTreeMap<Ending, Vec<u64>> = BTreeMap::new();
    for op in input.operations {
        if let Some(done) = op.complete_ns {
            let row = counts
                .entry(op.ending)
                .or_insert_with(|| vec![0; buckets as usize]);
            row[((done / bucket).min(buckets - 1)) as usize] += 1;
        }
    }
    let per_second = |count: u64| count as f64 * 1e9 / bucket as f64;
    let high = counts
        .values()
        .flatten()
        .map(|c| per_second(*c))
        .fold(1.0, f64::max)
        * 1.15;
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .margin_right(LEGEND_WIDTH)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..input.end_seconds(), 0f64..high)?;
    chart
        .configure_mesh()
        .light_line_style(plot::grid_style())
        .bold_line_style(plot::bold_grid_style())
        .y_max_light_lines(0)
        .x_label_formatter(&|v| numbers::number(*v))
        .x_desc(format!(
            "completion time (s), buckets of {}",
            numbers::duration(bucket)
        ))
        .y_desc("operations per second")
        .y_label_formatter(&|v| numbers::number(*v))
        .label_style(plot::label_font())
        .draw()?;
    input.backdrop.draw(&mut chart, (0.0, high))?;
    for (ending, row) in &counts {
        let style = colour(ending_colour(*ending)).stroke_width(2);
        let points = row
            .iter()
            .enumerate()
            .map(|(i, c)| (bucket_middle(i as u64, bucket), per_second(*c)));
        chart.draw_series(LineSeries::new(points, style))?;
    }
    let legend = counts
        .keys()
        .map(|e| (e.label(), Mark::Line(colour(ending_colour(*e)))))
        .collect();
    draw_legend(area, input, legend)
}

/// Time across, latency up on a log scale from `low` to `high` ms, with
/// the mesh and the fault backdrop drawn: what both latency plots share.
fn latency_chart<'a, 'b>(
    area: &'a Area<'b>,
    input: &LatencyInput<'_>,
    (low, high): (f64, f64),
    x_desc: String,
) -> Result<TimeChart<'a, 'b, LogCoord<f64>>, Box<dyn std::error::Error>> {
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .margin_right(LEGEND_WIDTH)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..input.end_seconds(), (low..high).log_scale())?;
    chart
        .configure_mesh()
        .light_line_style(plot::grid_style())
        .bold_line_style(plot::bold_grid_style())
        .y_max_light_lines(0)
        .x_desc(x_desc)
        .x_label_formatter(&|v| numbers::number(*v))
        .y_desc("latency (ms, log scale)")
        .y_label_formatter(&log_label)
        .label_style(plot::label_font())
        .draw()?;
    input.backdrop.draw(&mut chart, (low, high))?;
    Ok(chart)
}

/// The chart's own entries, then the backdrop's (only what was drawn).
fn draw_legend(
    area: &Area<'_>,
    input: &LatencyInput<'_>,
    mut entries: Vec<(&str, Mark)>,
) -> DrawResult {
    entries.extend(input.backdrop.legend_entries());
    plot::side_legend(area, WIDTH, &entries)
}

/// Log-axis labels only at 1, 2 and 5 times a power of ten; the axis has a
/// tick at every integer multiple, and labelling all of them crowds it.
fn log_label(value: &f64) -> String {
    let power = 10f64.powf(value.log10().floor());
    let mantissa = (value / power * 1000.0).round() / 1000.0;
    if [1.0, 2.0, 5.0].contains(&mantissa) {
        numbers::number(*value)
    } else {
        String::new()
    }
}

fn ending_colour(ending: Ending) -> &'static str {
    match ending {
        Ending::Ok => palette::OK,
        Ending::Fail => palette::FAIL,
        Ending::Info | Ending::Pending => palette::INFO,
    }
}

fn bucket_middle(index: u64, bucket: u64) -> f64 {
    (index * bucket + bucket / 2) as f64 / 1e9
}

/// Splits `(bucket, value)` points where buckets are not consecutive, so a
/// line does not bridge a time with no operations.
fn contiguous_runs(line: &[(u64, f64)]) -> Vec<&[(u64, f64)]> {
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..=line.len() {
        if i == line.len() || line[i].0 != line[i - 1].0 + 1 {
            runs.push(&line[start..i]);
            start = i;
        }
    }
    runs.retain(|run| !run.is_empty());
    runs
}
