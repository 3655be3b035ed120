//! Quorum deduplication: "have you seen X before?" answers `false` the
//! first time for an X and `true` ever after (MODELS.md §1). This file owns
//! the configuration (`DedupConfig`, with its variants and their checks)
//! and the wiring that turns it into a runnable `Design`.
//!
//! N replicas hold the seen set; each client carries a coordinator library
//! (`coordinator.rs`) that reads R replicas and, if none has X, test-and-
//! sets it on W. The correct form needs W > N/2 (two write quorums share a
//! replica, so at most one request owns a write quorum) and R + W > N (a
//! request invoked after any answer finds X in its read phase, so it never
//! claims X and cannot be elected first; see `ownership.rs`). The broken
//! variants each make one mistake real teams make.

pub mod coordinator;
pub mod invariants;
pub mod metrics;
pub mod msg;
pub mod node;
pub mod ownership;
pub mod placement;
pub mod store;
pub mod workload;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sim_core::record::{ExportOp, RunRecord};
use sim_core::{ConfigError, NodeId, Sim, SimConfig};

pub use coordinator::{Protocol, ReadPhase};
pub use placement::ReplicaChoice;
pub use workload::WorkloadConfig;

use crate::Design;
use invariants::{AT_MOST_ONE_FALSE, AtMostOneFalse, LINEARIZABLE, Linearizable};
use metrics::MetricsObserver;
use node::{DedupDisk, DedupNode};
use placement::Placement;

/// The model section of a dedup scenario.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DedupConfig {
    /// The correct design or one of its broken variants.
    pub variant: Variant,
    /// Replica nodes in the cluster (`replica-0` ..).
    pub replicas: u32,
    /// N: how many replicas hold each X (its preference list on the ring);
    /// unset: every replica. Fewer than `replicas` leaves stand-ins for
    /// `SloppyQuorum`.
    pub replication_factor: Option<u32>,
    /// R: replicas a read phase must hear from.
    pub read_quorum: u32,
    /// W: replicas a write phase or a read-repair must hear from.
    pub write_quorum: u32,
    /// How a request orders the replicas of X's preference list.
    pub replica_choice: ReplicaChoice,
    /// Hedged reads: ask one more replica each time this long passes
    /// without R answers, in milliseconds. Unset: never, and a down replica
    /// among the first R asked stalls the request until it times out.
    pub hedge_after_ms: Option<u64>,
    /// `SloppyQuorum` only: how long a write waits for the preference list
    /// before it turns to stand-ins, in milliseconds.
    pub stand_in_after_ms: u64,
    /// `BloomFilter` only: size of each replica's filter, in bits.
    pub bloom_bits: u32,
    /// `BloomFilter` only: hash functions per X.
    pub bloom_hashes: u32,
    /// What clients ask and when.
    pub workload: WorkloadConfig,
}

/// The correct design and the mistakes it is tested against.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub enum Variant {
    /// Requires R + W > N and W > N/2.
    #[default]
    Correct,
    /// The same code with any 1 ≤ R, W ≤ N: for the R + W ≤ N and
    /// W ≤ N/2 mistakes, and for design-space sweeps.
    UncheckedQuorums,
    /// Replicas keep the set in memory only: a restart comes back empty.
    MemoryOnly,
    /// A write the preference list is slow to take goes to stand-ins
    /// outside it and counts toward W (hinted handoff without the handoff).
    SloppyQuorum,
    /// Replicas store a Bloom filter instead of the exact set.
    BloomFilter,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            variant: Variant::Correct,
            replicas: 3,
            replication_factor: None,
            read_quorum: 2,
            write_quorum: 2,
            replica_choice: ReplicaChoice::Random,
            hedge_after_ms: Some(20),
            stand_in_after_ms: 20,
            bloom_bits: 1_024,
            bloom_hashes: 3,
            workload: WorkloadConfig::default(),
        }
    }
}

/// The operation clients record: "have you seen X?" (`Ret` = the answer).
/// A newtype so it can be exported as a history event; sim-core's set
/// specification takes it as the set's element type.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize)]
pub struct Seen(pub u64);

impl ExportOp<bool> for Seen {
    fn f(&self) -> &'static str {
        "add"
    }
    fn key(&self) -> Option<String> {
        None
    }
    fn invoke_value(&self) -> serde_json::Value {
        self.0.into()
    }
    fn ok_value(&self, seen_before: &bool) -> serde_json::Value {
        (*seen_before).into()
    }
}

/// The largest cluster a configuration may ask for.
const REPLICAS_MAX: u32 = 1_000;

impl DedupConfig {
    /// N of the quorum arithmetic.
    pub fn replication_factor(&self) -> u32 {
        self.replication_factor.unwrap_or(self.replicas)
    }

    /// Range and cross-field checks; paths are relative to the model
    /// section (`read_quorum`, `workload.clients`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=REPLICAS_MAX).contains(&self.replicas) {
            return Err(ConfigError::new(
                "replicas",
                format!("must be between 1 and {REPLICAS_MAX}"),
            ));
        }
        let n = self.replication_factor();
        if !(1..=self.replicas).contains(&n) {
            return Err(ConfigError::new(
                "replication_factor",
                format!("must be between 1 and replicas ({})", self.replicas),
            ));
        }
        for (field, quorum) in [
            ("read_quorum", self.read_quorum),
            ("write_quorum", self.write_quorum),
        ] {
            if !(1..=n).contains(&quorum) {
                return Err(ConfigError::new(
                    field,
                    format!("{quorum} is not between 1 and N = {n} (the replication factor)"),
                ));
            }
        }
        if self.hedge_after_ms == Some(0) {
            return Err(ConfigError::new(
                "hedge_after_ms",
                "must be at least 1 (or unset)",
            ));
        }
        self.validate_variant(n)?;
        self.workload.validate().map_err(|e| e.within("workload"))
    }

    fn validate_variant(&self, n: u32) -> Result<(), ConfigError> {
        let (r, w) = (self.read_quorum, self.write_quorum);
        match self.variant {
            Variant::Correct if r + w <= n => Err(ConfigError::new(
                "read_quorum",
                format!(
                    "R + W = {} is not above N = {n}: a read quorum can miss a completed write. \
                     The correct design needs R + W > N and W > N/2; use variant \
                     UncheckedQuorums to run other quorums",
                    r + w
                ),
            )),
            Variant::Correct if 2 * w <= n => Err(ConfigError::new(
                "write_quorum",
                format!(
                    "W = {w} is not above N/2 = {n}/2: two disjoint write quorums can both \
                     answer `false`. The correct design needs R + W > N and W > N/2; use \
                     variant UncheckedQuorums to run other quorums"
                ),
            )),
            Variant::SloppyQuorum if n >= self.replicas => Err(ConfigError::new(
                "replication_factor",
                format!(
                    "SloppyQuorum needs stand-ins outside the preference list: set \
                     replication_factor below replicas ({})",
                    self.replicas
                ),
            )),
            Variant::SloppyQuorum if self.stand_in_after_ms == 0 => {
                Err(ConfigError::new("stand_in_after_ms", "must be at least 1"))
            }
            Variant::BloomFilter if self.bloom_bits == 0 => {
                Err(ConfigError::new("bloom_bits", "must be at least 1"))
            }
            Variant::BloomFilter if !(1..=32).contains(&self.bloom_hashes) => {
                Err(ConfigError::new("bloom_hashes", "must be between 1 and 32"))
            }
            _ => Ok(()),
        }
    }

    /// Sets a numeric parameter by name, for design-space sweeps. `n` is
    /// N of the quorum arithmetic: `replication_factor` when the
    /// configuration sets one, else `replicas`.
    pub fn set_param(&mut self, name: &str, value: i64) -> Result<(), String> {
        let value = u32::try_from(value)
            .map_err(|_| format!("{name} = {value}: expected a count from 0 to {}", u32::MAX))?;
        match name {
            "n" if self.replication_factor.is_some() => self.replication_factor = Some(value),
            "replicas" | "n" => self.replicas = value,
            "replication_factor" => self.replication_factor = Some(value),
            "read_quorum" | "r" => self.read_quorum = value,
            "write_quorum" | "w" => self.write_quorum = value,
            _ => {
                return Err(format!(
                    "the Dedup model has no parameter `{name}`; it has replicas (n), \
                     replication_factor, read_quorum (r), write_quorum (w)"
                ));
            }
        }
        Ok(())
    }

    /// The coordinator's parameters.
    pub fn protocol(&self) -> Protocol {
        let sloppy = self.variant == Variant::SloppyQuorum;
        Protocol {
            placement: Placement {
                replicas: self.replicas,
                replication_factor: self.replication_factor(),
                choice: self.replica_choice,
                sloppy,
            },
            read_quorum: self.read_quorum as usize,
            write_quorum: self.write_quorum as usize,
            hedge_after: self.hedge_after_ms.map(Duration::from_millis),
            stand_in_after: sloppy.then(|| Duration::from_millis(self.stand_in_after_ms)),
            timeout: Duration::from_millis(self.workload.timeout_ms),
        }
    }
}

/// The runnable design: replicas `0..replicas`, then clients.
#[derive(Clone, Debug)]
pub struct DedupDesign {
    config: Arc<DedupConfig>,
}

impl DedupDesign {
    /// Call `DedupConfig::validate` first.
    pub fn new(config: DedupConfig) -> DedupDesign {
        DedupDesign {
            config: Arc::new(config),
        }
    }

    /// Every node's disk at the start of a run, by `NodeId` index: for
    /// tests that build a `Sim` with a chosen set of checks.
    pub fn disks(&self) -> Vec<DedupDisk> {
        let replicas =
            (0..self.config.replicas).map(|_| DedupDisk::replica(Arc::clone(&self.config)));
        let clients =
            (0..self.config.workload.clients).map(|_| DedupDisk::client(Arc::clone(&self.config)));
        replicas.chain(clients).collect()
    }
}

impl Design for DedupDesign {
    fn node_names(&self) -> Vec<String> {
        let replicas = (0..self.config.replicas).map(|i| format!("replica-{i}"));
        let clients = (0..self.config.workload.clients).map(|i| format!("client-{i}"));
        replicas.chain(clients).collect()
    }

    fn default_fault_targets(&self) -> Vec<NodeId> {
        (0..self.config.replicas).map(NodeId).collect()
    }

    fn checks(&self) -> Vec<String> {
        vec![AT_MOST_ONE_FALSE.to_owned(), LINEARIZABLE.to_owned()]
    }

    fn run(&self, config: SimConfig, with_history: bool) -> RunRecord {
        let mut sim = Sim::<DedupNode>::new(config, self.disks());
        sim.add_invariant(AtMostOneFalse::default());
        sim.add_history_check(Linearizable::default());
        let mut observer = MetricsObserver::new(self.config.replicas);
        let result = sim.run_observed(&mut observer);
        let bloom_filter = self.config.variant == Variant::BloomFilter;
        let metrics = metrics::compute(&result, &observer.observations, bloom_filter);
        RunRecord::from_result(
            result,
            self.node_names(),
            self.checks(),
            metrics,
            with_history,
        )
    }
}
