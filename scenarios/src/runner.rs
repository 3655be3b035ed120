//! Running seeds of a prepared scenario and judging them against its
//! expected outcome. One seed is one single-threaded run; many seeds run
//! on a rayon pool, collected in seed order so results never depend on
//! which thread finished first.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use sim_core::Verdict;
use sim_core::record::RunRecord;

use crate::load::Prepared;
use crate::schema::Expect;

/// Runs one seed.
pub fn run_seed(prepared: &Prepared, seed: u64, record_trace: bool, for_report: bool) -> RunRecord {
    let mut config = prepared.config(seed);
    config.record_trace = record_trace;
    prepared.design.run(config, for_report)
}

/// Runs `seeds` on `jobs` threads (0 = every core), in seed order, with a
/// progress bar on a terminal. Every record is kept: for a few seeds
/// (a grid cell, a shrink's scan). A sweep streams instead
/// (`run_seeds_in_batches`).
pub fn run_seeds(prepared: &Prepared, seeds: &[u64], jobs: usize) -> Vec<RunRecord> {
    let mut records = Vec::with_capacity(seeds.len());
    run_seeds_in_batches(prepared, seeds.iter().copied(), jobs, |batch| {
        records.extend(batch);
        Ok(())
    })
    .expect("no batch hook fails");
    records
}

/// Seeds per thread in a batch of `run_seeds_in_batches`: enough that the
/// wait for a batch's last seeds costs about 1% of its time, few enough
/// that a killed sweep has written most of what it ran.
const BATCH_SEEDS_PER_THREAD: usize = 64;

/// Runs `seeds` as `run_seeds` does, handing each batch of finished
/// records, in seed order, to `on_batch` (a sweep writes them out) before
/// the next batch starts. Nothing is kept here, not even the seed list
/// (the seeds are drawn a batch at a time): memory stays flat over any
/// number of seeds, whatever `on_batch` does not keep.
pub fn run_seeds_in_batches(
    prepared: &Prepared,
    seeds: impl ExactSizeIterator<Item = u64>,
    jobs: usize,
    mut on_batch: impl FnMut(Vec<RunRecord>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let progress = progress_bar(seeds.len() as u64);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .expect("a thread pool");
    let batch_seeds = BATCH_SEEDS_PER_THREAD * pool.current_num_threads();
    let mut seeds = seeds.peekable();
    let mut batch = Vec::with_capacity(batch_seeds);
    while seeds.peek().is_some() {
        batch.clear();
        batch.extend(seeds.by_ref().take(batch_seeds));
        let done: Vec<RunRecord> = pool.install(|| {
            batch
                .par_iter()
                .map(|&seed| {
                    let record = run_seed(prepared, seed, false, false);
                    progress.inc(1);
                    record
                })
                .collect()
        });
        on_batch(done)?;
    }
    progress.finish_and_clear();
    Ok(())
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

/// A live status line on stderr (`{verb} {message}`, with a spinner), on
/// a terminal only, so logs stay clean.
pub fn live_line(verb: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let template = format!("{{spinner}} {verb} {{msg}}");
    bar.set_style(ProgressStyle::with_template(&template).expect("a valid template"));
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// Is this seed's verdict what the scenario expects of a single seed?
/// A `Pass` scenario expects a pass; a broken one expects its named failure.
pub fn is_expected(expect: &Expect, verdict: &Verdict) -> bool {
    accepts(&expect.label(), verdict.label())
}

pub use sim_core::record::{SeedLine, accepts, replay_command, verdict_detail};
