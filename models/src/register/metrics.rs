//! The design's own metrics and plots (the harness adds the shared ones):
//!
//! - `writes_lost`: acknowledged writes whose version the server's disk
//!   later fell below (zero in the correct design);
//! - `unknown_fraction`: of the requests that completed, those that timed
//!   out (`Info`), e.g. while the server was down.
//!
//! The run report plots writes acknowledged and versions lost over time.
//! The observer records, at each step, the disk version and the highest
//! acknowledged one, which the history alone does not say.

use std::collections::BTreeMap;

use sim_core::history::CompletionFeed;
use sim_core::metrics::Series;
use sim_core::record::PlotSpec;
use sim_core::{Observer, SimTime, Step, World};

use super::node::RegisterNode;
use super::workload::Op;
use super::{RegisterDesign, SERVER};
use crate::harness::{Finished, fraction};

/// What the observer saw: when the disk fell below an acknowledged version.
#[derive(Debug, Default)]
pub struct Observations {
    feed: CompletionFeed<Op, u64>,
    highest_acknowledged: u64,
    /// (when, how many acknowledged versions the disk lost then).
    losses: Vec<(SimTime, u64)>,
    last_version: u64,
}

impl Observer<RegisterNode> for Observations {
    fn observe(&mut self, world: &World<'_, RegisterNode>, step: &Step<'_>) {
        let highest = &mut self.highest_acknowledged;
        let _ = self
            .feed
            .for_each_completed(world.history(), |op| {
                if let (Op::Write(_), Some(&version)) = (op.op, op.ok_value()) {
                    *highest = (*highest).max(version);
                }
                Ok::<(), ()>(())
            });
        let version = world.durable(SERVER).version();
        let floor = self.last_version.min(self.highest_acknowledged);
        if version < floor {
            self.losses.push((step.time, floor - version));
        }
        self.last_version = version;
    }
}

pub fn compute(run: &Finished<'_, RegisterDesign>) -> BTreeMap<String, f64> {
    let mut metrics = BTreeMap::new();
    let lost: u64 = run.observer.losses.iter().map(|(_, n)| n).sum();
    metrics.insert("writes_lost".to_owned(), lost as f64);
    let completed = run
        .result
        .history
        .operations()
        .iter()
        .filter(|op| op.completion.is_some());
    if let Some(share) = fraction(completed.map(|op| op.is_indeterminate())) {
        metrics.insert("unknown_fraction".to_owned(), share);
    }
    metrics
}

/// The design's series: versions lost, when the disk lost them.
pub fn series(run: &Finished<'_, RegisterDesign>) -> Vec<Series> {
    vec![Series::bucketed(
        "versions_lost",
        run.end,
        run.observer.losses.iter().copied(),
    )]
}

pub fn plots() -> Vec<PlotSpec> {
    vec![PlotSpec {
        title: "writes acknowledged, and acknowledged versions lost".to_owned(),
        series: vec!["writes_acknowledged".to_owned(), "versions_lost".to_owned()],
        cumulative: true,
        y_label: None,
    }]
}
