//! `dsim check DIR`: every scenario under DIR against its expected
//! outcome, every seed run twice with the digests compared. This is what
//! CI runs on `scenarios/`, and what `cargo run --release` runs by default.
//!
//! A `Pass` scenario runs all its seeds. A broken one runs seeds in order
//! (in parallel chunks, judged in seed order) until the first that does not
//! pass, which must be its named failure: the check fails if the checkers
//! stop catching the bug.

// Durations are measured on the wall clock, outside the runs.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use sim_core::record::RunRecord;

use crate::Exit;
use crate::commands::load_or_report;
use crate::load::Prepared;
use crate::runner::{replay_command, run_seed};

/// How one scenario fared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioCheck {
    pub path: String,
    pub ok: bool,
    pub summary: String,
}

pub fn check(dir: &Path, jobs: usize, out: &mut dyn Write) -> std::io::Result<Exit> {
    let files = scenario_files(dir);
    if files.is_empty() {
        eprintln!("error: no scenario files (*.ron) under {}", dir.display());
        return Ok(Exit::BadInput);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .expect("a thread pool");
    let mut exit = Exit::Expected;
    let (mut passed, mut failed) = (0, 0);
    let started = Instant::now();
    for file in &files {
        let prepared = match load_or_report(file) {
            Ok(p) => p,
            Err(e) => {
                exit = exit.worst(e);
                failed += 1;
                continue;
            }
        };
        let one = Instant::now();
        let result = pool.install(|| check_scenario(&prepared));
        let mark = if result.ok { "ok  " } else { "FAIL" };
        writeln!(
            out,
            "{mark} {:<48} {}  ({:.1} s)",
            result.path,
            result.summary,
            one.elapsed().as_secs_f64()
        )?;
        if result.ok {
            passed += 1;
        } else {
            failed += 1;
            exit = exit.worst(Exit::Unexpected);
        }
    }
    writeln!(
        out,
        "{} scenarios: {passed} as expected, {failed} not ({:.1} s)",
        files.len(),
        started.elapsed().as_secs_f64()
    )?;
    Ok(exit)
}

/// Checks one scenario (on the current rayon pool).
pub fn check_scenario(prepared: &Prepared) -> ScenarioCheck {
    let expect = &prepared.scenario.expect;
    let seeds: Vec<u64> = prepared.scenario.seeds.seeds().collect();
    let path = prepared.path.clone();
    let chunk = (rayon::current_num_threads() * 4).max(8);
    for (chunk_index, batch) in seeds.chunks(chunk).enumerate() {
        let runs: Vec<(RunRecord, String)> = batch
            .par_iter()
            .map(|&seed| {
                let first = run_seed(prepared, seed, false, false);
                let again = run_seed(prepared, seed, false, false).digest;
                (first, again)
            })
            .collect();
        for (i, (record, again)) in runs.iter().enumerate() {
            let seed = record.seed;
            if record.digest != *again {
                let summary = format!(
                    "NON-DETERMINISTIC at seed {seed}: digests {} vs {}",
                    &record.digest[..16],
                    &again[..16]
                );
                return ScenarioCheck {
                    path,
                    ok: false,
                    summary,
                };
            }
            if record.verdict.is_pass() {
                continue;
            }
            let label = record.verdict.label();
            let tried = chunk_index * chunk + i + 1;
            let replay = replay_command(&prepared.path, seed);
            return match expect.failure_label() {
                Some(wanted) if wanted == label => ScenarioCheck {
                    path,
                    ok: true,
                    summary: format!("caught `{label}` at seed {seed} ({tried} seeds)"),
                },
                Some(wanted) => ScenarioCheck {
                    path,
                    ok: false,
                    summary: format!(
                        "expected `{wanted}`, seed {seed} failed with `{label}` instead: {replay}"
                    ),
                },
                None => ScenarioCheck {
                    path,
                    ok: false,
                    summary: format!(
                        "expected every seed to pass; seed {seed} failed with `{label}`: {replay}"
                    ),
                },
            };
        }
    }
    match expect.failure_label() {
        None => ScenarioCheck {
            path,
            ok: true,
            summary: format!("pass on all {} seeds", seeds.len()),
        },
        Some(wanted) => ScenarioCheck {
            path,
            ok: false,
            summary: format!(
                "expected `{wanted}`, but all {} seeds passed: the bug is no longer caught",
                seeds.len()
            ),
        },
    }
}

/// Every `*.ron` under `dir`, sorted, skipping `src/`, `tests/`, `target/`
/// and hidden folders (the crate's code and its bad-input corpus).
pub fn scenario_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    collect(dir, &mut found);
    found.sort();
    found
}

fn collect(dir: &Path, found: &mut Vec<PathBuf>) {
    if dir.is_file() {
        found.push(dir.to_path_buf());
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !(name.starts_with('.') || ["src", "tests", "target"].contains(&name.as_str())) {
                collect(&path, found);
            }
        } else if name.ends_with(".ron") {
            found.push(path);
        }
    }
}
