//! The report inputs the tests render, built by running the counter
//! design: a run that violates `bounded_staleness`, one that passes, one
//! that is not live, one with a design's own plots, a long run, a sweep
//! over seeds and a grid.

use reports::{
    GridCell, GridReportInput, RunReportInput, SweepReportInput, grid_report, run_report,
    sweep_report,
};
use sim_core::metrics::Series;
use sim_core::record::{PlotSpec, RunRecord, SeedLine, replay_command};

use super::harness::{
    SCENARIO_NAME, SCENARIO_PATH, SCENARIO_SOURCE, Setup, first_run_labelled, sweep,
};

/// What the counter scenario expects of a failing seed.
pub const EXPECTED: &str = "bounded_staleness";

/// The first seed that violates `bounded_staleness`.
pub fn violating_run() -> RunRecord {
    first_run_labelled(&Setup::default(), "bounded_staleness")
}

pub fn passing_run() -> RunRecord {
    first_run_labelled(&Setup::default(), "pass")
}

pub fn not_live_run() -> RunRecord {
    first_run_labelled(&Setup::default(), "liveness")
}

/// A run of at least 100,000 engine events: long, with a staleness bound
/// too loose to trip, so it runs to the end.
pub fn long_run() -> RunRecord {
    let setup = Setup {
        duration_ms: 400_000,
        staleness_bound_ms: 1_000_000,
        recovery_bug: false,
        ..Setup::default()
    };
    super::harness::run(&setup, 1)
}

/// The violating run with a design's own series and plots: two counters,
/// drawn together as running totals, and one of them per bucket.
pub fn run_with_design_plots() -> RunRecord {
    let mut record = violating_run();
    let bucket_ns = record.stats.end_time.as_nanos() / 20;
    let series = |name: &str, every: u64| Series {
        name: name.to_owned(),
        bucket_ns,
        counts: (0..20).map(|i| u64::from(i % every == 0)).collect(),
    };
    record.series = vec![series("acks", 1), series("losses", 4)];
    record.plots = vec![
        PlotSpec {
            title: "acks and losses".to_owned(),
            series: vec!["acks".to_owned(), "losses".to_owned()],
            cumulative: true,
            y_label: None,
        },
        PlotSpec {
            title: "acks per bucket".to_owned(),
            series: vec!["acks".to_owned()],
            cumulative: false,
            y_label: None,
        },
    ];
    record
}

pub fn render_run(record: &RunRecord) -> String {
    let replay = replay_command(SCENARIO_PATH, record.seed);
    run_report(&RunReportInput {
        scenario_name: SCENARIO_NAME,
        scenario_path: SCENARIO_PATH,
        scenario_source: SCENARIO_SOURCE,
        expected: EXPECTED,
        replay_command: &replay,
        record,
    })
}

/// Seeds `0..count` of five-second runs.
pub fn sweep_lines(count: u64) -> Vec<SeedLine> {
    let setup = Setup {
        duration_ms: 5_000,
        ..Setup::default()
    };
    sweep(&setup, 0..count)
}

pub fn render_sweep(lines: &[SeedLine]) -> String {
    sweep_report(&SweepReportInput {
        scenario_name: SCENARIO_NAME,
        scenario_path: SCENARIO_PATH,
        expected: EXPECTED,
        lines,
    })
}

/// The grid's axes: gossip period across, servers down, clients as small
/// multiples. Gossip slower than the staleness bound fails every seed.
pub fn grid_axes() -> Vec<(String, Vec<i64>)> {
    vec![
        ("gossip_ms".to_owned(), vec![25, 100, 400, 800]),
        ("servers".to_owned(), vec![2, 3, 5]),
        ("clients".to_owned(), vec![2, 4]),
    ]
}

/// Every cell of `grid_axes`, `seeds` seeds each, as `dsim sweep --grid`
/// would run them.
pub fn grid_cells(seeds: u64) -> Vec<GridCell> {
    let axes = grid_axes();
    let mut cells = Vec::new();
    for &gossip_ms in &axes[0].1 {
        for &servers in &axes[1].1 {
            for &clients in &axes[2].1 {
                let setup = Setup {
                    gossip_ms: gossip_ms as u64,
                    servers: servers as usize,
                    clients: clients as usize,
                    duration_ms: 4_000,
                    ..Setup::default()
                };
                cells.push(GridCell {
                    params: vec![
                        ("gossip_ms".to_owned(), gossip_ms),
                        ("servers".to_owned(), servers),
                        ("clients".to_owned(), clients),
                    ],
                    lines: sweep(&setup, 0..seeds),
                });
            }
        }
    }
    cells
}

pub fn render_grid(cells: &[GridCell]) -> String {
    grid_report(&GridReportInput {
        scenario_name: SCENARIO_NAME,
        scenario_path: SCENARIO_PATH,
        axes: &grid_axes(),
        cells,
        headline: &["read_miss_fraction".to_owned()],
    })
}
