//! A single-server register: the smallest design dsim ships, and the
//! template every model folder follows (see `README.md` beside this file,
//! and "Adding a model" in `ARCHITECTURE.md`). This file owns the model
//! section of scenario files (`RegisterConfig`, with its variants) and the
//! `Model` the harness runs.
//!
//! One server holds a register on a buffered disk; clients write unique
//! values and read. The correct server acknowledges a write only once the
//! sync that covers it has completed, and answers reads from what is on
//! disk. The broken variant acknowledges before the sync: a crash loses a
//! write a client was told is done.

pub mod invariants;
pub mod metrics;
pub mod msg;
pub mod node;
pub mod workload;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sim_core::{Checks, ConfigError, DiskConfig, NodeId};

pub use workload::WorkloadConfig;

use crate::harness::{Finished, Harness, Model};
use crate::{Design, ModelSection, Shrinkable};
use invariants::{AcknowledgedWritesSurvive, Linearizable};
use metrics::Observations;
use node::{RegisterDisk, RegisterNode};

/// The model section of a register scenario.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegisterConfig {
    /// The correct design or its broken variant.
    pub variant: Variant,
    /// What clients ask and when.
    pub workload: WorkloadConfig,
}

/// The correct design and the mistake it is tested against.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub enum Variant {
    /// Acknowledges a write once its sync completed; reads what is synced.
    #[default]
    Correct,
    /// Acknowledges a write as soon as it is written, before its sync.
    AckBeforeSync,
}

impl Default for RegisterConfig {
    fn default() -> Self {
        RegisterConfig {
            variant: Variant::Correct,
            workload: WorkloadConfig::default(),
        }
    }
}

impl ModelSection for RegisterConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        self.workload.validate().map_err(|e| e.within("workload"))
    }
    fn design(&self) -> Box<dyn Design> {
        Box::new(Harness::new(RegisterDesign::new(self.clone())))
    }
    fn set_param(&mut self, name: &str, value: i64) -> Result<(), String> {
        let value = u32::try_from(value).map_err(|_| format!("{name} = {value}: not a count"))?;
        match name {
            "clients" => self.workload.clients = value,
            _ => return Err(format!("the Register model has no parameter `{name}`; it has clients")),
        }
        Ok(())
    }
    fn shrinkable(&self) -> Vec<Shrinkable> {
        vec![Shrinkable::new("clients", self.workload.clients, 1)]
    }
}

/// The design: `server-0`, then clients.
#[derive(Clone, Debug)]
pub struct RegisterDesign {
    config: Arc<RegisterConfig>,
}

impl RegisterDesign {
    /// Call `ModelSection::validate` first.
    pub fn new(config: RegisterConfig) -> RegisterDesign {
        RegisterDesign {
            config: Arc::new(config),
        }
    }
}

/// The server's node id.
pub const SERVER: NodeId = NodeId(0);

impl Model for RegisterDesign {
    type Node = RegisterNode;
    type Observer = Observations;

    fn nodes(&self) -> Vec<(String, RegisterDisk)> {
        let server = ("server-0".to_owned(), RegisterDisk::server(&self.config));
        let clients = (0..self.config.workload.clients)
            .map(|i| (format!("client-{i}"), RegisterDisk::client(&self.config, i)));
        std::iter::once(server).chain(clients).collect()
    }

    fn disk(&self, node: NodeId) -> DiskConfig {
        DiskConfig {
            buffered: node == SERVER,
            ..DiskConfig::default()
        }
    }

    fn fault_targets(&self) -> Vec<NodeId> {
        vec![SERVER]
    }

    fn checks(&self) -> Checks<RegisterNode> {
        Checks::new()
            .invariant(AcknowledgedWritesSurvive::default())
            .history(Linearizable {
                names: self.nodes().into_iter().map(|(name, _)| name).collect(),
            })
    }

    fn observer(&self) -> Observations {
        Observations::default()
    }

    fn metrics(&self, run: &Finished<'_, Self>) -> BTreeMap<String, f64> {
        metrics::compute(run)
    }

    fn series(&self, run: &Finished<'_, Self>) -> Vec<sim_core::metrics::Series> {
        metrics::series(run)
    }

    fn plots(&self) -> Vec<sim_core::record::PlotSpec> {
        metrics::plots()
    }
}
