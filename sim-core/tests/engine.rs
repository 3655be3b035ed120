//! The engine's promises, each checked on the probe design: determinism,
//! crashes, partitions, pauses, clocks, ordering, limits.

mod common;

use std::time::Duration;

use common::{Disk, Msg, Probe, pinging, pings_received};
use sim_core::check::Limit;
use sim_core::network::DropReason;
use sim_core::trace::{TraceEvent, TraceKind};
use sim_core::{
    Breach, ClockConfig, Fault, Invariant, Latency, LinkConfig, NemesisConfig, NodeId, Partition,
    Sim, SimConfig, SimTime, Step, TimedFault, Verdict, World,
};

const MS: Duration = Duration::from_millis(1);

fn config(seed: u64, latency: Latency) -> SimConfig {
    let mut c = SimConfig::new(seed);
    c.network.default_link = LinkConfig {
        latency,
        ..LinkConfig::default()
    };
    c.record_trace = true;
    c
}

fn constant(ms: u64) -> Latency {
    Latency::Constant { us: ms * 1_000 }
}

fn at(ms: u64, fault: Fault) -> TimedFault {
    TimedFault::at(ms, fault)
}

fn trace(result: &sim_core::RunResult<u64, u64>) -> &[TraceEvent] {
    result.trace.as_deref().expect("recorded")
}

fn count_kind(result: &sim_core::RunResult<u64, u64>, kind: TraceKind) -> usize {
    trace(result).iter().filter(|e| e.kind == kind).count()
}

#[test]
fn same_seed_same_digest_and_different_seeds_differ() {
    let run = |seed| {
        let mut c = config(seed, Latency::default());
        c.nemesis = Some(NemesisConfig::default());
        let mut disks = pinging(4, 7 * MS, 1_000);
        disks[2].ping = Some((NodeId(3), 3 * MS, 1_000));
        Sim::<Probe>::new(c, disks).run()
    };
    let (a, b, other) = (run(1), run(1), run(2));
    assert_eq!(a.digest, b.digest);
    assert_eq!(a.stats, b.stats);
    assert_eq!(a.trace, b.trace, "recorded traces are identical too");
    assert!(a.stats.faults > 0, "the nemesis struck");
    assert_ne!(a.digest, other.digest);
}

#[test]
fn digest_does_not_depend_on_recording() {
    let run = |record| {
        let mut c = config(5, Latency::default());
        c.record_trace = record;
        Sim::<Probe>::new(c, pinging(2, 10 * MS, 100)).run().digest
    };
    assert_eq!(run(true), run(false));
}

#[test]
fn crash_loses_volatile_state_timers_and_messages_in_flight() {
    // Ping n leaves node 0 at (n+1)*10 ms and takes 50 ms. Node 1 crashes at
    // 115 ms and restarts at 125 ms: pings 0..=5 arrived before the crash,
    // pings 6..=10 were in flight across it and must be lost, 11.. arrive.
    let mut c = config(1, constant(50));
    c.faults = vec![
        at(115, Fault::Crash(NodeId(1))),
        at(125, Fault::Restart(NodeId(1))),
    ];
    let mut disks = pinging(2, 10 * MS, 30);
    disks[1].alarms = vec![(7, Duration::from_millis(200))];
    let mut sim = Sim::<Probe>::new(c, disks);
    let result = sim.run();

    let world = sim.world();
    let node1 = world.node(NodeId(1)).expect("restarted");
    assert_eq!(
        pings_received(node1),
        (11..30).collect::<Vec<_>>(),
        "volatile log restarted empty"
    );
    assert_eq!(
        world.durable(NodeId(1)).answered,
        6 + 19,
        "durable count survived"
    );
    let lost = trace(&result)
        .iter()
        .filter(|e| e.kind == TraceKind::Drop(DropReason::ReceiverCrashed))
        .count();
    assert_eq!(lost, 5, "pings 6..=10 were in flight across the crash");
    // The alarm set by the first incarnation (due at 200 ms) died with it;
    // only the restarted node's alarm (125 + 200 ms) fires.
    assert_eq!(node1.alarms_fired, vec![(7, 325_000_000)]);
}

#[test]
fn partition_drops_cross_traffic_and_heal_restores_it() {
    // 5 ms latency; the cut at 103 ms catches ping 9 (sent at 100 ms) in
    // flight, then pings 10..=29 at send; after the heal at 303 ms ping 30
    // (sent at 310 ms) gets through.
    let mut c = config(1, constant(5));
    c.faults = vec![
        at(
            103,
            Fault::Partition(Partition::Groups(vec![vec![NodeId(0)], vec![NodeId(1)]])),
        ),
        at(303, Fault::Heal),
    ];
    let mut sim = Sim::<Probe>::new(c, pinging(2, 10 * MS, 40));
    let result = sim.run();
    let expected: Vec<u64> = (0..=8).chain(30..40).collect();
    assert_eq!(
        pings_received(sim.world().node(NodeId(1)).unwrap()),
        expected
    );
    assert_eq!(
        count_kind(&result, TraceKind::Drop(DropReason::Partitioned)),
        1 + 20,
        "ping 9 in flight, 10..=29 at send"
    );
}

#[test]
fn one_way_partition_is_one_way() {
    let mut c = config(1, constant(1));
    c.faults = vec![at(
        0,
        Fault::Partition(Partition::OneWay {
            from: vec![NodeId(0)],
            to: vec![NodeId(1)],
        }),
    )];
    let mut disks = pinging(2, 10 * MS, 5);
    disks[1].ping = Some((NodeId(0), 10 * MS, 5));
    let mut sim = Sim::<Probe>::new(c, disks);
    sim.run();
    let world = sim.world();
    assert!(
        world.node(NodeId(1)).unwrap().received.is_empty(),
        "nothing crosses 0 -> 1"
    );
    assert_eq!(
        pings_received(world.node(NodeId(0)).unwrap()),
        vec![0, 1, 2, 3, 4],
        "1 -> 0 still works"
    );
}

#[test]
fn clock_drift_changes_when_timers_fire() {
    let mut c = config(1, constant(1));
    c.clocks = vec![
        ClockConfig {
            offset_us: 0,
            drift_ppm: 100_000,
        },
        ClockConfig {
            offset_us: 0,
            drift_ppm: 0,
        },
        ClockConfig {
            offset_us: 0,
            drift_ppm: -100_000,
        },
    ];
    let disks = vec![
        Disk {
            alarms: vec![(1, Duration::from_secs(1))],
            ..Disk::default()
        };
        3
    ];
    let result = Sim::<Probe>::new(c, disks).run();
    let fired: Vec<(NodeId, SimTime)> = trace(&result)
        .iter()
        .filter(|e| e.kind == TraceKind::Timer)
        .map(|e| (e.node.unwrap(), e.time))
        .collect();
    assert_eq!(
        fired,
        vec![
            (NodeId(0), SimTime::from_nanos(909_090_910)), // 10% fast: early in true time
            (NodeId(1), SimTime::from_secs(1)),
            (NodeId(2), SimTime::from_nanos(1_111_111_112)), // 10% slow: late
        ]
    );
}

#[test]
fn clock_steps_move_the_reading_but_not_timers() {
    let mut c = config(1, constant(1));
    c.faults = vec![at(
        100,
        Fault::ClockStep {
            node: NodeId(0),
            delta_us: 5_000_000,
        },
    )];
    let disks = vec![Disk {
        alarms: vec![(1, Duration::from_millis(500))],
        ..Disk::default()
    }];
    let mut sim = Sim::<Probe>::new(c, disks);
    let result = sim.run();
    let fired_at = trace(&result)
        .iter()
        .find(|e| e.kind == TraceKind::Timer)
        .unwrap()
        .time;
    assert_eq!(
        fired_at,
        SimTime::from_millis(500),
        "the oscillator ignores steps"
    );
    let reading = sim.world().node(NodeId(0)).unwrap().alarms_fired[0].1;
    assert_eq!(reading, 5_500_000_000, "the wall clock jumped 5 s");
}

#[test]
fn messages_due_at_the_same_time_arrive_in_send_order() {
    let c = config(1, constant(3));
    let disks = vec![
        Disk {
            burst: Some((NodeId(1), 50)),
            ..Disk::default()
        },
        Disk::default(),
    ];
    let mut sim = Sim::<Probe>::new(c, disks);
    sim.run();
    assert_eq!(
        pings_received(sim.world().node(NodeId(1)).unwrap()),
        (0..50).collect::<Vec<_>>()
    );
}

#[test]
fn random_latency_reorders_unless_the_link_is_fifo() {
    let received = |fifo| {
        let mut c = config(
            3,
            Latency::Uniform {
                min_us: 1_000,
                max_us: 10_000,
            },
        );
        c.network.default_link.fifo = fifo;
        let disks = vec![
            Disk {
                burst: Some((NodeId(1), 200)),
                ..Disk::default()
            },
            Disk::default(),
        ];
        let mut sim = Sim::<Probe>::new(c, disks);
        sim.run();
        pings_received(sim.world().node(NodeId(1)).unwrap())
    };
    let in_order: Vec<u64> = (0..200).collect();
    assert_eq!(received(true), in_order);
    let reordered = received(false);
    assert_ne!(reordered, in_order);
    let mut sorted = reordered;
    sorted.sort();
    assert_eq!(sorted, in_order, "reordered, not lost");
}

#[test]
fn loss_and_duplication_follow_their_rates() {
    let received = |loss, duplicate| {
        let mut c = config(4, constant(1));
        c.network.default_link.loss_per_million = loss;
        c.network.default_link.duplicate_per_million = duplicate;
        let disks = vec![
            Disk {
                burst: Some((NodeId(1), 10_000)),
                ..Disk::default()
            },
            Disk::default(),
        ];
        let mut sim = Sim::<Probe>::new(c, disks);
        sim.run();
        pings_received(sim.world().node(NodeId(1)).unwrap()).len()
    };
    assert!((4_700..5_300).contains(&received(500_000, 0)));
    assert!((11_800..12_200).contains(&received(0, 200_000)));
    assert_eq!(received(0, 0), 10_000);
}

#[test]
fn pause_holds_timers_and_deliveries_until_resume_and_loses_nothing() {
    let mut c = config(1, constant(5));
    c.faults = vec![
        at(100, Fault::Pause(NodeId(1))),
        at(300, Fault::Resume(NodeId(1))),
    ];
    let mut disks = pinging(2, 10 * MS, 40);
    disks[1].alarms = vec![(9, Duration::from_millis(200))];
    let mut sim = Sim::<Probe>::new(c, disks);
    sim.run();
    let node1 = sim.world().node(NodeId(1)).unwrap();
    assert_eq!(
        pings_received(node1),
        (0..40).collect::<Vec<_>>(),
        "nothing lost, order kept"
    );
    assert_eq!(
        node1.alarms_fired,
        vec![(9, 300_000_000)],
        "the alarm due at 200 ms waited for the resume"
    );
    let at_resume = node1
        .received
        .iter()
        .filter(|(_, _, t)| *t == 300_000_000)
        .count();
    assert_eq!(
        at_resume, 20,
        "pings 9..=28 arrived during the pause and were delivered at resume"
    );
}

/// Fails once node 1 has answered `limit` pings.
struct AnsweredBelow(u64);

impl Invariant<Probe> for AnsweredBelow {
    fn name(&self) -> &str {
        "answered_below"
    }
    fn check(&mut self, world: &World<'_, Probe>, _step: &Step<'_>) -> Result<(), Breach> {
        let answered = world.durable(NodeId(1)).answered;
        if answered >= self.0 {
            Err(Breach::new(format!("answered {answered}")))
        } else {
            Ok(())
        }
    }
}

#[test]
fn a_violation_names_the_invariant_the_event_and_the_time() {
    let mut sim = Sim::<Probe>::new(config(1, constant(5)), pinging(2, 10 * MS, 40));
    sim.add_invariant(AnsweredBelow(5));
    let result = sim.run();
    let Verdict::Violated(v) = &result.verdict else {
        panic!("expected a violation, got {:?}", result.verdict)
    };
    assert_eq!(v.invariant, "answered_below");
    assert_eq!(
        v.time,
        SimTime::from_millis(55),
        "ping 4 left at 50 ms and arrived 5 ms later"
    );
    let delivery = trace(&result)
        .iter()
        .rfind(|e| e.kind == TraceKind::Deliver && e.detail == format!("{:?}", Msg::Ping(4)))
        .unwrap();
    assert_eq!(v.event, delivery.event);
    assert_eq!(
        result.stats.events, v.event,
        "the run stopped at the violation"
    );
}

#[test]
fn limits_end_the_run_with_a_verdict() {
    let mut c = config(1, constant(1));
    c.limits.max_events = 100;
    let result = Sim::<Probe>::new(c, pinging(2, MS, 1_000)).run();
    assert!(matches!(
        result.verdict,
        Verdict::LimitReached {
            limit: Limit::Events,
            event: 100,
            ..
        }
    ));

    let mut c = config(1, constant(1));
    c.limits.max_pending = 100;
    let disks = vec![
        Disk {
            burst: Some((NodeId(1), 1_000)),
            ..Disk::default()
        },
        Disk::default(),
    ];
    let result = Sim::<Probe>::new(c, disks).run();
    assert!(matches!(
        result.verdict,
        Verdict::LimitReached {
            limit: Limit::PendingEvents,
            ..
        }
    ));
}

#[test]
fn the_nemesis_only_strikes_its_targets_and_its_mix_is_drawn_per_seed() {
    let mut mixes = std::collections::BTreeSet::new();
    for seed in 0..20 {
        let mut c = config(seed, Latency::default());
        c.nemesis = Some(NemesisConfig {
            targets: vec![NodeId(1), NodeId(2)],
            ..NemesisConfig::default()
        });
        let result = Sim::<Probe>::new(c, pinging(3, 10 * MS, 500)).run();
        for e in trace(&result) {
            if matches!(
                e.kind,
                TraceKind::Crash | TraceKind::Pause | TraceKind::ClockStep
            ) {
                assert_ne!(
                    e.node,
                    Some(NodeId(0)),
                    "seed {seed}: node 0 is not a target"
                );
            }
        }
        mixes.insert(format!("{:?}", result.nemesis_weights.unwrap()));
    }
    assert!(
        mixes.len() > 5,
        "swarm testing draws different mixes: {mixes:?}"
    );
}

#[test]
fn the_liveness_phase_stops_loss() {
    // 50% loss on every link until the heal at 1 s, none after it.
    let mut c = config(6, constant(1));
    c.network.default_link.loss_per_million = 500_000;
    c.liveness = Some(sim_core::LivenessConfig {
        heal_at_ms: 1_000,
        bound_ms: 500,
        require_ok: false,
    });
    c.duration = Duration::from_secs(3);
    let mut sim = Sim::<Probe>::new(c, pinging(2, 10 * MS, 250));
    sim.run();
    // Ping n leaves at (n+1)*10 ms: pings 0..=98 before the heal, 99.. after.
    let received = pings_received(sim.world().node(NodeId(1)).unwrap());
    let before = received.iter().filter(|&&n| n <= 98).count();
    let after = received.iter().filter(|&&n| n >= 99).count();
    assert!(
        (30..70).contains(&before),
        "about half of 99 pings lost before the heal: {before}"
    );
    assert_eq!(after, 151, "none lost after it");
}

/// Counts the events it is shown, remembers the last step, and reads
/// how many pings node 1 had answered when the run was over.
#[derive(Default)]
struct StepCounter {
    steps: u64,
    last_event: Option<u64>,
    answered_at_end: Option<u64>,
}

impl sim_core::Observer<Probe> for StepCounter {
    fn observe(&mut self, _world: &World<'_, Probe>, step: &Step<'_>) {
        assert!(
            self.answered_at_end.is_none(),
            "finish comes after every event"
        );
        self.steps += 1;
        self.last_event = Some(step.event);
    }
    fn finish(&mut self, world: &World<'_, Probe>) {
        assert!(self.answered_at_end.is_none(), "finish comes once");
        self.answered_at_end = Some(world.durable(NodeId(1)).answered);
    }
}

#[test]
fn an_observer_sees_every_event_then_the_final_state_and_the_caller_keeps_it() {
    let mut sim = Sim::<Probe>::new(config(1, constant(5)), pinging(2, 10 * MS, 40));
    let mut counter = StepCounter::default();
    let result = sim.run_observed(&mut counter);
    assert_eq!(counter.steps, result.stats.events);
    assert_eq!(counter.last_event, Some(result.stats.events));
    assert_eq!(counter.answered_at_end, Some(40), "it saw the final state");
    assert_eq!(
        result.digest,
        Sim::<Probe>::new(config(1, constant(5)), pinging(2, 10 * MS, 40))
            .run()
            .digest
    );
}

#[test]
fn operation_events_carry_their_op_id_and_ending() {
    let result = Sim::<Probe>::new(config(1, constant(5)), pinging(2, 10 * MS, 5)).run();
    let invoked: Vec<_> = trace(&result)
        .iter()
        .filter(|e| e.kind == TraceKind::Invoke)
        .map(|e| e.op)
        .collect();
    let ids: Vec<_> = result
        .history
        .operations()
        .iter()
        .map(|o| Some(o.id))
        .collect();
    assert_eq!(
        invoked, ids,
        "every invoke event names its operation, in order"
    );
    let completed: Vec<_> = trace(&result)
        .iter()
        .filter_map(|e| match e.kind {
            TraceKind::Complete(ending) => Some((e.op, ending)),
            _ => None,
        })
        .collect();
    assert_eq!(completed.len(), 5);
    assert!(
        completed
            .iter()
            .all(|(op, ending)| op.is_some() && *ending == sim_core::trace::Ending::Ok)
    );
}

/// A final-state check: "every ping was answered", which is false while
/// pings are in flight and must only be judged when the run is over.
struct AllPingsAnswered {
    expected: u64,
}

impl sim_core::FinalCheck<Probe> for AllPingsAnswered {
    fn name(&self) -> &str {
        "all_pings_answered"
    }
    fn check(&mut self, world: &World<'_, Probe>) -> Result<(), Breach> {
        let answered = world.durable(NodeId(1)).answered;
        if answered == self.expected {
            Ok(())
        } else {
            Err(Breach::new(format!(
                "node 1 answered {answered} pings of {}",
                self.expected
            )))
        }
    }
}

#[test]
fn a_final_state_check_judges_the_end_of_the_run_and_names_itself() {
    let run = |expected: u64| {
        let mut sim = Sim::<Probe>::new(
            config(1, constant(5)),
            pinging(2, Duration::from_millis(10), 20),
        );
        sim.add_checks(sim_core::Checks::new().final_state(AllPingsAnswered { expected }));
        sim.run().verdict
    };
    // In flight for 5 ms after every ping, so an after-every-event check
    // would fail; judged at the end it holds.
    assert_eq!(run(20), Verdict::Pass);
    match run(21) {
        Verdict::Violated(v) => {
            assert_eq!(v.invariant, "all_pings_answered");
            assert!(
                v.message.contains("answered 20 pings of 21"),
                "{}",
                v.message
            );
        }
        other => panic!("expected a violation, got {other:?}"),
    }
}
