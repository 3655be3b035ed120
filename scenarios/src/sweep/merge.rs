//! Merging shard files into the unsharded output. A merge refuses, naming
//! the file, a shard that did not finish (no trailer), a shard given twice,
//! a missing shard, and a shard of another sweep: another dsim version,
//! scenario, scenario file, seed range or shard count. Anything it accepts
//! merges into exactly the bytes one unsharded sweep would have written.
//!
//! A merge streams: it reads each shard twice, once for its trailer and
//! once to hand out its seed lines, and holds one line at a time, so
//! merging a million seeds needs no more memory than merging ten. Shard
//! `k` of `n` holds every `n`-th seed from the `k`-th, so the seed order
//! is the shards' lines taken in turn.

use std::collections::BTreeMap;
use std::ops::Range;

use super::output::{DSIM_VERSION, Rows, ShardSource, Trailer, read_trailer, seed_line};
use super::{Shard, parse_seed_range};
use crate::runner::SeedLine;

/// Shards whose trailers agree, ready to hand out the unsharded sweep's
/// seed lines in seed order (`lines`), with the unsharded trailer.
pub struct Merge {
    pub trailer: Trailer,
    readers: Vec<(String, Rows)>,
    range: Range<u64>,
    next: u64,
}

/// Checks the shards' trailers (first pass): the merge can start.
pub fn merge(sources: &[ShardSource]) -> Result<Merge, String> {
    let mut shards: BTreeMap<u64, (ShardSource, Trailer)> = BTreeMap::new();
    let mut first: Option<(String, Trailer, u64)> = None;
    for source in sources {
        let name = source.name();
        let trailer = read_trailer(source)?;
        if trailer.dsim != DSIM_VERSION {
            return Err(format!(
                "{name}: written by dsim {}, and this is dsim {DSIM_VERSION}: run every shard, and the merge, with one dsim",
                trailer.dsim
            ));
        }
        let shard =
            Shard::parse(&trailer.shard).map_err(|e| format!("{name}: bad trailer: {e}"))?;
        match &first {
            None => first = Some((name.clone(), trailer.clone(), shard.count)),
            Some((first_name, expected, count)) => {
                same_sweep(&name, &trailer, shard.count, first_name, expected, *count)?;
            }
        }
        let range =
            parse_seed_range(&trailer.seeds).map_err(|e| format!("{name}: bad trailer: {e}"))?;
        if trailer.count != shard.seed_count(range) {
            return Err(format!("{name}: its seeds are not those of shard {shard}"));
        }
        if let Some((other, _)) = shards.insert(shard.index, (source.clone(), trailer)) {
            return Err(format!(
                "{name}: shard {shard} given twice (also {}): the shard ran twice; give one of them",
                other.name()
            ));
        }
    }
    let (_, _, count) = first.ok_or("no shard files given")?;
    if let Some(missing) = (0..count).find(|k| !shards.contains_key(k)) {
        return Err(format!(
            "shard {missing}/{count} is missing: run it, or give its file"
        ));
    }
    // Shard 0's trailer, whatever the order of the arguments.
    let base = shards[&0].1.clone();
    let range = parse_seed_range(&base.seeds).expect("checked above");
    let mut readers = Vec::with_capacity(shards.len());
    for (source, _) in shards.into_values() {
        readers.push((source.name(), source.rows()?));
    }
    let trailer = Trailer {
        shard: Shard::WHOLE.to_string(),
        count: range.end - range.start,
        ..base
    };
    Ok(Merge {
        trailer,
        readers,
        range,
        next: 0,
    })
}

impl Merge {
    /// How many shard files are merged.
    pub fn shards(&self) -> usize {
        self.readers.len()
    }
}

impl std::fmt::Debug for Merge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merge")
            .field("trailer", &self.trailer)
            .field("shards", &self.readers.len())
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl Iterator for Merge {
    type Item = Result<SeedLine, String>;

    /// The next seed's line (second pass), from the shard that holds it.
    fn next(&mut self) -> Option<Self::Item> {
        let seed = self.range.start.checked_add(self.next)?;
        if seed >= self.range.end {
            return None;
        }
        let count = self.readers.len() as u64;
        let index = self.next % count;
        self.next += 1;
        let (name, rows) = &mut self.readers[index as usize];
        let shard = Shard { index, count };
        let line = match rows.next() {
            Some(Ok((number, row))) => seed_line(name, number, &row).and_then(|line| {
                    (line.seed == seed).then_some(line).ok_or_else(|| {
                        format!(
                            "{name}:{number}: its seeds are not those of shard {shard} (seed {seed} expected)"
                        )
                    })
                }),
            Some(Err(e)) => Err(e),
            None => Err(format!("{name}: ended before seed {seed}: it changed during the merge")),
        };
        Some(line)
    }
}

/// Does `trailer` (of `name`, one of `count` shards) belong to the sweep
/// of `first` (the first file given)? Says which part differs if not.
fn same_sweep(
    name: &str,
    trailer: &Trailer,
    count: u64,
    first_name: &str,
    first: &Trailer,
    first_count: u64,
) -> Result<(), String> {
    let refuse = |what: String| Err(format!("{name}: belongs to another sweep: {what}"));
    if trailer.scenario != first.scenario {
        return refuse(format!(
            "scenario `{}`, but {first_name} ran `{}`",
            trailer.scenario, first.scenario
        ));
    }
    if trailer.scenario_digest != first.scenario_digest {
        return refuse(format!(
            "its scenario file {} (digest {}) differs from the one {first_name} ran (digest {}): the file was edited between shards",
            trailer.path, trailer.scenario_digest, first.scenario_digest
        ));
    }
    if trailer.seeds != first.seeds {
        return refuse(format!(
            "seeds {}, but {first_name} has seeds {}",
            trailer.seeds, first.seeds
        ));
    }
    if count != first_count {
        return refuse(format!(
            "one of {count} shards, but {first_name} is one of {first_count}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::output::{render, scenario_digest};
    use super::*;

    fn line(seed: u64) -> SeedLine {
        SeedLine {
            scenario: "s".to_owned(),
            seed,
            verdict: "pass".to_owned(),
            ..SeedLine::default()
        }
    }

    /// Shard `index` of `count` of seeds 0..4.
    fn shard_text(index: u64, count: u64, edit: impl Fn(&mut Trailer)) -> String {
        let lines: Vec<SeedLine> = Shard { index, count }
            .seeds(0..4)
            .into_iter()
            .map(line)
            .collect();
        let mut trailer = Trailer {
            dsim: DSIM_VERSION.to_owned(),
            scenario: "s".to_owned(),
            path: "s.ron".to_owned(),
            scenario_digest: scenario_digest("text"),
            expect: "pass".to_owned(),
            seeds: "0..4".to_owned(),
            shard: format!("{index}/{count}"),
            count: lines.len() as u64,
        };
        edit(&mut trailer);
        render(&lines, &trailer)
    }

    /// The merged lines, or the first refusal.
    fn merged(texts: &[String]) -> Result<(Trailer, Vec<SeedLine>), String> {
        let sources: Vec<ShardSource> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| ShardSource::Text {
                name: format!("f{i}"),
                text: t.clone(),
            })
            .collect();
        let merge = merge(&sources)?;
        let trailer = merge.trailer.clone();
        Ok((trailer, merge.collect::<Result<_, _>>()?))
    }

    #[test]
    fn a_shard_of_another_sweep_is_refused_naming_what_differs() {
        let good = shard_text(1, 2, |_| {});
        type Edit = &'static dyn Fn(&mut Trailer);
        let cases: [(Edit, &str); 5] = [
            (&|t| t.dsim = "0.0.1".into(), "written by dsim 0.0.1"),
            (&|t| t.scenario = "other".into(), "scenario `other`"),
            (&|t| t.scenario_digest = "0".into(), "was edited"),
            (&|t| t.seeds = "0..9".into(), "seeds 0..9"),
            (&|t| t.shard = "0/3".into(), "one of 3 shards"),
        ];
        for (edit, expected) in cases {
            let err = merged(&[good.clone(), shard_text(0, 2, edit)]).unwrap_err();
            assert!(err.starts_with("f1: "), "{err}");
            assert!(err.contains(expected), "{expected}: {err}");
        }
        let (trailer, lines) = merged(&[good.clone(), shard_text(0, 2, |_| {})]).unwrap();
        let seeds: Vec<u64> = lines.iter().map(|l| l.seed).collect();
        assert_eq!((seeds, trailer.shard.as_str()), (vec![0, 1, 2, 3], "0/1"));
        assert_eq!(trailer.count, 4);
        let err = merged(&[good.clone(), good]).unwrap_err();
        assert!(err.contains("given twice (also f0)"), "{err}");
    }
}
