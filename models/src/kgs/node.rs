//! The design's three roles as one node type: authority nodes (the
//! replicated register), ID servers (leasing bulks, handing out IDs) and
//! clients (asking for IDs). Each role's code is in its own file; this
//! one owns the node and disk types, the timers, and the dispatch.

use std::sync::Arc;

use serde::Serialize;
use sim_core::{Ctx, Node, NodeId};

use super::KgsConfig;
use super::authority::Authority;
use super::msg::{AuthorityState, Ballot, Msg};
use super::server::Server;
use super::workload::{Client, Op, Ret};

#[derive(Debug)]
pub enum KgsNode {
    Authority(Authority),
    Server(Server),
    Client(Client),
}

/// What survives a crash, per role.
#[derive(Clone, Debug)]
pub enum KgsDisk {
    Authority(AuthorityDisk),
    Server(ServerDisk),
    Client(ClientDisk),
}

/// An authority node's disk: its CAS-Paxos acceptor state.
#[derive(Clone, Debug)]
pub struct AuthorityDisk {
    pub config: Arc<KgsConfig>,
    /// The highest ballot promised.
    pub promised: Ballot,
    /// The last value accepted, with its ballot.
    pub accepted: Option<(Ballot, AuthorityState)>,
}

/// An ID server's disk.
#[derive(Clone, Debug)]
pub struct ServerDisk {
    pub config: Arc<KgsConfig>,
    pub index: u32,
    /// Boots so far: request numbers stay unique across restarts.
    pub boots: u32,
    /// `StaleCheckpoint` only: a bulk and how far it had been issued,
    /// written every `checkpoint_every` IDs.
    pub checkpoint: Option<(super::msg::Range, u64)>,
}

#[derive(Clone, Debug)]
pub struct ClientDisk {
    pub config: Arc<KgsConfig>,
    pub index: u32,
    pub boots: u32,
}

impl KgsDisk {
    pub fn authority(config: &Arc<KgsConfig>) -> KgsDisk {
        KgsDisk::Authority(AuthorityDisk {
            config: Arc::clone(config),
            promised: Ballot::default(),
            accepted: None,
        })
    }
    pub fn server(config: &Arc<KgsConfig>, index: u32) -> KgsDisk {
        KgsDisk::Server(ServerDisk {
            config: Arc::clone(config),
            index,
            boots: 0,
            checkpoint: None,
        })
    }
    pub fn client(config: &Arc<KgsConfig>, index: u32) -> KgsDisk {
        KgsDisk::Client(ClientDisk {
            config: Arc::clone(config),
            index,
            boots: 0,
        })
    }
}

/// Timers of every role.
#[derive(Debug, Serialize)]
pub enum Timer {
    // Authority nodes.
    /// A proposal got no quorum in time: try again.
    RoundTimeout { ballot: Ballot },
    /// Back off after a refused proposal, then try again.
    Retry,
    /// A write is on disk: now send the answer it waited for.
    Synced { to: NodeId, msg: Box<Msg> },
    /// A write is on disk, and nobody was waiting for it.
    Flushed,
    // ID servers.
    /// No lease came in time: ask another authority node.
    LeaseTimeout { request: u64 },
    /// `ClockReclaim`: renew the current lease.
    Renew,
    // Clients.
    Think,
    Deadline { request: u64 },
}

impl Node for KgsNode {
    type Durable = KgsDisk;
    type Msg = Msg;
    type Timer = Timer;
    type Op = Op;
    type Ret = Ret;

    fn boot(id: NodeId, disk: &KgsDisk) -> Self {
        match disk {
            KgsDisk::Authority(disk) => KgsNode::Authority(Authority::new(id, &disk.config)),
            KgsDisk::Server(disk) => KgsNode::Server(Server::new(&disk.config)),
            KgsDisk::Client(disk) => KgsNode::Client(Client::new(&disk.config, disk.index)),
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self {
            KgsNode::Authority(_) => {}
            KgsNode::Server(server) => server.on_start(ctx),
            KgsNode::Client(client) => client.on_start(ctx),
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match self {
            KgsNode::Authority(authority) => authority.on_message(ctx, from, msg),
            KgsNode::Server(server) => server.on_message(ctx, from, msg),
            KgsNode::Client(client) => client.on_message(ctx, msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match self {
            KgsNode::Authority(authority) => authority.on_timer(ctx, timer),
            KgsNode::Server(server) => server.on_timer(ctx, timer),
            KgsNode::Client(client) => client.on_timer(ctx, timer),
        }
    }

    fn on_shutdown(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let KgsNode::Server(server) = self {
            server.on_shutdown(ctx);
        }
    }
}
