//! The designs dsim simulates. Each lives in its own folder with the same
//! files (see `ARCHITECTURE.md`, "Adding a model"): `mod.rs` its
//! configuration and its `Model`, `node.rs` its roles, `msg.rs` its
//! messages, `workload.rs` its clients, `invariants.rs` its checks,
//! `metrics.rs` its own metrics, and `README.md` the design in words.
//! Knowing one model means knowing where everything is in the others.
//!
//! The scenario layer sees a design only through [`ModelConfig`] (the
//! model section of a scenario file) and the type-erased [`Design`]: it
//! never names a model's node or message types. Every design runs
//! through the one [`harness`].

pub mod harness;

use serde::{Deserialize, Serialize};
use sim_core::record::RunRecord;
use sim_core::{ConfigError, NodeId, SimConfig};
use std::sync::Arc;

/// The registry: one line per design. Each line declares the design's
/// module, its model section's variant in scenario files, and its
/// configuration type, which implements [`ModelSection`].
macro_rules! registry {
    ($($(#[doc = $doc:literal])* $variant:ident => $module:ident::$config:ident,)*) => {
        $(pub mod $module;)*

        /// The model section of a scenario file: which design, which
        /// variant, its parameters and its workload.
        #[derive(Clone, Debug, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub enum ModelConfig {
            $($(#[doc = $doc])* $variant($module::$config),)*
        }

        impl ModelConfig {
            fn section(&self) -> &dyn ModelSection {
                match self {
                    $(ModelConfig::$variant(config) => config,)*
                }
            }
            fn section_mut(&mut self) -> &mut dyn ModelSection {
                match self {
                    $(ModelConfig::$variant(config) => config,)*
                }
            }
        }
    };
}

registry! {
    /// A single-server register: the smallest design, and the template
    /// every model folder follows (`register/README.md`).
    Register => register::RegisterConfig,
    /// Quorum deduplication: "have you seen X before?" (`dedup/README.md`).
    Dedup => dedup::DedupConfig,
    /// The key generation service leasing ID ranges in bulk (`kgs/README.md`).
    Kgs => kgs::KgsConfig,
    /// Chat with ordered delivery: push, long polling, short polling (`chat/README.md`).
    Chat => chat::ChatConfig,
    /// Ticket booking: holds, payments, failover (`booking/README.md`).
    Booking => booking::BookingConfig,
}

/// What every design's model section offers the scenario layer.
pub trait ModelSection {
    /// Range and cross-field checks (R > N, ...); the error's path is
    /// relative to the model section.
    fn validate(&self) -> Result<(), ConfigError>;
    /// The runnable design. Called only after `validate` passed.
    fn design(&self) -> Box<dyn Design>;
    /// Sets a numeric parameter by name, for design-space sweeps; the
    /// error lists the parameters the model has.
    fn set_param(&mut self, name: &str, value: i64) -> Result<(), String>;
    /// The counts `dsim shrink` may lower (clients, servers, requests),
    /// each a parameter `set_param` knows.
    fn shrinkable(&self) -> Vec<Shrinkable>;
}

/// A count a shrinker may lower to make a failing scenario smaller: fewer
/// clients, servers or requests. It is set by name through `set_param`;
/// a lowered value the design rejects (`validate`) is simply not tried.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Shrinkable {
    /// The `set_param` name.
    pub param: &'static str,
    /// Its value in this configuration.
    pub value: u64,
    /// The least value at which the design still does its job (one
    /// client, one server): a shrinker never goes below it.
    pub floor: u64,
}

impl Shrinkable {
    pub fn new(param: &'static str, value: impl Into<u64>, floor: u64) -> Shrinkable {
        Shrinkable {
            param,
            value: value.into(),
            floor,
        }
    }
}

impl ModelConfig {
    /// Cross-field checks; the error's path is relative to the model
    /// section.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.section().validate()
    }

    /// The runnable design. Call `validate` first.
    pub fn design(&self) -> Box<dyn Design> {
        self.section().design()
    }

    /// Sets a numeric parameter by name, for design-space sweeps
    /// (`dsim sweep --grid replicas=3..7`).
    pub fn set_param(&mut self, name: &str, value: i64) -> Result<(), String> {
        self.section_mut().set_param(name, value)
    }

    /// The counts `dsim shrink` may lower.
    pub fn shrinkable(&self) -> Vec<Shrinkable> {
        self.section().shrinkable()
    }
}

/// A design ready to run: its nodes are named, its checkers chosen.
/// `Send + Sync` so a sweep's threads share one. Every design is a
/// [`harness::Harness`] of its `Model`.
pub trait Design: Send + Sync {
    /// Node names by `NodeId` index (`replica-0`, `client-0`), unique.
    /// Scenario files name nodes this way.
    fn node_names(&self) -> Arc<[String]>;

    /// The nodes the nemesis strikes when the scenario names none: the
    /// servers, not the clients.
    fn default_fault_targets(&self) -> Vec<NodeId>;

    /// Each node's disk, by `NodeId` index, unless the scenario says
    /// otherwise.
    fn default_disks(&self) -> Vec<sim_core::DiskConfig>;

    /// The names of the invariants and history checks a run applies, in
    /// the order they are checked, as the checkers name themselves.
    fn checks(&self) -> Vec<String>;

    /// The metrics a grid sweep summarises and draws first.
    fn headline_metrics(&self) -> Vec<String>;

    /// The "sometimes" labels the design marks (`Ctx::reached`), each with
    /// what it means: the states a pass must have reached to mean much.
    fn labels(&self) -> Vec<(String, String)>;

    /// Runs one seed under `config`. `for_report` puts into the record
    /// what only reports and replays read: the history, the typed
    /// operations, the series and the plots. Sweeps, checks and shrinks
    /// leave them out, and never pay for them.
    fn run(&self, config: SimConfig, for_report: bool) -> RunRecord;
}
