//! The design's two roles as one node type. Replicas hold the seen set and
//! only answer; clients run the workload and, inside them, the
//! coordinator library that drives each request.
//!
//! A replica's set is on its disk (`DedupDisk::Replica`) in every variant
//! but `MemoryOnly`, where it lives in the volatile state and a restarted
//! replica comes back empty, as a cache-backed service would.

use std::sync::Arc;

use sim_core::{Ctx, Node, NodeId};

use super::coordinator::Coordinator;
use super::msg::{Msg, RequestNumber};
use super::store::{BloomFilter, ExactSet, Store};
use super::workload::Workload;
use super::{DedupConfig, Seen, Variant};

/// A node of the design: a replica or a client.
#[derive(Debug)]
pub enum DedupNode {
    Replica(Replica),
    Client(Client),
}

/// What survives a crash: each role's configuration and disk.
#[derive(Clone, Debug)]
pub enum DedupDisk {
    Replica(ReplicaDisk),
    Client(ClientDisk),
}

#[derive(Clone, Debug)]
pub struct ReplicaDisk {
    pub config: Arc<DedupConfig>,
    /// The seen set, unless the replica keeps it in memory only.
    pub store: Option<Store>,
}

#[derive(Clone, Debug)]
pub struct ClientDisk {
    pub config: Arc<DedupConfig>,
    /// How many times the client has booted: it numbers requests, so a
    /// restarted client never reuses a request number (a late reply to
    /// the old one would be taken for the new one's).
    pub boots: u32,
}

impl DedupDisk {
    /// A replica's disk at the start of a run: an empty set on disk, or
    /// nothing on disk for `MemoryOnly`.
    pub fn replica(config: Arc<DedupConfig>) -> DedupDisk {
        let store = (config.variant != Variant::MemoryOnly).then(|| empty_store(&config));
        DedupDisk::Replica(ReplicaDisk { config, store })
    }

    pub fn client(config: Arc<DedupConfig>) -> DedupDisk {
        DedupDisk::Client(ClientDisk { config, boots: 0 })
    }
}

#[derive(Debug)]
pub struct Replica {
    /// The seen set when it is kept in memory only (lost on a crash).
    memory: Option<Store>,
}

#[derive(Debug)]
pub struct Client {
    config: Arc<DedupConfig>,
    workload: Workload,
    pub coordinator: Coordinator,
}

/// Timers of both roles.
#[derive(Debug, Hash, serde::Serialize)]
pub enum Timer {
    /// A client slot has thought long enough: ask the next question.
    Think { slot: u32 },
    /// The request's time is up.
    Deadline { request: RequestNumber },
    /// The read phase is late: ask one more replica.
    Hedge { request: RequestNumber },
    /// The write is late: ask stand-ins (`SloppyQuorum` only).
    StandIn { request: RequestNumber },
}

impl Node for DedupNode {
    type Durable = DedupDisk;
    type Msg = Msg;
    type Timer = Timer;
    type Op = Seen;
    type Ret = bool;

    fn boot(_id: NodeId, disk: &DedupDisk) -> Self {
        match disk {
            DedupDisk::Replica(disk) => DedupNode::Replica(Replica {
                memory: disk.store.is_none().then(|| empty_store(&disk.config)),
            }),
            DedupDisk::Client(disk) => DedupNode::Client(Client {
                workload: Workload::new(&disk.config.workload),
                coordinator: Coordinator::new(disk.config.protocol()),
                config: Arc::clone(&disk.config),
            }),
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let DedupNode::Client(client) = self {
            if let DedupDisk::Client(disk) = ctx.durable() {
                disk.boots += 1;
                client.coordinator.set_boot(disk.boots);
            }
            client.workload.on_start(&client.config.workload, ctx);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match self {
            DedupNode::Replica(replica) => replica.on_message(ctx, from, msg),
            DedupNode::Client(client) => client.on_message(ctx, from, msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        if let DedupNode::Client(client) = self {
            client.on_timer(ctx, timer);
        }
    }
}

impl Replica {
    fn on_message(&mut self, ctx: &mut Ctx<'_, DedupNode>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Query { request, x } => {
                let owner = self.store(ctx).owner(x);
                ctx.send(from, Msg::QueryReply { request, owner });
            }
            Msg::Add { request, x, owner } => {
                let owner = self.store(ctx).add(x, owner);
                ctx.send(from, Msg::AddReply { request, owner });
            }
            Msg::QueryReply { .. } | Msg::AddReply { .. } => {}
        }
    }

    /// The seen set, wherever this variant keeps it.
    fn store<'a>(&'a mut self, ctx: &'a mut Ctx<'_, DedupNode>) -> &'a mut Store {
        if let Some(memory) = &mut self.memory {
            return memory;
        }
        match ctx.durable() {
            DedupDisk::Replica(ReplicaDisk {
                store: Some(store), ..
            }) => store,
            other => unreachable!("a replica without a store: {other:?}"),
        }
    }
}

impl Client {
    fn on_message(&mut self, ctx: &mut Ctx<'_, DedupNode>, from: NodeId, msg: Msg) {
        let finished = match msg {
            Msg::QueryReply { request, owner } => {
                self.coordinator.on_query_reply(ctx, from, request, owner)
            }
            Msg::AddReply { request, owner } => {
                self.coordinator.on_add_reply(ctx, from, request, owner)
            }
            Msg::Query { .. } | Msg::Add { .. } => None,
        };
        if let Some(finished) = finished {
            self.workload
                .on_finished(&self.config.workload, ctx, finished);
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, DedupNode>, timer: Timer) {
        let finished = match timer {
            Timer::Think { slot } => {
                if let Some(x) = self.workload.next_x(&self.config.workload, ctx, slot) {
                    self.coordinator.start(ctx, x, slot);
                }
                None
            }
            Timer::Deadline { request } => self.coordinator.on_deadline(ctx, request),
            Timer::Hedge { request } => {
                self.coordinator.on_hedge(ctx, request);
                None
            }
            Timer::StandIn { request } => {
                self.coordinator.on_stand_in(ctx, request);
                None
            }
        };
        if let Some(finished) = finished {
            self.workload
                .on_finished(&self.config.workload, ctx, finished);
        }
    }
}

fn empty_store(config: &DedupConfig) -> Store {
    match config.variant {
        Variant::BloomFilter => {
            Store::Bloom(BloomFilter::new(config.bloom_bits, config.bloom_hashes))
        }
        _ => Store::Exact(ExactSet::default()),
    }
}
