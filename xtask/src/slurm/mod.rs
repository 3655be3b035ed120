//! `cargo xtask slurm`: the shipped Slurm array script on a real Slurm.
//! It installs Slurm if missing (`install.rs`), starts a one-node cluster
//! on this machine (`cluster.rs`), submits
//! `scenarios/examples/slurm-array.sh` as the README tells a user to, from
//! a folder laid out like a checkout (so no result or log lands in this
//! one), waits, merges with the README's `dsim merge` line and compares the
//! result byte for byte with the unsharded sweep. Then `refusals.rs`
//! cancels a task mid-way and checks what `dsim merge` refuses and that the
//! re-run task merges. It stops the daemons it started and removes its
//! folder, `target/slurm/`, which it keeps (with the logs) on failure.

// Wall time is the figure being measured here, outside any simulation.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod cluster;
mod install;
mod refusals;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::command::{output, succeed};
use crate::workspace_root;
use cluster::Cluster;

/// The script's default scenario; the run passes only SEEDS, so that
/// each task runs long enough (about half a second) to be cancelled
/// mid-way, and the whole run takes a minute or two.
const SCENARIO: &str = "scenarios/dedup/correct.ron";
const SEEDS: &str = "0..8000";
/// The script's array, `--array=0-15`.
const SHARDS: usize = 16;
const SCRIPT: &str = "scenarios/examples/slurm-array.sh";
/// The README's merge command, run through the shell as typed.
const MERGE: &str = "target/release/dsim merge results/shard-*.jsonl --out results/sweep.jsonl";

pub fn run() -> Result<(), String> {
    if !crate::command::is_root() {
        return Err("cargo xtask slurm needs root: it installs Debian's Slurm if missing, and slurmd must be root to run jobs".into());
    }
    install::install_if_missing()?;
    crate::build_dsim()?;
    let state = workspace_root().join("target/slurm");
    let cluster = Cluster::start(&state)?;
    let outcome = lay_checkout(&state.join("work")).and_then(|work| exercise(&cluster, &work));
    let stopped = cluster.stop();
    match (outcome, stopped) {
        (Ok(figures), Ok(())) => {
            // Best effort: a folder that cannot go is emptied by the next run.
            let _ = std::fs::remove_dir_all(&state);
            figures.print();
            Ok(())
        }
        (Err(e), _) => Err(format!(
            "{e}\n  state, results and logs are kept in {} (the next run starts afresh)",
            state.display()
        )),
        (Ok(_), Err(e)) => Err(format!("cannot stop the daemons it started: {e}")),
    }
}

/// What the run measured.
#[derive(Debug)]
struct Figures {
    slurm: String,
    unsharded_s: f64,
    array_s: f64,
    task_sweeps_s: f64,
    merge_s: f64,
    refused: Vec<String>,
}

impl Figures {
    fn print(&self) {
        let seeds_per_shard = seed_count() / SHARDS as u64;
        println!(
            "xtask slurm: {} on one node; {SCENARIO}, seeds {SEEDS}",
            self.slurm
        );
        println!("  unsharded sweep      {:.1} s", self.unsharded_s);
        println!(
            "  array of {SHARDS} tasks    {:.1} s from sbatch to the last task's end ({seeds_per_shard} seeds each; their sweeps took {:.1} s in all)",
            self.array_s, self.task_sweeps_s
        );
        println!(
            "  merge                {:.2} s; byte-identical to the unsharded sweep",
            self.merge_s
        );
        for refusal in &self.refused {
            println!("  refused  {refusal}");
        }
        println!("  re-ran the cancelled task; the merge then succeeded, byte-identical again");
        println!(
            "slurm-run shards={SHARDS} seeds={} unsharded_s={:.1} array_s={:.1} merge_s={:.2}",
            seed_count(),
            self.unsharded_s,
            self.array_s,
            self.merge_s
        );
    }
}

fn seed_count() -> u64 {
    let (a, b) = SEEDS.split_once("..").expect("SEEDS is A..B");
    b.parse::<u64>().expect("a seed") - a.parse::<u64>().expect("a seed")
}

/// A folder laid out as a checkout is when the README's commands run in
/// it: `scenarios/` and `target/release/dsim`, linked to this one's.
fn lay_checkout(work: &Path) -> Result<PathBuf, String> {
    let root = workspace_root();
    let release = work.join("target/release");
    std::fs::create_dir_all(&release)
        .map_err(|e| format!("cannot create {}: {e}", release.display()))?;
    let link = |from: PathBuf, to: PathBuf| {
        std::os::unix::fs::symlink(&from, &to)
            .map_err(|e| format!("cannot link {}: {e}", to.display()))
    };
    link(root.join("scenarios"), work.join("scenarios"))?;
    link(root.join("target/release/dsim"), release.join("dsim"))?;
    Ok(work.to_path_buf())
}

fn exercise(cluster: &Cluster, work: &Path) -> Result<Figures, String> {
    let started = Instant::now();
    succeed(
        Command::new(work.join("target/release/dsim"))
            .args([
                "sweep",
                SCENARIO,
                "--seeds",
                SEEDS,
                "--out",
                "reference.jsonl",
            ])
            .current_dir(work),
    )?;
    let unsharded_s = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let job = submit(cluster, work, &[], &[])?;
    let states = wait(cluster, &job)?;
    let array_s = started.elapsed().as_secs_f64();
    expect_completed(work, &job, &states, SHARDS)?;
    let task_sweeps_s = (0..SHARDS).map(|k| sweep_seconds(work, &job, k)).sum();

    let (code, stderr, merge_s) = merge(work, MERGE)?;
    if code != Some(0) {
        return Err(format!("`{MERGE}` failed ({code:?}): {stderr}"));
    }
    same_bytes(
        &work.join("results/sweep.jsonl"),
        &work.join("reference.jsonl"),
    )?;
    let refused = refusals::check(cluster, work)?;
    let slurm = succeed(cluster.command("sinfo").arg("--version"))?
        .trim()
        .to_owned();
    Ok(Figures {
        slurm,
        unsharded_s,
        array_s,
        task_sweeps_s,
        merge_s,
        refused,
    })
}

/// `sbatch` of the script from the checkout, with `env` on top of a
/// clean one (the script's settings from the caller's shell would change
/// the run); returns the job id.
fn submit(
    cluster: &Cluster,
    work: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<String, String> {
    let mut sbatch = cluster.command("sbatch");
    sbatch
        .arg("--parsable")
        .args(args)
        .arg(SCRIPT)
        .current_dir(work);
    for setting in ["SCENARIO", "SEEDS", "SHARDS", "RESULTS"] {
        sbatch.env_remove(setting);
    }
    sbatch.env("SEEDS", SEEDS).envs(env.iter().copied());
    let id = succeed(&mut sbatch)?;
    Ok(id.trim().split(';').next().unwrap_or_default().to_owned())
}

/// Each array task's `JobState`, by task id (a pending range like `4-15`
/// is one entry).
fn states(cluster: &Cluster, job: &str) -> Result<BTreeMap<String, String>, String> {
    let text = succeed(cluster.command("scontrol").args(["show", "job", "-o", job]))?;
    let field = |line: &str, key: &str| -> String {
        let prefix = format!("{key}=");
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&prefix))
            .unwrap_or("?")
            .to_owned()
    };
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| (field(l, "ArrayTaskId"), field(l, "JobState")))
        .collect())
}

fn is_final(state: &str) -> bool {
    !matches!(
        state,
        "PENDING"
            | "RUNNING"
            | "CONFIGURING"
            | "COMPLETING"
            | "SUSPENDED"
            | "REQUEUED"
            | "RESIZING"
    )
}

/// Waits until every task of `job` has ended.
fn wait(cluster: &Cluster, job: &str) -> Result<BTreeMap<String, String>, String> {
    let limit = Duration::from_secs(20 * 60);
    let started = Instant::now();
    loop {
        let states = states(cluster, job)?;
        if states.values().all(|s| is_final(s)) {
            return Ok(states);
        }
        if started.elapsed() > limit {
            return Err(format!(
                "job {job} still not finished after {} s: {states:?}",
                limit.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Every one of `count` tasks completed; if not, the first failure's log.
fn expect_completed(
    work: &Path,
    job: &str,
    states: &BTreeMap<String, String>,
    count: usize,
) -> Result<(), String> {
    if let Some((task, state)) = states.iter().find(|(_, s)| *s != "COMPLETED") {
        let log = work.join(format!("dsim-sweep-{job}_{task}.log"));
        let text = std::fs::read_to_string(&log).unwrap_or_else(|e| format!("(no log: {e})"));
        return Err(format!(
            "task {job}_{task} ended {state}; {}:\n{text}",
            log.display()
        ));
    }
    if states.len() != count {
        return Err(format!(
            "job {job} has {} tasks, expected {count}: {states:?}",
            states.len()
        ));
    }
    Ok(())
}

/// The sweep's own time, from its first output line in the task's log
/// ("... seeds (shard K/N) in S s on ...").
fn sweep_seconds(work: &Path, job: &str, task: usize) -> f64 {
    let log = std::fs::read_to_string(work.join(format!("dsim-sweep-{job}_{task}.log")))
        .unwrap_or_default();
    log.split_once(") in ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.0)
}

/// Runs a `dsim merge` command line in the checkout through the shell (so
/// globs expand as typed): its exit code, standard error and wall time.
fn merge(work: &Path, line: &str) -> Result<(Option<i32>, String, f64), String> {
    let started = Instant::now();
    let out = output(Command::new("sh").args(["-c", line]).current_dir(work))?;
    let seconds = started.elapsed().as_secs_f64();
    Ok((
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        seconds,
    ))
}

fn same_bytes(merged: &Path, reference: &Path) -> Result<(), String> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    };
    let (a, b) = (read(merged)?, read(reference)?);
    if a == b {
        return Ok(());
    }
    let line = a
        .lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or(a.lines().count().min(b.lines().count()));
    Err(format!(
        "{} differs from the unsharded sweep {} from line {}",
        merged.display(),
        reference.display(),
        line + 1
    ))
}
