//! Connections, as a design sees them: in order, at most once and never
//! lost while up, even over a lossy, duplicating, reordering link; a
//! reset, a partition or a crash breaks them, loses what was in flight,
//! and tells each end still up after its own detection delay; a connect
//! to a node that is down is refused; a graceful close arrives behind the
//! data; a stall holds everything and then lets it through in order; and
//! plain messages keep their datagram behaviour beside them.

use std::time::Duration;

use sim_core::testing::Story;
use sim_core::{
    CloseReason, ConnEvent, ConnId, Ctx, Latency, LinkConfig, Node, NodeId, Sim, SimConfig,
};

const OPENER: NodeId = NodeId(0);
const ACCEPTOR: NodeId = NodeId(1);

/// What a node saw, on its disk so it survives a crash: (true-ish local
/// time in ns, what happened).
#[derive(Clone, Debug, Default)]
struct Disk {
    /// Opener only: send `count` numbered messages, one every `every`,
    /// starting once the connection is up; close after them if `close`.
    script: Option<Script>,
    log: Vec<(i64, Seen)>,
    /// Send results: (number, accepted by `send_on`, local time in ns).
    sends: Vec<(u32, bool, i64)>,
}

#[derive(Clone, Copy, Debug)]
struct Script {
    to: NodeId,
    count: u32,
    every: Duration,
    close: bool,
    /// Send the first message right after `connect`, before `Opened`.
    eager: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Seen {
    Opened,
    Accepted(NodeId),
    Got(u32),
    Closed(CloseReason),
    Datagram(u32),
}

#[derive(Debug, Default)]
struct Tester {
    conn: Option<ConnId>,
    next: u32,
}

#[derive(Debug, serde::Serialize)]
struct Tick;

impl Node for Tester {
    type Durable = Disk;
    type Msg = u32;
    type Timer = Tick;
    type Op = ();
    type Ret = ();

    fn boot(_id: NodeId, _disk: &Disk) -> Self {
        Tester::default()
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Some(script) = ctx.durable().script {
            let conn = ctx.connect(script.to);
            self.conn = Some(conn);
            if script.eager {
                self.send_next(ctx);
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _from: NodeId, msg: u32) {
        log(ctx, Seen::Datagram(msg));
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: Tick) {
        self.send_next(ctx);
    }

    fn on_connection(&mut self, ctx: &mut Ctx<'_, Self>, conn: ConnId, event: ConnEvent<u32>) {
        let seen = match event {
            ConnEvent::Opened { .. } => {
                if self.next == 0 || ctx.durable().script.is_some_and(|s| s.eager) {
                    ctx.set_timer(Duration::ZERO, Tick);
                }
                Seen::Opened
            }
            ConnEvent::Accepted { peer } => {
                self.conn = Some(conn);
                Seen::Accepted(peer)
            }
            ConnEvent::Message(n) => Seen::Got(n),
            ConnEvent::Closed(reason) => Seen::Closed(reason),
        };
        log(ctx, seen);
    }
}

impl Tester {
    fn send_next(&mut self, ctx: &mut Ctx<'_, Self>) {
        let (Some(script), Some(conn)) = (ctx.durable().script, self.conn) else {
            return;
        };
        if self.next >= script.count {
            if script.close {
                ctx.close(conn);
            }
            return;
        }
        let n = self.next;
        self.next += 1;
        let accepted = ctx.send_on(conn, n);
        let now = ctx.now().as_nanos();
        ctx.durable().sends.push((n, accepted, now));
        // A datagram beside it, to the same peer.
        ctx.send(script.to, 1_000_000 + n);
        if self.next > 1 || !script.eager {
            ctx.set_timer(script.every, Tick);
        }
    }
}

fn log(ctx: &mut Ctx<'_, Tester>, seen: Seen) {
    let now = ctx.now().as_nanos();
    ctx.durable().log.push((now, seen));
}

fn script(count: u32) -> Script {
    Script {
        to: ACCEPTOR,
        count,
        every: Duration::from_millis(1),
        close: false,
        eager: false,
    }
}

/// Two nodes over a link that loses, duplicates and reorders: latency
/// 1-50 ms per message, 20% loss, 20% duplicates.
fn config(seed: u64) -> SimConfig {
    let mut c = SimConfig::new(seed);
    c.duration = Duration::from_secs(3);
    c.network.default_link = LinkConfig {
        latency: Latency::Uniform {
            min_us: 1_000,
            max_us: 50_000,
        },
        loss_per_million: 200_000,
        duplicate_per_million: 200_000,
        fifo: false,
    };
    c
}

type Log = Vec<(i64, Seen)>;

/// What each end saw on its connection (datagrams left out), and the
/// opener's sends.
fn run(config: SimConfig, script: Script) -> (Log, Log, Vec<(u32, bool, i64)>) {
    let disks = vec![
        Disk {
            script: Some(script),
            ..Disk::default()
        },
        Disk::default(),
    ];
    let mut sim = Sim::<Tester>::new(config, disks);
    sim.run();
    let world = sim.world();
    let opener = world.durable(OPENER).clone();
    let acceptor = world.durable(ACCEPTOR).log.clone();
    (conn_only(opener.log), conn_only(acceptor), opener.sends)
}

fn conn_only(log: Log) -> Log {
    log.into_iter()
        .filter(|(_, s)| !matches!(s, Seen::Datagram(_)))
        .collect()
}

/// The datagrams a node received, in arrival order.
fn datagrams(config: SimConfig, script: Script) -> Vec<u32> {
    let disks = vec![
        Disk {
            script: Some(script),
            ..Disk::default()
        },
        Disk::default(),
    ];
    let mut sim = Sim::<Tester>::new(config, disks);
    sim.run();
    sim.world()
        .durable(ACCEPTOR)
        .log
        .iter()
        .filter_map(|(_, s)| match s {
            Seen::Datagram(n) => Some(n - 1_000_000),
            _ => None,
        })
        .collect()
}

fn got(log: &[(i64, Seen)]) -> Vec<u32> {
    log.iter()
        .filter_map(|(_, s)| match s {
            Seen::Got(n) => Some(*n),
            _ => None,
        })
        .collect()
}

fn closed(log: &[(i64, Seen)]) -> Vec<(i64, CloseReason)> {
    log.iter()
        .filter_map(|(t, s)| match s {
            Seen::Closed(r) => Some((*t, *r)),
            _ => None,
        })
        .collect()
}

#[test]
fn while_up_a_connection_delivers_everything_once_in_order_over_a_bad_link() {
    for seed in 0..5 {
        let (opener, acceptor, _) = run(config(seed), script(300));
        assert_eq!(opener[0].1, Seen::Opened, "seed {seed}");
        assert_eq!(acceptor[0].1, Seen::Accepted(OPENER), "seed {seed}");
        assert_eq!(got(&acceptor), (0..300).collect::<Vec<_>>(), "seed {seed}");
        // The datagrams beside it were lost, duplicated and reordered.
        let datagrams = datagrams(config(seed), script(300));
        let mut sorted = datagrams.clone();
        sorted.sort();
        sorted.dedup();
        assert!(sorted.len() < 300, "seed {seed}: some datagrams lost");
        assert!(
            datagrams.len() > sorted.len(),
            "seed {seed}: some duplicated"
        );
        assert_ne!(datagrams, sorted, "seed {seed}: some reordered");
    }
}

#[test]
fn what_is_sent_before_the_open_completes_arrives_after_it_in_order() {
    let eager = Script {
        eager: true,
        ..script(50)
    };
    let (_, acceptor, sends) = run(config(3), eager);
    assert!(sends[0].1, "sending on an opening connection is accepted");
    assert!(sends[0].2 < 1_000_000, "before the open could complete");
    assert_eq!(acceptor[0].1, Seen::Accepted(OPENER));
    assert_eq!(got(&acceptor), (0..50).collect::<Vec<_>>());
}

#[test]
fn a_reset_loses_what_was_in_flight_and_tells_both_ends_each_in_its_own_time() {
    let mut broke_at_different_times = false;
    for seed in 0..10 {
        let mut c = config(seed);
        c.faults = Story::new().reset_connections(500, ACCEPTOR).faults();
        let (opener, acceptor, sends) = run(c, script(2_000));
        let (o, a) = (closed(&opener), closed(&acceptor));
        assert_eq!(o.len(), 1, "seed {seed}: the opener is told once: {o:?}");
        assert_eq!(a.len(), 1, "seed {seed}: the acceptor is told once: {a:?}");
        assert_eq!((o[0].1, a[0].1), (CloseReason::Broken, CloseReason::Broken));
        let reset = 500_000_000;
        for (at, _) in [o[0], a[0]] {
            assert!(
                (reset + 50_000_000..=reset + 500_000_000).contains(&at),
                "seed {seed}: told within the detection delay, at {at}"
            );
        }
        broke_at_different_times |= o[0].0 != a[0].0;
        // The acceptor got a prefix: in order, nothing after the break.
        let received = got(&acceptor);
        assert_eq!(received, (0..received.len() as u32).collect::<Vec<_>>());
        let last_got = acceptor
            .iter()
            .filter(|(_, s)| matches!(s, Seen::Got(_)))
            .map(|(t, _)| *t)
            .max()
            .unwrap();
        assert!(
            last_got <= reset,
            "seed {seed}: nothing arrives after the reset"
        );
        // Sent before the break but not delivered: lost in flight.
        let sent_before = sends.iter().filter(|(_, _, t)| *t < reset).count();
        assert!(
            received.len() < sent_before,
            "seed {seed}: some in flight were lost"
        );
        // Until the opener was told, it believed the connection up: its
        // sends were taken (and lost); once told, they are refused.
        let told = o[0].0;
        for &(n, ok, t) in &sends {
            assert_eq!(ok, t < told, "seed {seed}: send {n} at {t}, told at {told}");
        }
        assert!(
            sends.iter().any(|&(_, _, t)| (reset..told).contains(&t)),
            "seed {seed}: it sent into the broken connection before it knew"
        );
    }
    assert!(
        broke_at_different_times,
        "each end draws its own detection delay"
    );
}

#[test]
fn a_partition_breaks_the_connection_and_healing_does_not_mend_it() {
    let mut c = config(1);
    c.faults = Story::new().isolate(400, ACCEPTOR).lasting(100).faults();
    let (opener, acceptor, _) = run(c, script(2_000));
    assert_eq!(closed(&opener).len(), 1);
    assert_eq!(closed(&acceptor).len(), 1);
    let received = got(&acceptor);
    assert!(
        received.len() < 500,
        "nothing after the partition: {}",
        received.len()
    );
}

#[test]
fn a_crash_breaks_it_the_survivor_is_told_and_the_restarted_node_has_no_old_connection() {
    let mut c = config(2);
    c.faults = Story::new().crash(300, ACCEPTOR).lasting(50).faults();
    let (opener, acceptor, _) = run(c, script(2_000));
    let o = closed(&opener);
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].1, CloseReason::Broken);
    assert!(o[0].0 >= 300_000_000 + 50_000_000);
    assert!(
        closed(&acceptor).is_empty(),
        "the crashed end is not told: it is gone"
    );
    let after_crash = acceptor.iter().filter(|(t, _)| *t > 300_000_000).count();
    assert_eq!(
        after_crash, 0,
        "nothing of the old connection reaches the new boot"
    );
}

#[test]
fn connecting_to_a_node_that_is_down_is_refused() {
    let mut c = config(0);
    c.faults = Story::new().crash(0, ACCEPTOR).faults();
    let (opener, acceptor, _) = run(c, script(10));
    assert_eq!(
        closed(&opener).iter().map(|(_, r)| *r).collect::<Vec<_>>(),
        vec![CloseReason::Refused]
    );
    assert!(acceptor.is_empty());
}

#[test]
fn a_graceful_close_arrives_behind_everything_sent_before_it() {
    for seed in 0..5 {
        let close = Script {
            close: true,
            ..script(100)
        };
        let (opener, acceptor, _) = run(config(seed), close);
        assert_eq!(got(&acceptor), (0..100).collect::<Vec<_>>(), "seed {seed}");
        let last = acceptor.last().unwrap();
        assert_eq!(last.1, Seen::Closed(CloseReason::ByPeer), "seed {seed}");
        assert!(
            closed(&opener).is_empty(),
            "the closing end is not told again"
        );
    }
}

#[test]
fn a_stall_holds_everything_then_lets_it_through_in_order() {
    let mut c = config(4);
    c.faults = Story::new()
        .stall_connections(200, OPENER)
        .lasting(300)
        .faults();
    let (_, acceptor, _) = run(c, script(1_000));
    assert_eq!(
        got(&acceptor),
        (0..1_000).collect::<Vec<_>>(),
        "nothing lost, in order"
    );
    let during: Vec<i64> = acceptor
        .iter()
        .filter(|(t, s)| {
            matches!(s, Seen::Got(_)) && (200_000_000 + 60_000_000..500_000_000).contains(t)
        })
        .map(|(t, _)| *t)
        .collect();
    assert!(
        during.is_empty(),
        "nothing arrives while stalled: {during:?}"
    );
    let at_release = acceptor
        .iter()
        .filter(|(t, s)| matches!(s, Seen::Got(_)) && *t == 500_000_000)
        .count();
    assert!(
        at_release > 100,
        "what was held arrives when the stall ends: {at_release}"
    );
}

#[test]
fn the_liveness_phase_ends_every_stall() {
    let mut c = config(5);
    c.faults = Story::new().stall_connections(200, OPENER).faults(); // no duration
    c.liveness = Some(sim_core::LivenessConfig {
        heal_at_ms: 1_000,
        bound_ms: 500,
        require_ok: false,
    });
    let (_, acceptor, _) = run(c, script(1_500));
    assert_eq!(got(&acceptor), (0..1_500).collect::<Vec<_>>());
}
