//! `cargo xtask bench`: the benchmarks, built with the `bench` profile
//! (release, one codegen unit, thin LTO). Each prints a last line of
//! `name key=value ...` so scripts can track the figures.

use crate::cargo;

pub fn run() -> Result<(), String> {
    cargo(&[
        "run",
        "--quiet",
        "--locked",
        "--profile",
        "bench",
        "-p",
        "sim-core",
        "--example",
        "quorum_bench",
    ])?;
    Ok(())
}
