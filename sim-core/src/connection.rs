//! Connections: what a WebSocket or a TCP stream gives a design, beside
//! the network's datagrams. A node opens a connection to another; while it
//! is up, messages on it arrive in the order sent, each at most once,
//! never lost or duplicated (the link's latency applies, its loss and
//! duplication do not). A crash of either end, a partition between them,
//! or a reset fault breaks it: what was in flight on it is lost, and each
//! end still up is told (`ConnEvent::Closed`) after its own detection delay
//! (`NetworkConfig::break_detection`), so for a while one side may believe
//! it is up while the other knows it is down, as with real sockets. A
//! graceful close travels behind the data sent before it. A stall fault
//! freezes a connection: nothing on it moves until the stall ends, and
//! then everything arrives in order.
//!
//! The table lives in the kernel; the handlers that act on it are here
//! too (`Kernel` for what a node's `Ctx` does, `Sim` for the events and
//! faults). Designs without connections never touch it.

use crate::kernel::{Event, Kernel};
use crate::link::Latency;
use crate::network::DropReason;
use crate::node::{Node, NodeId};
use crate::queue::EventKey;
use crate::rng::SimRng;
use crate::sim::Sim;
use crate::time::SimTime;
use crate::trace::TraceKind;

/// Names a connection, unique in a run.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct ConnId(pub u64);

/// What a node learns about one of its connections.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize)]
pub enum ConnEvent<M> {
    /// The connection this node opened is up: `peer` accepted it.
    Opened { peer: NodeId },
    /// `peer` opened a connection to this node; it is up.
    Accepted { peer: NodeId },
    /// A message from the other end, in the order it was sent.
    Message(M),
    /// The connection is gone; nothing more arrives on it, and what is
    /// sent on it is lost.
    Closed(CloseReason),
}

/// Why a connection ended, as its end learns it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// It never opened: the peer was down or out of reach.
    Refused,
    /// The other end closed it, after everything it had sent arrived.
    ByPeer,
    /// It broke: a reset, a crash of the other end, or a partition.
    Broken,
}

/// Which end of a connection: the one that opened it, or the one that
/// accepted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Side {
    Opener = 0,
    Acceptor = 1,
}

impl Side {
    fn other(self) -> Side {
        match self {
            Side::Opener => Side::Acceptor,
            Side::Acceptor => Side::Opener,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// The open is on its way to the acceptor.
    Opening,
    Up,
    /// Closed or broken: nothing more is delivered.
    Down,
}

#[derive(Clone, Copy, Debug)]
struct End {
    node: NodeId,
    /// The node's incarnation this end belongs to: a restarted node has
    /// none of its old connections.
    incarnation: u32,
    /// This end has not closed it and has not been told it is gone.
    open: bool,
}

#[derive(Debug)]
struct Conn {
    ends: [End; 2],
    state: State,
    /// How many stall faults hold it now.
    stalls: u32,
    /// Deliveries that came due while stalled, in order.
    held: Vec<EventKey>,
    /// The latest arrival scheduled toward each end, so order is kept.
    tail: [SimTime; 2],
}

/// Every connection of a run.
#[derive(Debug)]
pub(crate) struct Connections {
    conns: Vec<Conn>,
    /// Per node: its connections that are not down, to break them when
    /// the node crashes or is reset. Only designs with connections fill it.
    live: Vec<Vec<ConnId>>,
    detection: Latency,
    /// Latency and detection draws; a stream of its own, so a design's
    /// datagrams draw the same whether or not it also uses connections.
    rng: SimRng,
}

impl Connections {
    pub(crate) fn new(node_count: usize, detection: Latency, rng: SimRng) -> Connections {
        Connections {
            conns: Vec::new(),
            live: vec![Vec::new(); node_count],
            detection,
            rng,
        }
    }

    fn conn(&mut self, id: ConnId) -> &mut Conn {
        &mut self.conns[id.0 as usize]
    }

    /// A connection already up between two nodes (in these incarnations),
    /// as if its open had gone through: for driving handlers by hand.
    pub(crate) fn establish(&mut self, opener: (NodeId, u32), acceptor: (NodeId, u32)) -> ConnId {
        let id = ConnId(self.conns.len() as u64);
        let end = |(node, incarnation)| End {
            node,
            incarnation,
            open: true,
        };
        self.conns.push(Conn {
            ends: [end(opener), end(acceptor)],
            state: State::Up,
            stalls: 0,
            held: Vec::new(),
            tail: [SimTime::ZERO; 2],
        });
        self.live[opener.0.index()].push(id);
        self.live[acceptor.0.index()].push(id);
        id
    }

    /// Is this connection frozen by a stall now?
    pub(crate) fn is_stalled(&self, id: ConnId) -> bool {
        self.conns[id.0 as usize].stalls > 0
    }

    /// Keeps a delivery that came due while stalled, for the stall's end.
    pub(crate) fn hold(&mut self, id: ConnId, key: EventKey) {
        self.conn(id).held.push(key);
    }

    /// The node at one end.
    fn node(&self, id: ConnId, side: Side) -> NodeId {
        self.conns[id.0 as usize].ends[side as usize].node
    }

    /// Which end of `id` is `node` (in its incarnation), if it is one and
    /// has not closed or been told of the end.
    fn side_of(&self, id: ConnId, node: NodeId, incarnation: u32) -> Option<Side> {
        let conn = self.conns.get(id.0 as usize)?;
        [Side::Opener, Side::Acceptor].into_iter().find(|&side| {
            let end = &conn.ends[side as usize];
            end.node == node && end.incarnation == incarnation && end.open
        })
    }

    /// The live connections of `node`, for faults that break or stall them.
    pub(crate) fn of(&self, node: NodeId) -> Vec<ConnId> {
        self.live[node.index()].clone()
    }

    /// Every connection that is not down.
    pub(crate) fn all_live(&self) -> Vec<ConnId> {
        let mut all: Vec<ConnId> = self.live.iter().flatten().copied().collect();
        all.sort();
        all.dedup();
        all
    }

    /// Marks it down and forgets it in the live lists. False if it was
    /// already down.
    fn take_down(&mut self, id: ConnId) -> bool {
        let conn = &mut self.conns[id.0 as usize];
        if conn.state == State::Down {
            return false;
        }
        conn.state = State::Down;
        let nodes = [conn.ends[0].node, conn.ends[1].node];
        for node in nodes {
            self.live[node.index()].retain(|&c| c != id);
        }
        true
    }
}

impl<N: Node> Kernel<N> {
    /// `from` (in `incarnation`) opens a connection to `to`. The open
    /// travels like a message but is never lost; if `to` cannot be reached
    /// now, the opener learns it was refused after its detection delay.
    pub(crate) fn connect(&mut self, from: NodeId, incarnation: u32, to: NodeId) -> ConnId {
        let id = ConnId(self.connections.conns.len() as u64);
        let end = |node, incarnation| End {
            node,
            incarnation,
            open: true,
        };
        self.connections.conns.push(Conn {
            // The acceptor's incarnation is filled in when the open arrives.
            ends: [end(from, incarnation), end(to, 0)],
            state: State::Opening,
            stalls: 0,
            held: Vec::new(),
            tail: [SimTime::ZERO; 2],
        });
        self.connections.live[from.index()].push(id);
        self.trace.push(
            self.event,
            self.now,
            TraceKind::ConnOpen,
            Some(from),
            Some(to),
            &id,
        );
        match self.conn_arrival(id, Side::Acceptor) {
            Some(at) => {
                self.schedule(at, Event::ConnOpen { conn: id, to });
            }
            None => self.break_connection(id, CloseReason::Refused),
        }
        id
    }

    /// When something sent now toward `toward` on `id` arrives, keeping
    /// order; `None` if the other end cannot be reached.
    fn conn_arrival(&mut self, id: ConnId, toward: Side) -> Option<SimTime> {
        let from = self.connections.node(id, toward.other());
        let to = self.connections.node(id, toward);
        if !self.network.reachable(from, to) {
            return None;
        }
        let latency = self.network.link(from, to).latency;
        let conns = &mut self.connections;
        let at = self.now + std::time::Duration::from_nanos(latency.sample_ns(&mut conns.rng));
        let tail = &mut conns.conns[id.0 as usize].tail[toward as usize];
        let at = at.max(*tail);
        *tail = at;
        Some(at)
    }

    /// Sends `msg` on `id` from `from`. False if `from` is not an open end
    /// of it (it closed it, was told it is gone, or never had it). A
    /// connection that broke without its sender knowing yet takes the
    /// message and loses it, as a real socket's buffer would.
    pub(crate) fn send_on(
        &mut self,
        from: NodeId,
        incarnation: u32,
        id: ConnId,
        msg: N::Msg,
    ) -> bool {
        let Some(side) = self.connections.side_of(id, from, incarnation) else {
            return false;
        };
        let toward = side.other();
        let to = self.connections.node(id, toward);
        let message = self.stats.messages_sent;
        self.stats.messages_sent += 1;
        let (event, now) = (self.event, self.now);
        self.trace.push_full(
            event,
            now,
            TraceKind::Send,
            Some(from),
            Some(to),
            Some(message),
            &(id, &msg),
            &msg,
        );
        let state = self.connections.conns[id.0 as usize].state;
        let arrival = match state {
            State::Down => None,
            _ => self.conn_arrival(id, toward),
        };
        match arrival {
            Some(at) => {
                let deliver = Event::ConnDeliver {
                    conn: id,
                    to,
                    id: message,
                    msg,
                };
                self.schedule(at, deliver);
            }
            None => {
                self.dropped(from, to, message, DropReason::ConnectionBroken, &msg);
                // Out of reach: the link is gone, so the connection is.
                self.break_connection(id, CloseReason::Broken);
            }
        }
        true
    }

    /// `node` closes its end of `id`: it sends nothing more on it and
    /// hears nothing more from it; the other end is told once everything
    /// sent before the close has arrived.
    pub(crate) fn close(&mut self, node: NodeId, incarnation: u32, id: ConnId) {
        let Some(side) = self.connections.side_of(id, node, incarnation) else {
            return;
        };
        self.connections.conn(id).ends[side as usize].open = false;
        let toward = side.other();
        let to = self.connections.node(id, toward);
        self.trace.push(
            self.event,
            self.now,
            TraceKind::ConnClose,
            Some(node),
            Some(to),
            &id,
        );
        let state = self.connections.conns[id.0 as usize].state;
        if state == State::Down {
            return;
        }
        match self.conn_arrival(id, toward) {
            Some(at) => {
                self.schedule(at, Event::ConnFin { conn: id, to });
            }
            None => self.break_connection(id, CloseReason::Broken),
        }
        if state == State::Opening {
            // Never accepted yet: nothing to wait for on this side.
            self.connections.live[node.index()].retain(|&c| c != id);
        }
    }

    /// The connection is gone: what is in flight on it is lost, and each
    /// end that does not know yet is told after its own detection delay.
    pub(crate) fn break_connection(&mut self, id: ConnId, reason: CloseReason) {
        if !self.connections.take_down(id) {
            return;
        }
        let ends = self.connections.conns[id.0 as usize].ends;
        self.trace.push(
            self.event,
            self.now,
            TraceKind::ConnBreak,
            Some(ends[0].node),
            Some(ends[1].node),
            &(id, reason),
        );
        for (side, end) in [Side::Opener, Side::Acceptor].into_iter().zip(ends) {
            // An acceptor that never heard of it has nothing to be told.
            if !end.open || (side == Side::Acceptor && reason == CloseReason::Refused) {
                continue;
            }
            let delay = self
                .connections
                .detection
                .sample_ns(&mut self.connections.rng);
            let at = self.now + std::time::Duration::from_nanos(delay);
            let notify = Event::ConnNotify {
                conn: id,
                to: end.node,
                side,
                reason,
            };
            self.schedule(at, notify);
        }
    }
}

impl<N: Node> Sim<N> {
    /// The open reaches the acceptor: if it is up, the connection is, and
    /// the acceptance travels back.
    #[inline(never)] // rare: kept out of the run loop's hot code
    pub(crate) fn conn_open_arrives(&mut self, id: ConnId, to: NodeId) {
        let k = &mut self.kernel;
        if k.connections.conns[id.0 as usize].state != State::Opening {
            return; // closed or broken on the way
        }
        let from = k.connections.node(id, Side::Opener);
        if self.slots[to.index()].node.is_none() || k.network.is_cut(from, to) {
            k.break_connection(id, CloseReason::Refused);
            return;
        }
        let incarnation = k.incarnation[to.index()];
        let conn = k.connections.conn(id);
        conn.state = State::Up;
        conn.ends[Side::Acceptor as usize].incarnation = incarnation;
        k.connections.live[to.index()].push(id);
        k.trace
            .push(k.event, k.now, TraceKind::ConnUp, Some(to), Some(from), &id);
        match k.conn_arrival(id, Side::Opener) {
            Some(at) => {
                k.schedule(at, Event::ConnAccepted { conn: id, to: from });
            }
            None => k.break_connection(id, CloseReason::Broken),
        }
        self.with_node(to, |node, ctx| {
            node.on_connection(ctx, id, ConnEvent::Accepted { peer: from });
        });
    }

    /// The acceptance reaches the opener.
    #[inline(never)] // rare: kept out of the run loop's hot code
    pub(crate) fn conn_accepted_arrives(&mut self, id: ConnId, to: NodeId) {
        let k = &mut self.kernel;
        let incarnation = k.incarnation[to.index()];
        let up = k.connections.conns[id.0 as usize].state == State::Up;
        if !up || k.connections.side_of(id, to, incarnation) != Some(Side::Opener) {
            return;
        }
        let peer = k.connections.node(id, Side::Acceptor);
        self.with_node(to, |node, ctx| {
            node.on_connection(ctx, id, ConnEvent::Opened { peer });
        });
    }

    /// A message on a connection reaches its end: delivered if the
    /// connection is still up and that end still open, lost otherwise.
    pub(crate) fn conn_message_arrives(
        &mut self,
        id: ConnId,
        to: NodeId,
        message: u64,
        msg: N::Msg,
    ) {
        let k = &mut self.kernel;
        let incarnation = k.incarnation[to.index()];
        let up = k.connections.conns[id.0 as usize].state == State::Up;
        let side = k.connections.side_of(id, to, incarnation);
        let from = match side {
            Some(side) => k.connections.node(id, side.other()),
            None => k.connections.node(id, Side::Opener),
        };
        if !up || side.is_none() || self.slots[to.index()].node.is_none() {
            k.dropped(from, to, message, DropReason::ConnectionBroken, &msg);
            return;
        }
        k.stats.messages_delivered += 1;
        k.trace.push_full(
            k.event,
            k.now,
            TraceKind::Deliver,
            Some(to),
            Some(from),
            Some(message),
            &(),
            &msg,
        );
        self.with_node(to, |node, ctx| {
            node.on_connection(ctx, id, ConnEvent::Message(msg));
        });
    }

    /// The other end's close reaches `to`, behind everything sent before it.
    #[inline(never)] // rare: kept out of the run loop's hot code
    pub(crate) fn conn_fin_arrives(&mut self, id: ConnId, to: NodeId) {
        let k = &mut self.kernel;
        let incarnation = k.incarnation[to.index()];
        if k.connections.conns[id.0 as usize].state != State::Up {
            return;
        }
        let side = k.connections.side_of(id, to, incarnation);
        k.connections.take_down(id);
        let Some(side) = side else {
            return; // it had closed its end too
        };
        k.connections.conn(id).ends[side as usize].open = false;
        let peer = k.connections.node(id, side.other());
        k.trace.push(
            k.event,
            k.now,
            TraceKind::ConnClosed,
            Some(to),
            Some(peer),
            &(id, CloseReason::ByPeer),
        );
        self.with_node(to, |node, ctx| {
            node.on_connection(ctx, id, ConnEvent::Closed(CloseReason::ByPeer));
        });
    }

    /// An end learns its connection is gone.
    #[inline(never)] // rare: kept out of the run loop's hot code
    pub(crate) fn conn_notify_arrives(
        &mut self,
        id: ConnId,
        to: NodeId,
        side: Side,
        reason: CloseReason,
    ) {
        let k = &mut self.kernel;
        let incarnation = k.incarnation[to.index()];
        if k.connections.side_of(id, to, incarnation) != Some(side) {
            return; // that end restarted, closed it, or was told already
        }
        k.connections.conn(id).ends[side as usize].open = false;
        let peer = k.connections.node(id, side.other());
        k.trace.push(
            k.event,
            k.now,
            TraceKind::ConnClosed,
            Some(to),
            Some(peer),
            &(id, reason),
        );
        self.with_node(to, |node, ctx| {
            node.on_connection(ctx, id, ConnEvent::Closed(reason));
        });
    }

    /// Breaks every connection of `node` (a crash or a reset).
    pub(crate) fn break_connections_of(&mut self, node: NodeId) -> bool {
        let conns = self.kernel.connections.of(node);
        for &id in &conns {
            self.kernel.break_connection(id, CloseReason::Broken);
        }
        !conns.is_empty()
    }

    /// Breaks every connection a cut now separates.
    pub(crate) fn break_cut_connections(&mut self) {
        let k = &mut self.kernel;
        for id in k.connections.all_live() {
            let a = k.connections.node(id, Side::Opener);
            let b = k.connections.node(id, Side::Acceptor);
            if k.network.is_cut(a, b) || k.network.is_cut(b, a) {
                k.break_connection(id, CloseReason::Broken);
            }
        }
    }

    /// Stalls every live connection of `node`; returns them, for the undo.
    pub(crate) fn stall_connections_of(&mut self, node: NodeId) -> Vec<ConnId> {
        let conns = self.kernel.connections.of(node);
        for &id in &conns {
            self.kernel.connections.conn(id).stalls += 1;
        }
        conns
    }

    /// Ends every stall (the heal): everything held arrives now, in order.
    pub(crate) fn unstall_all(&mut self) {
        let stalled: Vec<ConnId> = (0..self.kernel.connections.conns.len() as u64)
            .map(ConnId)
            .filter(|&id| self.kernel.connections.is_stalled(id))
            .collect();
        for &id in &stalled {
            self.kernel.connections.conn(id).stalls = 1;
        }
        self.unstall(&stalled);
    }

    /// Ends one stall of each of `conns`; a connection no stall holds any
    /// more lets what it held arrive now, in order.
    pub(crate) fn unstall(&mut self, conns: &[ConnId]) {
        let now = self.kernel.now;
        for &id in conns {
            let conn = self.kernel.connections.conn(id);
            conn.stalls = conn.stalls.saturating_sub(1);
            if conn.stalls > 0 {
                continue;
            }
            let held = std::mem::take(&mut conn.held);
            for direction in &mut conn.tail {
                *direction = (*direction).max(now);
            }
            for key in held {
                self.kernel.queue.release(key, now);
            }
        }
    }
}
