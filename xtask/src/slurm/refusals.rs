//! What `dsim merge` must refuse, made on the real Slurm after the main
//! run: a task cancelled mid-way (its shard has no trailer), then re-run
//! (the merge succeeds again); one shard run twice; and one shard of
//! another scenario, of an edited scenario file, of another dsim version and
//! of an older dsim. The last two are real shard files with their
//! trailer's version changed or removed, as this checkout builds one
//! version only. Each refusal must exit 2 and name the file.

// Polling a shard file as it grows is wall-clock time.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::path::Path;
use std::time::{Duration, Instant};

use super::{SHARDS, expect_completed, merge, same_bytes, states, submit, wait};
use crate::command::succeed;
use crate::slurm::{MERGE, SCENARIO};

use super::cluster::Cluster;

/// The task that is cancelled, re-run, run twice and replaced.
const TASK: usize = 5;
/// Tries at cancelling a running task before it finishes on its own.
const CANCEL_TRIES: u32 = 5;

/// Returns one line per refusal, with dsim's message.
pub fn check(cluster: &Cluster, work: &Path) -> Result<Vec<String>, String> {
    let mut refused = Vec::new();
    let shard = format!("results/shard-{TASK}.jsonl");
    cancel_mid_way(cluster, work, &shard)?;
    let message = expect_refused(work, MERGE, &shard, "no trailer line")?;
    refused.push(format!("a cancelled task's shard: {message}"));

    // Re-run the cancelled task alone, as the script's header says.
    let array = format!("--array={TASK}");
    let job = submit(cluster, work, &[&array], &[])?;
    expect_completed(work, &job, &wait(cluster, &job)?, 1)?;
    let (code, stderr, _) = merge(work, MERGE)?;
    if code != Some(0) {
        return Err(format!(
            "after re-running task {TASK}: `{MERGE}` failed: {stderr}"
        ));
    }
    same_bytes(
        &work.join("results/sweep.jsonl"),
        &work.join("reference.jsonl"),
    )?;

    // Three single tasks at once, each into its own folder.
    let edited = std::fs::read_to_string(work.join(SCENARIO)).map_err(|e| e.to_string())?;
    let edited = edited + "\n// Edited after the other shards ran.\n";
    std::fs::create_dir_all(work.join("edited")).map_err(|e| e.to_string())?;
    std::fs::write(work.join("edited/correct.ron"), edited).map_err(|e| e.to_string())?;
    let variants = [
        ("results-again", SCENARIO),
        ("results-other", "scenarios/dedup/correct-two-down.ron"),
        ("results-edited", "edited/correct.ron"),
    ];
    let mut jobs = Vec::new();
    for (results, scenario) in variants {
        jobs.push(submit(
            cluster,
            work,
            &[&array],
            &[("RESULTS", results), ("SCENARIO", scenario)],
        )?);
    }
    for job in &jobs {
        expect_completed(work, job, &wait(cluster, job)?, 1)?;
    }
    doctor_trailers(work)?;

    let others: Vec<String> = (0..SHARDS)
        .filter(|k| *k != TASK)
        .map(|k| format!("results/shard-{k}.jsonl"))
        .collect();
    let with = |folder: &str| {
        let others = others.join(" ");
        format!("target/release/dsim merge {others} {folder}/shard-{TASK}.jsonl")
    };
    let twice =
        format!("target/release/dsim merge results/shard-*.jsonl results-again/shard-{TASK}.jsonl");
    let cases = [
        ("a shard run twice", twice, "given twice"),
        (
            "a shard of another scenario",
            with("results-other"),
            "another sweep: scenario",
        ),
        (
            "a shard of an edited scenario file",
            with("results-edited"),
            "was edited",
        ),
        (
            "a shard of another dsim version",
            with("results-version"),
            "written by dsim 0.0.0",
        ),
        (
            "a shard of an older dsim",
            with("results-older"),
            "names no dsim version",
        ),
    ];
    for (what, line, expected) in cases {
        let file = line.rsplit(' ').next().unwrap_or_default().to_owned();
        let message = expect_refused(work, &line, &file, expected)?;
        refused.push(format!("{what}: {message}"));
    }
    Ok(refused)
}

/// Submits task `TASK` again and cancels it once its shard has some seed
/// lines and no trailer yet; retries if the task finished first.
fn cancel_mid_way(cluster: &Cluster, work: &Path, shard: &str) -> Result<(), String> {
    let path = work.join(shard);
    for attempt in 1..=CANCEL_TRIES {
        // The finished shard goes first: read while the task truncates
        // it, it could show a first part with lines and no trailer, and
        // the cancel would land before the task wrote anything.
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(format!("cannot remove {}: {e}", path.display()));
            }
            _ => {}
        }
        let job = submit(cluster, work, &[&format!("--array={TASK}")], &[])?;
        if caught_running(cluster, &job, &path)? {
            succeed(cluster.command("scancel").arg(&job))?;
        }
        let states = wait(cluster, &job)?;
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if states.values().all(|s| s == "CANCELLED") && !has_trailer(&text) {
            return Ok(());
        }
        eprintln!(
            "xtask slurm: task {TASK} finished before the cancel landed (try {attempt} of {CANCEL_TRIES})"
        );
    }
    Err(format!(
        "could not cancel task {TASK} mid-way in {CANCEL_TRIES} tries"
    ))
}

/// Polls the shard file until it holds seed lines but no trailer (true)
/// or the job has ended (false). The old, finished file was removed
/// before the task was submitted, so any line is the running task's.
fn caught_running(cluster: &Cluster, job: &str, path: &Path) -> Result<bool, String> {
    let started = Instant::now();
    for poll in 0u64.. {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains('\n') && !has_trailer(&text) {
            return Ok(true);
        }
        if poll % 50 == 49 && states(cluster, job)?.values().all(|s| super::is_final(s)) {
            return Ok(false);
        }
        if started.elapsed() > Duration::from_secs(20 * 60) {
            return Err(format!("task {job} never started"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    unreachable!("the loop returns")
}

fn has_trailer(text: &str) -> bool {
    text.lines()
        .last()
        .is_some_and(|l| l.starts_with("{\"trailer\""))
}

/// `results-version/` and `results-older/`: the real shard of
/// `results-again/` with its trailer claiming dsim 0.0.0, and with no
/// version at all (as dsim wrote trailers before they had one).
fn doctor_trailers(work: &Path) -> Result<(), String> {
    let source = work.join(format!("results-again/shard-{TASK}.jsonl"));
    let text = std::fs::read_to_string(&source)
        .map_err(|e| format!("cannot read {}: {e}", source.display()))?;
    let version = format!("\"dsim\":\"{}\",", env!("CARGO_PKG_VERSION"));
    if !text.contains(&version) {
        return Err(format!(
            "{} has no {version} in its trailer",
            source.display()
        ));
    }
    for (folder, replacement) in [
        ("results-version", "\"dsim\":\"0.0.0\","),
        ("results-older", ""),
    ] {
        let dir = work.join(folder);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let path = dir.join(format!("shard-{TASK}.jsonl"));
        std::fs::write(&path, text.replace(&version, replacement)).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Runs a merge that must be refused: exit 2, a message naming `file` and
/// containing `expected`. Returns the message.
fn expect_refused(work: &Path, line: &str, file: &str, expected: &str) -> Result<String, String> {
    let (code, stderr, _) = merge(work, line)?;
    let message = stderr.trim().to_owned();
    if code == Some(2) && message.contains(file) && message.contains(expected) {
        return Ok(message);
    }
    Err(format!(
        "`{line}` should have been refused (exit 2, naming {file}, saying `{expected}`); it exited {code:?}: {message}"
    ))
}
