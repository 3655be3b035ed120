//! The kernel: everything of a run except the nodes, and what a node's
//! `Ctx` reaches. It owns the clock of the run (true time), the event
//! queue, the network, the history, the trace and the counters, and
//! carries out sends: a message's fate is decided here, when it is sent.

use std::time::Duration;

use crate::connection::{CloseReason, ConnId, Connections, Side};
use crate::faults::Fault;
use crate::history::History;
use crate::metrics::Metrics;
use crate::network::{DropReason, Network, Route};
use crate::node::{Node, NodeId};
use crate::queue::{EventKey, EventQueue};
use crate::result::RunStats;
use crate::time::SimTime;
use crate::trace::{Trace, TraceKind};

/// Something scheduled to happen.
///
/// `repr(u64)`: the tag takes a whole word, so every variant's fields
/// start eight bytes in. An event is moved in and out of its queue slot
/// in 16-byte pieces of everything past the tag; with a one-byte tag
/// those pieces began at an odd offset, and reading an eight-byte field
/// back that straddled two of them waited for both stores to reach the
/// cache (perf: the run loop's and `set_timer`'s hottest instructions).
/// It costs a word per pending event: the deep-queue benchmark's
/// 1,000,000 timers peak at 121 MB instead of 108 MB.
#[derive(Debug)]
#[repr(u64)]
pub(crate) enum Event<N: Node> {
    Start(NodeId),
    /// `incarnation` is the receiver's when the message was sent: a message
    /// in flight across a crash is lost. `id` numbers messages in send
    /// order (a duplicate shares its original's).
    Deliver {
        from: NodeId,
        to: NodeId,
        incarnation: u32,
        id: u64,
        msg: N::Msg,
    },
    Timer {
        node: NodeId,
        incarnation: u32,
        timer: N::Timer,
    },
    /// A sync of `node`'s disk completed: `copy` (buffered disks only) is
    /// now what a crash rolls back to, and `then` runs. Lost on a crash.
    Synced {
        node: NodeId,
        incarnation: u32,
        copy: Option<Box<N::Durable>>,
        then: N::Timer,
    },
    /// A fault of the plan, and how long it lasts (if it undoes itself).
    /// Boxed, like `Undo`: faults are rare, and every event slot is as
    /// large as the largest event.
    Fault {
        fault: Box<Fault>,
        duration: Option<Duration>,
    },
    /// A fault with a duration ends: undo exactly its effect.
    Undo {
        id: u64,
        undo: Box<crate::inject::Undo>,
    },
    /// A node shutting down reaches the end of its grace period.
    Stop {
        node: NodeId,
        incarnation: u32,
    },
    NemesisTick,
    /// Faults stop and everything heals: the liveness phase.
    Heal,
    /// A connection's open reaches its acceptor `to`.
    ConnOpen {
        conn: ConnId,
        to: NodeId,
    },
    /// The acceptance reaches the opener `to`.
    ConnAccepted {
        conn: ConnId,
        to: NodeId,
    },
    /// A message on a connection reaches `to`; `id` as for `Deliver`.
    ConnDeliver {
        conn: ConnId,
        to: NodeId,
        id: u64,
        msg: N::Msg,
    },
    /// The other end's graceful close reaches `to`.
    ConnFin {
        conn: ConnId,
        to: NodeId,
    },
    /// The end `side` (node `to`) learns its connection is gone.
    ConnNotify {
        conn: ConnId,
        to: NodeId,
        side: Side,
        reason: CloseReason,
    },
}

impl<N: Node> Event<N> {
    /// Which events run first at one nanosecond: a fault's undo, then
    /// faults (planned or the nemesis's) and the heal, then everything
    /// else. A planned
    /// fault and the nemesis strike it records then run at the same point,
    /// so a recorded plan (`dsim record`) is the same run.
    fn class(&self) -> u8 {
        match self {
            Event::Undo { .. } => 0,
            // The heal with them: planned at the start, it still comes
            // before a nemesis tick due at the same moment.
            Event::Fault { .. } | Event::NemesisTick | Event::Heal => 1,
            _ => crate::queue::LAST_CLASS,
        }
    }
}

impl<N: Node> Event<N> {
    /// The node that must be running (not paused) for this event to run.
    pub(crate) fn paused_target(&self) -> Option<NodeId> {
        match self {
            Event::Deliver { to, .. } => Some(*to),
            Event::Timer { node, .. } | Event::Synced { node, .. } => Some(*node),
            Event::ConnOpen { to, .. }
            | Event::ConnAccepted { to, .. }
            | Event::ConnDeliver { to, .. }
            | Event::ConnFin { to, .. }
            | Event::ConnNotify { to, .. } => Some(*to),
            _ => None,
        }
    }

    /// The connection whose stall holds this event: what travels on it
    /// (a notice of its end does not).
    pub(crate) fn on_connection(&self) -> Option<ConnId> {
        match self {
            Event::ConnOpen { conn, .. }
            | Event::ConnAccepted { conn, .. }
            | Event::ConnDeliver { conn, .. }
            | Event::ConnFin { conn, .. } => Some(*conn),
            _ => None,
        }
    }
}

/// Everything except the nodes: what a node's `Ctx` reaches.
#[derive(Debug)]
pub(crate) struct Kernel<N: Node> {
    pub(crate) now: SimTime,
    /// The current engine step, 1-based (0 = before the first event).
    pub(crate) event: u64,
    pub(crate) queue: EventQueue<Event<N>>,
    pub(crate) network: Network,
    pub(crate) connections: Connections,
    /// Per node: how many times it crashed or stopped. Only the engine
    /// knows it; nodes never see it.
    pub(crate) incarnation: Vec<u32>,
    pub(crate) history: History<N::Op, N::Ret>,
    pub(crate) trace: Trace,
    pub(crate) metrics: Metrics,
    pub(crate) stats: RunStats,
    pub(crate) max_pending: usize,
    pub(crate) pending_overflow: bool,
}

impl<N: Node> Kernel<N> {
    #[inline]
    pub(crate) fn schedule(&mut self, at: SimTime, event: Event<N>) -> EventKey {
        let class = event.class();
        self.schedule_made(at, class, || event)
    }

    /// Schedules the event `make` builds, of class `class` (what
    /// `Event::class` says of it), built in its queue slot: an event built
    /// aside and then moved in is copied in pieces wider than the stores
    /// that built it, and the copy waits for them (a timer's, set on every
    /// request of a run, most of all).
    #[inline(always)]
    pub(crate) fn schedule_made(
        &mut self,
        at: SimTime,
        class: u8,
        make: impl FnOnce() -> Event<N>,
    ) -> EventKey {
        if self.queue.len() >= self.max_pending {
            self.pending_overflow = true;
        }
        let key = self.queue.push_made(at, class, make);
        debug_assert_eq!(
            self.queue.get(key).map(Event::class),
            Some(class),
            "an event scheduled in another class than its own"
        );
        key
    }

    pub(crate) fn send(&mut self, from: NodeId, to: NodeId, msg: N::Msg) {
        let id = self.stats.messages_sent;
        self.stats.messages_sent += 1;
        let (event, now) = (self.event, self.now);
        self.trace.push_full(
            event,
            now,
            TraceKind::Send,
            Some(from),
            Some(to),
            Some(id),
            &msg,
            &msg,
        );
        match self.network.route(from, to, self.now) {
            Route::Drop(reason) => self.dropped(from, to, id, reason, &msg),
            Route::Deliver { at, copy_at } => {
                let incarnation = self.incarnation[to.index()];
                if let Some(copy_at) = copy_at {
                    self.stats.messages_duplicated += 1;
                    let copy = Event::Deliver {
                        from,
                        to,
                        incarnation,
                        id,
                        msg: msg.clone(),
                    };
                    self.schedule(copy_at, copy);
                }
                // Built in its queue slot: built aside, its 4-byte fields
                // were copied in with 16-byte loads that waited for the
                // stores (perf: a quarter of a send in quorum-bench).
                self.schedule_made(at, crate::queue::LAST_CLASS, || Event::Deliver {
                    from,
                    to,
                    incarnation,
                    id,
                    msg,
                });
            }
        }
    }

    /// Records a message that will not arrive. The digest already has the
    /// message from its send; the description repeats it for readers.
    pub(crate) fn dropped(
        &mut self,
        from: NodeId,
        to: NodeId,
        id: u64,
        reason: DropReason,
        msg: &N::Msg,
    ) {
        self.stats.messages_dropped += 1;
        let kind = TraceKind::Drop(reason);
        self.trace.push_full(
            self.event,
            self.now,
            kind,
            Some(from),
            Some(to),
            Some(id),
            &(),
            msg,
        );
    }
}
