//! The sweep output file: one JSON line per seed, in seed order, then one
//! trailer line. The trailer is written last, so a shard killed mid-way
//! leaves a file without one; it names the dsim version and the scenario
//! (name, path, a digest of the file, expected outcome), so a merge can
//! refuse a shard of another sweep and still print the unsharded sweep's
//! summary. `ShardWriter` writes as seeds finish; `render` writes a whole
//! file at once; both give the same bytes.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Cursor, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::runner::SeedLine;

/// The version of dsim writing (and merging) sweep outputs. Shards made by
/// different versions may disagree on what a seed does, so they never merge.
pub const DSIM_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The last line of every sweep output.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trailer {
    /// The dsim version that ran the seeds.
    pub dsim: String,
    /// The scenario's `name`.
    pub scenario: String,
    /// The scenario file as the sweep was given it (for replay commands).
    pub path: String,
    /// `scenario_digest` of the scenario file: an edited file is another
    /// scenario, even under the same name.
    pub scenario_digest: String,
    /// The expected outcome as a label (`Expect::label`): `pass`, or the
    /// check (or `|`-joined checks) that must catch a broken variant.
    pub expect: String,
    /// The whole sweep's seed range, `A..B`.
    pub seeds: String,
    /// Which shard this file holds, `K/N` (`0/1` when unsharded or merged).
    pub shard: String,
    /// How many seed lines precede the trailer.
    pub count: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrailerLine {
    trailer: Trailer,
}

/// The XXH3-64 hash of a scenario file's text, as 16 hex digits: which
/// file a sweep ran, so shards of different files never merge.
pub fn scenario_digest(source: &str) -> String {
    format!("{:016x}", twox_hash::XxHash3_64::oneshot(source.as_bytes()))
}

/// The JSON-lines text of a sweep output: seed lines, then the trailer.
pub fn render(lines: &[SeedLine], trailer: &Trailer) -> String {
    let mut out = String::new();
    for line in lines {
        out.push_str(&seed_line_text(line));
    }
    out.push_str(&trailer_text(trailer));
    out
}

/// Writes a sweep output as its seeds finish, flushing after each batch,
/// so a killed shard leaves whole seed lines and no trailer.
#[derive(Debug)]
pub struct ShardWriter {
    file: BufWriter<File>,
    path: PathBuf,
}

impl ShardWriter {
    /// Creates (or truncates: a re-run shard starts afresh) the file.
    pub fn create(path: &Path) -> std::io::Result<ShardWriter> {
        Ok(ShardWriter {
            file: BufWriter::new(File::create(path)?),
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn lines(&mut self, lines: &[SeedLine]) -> std::io::Result<()> {
        for line in lines {
            self.file.write_all(seed_line_text(line).as_bytes())?;
        }
        self.file.flush()
    }

    /// Writes the trailer: from here on the file is a finished shard.
    pub fn finish(mut self, trailer: &Trailer) -> std::io::Result<()> {
        self.file.write_all(trailer_text(trailer).as_bytes())?;
        self.file.flush()?;
        // A finished shard is on disk before its job reports success. A
        // device or a pipe (`--out /dev/null`, `/dev/stdout`) has nothing
        // to sync, and refuses to.
        let file = self.file.get_ref();
        if file.metadata()?.is_file() {
            file.sync_all()?;
        }
        Ok(())
    }
}

/// One seed line of a sweep output, newline included.
pub fn seed_line_text(line: &SeedLine) -> String {
    let mut text = serde_json::to_string(line).expect("seed lines serialize");
    text.push('\n');
    text
}

/// The trailer line of a sweep output, newline included.
pub fn trailer_text(trailer: &Trailer) -> String {
    let line = TrailerLine {
        trailer: trailer.clone(),
    };
    let mut text = serde_json::to_string(&line).expect("trailers serialize");
    text.push('\n');
    text
}

/// A parsed sweep output.
#[derive(Debug)]
pub struct ShardFile {
    pub lines: Vec<SeedLine>,
    pub trailer: Trailer,
}

/// Where a shard's lines come from: its file, or (in tests) its text.
#[derive(Clone, Debug)]
pub enum ShardSource {
    File(PathBuf),
    Text { name: String, text: String },
}

/// A shard's non-empty rows, numbered from 1 as in the file.
pub(super) type Rows = Box<dyn Iterator<Item = Result<(usize, String), String>>>;

impl ShardSource {
    pub(super) fn name(&self) -> String {
        match self {
            ShardSource::File(path) => path.display().to_string(),
            ShardSource::Text { name, .. } => name.clone(),
        }
    }

    pub(super) fn rows(&self) -> Result<Rows, String> {
        let name = self.name();
        let reader: Box<dyn BufRead> = match self {
            ShardSource::File(path) => Box::new(BufReader::new(
                File::open(path).map_err(|e| format!("{name}: cannot read: {e}"))?,
            )),
            ShardSource::Text { text, .. } => Box::new(Cursor::new(text.clone().into_bytes())),
        };
        Ok(Box::new(
            reader
                .lines()
                .enumerate()
                .map(move |(i, row)| {
                    row.map(|row| (i + 1, row))
                        .map_err(|e| format!("{name}:{}: cannot read: {e}", i + 1))
                })
                .filter(|row| row.as_ref().map_or(true, |(_, r)| !r.trim().is_empty())),
        ))
    }
}

/// Parses one output file held as text (a report reads a whole sweep);
/// `name` is for messages, which give its line numbers. A missing
/// trailer means the shard did not finish.
pub fn parse(name: &str, text: &str) -> Result<ShardFile, String> {
    let source = ShardSource::Text {
        name: name.to_owned(),
        text: text.to_owned(),
    };
    let trailer = read_trailer(&source)?;
    let lines = source
        .rows()?
        .take(trailer.count as usize)
        .map(|row| row.and_then(|(number, row)| seed_line(name, number, &row)))
        .collect::<Result<_, _>>()?;
    Ok(ShardFile { lines, trailer })
}

/// One seed line of a shard, or what is wrong with it.
pub(super) fn seed_line(name: &str, number: usize, row: &str) -> Result<SeedLine, String> {
    serde_json::from_str(row).map_err(|e| format!("{name}:{number}: not a seed line: {e}"))
}

/// A shard's trailer, after checking that its line count matches it.
pub(super) fn read_trailer(source: &ShardSource) -> Result<Trailer, String> {
    let name = source.name();
    let mut rows = 0u64;
    let mut last = None;
    for row in source.rows()? {
        last = Some(row?);
        rows += 1;
    }
    let Some((number, row)) = last else {
        return Err(format!("{name}: empty: the shard never wrote anything"));
    };
    let trailer = parse_trailer(&name, number, &row)?;
    if rows - 1 != trailer.count {
        return Err(format!(
            "{name}:{number}: the trailer promises {} seed lines, the file has {}",
            trailer.count,
            rows - 1
        ));
    }
    Ok(trailer)
}

fn parse_trailer(name: &str, number: usize, row: &str) -> Result<Trailer, String> {
    if let Ok(line) = serde_json::from_str::<TrailerLine>(row) {
        return Ok(line.trailer);
    }
    // Tell an unfinished shard from a trailer this dsim cannot read.
    let value: Option<serde_json::Value> = serde_json::from_str(row).ok();
    let Some(trailer) = value.as_ref().and_then(|v| v.get("trailer")) else {
        return Err(format!(
            "{name}:{number}: no trailer line: the shard was cut short (killed or still running); run it again"
        ));
    };
    if trailer.get("dsim").is_none() {
        return Err(format!(
            "{name}:{number}: the trailer names no dsim version: an older dsim wrote this shard; run it again with dsim {DSIM_VERSION}"
        ));
    }
    let error = serde_json::from_str::<TrailerLine>(row)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    Err(format!("{name}:{number}: malformed trailer: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trailer(count: u64) -> Trailer {
        Trailer {
            dsim: DSIM_VERSION.to_owned(),
            scenario: "s".to_owned(),
            path: "s.ron".to_owned(),
            scenario_digest: scenario_digest("text"),
            expect: "pass".to_owned(),
            seeds: "0..2".to_owned(),
            shard: "0/1".to_owned(),
            count,
        }
    }

    #[test]
    fn a_file_without_its_trailer_was_cut_short() {
        let text = render(&[], &trailer(0));
        assert!(parse("f", &text).is_ok());
        let err = parse("f", "{\"scenario\":\"s\"}\n").unwrap_err();
        assert!(err.starts_with("f:1: no trailer line"), "{err}");
        assert!(parse("f", "").unwrap_err().contains("empty"));
    }

    #[test]
    fn an_old_or_malformed_trailer_says_so_with_its_line() {
        let old = "\n{\"trailer\":{\"scenario\":\"s\",\"seeds\":\"0..2\",\"shard\":\"0/1\",\"count\":0}}\n";
        let err = parse("f", old).unwrap_err();
        assert!(
            err.starts_with("f:2: the trailer names no dsim version"),
            "{err}"
        );
        let bad = render(&[], &trailer(0)).replace("\"count\":0", "\"count\":\"x\"");
        let err = parse("f", &bad).unwrap_err();
        assert!(err.starts_with("f:1: malformed trailer"), "{err}");
        let short = render(&[], &trailer(3));
        assert!(parse("f", &short).unwrap_err().contains("promises 3"));
    }
}
