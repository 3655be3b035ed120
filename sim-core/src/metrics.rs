//! Metrics a model emits through its context: counters and value
//! distributions (HDR histograms, exact to three significant digits, so
//! percentiles merge correctly across runs and shards).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

#[derive(Clone, Debug, Default)]
pub struct Metrics {
    counters: BTreeMap<&'static str, u64>,
    distributions: BTreeMap<&'static str, Histogram<u64>>,
}

/// A distribution's summary, for results and reports.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub count: u64,
    pub min: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
}

impl Metrics {
    pub fn count(&mut self, name: &'static str, delta: u64) {
        *self.counters.entry(name).or_insert(0) += delta;
    }

    pub fn observe(&mut self, name: &'static str, value: u64) {
        self.distributions
            .entry(name)
            .or_insert_with(|| Histogram::new(3).expect("3 significant digits is valid"))
            .saturating_record(value);
    }

    pub fn counter(&self, name: &str) -> u64 {
        self.counters.get(name).copied().unwrap_or(0)
    }

    pub fn counters(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        self.counters.iter().map(|(&k, &v)| (k, v))
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
        p90: h.value_at_quantile(0.9),
        p99: h.value_at_quantile(0.99),
        max: h.max(),
    }
}
