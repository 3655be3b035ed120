//! A tiny design to render: a replicated counter. Clients add to it or
//! read it at a random server; each server keeps every server's share of
//! the total on disk (a grow-only counter) and gossips its shares to its
//! peers on a period. Reads at a server that has not heard the latest
//! gossip are stale, which is what `checks.rs` catches when it lasts.
//!
//! Two planted bugs give other kinds of failure: a server remembers which
//! adds it applied only in volatile memory, so a duplicate delivered after
//! a crash is applied twice (`reads_never_exceed_adds`); and a server
//! restarted for the second time stops answering reads, so clients time out
//! even after the heal (a liveness failure).

use std::collections::BTreeSet;
use std::time::Duration;

use sim_core::record::ExportOp;
use sim_core::{Ctx, Node, NodeId, OpId, Outcome, TimerId};

#[derive(Clone, Debug, Hash, PartialEq, Eq, serde::Serialize)]
pub enum Msg {
    Add { request: u64, amount: u64 },
    Read { request: u64 },
    Added { request: u64, amount: u64 },
    Total { request: u64, total: u64 },
    Busy { request: u64 },
    Gossip { shares: Vec<u64> },
}

#[derive(Debug, Hash, serde::Serialize)]
pub enum Timer {
    Think,
    Timeout { request: u64 },
    Gossip,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, serde::Serialize)]
pub enum Op {
    Add(u64),
    Read,
}

/// What survives a crash: configuration, and a server's shares.
#[derive(Clone, Debug)]
pub enum Disk {
    Server {
        /// This server's index among the servers.
        index: usize,
        servers: Vec<NodeId>,
        gossip_ms: u64,
        busy_per_million: u32,
        recovery_bug: bool,
        shares: Vec<u64>,
        /// How many times this server has booted.
        boots: u32,
    },
    Client {
        servers: Vec<NodeId>,
        timeout_ms: u64,
    },
}

/// The volatile state of either role.
#[derive(Debug)]
pub enum Counter {
    Server {
        deaf_to_reads: bool,
        /// `(client, request)` of every add applied since the last boot.
        applied: BTreeSet<(NodeId, u64)>,
    },
    Client {
        next_request: u64,
        waiting: Option<Waiting>,
    },
}

/// The operation a client waits on.
#[derive(Debug)]
pub struct Waiting {
    request: u64,
    op: OpId,
    timeout: TimerId,
}

impl Node for Counter {
    type Durable = Disk;
    type Msg = Msg;
    type Timer = Timer;
    type Op = Op;
    type Ret = u64;

    fn boot(_id: NodeId, durable: &Disk) -> Self {
        match durable {
            Disk::Server { .. } => Counter::Server {
                deaf_to_reads: false,
                applied: BTreeSet::new(),
            },
            Disk::Client { .. } => Counter::Client {
                next_request: 0,
                waiting: None,
            },
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self {
            Counter::Server { deaf_to_reads, .. } => {
                let Disk::Server {
                    gossip_ms,
                    recovery_bug,
                    boots,
                    ..
                } = ctx.durable()
                else {
                    return;
                };
                *boots += 1;
                // The planted bug: recovery forgets to re-enable reads
                // from the second restart (the third boot) on.
                *deaf_to_reads = *recovery_bug && *boots >= 3;
                let gossip_ms = *gossip_ms;
                ctx.set_timer(Duration::from_millis(gossip_ms), Timer::Gossip);
            }
            Counter::Client { .. } => think(ctx),
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match self {
            Counter::Server {
                deaf_to_reads,
                applied,
            } => serve(ctx, from, msg, *deaf_to_reads, applied),
            Counter::Client { waiting, .. } => {
                let (request, outcome) = match msg {
                    Msg::Added { request, amount } => (request, Outcome::Ok(amount)),
                    Msg::Total { request, total } => (request, Outcome::Ok(total)),
                    Msg::Busy { request } => (request, Outcome::Fail),
                    _ => return,
                };
                // A late answer to a request that already timed out is ignored.
                if waiting.as_ref().is_some_and(|w| w.request == request) {
                    let done = waiting.take().expect("checked");
                    ctx.cancel_timer(done.timeout);
                    ctx.complete(done.op, outcome);
                    think(ctx);
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match (self, timer) {
            (Counter::Server { .. }, Timer::Gossip) => gossip(ctx),
            (
                Counter::Client {
                    next_request,
                    waiting,
                },
                Timer::Think,
            ) => {
                *waiting = Some(invoke(ctx, *next_request));
                *next_request += 1;
            }
            // A timeout for a request already answered is ignored.
            (Counter::Client { waiting, .. }, Timer::Timeout { request })
                if waiting.as_ref().is_some_and(|w| w.request == request) =>
            {
                let done = waiting.take().expect("checked");
                ctx.complete(done.op, Outcome::Info);
                think(ctx);
            }
            _ => {}
        }
    }
}

fn think(ctx: &mut Ctx<'_, Counter>) {
    let pause_ms = ctx.rng().between(5, 40);
    ctx.set_timer(Duration::from_millis(pause_ms), Timer::Think);
}

fn invoke(ctx: &mut Ctx<'_, Counter>, request: u64) -> Waiting {
    let Disk::Client {
        servers,
        timeout_ms,
    } = ctx.durable().clone()
    else {
        unreachable!("clients have client disks")
    };
    let server = servers[ctx.rng().index(servers.len())];
    let (op, msg) = if ctx.rng().chance(500_000) {
        let amount = ctx.rng().between(1, 6);
        (Op::Add(amount), Msg::Add { request, amount })
    } else {
        (Op::Read, Msg::Read { request })
    };
    let op = ctx.invoke(op);
    ctx.send(server, msg);
    let timeout = ctx.set_timer(
        Duration::from_millis(timeout_ms),
        Timer::Timeout { request },
    );
    Waiting {
        request,
        op,
        timeout,
    }
}

fn serve(
    ctx: &mut Ctx<'_, Counter>,
    from: NodeId,
    msg: Msg,
    deaf_to_reads: bool,
    applied: &mut BTreeSet<(NodeId, u64)>,
) {
    let Disk::Server {
        index,
        busy_per_million,
        ..
    } = *ctx.durable()
    else {
        return;
    };
    let reply = match msg {
        Msg::Add { request, amount } if applied.contains(&(from, request)) => {
            Msg::Added { request, amount }
        }
        Msg::Add { request, .. } if ctx.rng().chance(busy_per_million) => Msg::Busy { request },
        Msg::Add { request, amount } => {
            applied.insert((from, request));
            shares(ctx)[index] += amount;
            Msg::Added { request, amount }
        }
        Msg::Read { .. } if deaf_to_reads => return,
        Msg::Read { request } => Msg::Total {
            request,
            total: shares(ctx).iter().sum(),
        },
        Msg::Gossip { shares: theirs } => {
            for (mine, theirs) in shares(ctx).iter_mut().zip(theirs) {
                *mine = (*mine).max(theirs);
            }
            return;
        }
        _ => return,
    };
    ctx.send(from, reply);
}

fn gossip(ctx: &mut Ctx<'_, Counter>) {
    let Disk::Server {
        index,
        servers,
        gossip_ms,
        shares,
        ..
    } = ctx.durable().clone()
    else {
        return;
    };
    for (i, peer) in servers.into_iter().enumerate() {
        if i != index {
            ctx.send(
                peer,
                Msg::Gossip {
                    shares: shares.clone(),
                },
            );
        }
    }
    ctx.set_timer(Duration::from_millis(gossip_ms), Timer::Gossip);
}

fn shares<'a>(ctx: &'a mut Ctx<'_, Counter>) -> &'a mut Vec<u64> {
    match ctx.durable() {
        Disk::Server { shares, .. } => shares,
        Disk::Client { .. } => unreachable!("only servers hold shares"),
    }
}

impl ExportOp<u64> for Op {
    fn f(&self) -> &'static str {
        match self {
            Op::Add(_) => "add",
            Op::Read => "read",
        }
    }
    fn key(&self) -> Option<String> {
        None
    }
    fn invoke_value(&self) -> serde_json::Value {
        match self {
            Op::Add(amount) => serde_json::json!(amount),
            Op::Read => serde_json::Value::Null,
        }
    }
    fn ok_value(&self, ret: &u64) -> serde_json::Value {
        serde_json::json!(ret)
    }
}
