//! Faults undo only themselves, nothing of the fault phase fires after the
//! heal, each fault kind strikes only its own targets, and every event
//! reports the nodes it touched.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Probe, pinging, pings_received};
use sim_core::trace::{TraceEvent, TraceKind};
use sim_core::{
    Fault, FaultKind, Latency, LinkConfig, LivenessConfig, NemesisConfig, NodeId, Observer,
    Partition, Sim, SimConfig, SimTime, Step, TimedFault, World,
};

const MS: Duration = Duration::from_millis(1);

fn config(seed: u64) -> SimConfig {
    let mut c = SimConfig::new(seed);
    c.network.default_link = LinkConfig {
        latency: Latency::Constant { us: 1_000 },
        ..LinkConfig::default()
    };
    c.record_trace = true;
    c
}

fn lasting(at_ms: u64, duration_ms: u64, fault: Fault) -> TimedFault {
    TimedFault {
        at_ms,
        fault,
        duration_ms: Some(duration_ms),
    }
}

/// Which pings node 1 received, from a run where node 0 pings it every
/// 10 ms (ping n leaves at (n+1)*10 ms and takes 1 ms).
fn pings_at_node_1(c: SimConfig) -> Vec<u64> {
    let mut sim = Sim::<Probe>::new(c, pinging(3, 10 * MS, 100));
    sim.run();
    pings_received(sim.world().node(NodeId(1)).unwrap())
}

#[test]
fn a_lasting_partition_removes_only_its_own_cut() {
    // Planned: node 1 isolated from 95 ms until the heal at 695 ms. A
    // second cut with a duration overlaps it from 195 ms to 395 ms; when it
    // ends, node 1 must stay isolated.
    let mut c = config(1);
    c.faults = vec![
        TimedFault::at(95, Fault::Partition(Partition::Isolate(NodeId(1)))),
        lasting(
            195,
            200,
            Fault::Partition(Partition::Groups(vec![vec![NodeId(0)]])),
        ),
        TimedFault::at(695, Fault::Heal),
    ];
    let received = pings_at_node_1(c);
    let expected: Vec<u64> = (0..9).chain(69..100).collect();
    assert_eq!(received, expected, "pings 9..=68 left during the isolation");
}

#[test]
fn a_nemesis_partitions_undo_leaves_an_overlapping_planned_partition_in_place() {
    // The nemesis cuts and heals node 2 over and over; node 1 is isolated
    // by the plan the whole time. A global heal as undo would let pings
    // through.
    let mut c = config(3);
    c.duration = Duration::from_millis(1_000);
    c.faults = vec![TimedFault::at(
        5,
        Fault::Partition(Partition::Isolate(NodeId(1))),
    )];
    c.nemesis = Some(NemesisConfig {
        targets: vec![NodeId(2)],
        interval_ms_min: 20,
        interval_ms_max: 40,
        duration_ms_min: 10,
        duration_ms_max: 30,
        weights: sim_core::nemesis::FaultWeights {
            partition: 1,
            ..sim_core::nemesis::FaultWeights::ZERO
        },
        swarm: false,
        ..NemesisConfig::default()
    });
    let mut sim = Sim::<Probe>::new(c, pinging(3, 10 * MS, 100));
    let result = sim.run();
    let undos = trace(&result)
        .iter()
        .filter(|e| e.kind == TraceKind::Undo)
        .count();
    assert!(undos > 10, "the nemesis struck and undid often: {undos}");
    assert!(pings_received(sim.world().node(NodeId(1)).unwrap()).is_empty());
}

#[test]
fn a_lasting_link_fault_drops_only_its_own_change() {
    // Planned: all of node 0's links lose everything from 95 ms on. A
    // lasting change to 1 ms latency (no loss) from 195 to 395 ms lets
    // pings through only while it lasts.
    let lossy = LinkConfig {
        loss_per_million: 1_000_000,
        ..LinkConfig::default()
    };
    let clean = LinkConfig {
        latency: Latency::Constant { us: 1_000 },
        ..LinkConfig::default()
    };
    let mut c = config(1);
    c.faults = vec![
        TimedFault::at(
            95,
            Fault::Link {
                from: Some(NodeId(0)),
                to: None,
                link: lossy,
            },
        ),
        lasting(
            195,
            200,
            Fault::Link {
                from: Some(NodeId(0)),
                to: None,
                link: clean,
            },
        ),
    ];
    let expected: Vec<u64> = (0..9).chain(19..39).collect();
    assert_eq!(pings_at_node_1(c), expected);
}

fn trace(result: &sim_core::RunResult<u64, u64>) -> &[TraceEvent] {
    result.trace.as_deref().expect("recorded")
}

#[test]
fn nothing_of_the_fault_phase_fires_after_the_heal() {
    let heal = SimTime::from_millis(1_000);
    for seed in 0..10 {
        let mut c = config(seed);
        c.duration = Duration::from_secs(3);
        c.nemesis = Some(NemesisConfig {
            targets: vec![NodeId(1), NodeId(2)],
            interval_ms_min: 10,
            interval_ms_max: 50,
            // Most faults are still in force at the heal.
            duration_ms_min: 500,
            duration_ms_max: 5_000,
            max_down: 2,
            swarm: false,
            ..NemesisConfig::default()
        });
        c.liveness = Some(LivenessConfig {
            heal_at_ms: 1_000,
            bound_ms: 1_000,
            require_ok: false,
        });
        let mut disks = pinging(3, 10 * MS, 250);
        disks[1].alarms = vec![(1, Duration::from_millis(1_500))];
        let mut sim = Sim::<Probe>::new(c, disks);
        let result = sim.run();
        let late: Vec<&TraceEvent> = trace(&result)
            .iter()
            .filter(|e| e.fault.is_some() && e.time > heal)
            .collect();
        assert!(late.is_empty(), "seed {seed}: after the heal: {late:?}");
        assert!(
            trace(&result)
                .iter()
                .any(|e| e.time == heal && e.kind == TraceKind::Undo),
            "seed {seed}: undos still pending ran at the heal"
        );
        // Every clock step was stepped back at the latest at the heal, so
        // node 1's wall clock (no offset, no drift) reads true time when
        // its alarm fires after it.
        let alarm = trace(&result)
            .iter()
            .rfind(|e| e.kind == TraceKind::Timer && e.node == Some(NodeId(1)));
        let node = sim.world().node(NodeId(1)).expect("restarted at the heal");
        if let (Some(alarm), Some(&(_, local_ns))) = (alarm, node.alarms_fired.last())
            && alarm.time > heal
        {
            assert_eq!(
                local_ns,
                alarm.time.as_nanos() as i64,
                "seed {seed}: a clock step outlived the heal"
            );
        }
    }
}

#[test]
fn each_fault_kind_strikes_only_its_own_targets() {
    let mut struck: BTreeMap<&str, Vec<NodeId>> = BTreeMap::new();
    for seed in 0..30 {
        let mut c = config(seed);
        c.nemesis = Some(NemesisConfig {
            targets: vec![NodeId(1), NodeId(2), NodeId(3)],
            targets_per_kind: [
                (FaultKind::Crash, vec![NodeId(1)]),
                (FaultKind::ClockStep, vec![NodeId(2)]),
                (FaultKind::Pause, vec![]),
            ]
            .into_iter()
            .collect(),
            swarm: false,
            ..NemesisConfig::default()
        });
        let result = Sim::<Probe>::new(c, pinging(4, 10 * MS, 500)).run();
        for e in trace(&result) {
            let kind = match e.kind {
                TraceKind::Crash => "crash",
                TraceKind::ClockStep => "clock_step",
                TraceKind::Pause => "pause",
                TraceKind::Shutdown => "shutdown",
                _ => continue,
            };
            struck.entry(kind).or_default().extend(e.node);
        }
    }
    let nodes = |kind: &str| {
        let mut n = struck.get(kind).cloned().unwrap_or_default();
        n.sort();
        n.dedup();
        n
    };
    assert_eq!(nodes("crash"), vec![NodeId(1)]);
    assert_eq!(nodes("clock_step"), vec![NodeId(2)]);
    assert_eq!(nodes("pause"), vec![], "an empty list disables the kind");
    assert_eq!(
        nodes("shutdown"),
        vec![NodeId(1), NodeId(2), NodeId(3)],
        "kinds without their own list strike the common targets"
    );
}

/// Remembers the nodes of every step at a given time.
struct NodesAt {
    time: SimTime,
    nodes: Vec<NodeId>,
}

impl Observer<Probe> for NodesAt {
    fn observe(&mut self, _world: &World<'_, Probe>, step: &Step<'_>) {
        if step.time == self.time {
            self.nodes.extend_from_slice(step.nodes);
        }
    }
}

#[test]
fn a_heal_that_reboots_reports_every_node_it_touched() {
    let mut c = config(1);
    c.faults = vec![
        TimedFault::at(50, Fault::Crash(NodeId(1))),
        TimedFault::at(60, Fault::Crash(NodeId(2))),
    ];
    c.liveness = Some(LivenessConfig {
        heal_at_ms: 500,
        bound_ms: 500,
        require_ok: false,
    });
    let mut observer = NodesAt {
        time: SimTime::from_millis(500),
        nodes: Vec::new(),
    };
    Sim::<Probe>::new(c, pinging(3, 10 * MS, 10)).run_observed(&mut observer);
    for node in [NodeId(1), NodeId(2)] {
        assert!(
            observer.nodes.contains(&node),
            "{node} restarted: {:?}",
            observer.nodes
        );
    }
}

#[test]
fn a_node_s_message_to_itself_is_delivered_under_a_partition() {
    let mut c = config(1);
    c.network.default_link.loss_per_million = 1_000_000;
    c.faults = vec![TimedFault::at(
        1,
        Fault::Partition(Partition::Isolate(NodeId(0))),
    )];
    let mut disks = pinging(2, 10 * MS, 5);
    disks[0].ping = Some((NodeId(0), 10 * MS, 5));
    let mut sim = Sim::<Probe>::new(c, disks);
    sim.run();
    let node = sim.world().node(NodeId(0)).unwrap();
    assert_eq!(pings_received(node), vec![0, 1, 2, 3, 4]);
    let pongs = node.received.len() - 5;
    assert_eq!(pongs, 5, "and its answers to itself too");
}
