//! Tools for tests that read like the story they tell.
//!
//! - [`Story`]: a fault plan told in order ("isolate the client at 17 ms,
//!   heal at 50 ms, crash replica 2 at 100 ms for 300 ms") instead of a
//!   list of struct literals.
//! - [`Driver`]: one node's handler driven by hand, with its effects (what
//!   it sent, the timers it set, the syncs it began, the operations it
//!   invoked and completed) handed back as data, without running a whole
//!   simulation, as stateright's `Out` allows. Each call runs one handler
//!   and returns exactly what that handler did.

use std::time::Duration;

use crate::config::SimConfig;
use crate::connection::{ConnEvent, ConnId};
use crate::faults::{Fault, TimedFault};
use crate::history::{OpId, Outcome};
use crate::kernel::Event;
use crate::link::{Latency, LinkConfig};
use crate::node::{Node, NodeId};
use crate::partition::Partition;
use crate::sim::Sim;
use crate::time::SimTime;

/// A fault plan, told in order.
#[derive(Clone, Debug, Default)]
pub struct Story {
    faults: Vec<TimedFault>,
}

impl Story {
    pub fn new() -> Story {
        Story::default()
    }

    /// Any fault at `at_ms`.
    pub fn at(mut self, at_ms: u64, fault: Fault) -> Story {
        self.faults.push(TimedFault::at(at_ms, fault));
        self
    }

    /// The fault just told lasts `duration_ms`, then undoes itself.
    ///
    /// # Panics
    /// If no fault was told yet.
    pub fn lasting(mut self, duration_ms: u64) -> Story {
        let last = self.faults.last_mut().expect("`lasting` follows a fault");
        last.duration_ms = Some(duration_ms);
        self
    }

    pub fn crash(self, at_ms: u64, node: NodeId) -> Story {
        self.at(at_ms, Fault::Crash(node))
    }
    pub fn restart(self, at_ms: u64, node: NodeId) -> Story {
        self.at(at_ms, Fault::Restart(node))
    }
    pub fn pause(self, at_ms: u64, node: NodeId) -> Story {
        self.at(at_ms, Fault::Pause(node))
    }
    pub fn resume(self, at_ms: u64, node: NodeId) -> Story {
        self.at(at_ms, Fault::Resume(node))
    }
    pub fn shutdown(self, at_ms: u64, node: NodeId, grace_ms: u64) -> Story {
        self.at(at_ms, Fault::Shutdown { node, grace_ms })
    }
    /// Cuts `node` off from everyone.
    pub fn isolate(self, at_ms: u64, node: NodeId) -> Story {
        self.at(at_ms, Fault::Partition(Partition::Isolate(node)))
    }
    /// Splits the network into these groups (unlisted nodes form one more).
    pub fn split(self, at_ms: u64, groups: Vec<Vec<NodeId>>) -> Story {
        self.at(at_ms, Fault::Partition(Partition::Groups(groups)))
    }
    /// Removes every cut.
    pub fn heal(self, at_ms: u64) -> Story {
        self.at(at_ms, Fault::Heal)
    }
    pub fn clock_step(self, at_ms: u64, node: NodeId, delta_us: i64) -> Story {
        self.at(at_ms, Fault::ClockStep { node, delta_us })
    }

    /// Breaks every connection of `node`.
    pub fn reset_connections(self, at_ms: u64, node: NodeId) -> Story {
        self.at(at_ms, Fault::ConnReset(node))
    }
    /// Freezes every connection of `node` (give it a duration).
    pub fn stall_connections(self, at_ms: u64, node: NodeId) -> Story {
        self.at(at_ms, Fault::ConnStall(node))
    }

    pub fn faults(self) -> Vec<TimedFault> {
        self.faults
    }
}

/// What one handler did.
#[derive(Debug)]
pub struct Effects<N: Node> {
    /// Messages sent, in send order: (to, message).
    pub sends: Vec<(NodeId, N::Msg)>,
    /// Timers set and still pending: (after, timer), soonest first.
    pub timers: Vec<(Duration, N::Timer)>,
    /// Syncs begun, by the timer each runs when done.
    pub syncs: Vec<N::Timer>,
    /// Operations invoked.
    pub invoked: Vec<N::Op>,
    /// Operations completed, with how.
    pub completed: Vec<(OpId, Outcome<N::Ret>)>,
    /// Messages sent on connections, in send order: (connection, message).
    pub conn_sends: Vec<(ConnId, N::Msg)>,
    /// Connections opened: (connection, to whom).
    pub connects: Vec<(ConnId, NodeId)>,
    /// Connections this node closed.
    pub closes: Vec<ConnId>,
}

/// Drives the handlers of a design's nodes one call at a time.
pub struct Driver<N: Node> {
    sim: Sim<N>,
}

impl<N: Node> std::fmt::Debug for Driver<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("nodes", &self.sim.slots.len())
            .finish()
    }
}

impl<N: Node> Driver<N> {
    /// Nodes booted from `durables` (not started), on a network that
    /// delivers at once and loses nothing, at true time zero.
    pub fn new(durables: Vec<N::Durable>) -> Driver<N> {
        let mut config = SimConfig::new(0);
        config.network.default_link = LinkConfig {
            latency: Latency::Constant { us: 0 },
            ..LinkConfig::default()
        };
        let mut sim = Sim::new(config, durables);
        while sim.kernel.queue.pop().is_some() {} // no Start events: tests start nodes
        Driver { sim }
    }

    /// Runs `on_start` of `node`.
    pub fn start(&mut self, node: NodeId) -> Effects<N> {
        self.drive(node, |n, ctx| n.on_start(ctx))
    }

    /// Delivers `msg` from `from` to `to`.
    pub fn deliver(&mut self, to: NodeId, from: NodeId, msg: N::Msg) -> Effects<N> {
        self.drive(to, |n, ctx| n.on_message(ctx, from, msg))
    }

    /// Fires `timer` at `node`.
    pub fn fire(&mut self, node: NodeId, timer: N::Timer) -> Effects<N> {
        self.drive(node, |n, ctx| n.on_timer(ctx, timer))
    }

    /// An established connection from `opener` to `acceptor`, as if the
    /// open had gone through: both ends may send on it. No handler runs;
    /// tell either end with `conn_event`.
    pub fn connected(&mut self, opener: NodeId, acceptor: NodeId) -> ConnId {
        let k = &mut self.sim.kernel;
        let incarnations = (
            k.incarnation[opener.index()],
            k.incarnation[acceptor.index()],
        );
        k.connections
            .establish((opener, incarnations.0), (acceptor, incarnations.1))
    }

    /// Runs `on_connection(conn, event)` of `node`.
    pub fn conn_event(
        &mut self,
        node: NodeId,
        conn: ConnId,
        event: ConnEvent<N::Msg>,
    ) -> Effects<N> {
        self.drive(node, |n, ctx| n.on_connection(ctx, conn, event))
    }

    /// Moves true time forward (every clock with it).
    pub fn advance(&mut self, by: Duration) {
        self.sim.kernel.now = self.sim.kernel.now + by;
    }

    pub fn now(&self) -> SimTime {
        self.sim.kernel.now
    }

    /// A node's volatile state.
    ///
    /// # Panics
    /// If the node is down (it never is, unless a test crashed it).
    pub fn node(&self, id: NodeId) -> &N {
        self.sim.slots[id.index()]
            .node
            .as_ref()
            .expect("the node is up")
    }

    /// Everything clients showed so far (`Ctx::show`), in order.
    pub fn history_shown(&self) -> &[crate::history::Shown] {
        self.sim.kernel.history.shown()
    }

    pub fn durable(&self, id: NodeId) -> &N::Durable {
        &self.sim.slots[id.index()].durable
    }

    fn drive(
        &mut self,
        id: NodeId,
        f: impl FnOnce(&mut N, &mut crate::ctx::Ctx<'_, N>),
    ) -> Effects<N> {
        let history_before = self.sim.kernel.history.len();
        let completions_before: Vec<bool> = self
            .sim
            .kernel
            .history
            .operations()
            .iter()
            .map(|op| op.completion.is_some())
            .collect();
        self.sim.kernel.event += 1;
        self.sim.with_node(id, f);
        let now = self.sim.kernel.now;
        let mut effects = Effects {
            sends: Vec::new(),
            timers: Vec::new(),
            syncs: Vec::new(),
            invoked: Vec::new(),
            completed: Vec::new(),
            conn_sends: Vec::new(),
            connects: Vec::new(),
            closes: Vec::new(),
        };
        while let Some((at, event)) = self.sim.kernel.queue.pop() {
            match event {
                Event::Deliver { to, msg, .. } => effects.sends.push((to, msg)),
                Event::Timer { timer, .. } => effects.timers.push((at - now, timer)),
                Event::Synced { then, .. } => effects.syncs.push(then),
                Event::ConnDeliver { conn, msg, .. } => effects.conn_sends.push((conn, msg)),
                Event::ConnOpen { conn, to } => effects.connects.push((conn, to)),
                Event::ConnFin { conn, .. } => effects.closes.push(conn),
                _ => {}
            }
        }
        let operations = self.sim.kernel.history.operations();
        effects.invoked = operations[history_before..]
            .iter()
            .map(|op| op.op.clone())
            .collect();
        for op in operations {
            let was_done = completions_before
                .get(op.id.0 as usize)
                .copied()
                .unwrap_or(false);
            if let (false, Some(done)) = (was_done, &op.completion) {
                effects.completed.push((op.id, done.outcome.clone()));
            }
        }
        effects
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_story_lists_its_faults_in_order_with_their_durations() {
        let faults = Story::new()
            .isolate(17, NodeId(3))
            .lasting(30)
            .crash(40, NodeId(1))
            .heal(50)
            .faults();
        assert_eq!(faults.len(), 3);
        assert_eq!(
            (faults[0].at_ms, faults[0].duration_ms),
            (17, Some(30)),
            "`lasting` sets the fault just told"
        );
        assert_eq!(faults[1].fault, Fault::Crash(NodeId(1)));
        assert_eq!(
            (faults[2].fault.clone(), faults[2].duration_ms),
            (Fault::Heal, None)
        );
    }
}
