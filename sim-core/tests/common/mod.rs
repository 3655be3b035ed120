//! A small probe design for engine tests. Each node may ping a peer on a
//! period; every node answers pings with pongs and keeps a log of what it
//! received (volatile) and a count of pings it answered (durable).

#![allow(dead_code)] // each test file uses a different part

use std::time::Duration;

use sim_core::{Ctx, Node, NodeId, Outcome};

#[derive(Clone, Debug, Hash, PartialEq, Eq, serde::Serialize)]
pub enum Msg {
    Ping(u64),
    Pong(u64),
}

#[derive(Debug, Hash, serde::Serialize)]
pub enum Timer {
    Tick,
    /// A one-off timer whose firing is logged with the local time.
    Alarm(u32),
}

/// What survives a crash: the probe's configuration and its disk.
#[derive(Clone, Debug, Default)]
pub struct Disk {
    /// Whom to ping, how often, how many times.
    pub ping: Option<(NodeId, Duration, u64)>,
    /// Alarms set at start: (id, delay on the local clock).
    pub alarms: Vec<(u32, Duration)>,
    /// Pings sent all at once at start: (to, how many).
    pub burst: Option<(NodeId, u64)>,
    /// Pings answered, over all incarnations.
    pub answered: u64,
}

#[derive(Debug, Default)]
pub struct Probe {
    pub sent: u64,
    /// (from, message, local time in ns) in arrival order.
    pub received: Vec<(NodeId, Msg, i64)>,
    /// (alarm id, local time in ns) in firing order.
    pub alarms_fired: Vec<(u32, i64)>,
    pub started: bool,
}

impl Node for Probe {
    type Durable = Disk;
    type Msg = Msg;
    type Timer = Timer;
    type Op = u64;
    type Ret = u64;

    fn boot(_id: NodeId, _durable: &Disk) -> Self {
        Probe::default()
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.started = true;
        let disk = ctx.durable().clone();
        if let Some((_, period, _)) = disk.ping {
            ctx.set_timer(period, Timer::Tick);
        }
        if let Some((to, count)) = disk.burst {
            for n in 0..count {
                ctx.send(to, Msg::Ping(n));
            }
        }
        for (id, after) in disk.alarms {
            ctx.set_timer(after, Timer::Alarm(id));
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        self.received
            .push((from, msg.clone(), ctx.now().as_nanos()));
        if let Msg::Ping(n) = msg {
            ctx.durable().answered += 1;
            ctx.send(from, Msg::Pong(n));
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match timer {
            Timer::Tick => {
                let Some((to, period, count)) = ctx.durable().ping else {
                    return;
                };
                if self.sent < count {
                    // Each ping is also a client operation, answered at once.
                    let op = ctx.invoke(self.sent);
                    ctx.complete(op, Outcome::Ok(self.sent));
                    ctx.send(to, Msg::Ping(self.sent));
                    self.sent += 1;
                    ctx.set_timer(period, Timer::Tick);
                }
            }
            Timer::Alarm(id) => self.alarms_fired.push((id, ctx.now().as_nanos())),
        }
    }
}

/// `n` probes; node 0 pings node 1 every `period`, `count` times.
pub fn pinging(n: usize, period: Duration, count: u64) -> Vec<Disk> {
    let mut disks = vec![Disk::default(); n];
    disks[0].ping = Some((NodeId(1), period, count));
    disks
}

pub fn pings_received(probe: &Probe) -> Vec<u64> {
    probe
        .received
        .iter()
        .filter_map(|(_, m, _)| match m {
            Msg::Ping(n) => Some(*n),
            Msg::Pong(_) => None,
        })
        .collect()
}
