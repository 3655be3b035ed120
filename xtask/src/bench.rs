//! `cargo xtask bench`: the benchmarks, built with the `bench` profile
//! (release, one codegen unit, thin LTO). Each prints a last line of
//! `name key=value ...` so scripts can track the figures.

use std::process::Command;

use crate::{cargo, workspace_root};

/// The sweep benchmark's scenario and seeds.
const SWEEP_SCENARIO: &str = "scenarios/dedup/correct.ron";
const SWEEP_SEEDS: &str = "0..4000";

pub fn run() -> Result<(), String> {
    let bench = |package: &str, example: &str| {
        cargo(&[
            "run",
            "--quiet",
            "--locked",
            "--profile",
            "bench",
            "-p",
            package,
            "--example",
            example,
        ])
    };
    // The engine: 200,000 delivered messages of a quorum workload.
    bench("sim-core", "quorum_bench")?;
    // Scale: setup time and event rate at 10 and 10,000 nodes.
    bench("sim-core", "scale_bench")?;
    // The linearizability checker through `dsim lincheck`: 10,000 operations.
    bench("scenarios", "lincheck_bench")?;
    // ... and issue #8's 50-client history, whose key 0 makes the search
    // explode: time and peak memory under the limits.
    bench("scenarios", "lincheck_hard_bench")?;
    // Loading a scenario: parse, resolve names, validate.
    bench("scenarios", "parse_bench")?;
    sweep_scaling()
}

/// `dsim sweep` on one thread and on every core, as a user runs it.
fn sweep_scaling() -> Result<(), String> {
    cargo(&[
        "build",
        "--quiet",
        "--locked",
        "--profile",
        "bench",
        "-p",
        "scenarios",
        "--bin",
        "dsim",
    ])?;
    let dsim = workspace_root().join("target/release/dsim");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let seeds_per_s = |jobs: usize| -> Result<f64, String> {
        let output = Command::new(&dsim)
            .args([
                "sweep",
                SWEEP_SCENARIO,
                "--seeds",
                SWEEP_SEEDS,
                "--jobs",
                &jobs.to_string(),
            ])
            .current_dir(workspace_root())
            .output()
            .map_err(|e| format!("cannot run dsim: {e}"))?;
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        // "name: N seeds (shard 0/1) in S s on J threads (R seeds/s)"
        let first = text.lines().next().unwrap_or_default();
        println!("{first}");
        first
            .rsplit_once('(')
            .and_then(|(_, r)| r.split_whitespace().next())
            .and_then(|r| r.parse().ok())
            .ok_or_else(|| format!("unexpected sweep output: {text}"))
    };
    let one = seeds_per_s(1)?;
    let all = seeds_per_s(cores)?;
    println!(
        "sweep-bench scenario={SWEEP_SCENARIO} seeds={SWEEP_SEEDS} jobs1_seeds_per_s={one:.0} jobs{cores}_seeds_per_s={all:.0} speedup={:.2}",
        all / one
    );
    Ok(())
}
