//! `dsim hunt FILE --budget 10m | --seeds N [--start S] [--corpus F]`: a
//! seed hunt on one machine, as the big simulators run on fleets. Fresh
//! seeds on every core, each with a fresh fault mix (the nemesis in swarm
//! mode), until the budget ends; the failing ones kept in a corpus
//! (`corpus.rs`), the soonest failures of each check first, rewritten
//! after every batch so a killed hunt keeps what it found. A live line on
//! a terminal says how it goes.
//!
//! Seeds run in batches, in order, and a time budget ends a hunt only
//! between batches: the seeds a hunt covered are always `S..S+n`, and
//! `--start S --seeds n` reruns exactly that hunt on any machine.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use rayon::prelude::*;
use sim_core::record::SeedLine;

use crate::Exit;
use crate::commands::{Failure, Outcome, load_scenario};
use crate::corpus::{Corpus, corpus_order};
use crate::load::Prepared;
use crate::runner::{live_line, run_seed};
use crate::stopwatch::Stopwatch;

/// Hunt for failing seeds on every core until the budget ends; keep them in a corpus.
#[derive(Debug, clap::Args)]
pub struct HuntArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// How long to hunt, on the wall clock: 90s, 10m, 2h.
    #[arg(long, value_parser = parse_budget)]
    pub budget: Option<Duration>,
    /// Or exactly this many seeds: the same corpus on any machine.
    #[arg(long)]
    pub seeds: Option<u64>,
    /// The first seed (default: the first one the scenario does not run itself).
    #[arg(long)]
    pub start: Option<u64>,
    /// Worker threads (default: every core).
    #[arg(long, default_value_t = 0)]
    pub jobs: usize,
    /// Where to keep the failing seeds (JSON lines; `dsim check` replays it).
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    /// Seeds kept per check, the soonest failures.
    #[arg(long, default_value_t = 20)]
    pub keep: usize,
}

/// Seeds per thread in a batch: a time budget is checked between batches.
const BATCH_SEEDS_PER_THREAD: u64 = 32;

/// `90s`, `10m`, `2h` or a number of seconds.
pub fn parse_budget(text: &str) -> Result<Duration, String> {
    let (number, unit) = match text
        .trim()
        .char_indices()
        .find(|(_, c)| !c.is_ascii_digit())
    {
        Some((i, _)) => text.trim().split_at(i),
        None => (text.trim(), "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}`: a budget is a whole number and a unit: 90s, 10m, 2h"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3_600),
        other => return Err(format!("`{text}`: unknown unit `{other}`; use s, m or h")),
    };
    if seconds == 0 {
        return Err(format!("`{text}`: a hunt needs some time"));
    }
    Ok(Duration::from_secs(seconds))
}

pub fn hunt(args: &HuntArgs, out: &mut dyn Write) -> Outcome {
    if args.budget.is_none() && args.seeds.is_none() {
        return Err(Failure::input(
            "say how long to hunt: --budget 10m (wall clock) or --seeds N (the same hunt on any machine)",
        ));
    }
    if args.seeds == Some(0) {
        return Err(Failure::input("--seeds 0: a hunt needs at least one seed"));
    }
    if args.keep == 0 {
        return Err(Failure::input("--keep 0: a corpus that keeps nothing"));
    }
    let prepared = load_scenario(&args.file)?.swarmed();
    let swarm = prepared.base.nemesis.is_some();
    let start = args
        .start
        .unwrap_or_else(|| prepared.scenario.seeds.seeds().end);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs)
        .build()
        .expect("a thread pool");
    let threads = pool.current_num_threads();
    let batch = BATCH_SEEDS_PER_THREAD * threads as u64;
    let mut corpus = Corpus {
        header: Corpus::header_for(&prepared, swarm, args.keep),
        lines: Vec::new(),
    };
    let live = live_line("hunt");
    let stopwatch = Stopwatch::start();
    let (mut next, mut events) = (start, 0u64);
    let expects_pass = prepared.scenario.expect.label() == "pass";
    loop {
        let end = match args.seeds {
            Some(n) => (next + batch).min(start.saturating_add(n)),
            None => next + batch,
        };
        if end <= next {
            break;
        }
        let lines: Vec<SeedLine> = pool.install(|| {
            (next..end)
                .into_par_iter()
                .map(|seed| {
                    SeedLine::new(
                        &prepared.scenario.name,
                        &run_seed(&prepared, seed, false, false),
                    )
                })
                .collect()
        });
        next = end;
        events += lines.iter().map(|l| l.events).sum::<u64>();
        keep_failures(&mut corpus, lines, args.keep);
        corpus.header.seeds = format!("{start}..{next}");
        if let Some(path) = &args.corpus {
            corpus.write(path)?;
        }
        let elapsed = stopwatch.elapsed();
        live.set_message(progress(
            &corpus,
            next - start,
            events,
            elapsed,
            args.budget,
        ));
        if args.budget.is_some_and(|b| elapsed >= b) {
            break;
        }
    }
    live.finish_and_clear();
    let seconds = stopwatch.seconds().max(1e-9);
    let hunted = next - start;
    writeln!(
        out,
        "hunt {}: {hunted} seeds ({start}..{next}) in {seconds:.1} s on {threads} threads \
         ({:.0} seeds/s, {:.2} M events/s){}",
        prepared.scenario.name,
        hunted as f64 / seconds,
        events as f64 / seconds / 1e6,
        if swarm {
            ", a fresh fault mix per seed"
        } else {
            ", no nemesis: the network and the workload vary"
        },
    )?;
    summarize(&corpus, &prepared, out)?;
    if let Some(path) = &args.corpus {
        writeln!(
            out,
            "corpus    {} ({} seeds kept; `dsim check {}` replays them)",
            path.display(),
            corpus.lines.len(),
            path.display()
        )?;
    }
    writeln!(
        out,
        "again     dsim hunt {} --start {start} --seeds {hunted}",
        prepared.path
    )?;
    // Unexpected: a design that should pass failed, or a broken variant
    // went uncaught for the whole hunt.
    let failed = !corpus.header.failing.is_empty();
    Ok(if expects_pass == failed {
        Exit::Unexpected
    } else {
        Exit::Expected
    })
}

/// Counts every failing seed and keeps the `keep` soonest of each check.
fn keep_failures(corpus: &mut Corpus, lines: Vec<SeedLine>, keep: usize) {
    for line in lines.into_iter().filter(|l| l.verdict != "pass") {
        *corpus
            .header
            .failing
            .entry(line.verdict.clone())
            .or_default() += 1;
        corpus.lines.push(line);
    }
    corpus.lines.sort_by(corpus_order);
    let mut per_check: BTreeMap<String, usize> = BTreeMap::new();
    corpus.lines.retain(|l| {
        let kept = per_check.entry(l.verdict.clone()).or_default();
        *kept += 1;
        *kept <= keep
    });
}

fn summarize(corpus: &Corpus, prepared: &Prepared, out: &mut dyn Write) -> std::io::Result<()> {
    if corpus.header.failing.is_empty() {
        return writeln!(out, "  no seed failed");
    }
    for (check, count) in &corpus.header.failing {
        let soonest = corpus.lines.iter().find(|l| &l.verdict == check);
        let Some(soonest) = soonest else { continue };
        writeln!(
            out,
            "  {check:<24} {count:>7} seeds; soonest: seed {} at event {}",
            soonest.seed,
            soonest.event.unwrap_or(soonest.events)
        )?;
        writeln!(out, "      {}", prepared.replay_command(soonest.seed))?;
    }
    Ok(())
}

fn progress(
    corpus: &Corpus,
    seeds: u64,
    events: u64,
    elapsed: Duration,
    budget: Option<Duration>,
) -> String {
    let failing: u64 = corpus.header.failing.values().sum();
    let rate = events as f64 / elapsed.as_secs_f64().max(1e-9) / 1e6;
    let left = budget.map_or(String::new(), |b| {
        format!(", {} s left", b.saturating_sub(elapsed).as_secs())
    });
    format!(
        "{seeds} seeds, {failing} failing ({} checks), {rate:.2} M events/s{left}",
        corpus.header.failing.len()
    )
}
