//! The design's two roles as one node type. The server holds the register
//! and only answers; clients run the workload.
//!
//! The server's disk holds the value and its version (how many writes it
//! has applied). Its volatile state holds what is known to be synced and
//! the acknowledgements waiting for a sync.

use std::sync::Arc;

use serde::Serialize;
use sim_core::{Ctx, Node, NodeId};

use super::msg::Msg;
use super::workload::Client;
use super::{RegisterConfig, Variant};

#[derive(Debug)]
pub enum RegisterNode {
    Server(Server),
    Client(Client),
}

/// What survives a crash: each role's configuration and disk.
#[derive(Clone, Debug)]
pub enum RegisterDisk {
    Server {
        variant: Variant,
        value: u64,
        /// How many writes the value has seen.
        version: u64,
    },
    Client {
        config: Arc<RegisterConfig>,
        /// The client's index: its written values are unique to it.
        index: u32,
        /// How many times it has booted: request numbers stay unique.
        boots: u32,
    },
}

impl RegisterDisk {
    pub fn server(config: &RegisterConfig) -> RegisterDisk {
        RegisterDisk::Server {
            variant: config.variant,
            value: 0,
            version: 0,
        }
    }

    pub fn client(config: &Arc<RegisterConfig>, index: u32) -> RegisterDisk {
        RegisterDisk::Client {
            config: Arc::clone(config),
            index,
            boots: 0,
        }
    }

    /// The server's version on disk (0 for a client).
    pub fn version(&self) -> u64 {
        match self {
            RegisterDisk::Server { version, .. } => *version,
            RegisterDisk::Client { .. } => 0,
        }
    }
}

#[derive(Debug)]
pub struct Server {
    variant: Variant,
    /// The value and version the last completed sync covered.
    synced: (u64, u64),
    /// Writes not yet acknowledged: (client, request, version, value).
    waiting: Vec<(NodeId, u64, u64, u64)>,
}

/// Timers of both roles.
#[derive(Debug, Serialize)]
pub enum Timer {
    /// The server's sync up to this version completed.
    Synced { version: u64 },
    /// A client has thought long enough: ask the next question.
    Think,
    /// A client's request ran out of time.
    Deadline { request: u64 },
}

impl Node for RegisterNode {
    type Durable = RegisterDisk;
    type Msg = Msg;
    type Timer = Timer;
    type Op = super::workload::Op;
    type Ret = u64;

    fn boot(_id: NodeId, disk: &RegisterDisk) -> Self {
        match disk {
            RegisterDisk::Server {
                variant,
                value,
                version,
            } => RegisterNode::Server(Server {
                variant: *variant,
                synced: (*value, *version),
                waiting: Vec::new(),
            }),
            RegisterDisk::Client { config, index, .. } => {
                RegisterNode::Client(Client::new(config, *index))
            }
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let RegisterNode::Client(client) = self {
            client.on_start(ctx);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match self {
            RegisterNode::Server(server) => server.on_message(ctx, from, msg),
            RegisterNode::Client(client) => client.on_message(ctx, msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match self {
            RegisterNode::Server(server) => server.on_timer(ctx, timer),
            RegisterNode::Client(client) => client.on_timer(ctx, timer),
        }
    }
}

impl Server {
    fn on_message(&mut self, ctx: &mut Ctx<'_, RegisterNode>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Write { request, value } => {
                let RegisterDisk::Server {
                    value: on_disk,
                    version,
                    ..
                } = ctx.durable()
                else {
                    unreachable!("a server has a server's disk")
                };
                *on_disk = value;
                *version += 1;
                let version = *version;
                ctx.sync(Timer::Synced { version });
                match self.variant {
                    Variant::Correct => self.waiting.push((from, request, version, value)),
                    // The mistake: the write is only in the page cache.
                    Variant::AckBeforeSync => {
                        ctx.count("writes_acknowledged", 1);
                        ctx.send(from, Msg::Written { request, version });
                    }
                }
            }
            Msg::Read { request } => {
                let value = match self.variant {
                    Variant::Correct => self.synced.0,
                    Variant::AckBeforeSync => match ctx.durable() {
                        RegisterDisk::Server { value, .. } => *value,
                        RegisterDisk::Client { .. } => unreachable!("a server's disk"),
                    },
                };
                ctx.send(from, Msg::Value { request, value });
            }
            Msg::Written { .. } | Msg::Value { .. } => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, RegisterNode>, timer: Timer) {
        let Timer::Synced { version } = timer else {
            return;
        };
        if let Some(&(_, _, _, value)) = self.waiting.iter().find(|w| w.2 == version) {
            self.synced = (value, version);
        } else if self.synced.1 < version
            && let RegisterDisk::Server { value, .. } = ctx.durable()
        {
            self.synced = (*value, version);
        }
        let done = self
            .waiting
            .extract_if(.., |&mut (_, _, written, _)| written <= version);
        for (client, request, version, _) in done {
            ctx.count("writes_acknowledged", 1);
            ctx.send(client, Msg::Written { request, version });
        }
    }
}
