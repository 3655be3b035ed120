//! Chat with ordered delivery (`README.md` beside this file). This file
//! owns the model section of scenario files (`ChatConfig`, with its
//! variants and delivery modes) and the `Model` the harness runs.
//!
//! Users in conversations send messages through a load balancer to
//! stateless chat servers; a store gives each conversation a sequence and
//! keeps its messages, each synced before it is acknowledged. How the
//! second user learns a message is there is the design's question, and a
//! scenario picks the answer: a WebSocket-like connection the server
//! pushes on (the client reconnects with backoff and resyncs from the
//! last message it saw), long polling (the server holds a request until
//! there is news), or short polling (ask every interval). Receivers show
//! messages in sequence order, fetching what a gap says they missed.

pub mod client;
pub mod invariants;
pub mod lb;
pub mod log;
pub mod metrics;
pub mod msg;
pub mod node;
pub mod receiver;
pub mod server;
pub mod store;
pub mod workload;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sim_core::{Checks, ConfigError, DiskConfig, NodeId, SimConfig};

pub use workload::WorkloadConfig;

/// The "sometimes" labels (`Ctx::reached`) the design marks.
pub mod labels {
    pub const RESYNC_AFTER_RECONNECT: &str = "resync_after_reconnect";
    pub const GAP_FETCHED: &str = "gap_fetched";
}

use crate::harness::{Finished, Harness, Model};
use crate::{Design, ModelSection, Shrinkable};
use metrics::Observations;
use node::{ChatDisk, ChatNode};

/// The model section of a chat scenario.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChatConfig {
    /// The correct design or one of its broken variants.
    pub variant: Variant,
    /// How receivers learn of new messages.
    pub delivery: Delivery,
    /// Chat servers (`server-0` ..).
    pub servers: u32,
    /// `ShortPoll`: how long a client waits between polls, in ms.
    pub poll_interval_ms: u64,
    /// `LongPoll`: how long a server holds a poll with no news, in ms.
    pub long_poll_hold_ms: u64,
    /// `Push`: the first reconnect waits this long, doubling up to
    /// `reconnect_max_ms` while attempts fail, in ms.
    pub reconnect_min_ms: u64,
    pub reconnect_max_ms: u64,
    /// `ShortIdempotencyWindow`: how long the store remembers a message's
    /// key, in ms.
    pub idempotency_window_ms: u64,
    /// Who talks, in which conversations, how often.
    pub workload: WorkloadConfig,
}

/// The correct design and the mistakes it is tested against.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub enum Variant {
    /// The store sequences each conversation; keys make retries harmless;
    /// receivers resync after a reconnect and fill gaps.
    #[default]
    Correct,
    /// Servers stamp messages with their own clock on arrival; the store
    /// orders conversations by that stamp and clients fetch "everything
    /// after the last stamp I saw". A skewed clock or a slow path puts a
    /// message behind a cursor that has already passed it.
    ArrivalOrder,
    /// The store appends every copy it receives: a retry whose first try
    /// did land is shown twice.
    NoIdempotency,
    /// The store remembers keys only for `idempotency_window_ms`, less
    /// than a sender keeps retrying: a late retry lands twice.
    ShortIdempotencyWindow,
    /// `Push`: after a reconnect the client subscribes from "now"; what was
    /// sent while it was away is never shown.
    NoResync,
    /// Receivers show messages the moment they arrive, with no gap
    /// detection: a resync racing live pushes shows them out of order.
    NoGapDetection,
}

/// How the second user learns a message is there.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub enum Delivery {
    /// A connection held to a server, which pushes new messages on it.
    #[default]
    Push,
    /// A request the server holds until there is news or it times out.
    LongPoll,
    /// A request every `poll_interval_ms`, answered at once.
    ShortPoll,
}

impl Delivery {
    /// The grid's number for it: 0 push, 1 long poll, 2 short poll.
    pub fn from_number(n: i64) -> Option<Delivery> {
        match n {
            0 => Some(Delivery::Push),
            1 => Some(Delivery::LongPoll),
            2 => Some(Delivery::ShortPoll),
            _ => None,
        }
    }
}

impl Default for ChatConfig {
    fn default() -> Self {
        ChatConfig {
            variant: Variant::Correct,
            delivery: Delivery::Push,
            servers: 3,
            poll_interval_ms: 500,
            long_poll_hold_ms: 2_000,
            reconnect_min_ms: 50,
            reconnect_max_ms: 1_000,
            idempotency_window_ms: 60_000,
            workload: WorkloadConfig::default(),
        }
    }
}

impl ModelSection for ChatConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let ranges = [
            ("servers", u64::from(self.servers), 1, 100),
            ("poll_interval_ms", self.poll_interval_ms, 1, 3_600_000),
            ("long_poll_hold_ms", self.long_poll_hold_ms, 1, 3_600_000),
            ("reconnect_min_ms", self.reconnect_min_ms, 1, 3_600_000),
            ("reconnect_max_ms", self.reconnect_max_ms, 1, 3_600_000),
            ("idempotency_window_ms", self.idempotency_window_ms, 1, 1 << 40),
        ];
        for (field, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                return Err(ConfigError::new(
                    field,
                    format!("{value} is not between {min} and {max}"),
                ));
            }
        }
        if self.reconnect_max_ms < self.reconnect_min_ms {
            return Err(ConfigError::new(
                "reconnect_max_ms",
                format!("must be at least reconnect_min_ms ({})", self.reconnect_min_ms),
            ));
        }
        if self.variant == Variant::NoResync && self.delivery != Delivery::Push {
            return Err(ConfigError::new(
                "variant",
                "NoResync is a push mistake: it needs delivery: Push",
            ));
        }
        self.workload.validate().map_err(|e| e.within("workload"))
    }

    fn design(&self) -> Box<dyn Design> {
        Box::new(Harness::new(ChatDesign::new(self.clone())))
    }

    fn set_param(&mut self, name: &str, value: i64) -> Result<(), String> {
        let count = u64::try_from(value).map_err(|_| format!("{name} = {value}: not a count"))?;
        let small = || u32::try_from(count).map_err(|_| format!("{name} = {value}: too large"));
        match name {
            "delivery" => {
                self.delivery = Delivery::from_number(value).ok_or_else(|| {
                    format!("delivery = {value}: 0 is Push, 1 LongPoll, 2 ShortPoll")
                })?;
            }
            "poll_interval_ms" => self.poll_interval_ms = count,
            "long_poll_hold_ms" => self.long_poll_hold_ms = count,
            "servers" => self.servers = small()?,
            "clients" => self.workload.clients = small()?,
            "conversations" => self.workload.conversations = small()?,
            "send_every_ms" => self.workload.send_every_ms = count,
            "group_size" => self.workload.group_size = small()?,
            "messages_per_client" => self.workload.messages_per_client = Some(count),
            _ => {
                return Err(format!(
                    "the Chat model has no parameter `{name}`; it has delivery (0 push, 1 long \
                     poll, 2 short poll), poll_interval_ms, long_poll_hold_ms, servers, clients, \
                     conversations, group_size, send_every_ms, messages_per_client"
                ));
            }
        }
        Ok(())
    }
    fn shrinkable(&self) -> Vec<Shrinkable> {
        let mut counts = vec![
            Shrinkable::new("clients", self.workload.clients, 1),
            Shrinkable::new("servers", self.servers, 1),
            Shrinkable::new("conversations", self.workload.conversations, 1),
            // A conversation of one has nobody to deliver to.
            Shrinkable::new("group_size", self.workload.group_size, 2),
        ];
        if let Some(messages) = self.workload.messages_per_client {
            counts.push(Shrinkable::new("messages_per_client", messages, 1));
        }
        counts
    }
}

/// Where each role's nodes are: the store, the load balancer, the
/// servers, then the clients.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub servers: u32,
    pub clients: u32,
}

impl Layout {
    pub const STORE: NodeId = NodeId(0);
    pub const LB: NodeId = NodeId(1);

    pub fn of(config: &ChatConfig) -> Layout {
        Layout {
            servers: config.servers,
            clients: config.workload.clients,
        }
    }
    pub fn server(&self, i: u32) -> NodeId {
        NodeId(2 + i)
    }
    pub fn client(&self, i: u32) -> NodeId {
        NodeId(2 + self.servers + i)
    }
    pub fn servers(&self) -> impl Iterator<Item = NodeId> + use<> {
        (2..2 + self.servers).map(NodeId)
    }
    pub fn clients(&self) -> impl Iterator<Item = NodeId> + use<> {
        let first = 2 + self.servers;
        (first..first + self.clients).map(NodeId)
    }
    /// A client's index from its node id.
    pub fn client_index(&self, node: NodeId) -> u32 {
        node.0 - 2 - self.servers
    }
    pub fn is_server(&self, node: NodeId) -> bool {
        (2..2 + self.servers).contains(&node.0)
    }
}

/// The design.
#[derive(Clone, Debug)]
pub struct ChatDesign {
    config: Arc<ChatConfig>,
}

impl ChatDesign {
    /// Call `ModelSection::validate` first.
    pub fn new(config: ChatConfig) -> ChatDesign {
        ChatDesign {
            config: Arc::new(config),
        }
    }

    pub fn config(&self) -> &ChatConfig {
        &self.config
    }

    fn names(&self) -> Vec<String> {
        self.nodes().into_iter().map(|(name, _)| name).collect()
    }
}

impl Model for ChatDesign {
    type Node = ChatNode;
    type Observer = Observations;

    fn nodes(&self) -> Vec<(String, ChatDisk)> {
        let c = &self.config;
        let mut nodes = vec![
            ("store-0".to_owned(), ChatDisk::store(c)),
            ("lb-0".to_owned(), ChatDisk::lb(c)),
        ];
        nodes.extend((0..c.servers).map(|i| (format!("server-{i}"), ChatDisk::server(c, i))));
        nodes.extend(
            (0..c.workload.clients).map(|i| (format!("client-{i}"), ChatDisk::client(c, i))),
        );
        nodes
    }

    fn disk(&self, node: NodeId) -> DiskConfig {
        // The store syncs each message before it acknowledges it; its
        // disk loses what was not synced, as a real one does.
        DiskConfig {
            buffered: node == Layout::STORE,
            ..DiskConfig::default()
        }
    }

    fn fault_targets(&self) -> Vec<NodeId> {
        // The store and the servers. Clients are users' devices: they are
        // cut off and reconnect, but a crash would wipe what they showed.
        let layout = Layout::of(&self.config);
        std::iter::once(Layout::STORE).chain(layout.servers()).collect()
    }

    fn checks(&self) -> Checks<ChatNode> {
        invariants::checks(&self.config, self.names(), None)
    }

    fn checks_for(&self, config: &SimConfig) -> Checks<ChatNode> {
        let liveness = config.liveness.map(|l| (l.heal_at(), l.bound(), config.end()));
        invariants::checks(&self.config, self.names(), liveness)
    }

    fn observer(&self) -> Observations {
        Observations::new(&self.config)
    }

    fn metrics(&self, run: &Finished<'_, Self>) -> BTreeMap<String, f64> {
        metrics::compute(&self.config, run)
    }

    fn series(&self, run: &Finished<'_, Self>) -> Vec<sim_core::metrics::Series> {
        metrics::series(run)
    }

    fn plots(&self) -> Vec<sim_core::record::PlotSpec> {
        metrics::plots()
    }

    fn labels(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            (labels::RESYNC_AFTER_RECONNECT, "push: a client came back after a broken connection and its resync brought messages it had missed"),
            (labels::GAP_FETCHED, "push: a message arrived ahead of a gap and the client fetched what was missing"),
        ]
    }

    fn headline_metrics(&self) -> Vec<&'static str> {
        vec![
            "delivery_ms_p50",
            "delivery_ms_p99",
            "requests_per_delivery",
            "reconnects",
        ]
    }
}
