//! `cargo xtask ci`: what CI runs, in the order that fails fastest:
//! format, lints, tests, then the scenario library (every scenario against
//! its expected outcome, every seed run twice with digests compared).

use crate::cargo;

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
    eprintln!("xtask ci: all green");
    Ok(())
}
