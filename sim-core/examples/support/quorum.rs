//! The quorum workload of `quorum_bench` and `deep_queue_bench`: 5
//! replicas and 1 client; each operation goes to all 5 replicas and
//! completes at 3 replies; operations alternate write and read; one-way
//! latency uniform in [1 ms, 10 ms); no loss; 200,000 delivered messages;
//! seed 42. The trace digest, the history and an invariant hook are all
//! on, as in real runs. A parker node can hold a deep queue of timers set
//! far past the end, which never fire.

// Measuring wall time is the point of a benchmark; the run itself still
// never reads the wall clock.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use sim_core::{
    Breach, Ctx, Invariant, Latency, LinkConfig, Node, NodeId, OpId, Outcome, Sim, SimConfig, Step,
    World,
};

const REPLICAS: u32 = 5;
const QUORUM: u32 = 3;
pub const DELIVERED_TARGET: u64 = 200_000;
/// Each operation delivers 5 requests and 5 replies.
const OPERATIONS: u64 = DELIVERED_TARGET / (2 * REPLICAS as u64);

#[derive(Clone, Debug, serde::Serialize)]
pub enum Msg {
    Write { op: u64, value: u64 },
    Read { op: u64 },
    Ack { op: u64 },
    Value { op: u64, value: u64 },
}

#[derive(Clone, Copy, Debug, serde::Serialize)]
pub enum Op {
    Write(u64),
    Read,
}

#[derive(Debug)]
pub enum Bench {
    Replica {
        value: u64,
    },
    /// Holds `pending` timers for the deep-queue benchmark.
    Parker {
        pending: u64,
    },
    Client {
        next: u64,
        current: Option<(u64, OpId, u32)>,
        last_written: u64,
    },
}

#[derive(Clone, Debug)]
pub enum Role {
    Replica,
    Client,
    Parker(u64),
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
            Role::Parker(pending) => Bench::Parker { pending: *pending },
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self {
            Bench::Client { .. } => self.next_operation(ctx),
            // Ten years out, each at its own time: past any run's end.
            Bench::Parker { pending } => {
                for i in 0..*pending {
                    ctx.set_timer(FAR + Duration::from_nanos(i), ());
                }
            }
            Bench::Replica { .. } => {}
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
            Bench::Parker { .. } => {}
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

/// How far out the parker's timers are: past the run's year.
const FAR: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// One run of the workload, with `pending` parked timers (0: none, and no
/// parker node): its result and the wall time of `Sim::run`.
pub fn run_once(pending: u64) -> (sim_core::RunResult<Op, u64>, Duration) {
    let mut config = SimConfig::new(42);
    config.network.default_link = LinkConfig {
        latency: Latency::Uniform {
            min_us: 1_000,
            max_us: 10_000,
        },
        ..LinkConfig::default()
    };
    config.duration = Duration::from_secs(365 * 24 * 3600); // ends when the client stops
    // Room for the parked timers beside the workload's own events.
    config.limits.max_pending = config.limits.max_pending.max(pending as usize + 100_000);
    let mut roles: Vec<Role> = (0..REPLICAS).map(|_| Role::Replica).collect();
    roles.push(Role::Client);
    if pending > 0 {
        roles.push(Role::Parker(pending));
    }
    let mut sim = Sim::<Bench>::new(config, roles);
    sim.add_invariant(NoValueFromTheFuture);
    let started = Instant::now();
    let result = sim.run();
    (result, started.elapsed())
}

/// The wall time of a run with only the parker: what parking `pending`
/// timers costs by itself, to take out of a deep run's time.
pub fn park_only(pending: u64) -> Duration {
    let mut config = SimConfig::new(42);
    config.duration = Duration::from_secs(365 * 24 * 3600);
    config.limits.max_pending = config.limits.max_pending.max(pending as usize + 100_000);
    let mut sim = Sim::<Bench>::new(config, vec![Role::Parker(pending)]);
    let started = Instant::now();
    let result = sim.run();
    assert!(result.verdict.is_pass());
    started.elapsed()
}
