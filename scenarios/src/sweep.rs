//! Sweeps: many seeds, JSON lines out, and the sharding that lets an
//! existing engine (a Kubernetes Indexed Job, a Slurm array, a CI matrix)
//! fan a sweep out. Shard K of N runs the seeds whose index in the range is
//! K modulo N; every output ends with a trailer line, so a killed shard is
//! detectable; `merge` reassembles shards into exactly the bytes the
//! unsharded sweep would have written.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::runner::SeedLine;

/// `K/N`: this process runs shard K (0-based) of N.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parses `K/N` with `0 <= K < N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not K/N (e.g. 0/4)"))?;
        let index: u64 = k
            .trim()
            .parse()
            .map_err(|_| format!("shard index `{k}` is not a number"))?;
        let count: u64 = n
            .trim()
            .parse()
            .map_err(|_| format!("shard count `{n}` is not a number"))?;
        if count == 0 || index >= count {
            return Err(format!("shard {index}/{count}: need 0 <= K < N"));
        }
        Ok(Shard { index, count })
    }

    /// This shard's seeds of `range`, in order.
    pub fn seeds(self, range: Range<u64>) -> Vec<u64> {
        range
            .enumerate()
            .filter(|(i, _)| *i as u64 % self.count == self.index)
            .map(|(_, s)| s)
            .collect()
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Parses `A..B` (B exclusive).
pub fn parse_seed_range(text: &str) -> Result<Range<u64>, String> {
    let (a, b) = text
        .split_once("..")
        .ok_or_else(|| format!("`{text}` is not a range A..B (e.g. 0..1000)"))?;
    let start: u64 = a
        .trim()
        .parse()
        .map_err(|_| format!("`{a}` is not a seed"))?;
    let end: u64 = b
        .trim()
        .parse()
        .map_err(|_| format!("`{b}` is not a seed"))?;
    if end <= start {
        return Err(format!("the range {start}..{end} is empty"));
    }
    Ok(start..end)
}

/// The last line of every sweep output.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trailer {
    pub scenario: String,
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

/// The JSON-lines text of a sweep output: seed lines, then the trailer.
pub fn render(lines: &[SeedLine], trailer: &Trailer) -> String {
    let mut out = String::new();
    for line in lines {
        out.push_str(&serde_json::to_string(line).expect("seed lines serialize"));
        out.push('\n');
    }
    out.push_str(
        &serde_json::to_string(&TrailerLine {
            trailer: trailer.clone(),
        })
        .expect("trailers serialize"),
    );
    out.push('\n');
    out
}

/// A parsed shard file.
#[derive(Debug)]
pub struct ShardFile {
    pub lines: Vec<SeedLine>,
    pub trailer: Trailer,
}

/// Parses one output file; `name` is for messages. A missing or malformed
/// trailer means the shard did not finish.
pub fn parse(name: &str, text: &str) -> Result<ShardFile, String> {
    let rows: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let Some((last, body)) = rows.split_last() else {
        return Err(format!("{name}: empty: the shard never wrote anything"));
    };
    let trailer = serde_json::from_str::<TrailerLine>(last)
        .map_err(|_| {
            format!(
                "{name}:{}: no trailer line: the shard was cut short (killed or still running)",
                rows.len()
            )
        })?
        .trailer;
    let mut lines = Vec::with_capacity(body.len());
    for (i, row) in body.iter().enumerate() {
        let line = serde_json::from_str::<SeedLine>(row)
            .map_err(|e| format!("{name}:{}: not a seed line: {e}", i + 1))?;
        lines.push(line);
    }
    if lines.len() as u64 != trailer.count {
        return Err(format!(
            "{name}: the trailer promises {} seed lines, the file has {}",
            trailer.count,
            lines.len()
        ));
    }
    Ok(ShardFile { lines, trailer })
}

/// Merges shard files into the unsharded output. Refuses a missing,
/// duplicated, truncated or foreign shard.
pub fn merge(files: &[(String, String)]) -> Result<String, String> {
    let mut shards: BTreeMap<u64, (String, ShardFile)> = BTreeMap::new();
    let mut expected: Option<(String, String, u64)> = None;
    for (name, text) in files {
        let file = parse(name, text)?;
        let shard =
            Shard::parse(&file.trailer.shard).map_err(|e| format!("{name}: bad trailer: {e}"))?;
        let key = (
            file.trailer.scenario.clone(),
            file.trailer.seeds.clone(),
            shard.count,
        );
        match &expected {
            None => expected = Some(key),
            Some(e) if *e != key => {
                return Err(format!(
                    "{name}: belongs to another sweep ({} seeds {} in {} shards; expected {} seeds {} in {} shards)",
                    key.0, key.1, key.2, e.0, e.1, e.2
                ));
            }
            Some(_) => {}
        }
        let range = parse_seed_range(&file.trailer.seeds)
            .map_err(|e| format!("{name}: bad trailer: {e}"))?;
        let seeds: Vec<u64> = file.lines.iter().map(|l| l.seed).collect();
        if seeds != shard.seeds(range) {
            return Err(format!("{name}: its seeds are not those of shard {shard}"));
        }
        if let Some((other, _)) = shards.insert(shard.index, (name.clone(), file)) {
            return Err(format!("{name}: shard {shard} given twice (also {other})"));
        }
    }
    let (scenario, seeds, count) = expected.ok_or("no shard files given")?;
    if let Some(missing) = (0..count).find(|k| !shards.contains_key(k)) {
        return Err(format!("shard {missing}/{count} is missing"));
    }
    let mut lines: Vec<SeedLine> = shards.into_values().flat_map(|(_, f)| f.lines).collect();
    lines.sort_by_key(|l| l.seed);
    let trailer = Trailer {
        scenario,
        seeds,
        shard: Shard::WHOLE.to_string(),
        count: lines.len() as u64,
    };
    Ok(render(&lines, &trailer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_seeds() {
        let mut all: Vec<u64> = (0..4)
            .flat_map(|k| Shard { index: k, count: 4 }.seeds(10..31))
            .collect();
        all.sort();
        assert_eq!(all, (10..31).collect::<Vec<_>>());
        assert_eq!(Shard { index: 1, count: 3 }.seeds(0..7), vec![1, 4]);
    }

    #[test]
    fn bad_shard_and_range_arguments_are_errors() {
        assert!(Shard::parse("4/4").is_err());
        assert!(Shard::parse("x/4").is_err());
        assert!(Shard::parse("1").is_err());
        assert_eq!(Shard::parse("3/4"), Ok(Shard { index: 3, count: 4 }));
        assert!(parse_seed_range("5..5").is_err());
        assert!(parse_seed_range("5").is_err());
        assert_eq!(parse_seed_range("0..1000"), Ok(0..1000));
    }
}
