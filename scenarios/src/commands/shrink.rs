//! `dsim shrink FILE --seed N [--out F]`: a failing seed made small enough
//! to read. The seed is recorded (its nemesis's strikes an explicit plan,
//! `record.rs`), then shrunk (`crate::shrink`) to the smallest scenario
//! found that still fails the same check on the same seed, and written as
//! a commented RON file that says what was removed and how much smaller it
//! is. The written file is run once more before the command says so.
//!
//! `dsim shrink FILE --first K` does it for the first K failing seeds of
//! the file's range and sums up how small they got (median and worst):
//! the table in each model's README.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sim_core::metrics::thousands;
use sim_core::record::RunRecord;

use crate::Exit;
use crate::commands::hunt::parse_budget;
use crate::commands::record::{Recorded, recorded};
use crate::commands::{Failure, Outcome, load_scenario, write_text};
use crate::load::{Prepared, prepare};
use crate::runner::{live_line, run_seed, run_seeds};
use crate::shrink::{self, Budget, Size, Stop, changes};

/// Shrink a failing seed to the smallest scenario that still fails the same check.
#[derive(Debug, clap::Args)]
pub struct ShrinkArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// The failing seed to shrink.
    #[arg(long, conflicts_with = "first")]
    pub seed: Option<u64>,
    /// Or shrink the first K failing seeds from the file's first seed (looking through
    /// its range, and at least 10,000 seeds), and sum up how small they got.
    #[arg(long)]
    pub first: Option<usize>,
    /// The seed as `dsim hunt` ran it (the nemesis draws its own fault mix).
    #[arg(long)]
    pub swarm: bool,
    /// Write the shrunk scenario here (default: standard output); with
    /// `--first`, a folder for one file per seed.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Most candidate runs per seed (counted one by one: the same result on any machine).
    #[arg(long, default_value_t = 3_000)]
    pub attempts: u64,
    /// Most wall-clock time per seed: 90s, 10m (the best found so far is kept).
    #[arg(long, value_parser = parse_budget, default_value = "5m")]
    pub budget: Duration,
    /// Worker threads (default: every core).
    #[arg(long, default_value_t = 0)]
    pub jobs: usize,
}

pub fn shrink(args: &ShrinkArgs, out: &mut dyn Write) -> Outcome {
    if args.attempts == 0 {
        return Err(Failure::input(
            "--attempts 0: a shrink needs at least one run",
        ));
    }
    let mut prepared = load_scenario(&args.file)?;
    if args.swarm {
        prepared = prepared.swarmed();
    }
    match (args.seed, args.first) {
        (Some(seed), _) => shrink_one(args, &prepared, seed, out),
        (None, Some(0)) => Err(Failure::input("--first 0: nothing to shrink")),
        (None, Some(k)) => shrink_first(args, &prepared, k, out),
        (None, None) => Err(Failure::input(
            "say which seed: --seed N (a failing seed), or --first K (the first K failing seeds of the file)",
        )),
    }
}

/// One shrunk seed: the file's text and the sizes before and after.
struct ShrunkSeed {
    text: String,
    check: String,
    before: Size,
    after: Size,
    attempts: u64,
    /// Candidates kept: the shrink's steps.
    kept: u64,
    seconds: f64,
    stop: Stop,
    changes: Vec<String>,
}

fn shrink_one(args: &ShrinkArgs, prepared: &Prepared, seed: u64, out: &mut dyn Write) -> Outcome {
    let done = shrink_seed(args, prepared, seed)?;
    let shown = match &args.out {
        Some(path) => {
            write_text(path, &done.text)?;
            path.display().to_string()
        }
        None => {
            write!(out, "{}", done.text)?;
            "standard output".to_owned()
        }
    };
    let mut lines = vec![format!(
        "shrunk     {} seed {seed}: still fails `{}` → {shown}",
        prepared.path, done.check
    )];
    lines.push(format!(
        "           {}",
        size_line(&done.before, &done.after)
    ));
    lines.extend(done.changes.iter().map(|c| format!("           - {c}")));
    lines.push(format!(
        "           {} runs ({} kept) in {:.1} s; {}",
        done.attempts,
        done.kept,
        done.seconds,
        stop_words(done.stop)
    ));
    for line in lines {
        // With the scenario on standard output, the report goes to stderr.
        if args.out.is_some() {
            writeln!(out, "{line}")?;
        } else {
            eprintln!("{line}");
        }
    }
    Ok(Exit::Expected)
}

/// Records and shrinks one seed, and checks that the written file fails
/// as the shrink found.
fn shrink_seed(args: &ShrinkArgs, prepared: &Prepared, seed: u64) -> Result<ShrunkSeed, Failure> {
    let Recorded {
        original,
        scenario,
        strikes,
    } = recorded(prepared, seed);
    if original.verdict.is_pass() {
        return Err(Failure::input(format!(
            "seed {seed} of {} passes: nothing to shrink (`dsim sweep {} --seeds {seed}..{}` shows \
             the seeds that fail)",
            prepared.path,
            prepared.path,
            seed + 1000
        )));
    }
    let check = original.verdict.label().to_owned();
    let start = prepared
        .with_scenario(scenario.clone())
        .map_err(|e| Failure::input(format!("{}: the recorded seed {seed}: {e}", prepared.path)))?;
    let replayed = run_seed(&start, seed, false, false);
    if replayed.verdict.label() != check {
        return Err(Failure::input(format!(
            "{}: seed {seed} {}, but its recorded plan {} (`dsim record` says more)",
            prepared.path,
            original.verdict.sentence(),
            replayed.verdict.sentence()
        )));
    }
    let before = Size::of(&scenario, &original);
    let budget = Budget {
        attempts: args.attempts,
        time: Some(args.budget),
    };
    let progress = live_line(&format!("shrink seed {seed}"));
    let shrunk = shrink::shrink(
        &start,
        scenario.clone(),
        replayed,
        seed,
        budget,
        args.jobs,
        progress,
    );
    let after = Size::of(&shrunk.scenario, &shrunk.run);
    let changed = changes(&scenario, &shrunk.scenario);
    let mut result = shrunk.scenario.clone();
    result.name = format!("{}-seed-{seed}-shrunk", prepared.scenario.name);
    result.description = format!(
        "Seed {seed} of {}, shrunk: the smallest scenario found that still fails `{check}`.",
        prepared.path
    );
    // Deeper than a fault, one line each: a fault plan reads as a list.
    let pretty = ron::ser::PrettyConfig::default().depth_limit(2);
    let body = ron::ser::to_string_pretty(&result, pretty)
        .map_err(|e| Failure::input(format!("cannot write the scenario as RON: {e}")))?;
    let header = header(
        &prepared.path,
        seed,
        args.swarm,
        &check,
        strikes,
        (&before, &after),
        &changed,
        &shrunk,
    );
    let text = format!("{header}{body}\n");
    // The file as written must fail as the shrink found.
    let written = prepare("shrunk.ron", &text).map_err(Failure::Scenario)?;
    let again = run_seed(&written, seed, false, false);
    if again.digest != shrunk.run.digest {
        return Err(Failure::input(format!(
            "{}: the shrunk scenario of seed {seed} does not run as it did when written ({})",
            prepared.path,
            again.verdict.sentence()
        )));
    }
    Ok(ShrunkSeed {
        text,
        check,
        before,
        after,
        attempts: shrunk.attempts,
        kept: shrunk.kept,
        seconds: shrunk.seconds,
        stop: shrunk.stop,
        changes: changed,
    })
}

#[allow(clippy::too_many_arguments)]
fn header(
    source: &str,
    seed: u64,
    swarm: bool,
    check: &str,
    strikes: usize,
    (before, after): (&Size, &Size),
    changed: &[String],
    shrunk: &shrink::Shrunk,
) -> String {
    let mut h = format!(
        "// Shrunk by `dsim shrink {source} --seed {seed}{}`: the smallest\n\
         // scenario found that still fails `{check}` on seed {seed} ({} runs, {} kept,\n\
         // in {:.1} s; {}). Every candidate was a real run.\n//\n",
        if swarm { " --swarm" } else { "" },
        shrunk.attempts,
        shrunk.kept,
        shrunk.seconds,
        stop_words(shrunk.stop),
    );
    h.push_str("//                 original     shrunk\n");
    let rows = [
        (
            "faults",
            before.faults.to_string(),
            after.faults.to_string(),
        ),
        (
            "fault time",
            shrink::seconds(before.fault_ms),
            shrink::seconds(after.fault_ms),
        ),
        ("nodes", before.nodes.to_string(), after.nodes.to_string()),
        (
            "run length",
            shrink::seconds(before.duration_ms),
            shrink::seconds(after.duration_ms),
        ),
        ("events", thousands(before.events), thousands(after.events)),
    ];
    for (what, b, a) in rows {
        h.push_str(&format!("//   {what:<12} {b:>10} {a:>10}\n"));
    }
    if strikes > 0 {
        h.push_str(&format!(
            "//\n// The original's nemesis struck {strikes} of its faults; they start as a\n\
             // plan, as `dsim record {source} --seed {seed}` writes it.\n"
        ));
    }
    h.push_str("//\n// What the shrink changed:\n");
    if changed.is_empty() {
        h.push_str("//   nothing: every smaller candidate passed\n");
    }
    for c in changed {
        h.push_str(&format!("//   - {c}\n"));
    }
    h.push_str(&format!(
        "//\n// The violation: {}\n",
        one_line(&shrunk.run.verdict.sentence())
    ));
    h
}

/// `dsim shrink FILE --first K`: the first K failing seeds, each shrunk,
/// and how small they got.
fn shrink_first(args: &ShrinkArgs, prepared: &Prepared, k: usize, out: &mut dyn Write) -> Outcome {
    // From the file's first seed, and past its range if it stops short:
    // a broken scenario runs only until its first catch.
    let range = prepared.scenario.seeds;
    let seeds: Vec<u64> =
        (range.start..range.start.saturating_add(range.count.max(FIRST_SCAN))).collect();
    let mut failing = Vec::new();
    for batch in seeds.chunks(256) {
        let runs: Vec<RunRecord> = run_seeds(prepared, batch, args.jobs);
        failing.extend(runs.iter().filter(|r| !r.verdict.is_pass()).map(|r| r.seed));
        if failing.len() >= k {
            break;
        }
    }
    failing.truncate(k);
    if failing.is_empty() {
        writeln!(
            out,
            "no seed of {} fails ({} seeds): nothing to shrink",
            prepared.path,
            seeds.len()
        )?;
        return Ok(Exit::Unexpected);
    }
    let mut done = Vec::new();
    for &seed in &failing {
        let one = shrink_seed(args, prepared, seed)?;
        writeln!(
            out,
            "seed {seed:<6} {:<24} {}  ({} runs, {:.1} s)",
            one.check,
            size_line(&one.before, &one.after),
            one.attempts,
            one.seconds
        )?;
        if let Some(dir) = &args.out {
            let name = format!("{}-seed-{seed}-shrunk.ron", prepared.scenario.name);
            write_text(&dir.join(name), &one.text)?;
        }
        done.push(one);
    }
    let faults = Spread::of(&done, |d| (d.before.faults as u64, d.after.faults as u64));
    let events = Spread::of(&done, |d| (d.before.events, d.after.events));
    let nodes = Spread::of(&done, |d| (d.before.nodes as u64, d.after.nodes as u64));
    writeln!(
        out,
        "{} seeds shrunk; median (worst): faults {}, events {}, nodes {}",
        done.len(),
        faults.words(),
        events.words(),
        nodes.words()
    )?;
    let file = Path::new(&prepared.path).file_stem().map_or_else(
        || prepared.path.clone(),
        |s| s.to_string_lossy().into_owned(),
    );
    writeln!(
        out,
        "| {file} | {} | {} | {} | {} |",
        done.len(),
        faults.cell(),
        events.cell(),
        nodes.cell()
    )?;
    Ok(Exit::Expected)
}

/// How many seeds `--first` looks through for failing ones, at least.
const FIRST_SCAN: u64 = 10_000;

/// A measure over several shrunk seeds: the median before, the median
/// and the worst after.
struct Spread {
    before: u64,
    after: u64,
    worst: u64,
}

impl Spread {
    fn of(done: &[ShrunkSeed], measure: impl Fn(&ShrunkSeed) -> (u64, u64)) -> Spread {
        let median = |mut v: Vec<u64>| {
            v.sort_unstable();
            v[v.len() / 2]
        };
        let pairs: Vec<(u64, u64)> = done.iter().map(measure).collect();
        Spread {
            before: median(pairs.iter().map(|p| p.0).collect()),
            after: median(pairs.iter().map(|p| p.1).collect()),
            worst: pairs.iter().map(|p| p.1).max().unwrap_or(0),
        }
    }
    fn words(&self) -> String {
        format!(
            "{} → {} ({})",
            thousands(self.before),
            thousands(self.after),
            thousands(self.worst)
        )
    }
    fn cell(&self) -> String {
        format!(
            "{} → {} (worst {})",
            thousands(self.before),
            thousands(self.after),
            thousands(self.worst)
        )
    }
}

fn size_line(before: &Size, after: &Size) -> String {
    format!(
        "faults {} → {}, events {} → {}, nodes {} → {}, run {} → {}",
        before.faults,
        after.faults,
        thousands(before.events),
        thousands(after.events),
        before.nodes,
        after.nodes,
        shrink::seconds(before.duration_ms),
        shrink::seconds(after.duration_ms)
    )
}

fn stop_words(stop: Stop) -> &'static str {
    match stop {
        Stop::Fixpoint => "as small as it gets: a whole round changed nothing",
        Stop::Attempts => "the attempt budget ended it (--attempts)",
        Stop::Time => "the time budget ended it (--budget)",
    }
}

/// A message on one comment line's worth of lines.
fn one_line(text: &str) -> String {
    text.replace('\n', "\n//   ")
}
