//! The scenario-loading benchmark behind `cargo xtask bench`: parse,
//! resolve and validate every scenario of the library many times, and
//! report the time per scenario.
//!
//! Last line: `parse-bench scenarios=<n> us_per_scenario=<n>`.

// Timing is the point of a benchmark.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::time::Instant;

use scenarios::commands::check::scenario_files;
use scenarios::load::prepare;

const ROUNDS: usize = 2_000;

fn main() {
    let library = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let files: Vec<(String, String)> = scenario_files(library)
        .into_iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).expect("readable"),
            )
        })
        .collect();
    let started = Instant::now();
    for _ in 0..ROUNDS {
        for (name, text) in &files {
            let prepared = prepare(name, text).expect("the library is valid");
            std::hint::black_box(&prepared);
        }
    }
    let per_us = started.elapsed().as_secs_f64() * 1e6 / (ROUNDS * files.len()) as f64;
    println!(
        "parse-bench scenarios={} us_per_scenario={per_us:.1}",
        files.len()
    );
}
