//! What the CLI tests share: running `dsim` as a user would, from the
//! scenarios folder, and a scratch folder per test. Each test crate
//! compiles this module and uses what it needs of it.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// Runs `dsim args…` in `scenarios/`: (exit code, stdout, stderr).
pub fn dsim(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_dsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("dsim runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        output.status.code().unwrap(),
        text(&output.stdout),
        text(&output.stderr),
    )
}

/// An empty folder of its own for `test` (this process's, so test
/// binaries running at once never share one).
pub fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dsim-test-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
