//! `dsim merge SHARD... [--out F.jsonl] [--report DIR]`: reassembles the
//! shards of a fanned-out sweep into the unsharded output (byte for byte),
//! then judges it as `dsim sweep` would have: the same grouped failure
//! summary, replay commands and exit code, and the same sweep report. The
//! trailers carry what that needs (scenario path, expected outcome), so no
//! scenario file has to be at hand where the merge runs. The lines stream
//! from the shards to the output: memory stays flat however many seeds.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::commands::report::{slug, write_sweep_report};
use crate::commands::sweep::summarize;
use crate::commands::{Failure, Outcome};
use crate::sweep::{Shard, ShardSource, Tally, merge, seed_line_text, trailer_text};

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
    let sources: Vec<ShardSource> = args.files.iter().cloned().map(ShardSource::File).collect();
    let merged = merge(&sources).map_err(Failure::Input)?;
    let trailer = merged.trailer.clone();
    let shards = merged.shards();
    let mut stderr = std::io::stderr().lock();
    let mut file = match &args.out {
        Some(path) => Some(create(path)?),
        None => None,
    };
    // The lines stream through: counted into the tally and written out,
    // kept only for a report.
    let mut tally = Tally::default();
    let mut kept = Vec::new();
    for line in merged {
        let line = line.map_err(Failure::Input)?;
        let text = seed_line_text(&line);
        match &mut file {
            Some((out, path)) => out
                .write_all(text.as_bytes())
                .map_err(|e| written(path, e))?,
            None => stdout.write_all(text.as_bytes())?,
        }
        tally.add(&line);
        if args.report.is_some() {
            kept.push(line);
        }
    }
    // The trailer last: a merge cut short leaves a file without one, which
    // reads as unfinished.
    let summary: &mut dyn Write = match &mut file {
        Some((out, path)) => {
            out.write_all(trailer_text(&trailer).as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| written(path, e))?;
            stdout
        }
        None => {
            stdout.write_all(trailer_text(&trailer).as_bytes())?;
            &mut stderr
        }
    };
    writeln!(
        summary,
        "{}: {} seeds ({}) merged from {shards} shards (dsim {}, scenario digest {})",
        trailer.scenario, trailer.count, trailer.seeds, trailer.dsim, trailer.scenario_digest
    )?;
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
            &kept,
            &path,
        )?;
        writeln!(summary, "report    {}", path.display())?;
    }
    Ok(exit)
}

/// Creates the output file (and its folder).
fn create(path: &Path) -> Result<(BufWriter<File>, PathBuf), Failure> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| written(path, e))?;
    }
    let file = File::create(path).map_err(|e| written(path, e))?;
    Ok((BufWriter::new(file), path.to_owned()))
}

fn written(path: &Path, source: std::io::Error) -> Failure {
    Failure::File {
        doing: "write",
        path: path.to_owned(),
        source,
    }
}
