//! The run's fingerprint is a contract: a fixed run's digest is pinned
//! here. It changes only when the engine's behaviour or the canonical
//! encoding (`encode.rs`) changes on purpose, never with a Rust release:
//! the digest never goes through `std::hash::Hash`.

mod common;

use std::time::Duration;

use common::{Probe, pinging};
use sim_core::{
    Fault, LivenessConfig, NemesisConfig, NodeId, Partition, Sim, SimConfig, TimedFault,
};

/// The pinned run: three probes pinging under a swarm nemesis, a planned
/// partition with a duration, and a liveness phase.
fn pinned_run() -> String {
    let mut c = SimConfig::new(42);
    c.duration = Duration::from_secs(3);
    c.nemesis = Some(NemesisConfig::default());
    c.faults = vec![TimedFault {
        at_ms: 300,
        fault: Fault::Partition(Partition::Isolate(NodeId(2))),
        duration_ms: Some(400),
    }];
    c.liveness = Some(LivenessConfig {
        heal_at_ms: 2_000,
        bound_ms: 500,
        require_ok: false,
    });
    let mut disks = pinging(3, Duration::from_millis(7), 300);
    disks[2].ping = Some((NodeId(0), Duration::from_millis(5), 300));
    Sim::<Probe>::new(c, disks).run().digest
}

#[test]
fn the_digest_of_a_fixed_run_is_pinned() {
    assert_eq!(
        pinned_run(),
        "a529edec65ee88d3a9fb3f9c6e18f112",
        "the digest moved: if the engine or the encoding changed on purpose, pin the new value and say why in the commit"
    );
}
