//! The key generation service with bulk leasing (`README.md` beside this
//! file). This file owns the model section of scenario files
//! (`KgsConfig`, with its variants and their validation) and the `Model`
//! the harness runs.
//!
//! Clients ask ID servers for IDs, one or many at a time. Each ID server
//! leases bulks (ranges of a counter) from the authority and hands out
//! IDs from them, asking for the next bulk before the current one runs out
//! (a low-water mark), so a slow authority does not stall clients. The
//! authority is a CAS-Paxos register on a majority of 3, 5 or 7 nodes that
//! stores only the next free counter, each change on a majority's disks
//! before it is acknowledged. IDs are the counter times an odd constant
//! (`ids.rs`), so they are unique and not sequential. The broken variants
//! each make one mistake real teams make.

pub mod authority;
pub mod birthday;
pub mod ids;
pub mod invariants;
pub mod metrics;
pub mod msg;
pub mod node;
pub mod server;
pub mod workload;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sim_core::{Checks, ConfigError, DiskConfig, NodeId, SimConfig};

pub use workload::WorkloadConfig;

/// The "sometimes" labels (`Ctx::reached`) the design marks.
pub mod labels {
    pub const BALLOT_LOST: &str = "ballot_lost";
    pub const STALE_AUTHORITY_IN_MAJORITY: &str = "stale_authority_in_majority";
    pub const LATE_GRANT_KEPT: &str = "late_grant_kept";
}

use crate::harness::{Finished, Harness, Model};
use crate::{Design, ModelSection, Shrinkable};
use ids::{DEFAULT_MULTIPLIER, EVEN_MULTIPLIER, IdMap};
use invariants::{BulksLeasedOnce, IdsFromHeldBulks, UniqueIds};
use metrics::Observations;
use node::{KgsDisk, KgsNode};

/// The model section of a KGS scenario.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KgsConfig {
    /// The correct design or one of its broken variants.
    pub variant: Variant,
    /// Authority nodes (`authority-0` ..): 3, 5 or 7 for a majority.
    pub authorities: u32,
    /// ID servers (`server-0` ..).
    pub servers: u32,
    /// Counters in one bulk.
    pub bulk_size: u64,
    /// A server asks for its next bulk when fewer counters than this are
    /// left (the low-water mark).
    pub low_water: u64,
    /// How long a server waits for a lease before asking another
    /// authority node, in milliseconds.
    pub lease_timeout_ms: u64,
    /// The ID map's multiplier (odd; unset: a fixed constant).
    pub multiplier: Option<u64>,
    /// `StaleCheckpoint`: a server writes its cursor to disk every this
    /// many IDs.
    pub checkpoint_every: u64,
    /// `ClockReclaim`: how long a lease lasts after its last renewal, in ms.
    pub lease_ms: u64,
    /// `ClockReclaim`: how long after a lease's expiry, by the renewing
    /// node's wall clock, the authority takes back its unissued rest, in ms.
    pub reclaim_margin_ms: u64,
    /// `RandomIds`: IDs are drawn from 2^random_bits values.
    pub random_bits: u32,
    /// What clients ask and when.
    pub workload: WorkloadConfig,
}

/// The correct design and the mistakes it is tested against.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub enum Variant {
    /// A CAS-Paxos register on a majority; acknowledged once on a
    /// majority's disks; a restarted server leases a fresh bulk.
    #[default]
    Correct,
    /// One database and a standby replicated asynchronously: the standby,
    /// promoted when the primary is slow, re-issues bulks it never heard of.
    AsyncReplica,
    /// Accepts on fewer than a majority (one node) before granting.
    MinorityWrites,
    /// Acceptors answer before their write is synced.
    AckBeforeSync,
    /// A server checkpoints its cursor every `checkpoint_every` IDs and
    /// resumes from the (stale) checkpoint after a crash.
    StaleCheckpoint,
    /// Bulks are leased by time: a server issues while its lease lasts
    /// (on its monotonic clock) and reports how far it got at each renewal;
    /// once a lease has expired by the authority's wall clock, the rest
    /// after the last report is granted again: a clock running ahead takes
    /// back what a server is still issuing.
    ClockReclaim,
    /// The ID map multiplies by an even number: two counters, one ID.
    EvenMultiplier,
    /// No authority: servers draw `random_bits`-bit IDs at random.
    RandomIds,
}

impl Default for KgsConfig {
    fn default() -> Self {
        KgsConfig {
            variant: Variant::Correct,
            authorities: 3,
            servers: 3,
            bulk_size: 1_000,
            low_water: 300,
            lease_timeout_ms: 500,
            multiplier: None,
            checkpoint_every: 100,
            lease_ms: 1_000,
            reclaim_margin_ms: 100,
            random_bits: 64,
            workload: WorkloadConfig::default(),
        }
    }
}

impl KgsConfig {
    /// The ID map this configuration uses.
    pub fn id_map(&self) -> IdMap {
        let default = match self.variant {
            Variant::EvenMultiplier => EVEN_MULTIPLIER,
            _ => DEFAULT_MULTIPLIER,
        };
        IdMap::new(self.multiplier.unwrap_or(default))
    }

    /// A majority of the authority.
    pub fn majority(&self) -> usize {
        self.authorities as usize / 2 + 1
    }

    /// Accepts a proposer waits for before it grants.
    pub fn accept_quorum(&self) -> usize {
        match self.variant {
            Variant::MinorityWrites => 1,
            _ => self.majority(),
        }
    }

    fn validate_ranges(&self) -> Result<(), ConfigError> {
        let counts = [
            ("authorities", u64::from(self.authorities), 1, 9),
            ("servers", u64::from(self.servers), 1, 100),
            ("bulk_size", self.bulk_size, 1, 1 << 40),
            ("lease_timeout_ms", self.lease_timeout_ms, 1, 3_600_000),
            ("checkpoint_every", self.checkpoint_every, 1, 1 << 40),
            ("lease_ms", self.lease_ms, 1, 3_600_000),
            ("random_bits", u64::from(self.random_bits), 1, 64),
        ];
        for (field, value, min, max) in counts {
            if !(min..=max).contains(&value) {
                return Err(ConfigError::new(
                    field,
                    format!("{value} is not between {min} and {max}"),
                ));
            }
        }
        if self.low_water >= self.bulk_size {
            return Err(ConfigError::new(
                "low_water",
                format!(
                    "{} is not below bulk_size ({}): a server would ask for a bulk on every ID",
                    self.low_water, self.bulk_size
                ),
            ));
        }
        Ok(())
    }
}

impl ModelSection for KgsConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        self.validate_ranges()?;
        if let Some(m) = self.multiplier
            && m.is_multiple_of(2)
            && self.variant != Variant::EvenMultiplier
        {
            return Err(ConfigError::new(
                "multiplier",
                format!("{m} is even: the ID map would not be invertible (variant EvenMultiplier runs that mistake)"),
            ));
        }
        if self.multiplier == Some(0) {
            return Err(ConfigError::new("multiplier", "must not be 0"));
        }
        if self.variant == Variant::Correct && self.authorities.is_multiple_of(2) {
            return Err(ConfigError::new(
                "authorities",
                format!(
                    "{} is even: a majority needs an odd number of nodes to survive a split in two",
                    self.authorities
                ),
            ));
        }
        if self.variant == Variant::AsyncReplica && self.authorities < 2 {
            return Err(ConfigError::new("authorities", "AsyncReplica needs a primary and a standby: at least 2"));
        }
        self.workload.validate().map_err(|e| e.within("workload"))
    }

    fn design(&self) -> Box<dyn Design> {
        Box::new(Harness::new(KgsDesign::new(self.clone())))
    }

    fn set_param(&mut self, name: &str, value: i64) -> Result<(), String> {
        let value = u64::try_from(value).map_err(|_| format!("{name} = {value}: not a count"))?;
        let small = || u32::try_from(value).map_err(|_| format!("{name} = {value}: too large"));
        match name {
            "bulk_size" => self.bulk_size = value,
            "low_water" => self.low_water = value,
            "authorities" => self.authorities = small()?,
            "servers" => self.servers = small()?,
            "random_bits" => self.random_bits = small()?,
            "clients" => self.workload.clients = small()?,
            "requests_per_client" => self.workload.requests_per_client = Some(value),
            _ => {
                return Err(format!(
                    "the Kgs model has no parameter `{name}`; it has bulk_size, low_water, \
                     authorities, servers, random_bits, clients, requests_per_client"
                ));
            }
        }
        Ok(())
    }
    fn shrinkable(&self) -> Vec<Shrinkable> {
        let mut counts = vec![
            Shrinkable::new("clients", self.workload.clients, 1),
            Shrinkable::new("servers", self.servers, 1),
            Shrinkable::new("authorities", self.authorities, 1),
        ];
        if let Some(requests) = self.workload.requests_per_client {
            counts.push(Shrinkable::new("requests_per_client", requests, 1));
        }
        counts
    }
}

/// The design: authorities, then ID servers, then clients.
#[derive(Clone, Debug)]
pub struct KgsDesign {
    config: Arc<KgsConfig>,
    /// `RandomIds`: the birthday figures for an even chance in this
    /// space, worked out once (the exact count takes millions of terms),
    /// for every run's note.
    even_odds: Arc<std::sync::OnceLock<birthday::Birthday>>,
}

impl KgsDesign {
    /// Call `ModelSection::validate` first.
    pub fn new(config: KgsConfig) -> KgsDesign {
        KgsDesign {
            config: Arc::new(config),
            even_odds: Arc::default(),
        }
    }

    pub fn config(&self) -> &KgsConfig {
        &self.config
    }
}

/// Where each role's nodes are.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub authorities: u32,
    pub servers: u32,
}

impl Layout {
    pub fn of(config: &KgsConfig) -> Layout {
        Layout {
            authorities: config.authorities,
            servers: config.servers,
        }
    }
    pub fn authority(&self, i: u32) -> NodeId {
        NodeId(i)
    }
    pub fn server(&self, i: u32) -> NodeId {
        NodeId(self.authorities + i)
    }
    pub fn is_server(&self, node: NodeId) -> bool {
        (self.authorities..self.authorities + self.servers).contains(&node.0)
    }
    pub fn authority_nodes(&self) -> impl Iterator<Item = NodeId> + use<> {
        (0..self.authorities).map(NodeId)
    }
    /// A node's name, as scenario files and messages name it.
    pub fn name(&self, node: NodeId) -> String {
        if node.0 < self.authorities {
            format!("authority-{}", node.0)
        } else if self.is_server(node) {
            format!("server-{}", node.0 - self.authorities)
        } else {
            format!("client-{}", node.0 - self.authorities - self.servers)
        }
    }

    pub fn server_nodes(&self) -> impl Iterator<Item = NodeId> + use<> {
        let first = self.authorities;
        (first..first + self.servers).map(NodeId)
    }
}

impl KgsDesign {
    /// The checks, `unique_ids` with room for `expected_ids` IDs: it
    /// remembers every ID handed out, and a map grown to a run's tens of
    /// thousands by doubling spent a twentieth of a KGS run rehashing.
    fn checks_expecting(&self, expected_ids: usize) -> Checks<KgsNode> {
        let layout = Layout::of(&self.config);
        let map = self.config.id_map();
        let random_bits = (self.config.variant == Variant::RandomIds).then_some(self.config.random_bits);
        let checks = Checks::new().invariant(UniqueIds::new(layout, map, random_bits, expected_ids));
        match self.config.variant {
            Variant::RandomIds => checks,
            // Reclaiming grants ranges again by design; its promise is
            // unique IDs.
            Variant::ClockReclaim => checks.invariant(IdsFromHeldBulks::new(layout, map)),
            _ => checks
                .invariant(BulksLeasedOnce::new(layout))
                .invariant(IdsFromHeldBulks::new(layout, map)),
        }
    }
}

impl Model for KgsDesign {
    type Node = KgsNode;
    type Observer = Observations;

    fn nodes(&self) -> Vec<(String, KgsDisk)> {
        let c = &self.config;
        let authorities =
            (0..c.authorities).map(|i| (format!("authority-{i}"), KgsDisk::authority(&self.config)));
        let servers = (0..c.servers).map(|i| (format!("server-{i}"), KgsDisk::server(&self.config, i)));
        let clients =
            (0..c.workload.clients).map(|i| (format!("client-{i}"), KgsDisk::client(&self.config, i)));
        authorities.chain(servers).chain(clients).collect()
    }

    fn disk(&self, node: NodeId) -> DiskConfig {
        // The authority syncs each change before it answers; its disks
        // lose unsynced writes on a crash, as real ones do.
        DiskConfig {
            buffered: node.0 < self.config.authorities,
            ..DiskConfig::default()
        }
    }

    fn fault_targets(&self) -> Vec<NodeId> {
        let layout = Layout::of(&self.config);
        layout.authority_nodes().chain(layout.server_nodes()).collect()
    }

    fn checks(&self) -> Checks<KgsNode> {
        self.checks_expecting(0)
    }

    fn checks_for(&self, config: &SimConfig) -> Checks<KgsNode> {
        self.checks_expecting(self.config.workload.expected_ids(config.end().as_nanos() / 1_000_000))
    }

    fn observer(&self) -> Observations {
        Observations::new(Layout::of(&self.config))
    }

    fn metrics(&self, run: &Finished<'_, Self>) -> BTreeMap<String, f64> {
        metrics::compute(&self.config, run)
    }

    fn notes(&self, run: &Finished<'_, Self>) -> Vec<String> {
        if self.config.variant != Variant::RandomIds {
            return Vec::new();
        }
        let bits = self.config.random_bits;
        let even = self.even_odds.get_or_init(|| birthday::Birthday::new(bits, 0.5));
        vec![metrics::birthday_note(bits, even, run)]
    }

    fn plots(&self) -> Vec<sim_core::record::PlotSpec> {
        metrics::plots()
    }

    fn labels(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            (labels::BALLOT_LOST, "two ID servers' proposals raced for the counter and one lost its ballot"),
            (labels::STALE_AUTHORITY_IN_MAJORITY, "a majority of authorities answered with different values: one had missed the last grant"),
            (labels::LATE_GRANT_KEPT, "a bulk granted after its request timed out was still taken, not wasted twice"),
        ]
    }

    fn headline_metrics(&self) -> Vec<&'static str> {
        vec![
            "wasted_fraction",
            "authority_requests_per_s",
            "stalled_fraction",
            "ids_per_s",
            "latency_ms_p99",
        ]
    }
}
