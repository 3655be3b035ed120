//! The scale benchmark behind `cargo xtask bench`: how long a simulation
//! of many nodes takes to set up, and how fast it then runs. Every node is
//! a "gossiper" that sends one message to a random peer every 10 ms of its
//! clock, on a default full mesh with 1–10 ms latency. Every size runs
//! about two million events (a longer simulated time for fewer nodes), so
//! the rates compare. Sizes: 10, 10,000 and 100,000 nodes (issue #15: set
//! up in under a second, and 10,000 nodes within 2× of 10 nodes' rate).
//!
//! `--nodes N` runs that one size instead. Prints one machine-readable
//! line per size:
//! `scale-bench nodes=<n> setup_ms=<n> events=<n> events_per_s=<n> peak_rss_kb=<n>`.

// Measuring wall time is the point of a benchmark; the run itself still
// never reads the wall clock.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::time::{Duration, Instant};

#[path = "support/args.rs"]
mod args;
#[path = "support/rss.rs"]
mod rss;

use rss::peak_rss_kb;
use sim_core::{Ctx, Node, NodeId, Sim, SimConfig};

#[derive(Debug)]
struct Gossiper;

#[derive(Clone, Debug, serde::Serialize)]
struct Rumor(u64);

impl Node for Gossiper {
    type Durable = ();
    type Msg = Rumor;
    type Timer = ();
    type Op = ();
    type Ret = ();

    fn boot(_id: NodeId, _disk: &()) -> Self {
        Gossiper
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        let first = ctx.rng().below(10_000_000);
        ctx.set_timer(Duration::from_nanos(first), ());
    }

    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, _msg: Rumor) {}

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: ()) {
        let n = ctx.node_count() as u64;
        let peer = NodeId(ctx.rng().below(n) as u32);
        let rumor = Rumor(ctx.rng().next_u64());
        ctx.send(peer, rumor);
        ctx.set_timer(Duration::from_millis(10), ());
    }
}

fn measure(nodes: usize) {
    let mut config = SimConfig::new(7);
    // Each node makes about 200 events per simulated second.
    let ms = 2_000_000_000 / (200 * nodes as u64);
    config.duration = Duration::from_millis(ms.max(100));
    let started = Instant::now();
    let mut sim = Sim::<Gossiper>::new(config, vec![(); nodes]);
    let setup = started.elapsed();
    let started = Instant::now();
    let result = sim.run();
    let wall = started.elapsed();
    assert!(result.verdict.is_pass(), "{:?}", result.verdict);
    println!(
        "scale-bench nodes={nodes} setup_ms={:.1} events={} events_per_s={:.0} peak_rss_kb={}",
        setup.as_secs_f64() * 1e3,
        result.stats.events,
        result.stats.events as f64 / wall.as_secs_f64().max(1e-9),
        peak_rss_kb()
    );
}

/// Every size, or the one `--nodes N` names (to profile one size).
fn main() {
    match args::number("--nodes").filter(|&n| n > 1) {
        Some(nodes) => measure(nodes),
        None => [10, 10_000, 100_000].into_iter().for_each(measure),
    }
}
