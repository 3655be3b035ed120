//! `dsim replay FILE --seed N [--from E --to E] [--json] [--out F]`: re-runs
//! one seed with the trace recorded and prints it: readable lines by
//! default, JSON lines with `--json`. The run is the same as `dsim run`'s
//! (recording does not change the digest).

use std::io::Write;
use std::path::PathBuf;

use sim_core::record::RunRecord;
use sim_core::trace::{TraceEvent, TraceKind};

use crate::Exit;
use crate::commands::{Outcome, load_scenario, write_text};
use crate::runner::{is_expected, run_seed};

/// Re-run one seed and print its trace.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The scenario file.
    pub file: PathBuf,
    #[arg(long)]
    pub seed: u64,
    /// First engine event (step) to show.
    #[arg(long)]
    pub from: Option<u64>,
    /// Last engine event (step) to show.
    #[arg(long)]
    pub to: Option<u64>,
    /// JSON lines instead of readable lines.
    #[arg(long)]
    pub json: bool,
    /// Write here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run as `dsim hunt` does: the nemesis draws this seed's own fault mix.
    #[arg(long)]
    pub swarm: bool,
}

pub fn replay(args: &ReplayArgs, out: &mut dyn Write) -> Outcome {
    let mut prepared = load_scenario(&args.file)?;
    if args.swarm {
        prepared = prepared.swarmed();
    }
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
        Some(path) => write_text(path, &text)?,
        None => out.write_all(text.as_bytes())?,
    }
    eprintln!(
        "verdict {}; digest {}",
        record.verdict.sentence(),
        record.digest
    );
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
