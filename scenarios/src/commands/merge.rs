//! `dsim merge SHARD... [--out F.jsonl] [--report DIR]`: reassembles the
//! shards of a fanned-out sweep into the unsharded output (byte for byte),
//! then judges it as `dsim sweep` would have: the same grouped failure
//! summary, replay commands and exit code, and the same sweep report. The
//! trailers carry what that needs (scenario path, expected outcome), so no
//! scenario file has to be at hand where the merge runs.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::Exit;
use crate::commands::report::{slug, write_sweep_report};
use crate::commands::sweep::summarize;
use crate::sweep::{Shard, merge, render};

#[derive(Debug)]
pub struct MergeArgs<'a> {
    pub files: &'a [PathBuf],
    /// Where the merged JSON lines go; `None`: standard output, and the
    /// summary goes to standard error so a pipe gets only JSON.
    pub out: Option<&'a Path>,
    /// Also write the sweep's HTML report into this folder.
    pub report: Option<&'a Path>,
}

pub fn merge_files(args: &MergeArgs<'_>, stdout: &mut dyn Write) -> std::io::Result<Exit> {
    let mut inputs = Vec::with_capacity(args.files.len());
    for f in args.files {
        match std::fs::read_to_string(f) {
            Ok(text) => inputs.push((f.display().to_string(), text)),
            Err(e) => {
                eprintln!("error: {}: cannot read: {e}", f.display());
                return Ok(Exit::BadInput);
            }
        }
    }
    let merged = match merge(&inputs) {
        Ok(merged) => merged,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(Exit::BadInput);
        }
    };
    let text = render(&merged.lines, &merged.trailer);
    let mut stderr = std::io::stderr().lock();
    let summary: &mut dyn Write = match args.out {
        Some(path) => {
            if let Err(e) = std::fs::write(path, text) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return Ok(Exit::BadInput);
            }
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
    let exit = summarize(
        &trailer.path,
        trailer.expected_failure(),
        &merged.lines,
        Shard::WHOLE,
        summary,
    )?;
    if let Some(path) = args.out {
        writeln!(summary, "results   {}", path.display())?;
    }
    if let Some(dir) = args.report {
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
