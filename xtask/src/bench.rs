//! `cargo xtask bench`: the benchmarks, built with the `bench` profile
//! (release, one codegen unit, thin LTO). Each prints a last line of
//! `name key=value ...` so scripts can track the figures.

use crate::cargo;

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
    // The linearizability checker through `dsim lincheck`: 10,000 operations.
    bench("scenarios", "lincheck_bench")?;
    Ok(())
}
