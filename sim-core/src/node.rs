//! What a node is: a sans-IO state machine. The engine calls its handlers;
//! the node acts only through its `Ctx` (see `ctx.rs`).

use std::fmt::Debug;

use serde::Serialize;

use crate::connection::{ConnEvent, ConnId};
use crate::ctx::Ctx;

/// A node's index in the simulation, dense from 0. Clients are nodes too.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct NodeId(pub u32);

impl NodeId {
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "n{}", self.0)
    }
}

/// A node of a design: a state machine driven by the engine.
///
/// A node's state is split in two, and the split is enforced by types:
/// `Self` is volatile (lost on a crash) and `Durable` survives (it is the
/// node's disk and its configuration). `boot` is the only constructor, used
/// both at the start and at every restart, so a restarted node can only
/// know what its durable part holds: the engine tells it nothing else (not
/// even how often it crashed). The node writes durable state through
/// `Ctx::durable`; on a buffered disk a write survives a crash only once a
/// sync has completed (`Ctx::sync`). A design with several roles makes
/// `Self` an enum of roles (and `Durable` one too).
///
/// Messages, timers and operations are `Serialize` because the trace
/// digest hashes their canonical encoding (`encode.rs`), and `Debug` for
/// readable traces.
pub trait Node: Sized + 'static {
    /// What survives a crash: configuration and disk. `Clone` because a
    /// buffered disk keeps the last synced copy beside the one the node
    /// sees (an unbuffered disk never clones).
    type Durable: Clone + Debug;
    /// Messages between nodes.
    type Msg: Clone + Debug + Serialize;
    /// A node's own timer kinds (e.g. `Retry { request }`).
    type Timer: Debug + Serialize;
    /// Client operations recorded in the history, and their results.
    type Op: Clone + Debug + Serialize;
    type Ret: Clone + Debug + Serialize;

    /// Builds the volatile state from the durable state.
    fn boot(id: NodeId, durable: &Self::Durable) -> Self;

    /// Called once after each boot (the start of the run, and each
    /// restart). Does nothing unless a role needs it.
    fn on_start(&mut self, _ctx: &mut Ctx<'_, Self>) {}

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Self::Msg);

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Self::Timer);

    /// Something happened on one of this node's connections
    /// (`connection.rs`): it opened, a peer connected, a message arrived
    /// on it, or it is gone. Does nothing unless the design uses
    /// connections.
    fn on_connection(
        &mut self,
        _ctx: &mut Ctx<'_, Self>,
        _conn: ConnId,
        _event: ConnEvent<Self::Msg>,
    ) {
    }

    /// A graceful shutdown began (`Fault::Shutdown`): the node keeps
    /// running for its grace period, then stops, keeping everything it
    /// wrote. Unlike a crash, it may use the time: finish, hand over,
    /// discard. Does nothing unless a role needs it.
    fn on_shutdown(&mut self, _ctx: &mut Ctx<'_, Self>) {}
}
