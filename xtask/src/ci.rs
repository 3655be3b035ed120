//! `cargo xtask ci`: what CI runs, in the order that fails fastest:
//! format, lints, tests, the scenario library (every scenario against its
//! expected outcome, every seed run twice with digests compared), then the
//! fan-out examples on real tools: the Kubernetes Job against the schema,
//! and the Slurm array on a real Slurm (about two minutes).

use crate::{cargo, k8s, slurm};

pub fn run() -> Result<(), String> {
    cargo(&["fmt", "--all", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ])?;
    cargo(&["test", "--workspace", "--locked"])?;
    // Release: the library runs thousands of seeds.
    cargo(&[
        "run",
        "--release",
        "--locked",
        "-p",
        "scenarios",
        "--bin",
        "dsim",
        "--",
        "check",
        "scenarios",
    ])?;
    k8s::run()?;
    slurm::run()?;
    eprintln!("xtask ci: all green");
    Ok(())
}
