//! Shrinking a failing run (`dsim shrink`): from a seed's recorded
//! scenario (the nemesis's strikes an explicit plan, `record.rs`) to the
//! smallest scenario found that still fails the same check on the same
//! seed. Every candidate is a real run.
//!
//! The method is delta debugging (Zeller's ddmin) over the scenario's
//! parts, greedy and in a fixed order, until a whole round changes
//! nothing (`passes.rs`): cut the run short, remove faults, drop the
//! liveness check, lower the design's counts (clients, servers, requests),
//! shorten each fault, calm the network. Each pass offers candidates in
//! order, most ambitious first, and the first that still fails is kept.
//! Hypothesis shrinks its recorded choice sequence the same way; the
//! choices here are the scenario's, and the network's and workload's
//! draws follow from the seed.
//!
//! Deterministic: candidates run in batches on every core, but the one
//! kept is the first in candidate order, and attempts are counted as if
//! they ran one by one. So the same input and attempt budget give the same
//! output on any machine and any number of cores. A time budget ends a
//! shrink at a batch boundary, and the best scenario so far is kept.

mod passes;
mod prune;
mod summary;

use std::time::Duration;

use indicatif::ProgressBar;
use rayon::prelude::*;
use sim_core::record::RunRecord;

use crate::load::Prepared;
use crate::runner::run_seed;
use crate::schema::Scenario;
use crate::stopwatch::Stopwatch;

pub use summary::{Size, changes, seconds};

/// When a shrink stops, whatever it has found by then.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Candidate runs, counted one by one (the same on any machine).
    pub attempts: u64,
    /// Wall-clock time (checked between batches of candidates).
    pub time: Option<Duration>,
}

/// Why a shrink stopped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stop {
    /// A whole round of passes changed nothing: as small as it gets.
    Fixpoint,
    /// The attempt budget ran out.
    Attempts,
    /// The time budget ran out.
    Time,
}

/// What a shrink found.
#[derive(Debug)]
pub struct Shrunk {
    /// The smallest scenario found that fails the check.
    pub scenario: Scenario,
    /// Its run (the check's failure).
    pub run: RunRecord,
    /// Candidates tried, counted one by one.
    pub attempts: u64,
    /// Candidates kept.
    pub kept: u64,
    pub stop: Stop,
    pub seconds: f64,
}

/// The shrinker's state: the smallest failing scenario so far and the
/// budget spent.
struct Shrinker<'a> {
    /// The loaded file (a candidate is prepared against it).
    base: &'a Prepared,
    seed: u64,
    /// The check that must still fail: the original verdict's label.
    check: String,
    best: Scenario,
    best_run: RunRecord,
    pool: rayon::ThreadPool,
    budget: Budget,
    stopwatch: Stopwatch,
    attempts: u64,
    kept: u64,
    stop: Option<Stop>,
    progress: ProgressBar,
    /// The pass running now, for the progress line.
    pass: &'static str,
    original: Size,
}

/// Shrinks `scenario` (which fails `original.verdict` on `seed`) to the
/// smallest scenario found that fails the same check.
pub fn shrink(
    base: &Prepared,
    scenario: Scenario,
    original: RunRecord,
    seed: u64,
    budget: Budget,
    jobs: usize,
    progress: ProgressBar,
) -> Shrunk {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .expect("a thread pool");
    let original_size = Size::of(&scenario, &original);
    let mut shrinker = Shrinker {
        base,
        seed,
        check: original.verdict.label().to_owned(),
        best: scenario,
        best_run: original,
        pool,
        budget,
        stopwatch: Stopwatch::start(),
        attempts: 0,
        kept: 0,
        stop: None,
        progress,
        pass: "",
        original: original_size,
    };
    shrinker.run_passes();
    shrinker.progress.finish_and_clear();
    Shrunk {
        scenario: shrinker.best,
        run: shrinker.best_run,
        attempts: shrinker.attempts,
        kept: shrinker.kept,
        stop: shrinker.stop.unwrap_or(Stop::Fixpoint),
        seconds: shrinker.stopwatch.seconds(),
    }
}

impl Shrinker<'_> {
    /// Rounds of every pass until one changes nothing or the budget ends.
    fn run_passes(&mut self) {
        loop {
            let before = self.kept;
            for pass in passes::PASSES {
                self.pass = pass.name;
                self.progress_line();
                (pass.run)(self);
                if self.stop.is_some() {
                    return;
                }
            }
            if self.kept == before {
                return;
            }
        }
    }

    /// Runs the candidates, in batches of one per thread, and keeps the
    /// first (in candidate order) that still fails the check: its index.
    /// Candidates the design rejects (`validate`) are skipped unrun.
    fn first_failing(&mut self, candidates: Vec<Scenario>) -> Option<usize> {
        let prepared: Vec<(usize, Prepared)> = candidates
            .into_iter()
            .enumerate()
            .filter_map(|(i, c)| Some((i, self.base.with_scenario(c).ok()?)))
            .collect();
        let threads = self.pool.current_num_threads().max(1);
        for batch in prepared.chunks(threads) {
            if self.out_of_budget() {
                return None;
            }
            let seed = self.seed;
            let runs: Vec<RunRecord> = self.pool.install(|| {
                batch
                    .par_iter()
                    .map(|(_, p)| run_seed(p, seed, false, false))
                    .collect()
            });
            let hit = runs.iter().position(|r| r.verdict.label() == self.check);
            // Counted as if run one by one: up to the one kept.
            let budget_left = self.budget.attempts - self.attempts;
            let counted = hit.map_or(batch.len(), |h| h + 1) as u64;
            if counted > budget_left {
                // One by one, the budget ends before the batch's keeper
                // (or its end): what ran past it does not count.
                self.attempts = self.budget.attempts;
                self.stop = Some(Stop::Attempts);
                return None;
            }
            self.attempts += counted;
            if let Some(h) = hit {
                let (index, candidate) = &batch[h];
                let run = runs.into_iter().nth(h).expect("a run per candidate");
                self.best = candidate.scenario.clone();
                self.best_run = run;
                self.kept += 1;
                return Some(*index);
            }
        }
        None
    }

    fn out_of_budget(&mut self) -> bool {
        if self.stop.is_some() {
            return true;
        }
        if self.attempts >= self.budget.attempts {
            self.stop = Some(Stop::Attempts);
        } else if self
            .budget
            .time
            .is_some_and(|t| self.stopwatch.elapsed() >= t)
        {
            self.stop = Some(Stop::Time);
        }
        self.stop.is_some()
    }

    /// The live line (on a terminal): the pass, the runs so far, and the
    /// sizes from the original to now.
    fn progress_line(&self) {
        let now = Size::of(&self.best, &self.best_run);
        self.progress.set_message(format!(
            "{}: {} runs, {} kept · faults {}→{} · nodes {}→{} · events {}→{}",
            self.pass,
            self.attempts,
            self.kept,
            self.original.faults,
            now.faults,
            self.original.nodes,
            now.nodes,
            self.original.events,
            now.events
        ));
    }
}
