//! `dsim check DIR [--bless]`: every scenario under DIR against its
//! expected outcome, every seed run twice with the digests compared, and
//! the first seeds' digests against the folder's golden digests
//! (`golden.rs`). This is what CI runs on `scenarios/`, and what `cargo run
//! --release` runs by default.
//!
//! A `Pass` scenario runs all its seeds. A broken one runs seeds in order
//! (in parallel chunks, judged in seed order) until the first that does not
//! pass, which must be its named failure: the check fails if the checkers
//! stop catching the bug. When two runs of one seed differ, the check
//! replays the seed twice more, recorded, and names the first trace event
//! where they part.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sim_core::record::RunRecord;

use crate::Exit;
use crate::commands::replay::readable;
use crate::commands::{Failure, Outcome, load_scenario, write_text};
use crate::golden::{self, GOLDEN_SEEDS, Golden};
use crate::load::Prepared;
use crate::runner::{accepts, run_seed};
use crate::stopwatch::Stopwatch;

/// Check every scenario under DIR against its expected outcome (each seed run twice) and its golden digests; or replay a hunt corpus.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// A folder of scenarios (default: the built-in library), or a hunt's
    /// corpus (`.jsonl`) to replay.
    pub dir: Option<PathBuf>,
    /// Worker threads (default: every core).
    #[arg(long, default_value_t = 0)]
    pub jobs: usize,
    /// Pin the digests seen as each folder's golden digests (after an intended change of runs).
    #[arg(long)]
    pub bless: bool,
}

/// How one scenario fared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioCheck {
    pub path: String,
    pub ok: bool,
    pub summary: String,
    /// The digests of its first `GOLDEN_SEEDS` seeds.
    pub digests: Vec<(u64, String)>,
}

/// Checks every scenario under `dir`; `bless` pins the digests seen as the
/// new golden ones instead of comparing.
pub fn check(dir: &Path, jobs: usize, bless: bool, out: &mut dyn Write) -> Outcome {
    let files = scenario_files(dir);
    if files.is_empty() {
        return Err(Failure::input(format!(
            "no scenario files (*.ron) under {}",
            dir.display()
        )));
    }
    // Each folder's golden file, read once.
    let mut goldens: BTreeMap<PathBuf, Option<Golden>> = BTreeMap::new();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .expect("a thread pool");
    let mut exit = Exit::Expected;
    let (mut passed, mut failed) = (0, 0);
    let started = Stopwatch::start();
    for file in &files {
        let prepared = match load_scenario(file) {
            Ok(p) => p,
            Err(failure) => {
                // Report it and go on: one bad file must not hide the rest.
                if let Failure::Scenario(d) = &failure {
                    eprintln!("{}", d.render());
                } else {
                    eprintln!("error: {failure}");
                }
                exit = exit.worst(Exit::BadInput);
                failed += 1;
                continue;
            }
        };
        let one = Stopwatch::start();
        let mut result = pool.install(|| check_scenario(&prepared));
        let golden_path = golden::path_for(file);
        if !goldens.contains_key(&golden_path) {
            let golden = match golden::read(&golden_path) {
                Ok(golden) => golden,
                // Blessing rewrites the file: an unreadable one (pinned by
                // an older dsim, say) is replaced, not a reason to stop.
                Err(e) if bless => {
                    writeln!(out, "note: {e}; blessing replaces it")?;
                    Some(Golden::default())
                }
                Err(e) => return Err(Failure::Input(e)),
            };
            goldens.insert(golden_path.clone(), golden);
        }
        let golden = goldens.get_mut(&golden_path).expect("just read");
        let name = file_name(file);
        if bless {
            golden
                .get_or_insert_with(Golden::default)
                .pin(&name, &result.digests);
        } else if let Some(golden) = golden {
            let mismatches = golden.compare(&name, &result.digests);
            if !mismatches.is_empty() && result.ok {
                let more = match mismatches.len() {
                    1 => String::new(),
                    n => format!(" and {} more", n - 1),
                };
                result.ok = false;
                result.summary = format!(
                    "runs changed: {}{more} ({}); if intended, `dsim check {} --bless`",
                    mismatches[0],
                    golden_path.display(),
                    dir.display()
                );
            }
        }
        let mark = if result.ok { "ok  " } else { "FAIL" };
        writeln!(
            out,
            "{mark} {:<48} {}  ({:.1} s)",
            result.path,
            result.summary,
            one.seconds()
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
        started.seconds()
    )?;
    for (path, golden) in &goldens {
        match golden {
            Some(golden) if bless => {
                write_text(path, &golden.render())?;
                writeln!(
                    out,
                    "blessed {} ({} digests)",
                    path.display(),
                    golden.entries.len()
                )?;
            }
            None => writeln!(
                out,
                "note: no {} in {}: outcomes checked, digests not pinned (`--bless` pins them)",
                golden::FILE_NAME,
                path.parent().unwrap_or(path).display()
            )?,
            Some(_) => {}
        }
    }
    Ok(exit)
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Checks one scenario (on the current rayon pool).
pub fn check_scenario(prepared: &Prepared) -> ScenarioCheck {
    let expect = &prepared.scenario.expect;
    let seeds: Vec<u64> = prepared.scenario.seeds.seeds().collect();
    let path = prepared.path.clone();
    let chunk = (rayon::current_num_threads() * 4).max(8);
    let mut digests = Vec::new();
    // Seeds that reached each required label.
    let mut reached: BTreeMap<&str, u64> = prepared
        .scenario
        .reach
        .iter()
        .map(|l| (l.as_str(), 0))
        .collect();
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
            if digests.len() < GOLDEN_SEEDS {
                digests.push((seed, record.digest.clone()));
            }
            if record.digest != *again {
                let summary = format!(
                    "NON-DETERMINISTIC at seed {seed}: digests {} vs {}; {}",
                    &record.digest[..16],
                    &again[..16],
                    explain_divergence(prepared, seed)
                );
                return ScenarioCheck {
                    path,
                    ok: false,
                    summary,
                    digests,
                };
            }
            for (label, seeds) in reached.iter_mut() {
                *seeds += u64::from(record.reached.contains_key(*label));
            }
            if record.verdict.is_pass() {
                continue;
            }
            let label = record.verdict.label();
            let tried = chunk_index * chunk + i + 1;
            let replay = prepared.replay_command(seed);
            let wanted = expect.label();
            return match expect.is_pass() {
                false if accepts(&wanted, label) => ScenarioCheck {
                    path,
                    ok: true,
                    summary: format!("caught `{label}` at seed {seed} ({tried} seeds)"),
                    digests: first_digests(digests, &runs),
                },
                false => ScenarioCheck {
                    path,
                    ok: false,
                    summary: format!(
                        "expected `{wanted}`, seed {seed} failed with `{label}` instead: {replay}"
                    ),
                    digests: first_digests(digests, &runs),
                },
                true => ScenarioCheck {
                    path,
                    ok: false,
                    summary: format!(
                        "expected every seed to pass; seed {seed} failed with `{label}`: {replay}"
                    ),
                    digests: first_digests(digests, &runs),
                },
            };
        }
    }
    let never: Vec<&str> = reached
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(l, _)| *l)
        .collect();
    if expect.is_pass() && !never.is_empty() {
        ScenarioCheck {
            path,
            ok: false,
            summary: format!(
                "every seed passed, but none reached `{}`: a pass that never got there proves little",
                never.join("`, `")
            ),
            digests,
        }
    } else if expect.is_pass() {
        let reach = if reached.is_empty() {
            String::new()
        } else {
            let counts: Vec<String> = reached.iter().map(|(l, n)| format!("{l} {n}")).collect();
            format!("; seeds reaching {}", counts.join(", "))
        };
        ScenarioCheck {
            path,
            ok: true,
            summary: format!("pass on all {} seeds{reach}", seeds.len()),
            digests,
        }
    } else {
        ScenarioCheck {
            path,
            ok: false,
            summary: format!(
                "expected `{}`, but all {} seeds passed: the bug is no longer caught",
                expect.label(),
                seeds.len()
            ),
            digests,
        }
    }
}

/// The first `GOLDEN_SEEDS` digests: those gathered so far, then the rest
/// of the batch (a failing seed ends the check, but the batch ran whole).
fn first_digests(
    mut digests: Vec<(u64, String)>,
    batch: &[(RunRecord, String)],
) -> Vec<(u64, String)> {
    for (record, _) in batch {
        if digests.len() >= GOLDEN_SEEDS {
            break;
        }
        if digests.iter().all(|(seed, _)| *seed != record.seed) {
            digests.push((record.seed, record.digest.clone()));
        }
    }
    digests
}

/// Replays a seed whose two runs differed twice more, with their traces
/// recorded, and names the first event where they part.
fn explain_divergence(prepared: &Prepared, seed: u64) -> String {
    let first = run_seed(prepared, seed, true, false);
    let second = run_seed(prepared, seed, true, false);
    let (a, b) = (
        first.trace.as_deref().unwrap_or_default(),
        second.trace.as_deref().unwrap_or_default(),
    );
    match sim_core::trace::first_difference(a, b) {
        None => "two recorded replays agree: the difference comes and goes".to_owned(),
        Some(i) => {
            let show = |events: &[sim_core::trace::TraceEvent], record: &RunRecord| {
                events
                    .get(i)
                    .map_or("(the trace ends here)".to_owned(), |e| readable(e, record))
            };
            format!(
                "the runs part at trace event {i}:\n    first:  {}\n    second: {}",
                show(a, &first),
                show(b, &second)
            )
        }
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
