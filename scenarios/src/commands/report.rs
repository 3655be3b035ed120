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
use crate::commands::load_or_report;
use crate::load::Prepared;
use crate::runner::{is_expected, run_seed};
use crate::sweep;

#[derive(Debug)]
pub struct ReportArgs<'a> {
    /// A scenario (`.ron`) or a sweep's output (`.jsonl`).
    pub input: &'a Path,
    pub seed: Option<u64>,
    /// For a sweep output: the scenario it came from (its path and
    /// expected outcome appear in the report; default: the trailer's).
    pub scenario: Option<PathBuf>,
    /// The HTML file to write (default: named after the scenario, here).
    pub out: Option<PathBuf>,
}

pub fn report(args: &ReportArgs<'_>, out: &mut dyn Write) -> std::io::Result<Exit> {
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

fn run_from_scenario(args: &ReportArgs<'_>, out: &mut dyn Write) -> std::io::Result<Exit> {
    let prepared = match load_or_report(args.input) {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
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

fn sweep_from_results(args: &ReportArgs<'_>, out: &mut dyn Write) -> std::io::Result<Exit> {
    let name = args.input.display().to_string();
    let parsed = std::fs::read_to_string(args.input)
        .map_err(|e| format!("{name}: cannot read: {e}"))
        .and_then(|text| sweep::parse(&name, &text));
    let file = match parsed {
        Ok(f) => f,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(Exit::BadInput);
        }
    };
    let (scenario_path, expected) = match &args.scenario {
        None => (file.trailer.path.clone(), file.trailer.expect.clone()),
        Some(path) => match load_or_report(path) {
            Ok(p) => (
                p.path.clone(),
                p.scenario
                    .expect
                    .failure_label()
                    .unwrap_or("pass")
                    .to_owned(),
            ),
            Err(exit) => return Ok(exit),
        },
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
) -> std::io::Result<()> {
    let replay = format!("dsim replay {} --seed {}", prepared.path, record.seed);
    let html = reports::run_report(&RunReportInput {
        scenario_name: &prepared.scenario.name,
        scenario_path: &prepared.path,
        scenario_source: &prepared.source,
        expected: prepared.scenario.expect.failure_label().unwrap_or("pass"),
        replay_command: &replay,
        record,
    });
    write_creating_dirs(path, &html)
}

pub fn write_sweep_report(
    name: &str,
    scenario_path: &str,
    expected: &str,
    lines: &[SeedLine],
    path: &Path,
) -> std::io::Result<()> {
    let html = reports::sweep_report(&SweepReportInput {
        scenario_name: name,
        scenario_path,
        expected,
        lines,
    });
    write_creating_dirs(path, &html)
}

pub fn write_creating_dirs(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)
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
