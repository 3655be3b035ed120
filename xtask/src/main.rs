//! `cargo xtask <task>`: the project's automation, one module per task.
//!
//! - `ci`: exactly what CI runs (format, lints, tests, the scenario library,
//!   then `k8s` and `slurm`).
//! - `bench`: the benchmarks whose figures the README quotes; `bench
//!   --instructions` the engine's instruction count under callgrind;
//!   `bench --compare OLD NEW` two dsim binaries' rates, side by side.
//! - `k8s`: the Kubernetes Job example validated against the schema.
//! - `slurm`: the Slurm array example run on a real one-node Slurm.
//! - `gallery`: the example reports' screenshots, from shipped scenarios.

mod bench;
mod ci;
mod command;
mod gallery;
mod k8s;
mod slurm;

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(),
        Some("bench") => bench::run(&args[1..]),
        Some("k8s") => k8s::run(),
        Some("slurm") => slurm::run(),
        Some("gallery") => gallery::run(),
        _ => {
            eprintln!("usage: cargo xtask <ci | bench | k8s | slurm | gallery>");
            eprintln!(
                "  ci       format check, clippy -D warnings, all tests, the scenario library, k8s, slurm"
            );
            eprintln!("  bench    the engine and checker benchmarks (release build)");
            eprintln!(
                "           --instructions: the engine and a bare heap loop under callgrind (valgrind)"
            );
            eprintln!(
                "           --compare OLD NEW [FILE [SEEDS]]: two dsim binaries at once, one per core"
            );
            eprintln!("  k8s      validate the Kubernetes Job example against the schema (pip)");
            eprintln!(
                "  slurm    run the Slurm array example on a real one-node Slurm (root; apt)"
            );
            eprintln!(
                "  gallery  reports of shipped scenarios, screenshotted into reports/examples/ (chromium)"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `cargo` with `args` from the workspace root, echoing the command.
pub(crate) fn cargo(args: &[&str]) -> Result<(), String> {
    let root = workspace_root();
    eprintln!("$ cargo {}", args.join(" "));
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

/// Builds the release `dsim` (what a user runs) and returns its path.
pub(crate) fn build_dsim() -> Result<std::path::PathBuf, String> {
    cargo(&[
        "build",
        "--release",
        "--locked",
        "-p",
        "scenarios",
        "--bin",
        "dsim",
    ])?;
    Ok(workspace_root().join("target/release/dsim"))
}

pub(crate) fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}
