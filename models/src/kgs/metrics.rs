//! The design's own metrics and plots (the harness adds the shared ones:
//! requests, ok fraction, client latency, messages per request):
//!
//! - `ids_per_s`, `authority_requests_per_s`: IDs handed out, and lease
//!   requests the authority's nodes received, per simulated second;
//! - `stall_us_p50`, `stall_us_p99` (from the servers' `stall_us`): how
//!   long clients waited for a server to get a bulk, of those that waited;
//!   `stalled_fraction`: of the requests servers answered, those that
//!   waited for a bulk;
//! - `wasted_fraction`: of the counters leased, those lost: what a server
//!   held when it crashed, discarded at a shutdown, or gave up with a
//!   lease (the rest of what servers hold at the end is not waste yet);
//! - `RandomIds` only: `birthday_collision_p`, the exact chance that the
//!   IDs drawn in the run collide at least once (`birthday.rs`), to read
//!   beside whether they did.
//!
//! The run report plots bulks leased and IDs issued over time.

use std::collections::BTreeMap;

use sim_core::metrics::thousands;
use sim_core::record::PlotSpec;
use sim_core::{Observer, Step, World};

use super::birthday::{Birthday, collision_probability, lasting};
use super::invariants::GrantBook;
use super::node::KgsNode;
use super::{KgsConfig, KgsDesign, Layout, Variant};
use crate::harness::Finished;

/// What the observer saw: bulks granted, and counters lost.
#[derive(Debug)]
pub struct Observations {
    layout: Layout,
    book: GrantBook,
    /// Per node, by index: what it held and had discarded at its last
    /// step (servers only; grown as they step).
    last: Vec<(u64, u64)>,
    wasted: u64,
}

impl Observations {
    pub fn new(layout: Layout) -> Observations {
        Observations {
            layout,
            book: GrantBook::new(layout),
            last: Vec::new(),
            wasted: 0,
        }
    }
}

impl Observer<KgsNode> for Observations {
    fn observe(&mut self, world: &World<'_, KgsNode>, step: &Step<'_>) {
        self.book.update(world, step);
        for &node in step.nodes.iter().filter(|&&n| self.layout.is_server(n)) {
            if self.last.len() <= node.index() {
                self.last.resize(node.index() + 1, (0, 0));
            }
            let last = &mut self.last[node.index()];
            let (held, discarded) = *last;
            match world.node(node) {
                Some(KgsNode::Server(server)) => {
                    // Discards count as they happen; a new boot starts at 0.
                    let more = server.discarded.checked_sub(discarded).unwrap_or(server.discarded);
                    self.wasted += more;
                    *last = (server.remaining(), server.discarded);
                }
                // Down: what it held is lost.
                _ => {
                    self.wasted += held;
                    *last = (0, 0);
                }
            }
        }
    }
}

pub fn compute(config: &KgsConfig, run: &Finished<'_, KgsDesign>) -> BTreeMap<String, f64> {
    let result = run.result;
    let seconds = (result.stats.end_time.as_nanos() as f64 / 1e9).max(1e-9);
    let counters = &result.metrics;
    let mut metrics = BTreeMap::new();
    let issued = counters.counter("ids_issued");
    metrics.insert("ids_per_s".to_owned(), issued as f64 / seconds);
    metrics.insert(
        "authority_requests_per_s".to_owned(),
        counters.counter("authority_requests") as f64 / seconds,
    );
    let served = counters.counter("requests_served");
    if served > 0 {
        let stalled = counters.distribution("stall_us").map_or(0, |h| h.len());
        metrics.insert("stalled_fraction".to_owned(), stalled as f64 / served as f64);
    }
    let leased: u64 = run.observer.book.grants.iter().map(|(_, r)| r.len()).sum();
    if leased > 0 {
        metrics.insert(
            "wasted_fraction".to_owned(),
            run.observer.wasted as f64 / leased as f64,
        );
    }
    if config.variant == Variant::RandomIds && issued > 0 {
        metrics.insert(
            "birthday_collision_p".to_owned(),
            collision_probability(config.random_bits, issued),
        );
    }
    metrics
}

/// The birthday math beside a random-ID run: the chance its IDs collide,
/// and how long an even chance takes at the rate it drew them.
pub fn birthday_note(bits: u32, even: &Birthday, run: &Finished<'_, KgsDesign>) -> String {
    let issued = run.result.metrics.counter("ids_issued");
    let seconds = (run.result.stats.end_time.as_nanos() as f64 / 1e9).max(1e-9);
    let rate = issued as f64 / seconds;
    let chance = collision_probability(bits, issued);
    let exact = even.exact.map_or("beyond exact arithmetic".to_owned(), |k| format!("{} draws", thousands(k)));
    format!(
        "{} random IDs drawn from 2^{bits} values: the exact chance of at least one collision among \
         them is {}. An even chance takes {exact} (approximations: √(2·d·ln 2) = {:.1}, √(2·d·p) = \
         {:.1}), which at this run's {rate:.0} IDs/s lasts {}.",
        thousands(issued),
        probability(chance),
        even.approx_log,
        even.approx_linear,
        even.exact.map_or_else(|| lasting(even.approx_log, rate), |k| lasting(k as f64, rate)),
    )
}

/// A probability for a sentence: `0.4961`, `3.20e-7`.
pub fn probability(p: f64) -> String {
    if p >= 1e-3 { format!("{p:.4}") } else { format!("{p:.2e}") }
}

pub fn plots() -> Vec<PlotSpec> {
    vec![
        PlotSpec {
            title: "IDs issued".to_owned(),
            series: vec!["ids_issued".to_owned()],
            cumulative: true,
            y_label: None,
        },
        PlotSpec {
            title: "bulks leased".to_owned(),
            series: vec!["bulks_leased".to_owned()],
            cumulative: true,
            y_label: None,
        },
    ]
}
