//! Metrics a model emits through its context (`Ctx::count`,
//! `Ctx::observe`): counters, kept both as totals and as a time series of
//! how much was counted in each slice of the run, and value distributions
//! (HDR histograms, exact to three significant digits, so percentiles
//! merge correctly across runs and shards). The model harness turns them
//! into the run's metrics and plots.
//!
//! This file is also the one home of the nearest-rank quantile every
//! summary of the project uses.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::time::SimTime;

/// How many slices a run's counters are counted in, for plots over time.
pub const SERIES_BUCKETS: u64 = 200;

#[derive(Clone, Debug)]
pub struct Metrics {
    /// By name, in name order (a handful: a run counts a few things).
    counters: Vec<(&'static str, Counter)>,
    distributions: BTreeMap<&'static str, Histogram<u64>>,
    /// How often each "sometimes" label was reached (`Ctx::reached`).
    reached: BTreeMap<&'static str, u64>,
    /// The width of one series bucket, in ns of true time.
    bucket_ns: u64,
}

#[derive(Clone, Debug, Default)]
struct Counter {
    total: u64,
    /// Counted per bucket of true time; grows to the last bucket used.
    buckets: Vec<u64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::for_duration(SimTime::from_secs(SERIES_BUCKETS))
    }
}

/// A counter over time: how much was counted in each bucket.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct Series {
    pub name: String,
    /// The width of each bucket, in ns of true time from the start.
    pub bucket_ns: u64,
    /// Counted in bucket i, i.e. in `[i * bucket_ns, (i + 1) * bucket_ns)`.
    pub counts: Vec<u64>,
}

impl Series {
    /// A series of `(time, count)` events, bucketed like a run's counters
    /// for a run that lasts until `end`: for series a design computes at
    /// the end of a run rather than counts as it goes.
    pub fn bucketed(
        name: &str,
        end: SimTime,
        events: impl IntoIterator<Item = (SimTime, u64)>,
    ) -> Series {
        let mut metrics = Metrics::for_duration(end);
        let mut series = Series {
            name: name.to_owned(),
            bucket_ns: metrics.bucket_ns,
            counts: Vec::new(),
        };
        for (at, delta) in events {
            metrics.count("bucketed", delta, at);
        }
        if let Some((_, counter)) = metrics.counters.pop() {
            series.counts = counter.buckets;
        }
        series
    }
}

/// A distribution's summary, for results and reports.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub count: u64,
    pub min: u64,
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
}

impl Metrics {
    /// Metrics of a run that lasts until `end`: series buckets are sized
    /// so the run fills `SERIES_BUCKETS` of them.
    pub fn for_duration(end: SimTime) -> Metrics {
        Metrics {
            counters: Vec::new(),
            distributions: BTreeMap::new(),
            reached: BTreeMap::new(),
            bucket_ns: end.as_nanos().div_ceil(SERIES_BUCKETS).max(1),
        }
    }

    /// Adds `delta` to the counter `name`, at true time `now`.
    pub fn count(&mut self, name: &'static str, delta: u64, now: SimTime) {
        let bucket = usize::try_from(now.as_nanos() / self.bucket_ns)
            .unwrap_or(usize::MAX)
            .min(SERIES_BUCKETS as usize);
        let counter = self.counter_mut(name);
        counter.total += delta;
        if counter.buckets.len() <= bucket {
            counter.buckets.resize(bucket + 1, 0);
        }
        counter.buckets[bucket] += delta;
    }

    pub fn observe(&mut self, name: &'static str, value: u64) {
        let histogram = self
            .distributions
            .entry(name)
            .or_insert_with(|| Histogram::new(3).expect("3 significant digits is valid"));
        // `record` grows the histogram's range (it starts at 1..=2);
        // `saturating_record` would clamp every value into it. Only a value
        // past what any histogram can track is clamped.
        if histogram.record(value).is_err() {
            histogram.saturating_record(value);
        }
    }

    /// Notes that the run reached the state `label` names once more.
    pub fn reach(&mut self, label: &'static str) {
        *self.reached.entry(label).or_default() += 1;
    }

    /// How often each label was reached, by label.
    pub fn reached(&self) -> BTreeMap<String, u64> {
        self.reached
            .iter()
            .map(|(&k, &n)| (k.to_owned(), n))
            .collect()
    }

    /// The counter `name`, made if new. A model counts with string
    /// literals, and one literal is one address: comparing the address
    /// finds most names without comparing their text (a `BTreeMap` lookup
    /// compared text at every level, on every count).
    fn counter_mut(&mut self, name: &'static str) -> &mut Counter {
        let at = match self
            .counters
            .iter()
            .position(|(n, _)| std::ptr::eq(*n, name))
        {
            Some(at) => at,
            None => match self.counters.binary_search_by(|(n, _)| (*n).cmp(name)) {
                Ok(at) => at,
                Err(at) => {
                    self.counters.insert(at, (name, Counter::default()));
                    at
                }
            },
        };
        &mut self.counters[at].1
    }

    pub fn counter(&self, name: &str) -> u64 {
        self.counters
            .binary_search_by(|(n, _)| (*n).cmp(name))
            .map_or(0, |at| self.counters[at].1.total)
    }

    pub fn counters(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        self.counters.iter().map(|&(k, ref c)| (k, c.total))
    }

    /// Every counter over time, by name.
    pub fn series(&self) -> Vec<Series> {
        self.counters
            .iter()
            .map(|(name, c)| Series {
                name: (*name).to_owned(),
                bucket_ns: self.bucket_ns,
                counts: c.buckets.clone(),
            })
            .collect()
    }

    pub fn distribution(&self, name: &str) -> Option<&Histogram<u64>> {
        self.distributions.get(name)
    }

    /// Summaries of every distribution, by name.
    pub fn summaries(&self) -> BTreeMap<&'static str, Summary> {
        self.distributions
            .iter()
            .map(|(&name, h)| (name, summarize(h)))
            .collect()
    }
}

pub fn summarize(h: &Histogram<u64>) -> Summary {
    Summary {
        count: h.len(),
        min: h.min(),
        p50: h.value_at_quantile(0.5),
        p99: h.value_at_quantile(0.99),
        max: h.max(),
    }
}

/// The `q_per_mille`-quantile of sorted values by nearest rank: the
/// smallest value with at least that share of the values at or below it
/// (the median of 1..=4 is 2). The one quantile of the project: metrics,
/// grid summaries and reports all use it, so they agree.
pub fn nearest_rank<T: Copy>(sorted: &[T], q_per_mille: u64) -> Option<T> {
    Some(sorted[rank_index(sorted.len(), q_per_mille)?])
}

/// `nearest_rank` of values in any order, found by selection (linear)
/// instead of a sort; it reorders `values`.
pub fn nearest_rank_unsorted<T: Copy + Ord>(values: &mut [T], q_per_mille: u64) -> Option<T> {
    let index = rank_index(values.len(), q_per_mille)?;
    Some(*values.select_nth_unstable(index).1)
}

/// Where the nearest rank of `len` sorted values is.
fn rank_index(len: usize, q_per_mille: u64) -> Option<usize> {
    if len == 0 {
        return None;
    }
    let rank = (len as u64 * q_per_mille).div_ceil(1000).max(1);
    Some((rank - 1) as usize)
}

/// A count with thousands separators, for people (`5,056,937,541`): the
/// one count format of every summary and message.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reached_labels_are_counted_apart_from_the_counters() {
        let mut m = Metrics::for_duration(SimTime::from_millis(1_000));
        m.reach("failover");
        m.reach("failover");
        m.reach("resync");
        assert_eq!(
            m.reached(),
            [("failover".to_owned(), 2), ("resync".to_owned(), 1)].into()
        );
        assert_eq!(m.counters().count(), 0, "a label is not a counter");
    }

    #[test]
    fn nearest_rank_quantiles() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(nearest_rank(&values, 500), Some(50));
        assert_eq!(nearest_rank(&values, 990), Some(99));
        assert_eq!(
            nearest_rank(&[1, 2, 3, 4], 500),
            Some(2),
            "even counts: the lower middle"
        );
        assert_eq!(nearest_rank(&[7], 990), Some(7));
        assert_eq!(nearest_rank::<u64>(&[], 500), None);
        assert_eq!(nearest_rank(&[0.5, 1.5], 1000), Some(1.5));
        // By selection, the same ranks of the values shuffled.
        let mut shuffled: Vec<u64> = (1..=100).map(|i| i * 37 % 101).collect();
        let mut sorted = shuffled.clone();
        sorted.sort_unstable();
        for q in [0, 1, 500, 990, 1000] {
            assert_eq!(
                nearest_rank_unsorted(&mut shuffled, q),
                nearest_rank(&sorted, q)
            );
        }
        assert_eq!(nearest_rank_unsorted::<u64>(&mut [], 500), None);
    }

    #[test]
    fn counts_for_people() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(5_056_937_541), "5,056,937,541");
    }

    #[test]
    fn distributions_keep_large_values() {
        let mut m = Metrics::for_duration(SimTime::from_secs(1));
        for value in [576_000, 1_000, 2, 1_113_588] {
            m.observe("stall_us", value);
        }
        let summary = m.summaries()["stall_us"];
        assert_eq!(summary.count, 4);
        assert_eq!(summary.min, 2);
        assert!(
            (1_113_588..1_115_000).contains(&summary.max),
            "3 significant digits: {summary:?}"
        );
        assert_eq!(
            summary.p50 / 1000,
            1,
            "the median of 2, 1000, 576000, 1113588"
        );
        assert!(summary.p99 > 1_110_000, "{summary:?}");
        m.observe("stall_us", u64::MAX);
        assert!(m.summaries()["stall_us"].max > 1 << 60);
    }

    #[test]
    fn a_name_counts_into_one_counter_wherever_its_text_lives() {
        let mut m = Metrics::default();
        // The same text at another address than the literal's.
        let copy: &'static str = String::from("sent").leak();
        assert!(!std::ptr::eq(copy, "sent"));
        m.count("sent", 2, SimTime::ZERO);
        m.count("acked", 1, SimTime::ZERO);
        m.count(copy, 3, SimTime::ZERO);
        m.count("zeta", 1, SimTime::ZERO);
        assert_eq!(m.counter("sent"), 5);
        let names: Vec<_> = m.counters().collect();
        assert_eq!(names, [("acked", 1), ("sent", 5), ("zeta", 1)], "by name");
    }

    #[test]
    fn counters_keep_totals_and_a_series_over_time() {
        let mut m = Metrics::for_duration(SimTime::from_secs(2));
        m.count("ids", 3, SimTime::ZERO);
        m.count("ids", 4, SimTime::from_millis(15));
        m.count("ids", 1, SimTime::from_secs(2));
        assert_eq!(m.counter("ids"), 8);
        let series = &m.series()[0];
        assert_eq!(series.bucket_ns, 10_000_000);
        assert_eq!(&series.counts[..2], &[3, 4]);
        assert_eq!(
            series.counts.len(),
            201,
            "the end of the run is the last bucket"
        );
        assert_eq!(series.counts[200], 1);
    }
}
