//! reports: turns dsim's results into self-contained HTML pages. Each
//! report is one file: inline CSS, inline SVG, no scripts, no network, no
//! fonts or bitmaps, so it can be attached to a bug, archived by CI, or
//! opened years later.
//!
//! Three reports, one function each:
//! - [`run_report`]: one seed — verdict, replay command, checks, a fault
//!   timeline, latency and throughput plots, the design's own plots, and
//!   a space-time diagram of the messages around the violation with the
//!   causal chain of the operations it names lit;
//! - [`sweep_report`]: many seeds — pass rate, failing seeds by verdict
//!   with their replay commands, metric distributions;
//! - [`grid_report`]: a design-space sweep — one heatmap per metric over
//!   the swept parameters.
//!
//! The crate reads only sim-core's result types (`RunRecord`, `SeedLine`),
//! never a model's internals. Output bytes are a pure function of the
//! input: no timestamps, no hash-map order, fixed float formats.

mod backdrop;
mod causal_chain;
mod chain_text;
mod design_plots;
mod distribution;
mod fault_text;
mod fault_windows;
mod grid_report;
mod heatmap;
mod histogram;
mod html;
mod latency;
mod messages;
mod named_ops;
mod numbers;
mod palette;
mod plot;
mod run_report;
mod seed_strip;
mod spacetime;
mod spacetime_arrows;
mod spacetime_marks;
mod svg;
mod sweep_report;
mod timeline;
mod verdict;

use sim_core::record::{RunRecord, SeedLine};

/// Everything a run report shows.
#[derive(Clone, Copy, Debug)]
pub struct RunReportInput<'a> {
    pub scenario_name: &'a str,
    pub scenario_path: &'a str,
    /// The scenario file's text, shown collapsed ("the scenario as run").
    pub scenario_source: &'a str,
    /// The verdict label the scenario expects (`Verdict::label`): `pass`,
    /// or a failing seed's label (a check's name, or `liveness`), or
    /// several failure labels joined by `|` (`record::accepts`).
    pub expected: &'a str,
    /// The exact command that replays this run, as
    /// `record::replay_command` writes it everywhere:
    /// `dsim run scenarios/dedup/x.ron --seed 7`.
    pub replay_command: &'a str,
    /// The run, with `operations` filled for the latency plots and
    /// `trace: Some(..)` for the diagram (each says so when missing).
    pub record: &'a RunRecord,
}

/// Renders one run as an HTML page.
pub fn run_report(input: &RunReportInput<'_>) -> String {
    run_report::render(input)
}

/// Everything a sweep report shows.
#[derive(Clone, Copy, Debug)]
pub struct SweepReportInput<'a> {
    pub scenario_name: &'a str,
    /// Used in replay commands (`record::replay_command`:
    /// `dsim run <path> --seed N`).
    pub scenario_path: &'a str,
    /// The verdict label the scenario expects, as in [`RunReportInput`].
    pub expected: &'a str,
    /// One line per seed, in seed order.
    pub lines: &'a [SeedLine],
}

/// Renders a sweep over seeds as an HTML page.
pub fn sweep_report(input: &SweepReportInput<'_>) -> String {
    sweep_report::render(input)
}

/// One point of a design-space grid: parameter values and its seeds.
#[derive(Clone, PartialEq, Debug)]
pub struct GridCell {
    /// `(parameter, value)` for every axis of the grid.
    pub params: Vec<(String, i64)>,
    /// One line per seed run at this point, in seed order.
    pub lines: Vec<SeedLine>,
}

/// Everything a grid report shows.
#[derive(Clone, Copy, Debug)]
pub struct GridReportInput<'a> {
    pub scenario_name: &'a str,
    pub scenario_path: &'a str,
    /// The swept parameters and their values, in the order given on the
    /// command line. The first is drawn across, the second down; further
    /// axes become small multiples (one heatmap per combination).
    pub axes: &'a [(String, Vec<i64>)],
    pub cells: &'a [GridCell],
    /// The design's headline metrics: drawn first, in this order.
    pub headline: &'a [String],
}

/// Renders a design-space grid as an HTML page of heatmaps.
pub fn grid_report(input: &GridReportInput<'_>) -> String {
    grid_report::render(input)
}
