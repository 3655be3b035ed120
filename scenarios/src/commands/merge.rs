//! `dsim merge SHARD... [--out F.jsonl] [--report DIR]`: reassembles the
//! shards of a fanned-out sweep into the unsharded output (byte for byte),
//! then judges it as `dsim sweep` would have: the same grouped failure
//! summary, replay commands and exit code, and the same sweep report. The
//! trailers carry what that needs (scenario path, expected outcome), so no
//! scenario file has to be at hand where the merge runs.

use std::io::Write;
use std::path::PathBuf;

use crate::commands::report::{slug, write_sweep_report};
use crate::commands::sweep::summarize;
use crate::commands::{Failure, Outcome, read_text, write_text};
use crate::sweep::Tally;
use crate::sweep::{Shard, merge, render};

/// Merge sweep shard files into the unsharded output; failures summarised as by sweep.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shard files (`dsim sweep --shard K/N --out ...`).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write the merged lines here instead of standard output (then the
    /// summary goes to standard error, so a pipe gets only JSON).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write the sweep's HTML report into this folder.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

pub fn merge_files(args: &MergeArgs, stdout: &mut dyn Write) -> Outcome {
    let mut inputs = Vec::with_capacity(args.files.len());
    for f in &args.files {
        inputs.push((f.display().to_string(), read_text(f)?));
    }
    let merged = merge(&inputs).map_err(Failure::Input)?;
    let text = render(&merged.lines, &merged.trailer);
    let mut stderr = std::io::stderr().lock();
    let summary: &mut dyn Write = match &args.out {
        Some(path) => {
            write_text(path, &text)?;
            stdout
        }
        None => {
            stdout.write_all(text.as_bytes())?;
            &mut stderr
        }
    };
    let trailer = &merged.trailer;
    writeln!(
        summary,
        "{}: {} seeds ({}) merged from {} shards (dsim {}, scenario digest {})",
        trailer.scenario,
        merged.lines.len(),
        trailer.seeds,
        inputs.len(),
        trailer.dsim,
        trailer.scenario_digest
    )?;
    let mut tally = Tally::default();
    for line in &merged.lines {
        tally.add(line);
    }
    let exit = summarize(
        &trailer.path,
        &trailer.expect,
        &tally,
        Shard::WHOLE,
        summary,
    )?;
    if let Some(path) = &args.out {
        writeln!(summary, "results   {}", path.display())?;
    }
    if let Some(dir) = &args.report {
        let path = dir.join(format!("{}-sweep.html", slug(&trailer.scenario)));
        write_sweep_report(
            &trailer.scenario,
            &trailer.path,
            &trailer.expect,
            &merged.lines,
            &path,
        )?;
        writeln!(summary, "report    {}", path.display())?;
    }
    Ok(exit)
}
