//! `dsim run FILE [--seed N]`: one run, explained: the verdict and where it
//! happened, key metrics, the digest, speed, and the command that replays it.

use std::io::Write;
use std::path::PathBuf;

use sim_core::Verdict;
use sim_core::record::RunRecord;

use crate::Exit;
use crate::commands::{Outcome, load_scenario};
use crate::load::Prepared;
use crate::runner::{SeedLine, is_expected, run_seed};
use crate::stopwatch::Stopwatch;
use sim_core::metrics::thousands;

/// Run one seed and explain the result.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// The seed (default: the scenario's first).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print the seed's JSON line instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Also write the run's HTML report into this folder.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Run as `dsim hunt` does: the nemesis draws this seed's own fault mix.
    #[arg(long)]
    pub swarm: bool,
}

pub fn run(args: &RunArgs, out: &mut dyn Write) -> Outcome {
    let mut prepared = load_scenario(&args.file)?;
    if args.swarm {
        prepared = prepared.swarmed();
    }
    let seed = args.seed.unwrap_or(prepared.scenario.seeds.start);
    let stopwatch = Stopwatch::start();
    // Recording the trace for a report does not change the run or its digest.
    let reporting = args.report.is_some();
    let record = run_seed(&prepared, seed, reporting, reporting);
    let wall = stopwatch.elapsed();
    if let Some(dir) = &args.report {
        let path = dir.join(crate::commands::report::run_report_name(&prepared, seed));
        crate::commands::report::write_run_report(&prepared, &record, &path)?;
        eprintln!("report    {}", path.display());
    }
    let expected = is_expected(&prepared.scenario.expect, &record.verdict);
    if args.json {
        writeln!(
            out,
            "{}",
            serde_json::to_string(&SeedLine::new(&prepared.scenario.name, &record)).expect("json")
        )?;
    } else {
        describe(&prepared, &record, wall.as_secs_f64(), out)?;
    }
    Ok(if expected {
        Exit::Expected
    } else {
        Exit::Unexpected
    })
}

/// The human summary of one run.
pub fn describe(
    prepared: &Prepared,
    record: &RunRecord,
    wall_s: f64,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let s = &prepared.scenario;
    let path = &prepared.path;
    writeln!(out, "{} ({path}), seed {}", s.name, record.seed)?;
    let expected = is_expected(&s.expect, &record.verdict);
    let wanted = s.expect.label();
    let mark = if expected {
        "as expected"
    } else {
        "UNEXPECTED"
    };
    writeln!(
        out,
        "verdict   {}  ({mark}: the scenario expects {wanted})",
        record.verdict.sentence()
    )?;
    if let Some(ops) = named_operations(&record.verdict) {
        writeln!(out, "          {ops}")?;
    }
    writeln!(out, "digest    {}", record.digest)?;
    let st = &record.stats;
    let events_per_s = st.events as f64 / wall_s.max(1e-9);
    let ratio = st.end_time.as_nanos() as f64 / (wall_s.max(1e-9) * 1e9);
    writeln!(
        out,
        "run       {} events in {:.1} ms wall ({:.2} M events/s); {} simulated ({:.0}x wall)",
        thousands(st.events),
        wall_s * 1e3,
        events_per_s / 1e6,
        st.end_time,
        ratio
    )?;
    writeln!(
        out,
        "messages  {} sent, {} delivered, {} dropped, {} duplicated; {} faults",
        thousands(st.messages_sent),
        thousands(st.messages_delivered),
        thousands(st.messages_dropped),
        thousands(st.messages_duplicated),
        st.faults
    )?;
    if let Some(w) = &record.nemesis_weights {
        let mut mix = format!(
            "partition {} crash {} pause {} clock_step {} link {} shutdown {}",
            w.partition, w.crash, w.pause, w.clock_step, w.link, w.shutdown
        );
        // Connection kinds only where a scenario turned them on.
        if w.conn_reset + w.conn_stall > 0 {
            mix.push_str(&format!(
                " conn_reset {} conn_stall {}",
                w.conn_reset, w.conn_stall
            ));
        }
        writeln!(out, "nemesis   mix drawn for this seed: {mix}")?;
    }
    if !record.metrics.is_empty() {
        let metrics: Vec<String> = record
            .metrics
            .iter()
            .map(|(k, v)| format!("{k} {}", number(*v)))
            .collect();
        writeln!(out, "metrics   {}", metrics.join(", "))?;
    }
    for note in &record.notes {
        writeln!(out, "note      {note}")?;
    }
    writeln!(out, "replay    {}", prepared.replay_command(record.seed))?;
    Ok(())
}

/// The operations a verdict names, for people: `operations #3, #7`.
fn named_operations(verdict: &Verdict) -> Option<String> {
    let ops = match verdict {
        Verdict::Violated(v) => &v.ops,
        Verdict::NotLive(l) => &l.ops,
        _ => return None,
    };
    if ops.is_empty() {
        return None;
    }
    let shown: Vec<String> = ops.iter().take(8).map(|o| format!("#{}", o.0)).collect();
    let more = match ops.len() {
        n if n > 8 => format!(" and {} more", n - 8),
        _ => String::new(),
    };
    Some(format!("operations {}{more}", shown.join(", ")))
}

/// Integers without decimals, fractions with three significant places.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}
