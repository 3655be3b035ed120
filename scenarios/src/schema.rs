//! The scenario file format: one RON file is one named experiment. Every
//! struct denies unknown fields, so a typo is an error, not a silently
//! ignored setting. Nodes are named as the model names them
//! (`"replica-0"`, `"client-1"`); `resolve.rs` turns names into ids and
//! checks every cross-field rule.
//!
//! The reference page (`scenarios/REFERENCE.md`) documents each field.

use std::collections::BTreeMap;

use models::ModelConfig;
use serde::{Deserialize, Serialize};
use sim_core::{
    ClockConfig, DiskConfig, Limits, LivenessConfig, NemesisConfig, NetworkConfig, TimedFault,
};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A short name, used in results, reports and replay commands.
    pub name: String,
    /// What the scenario shows, in a sentence or two.
    #[serde(default)]
    pub description: String,
    /// The design under test: model, variant, parameters and workload.
    pub model: ModelConfig,
    /// How links behave: latency, loss, duplication, ordering.
    #[serde(default)]
    pub network: NetworkConfig<String>,
    /// Clock offset and drift per node, by node name; others read true time.
    #[serde(default)]
    pub clocks: BTreeMap<String, ClockConfig>,
    /// Disks per node, by node name (`"replica-*"` names a role); others
    /// write through (every write on disk at once).
    #[serde(default)]
    pub disks: BTreeMap<String, DiskConfig>,
    /// Faults at fixed times.
    #[serde(default)]
    pub faults: Vec<TimedFault<String>>,
    /// Random faults (swarm testing): `None` for none. Target lists may
    /// name a role with a trailing `*` (`"replica-*"`).
    #[serde(default)]
    pub nemesis: Option<NemesisConfig<String>>,
    /// When faults stop and operations must finish: `None` skips the check.
    #[serde(default)]
    pub liveness: Option<LivenessConfig>,
    /// Length of each run, in milliseconds of simulated time.
    pub duration_ms: u64,
    /// Most events per run, and most pending at once.
    #[serde(default)]
    pub limits: Limits,
    /// The seeds `dsim check` and `dsim sweep` run by default.
    pub seeds: SeedRange,
    /// What must happen.
    pub expect: Expect,
    /// "Sometimes" labels of the design that its seeds must reach, each at
    /// least once over the seeds `dsim check` runs: a pass that never got
    /// to the interesting states fails (`Pass` scenarios only).
    #[serde(default)]
    pub reach: Vec<String>,
}

/// Seeds `start`, `start + 1`, ..., `start + count - 1`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedRange {
    /// The first seed.
    pub start: u64,
    /// How many seeds.
    pub count: u64,
}

impl SeedRange {
    pub fn seeds(self) -> std::ops::Range<u64> {
        self.start..self.start.saturating_add(self.count)
    }
}

/// The expected outcome of a scenario over its seeds.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Expect {
    /// Every seed passes: no violation, everything finished after the heal.
    Pass,
    /// Seeds run in order until one does not pass; that one must violate
    /// the named invariant or check. This is how a broken variant stays
    /// caught: the scenario fails if the checkers stop catching it.
    Violation(String),
    /// As `Violation`, for a broken variant that trips one of several
    /// checks depending on the seed: the first failing seed must violate
    /// one of these.
    ViolationOf(Vec<String>),
    /// Seeds run in order until one does not pass; that one must be a
    /// liveness failure (operations that did not finish after the heal).
    NotLive,
}

impl Expect {
    /// The expected outcome as a label: `pass`, the check a failing seed
    /// must violate, `liveness`, or several checks joined by `|`. Results,
    /// trailers and reports carry this form; `record::accepts` reads it.
    pub fn label(&self) -> String {
        match self {
            Expect::Pass => "pass".to_owned(),
            Expect::Violation(name) => name.clone(),
            Expect::ViolationOf(names) => names.join("|"),
            Expect::NotLive => "liveness".to_owned(),
        }
    }

    /// The checks this expectation names (to validate against a design).
    pub fn checks(&self) -> &[String] {
        match self {
            Expect::Violation(name) => std::slice::from_ref(name),
            Expect::ViolationOf(names) => names,
            Expect::Pass | Expect::NotLive => &[],
        }
    }

    pub fn is_pass(&self) -> bool {
        matches!(self, Expect::Pass)
    }
}
