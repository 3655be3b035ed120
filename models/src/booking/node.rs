//! The design's five roles as one node type: store nodes (a leader and
//! its followers), the failover controller, the payment provider, app
//! servers and users. Each role's code is in its own file; this one owns
//! the node and disk types, the timers, and the dispatch.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use sim_core::{ConnEvent, ConnId, Ctx, Node, NodeId};

use super::BookingConfig;
use super::app::App;
use super::controller::Controller;
use super::ledger::{Entry, OrderId};
use super::msg::{ChargeStatus, Msg};
use super::provider::Provider;
use super::store::Store;
use super::user::User;
use super::workload::{Op, Ret};

#[derive(Debug)]
pub enum BookingNode {
    Store(Store),
    Controller(Controller),
    Provider(Provider),
    App(App),
    User(User),
}

/// What survives a crash, per role.
#[derive(Clone, Debug)]
pub enum BookingDisk {
    Store(StoreDisk),
    /// Stateless roles keep only their configuration.
    Controller(Arc<BookingConfig>),
    App(Arc<BookingConfig>),
    Provider(ProviderDisk),
    User(UserDisk),
}

/// A store node's disk: its journal, and the epochs it knows.
#[derive(Clone, Debug)]
pub struct StoreDisk {
    pub config: Arc<BookingConfig>,
    /// The newest epoch it has promised to follow (or leads).
    pub epoch: u64,
    /// The epoch it was told to lead, if it is that epoch's leader.
    pub leads: Option<u64>,
    /// The epoch whose leader's journal this journal is a copy of (a
    /// prefix of): set when it takes a leader's whole journal, or is
    /// promoted. Failover compares it before length, because a journal
    /// kept from an old epoch can be long and still miss what a newer
    /// epoch committed.
    pub log_epoch: u64,
    pub journal: Vec<Entry>,
}

/// The provider's ledger: every charge key it has seen, and how it
/// stands, with when it was charged (its clock).
#[derive(Clone, Debug)]
pub struct ProviderDisk {
    pub config: Arc<BookingConfig>,
    pub charges: BTreeMap<OrderId, (ChargeStatus, i64)>,
}

#[derive(Clone, Debug)]
pub struct UserDisk {
    pub config: Arc<BookingConfig>,
    pub index: u32,
    pub boots: u32,
}

impl BookingDisk {
    pub fn store(config: &Arc<BookingConfig>, index: u32) -> BookingDisk {
        BookingDisk::Store(StoreDisk {
            config: Arc::clone(config),
            // store-0 leads epoch 1 from the start.
            epoch: 1,
            leads: (index == 0).then_some(1),
            log_epoch: 1,
            journal: Vec::new(),
        })
    }
    pub fn provider(config: &Arc<BookingConfig>) -> BookingDisk {
        BookingDisk::Provider(ProviderDisk {
            config: Arc::clone(config),
            charges: BTreeMap::new(),
        })
    }
    pub fn user(config: &Arc<BookingConfig>, index: u32) -> BookingDisk {
        BookingDisk::User(UserDisk {
            config: Arc::clone(config),
            index,
            boots: 0,
        })
    }
}

/// Timers of every role.
#[derive(Debug, Serialize)]
pub enum Timer {
    // Store nodes.
    /// The leader's heartbeat to the controller.
    Heartbeat,
    // The controller.
    /// Is the leader still alive?
    Watch,
    // The provider.
    /// Answer a charge now.
    Answer { to: NodeId, key: OrderId, charge: bool },
    // App servers.
    /// Connect to the leader again.
    Reconnect,
    /// Bring the seat map up to date.
    MapRefresh,
    /// Look for payments left half done.
    Reconcile,
    /// The provider did not answer this charge (or query) in time.
    PaymentDeadline { order: OrderId, attempt: u32 },
    // Users.
    /// Arrive at the box office.
    Arrive,
    /// Think, then act.
    Next,
    /// A request went unanswered: send it again.
    Retry { request: u64 },
    /// The operation gives up and records an unknown outcome.
    GiveUp { request: u64 },
}

impl Node for BookingNode {
    type Durable = BookingDisk;
    type Msg = Msg;
    type Timer = Timer;
    type Op = Op;
    type Ret = Ret;

    fn boot(id: NodeId, disk: &BookingDisk) -> Self {
        match disk {
            BookingDisk::Store(disk) => BookingNode::Store(Store::new(id, disk)),
            BookingDisk::Controller(config) => BookingNode::Controller(Controller::new(config)),
            BookingDisk::Provider(disk) => BookingNode::Provider(Provider::new(disk)),
            BookingDisk::App(config) => BookingNode::App(App::new(id, config)),
            BookingDisk::User(disk) => BookingNode::User(User::new(id, disk)),
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self {
            BookingNode::Store(store) => store.on_start(ctx),
            BookingNode::Controller(controller) => controller.on_start(ctx),
            BookingNode::Provider(_) => {}
            BookingNode::App(app) => app.on_start(ctx),
            BookingNode::User(user) => user.on_start(ctx),
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match self {
            BookingNode::Store(store) => store.on_message(ctx, from, msg),
            BookingNode::Controller(controller) => controller.on_message(ctx, from, msg),
            BookingNode::Provider(provider) => provider.on_message(ctx, from, msg),
            BookingNode::App(app) => app.on_message(ctx, from, msg),
            BookingNode::User(user) => user.on_message(ctx, msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match self {
            BookingNode::Store(store) => store.on_timer(ctx, timer),
            BookingNode::Controller(controller) => controller.on_timer(ctx, timer),
            BookingNode::Provider(provider) => provider.on_timer(ctx, timer),
            BookingNode::App(app) => app.on_timer(ctx, timer),
            BookingNode::User(user) => user.on_timer(ctx, timer),
        }
    }

    fn on_connection(&mut self, ctx: &mut Ctx<'_, Self>, conn: ConnId, event: ConnEvent<Msg>) {
        match self {
            BookingNode::Store(store) => store.on_connection(ctx, conn, event),
            BookingNode::App(app) => app.on_connection(ctx, conn, event),
            _ => {}
        }
    }
}
