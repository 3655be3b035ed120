//! The design's four roles as one node type: the store (sequences and
//! keeps each conversation), the load balancer (hands requests and push
//! connections to servers), the chat servers (stateless), and the
//! clients (users: they send, and show what they receive). Each role's
//! code is in its own file; this one owns the node and disk types, the
//! timers, and the dispatch.

use std::sync::Arc;

use serde::Serialize;
use sim_core::{ConnEvent, ConnId, Ctx, Node, NodeId};

use super::ChatConfig;
use super::client::Client;
use super::lb::Lb;
use super::log::{Conversations, Keys};
use super::msg::Msg;
use super::server::Server;
use super::store::Store;
use super::workload::{Op, Ret};

#[derive(Debug)]
pub enum ChatNode {
    Store(Store),
    Lb(Lb),
    Server(Server),
    Client(Client),
}

/// What survives a crash, per role.
#[derive(Clone, Debug)]
pub enum ChatDisk {
    Store(StoreDisk),
    /// Stateless roles keep only their configuration.
    Lb(Arc<ChatConfig>),
    Server(Arc<ChatConfig>),
    Client(ClientDisk),
}

/// The store's disk: every conversation's messages in order, and the key
/// of every message stored (for idempotent retries), with when. Both
/// share what they hold with their copies (`log.rs`): the disk is copied
/// at every sync.
#[derive(Clone, Debug)]
pub struct StoreDisk {
    pub config: Arc<ChatConfig>,
    pub conversations: Conversations,
    pub keys: Keys,
}

#[derive(Clone, Debug)]
pub struct ClientDisk {
    pub config: Arc<ChatConfig>,
    pub index: u32,
    /// Boots so far: request numbers and message ids stay unique.
    pub boots: u32,
}

impl ChatDisk {
    pub fn store(config: &ChatConfig) -> ChatDisk {
        ChatDisk::Store(StoreDisk {
            config: Arc::new(config.clone()),
            conversations: Conversations::default(),
            keys: Keys::default(),
        })
    }
    pub fn lb(config: &ChatConfig) -> ChatDisk {
        ChatDisk::Lb(Arc::new(config.clone()))
    }
    pub fn server(config: &ChatConfig, _index: u32) -> ChatDisk {
        ChatDisk::Server(Arc::new(config.clone()))
    }
    pub fn client(config: &ChatConfig, index: u32) -> ChatDisk {
        ChatDisk::Client(ClientDisk {
            config: Arc::new(config.clone()),
            index,
            boots: 0,
        })
    }
}

/// Timers of every role.
#[derive(Debug, Serialize)]
pub enum Timer {
    // The store.
    /// Sync number `n` is on disk: acknowledge what waited for it.
    Synced { n: u64 },
    // Servers.
    /// Try the store connection again.
    StoreReconnect,
    /// A held poll's time is up: answer it, empty.
    PollExpired { poll: u64 },
    // Clients.
    /// Send the next message.
    Think,
    /// An attempt of the current send went unanswered: send it again.
    Retry { request: u64 },
    /// The current send gives up.
    Deadline { request: u64 },
    /// Poll again after an answer (`ShortPoll`'s interval, or a server
    /// that could not answer).
    Poll { request: u64 },
    /// A poll went unanswered too long: it was lost; poll again.
    PollTimeout { request: u64 },
    /// `Push`: ask for a server and connect again.
    Reconnect,
    /// `Push`: a gap fetch went unanswered.
    FetchTimeout { request: u64 },
}

impl Node for ChatNode {
    type Durable = ChatDisk;
    type Msg = Msg;
    type Timer = Timer;
    type Op = Op;
    type Ret = Ret;

    fn boot(id: NodeId, disk: &ChatDisk) -> Self {
        match disk {
            ChatDisk::Store(disk) => ChatNode::Store(Store::new(disk)),
            ChatDisk::Lb(config) => ChatNode::Lb(Lb::new(config)),
            ChatDisk::Server(config) => ChatNode::Server(Server::new(config)),
            ChatDisk::Client(disk) => ChatNode::Client(Client::new(id, disk)),
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self {
            ChatNode::Server(server) => server.on_start(ctx),
            ChatNode::Client(client) => client.on_start(ctx),
            ChatNode::Store(_) | ChatNode::Lb(_) => {}
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match self {
            ChatNode::Store(_) => {}
            ChatNode::Lb(lb) => lb.on_message(ctx, from, msg),
            ChatNode::Server(server) => server.on_message(ctx, msg),
            ChatNode::Client(client) => client.on_message(ctx, msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match self {
            ChatNode::Store(store) => store.on_timer(ctx, timer),
            ChatNode::Lb(_) => {}
            ChatNode::Server(server) => server.on_timer(ctx, timer),
            ChatNode::Client(client) => client.on_timer(ctx, timer),
        }
    }

    fn on_connection(&mut self, ctx: &mut Ctx<'_, Self>, conn: ConnId, event: ConnEvent<Msg>) {
        match self {
            ChatNode::Store(store) => store.on_connection(ctx, conn, event),
            ChatNode::Lb(_) => {}
            ChatNode::Server(server) => server.on_connection(ctx, conn, event),
            ChatNode::Client(client) => client.on_connection(ctx, conn, event),
        }
    }
}
