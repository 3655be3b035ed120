//! The register, the template design: the correct server passes under every
//! fault kind, the broken one is caught by `acknowledged_writes_survive`
//! for the reason it is broken (a crash lost an acknowledged write), and,
//! driven one handler at a time, the correct server holds its
//! acknowledgement until the sync completes while the broken one does not.

use std::time::Duration;

use models::Design;
use models::harness::{Harness, Model};
use models::register::msg::Msg;
use models::register::node::{RegisterNode, Timer};
use models::register::{RegisterConfig, RegisterDesign, SERVER, Variant};
use sim_core::testing::{Driver, Story};
use sim_core::{DiskConfig, NemesisConfig, NodeId, SimConfig, Verdict};

fn design(variant: Variant) -> RegisterDesign {
    RegisterDesign::new(RegisterConfig {
        variant,
        ..RegisterConfig::default()
    })
}

fn run(variant: Variant, config: SimConfig) -> Verdict {
    Harness::new(design(variant)).run(config, false).verdict
}

/// Three simulated seconds; the server's disk is buffered (the model's
/// default), and it crashes at 500 ms for 100 ms.
fn one_crash(seed: u64) -> SimConfig {
    let mut c = SimConfig::new(seed);
    c.duration = Duration::from_secs(3);
    c.disks = Harness::new(design(Variant::Correct)).default_disks();
    c.faults = Story::new().crash(500, SERVER).lasting(100).faults();
    c
}

#[test]
fn the_server_s_disk_is_buffered_by_default() {
    let disks = Harness::new(design(Variant::Correct)).default_disks();
    assert!(disks[SERVER.index()].buffered);
    assert_eq!(disks[1], DiskConfig::default(), "clients write through");
}

#[test]
fn the_correct_server_passes_crashes_and_the_nemesis() {
    for seed in 0..20 {
        assert_eq!(run(Variant::Correct, one_crash(seed)), Verdict::Pass);
        let mut c = one_crash(seed);
        c.nemesis = Some(NemesisConfig {
            targets: vec![SERVER],
            interval_ms_min: 50,
            interval_ms_max: 300,
            ..NemesisConfig::default()
        });
        assert_eq!(run(Variant::Correct, c), Verdict::Pass, "seed {seed}");
    }
}

#[test]
fn acknowledging_before_the_sync_is_caught_when_a_crash_loses_the_write() {
    let caught = (0..40).find_map(|seed| match run(Variant::AckBeforeSync, one_crash(seed)) {
        Verdict::Violated(v) => Some(v),
        _ => None,
    });
    let violation = caught.expect("a crash inside the sync window within 40 seeds");
    assert_eq!(violation.invariant, "acknowledged_writes_survive");
    assert!(
        violation
            .message
            .contains("acknowledged it before it was on disk"),
        "{}",
        violation.message
    );
    assert_eq!(
        violation.time,
        sim_core::SimTime::from_millis(500),
        "caught at the crash that lost it"
    );
}

#[test]
fn driven_by_hand_the_correct_server_waits_for_its_sync_and_the_broken_one_does_not() {
    for (variant, acknowledged_at_once) in
        [(Variant::Correct, false), (Variant::AckBeforeSync, true)]
    {
        let disks = design(variant)
            .nodes()
            .into_iter()
            .map(|(_, d)| d)
            .collect();
        let mut driver = Driver::<RegisterNode>::new(disks);
        let client = NodeId(1);
        let written = driver.deliver(
            SERVER,
            client,
            Msg::Write {
                request: 7,
                value: 42,
            },
        );
        assert_eq!(written.syncs.len(), 1, "{variant:?}: one sync begun");
        let ack = (
            client,
            Msg::Written {
                request: 7,
                version: 1,
            },
        );
        assert_eq!(
            written.sends.contains(&ack),
            acknowledged_at_once,
            "{variant:?}: {:?}",
            written.sends
        );
        let synced = driver.fire(SERVER, Timer::Synced { version: 1 });
        assert_eq!(
            synced.sends.contains(&ack),
            !acknowledged_at_once,
            "{variant:?}"
        );
        assert_eq!(driver.durable(SERVER).version(), 1);
    }
}
