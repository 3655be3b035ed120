//! `dsim replay FILE --seed N [--from E --to E] [--json] [--out F]`: re-runs
//! one seed with the trace recorded and prints it: readable lines by
//! default, JSON lines with `--json`. The run is the same as `dsim run`'s
//! (recording does not change the digest).

use std::io::Write;
use std::path::{Path, PathBuf};

use sim_core::record::RunRecord;
use sim_core::trace::{TraceEvent, TraceKind};

use crate::Exit;
use crate::commands::load_or_report;
use crate::runner::{is_expected, run_seed};

#[derive(Debug)]
pub struct ReplayArgs<'a> {
    pub file: &'a Path,
    pub seed: u64,
    /// First and last engine event (step) to show, inclusive.
    pub from: Option<u64>,
    pub to: Option<u64>,
    pub json: bool,
    pub out: Option<PathBuf>,
}

pub fn replay(args: &ReplayArgs<'_>, out: &mut dyn Write) -> std::io::Result<Exit> {
    let prepared = match load_or_report(args.file) {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let record = run_seed(&prepared, args.seed, true, true);
    let from = args.from.unwrap_or(0);
    let to = args.to.unwrap_or(u64::MAX);
    let mut text = String::new();
    for event in record.trace.as_deref().unwrap_or_default() {
        if (from..=to).contains(&event.event) {
            if args.json {
                text.push_str(&serde_json::to_string(event).expect("trace events serialize"));
            } else {
                text.push_str(&readable(event, &record));
            }
            text.push('\n');
        }
    }
    match &args.out {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return Ok(Exit::BadInput);
            }
        }
        None => out.write_all(text.as_bytes())?,
    }
    let verdict = match &record.verdict {
        sim_core::Verdict::Violated(v) => format!(
            "{} at event {} (t={}): {}",
            v.invariant, v.event, v.time, v.message
        ),
        other => other.label().to_owned(),
    };
    eprintln!("verdict {verdict}; digest {}", record.digest);
    let expected = is_expected(&prepared.scenario.expect, &record.verdict);
    Ok(if expected {
        Exit::Expected
    } else {
        Exit::Unexpected
    })
}

/// `#step  time  kind  node -> peer  [msg#id]  detail`.
pub fn readable(event: &TraceEvent, record: &RunRecord) -> String {
    let name = |n: Option<sim_core::NodeId>| {
        n.map(|n| {
            record
                .node_names
                .get(n.index())
                .cloned()
                .unwrap_or_else(|| n.to_string())
        })
        .unwrap_or_default()
    };
    let kind = match event.kind {
        TraceKind::Drop(reason) => format!("drop({reason:?})"),
        other => format!("{other:?}"),
    };
    let parties = match (event.kind, event.peer) {
        (TraceKind::Deliver, Some(_)) => format!("{} <- {}", name(event.node), name(event.peer)),
        (_, Some(_)) => format!("{} -> {}", name(event.node), name(event.peer)),
        _ => name(event.node),
    };
    let message = event
        .message
        .map(|m| format!(" msg#{m}"))
        .unwrap_or_default();
    format!(
        "#{:<7} {} {:<22} {:<28}{message} {}",
        event.event, event.time, kind, parties, event.detail
    )
}
