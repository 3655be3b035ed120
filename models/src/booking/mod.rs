//! Ticket booking (`README.md` beside this file). This file owns the
//! model section of scenario files (`BookingConfig`, with its variants)
//! and the `Model` the harness runs.
//!
//! Thousands of users compete for the seats of one show. A user picks
//! seats, or places in a general-admission zone, and gets a hold: one
//! conditional update over all of them, with an expiry written into the
//! order. Payment goes to a payment provider with its own latency and
//! failures, under a deadline; a charge that lands after the hold expired
//! is refunded. App servers are stateless and may die between any two
//! steps; they reconcile payments left half done. The store is a leader
//! with followers, replicated synchronously, failed over by a controller
//! with a fencing epoch. Users read a seat map that app servers keep from
//! the store's journal.

pub mod app;
pub mod controller;
pub mod invariants;
pub mod ledger;
pub mod metrics;
pub mod msg;
pub mod node;
pub mod provider;
pub mod store;
pub mod transact;
pub mod user;
pub mod workload;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sim_core::{Checks, ConfigError, Latency, NodeId, SimConfig};

pub use workload::WorkloadConfig;

/// The "sometimes" labels (`Ctx::reached`) the design marks.
pub mod labels {
    pub const FAILOVER_DURING_PAYMENT: &str = "failover_during_payment";
    pub const LATE_PAYMENT_REFUNDED: &str = "late_payment_refunded";
    pub const DEADLINE_RESOLVED_BY_ASKING: &str = "deadline_resolved_by_asking";
    pub const PAYMENT_RECONCILED: &str = "payment_reconciled";
    pub const STALE_MAP_SERVED: &str = "stale_map_served";
}

use crate::harness::{Finished, Harness, Model};
use crate::{Design, ModelSection, Shrinkable};
use ledger::Ledger;
use metrics::Observations;
use node::{BookingDisk, BookingNode};

/// The model section of a booking scenario.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BookingConfig {
    /// The correct design or one of its broken variants.
    pub variant: Variant,
    /// Store nodes (`store-0` leads at first): 3 or 5.
    pub stores: u32,
    /// App servers (`app-0` ..).
    pub apps: u32,
    /// Numbered seats (`0` ..).
    pub seats: u16,
    /// Places in the general-admission zone.
    pub zone_capacity: u32,
    /// How long a hold lasts, as users are told, in ms.
    pub hold_ms: u64,
    /// What the store adds to it when it writes the expiry, in ms: a
    /// little over what users are told.
    pub hold_margin_ms: u64,
    /// How much store clocks may disagree, in ms: an order keeps its
    /// seats this long past its expiry, so a node whose clock runs behind
    /// cannot accept a payment for seats a node ahead already let go.
    pub clock_margin_ms: u64,
    /// How long an app server waits for the payment provider before it
    /// asks what happened, in ms.
    pub payment_deadline_ms: u64,
    /// How long the provider takes to answer a charge.
    pub payment_latency: Latency,
    /// Charges the provider declines, per million.
    pub payment_decline_per_million: u32,
    /// Charges the provider never answers (half of them it still makes),
    /// per million.
    pub payment_silent_per_million: u32,
    /// How often the store leader tells the controller it is alive, in ms.
    pub heartbeat_ms: u64,
    /// The controller fails the store over after this long without a
    /// heartbeat, in ms.
    pub failover_after_ms: u64,
    /// How often app servers bring their seat map up to date, in ms.
    pub map_refresh_ms: u64,
    /// A seat map is served as current only if it was brought up to date
    /// this recently; otherwise as stale, in ms.
    pub map_fresh_ms: u64,
    /// How often app servers look for payments left half done, in ms.
    pub reconcile_ms: u64,
    /// The store takes a snapshot of its state every this many entries.
    pub snapshot_every: u64,
    /// Who books, when, how.
    pub workload: WorkloadConfig,
}

/// The correct design and the mistakes it is tested against.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub enum Variant {
    /// One conditional update per hold; synchronous replication; expiry
    /// judged by the store; payment under a deadline, a timeout resolved
    /// by asking the provider; half-done payments reconciled.
    #[default]
    Correct,
    /// The app server asks "are these free?" and then writes the hold
    /// unconditionally: two users can hold, and buy, one seat.
    CheckThenWrite,
    /// The store leader acknowledges before a follower has the entry; a
    /// failover promotes a follower that never heard of it.
    AsyncReplication,
    /// The app server checks a hold's expiry against its own clock, with
    /// no margin, and then marks the order paid unconditionally.
    SkewedExpiry,
    /// The store leader keeps its lease (how long a majority last vouched
    /// for it) on the wall clock where the monotonic one was needed: a
    /// clock stepped back makes an old vouching look new, so a deposed
    /// leader answers reads and serves its seat map as current.
    WallClockLease,
    /// The app server waits for the provider as long as it takes, and
    /// nobody ever gives up on a payment in progress.
    NoPaymentDeadline,
    /// A payment that timed out is taken as "not charged": the order is
    /// released and the user pays again.
    TimeoutIsNotCharged,
    /// Nobody resumes a payment an app server left half done.
    NoReconcile,
    /// Zone places are counted by the app server, then written without a
    /// check: two users can take the last places.
    ZoneNotAtomic,
}

impl Default for BookingConfig {
    fn default() -> Self {
        BookingConfig {
            variant: Variant::Correct,
            stores: 3,
            apps: 3,
            seats: 100,
            zone_capacity: 20,
            hold_ms: 2_000,
            hold_margin_ms: 200,
            clock_margin_ms: 200,
            payment_deadline_ms: 500,
            payment_latency: Latency::Uniform {
                min_us: 20_000,
                max_us: 300_000,
            },
            payment_decline_per_million: 50_000,
            payment_silent_per_million: 20_000,
            heartbeat_ms: 100,
            failover_after_ms: 500,
            map_refresh_ms: 200,
            map_fresh_ms: 1_000,
            reconcile_ms: 500,
            snapshot_every: 100,
            workload: WorkloadConfig::default(),
        }
    }
}

impl BookingConfig {
    /// An empty ledger for this show.
    pub fn ledger(&self) -> Ledger {
        let margin_ns = i64::try_from(self.clock_margin_ms).unwrap_or(0).saturating_mul(1_000_000);
        Ledger::new(self.seats, self.zone_capacity, margin_ns)
    }

    /// A majority of the store.
    pub fn majority(&self) -> usize {
        self.stores as usize / 2 + 1
    }
}

impl ModelSection for BookingConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let ranges = [
            ("stores", u64::from(self.stores), 1, 9),
            ("apps", u64::from(self.apps), 1, 100),
            ("seats", u64::from(self.seats), 0, 60_000),
            ("zone_capacity", u64::from(self.zone_capacity), 0, 1_000_000),
            ("hold_ms", self.hold_ms, 1, 3_600_000),
            ("hold_margin_ms", self.hold_margin_ms, 0, 3_600_000),
            ("clock_margin_ms", self.clock_margin_ms, 0, 3_600_000),
            ("payment_deadline_ms", self.payment_deadline_ms, 1, 3_600_000),
            ("heartbeat_ms", self.heartbeat_ms, 1, 60_000),
            ("failover_after_ms", self.failover_after_ms, 1, 3_600_000),
            ("map_refresh_ms", self.map_refresh_ms, 1, 3_600_000),
            ("map_fresh_ms", self.map_fresh_ms, 1, 3_600_000),
            ("reconcile_ms", self.reconcile_ms, 1, 3_600_000),
            ("snapshot_every", self.snapshot_every, 1, 1 << 30),
        ];
        for (field, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                return Err(ConfigError::new(
                    field,
                    format!("{value} is not between {min} and {max}"),
                ));
            }
        }
        if self.stores.is_multiple_of(2) {
            return Err(ConfigError::new(
                "stores",
                format!("{} is even: failover needs a majority that a split in two cannot have twice", self.stores),
            ));
        }
        if self.seats == 0 && self.zone_capacity == 0 {
            return Err(ConfigError::new("seats", "there is nothing to sell: no seats and no zone"));
        }
        if self.failover_after_ms <= self.heartbeat_ms {
            return Err(ConfigError::new(
                "failover_after_ms",
                format!("must be longer than heartbeat_ms ({}): a healthy leader would be failed over", self.heartbeat_ms),
            ));
        }
        for (field, per_million) in [
            ("payment_decline_per_million", self.payment_decline_per_million),
            ("payment_silent_per_million", self.payment_silent_per_million),
        ] {
            if per_million > 1_000_000 {
                return Err(ConfigError::new(field, format!("{per_million} is a probability above 1")));
            }
        }
        self.payment_latency
            .validate()
            .map_err(|e| e.within("payment_latency"))?;
        self.workload.validate().map_err(|e| e.within("workload"))
    }

    fn design(&self) -> Box<dyn Design> {
        Box::new(Harness::new(BookingDesign::new(self.clone())))
    }

    fn set_param(&mut self, name: &str, value: i64) -> Result<(), String> {
        let count = u64::try_from(value).map_err(|_| format!("{name} = {value}: not a count"))?;
        let small = || u32::try_from(count).map_err(|_| format!("{name} = {value}: too large"));
        match name {
            "hold_ms" => self.hold_ms = count,
            "hold_margin_ms" => self.hold_margin_ms = count,
            "payment_deadline_ms" => self.payment_deadline_ms = count,
            "payment_latency_ms" => {
                // A grid axis: latency around `value` ms (from half to one
                // and a half times it).
                let us = count.saturating_mul(1_000);
                self.payment_latency = Latency::Uniform {
                    min_us: us / 2,
                    max_us: us + us / 2,
                };
            }
            "users" => self.workload.users = small()?,
            "apps" => self.apps = small()?,
            "seats" => self.seats = u16::try_from(count).map_err(|_| format!("{name} = {value}: too large"))?,
            "stores" => self.stores = small()?,
            "attempts" => self.workload.attempts = small()?,
            _ => {
                return Err(format!(
                    "the Booking model has no parameter `{name}`; it has hold_ms, hold_margin_ms, \
                     payment_deadline_ms, payment_latency_ms, users, apps, seats, stores, attempts"
                ));
            }
        }
        Ok(())
    }
    fn shrinkable(&self) -> Vec<Shrinkable> {
        vec![
            Shrinkable::new("users", self.workload.users, 1),
            Shrinkable::new("apps", self.apps, 1),
            Shrinkable::new("stores", self.stores, 1),
            Shrinkable::new("seats", self.seats, 1),
            Shrinkable::new("attempts", self.workload.attempts, 1),
        ]
    }
}

/// Where each role's nodes are: the stores, the controller, the payment
/// provider, the app servers, then the users.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub stores: u32,
    pub apps: u32,
    pub users: u32,
}

impl Layout {
    pub fn of(config: &BookingConfig) -> Layout {
        Layout {
            stores: config.stores,
            apps: config.apps,
            users: config.workload.users,
        }
    }
    pub fn store(&self, i: u32) -> NodeId {
        NodeId(i)
    }
    pub fn stores(&self) -> impl Iterator<Item = NodeId> + use<> {
        (0..self.stores).map(NodeId)
    }
    pub fn controller(&self) -> NodeId {
        NodeId(self.stores)
    }
    pub fn provider(&self) -> NodeId {
        NodeId(self.stores + 1)
    }
    pub fn app(&self, i: u32) -> NodeId {
        NodeId(self.stores + 2 + i)
    }
    pub fn apps(&self) -> impl Iterator<Item = NodeId> + use<> {
        let first = self.stores + 2;
        (first..first + self.apps).map(NodeId)
    }
    pub fn user(&self, i: u32) -> NodeId {
        NodeId(self.stores + 2 + self.apps + i)
    }
    pub fn is_store(&self, node: NodeId) -> bool {
        node.0 < self.stores
    }
    pub fn is_app(&self, node: NodeId) -> bool {
        (self.stores + 2..self.stores + 2 + self.apps).contains(&node.0)
    }
}

/// The design.
#[derive(Clone, Debug)]
pub struct BookingDesign {
    config: Arc<BookingConfig>,
}

impl BookingDesign {
    /// Call `ModelSection::validate` first.
    pub fn new(config: BookingConfig) -> BookingDesign {
        BookingDesign {
            config: Arc::new(config),
        }
    }

    pub fn config(&self) -> &BookingConfig {
        &self.config
    }
}

impl Model for BookingDesign {
    type Node = BookingNode;
    type Observer = Observations;

    fn nodes(&self) -> Vec<(String, BookingDisk)> {
        let c = &self.config;
        let mut nodes: Vec<(String, BookingDisk)> = (0..c.stores)
            .map(|i| (format!("store-{i}"), BookingDisk::store(&self.config, i)))
            .collect();
        nodes.push(("controller-0".to_owned(), BookingDisk::Controller(Arc::clone(&self.config))));
        nodes.push(("provider-0".to_owned(), BookingDisk::provider(&self.config)));
        nodes.extend((0..c.apps).map(|i| (format!("app-{i}"), BookingDisk::App(Arc::clone(&self.config)))));
        nodes.extend((0..c.workload.users).map(|i| (format!("user-{i}"), BookingDisk::user(&self.config, i))));
        nodes
    }

    fn fault_targets(&self) -> Vec<NodeId> {
        // The store and the app servers: the provider is someone else's
        // system (its failures are its own parameters), the controller is
        // the one thing assumed to stay up, and users are users.
        let layout = Layout::of(&self.config);
        layout.stores().chain(layout.apps()).collect()
    }

    fn checks(&self) -> Checks<BookingNode> {
        invariants::checks(&self.config, self.node_names(), None)
    }

    fn checks_for(&self, config: &SimConfig) -> Checks<BookingNode> {
        let settle = config.liveness.map(|l| (l.bound(), config.end()));
        // The run's own names, already made: not 5,000 users named again.
        let names = if config.node_names.is_empty() { self.node_names() } else { Arc::clone(&config.node_names) };
        invariants::checks(&self.config, names, settle)
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
            (labels::FAILOVER_DURING_PAYMENT, "a store node became leader while an order was paying"),
            (labels::LATE_PAYMENT_REFUNDED, "a charge came back after its hold expired and was refunded"),
            (labels::DEADLINE_RESOLVED_BY_ASKING, "a payment deadline passed and the app server asked the provider"),
            (labels::PAYMENT_RECONCILED, "an app server took over a payment another left half done"),
            (labels::STALE_MAP_SERVED, "a seat map was served as stale (the leader could not vouch for it)"),
        ]
    }

    fn headline_metrics(&self) -> Vec<&'static str> {
        vec![
            "seats_sold",
            "refunds",
            "holds_expired",
            "failed_holds_per_success",
            "booking_ms_p99",
        ]
    }
}

impl BookingDesign {
    fn node_names(&self) -> Arc<[String]> {
        self.nodes().into_iter().map(|(name, _)| name).collect()
    }
}
