//! Quorum deduplication: "have you seen X before?" answers `false` the
//! first time for an X and `true` ever after (`README.md` beside this file). This file owns
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

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sim_core::record::ExportOp;
use sim_core::{Checks, ConfigError, NodeId};

pub use coordinator::{Protocol, ReadPhase};
pub use placement::ReplicaChoice;
pub use workload::WorkloadConfig;

use crate::harness::{Finished, Harness, Model};
use crate::{Design, ModelSection, Shrinkable};
use invariants::{AtMostOneFalse, Linearizable};
use metrics::MetricsObserver;
use node::{DedupDisk, DedupNode};
use placement::Placement;

/// The "sometimes" label (`Ctx::reached`): a read quorum with a stale
/// replica in it, the state the R + W > N rule exists for.
pub const READ_REPAIR: &str = "read_repair";

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
    /// Which replicas a write phase asks first.
    pub write_fan_out: WriteFanOut,
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

/// Which replicas a write phase writes X to.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub enum WriteFanOut {
    /// The seed's design: exactly W replicas, in the write phase's own
    /// order (random per request, or the ring's). A read of R random
    /// replicas then misses a completed write with probability
    /// C(N − W, R) / C(N, R). When the W answer with more than one owner
    /// (concurrent first requests), the write goes on to the rest of the
    /// preference list, so the owners of all N decide who was first.
    #[default]
    Quorum,
    /// Dynamo's: every replica of the preference list, answering once W
    /// have. Reads then rarely miss without faults.
    PreferenceList,
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
            write_fan_out: WriteFanOut::Quorum,
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

/// The largest Bloom filter, in bits: a run must never exhaust memory.
const BLOOM_BITS_MAX: u32 = 1 << 24;

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
            Variant::BloomFilter if !(1..=BLOOM_BITS_MAX).contains(&self.bloom_bits) => {
                Err(ConfigError::new(
                    "bloom_bits",
                    format!("must be between 1 and {BLOOM_BITS_MAX} (2 MiB per replica)"),
                ))
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
            "clients" => self.workload.clients = value,
            "concurrency" => self.workload.concurrency = value,
            "requests_per_client" => self.workload.requests_per_client = Some(u64::from(value)),
            _ => {
                return Err(format!(
                    "the Dedup model has no parameter `{name}`; it has replicas (n), \
                     replication_factor, read_quorum (r), write_quorum (w), clients, concurrency, \
                     requests_per_client"
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
            write_fan_out: self.write_fan_out,
            hedge_after: self.hedge_after_ms.map(Duration::from_millis),
            stand_in_after: sloppy.then(|| Duration::from_millis(self.stand_in_after_ms)),
            timeout: Duration::from_millis(self.workload.timeout_ms),
        }
    }
}

/// The design: replicas `0..replicas`, then clients.
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

    /// The design ready to run.
    pub fn harness(config: DedupConfig) -> Harness<DedupDesign> {
        Harness::new(DedupDesign::new(config))
    }
}

impl ModelSection for DedupConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        DedupConfig::validate(self)
    }
    fn design(&self) -> Box<dyn Design> {
        Box::new(DedupDesign::harness(self.clone()))
    }
    fn set_param(&mut self, name: &str, value: i64) -> Result<(), String> {
        DedupConfig::set_param(self, name, value)
    }
    fn shrinkable(&self) -> Vec<Shrinkable> {
        let mut counts = vec![
            Shrinkable::new("clients", self.workload.clients, 1),
            Shrinkable::new("concurrency", self.workload.concurrency, 1),
            // Fewer replicas only where the quorums still fit (validate).
            Shrinkable::new("replicas", self.replicas, 1),
        ];
        if let Some(requests) = self.workload.requests_per_client {
            counts.push(Shrinkable::new("requests_per_client", requests, 1));
        }
        counts
    }
}

impl Model for DedupDesign {
    type Node = DedupNode;
    type Observer = MetricsObserver;

    fn nodes(&self) -> Vec<(String, DedupDisk)> {
        let replicas = (0..self.config.replicas).map(|i| {
            let disk = DedupDisk::replica(Arc::clone(&self.config));
            (format!("replica-{i}"), disk)
        });
        let clients = (0..self.config.workload.clients).map(|i| {
            let disk = DedupDisk::client(Arc::clone(&self.config));
            (format!("client-{i}"), disk)
        });
        replicas.chain(clients).collect()
    }

    fn fault_targets(&self) -> Vec<NodeId> {
        (0..self.config.replicas).map(NodeId).collect()
    }

    fn checks(&self) -> Checks<DedupNode> {
        Checks::new()
            .invariant(AtMostOneFalse::default())
            .history(Linearizable::default().with_names(self.nodes().into_iter().map(|(name, _)| name).collect()))
    }

    fn observer(&self) -> MetricsObserver {
        MetricsObserver::new(self.config.replicas)
    }

    fn metrics(&self, run: &Finished<'_, Self>) -> BTreeMap<String, f64> {
        metrics::compute(&self.config, run.result, &run.observer.observations)
    }

    fn labels(&self) -> Vec<(&'static str, &'static str)> {
        vec![(
            READ_REPAIR,
            "a check's read quorum held a stale replica (the ID on some, not others) and repaired it",
        )]
    }

    fn headline_metrics(&self) -> Vec<&'static str> {
        vec![
            "read_miss_fraction",
            "read_miss_predicted",
            "latency_ms_p99",
            "messages_per_request",
        ]
    }
}
