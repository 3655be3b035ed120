//! A node's only window on the world. Everything a node does (send, set a
//! timer, read its clocks, draw a random number, write and sync its disk,
//! record a client operation, emit a metric) goes through its `Ctx`, so the
//! engine sees and orders every effect. What a node may know is exactly
//! what this offers: never the true time, never how often it crashed.

use std::time::Duration;

use crate::clock::Clock;
use crate::connection::ConnId;
use crate::disk::Disk;
use crate::history::{OpId, Outcome};
use crate::kernel::{Event, Kernel};
use crate::node::{Node, NodeId};
use crate::queue::{EventKey, LAST_CLASS};
use crate::rng::SimRng;
use crate::time::{LocalTime, MonotonicTime};
use crate::trace::{Ending, TraceKind};

/// Names a pending timer, so its node can cancel it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TimerId(pub(crate) EventKey);

pub struct Ctx<'a, N: Node> {
    pub(crate) id: NodeId,
    pub(crate) incarnation: u32,
    pub(crate) kernel: &'a mut Kernel<N>,
    pub(crate) durable: &'a mut N::Durable,
    pub(crate) disk: &'a mut Disk<N::Durable>,
    pub(crate) rng: &'a mut SimRng,
    pub(crate) clock: &'a Clock,
    /// The oscillator's count at this node's last boot.
    pub(crate) booted_at: u64,
}

impl<N: Node> std::fmt::Debug for Ctx<'_, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("id", &self.id)
            .field("now", &self.kernel.now)
            .finish_non_exhaustive()
    }
}

impl<N: Node> Ctx<'_, N> {
    /// This node.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// How many nodes the simulation has (ids are `0..node_count`).
    pub fn node_count(&self) -> usize {
        self.kernel.network.node_count()
    }

    /// The node's local wall clock: offset, drifting and stepped like a
    /// real one. The true time is not available to nodes. Use it for
    /// timestamps others read (with a margin for skew), never to measure
    /// how long has passed: a step makes it jump.
    pub fn now(&self) -> LocalTime {
        self.clock.local(self.kernel.now)
    }

    /// The node's monotonic clock: what its oscillator has counted since
    /// the node booted. Drift applies, steps never do, and it restarts
    /// from zero at every boot. Leases and holds that measure "how long
    /// has passed" use this.
    pub fn monotonic(&self) -> MonotonicTime {
        MonotonicTime::from_nanos(
            self.clock
                .oscillator(self.kernel.now)
                .saturating_sub(self.booted_at),
        )
    }

    /// Sends `msg` to `to` through the simulated network. A message to
    /// itself is delivered after `network::SELF_SEND_LATENCY`, never lost
    /// and never cut off.
    pub fn send(&mut self, to: NodeId, msg: N::Msg) {
        self.kernel.send(self.id, to, msg);
    }

    /// Opens a connection to `to` (`connection.rs`). This node hears
    /// `ConnEvent::Opened` once `to` has accepted, or `Closed(Refused)`
    /// if it cannot be reached. It may send on it at once: what it sends
    /// arrives after the open, in order.
    pub fn connect(&mut self, to: NodeId) -> ConnId {
        self.kernel.connect(self.id, self.incarnation, to)
    }

    /// Sends `msg` on a connection of this node's. False if this node has
    /// no open end of it (it closed it, or was told it is gone). A
    /// connection that broke unnoticed takes the message and loses it.
    pub fn send_on(&mut self, conn: ConnId, msg: N::Msg) -> bool {
        self.kernel.send_on(self.id, self.incarnation, conn, msg)
    }

    /// Closes this node's end of `conn`; the peer hears
    /// `Closed(ByPeer)` after everything sent before the close.
    pub fn close(&mut self, conn: ConnId) {
        self.kernel.close(self.id, self.incarnation, conn);
    }

    /// Sends a copy of `msg` to each of `to`, in order.
    pub fn broadcast(&mut self, to: impl IntoIterator<Item = NodeId>, msg: &N::Msg) {
        for node in to {
            self.kernel.send(self.id, node, msg.clone());
        }
    }

    /// Calls `on_timer(timer)` after `after` has passed on this node's own
    /// clock (so a fast clock fires early in true time). Lost on a crash.
    pub fn set_timer(&mut self, after: Duration, timer: N::Timer) -> TimerId {
        let at = self.kernel.now + self.clock.true_duration(after);
        let (node, incarnation) = (self.id, self.incarnation);
        let make = || Event::Timer {
            node,
            incarnation,
            timer,
        };
        // A timer is an ordinary event (`Event::class`).
        TimerId(self.kernel.schedule_made(at, LAST_CLASS, make))
    }

    /// Cancels a pending timer; a timer that already fired is ignored.
    pub fn cancel_timer(&mut self, timer: TimerId) {
        self.kernel.queue.cancel(timer.0);
    }

    /// This node's own random stream.
    pub fn rng(&mut self) -> &mut SimRng {
        self.rng
    }

    /// This node's durable state (its disk). The node sees its writes at
    /// once. On an unbuffered disk (the default) they survive a crash at
    /// once; on a buffered one only after a later `sync` has completed.
    pub fn durable(&mut self) -> &mut N::Durable {
        self.durable
    }

    /// Syncs everything written so far; `on_timer(then)` runs when it is
    /// on disk: after the disk's sync latency on a buffered disk, at once
    /// (as the next event) on an unbuffered one. A crash before then loses
    /// the writes and the callback. Syncs complete in the order begun.
    pub fn sync(&mut self, then: N::Timer) {
        let k = &mut *self.kernel;
        let (at, copy) = self.disk.begin_sync(self.durable, k.now);
        k.trace
            .push(k.event, k.now, TraceKind::Sync, Some(self.id), None, &then);
        let event = Event::Synced {
            node: self.id,
            incarnation: self.incarnation,
            copy: copy.map(Box::new),
            then,
        };
        k.schedule(at, event);
    }

    /// Does this node's disk lose unsynced writes on a crash?
    pub fn disk_is_buffered(&self) -> bool {
        self.disk.is_buffered()
    }

    /// Records that this client invoked `op`, now.
    pub fn invoke(&mut self, op: N::Op) -> OpId {
        let k = &mut *self.kernel;
        let id = k.history.invoke(self.id, op, k.now, k.event);
        let op = &k.history.get(id).op;
        k.trace
            .push_operation(k.event, k.now, TraceKind::Invoke, self.id, id, op);
        id
    }

    /// Records how operation `op` ended, now.
    pub fn complete(&mut self, op: OpId, outcome: Outcome<N::Ret>) {
        let k = &mut *self.kernel;
        let kind = TraceKind::Complete(Ending::of(&outcome));
        k.trace
            .push_operation(k.event, k.now, kind, self.id, op, &(op.0, &outcome));
        k.history.complete(op, outcome, k.now, k.event);
    }

    /// Records that this client showed its user item `item` of stream
    /// `stream` (a message in a conversation), now: an observation in the
    /// history, judged by the stream checks (`stream.rs`).
    pub fn show(&mut self, stream: u64, item: u64) {
        let k = &mut *self.kernel;
        k.trace.push(
            k.event,
            k.now,
            TraceKind::Show,
            Some(self.id),
            None,
            &(stream, item),
        );
        k.history.show(self.id, stream, item, k.now, k.event);
    }

    /// Adds `delta` to the counter `name`: a metric of the run (its
    /// total) and a series over time the run report can plot.
    pub fn count(&mut self, name: &'static str, delta: u64) {
        let now = self.kernel.now;
        self.kernel.metrics.count(name, delta, now);
    }

    /// Marks that the run reached an interesting state, named by `label`
    /// ("a failover during a payment"): "sometimes" coverage. Runs count
    /// how often; sweeps and `dsim check` say which labels a scenario's
    /// seeds reached, and a scenario can require some (`reach: [...]`),
    /// so a pass that never got there fails. Not part of the trace or
    /// its digest.
    pub fn reached(&mut self, label: &'static str) {
        self.kernel.metrics.reach(label);
    }

    /// Records one value of the distribution `name` (e.g. a latency in
    /// ns); the run's metrics get its p50 and p99.
    pub fn observe(&mut self, name: &'static str, value: u64) {
        self.kernel.metrics.observe(name, value);
    }
}
