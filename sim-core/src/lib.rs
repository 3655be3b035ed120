//! sim-core: dsim's deterministic discrete-event engine.
//!
//! A design is a set of [`Node`]s: sans-IO state machines that act only
//! through their [`Ctx`]. A [`Sim`] runs them on virtual time over a
//! simulated network and simulated clocks while a fault plan and a random
//! [`nemesis`] break things; [`check`]ers decide whether what clients were
//! told (the [`History`]) is allowed. One [`SimConfig`] with one seed is one
//! exact run: same trace, same digest, on any machine.
//!
//! This crate knows no model. See `ARCHITECTURE.md` for the rules it keeps.

pub mod check;
pub mod clock;
pub mod config;
pub mod connection;
pub mod ctx;
pub mod digest;
pub mod disk;
pub mod encode;
pub mod fault_log;
pub mod faults;
pub mod float;
pub mod history;
mod inject;
mod kernel;
mod key_heap;
pub mod lincheck;
pub mod link;
pub mod liveness;
pub mod metrics;
pub mod nemesis;
pub mod network;
pub mod node;
pub mod partition;
mod pauses;
pub mod queue;
pub mod record;
pub mod result;
pub mod rng;
pub mod sim;
pub mod stream;
pub mod testing;
pub mod time;
mod timeline;
mod touched;
pub mod trace;
pub mod world;

pub use check::{
    Breach, Checks, FinalCheck, HistoryCheck, HistoryVerdict, Invariant, NoObserver, Observer,
    Step, Verdict, Violation,
};
pub use clock::ClockConfig;
pub use config::{Limits, LivenessConfig, SimConfig};
pub use connection::{CloseReason, ConnEvent, ConnId};
pub use ctx::{Ctx, TimerId};
pub use disk::DiskConfig;
pub use faults::{Fault, TimedFault};
pub use history::{History, OpId, Operation, Outcome};
pub use link::{ConfigError, Latency, LinkConfig};
pub use nemesis::{FaultKind, FaultWeights, NemesisConfig};
pub use network::{LinkOverride, NetworkConfig, Topology};
pub use node::{Node, NodeId};
pub use partition::Partition;
pub use result::{RunResult, RunStats};
pub use rng::{SimRng, Stream};
pub use sim::Sim;
pub use time::{LocalTime, MonotonicTime, SimTime};
pub use world::World;
