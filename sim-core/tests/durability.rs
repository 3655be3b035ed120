//! What survives: buffered writes only once synced, a clean shutdown keeps
//! everything, a crash runs no handler, and a restarted node knows only
//! its disk. Also the two clocks: the monotonic reading ignores steps.

use std::time::Duration;

use sim_core::trace::TraceKind;
use sim_core::{
    ClockConfig, Ctx, DiskConfig, Fault, Latency, Node, NodeId, Sim, SimConfig, TimedFault,
};

/// One node's disk: a value it writes, and what it has been through.
#[derive(Clone, Debug, Default)]
struct KeeperDisk {
    /// Set from the timer at 10 ms.
    value: u64,
    /// Sync after writing `value`.
    sync_after_write: bool,
    /// How many times `on_shutdown` ran.
    shutdowns: u64,
}

/// The volatile state: what the node saw.
#[derive(Clone, Debug, Default)]
struct Keeper {
    synced: bool,
    /// What the node could read when it booted: its monotonic reading and
    /// its disk.
    at_boot: Option<(u64, u64, u64)>,
    /// (wall, monotonic) readings at each `Read` timer, in ns.
    readings: Vec<(i64, u64)>,
}

#[derive(Debug, serde::Serialize)]
enum Timer {
    Write,
    Synced,
    Read,
}

impl Node for Keeper {
    type Durable = KeeperDisk;
    type Msg = ();
    type Timer = Timer;
    type Op = ();
    type Ret = ();

    fn boot(_id: NodeId, _disk: &KeeperDisk) -> Self {
        Keeper::default()
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        let disk = ctx.durable().clone();
        self.at_boot = Some((ctx.monotonic().as_nanos(), disk.value, disk.shutdowns));
        ctx.set_timer(Duration::from_millis(10), Timer::Write);
        for ms in [100, 200, 400] {
            ctx.set_timer(Duration::from_millis(ms), Timer::Read);
        }
    }

    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, _msg: ()) {}

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match timer {
            Timer::Write => {
                ctx.durable().value += 7;
                if ctx.durable().sync_after_write {
                    ctx.sync(Timer::Synced);
                }
            }
            Timer::Synced => self.synced = true,
            Timer::Read => self
                .readings
                .push((ctx.now().as_nanos(), ctx.monotonic().as_nanos())),
        }
    }

    fn on_shutdown(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.durable().shutdowns += 1;
    }
}

fn buffered(sync_us: u64) -> DiskConfig {
    DiskConfig {
        buffered: true,
        sync_latency: Latency::Constant { us: sync_us },
    }
}

/// Runs one keeper under `faults` and returns the final durable state,
/// the final node, and the trace kinds.
fn keep(
    disk: DiskConfig,
    sync_after_write: bool,
    faults: Vec<TimedFault>,
) -> (KeeperDisk, Option<Keeper>, Vec<TraceKind>) {
    let mut c = SimConfig::new(1);
    c.duration = Duration::from_secs(1);
    c.disks = vec![disk];
    c.faults = faults;
    c.record_trace = true;
    let initial = KeeperDisk {
        sync_after_write,
        ..KeeperDisk::default()
    };
    let mut sim = Sim::<Keeper>::new(c, vec![initial]);
    let result = sim.run();
    let kinds = result.trace.unwrap().iter().map(|e| e.kind).collect();
    let world = sim.world();
    let durable = world.durable(NodeId(0)).clone();
    (durable, world.node(NodeId(0)).cloned(), kinds)
}

fn crash_and_restart(crash_ms: u64) -> Vec<TimedFault> {
    vec![
        TimedFault::at(crash_ms, Fault::Crash(NodeId(0))),
        TimedFault::at(crash_ms + 10, Fault::Restart(NodeId(0))),
    ]
}

#[test]
fn an_unsynced_write_is_lost_on_a_crash_and_a_synced_one_survives() {
    let (disk, node, _) = keep(buffered(1_000), false, crash_and_restart(50));
    assert_eq!(disk.value, 7, "the restarted node wrote again at 70 ms");
    assert_eq!(
        node.unwrap().at_boot,
        Some((0, 0, 0)),
        "the first write was lost"
    );

    let (_, node, _) = keep(buffered(1_000), true, crash_and_restart(50));
    assert_eq!(
        node.unwrap().at_boot.map(|b| b.1),
        Some(7),
        "synced: it survived"
    );

    let (_, node, kinds) = keep(buffered(100_000), true, crash_and_restart(50));
    assert_eq!(
        node.unwrap().at_boot.map(|b| b.1),
        Some(0),
        "a sync still running at the crash never completed"
    );
    assert!(kinds.contains(&TraceKind::Sync));

    let (_, node, _) = keep(DiskConfig::default(), false, crash_and_restart(50));
    assert_eq!(
        node.unwrap().at_boot.map(|b| b.1),
        Some(7),
        "an unbuffered disk keeps every write"
    );
}

#[test]
fn the_sync_callback_runs_once_the_write_is_on_disk() {
    let (_, node, kinds) = keep(buffered(1_000), true, Vec::new());
    assert!(node.unwrap().synced);
    let sync = kinds.iter().position(|k| *k == TraceKind::Sync).unwrap();
    let synced = kinds.iter().position(|k| *k == TraceKind::Synced).unwrap();
    assert!(sync < synced);
}

#[test]
fn a_shutdown_runs_the_nodes_handler_and_a_crash_does_not() {
    let shutdown = vec![
        TimedFault::at(
            150,
            Fault::Shutdown {
                node: NodeId(0),
                grace_ms: 100,
            },
        ),
        TimedFault::at(300, Fault::Restart(NodeId(0))),
    ];
    let (disk, node, kinds) = keep(buffered(1_000), false, shutdown);
    assert_eq!(disk.shutdowns, 1, "on_shutdown ran");
    let restarted = node.unwrap();
    assert_eq!(
        restarted.at_boot,
        Some((0, 7, 1)),
        "a clean stop kept the unsynced write and the handler's"
    );
    let stop = kinds.iter().position(|k| *k == TraceKind::Stop).unwrap();
    let shut = kinds
        .iter()
        .position(|k| *k == TraceKind::Shutdown)
        .unwrap();
    let timers_between = kinds[shut..stop]
        .iter()
        .filter(|k| **k == TraceKind::Timer)
        .count();
    assert_eq!(
        timers_between, 1,
        "the 200 ms timer fired in the grace period"
    );

    let (disk, _, kinds) = keep(buffered(1_000), false, crash_and_restart(150));
    assert_eq!(disk.shutdowns, 0, "a crash runs no handler");
    assert!(!kinds.contains(&TraceKind::Shutdown));
}

#[test]
fn a_restarted_node_cannot_see_how_often_it_crashed() {
    // Crashed twice, the node boots three times; with nothing new on its
    // disk, every boot sees exactly the same things.
    let mut faults = crash_and_restart(5);
    faults.extend(crash_and_restart(500));
    let (_, node, kinds) = keep(DiskConfig::default(), false, faults);
    assert_eq!(kinds.iter().filter(|k| **k == TraceKind::Crash).count(), 2);
    assert_eq!(node.unwrap().at_boot, Some((0, 7, 0)));
    let (_, first_boot, _) = keep(DiskConfig::default(), false, Vec::new());
    assert_eq!(first_boot.unwrap().at_boot, Some((0, 0, 0)));
}

#[test]
fn the_monotonic_reading_ignores_a_step_while_the_wall_clock_jumps() {
    let mut c = SimConfig::new(1);
    c.duration = Duration::from_secs(1);
    c.clocks = vec![ClockConfig {
        offset_us: 0,
        drift_ppm: 1_000,
    }];
    c.faults = vec![TimedFault::at(
        150,
        Fault::ClockStep {
            node: NodeId(0),
            delta_us: 5_000_000,
        },
    )];
    let mut sim = Sim::<Keeper>::new(c, vec![KeeperDisk::default()]);
    sim.run();
    let readings = &sim.world().node(NodeId(0)).unwrap().readings;
    // Reads at 100 ms and 200 ms on the oscillator (+1000 ppm: 99.9 ms and
    // 199.8 ms true). The step moved the wall clock 5 s; the monotonic
    // reading moved exactly 100 ms, as counted by the oscillator.
    let (wall, mono) = (readings[1].0 - readings[0].0, readings[1].1 - readings[0].1);
    assert!((5_099_000_000..5_101_000_000).contains(&wall), "{wall}");
    assert_eq!(mono, 100_000_000);
}
