//! The engine benchmark behind `cargo xtask bench` (the workload lives in
//! `support/quorum.rs`): 5 replicas and 1
//! client; each operation goes to all 5 replicas and completes at 3
//! replies; operations alternate write and read; one-way latency uniform in
//! [1 ms, 10 ms); no loss; 200,000 delivered messages; seed 42. The trace
//! digest, the history and an invariant hook are all on, as in real runs.
//!
//! `--repetitions N` (default 7) sets how many runs the median is of.
//! Prints a readable summary, then one machine-readable last line:
//! `quorum-bench msgs_per_s=<n> ns_per_msg=<n> sim_over_wall=<n> peak_rss_kb=<n>`.

// Measuring wall time is the point of a benchmark; the run itself still
// never reads the wall clock.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

#[path = "support/args.rs"]
mod args;
#[path = "support/quorum.rs"]
mod quorum;
#[path = "support/rss.rs"]
mod rss;

use quorum::{DELIVERED_TARGET, run_once};
use rss::peak_rss_kb;

fn main() {
    // The median of several runs: one takes tens of milliseconds, so a
    // single one is noisy on the wall clock (`--repetitions`, default 7).
    let repetitions = args::repetitions();
    let mut walls = Vec::new();
    let mut digests = std::collections::BTreeSet::new();
    let mut last = None;
    for _ in 0..repetitions {
        let (result, wall) = run_once(0);
        assert_eq!(
            result.stats.messages_delivered, DELIVERED_TARGET,
            "the workload is exactly 200,000 deliveries"
        );
        assert!(result.verdict.is_pass(), "{:?}", result.verdict);
        digests.insert(result.digest.clone());
        walls.push(wall);
        last = Some(result);
    }
    assert_eq!(digests.len(), 1, "every repetition is the same run");
    let result = last.expect("at least one repetition");
    walls.sort();
    let wall_ns = walls[repetitions / 2].as_nanos().max(1) as f64;
    let delivered = result.stats.messages_delivered;
    let msgs_per_s = delivered as f64 / (wall_ns / 1e9);
    let ns_per_msg = wall_ns / delivered as f64;
    let sim_over_wall = result.stats.end_time.as_nanos() as f64 / wall_ns;
    println!(
        "{} operations, {delivered} messages delivered, {} engine events, {} simulated; \
         median of {repetitions} runs: {:.1} ms wall (fastest {:.1} ms, slowest {:.1} ms)",
        result.history.len(),
        result.stats.events,
        result.stats.end_time,
        wall_ns / 1e6,
        walls[0].as_secs_f64() * 1e3,
        walls[repetitions - 1].as_secs_f64() * 1e3,
    );
    println!("trace digest {}", result.digest);
    println!(
        "quorum-bench msgs_per_s={:.0} ns_per_msg={:.1} sim_over_wall={:.0} peak_rss_kb={}",
        msgs_per_s,
        ns_per_msg,
        sim_over_wall,
        peak_rss_kb()
    );
}
