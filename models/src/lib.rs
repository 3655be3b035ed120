//! The designs dsim simulates. Each lives in its own folder with the same
//! files (`mod.rs` wiring and config, `node.rs` roles, `msg.rs` messages,
//! `invariants.rs`, `workload.rs`), so knowing one model means knowing
//! where everything is in the others. See `../shared/MODELS.md` for what
//! each must do.
//!
//! The scenario layer sees a design only through [`ModelConfig`] (the
//! model section of a scenario file) and the type-erased [`Design`]: it
//! never names a model's node or message types.

pub mod dedup;

use serde::{Deserialize, Serialize};
use sim_core::record::RunRecord;
use sim_core::{ConfigError, NodeId, SimConfig};

/// The model section of a scenario file: which design, which variant, its
/// parameters and its workload.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ModelConfig {
    /// Quorum deduplication: "have you seen X before?" (MODELS.md §1).
    Dedup(dedup::DedupConfig),
}

impl ModelConfig {
    /// Cross-field checks (R > N, ...); the error's path is relative to the
    /// model section.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self {
            ModelConfig::Dedup(config) => config.validate(),
        }
    }

    /// The runnable design. Call `validate` first.
    pub fn design(&self) -> Box<dyn Design> {
        match self {
            ModelConfig::Dedup(config) => Box::new(dedup::DedupDesign::new(config.clone())),
        }
    }

    /// Sets a numeric parameter by name, for design-space sweeps
    /// (`dsim sweep --grid replicas=3..7`). The error lists the parameters
    /// the model has.
    pub fn set_param(&mut self, name: &str, value: i64) -> Result<(), String> {
        match self {
            ModelConfig::Dedup(config) => config.set_param(name, value),
        }
    }
}

/// A design ready to run: its nodes are named, its checkers chosen.
/// `Send + Sync` so a sweep's threads share one.
pub trait Design: Send + Sync {
    /// Node names by `NodeId` index (`replica-0`, `client-0`), unique.
    /// Scenario files name nodes this way.
    fn node_names(&self) -> Vec<String>;

    /// The nodes the nemesis strikes when the scenario names none: the
    /// servers, not the clients.
    fn default_fault_targets(&self) -> Vec<NodeId>;

    /// The names of the invariants and history checks a run applies, in
    /// the order they are checked.
    fn checks(&self) -> Vec<String>;

    /// Runs one seed under `config`. `with_history` exports the history
    /// into the record (reports, replays); sweeps leave it out.
    fn run(&self, config: SimConfig, with_history: bool) -> RunRecord;
}
