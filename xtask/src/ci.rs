//! `cargo xtask ci`: what CI runs, in the order that fails fastest.

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
    eprintln!("xtask ci: all green");
    Ok(())
}
