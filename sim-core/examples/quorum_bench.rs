//! The engine benchmark behind `cargo xtask bench`: 5 replicas and 1
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

use std::time::{Duration, Instant};

#[path = "support/args.rs"]
mod args;
#[path = "support/rss.rs"]
mod rss;

use rss::peak_rss_kb;
use sim_core::{
    Breach, Ctx, Invariant, Latency, LinkConfig, Node, NodeId, OpId, Outcome, Sim, SimConfig, Step,
    World,
};

const REPLICAS: u32 = 5;
const QUORUM: u32 = 3;
const DELIVERED_TARGET: u64 = 200_000;
/// Each operation delivers 5 requests and 5 replies.
const OPERATIONS: u64 = DELIVERED_TARGET / (2 * REPLICAS as u64);

#[derive(Clone, Debug, serde::Serialize)]
enum Msg {
    Write { op: u64, value: u64 },
    Read { op: u64 },
    Ack { op: u64 },
    Value { op: u64, value: u64 },
}

#[derive(Clone, Copy, Debug, serde::Serialize)]
enum Op {
    Write(u64),
    Read,
}

#[derive(Debug)]
enum Bench {
    Replica {
        value: u64,
    },
    Client {
        next: u64,
        current: Option<(u64, OpId, u32)>,
        last_written: u64,
    },
}

#[derive(Clone, Debug)]
enum Role {
    Replica,
    Client,
}

impl Node for Bench {
    type Durable = Role;
    type Msg = Msg;
    type Timer = ();
    type Op = Op;
    type Ret = u64;

    fn boot(_id: NodeId, role: &Role) -> Self {
        match role {
            Role::Replica => Bench::Replica { value: 0 },
            Role::Client => Bench::Client {
                next: 0,
                current: None,
                last_written: 0,
            },
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Bench::Client { .. } = self {
            self.next_operation(ctx);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match self {
            Bench::Replica { value } => match msg {
                Msg::Write { op, value: v } => {
                    *value = v;
                    ctx.send(from, Msg::Ack { op });
                }
                Msg::Read { op } => ctx.send(from, Msg::Value { op, value: *value }),
                _ => {}
            },
            Bench::Client {
                current,
                last_written,
                ..
            } => {
                let (op, result) = match msg {
                    Msg::Ack { op } => (op, *last_written),
                    Msg::Value { op, value } => (op, value),
                    _ => return,
                };
                let Some((current_op, id, replies)) = current else {
                    return;
                };
                if *current_op != op {
                    return; // a late reply to an operation already complete
                }
                *replies += 1;
                if *replies == QUORUM {
                    let id = *id;
                    *current = None;
                    ctx.complete(id, Outcome::Ok(result));
                    self.next_operation(ctx);
                }
            }
        }
    }

    fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _timer: ()) {}
}

impl Bench {
    fn next_operation(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Bench::Client {
            next,
            current,
            last_written,
        } = self
        else {
            return;
        };
        if *next == OPERATIONS {
            return;
        }
        let op = *next;
        *next += 1;
        let (record, msg) = if op % 2 == 0 {
            *last_written = op;
            (Op::Write(op), Msg::Write { op, value: op })
        } else {
            (Op::Read, Msg::Read { op })
        };
        let id = ctx.invoke(record);
        *current = Some((op, id, 0));
        for replica in 0..REPLICAS {
            ctx.send(NodeId(replica), msg.clone());
        }
    }
}

/// An O(1) invariant hook: a replica never holds a value the client has
/// not written yet.
struct NoValueFromTheFuture;

impl Invariant<Bench> for NoValueFromTheFuture {
    fn name(&self) -> &str {
        "no_value_from_the_future"
    }
    fn check(&mut self, world: &World<'_, Bench>, step: &Step<'_>) -> Result<(), Breach> {
        let client = world.node(NodeId(REPLICAS));
        for &node in step.nodes {
            if let (Some(Bench::Replica { value }), Some(Bench::Client { last_written, .. })) =
                (world.node(node), client)
                && value > last_written
            {
                return Err(Breach::new(format!(
                    "replica {node} holds {value}, last written {last_written}"
                )));
            }
        }
        Ok(())
    }
}

/// One run of the workload: its result and the wall time of `Sim::run`.
fn run_once() -> (sim_core::RunResult<Op, u64>, Duration) {
    let mut config = SimConfig::new(42);
    config.network.default_link = LinkConfig {
        latency: Latency::Uniform {
            min_us: 1_000,
            max_us: 10_000,
        },
        ..LinkConfig::default()
    };
    config.duration = Duration::from_secs(365 * 24 * 3600); // ends when the client stops
    let mut roles: Vec<Role> = (0..REPLICAS).map(|_| Role::Replica).collect();
    roles.push(Role::Client);
    let mut sim = Sim::<Bench>::new(config, roles);
    sim.add_invariant(NoValueFromTheFuture);
    let started = Instant::now();
    let result = sim.run();
    (result, started.elapsed())
}

fn main() {
    // The median of several runs: one takes tens of milliseconds, so a
    // single one is noisy on the wall clock (`--repetitions`, default 7).
    let repetitions = args::repetitions();
    let mut walls = Vec::new();
    let mut digests = std::collections::BTreeSet::new();
    let mut last = None;
    for _ in 0..repetitions {
        let (result, wall) = run_once();
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
