//! `dsim sweep FILE --seeds A..B [--jobs J] [--shard K/N] [--out F.jsonl]`:
//! many seeds on every core, one JSON line per seed (byte-identical for any
//! `--jobs`), and a summary of failing seeds grouped by verdict with the
//! commands that replay them. With `--out`, lines are written as seeds
//! finish and the trailer last, so a killed shard is told from a finished
//! one. `dsim merge` (`merge.rs`) reassembles shards.

use std::collections::BTreeMap;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::Exit;
use crate::commands::grid::{Grid, parse_grid};
use crate::commands::{Failure, Outcome, load_scenario};
use crate::load::Prepared;
use crate::runner::{SeedLine, accepts, replay_command, run_seeds_in_batches};
use crate::stopwatch::Stopwatch;
use crate::sweep::{DSIM_VERSION, Shard, ShardWriter, Trailer, parse_seed_range, scenario_digest};

/// Run many seeds on every core; JSON lines out, failures grouped.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// Seed range A..B, B exclusive (default: the scenario's seeds).
    #[arg(long, value_parser = parse_seed_range)]
    pub seeds: Option<Range<u64>>,
    /// Worker threads (default: every core).
    #[arg(long, default_value_t = 0)]
    pub jobs: usize,
    /// Run only shard K of N (0-based), for fan-out over machines.
    #[arg(long, value_parser = Shard::parse, default_value = "0/1")]
    pub shard: Shard,
    /// Write one JSON line per seed (and a trailer) here, as seeds finish.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write the sweep's HTML report into this folder.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Design-space sweep: name=a..=b,name=a|b|c,... over model parameters and nemesis fields
    /// (e.g. replicas=3..=5,read_quorum=1..=3 or bulk_size=100|1000,nemesis.interval_ms=500|2000).
    #[arg(long, value_parser = parse_grid)]
    pub grid: Option<Grid>,
}

pub fn sweep(args: &SweepArgs, out: &mut dyn Write) -> Outcome {
    let prepared = load_scenario(&args.file)?;
    let range = args
        .seeds
        .clone()
        .unwrap_or_else(|| prepared.scenario.seeds.seeds());
    if let Some(Grid(axes)) = &args.grid {
        let report = args.report.as_deref();
        return crate::commands::grid::grid_sweep(&prepared, axes, range, args.jobs, report, out);
    }
    let seeds = args.shard.seeds(range.clone());
    let name = &prepared.scenario.name;
    let trailer = trailer_of(&prepared, &range, args.shard, seeds.len());
    let stopwatch = Stopwatch::start();
    let lines = run_writing(&prepared, &seeds, args.jobs, args.out.as_deref(), &trailer)?;
    let wall = stopwatch.seconds();
    let threads = if args.jobs == 0 {
        rayon::current_num_threads()
    } else {
        args.jobs
    };
    writeln!(
        out,
        "{name}: {} seeds (shard {}) in {:.2} s on {threads} threads ({:.0} seeds/s)",
        lines.len(),
        args.shard,
        wall,
        lines.len() as f64 / wall.max(1e-9)
    )?;
    let exit = summarize(&prepared.path, &trailer.expect, &lines, args.shard, out)?;
    if let Some(path) = &args.out {
        writeln!(out, "results   {}", path.display())?;
    }
    if let Some(dir) = &args.report {
        let path = dir.join(format!(
            "{}-sweep.html",
            crate::commands::report::slug(name)
        ));
        crate::commands::report::write_sweep_report(
            name,
            &prepared.path,
            &trailer.expect,
            &lines,
            &path,
        )?;
        writeln!(out, "report    {}", path.display())?;
    }
    Ok(exit)
}

/// The trailer of this sweep's output, which holds `count` seeds.
fn trailer_of(prepared: &Prepared, range: &Range<u64>, shard: Shard, count: usize) -> Trailer {
    Trailer {
        dsim: DSIM_VERSION.to_owned(),
        scenario: prepared.scenario.name.clone(),
        path: prepared.path.clone(),
        scenario_digest: scenario_digest(&prepared.source),
        expect: prepared.scenario.expect.label(),
        seeds: format!("{}..{}", range.start, range.end),
        shard: shard.to_string(),
        count: count as u64,
    }
}

/// Runs the seeds; with `out`, writes each batch of lines as it finishes
/// and the trailer at the end.
fn run_writing(
    prepared: &Prepared,
    seeds: &[u64],
    jobs: usize,
    out: Option<&Path>,
    trailer: &Trailer,
) -> Result<Vec<SeedLine>, Failure> {
    // Created before any seed runs: a path that cannot be written is bad
    // input now, not after an hour of seeds.
    let mut writer = out
        .map(ShardWriter::create)
        .transpose()
        .map_err(|e| cannot_write(out, e))?;
    let name = &prepared.scenario.name;
    let mut lines: Vec<SeedLine> = Vec::with_capacity(seeds.len());
    run_seeds_in_batches(prepared, seeds, jobs, |batch| {
        let batch: Vec<SeedLine> = batch.iter().map(|r| SeedLine::new(name, r)).collect();
        if let Some(w) = &mut writer {
            w.lines(&batch)?;
        }
        lines.extend(batch);
        Ok(())
    })
    .map_err(|e| cannot_write(out, e))?;
    if let Some(w) = writer {
        w.finish(trailer).map_err(|e| cannot_write(out, e))?;
    }
    Ok(lines)
}

fn cannot_write(path: Option<&Path>, source: std::io::Error) -> Failure {
    Failure::File {
        doing: "write",
        path: path.map(Path::to_owned).unwrap_or_default(),
        source,
    }
}

/// Prints failing seeds grouped by verdict and judges the sweep against
/// its expected outcome, `expected` as `Expect::label` writes it (`pass`,
/// or the labels a broken variant may be caught by). `path` names the
/// scenario file in replay commands.
pub fn summarize(
    path: &str,
    expected: &str,
    lines: &[SeedLine],
    shard: Shard,
    out: &mut dyn Write,
) -> std::io::Result<Exit> {
    let mut groups: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for line in lines {
        groups.entry(&line.verdict).or_default().push(line.seed);
    }
    for (verdict, seeds) in &groups {
        let share = 100.0 * seeds.len() as f64 / lines.len().max(1) as f64;
        writeln!(
            out,
            "  {verdict:<24} {:>7} seeds ({share:.1}%)",
            seeds.len()
        )?;
        if *verdict != "pass" {
            let first = position(lines, seeds[0]) + 1;
            let median = median_seeds_to_failure(lines, verdict);
            writeln!(
                out,
                "      first at seed {} ({first} seeds to first failure; median from any start: {median})",
                seeds[0]
            )?;
            for &seed in seeds.iter().take(3) {
                writeln!(out, "      {}", replay_command(path, seed))?;
            }
        }
    }
    // "Sometimes" coverage: how many seeds reached each label.
    let mut reached: BTreeMap<&str, u64> = BTreeMap::new();
    for line in lines {
        for label in line.reached.keys() {
            *reached.entry(label).or_default() += 1;
        }
    }
    for (label, seeds) in &reached {
        let share = 100.0 * *seeds as f64 / lines.len().max(1) as f64;
        writeln!(out, "  reached {label:<32} {seeds:>7} seeds ({share:.1}%)")?;
    }
    let failing: Vec<&SeedLine> = lines.iter().filter(|l| l.verdict != "pass").collect();
    if !failing.is_empty() && groups.len() > 2 {
        // Several checks fired: how often is the design caught at all?
        let caught: Vec<SeedLine> = lines
            .iter()
            .map(|l| SeedLine {
                verdict: caught_label(l),
                ..l.clone()
            })
            .collect();
        writeln!(
            out,
            "  caught by any check      {:>7} seeds ({:.1}%), median seeds to first failure from any start: {}",
            failing.len(),
            100.0 * failing.len() as f64 / lines.len().max(1) as f64,
            median_seeds_to_failure(&caught, "caught")
        )?;
    }
    // A correct design must pass every seed. A broken one must be caught by
    // its named check at least once (unless this is one shard of many);
    // other checks catching it on other seeds are catches too.
    let ok = if expected == "pass" {
        failing.is_empty()
    } else {
        groups.keys().any(|label| accepts(expected, label)) || shard != Shard::WHOLE
    };
    let wanted = if expected == "pass" {
        "every seed passes".to_owned()
    } else {
        format!("`{expected}` catches it")
    };
    writeln!(out, "expected  {wanted}: {}", if ok { "yes" } else { "NO" })?;
    Ok(if ok { Exit::Expected } else { Exit::Unexpected })
}

/// How many seeds a sweep starting at a random seed of this range runs
/// until it meets a `verdict` failure, as a median over every start (a
/// start with no failure after it counts as "never" and sorts last, shown
/// as `>N`).
pub fn median_seeds_to_failure(lines: &[SeedLine], verdict: &str) -> String {
    let mut next_failure: Option<usize> = None;
    let mut distances: Vec<Option<usize>> = vec![None; lines.len()];
    for i in (0..lines.len()).rev() {
        if lines[i].verdict == verdict {
            next_failure = Some(i);
        }
        distances[i] = next_failure.map(|f| f - i + 1);
    }
    distances.sort_by_key(|d| d.unwrap_or(usize::MAX));
    match distances.get(distances.len() / 2).copied().flatten() {
        Some(d) => d.to_string(),
        None => format!(">{}", lines.len() / 2),
    }
}

fn caught_label(line: &SeedLine) -> String {
    if line.verdict == "pass" {
        "pass".to_owned()
    } else {
        "caught".to_owned()
    }
}

fn position(lines: &[SeedLine], seed: u64) -> usize {
    lines.iter().position(|l| l.seed == seed).unwrap_or(0)
}
