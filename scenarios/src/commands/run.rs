//! `dsim run FILE [--seed N]`: one run, explained: the verdict and where it
//! happened, key metrics, the digest, speed, and the command that replays it.

// Events per second is measured on the wall clock, outside the run.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use sim_core::Verdict;
use sim_core::record::RunRecord;

use crate::Exit;
use crate::commands::{load_or_report, thousands};
use crate::load::Prepared;
use crate::runner::{SeedLine, is_expected, run_seed};

#[derive(Debug)]
pub struct RunArgs<'a> {
    pub file: &'a Path,
    /// Defaults to the scenario's first seed.
    pub seed: Option<u64>,
    /// Print the seed's JSON line instead of the human summary.
    pub json: bool,
    /// Also write the run's HTML report into this folder.
    pub report: Option<std::path::PathBuf>,
}

pub fn run(args: &RunArgs<'_>, out: &mut dyn Write) -> std::io::Result<Exit> {
    let prepared = match load_or_report(args.file) {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let seed = args.seed.unwrap_or(prepared.scenario.seeds.start);
    let started = Instant::now();
    // Recording the trace for a report does not change the run or its digest.
    let reporting = args.report.is_some();
    let record = run_seed(&prepared, seed, reporting, reporting);
    let wall = started.elapsed();
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
    let wanted = s.expect.failure_label().unwrap_or("pass");
    let mark = if expected {
        "as expected"
    } else {
        "UNEXPECTED"
    };
    writeln!(
        out,
        "verdict   {}  ({mark}: the scenario expects {wanted})",
        verdict_line(record)
    )?;
    if let Some(detail) = verdict_explanation(&record.verdict) {
        writeln!(out, "          {detail}")?;
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
        writeln!(
            out,
            "nemesis   mix drawn for this seed: partition {} crash {} pause {} clock_step {} link {}",
            w.partition, w.crash, w.pause, w.clock_step, w.link
        )?;
    }
    if !record.metrics.is_empty() {
        let metrics: Vec<String> = record
            .metrics
            .iter()
            .map(|(k, v)| format!("{k} {}", number(*v)))
            .collect();
        writeln!(out, "metrics   {}", metrics.join(", "))?;
    }
    writeln!(out, "replay    dsim replay {path} --seed {}", record.seed)?;
    Ok(())
}

fn verdict_line(record: &RunRecord) -> String {
    match &record.verdict {
        Verdict::Pass => "pass".to_owned(),
        Verdict::Violated(v) => format!(
            "VIOLATED {} at event {} (t={})",
            v.invariant, v.event, v.time
        ),
        Verdict::NotLive(_) => "NOT LIVE: operations did not finish after the heal".to_owned(),
        Verdict::Unknown { check, .. } => format!("UNKNOWN: {check} could not decide"),
        Verdict::LimitReached { limit, event, time } => {
            format!("LIMIT {limit:?} reached at event {event} (t={time})")
        }
    }
}

fn verdict_explanation(verdict: &Verdict) -> Option<String> {
    let ops = |ops: &[sim_core::OpId]| -> String {
        let shown: Vec<String> = ops.iter().take(8).map(|o| format!("#{}", o.0)).collect();
        let more = if ops.len() > 8 {
            format!(" and {} more", ops.len() - 8)
        } else {
            String::new()
        };
        format!("operations {}{more}", shown.join(", "))
    };
    match verdict {
        Verdict::Violated(v) if v.ops.is_empty() => Some(v.message.clone()),
        Verdict::Violated(v) => Some(format!("{} ({})", v.message, ops(&v.ops))),
        Verdict::NotLive(l) => Some(l.message.clone()),
        Verdict::Unknown { reason, .. } => Some(reason.clone()),
        _ => None,
    }
}

/// Integers without decimals, fractions with three significant places.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}
