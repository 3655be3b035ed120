//! A sweep's summary, counted as its seeds stream by: how many seeds gave
//! each verdict, the first few failing seeds of each, how far a sweep
//! starting anywhere runs to a failure (the median), and how many seeds
//! reached each "sometimes" label. It holds no seed's line, so a sweep of
//! a million seeds uses the memory of a sweep of a thousand.

use std::collections::BTreeMap;

use sim_core::record::SeedLine;

/// Failing seeds each verdict keeps, to print their replay commands.
const FIRST_KEPT: usize = 3;

/// The summary of the seeds added so far, in seed order.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// Seeds added.
    pub seeds: u64,
    /// Engine events over every seed added.
    pub events: u64,
    verdicts: BTreeMap<String, Verdict>,
    /// Any failure at all (for "caught by any check").
    caught: Gaps,
    reached: BTreeMap<String, u64>,
}

/// One verdict's seeds.
#[derive(Clone, Debug, Default)]
pub struct Verdict {
    pub count: u64,
    /// The first failing seeds, in order.
    pub first: Vec<u64>,
    /// How many seeds the sweep ran up to and including the first.
    pub first_after: u64,
    gaps: Gaps,
}

/// The distance from every start to the next failure, kept as a
/// histogram of the gaps between failures: the starts in a gap of `g`
/// seeds (up to and including the failure that closes it) are 1 to `g`
/// seeds from a failure, and the starts after the last failure never meet
/// one.
#[derive(Clone, Debug, Default)]
struct Gaps {
    /// Starts since the last failure, not yet closed by one.
    open: u64,
    /// Gap length → how many gaps had it.
    closed: BTreeMap<u64, u64>,
}

impl Gaps {
    fn add(&mut self, failed: bool) {
        self.open += 1;
        if failed {
            *self.closed.entry(self.open).or_default() += 1;
            self.open = 0;
        }
    }

    /// Starts whose next failure is at most `d` seeds away.
    fn within(&self, d: u64) -> u64 {
        self.closed.iter().map(|(g, n)| g.min(&d) * n).sum()
    }

    /// The median over every start of the seeds run until a failure, or
    /// `>N` when most starts never meet one (`N` half the starts).
    fn median(&self, starts: u64) -> String {
        let wanted = starts / 2 + 1;
        let longest = self.closed.keys().next_back().copied().unwrap_or(0);
        if self.within(longest) < wanted {
            return format!(">{}", starts / 2);
        }
        // The least distance that covers the median start.
        let (mut low, mut high) = (1, longest);
        while low < high {
            let mid = low + (high - low) / 2;
            if self.within(mid) >= wanted {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        low.to_string()
    }
}

impl Tally {
    /// Adds the next seed's line (seeds must come in sweep order).
    pub fn add(&mut self, line: &SeedLine) {
        self.seeds += 1;
        self.events += line.events;
        let failed = line.verdict != "pass";
        let seen = self.seeds;
        // A verdict met for the first time: the seeds before it were
        // starts still waiting for it.
        let verdict = self
            .verdicts
            .entry(line.verdict.clone())
            .or_insert_with(|| Verdict {
                gaps: Gaps {
                    open: seen - 1,
                    closed: BTreeMap::new(),
                },
                ..Verdict::default()
            });
        verdict.count += 1;
        if verdict.first.len() < FIRST_KEPT {
            if verdict.first.is_empty() {
                verdict.first_after = seen;
            }
            verdict.first.push(line.seed);
        }
        // Every verdict's gaps see every seed: a failure of another kind
        // is a start that has not met this one yet.
        for (label, v) in &mut self.verdicts {
            v.gaps.add(*label == line.verdict);
        }
        self.caught.add(failed);
        for label in line.reached.keys() {
            *self.reached.entry(label.clone()).or_default() += 1;
        }
    }

    /// The verdicts, by label.
    pub fn verdicts(&self) -> &BTreeMap<String, Verdict> {
        &self.verdicts
    }

    /// How many seeds reached each label.
    pub fn reached(&self) -> &BTreeMap<String, u64> {
        &self.reached
    }

    /// Seeds that did not pass.
    pub fn failing(&self) -> u64 {
        self.seeds - self.verdicts.get("pass").map_or(0, |v| v.count)
    }

    /// Median seeds to the first failure of `verdict` from any start.
    pub fn median_seeds_to(&self, verdict: &str) -> String {
        match self.verdicts.get(verdict) {
            Some(v) => v.gaps.median(self.seeds),
            None => format!(">{}", self.seeds / 2),
        }
    }

    /// Median seeds to the first failure of any kind from any start.
    pub fn median_seeds_to_any(&self) -> String {
        self.caught.median(self.seeds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(seed: u64, verdict: &str) -> SeedLine {
        SeedLine {
            seed,
            verdict: verdict.to_owned(),
            ..SeedLine::default()
        }
    }

    /// The median the slow way: every start's distance, sorted.
    fn by_hand(verdicts: &[&str], verdict: &str) -> String {
        let n = verdicts.len();
        let mut distances: Vec<Option<usize>> = (0..n)
            .map(|i| (i..n).find(|&j| verdicts[j] == verdict).map(|j| j - i + 1))
            .collect();
        distances.sort_by_key(|d| d.unwrap_or(usize::MAX));
        match distances[n / 2] {
            Some(d) => d.to_string(),
            None => format!(">{}", n / 2),
        }
    }

    #[test]
    fn the_streamed_median_is_the_median_of_every_start() {
        let runs: [&[&str]; 5] = [
            &["pass", "x", "pass", "pass", "pass", "x", "pass"],
            &["x", "x", "x"],
            &["pass", "pass", "pass", "pass", "x"],
            &[
                "pass", "y", "pass", "x", "pass", "pass", "pass", "pass", "pass",
            ],
            &["pass"; 6],
        ];
        for verdicts in runs {
            let mut tally = Tally::default();
            for (seed, v) in verdicts.iter().enumerate() {
                tally.add(&line(seed as u64, v));
            }
            assert_eq!(
                tally.median_seeds_to("x"),
                by_hand(verdicts, "x"),
                "{verdicts:?}"
            );
        }
    }

    #[test]
    fn a_tally_counts_verdicts_and_keeps_the_first_failing_seeds() {
        let mut tally = Tally::default();
        for (seed, v) in ["pass", "x", "pass", "x", "x", "x", "y"].iter().enumerate() {
            tally.add(&line(seed as u64 + 100, v));
        }
        let x = &tally.verdicts()["x"];
        assert_eq!(
            (x.count, x.first.clone(), x.first_after),
            (4, vec![101, 103, 104], 2)
        );
        assert_eq!(tally.failing(), 5);
        assert_eq!(tally.seeds, 7);
    }
}
