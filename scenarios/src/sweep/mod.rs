//! Sweeps: many seeds, JSON lines out, and the sharding that lets an
//! existing engine (a Kubernetes Indexed Job, a Slurm array, a CI matrix)
//! fan a sweep out. Shard K of N runs the seeds whose index in the range is
//! K modulo N. `output` owns the file format (seed lines, then a trailer
//! that says which dsim, scenario, seeds and shard they are), `merge`
//! reassembles shards into exactly the bytes the unsharded sweep would have
//! written, or says why it will not.

mod merge;
mod output;
mod tally;

use std::ops::Range;

pub use merge::{Merge, merge};
pub use output::{
    DSIM_VERSION, ShardFile, ShardSource, ShardWriter, Trailer, parse, render, scenario_digest,
    seed_line_text, trailer_text,
};
pub use tally::Tally;

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

    /// How many of `range`'s seeds are this shard's.
    pub fn seed_count(self, range: Range<u64>) -> u64 {
        let all = range.end.saturating_sub(range.start);
        all / self.count + u64::from(all % self.count > self.index)
    }

    /// This shard's seeds of `range`, in order.
    pub fn seeds(self, range: Range<u64>) -> Vec<u64> {
        self.seed_iter(range).collect()
    }

    /// This shard's seeds of `range`, in order, one at a time: a sweep
    /// of a million seeds never holds their list.
    pub fn seed_iter(self, range: Range<u64>) -> ShardSeeds {
        ShardSeeds {
            next: range.start.saturating_add(self.index),
            end: range.end,
            step: self.count,
            left: self.seed_count(range) as usize,
        }
    }
}

/// A shard's seeds (`Shard::seed_iter`): every `count`-th seed of the
/// range from the shard's index on.
#[derive(Clone, Debug)]
pub struct ShardSeeds {
    next: u64,
    end: u64,
    step: u64,
    left: usize,
}

impl Iterator for ShardSeeds {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        if self.left == 0 || self.next >= self.end {
            return None;
        }
        let seed = self.next;
        self.next = self.next.saturating_add(self.step);
        self.left -= 1;
        Some(seed)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for ShardSeeds {}

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
        for count in 1..6 {
            for index in 0..count {
                for range in [0..0, 0..7, 10..31, 5..6, 3..4] {
                    let shard = Shard { index, count };
                    // Every `count`-th seed from the `index`-th, by hand.
                    let expected: Vec<u64> = range
                        .clone()
                        .enumerate()
                        .filter(|(i, _)| *i as u64 % count == index)
                        .map(|(_, s)| s)
                        .collect();
                    assert_eq!(shard.seeds(range.clone()), expected, "{shard} of {range:?}");
                    assert_eq!(shard.seed_count(range.clone()), expected.len() as u64);
                    assert_eq!(shard.seed_iter(range.clone()).len(), expected.len());
                }
            }
        }
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
