//! The failover controller: the one component assumed to stay up (in a
//! real deployment, a coordination service). It watches the store
//! leader's heartbeats. After `failover_after_ms` of silence it picks a
//! new epoch, asks every store node to promise it and say whose journal
//! it holds (the epoch it last copied) and how long, and once a majority
//! has answered it promotes the one holding the newest epoch's journal,
//! the longest of those. Every acknowledged entry is on a majority, any
//! two majorities meet, and every newer leader started from a journal
//! that had it: so the chosen journal holds every acknowledged entry.
//! Then it tells every store node and app server who leads.

use std::sync::Arc;
use std::time::Duration;

use sim_core::{Ctx, MonotonicTime, NodeId};

use super::msg::Msg;
use super::node::{BookingNode, Timer};
use super::{BookingConfig, Layout};

#[derive(Debug)]
pub struct Controller {
    config: Arc<BookingConfig>,
    layout: Layout,
    /// The leader it knows: epoch and node.
    leader: (u64, NodeId),
    last_heard: MonotonicTime,
    /// A failover in progress: the epoch and the answers so far.
    failover: Option<(u64, Vec<Prepared>)>,
}

/// A store node's promise: who, and the (epoch, length) of its journal.
type Prepared = (NodeId, (u64, u64));

impl Controller {
    pub fn new(config: &Arc<BookingConfig>) -> Controller {
        let layout = Layout::of(config);
        Controller {
            config: Arc::clone(config),
            leader: (1, layout.store(0)),
            layout,
            last_heard: MonotonicTime::from_nanos(0),
            failover: None,
        }
    }

    pub fn on_start(&mut self, ctx: &mut Ctx<'_, BookingNode>) {
        self.last_heard = ctx.monotonic();
        ctx.set_timer(Duration::from_millis(self.config.heartbeat_ms), Timer::Watch);
    }

    pub fn on_message(&mut self, ctx: &mut Ctx<'_, BookingNode>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Heartbeat { epoch } if (epoch, from) == self.leader => {
                self.last_heard = ctx.monotonic();
            }
            Msg::Prepared { epoch, log_epoch, len } => {
                let Some((asked, answers)) = &mut self.failover else {
                    return;
                };
                if epoch != *asked || answers.iter().any(|(n, _)| *n == from) {
                    return;
                }
                answers.push((from, (log_epoch, len)));
                if answers.len() < self.config.majority() {
                    return;
                }
                // Of a majority, the newest epoch's journal, the longest
                // of those; the lowest id on a tie. Length alone would
                // pick a journal kept from an old epoch, whose entries past
                // what that epoch committed never were, and which lacks
                // what later epochs committed.
                let &(chosen, _) = answers
                    .iter()
                    .max_by_key(|(node, len)| (*len, std::cmp::Reverse(node.0)))
                    .expect("a majority answered");
                let epoch = *asked;
                self.failover = None;
                self.leader = (epoch, chosen);
                self.last_heard = ctx.monotonic();
                ctx.send(chosen, Msg::Promote { epoch });
                self.announce(ctx);
                ctx.count("failovers", 1);
            }
            Msg::WhoLeads => {
                let (epoch, leader) = self.leader;
                ctx.send(from, Msg::Leader { epoch, leader });
            }
            _ => {}
        }
    }

    fn announce(&self, ctx: &mut Ctx<'_, BookingNode>) {
        let (epoch, leader) = self.leader;
        let everyone = self.layout.stores().chain(self.layout.apps());
        ctx.broadcast(everyone, &Msg::Leader { epoch, leader });
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, BookingNode>, timer: Timer) {
        if !matches!(timer, Timer::Watch) {
            return;
        }
        ctx.set_timer(Duration::from_millis(self.config.heartbeat_ms), Timer::Watch);
        let silent = ctx.monotonic().since(self.last_heard);
        if silent < Duration::from_millis(self.config.failover_after_ms) {
            return;
        }
        // Silent too long: a new epoch (again, if the last try stalled).
        let epoch = self.failover.as_ref().map_or(self.leader.0, |(e, _)| *e) + 1;
        self.failover = Some((epoch, Vec::new()));
        self.last_heard = ctx.monotonic();
        let stores = self.layout.stores();
        ctx.broadcast(stores, &Msg::Prepare { epoch });
    }
}
