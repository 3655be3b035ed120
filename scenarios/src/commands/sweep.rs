//! `dsim sweep FILE --seeds A..B [--jobs J] [--shard K/N] [--out F.jsonl]`:
//! many seeds on every core, one JSON line per seed (byte-identical for any
//! `--jobs`), and a summary of failing seeds grouped by verdict with the
//! commands that replay them. With `--out`, lines are written as seeds
//! finish and the trailer last, so a killed shard is told from a finished
//! one. `dsim merge` (`merge.rs`) reassembles shards.

use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::Exit;
use crate::commands::grid::{Grid, parse_grid};
use crate::commands::{Failure, Outcome, load_scenario};
use crate::load::Prepared;
use crate::runner::{SeedLine, accepts, replay_command, run_seeds_in_batches};
use crate::stopwatch::Stopwatch;
use crate::sweep::{
    DSIM_VERSION, Shard, ShardWriter, Tally, Trailer, parse_seed_range, scenario_digest,
};

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
    let name = &prepared.scenario.name;
    let seed_count = args.shard.seed_count(range.clone());
    let trailer = trailer_of(&prepared, &range, args.shard, seed_count as usize);
    let stopwatch = Stopwatch::start();
    // The report draws every seed's metrics, so only a report keeps lines.
    let keep_lines = args.report.is_some();
    let (tally, lines) = run_writing(
        &prepared,
        args.shard.seed_iter(range.clone()),
        args.jobs,
        args.out.as_deref(),
        &trailer,
        keep_lines,
    )?;
    let wall = stopwatch.seconds();
    let threads = if args.jobs == 0 {
        rayon::current_num_threads()
    } else {
        args.jobs
    };
    writeln!(
        out,
        "{name}: {} seeds (shard {}) in {:.2} s on {threads} threads ({:.0} seeds/s, {:.2} M events/s)",
        tally.seeds,
        args.shard,
        wall,
        tally.seeds as f64 / wall.max(1e-9),
        tally.events as f64 / wall.max(1e-9) / 1e6
    )?;
    let exit = summarize(&prepared.path, &trailer.expect, &tally, args.shard, out)?;
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

/// Runs the seeds, counting them into a tally; with `out`, writes each
/// batch of lines as it finishes and the trailer at the end. Lines are
/// kept only with `keep_lines` (a report): otherwise memory stays flat
/// over any number of seeds.
fn run_writing(
    prepared: &Prepared,
    seeds: impl ExactSizeIterator<Item = u64>,
    jobs: usize,
    out: Option<&Path>,
    trailer: &Trailer,
    keep_lines: bool,
) -> Result<(Tally, Vec<SeedLine>), Failure> {
    // Created before any seed runs: a path that cannot be written is bad
    // input now, not after an hour of seeds.
    let mut writer = out
        .map(ShardWriter::create)
        .transpose()
        .map_err(|e| cannot_write(out, e))?;
    let name = &prepared.scenario.name;
    let mut tally = Tally::default();
    let mut lines: Vec<SeedLine> = Vec::new();
    run_seeds_in_batches(prepared, seeds, jobs, |batch| {
        let batch: Vec<SeedLine> = batch.iter().map(|r| SeedLine::new(name, r)).collect();
        if let Some(w) = &mut writer {
            w.lines(&batch)?;
        }
        for line in &batch {
            tally.add(line);
        }
        if keep_lines {
            lines.extend(batch);
        }
        Ok(())
    })
    .map_err(|e| cannot_write(out, e))?;
    if let Some(w) = writer {
        w.finish(trailer).map_err(|e| cannot_write(out, e))?;
    }
    Ok((tally, lines))
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
    tally: &Tally,
    shard: Shard,
    out: &mut dyn Write,
) -> std::io::Result<Exit> {
    let share = |n: u64| 100.0 * n as f64 / tally.seeds.max(1) as f64;
    for (verdict, v) in tally.verdicts() {
        writeln!(
            out,
            "  {verdict:<24} {:>7} seeds ({:.1}%)",
            v.count,
            share(v.count)
        )?;
        if verdict != "pass" {
            writeln!(
                out,
                "      first at seed {} ({} seeds to first failure; median from any start: {})",
                v.first[0],
                v.first_after,
                tally.median_seeds_to(verdict)
            )?;
            for &seed in &v.first {
                writeln!(out, "      {}", replay_command(path, seed))?;
            }
        }
    }
    // "Sometimes" coverage: how many seeds reached each label.
    for (label, seeds) in tally.reached() {
        writeln!(
            out,
            "  reached {label:<32} {seeds:>7} seeds ({:.1}%)",
            share(*seeds)
        )?;
    }
    let failing = tally.failing();
    if failing > 0 && tally.verdicts().len() > 2 {
        // Several checks fired: how often is the design caught at all?
        writeln!(
            out,
            "  caught by any check      {failing:>7} seeds ({:.1}%), median seeds to first failure from any start: {}",
            share(failing),
            tally.median_seeds_to_any()
        )?;
    }
    // A correct design must pass every seed. A broken one must be caught by
    // its named check at least once (unless this is one shard of many);
    // other checks catching it on other seeds are catches too.
    let ok = if expected == "pass" {
        failing == 0
    } else {
        tally
            .verdicts()
            .keys()
            .any(|label| accepts(expected, label))
            || shard != Shard::WHOLE
    };
    let wanted = if expected == "pass" {
        "every seed passes".to_owned()
    } else {
        format!("`{expected}` catches it")
    };
    writeln!(out, "expected  {wanted}: {}", if ok { "yes" } else { "NO" })?;
    Ok(if ok { Exit::Expected } else { Exit::Unexpected })
}
