//! The sweep-memory benchmark behind `cargo xtask bench`: `dsim sweep` of
//! `register/correct.ron` over 10,000 seeds, then over 100,000, in this
//! process, reading the peak resident memory after each. A sweep streams
//! its results (each batch written out, then counted into a tally), so
//! ten times the seeds must not take ten times the memory: the figure a
//! million-seed sweep depends on.
//!
//! Last line: `sweep-memory-bench seeds=10000,100000 peak_rss_kb=<a>,<b>`.

use std::path::PathBuf;

use scenarios::commands::sweep::{SweepArgs, sweep};
use scenarios::sweep::Shard;

#[path = "../../sim-core/examples/support/rss.rs"]
mod rss;

const SCENARIO: &str = "register/correct.ron";

fn main() {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(SCENARIO);
    let mut peaks = Vec::new();
    for seeds in [10_000u64, 100_000] {
        let args = SweepArgs {
            file: file.clone(),
            seeds: Some(0..seeds),
            jobs: 0,
            shard: Shard::WHOLE,
            out: None,
            report: None,
            grid: None,
        };
        let mut summary = Vec::new();
        sweep(&args, &mut summary).expect("the sweep runs");
        let first = String::from_utf8_lossy(&summary);
        println!("{}", first.lines().next().unwrap_or_default());
        let peak = rss::peak_rss_kb();
        println!("after {seeds} seeds: peak RSS {peak} kB");
        peaks.push(peak);
    }
    println!(
        "sweep-memory-bench scenario={SCENARIO} seeds=10000,100000 peak_rss_kb={},{}",
        peaks[0], peaks[1]
    );
}
