//! The deep-queue benchmark behind `cargo xtask bench`: the quorum
//! workload of `quorum_bench` run with 1,000,000 timers parked in the
//! queue (set far past the run's end, so they never fire), against the
//! same workload on a shallow queue, in one process. The cost of parking
//! the timers alone (a run of just the parker) is taken out of the deep
//! run's time, so the rate is the workload's. Issue #15's goal: at least
//! 25% of the shallow rate.
//!
//! `--repetitions N` (default 7): medians of N runs each.
//! Last line: `deep-queue-bench pending=<n> shallow_msgs_per_s=<n> deep_msgs_per_s=<n> ratio=<r>`.

#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::time::Duration;

#[path = "support/args.rs"]
mod args;
#[path = "support/quorum.rs"]
mod quorum;

use quorum::{DELIVERED_TARGET, park_only, run_once};

const PENDING: u64 = 1_000_000;

fn median(mut walls: Vec<Duration>) -> Duration {
    walls.sort();
    walls[walls.len() / 2]
}

fn main() {
    let repetitions = args::repetitions();
    let mut shallow = Vec::new();
    let mut deep = Vec::new();
    let mut park = Vec::new();
    // Interleaved, so a change in the machine's load touches all three.
    for _ in 0..repetitions {
        let (result, wall) = run_once(0);
        assert_eq!(result.stats.messages_delivered, DELIVERED_TARGET);
        shallow.push(wall);
        let (result, wall) = run_once(PENDING);
        assert_eq!(result.stats.messages_delivered, DELIVERED_TARGET);
        assert!(result.verdict.is_pass(), "{:?}", result.verdict);
        deep.push(wall);
        park.push(park_only(PENDING));
    }
    let (shallow, deep, park) = (median(shallow), median(deep), median(park));
    let workload = deep.saturating_sub(park).max(Duration::from_nanos(1));
    let rate = |d: Duration| DELIVERED_TARGET as f64 / d.as_secs_f64();
    println!(
        "shallow {:.1} ms; deep {:.1} ms, of which parking {PENDING} timers {:.1} ms (medians of {repetitions})",
        shallow.as_secs_f64() * 1e3,
        deep.as_secs_f64() * 1e3,
        park.as_secs_f64() * 1e3
    );
    println!(
        "deep-queue-bench pending={PENDING} shallow_msgs_per_s={:.0} deep_msgs_per_s={:.0} ratio={:.2}",
        rate(shallow),
        rate(workload),
        rate(workload) / rate(shallow)
    );
}
