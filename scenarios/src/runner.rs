//! Running seeds of a prepared scenario and judging them against its
//! expected outcome. One seed is one single-threaded run; many seeds run
//! on a rayon pool, collected in seed order so results never depend on
//! which thread finished first.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sim_core::Verdict;
use sim_core::record::RunRecord;

use crate::load::Prepared;
use crate::schema::Expect;

/// Runs one seed.
pub fn run_seed(
    prepared: &Prepared,
    seed: u64,
    record_trace: bool,
    with_history: bool,
) -> RunRecord {
    let mut config = prepared.config(seed);
    config.record_trace = record_trace;
    prepared.design.run(config, with_history)
}

/// Runs `seeds` on `jobs` threads (0 = every core), in seed order, with a
/// progress bar on a terminal.
pub fn run_seeds(prepared: &Prepared, seeds: &[u64], jobs: usize) -> Vec<RunRecord> {
    let progress = progress_bar(seeds.len() as u64);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .expect("a thread pool");
    let records = pool.install(|| {
        seeds
            .par_iter()
            .map(|&seed| {
                let record = run_seed(prepared, seed, false, false);
                progress.inc(1);
                record
            })
            .collect()
    });
    progress.finish_and_clear();
    records
}

/// A progress bar on stderr, hidden when stderr is not a terminal (CI logs).
pub fn progress_bar(len: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} seeds  {per_sec}  eta {eta}")
            .expect("a valid template"),
    );
    bar
}

/// Is this seed's verdict what the scenario expects of a single seed?
/// A `Pass` scenario expects a pass; a broken one expects its named failure.
pub fn is_expected(expect: &Expect, verdict: &Verdict) -> bool {
    match expect.failure_label() {
        None => verdict.is_pass(),
        Some(label) => verdict.label() == label,
    }
}

/// The command that replays one seed, for people to copy.
pub fn replay_command(path: &str, seed: u64) -> String {
    format!("dsim run {path} --seed {seed}")
}

/// One line of a sweep's JSON-lines output: everything about a seed that
/// does not depend on the machine (no wall time), so outputs compare byte
/// for byte across thread counts and shards.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedLine {
    pub scenario: String,
    pub seed: u64,
    /// `pass`, the violated check's name, `liveness`, `unknown` or `limit`.
    pub verdict: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The engine step and time of a violation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_ns: Option<u64>,
    pub digest: String,
    pub events: u64,
    pub messages_delivered: u64,
    pub faults: u64,
    pub end_time_ns: u64,
    pub metrics: BTreeMap<String, f64>,
}

impl SeedLine {
    pub fn new(scenario: &str, record: &RunRecord) -> SeedLine {
        let (message, event, time_ns) = verdict_detail(&record.verdict);
        SeedLine {
            scenario: scenario.to_owned(),
            seed: record.seed,
            verdict: record.verdict.label().to_owned(),
            message,
            event,
            time_ns,
            digest: record.digest.clone(),
            events: record.stats.events,
            messages_delivered: record.stats.messages_delivered,
            faults: record.stats.faults,
            end_time_ns: record.stats.end_time.as_nanos(),
            metrics: record.metrics.clone(),
        }
    }
}

/// A verdict's message, event and time, where it has them.
pub fn verdict_detail(verdict: &Verdict) -> (Option<String>, Option<u64>, Option<u64>) {
    match verdict {
        Verdict::Pass => (None, None, None),
        Verdict::Violated(v) => (
            Some(v.message.clone()),
            Some(v.event),
            Some(v.time.as_nanos()),
        ),
        Verdict::NotLive(l) => (Some(l.message.clone()), None, None),
        Verdict::Unknown { check, reason } => (Some(format!("{check}: {reason}")), None, None),
        Verdict::LimitReached { limit, event, time } => (
            Some(format!("hit the {limit:?} limit")),
            Some(*event),
            Some(time.as_nanos()),
        ),
    }
}
