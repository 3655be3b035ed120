//! The key generation service: the correct design passes every fault kind
//! with the liveness bound demanding success; each broken variant is
//! caught by the check that names its mistake, with a message that says
//! what went wrong; and, driven one handler at a time, an acceptor holds
//! its answer until its write is synced, and a restarted ID server leases
//! a fresh bulk instead of resuming an old one.

use std::time::Duration;

use models::harness::{Harness, Model};
use models::kgs::msg::{Ballot, Msg, Range};
use models::kgs::node::{KgsDisk, KgsNode, Timer};
use models::kgs::{KgsConfig, KgsDesign, Variant, WorkloadConfig};
use models::{Design, ModelSection};
use sim_core::testing::{Driver, Story};
use sim_core::{
    ClockConfig, FaultKind, FaultWeights, LivenessConfig, NemesisConfig, NodeId, SimConfig,
    Verdict, Violation,
};

const AUTHORITY_0: NodeId = NodeId(0);
/// With three authority nodes, the first ID server.
const SERVER_0: NodeId = NodeId(3);

fn config(variant: Variant) -> KgsConfig {
    KgsConfig {
        variant,
        bulk_size: 200,
        low_water: 60,
        lease_timeout_ms: 300,
        workload: WorkloadConfig {
            attempt_timeout_ms: 150,
            ..WorkloadConfig::default()
        },
        ..KgsConfig::default()
    }
}

fn harness(config: KgsConfig) -> Harness<KgsDesign> {
    config.validate().expect("a valid configuration");
    Harness::new(KgsDesign::new(config))
}

/// Four simulated seconds with the model's disks, the authority's syncs
/// taking 1-5 ms.
fn sim(seed: u64, design: &Harness<KgsDesign>) -> SimConfig {
    let mut c = SimConfig::new(seed);
    c.duration = Duration::from_secs(4);
    c.disks = design.default_disks();
    for disk in c.disks.iter_mut().filter(|d| d.buffered) {
        disk.sync_latency = sim_core::Latency::Uniform {
            min_us: 1_000,
            max_us: 5_000,
        };
    }
    c
}

/// A nemesis over the authority and the servers, with `weights`.
fn nemesis(design: &Harness<KgsDesign>, weights: FaultWeights) -> NemesisConfig {
    NemesisConfig {
        targets: design.default_fault_targets(),
        interval_ms_min: 20,
        interval_ms_max: 200,
        duration_ms_min: 20,
        duration_ms_max: 400,
        max_down: 1,
        weights,
        swarm: false,
        ..NemesisConfig::default()
    }
}

/// The first violation over `seeds`, with its seed.
fn first_violation(
    design: &Harness<KgsDesign>,
    seeds: std::ops::Range<u64>,
    setup: impl Fn(&mut SimConfig),
) -> (u64, Violation) {
    for seed in seeds.clone() {
        let mut c = sim(seed, design);
        setup(&mut c);
        if let Verdict::Violated(v) = design.run(c, false).verdict {
            return (seed, v);
        }
    }
    panic!("no seed in {seeds:?} caught it");
}

#[test]
fn the_correct_design_passes_every_fault_kind_and_serves_after_the_heal() {
    let design = harness(config(Variant::Correct));
    for kind in [
        FaultKind::Partition,
        FaultKind::Crash,
        FaultKind::Pause,
        FaultKind::ClockStep,
        FaultKind::Link,
        FaultKind::Shutdown,
    ] {
        for seed in 0..6 {
            let mut c = sim(seed, &design);
            c.nemesis = Some(nemesis(&design, FaultWeights::only(kind)));
            c.liveness = Some(LivenessConfig {
                heal_at_ms: 2500,
                bound_ms: 1000,
                require_ok: true,
            });
            c.network.default_link.loss_per_million = 10_000;
            c.network.default_link.duplicate_per_million = 10_000;
            let result = design.run(c, false);
            assert_eq!(result.verdict, Verdict::Pass, "{kind:?}, seed {seed}");
            assert!(
                result.metrics["ids_per_s"] > 100.0,
                "{kind:?}, seed {seed}: IDs flowed"
            );
        }
    }
}

#[test]
fn a_crashed_server_wastes_its_bulk_and_a_shutdown_discards_it() {
    let design = harness(config(Variant::Correct));
    let mut crashed = sim(1, &design);
    crashed.faults = Story::new().crash(1000, SERVER_0).lasting(100).faults();
    let crashed = design.run(crashed, false);
    let mut shut = sim(1, &design);
    shut.faults = Story::new().shutdown(1000, SERVER_0, 50).faults();
    let shut = design.run(shut, false);
    let calm = design.run(sim(1, &design), false);
    for run in [&crashed, &shut] {
        assert_eq!(run.verdict, Verdict::Pass);
        assert!(run.metrics["wasted_fraction"] > 0.0, "{:?}", run.metrics);
    }
    assert_eq!(
        calm.metrics.get("wasted_fraction").copied().unwrap_or(0.0),
        0.0
    );
}

#[test]
fn an_asynchronous_standby_re_issues_bulks_the_primary_granted() {
    let mut c = config(Variant::AsyncReplica);
    c.authorities = 2;
    let design = harness(c);
    // Cut the primary off: servers fail over to the standby, which grants
    // from its copy and cannot copy back. Then cut the standby off: they
    // fail back to the primary, which never heard of those grants.
    // (With the standby isolated as the primary returns, no copy passes.)
    let (_, v) = first_violation(&design, 0..40, |c| {
        c.faults = Story::new()
            .isolate(800, AUTHORITY_0)
            .lasting(700)
            .isolate(1500, NodeId(1))
            .lasting(700)
            .faults();
    });
    assert_eq!(v.invariant, "bulks_leased_once", "{}", v.message);
    assert!(
        v.message.contains("the authority granted counters twice"),
        "{}",
        v.message
    );
}

#[test]
fn writing_to_one_acceptor_instead_of_a_majority_grants_a_bulk_twice() {
    let design = harness(config(Variant::MinorityWrites));
    let (_, v) = first_violation(&design, 0..40, |c| {
        c.nemesis = Some(nemesis(
            &design,
            FaultWeights {
                partition: 1,
                crash: 1,
                ..FaultWeights::ZERO
            },
        ));
    });
    assert_eq!(v.invariant, "bulks_leased_once", "{}", v.message);
    assert!(v.message.contains("had been leased to"), "{}", v.message);
}

#[test]
fn answering_before_the_sync_loses_a_grant_in_a_crash() {
    let mut c = config(Variant::AckBeforeSync);
    c.bulk_size = 100;
    c.low_water = 30;
    c.servers = 5;
    let design = harness(c);
    let (_, v) = first_violation(&design, 0..200, |c| {
        for disk in c.disks.iter_mut().filter(|d| d.buffered) {
            disk.sync_latency = sim_core::Latency::Uniform {
                min_us: 5_000,
                max_us: 20_000,
            };
        }
        let mut n = nemesis(
            &design,
            FaultWeights {
                crash: 3,
                partition: 1,
                link: 1,
                ..FaultWeights::ZERO
            },
        );
        n.targets = (0..3).map(NodeId).collect();
        n.interval_ms_min = 10;
        n.interval_ms_max = 60;
        c.nemesis = Some(n);
    });
    assert_eq!(v.invariant, "bulks_leased_once", "{}", v.message);
}

#[test]
fn resuming_from_a_stale_checkpoint_hands_out_ids_again() {
    let design = harness(config(Variant::StaleCheckpoint));
    let (_, v) = first_violation(&design, 0..10, |c| {
        c.faults = Story::new().crash(1000, SERVER_0).lasting(50).faults();
    });
    assert_eq!(v.invariant, "unique_ids", "{}", v.message);
    assert!(
        v.message.contains("by server-0") && v.message.matches("server-0").count() >= 2,
        "the same server, before and after its crash: {}",
        v.message
    );
}

#[test]
fn reclaiming_by_a_fast_clock_grants_a_bulk_its_holder_is_still_issuing() {
    let mut c = config(Variant::ClockReclaim);
    c.lease_ms = 300;
    c.reclaim_margin_ms = 50;
    let design = harness(c);
    // One authority node's clock is 1.5 s ahead: by it, leases renewed
    // at the others "expired" long ago.
    let (_, v) = first_violation(&design, 0..20, |c| {
        c.clocks = vec![ClockConfig::default(); design.node_names().len()];
        c.clocks[1] = ClockConfig {
            offset_us: 1_500_000,
            drift_ppm: 0,
        };
    });
    assert_eq!(v.invariant, "unique_ids", "{}", v.message);
    assert!(
        v.message.contains(" and server-"),
        "two holders of one counter: {}",
        v.message
    );

    // With exact clocks the same design keeps its IDs unique.
    let calm = design.run(sim(0, &design), false);
    assert_eq!(calm.verdict, Verdict::Pass);
}

#[test]
fn an_even_multiplier_maps_two_counters_to_one_id() {
    let design = harness(config(Variant::EvenMultiplier));
    let (_, v) = first_violation(&design, 0..5, |_| {});
    assert_eq!(v.invariant, "unique_ids", "{}", v.message);
    assert!(
        v.message
            .contains("is even, so counters 4096 apart share an ID"),
        "{}",
        v.message
    );
}

#[test]
fn random_ids_in_a_small_space_collide_and_say_how_likely_that_was() {
    let mut c = config(Variant::RandomIds);
    c.random_bits = 16;
    let design = harness(c);
    let (_, v) = first_violation(&design, 0..5, |_| {});
    assert_eq!(v.invariant, "unique_ids", "{}", v.message);
    assert!(
        v.message.contains("at random from 2^16 values"),
        "{}",
        v.message
    );
    assert!(
        v.message.contains("exact chance of some collision"),
        "{}",
        v.message
    );

    // 64 bits: a few thousand IDs do not collide, and the run says how
    // unlikely a collision was.
    let mut wide = config(Variant::RandomIds);
    wide.random_bits = 64;
    let wide = harness(wide);
    let run = wide.run(sim(0, &wide), false);
    assert_eq!(run.verdict, Verdict::Pass);
    assert!(
        run.metrics["birthday_collision_p"] < 1e-9,
        "{:?}",
        run.metrics
    );
}

fn disks(config: KgsConfig) -> Vec<KgsDisk> {
    KgsDesign::new(config)
        .nodes()
        .into_iter()
        .map(|(_, d)| d)
        .collect()
}

#[test]
fn driven_by_hand_an_acceptor_answers_once_its_promise_is_on_disk() {
    for (variant, at_once) in [(Variant::Correct, false), (Variant::AckBeforeSync, true)] {
        let mut driver = Driver::<KgsNode>::new(disks(config(variant)));
        let proposer = NodeId(1);
        let ballot = Ballot { round: 1, node: 1 };
        let prepared = driver.deliver(AUTHORITY_0, proposer, Msg::Prepare { ballot });
        assert_eq!(
            prepared.syncs.len(),
            1,
            "{variant:?}: the promise is synced"
        );
        let promise = (
            proposer,
            Msg::Promise {
                ballot,
                accepted: None,
            },
        );
        assert_eq!(
            prepared.sends.contains(&promise),
            at_once,
            "{variant:?}: {:?}",
            prepared.sends
        );
        if !at_once {
            let synced = prepared.syncs.into_iter().next().expect("one sync");
            assert!(matches!(synced, Timer::Synced { .. }));
            let answered = driver.fire(AUTHORITY_0, synced);
            assert_eq!(
                answered.sends,
                vec![promise],
                "{variant:?}: answered once on disk"
            );
        }
        let KgsDisk::Authority(disk) = driver.durable(AUTHORITY_0) else {
            panic!("an authority's disk");
        };
        assert_eq!(disk.promised, ballot);
    }
}

/// Starts `SERVER_0`, grants it `[0, 200)` and has a client take 150 IDs.
fn serve_150(driver: &mut Driver<KgsNode>) -> Vec<u64> {
    let started = driver.start(SERVER_0);
    let request = started
        .sends
        .iter()
        .find_map(|(_, m)| match m {
            Msg::LeaseRequest {
                request,
                renew: None,
            } => Some(*request),
            _ => None,
        })
        .expect("a server asks for a bulk when it starts");
    let range = Range { start: 0, end: 200 };
    driver.deliver(SERVER_0, AUTHORITY_0, Msg::Granted { request, range });
    let client = NodeId(6);
    let mut ids = Vec::new();
    for request in 0..15 {
        let answer = driver.deliver(SERVER_0, client, Msg::Get { request, count: 10 });
        for (_, m) in answer.sends {
            if let Msg::Ids { ids: got, .. } = m {
                ids.extend(got);
            }
        }
    }
    ids
}

#[test]
fn driven_by_hand_a_restarted_server_leases_a_fresh_bulk_and_the_stale_one_resumes() {
    for (variant, resumes) in [(Variant::Correct, false), (Variant::StaleCheckpoint, true)] {
        let c = config(variant);
        let map = c.id_map();
        let mut driver = Driver::<KgsNode>::new(disks(c.clone()));
        let ids = serve_150(&mut driver);
        assert_eq!(ids.len(), 150, "{variant:?}");
        assert_eq!(ids[0], map.id(0), "the counter, mapped");
        assert_ne!(ids[1], ids[0] + 1, "IDs are not sequential");
        // A crash: a new node boots from what the disk holds.
        let mut after = disks(c);
        after[SERVER_0.index()] = driver.durable(SERVER_0).clone();
        let mut restarted = Driver::<KgsNode>::new(after);
        let started = restarted.start(SERVER_0);
        let asks = started
            .sends
            .iter()
            .any(|(_, m)| matches!(m, Msg::LeaseRequest { renew: None, .. }));
        assert_eq!(
            asks, !resumes,
            "{variant:?}: asks for a bulk unless it thinks it has one"
        );
        let KgsNode::Server(server) = restarted.node(SERVER_0) else {
            panic!("a server");
        };
        let held: Vec<(Range, u64)> = server.held().map(|h| (h.range, h.cursor)).collect();
        if resumes {
            // The checkpoint was written at 100 IDs: counters 100..150 were
            // handed out and will be again.
            assert_eq!(held, vec![(Range { start: 0, end: 200 }, 100)]);
        } else {
            assert_eq!(held, vec![], "nothing of the old bulk is reused");
        }
    }
}

#[test]
fn the_model_section_rejects_what_cannot_work() {
    let bad = [
        (
            KgsConfig {
                low_water: 1000,
                ..KgsConfig::default()
            },
            "low_water",
        ),
        (
            KgsConfig {
                authorities: 4,
                ..KgsConfig::default()
            },
            "authorities",
        ),
        (
            KgsConfig {
                multiplier: Some(6),
                ..KgsConfig::default()
            },
            "multiplier",
        ),
        (
            KgsConfig {
                random_bits: 65,
                ..KgsConfig::default()
            },
            "random_bits",
        ),
        (
            KgsConfig {
                variant: Variant::AsyncReplica,
                authorities: 1,
                ..KgsConfig::default()
            },
            "authorities",
        ),
    ];
    for (config, field) in bad {
        let e = config.validate().expect_err(field);
        assert_eq!(e.path, field, "{e}");
    }
    assert!(KgsConfig::default().validate().is_ok());
}
