//! `dsim report`: HTML reports. `dsim report FILE.ron [--seed N]` re-runs a
//! seed (runs are exact, so this is the run) with its trace and history
//! recorded and writes the run report; `dsim report RESULTS.jsonl
//! [--scenario FILE.ron]` writes the sweep report of a sweep's output.
//! `dsim run/sweep --report DIR` write the same pages as they go.

use std::io::Write;
use std::path::{Path, PathBuf};

use reports::{RunReportInput, SweepReportInput};
use sim_core::record::{RunRecord, SeedLine};

use crate::Exit;
use crate::commands::{Failure, Outcome, load_scenario, read_text, write_text};
use crate::load::Prepared;
use crate::runner::{is_expected, run_seed};
use crate::sweep;

/// Write an HTML report: of one seed (FILE.ron) or of a sweep's output (RESULTS.jsonl).
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A scenario (`.ron`) or a sweep's output (`.jsonl`).
    pub input: PathBuf,
    /// For a scenario: the seed (default: its first).
    #[arg(long)]
    pub seed: Option<u64>,
    /// For a sweep output: the scenario it came from (default: the one its trailer names).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// The HTML file to write (default: named after the scenario).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn report(args: &ReportArgs, out: &mut dyn Write) -> Outcome {
    let is_results = args
        .input
        .extension()
        .is_some_and(|e| e == "jsonl" || e == "json");
    if is_results {
        sweep_from_results(args, out)
    } else {
        run_from_scenario(args, out)
    }
}

fn run_from_scenario(args: &ReportArgs, out: &mut dyn Write) -> Outcome {
    let prepared = load_scenario(&args.input)?;
    let seed = args.seed.unwrap_or(prepared.scenario.seeds.start);
    let record = run_seed(&prepared, seed, true, true);
    let path = args
        .out
        .clone()
        .unwrap_or_else(|| run_report_name(&prepared, seed));
    write_run_report(&prepared, &record, &path)?;
    writeln!(
        out,
        "{}: verdict {} -> {}",
        prepared.scenario.name,
        record.verdict.label(),
        path.display()
    )?;
    Ok(if is_expected(&prepared.scenario.expect, &record.verdict) {
        Exit::Expected
    } else {
        Exit::Unexpected
    })
}

fn sweep_from_results(args: &ReportArgs, out: &mut dyn Write) -> Outcome {
    let name = args.input.display().to_string();
    let text = read_text(&args.input)?;
    let file = sweep::parse(&name, &text).map_err(Failure::Input)?;
    let (scenario_path, expected) = match &args.scenario {
        None => (file.trailer.path.clone(), file.trailer.expect.clone()),
        Some(path) => {
            let prepared = load_scenario(path)?;
            (prepared.path.clone(), prepared.scenario.expect.label())
        }
    };
    let path = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}-sweep.html", slug(&file.trailer.scenario))));
    write_sweep_report(
        &file.trailer.scenario,
        &scenario_path,
        &expected,
        &file.lines,
        &path,
    )?;
    writeln!(
        out,
        "{}: {} seeds -> {}",
        file.trailer.scenario,
        file.lines.len(),
        path.display()
    )?;
    Ok(Exit::Expected)
}

/// `DIR/<scenario>-seed-<N>.html` for `--report DIR`, or the current
/// folder.
pub fn run_report_name(prepared: &Prepared, seed: u64) -> PathBuf {
    PathBuf::from(format!(
        "{}-seed-{seed}.html",
        slug(&prepared.scenario.name)
    ))
}

pub fn write_run_report(
    prepared: &Prepared,
    record: &RunRecord,
    path: &Path,
) -> Result<(), Failure> {
    let replay = prepared.replay_command(record.seed);
    let html = reports::run_report(&RunReportInput {
        scenario_name: &prepared.scenario.name,
        scenario_path: &prepared.path,
        scenario_source: &prepared.source,
        expected: &prepared.scenario.expect.label(),
        replay_command: &replay,
        record,
    });
    write_text(path, &html)
}

pub fn write_sweep_report(
    name: &str,
    scenario_path: &str,
    expected: &str,
    lines: &[SeedLine],
    path: &Path,
) -> Result<(), Failure> {
    let html = reports::sweep_report(&SweepReportInput {
        scenario_name: name,
        scenario_path,
        expected,
        lines,
    });
    write_text(path, &html)
}

/// A file-name-safe form of a scenario name.
pub fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}
