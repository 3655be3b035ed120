//! The `dsim lincheck` benchmark of issue #8, behind `cargo xtask bench`:
//! 50 clients over 10 register keys, key 0's search exploding
//! (`sim-core/tests/lincheck_support/hard.rs`), checked through the command
//! itself with its default limits.
//!
//! Two lines, one per history, `lincheck-hard-bench history=<name>
//! clients=<n> keys=<n> memory_limit_mb=<n> verdict=<exit code> ms=<n>
//! peak_rss_kb=<n>`: `issue-8`, with a read on key 9 that no order
//! explains (exit 1, at once), then `hard-key`, the same history without
//! it (exit 3 once the memory limit is reached; its peak resident memory
//! against the limit shows how close the checker's count is). Before keys
//! took turns under a memory limit, the first ran out of memory.

// Timing the check is the point of a benchmark.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::path::Path;
use std::time::{Duration, Instant};

use scenarios::Exit;
use scenarios::commands::lincheck::{LinModel, LincheckArgs, lincheck};

// Each user of the generator takes only part of it.
#[allow(dead_code)]
#[path = "../../sim-core/tests/lincheck_support/hard.rs"]
mod hard;

/// `dsim lincheck`'s default.
const DEFAULT_MEMORY_LIMIT_MB: u64 = 1024;
/// Small enough to keep the benchmark short.
const HARD_KEY_MEMORY_LIMIT_MB: u64 = 256;

fn main() {
    let file = |name: &str| {
        let name = format!(
            "dsim-lincheck-hard-bench-{}-{name}.jsonl",
            std::process::id()
        );
        std::env::temp_dir().join(name)
    };
    let (issue_8, hard_key) = (file("issue-8"), file("hard-key"));
    for (path, easy_key) in [
        (&issue_8, hard::EasyKey::Refutable),
        (&hard_key, hard::EasyKey::Linearizable),
    ] {
        let history = hard::hard_key_history(1, easy_key);
        std::fs::write(path, hard::to_json_lines(&history)).expect("write the history");
    }
    bench("issue-8", &issue_8, DEFAULT_MEMORY_LIMIT_MB, 5);
    bench("hard-key", &hard_key, HARD_KEY_MEMORY_LIMIT_MB, 1);
    for path in [issue_8, hard_key] {
        let _ = std::fs::remove_file(path);
    }
}

/// Checks `path` `runs` times and prints the median wall time and the
/// peak resident memory of those runs.
fn bench(name: &str, path: &Path, memory_limit_mb: u64, runs: usize) {
    let args = LincheckArgs {
        file: path.to_path_buf(),
        model: LinModel::Register,
        initial: Some(hard::INITIAL.to_string()),
        time_limit: Duration::from_secs(60),
        memory_limit_mb,
    };
    reset_peak_rss();
    let mut walls = Vec::new();
    let (mut exit, mut report) = (Exit::Expected, Vec::new());
    for _ in 0..runs {
        report.clear();
        let started = Instant::now();
        exit = lincheck(&args, &mut report).expect("lincheck runs");
        walls.push(started.elapsed());
    }
    let report = String::from_utf8_lossy(&report);
    println!("{}", report.lines().next().unwrap_or_default());
    walls.sort();
    println!(
        "lincheck-hard-bench history={name} clients={} keys={} memory_limit_mb={memory_limit_mb} verdict={} ms={:.1} peak_rss_kb={}",
        hard::CLIENTS,
        hard::KEYS,
        exit.code(),
        walls[walls.len() / 2].as_secs_f64() * 1e3,
        peak_rss_kb()
    );
}

/// Resets the peak resident memory to the current one (Linux 4.0 and
/// later), so each history's figure is its own. Where that fails the
/// figures are cumulative, and the small history goes first.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
