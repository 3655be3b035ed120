//! Merging shard files into the unsharded output. A merge refuses, naming
//! the file, a shard that did not finish (no trailer), a shard given twice,
//! a missing shard, and a shard of another sweep: another dsim version,
//! scenario, scenario file, seed range or shard count. Anything it accepts
//! merges into exactly the bytes one unsharded sweep would have written.

use std::collections::BTreeMap;

use super::output::{DSIM_VERSION, ShardFile, Trailer, parse};
use super::{Shard, parse_seed_range};

/// Merges `(name, text)` shard files; the result is the unsharded sweep.
pub fn merge(files: &[(String, String)]) -> Result<ShardFile, String> {
    let mut shards: BTreeMap<u64, (String, ShardFile)> = BTreeMap::new();
    let mut first: Option<(String, Trailer, u64)> = None;
    for (name, text) in files {
        let file = parse(name, text)?;
        let trailer = &file.trailer;
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
                same_sweep(name, trailer, shard.count, first_name, expected, *count)?;
            }
        }
        let range =
            parse_seed_range(&trailer.seeds).map_err(|e| format!("{name}: bad trailer: {e}"))?;
        let seeds: Vec<u64> = file.lines.iter().map(|l| l.seed).collect();
        if seeds != shard.seeds(range) {
            return Err(format!("{name}: its seeds are not those of shard {shard}"));
        }
        if let Some((other, _)) = shards.insert(shard.index, (name.clone(), file)) {
            return Err(format!(
                "{name}: shard {shard} given twice (also {other}): the shard ran twice; give one of them"
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
    let base = shards[&0].1.trailer.clone();
    let mut lines: Vec<_> = shards.into_values().flat_map(|(_, f)| f.lines).collect();
    lines.sort_by_key(|l| l.seed);
    let trailer = Trailer {
        shard: Shard::WHOLE.to_string(),
        count: lines.len() as u64,
        ..base
    };
    Ok(ShardFile { lines, trailer })
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
    use crate::runner::SeedLine;

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

    fn merged(texts: &[String]) -> Result<ShardFile, String> {
        let files: Vec<(String, String)> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("f{i}"), t.clone()))
            .collect();
        merge(&files)
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
        let whole = merged(&[good.clone(), shard_text(0, 2, |_| {})]).unwrap();
        let seeds: Vec<u64> = whole.lines.iter().map(|l| l.seed).collect();
        assert_eq!(
            (seeds, whole.trailer.shard.as_str()),
            (vec![0, 1, 2, 3], "0/1")
        );
        let err = merged(&[good.clone(), good]).unwrap_err();
        assert!(err.contains("given twice (also f0)"), "{err}");
    }
}
