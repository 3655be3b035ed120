//! Ticket booking: the correct design passes every fault kind, clock
//! steps far past its margins on a leader cut off from its followers,
//! and failovers over slow replication; each broken variant is caught by
//! the check that names its mistake, with a message that says what went
//! wrong; and, driven one handler at a time, the store lets an expired
//! hold's seats go without anyone cleaning up, and the controller
//! promotes the newest epoch's journal over a longer, older one.

use std::time::Duration;

use models::booking::ledger::{Conflict, OrderId, OrderState};
use models::booking::msg::{Msg, Tx, TxOutcome};
use models::booking::node::{BookingDisk, BookingNode, Timer};
use models::booking::{BookingConfig, BookingDesign, Layout, Variant, WorkloadConfig};
use models::harness::{Harness, Model};
use models::{Design, ModelSection};
use sim_core::testing::{Driver, Story};
use sim_core::{
    ClockConfig, ConnEvent, FaultKind, FaultWeights, Latency, LivenessConfig, NemesisConfig,
    NodeId, SimConfig, Verdict, Violation,
};

fn config(variant: Variant) -> BookingConfig {
    BookingConfig {
        variant,
        seats: 60,
        zone_capacity: 15,
        workload: WorkloadConfig {
            users: 200,
            ..WorkloadConfig::default()
        },
        ..BookingConfig::default()
    }
}

fn harness(config: BookingConfig) -> Harness<BookingDesign> {
    config.validate().expect("a valid configuration");
    Harness::new(BookingDesign::new(config))
}

/// Thirteen simulated seconds, the heal at 7 s with a 4 s bound, over 1%
/// loss and 1% duplication.
fn sim(seed: u64) -> SimConfig {
    let mut c = SimConfig::new(seed);
    c.duration = Duration::from_secs(13);
    c.network.default_link.loss_per_million = 10_000;
    c.network.default_link.duplicate_per_million = 10_000;
    c.liveness = Some(LivenessConfig {
        heal_at_ms: 7_000,
        bound_ms: 4_000,
        require_ok: false,
    });
    c
}

fn nemesis(design: &Harness<BookingDesign>, weights: FaultWeights) -> NemesisConfig {
    NemesisConfig {
        targets: design.default_fault_targets(),
        interval_ms_min: 100,
        interval_ms_max: 600,
        duration_ms_min: 50,
        duration_ms_max: 800,
        max_down: 1,
        weights,
        clock_step_us_max: 50_000,
        swarm: false,
        ..NemesisConfig::default()
    }
}

fn first_violation(
    design: &Harness<BookingDesign>,
    seeds: std::ops::Range<u64>,
    setup: impl Fn(&mut SimConfig),
) -> Violation {
    for seed in seeds.clone() {
        let mut c = sim(seed);
        setup(&mut c);
        if let Verdict::Violated(v) = design.run(c, false).verdict {
            return v;
        }
    }
    panic!("no seed in {seeds:?} caught it");
}

fn passes(
    design: &Harness<BookingDesign>,
    seeds: std::ops::Range<u64>,
    setup: impl Fn(&mut SimConfig),
) {
    for seed in seeds {
        let mut c = sim(seed);
        setup(&mut c);
        let run = design.run(c, false);
        assert_eq!(run.verdict, Verdict::Pass, "seed {seed}");
        assert!(
            run.metrics["seats_sold_in_store"] > 10.0,
            "seed {seed}: seats were sold: {:?}",
            run.metrics
        );
    }
}

#[test]
fn the_correct_design_passes_every_fault_kind() {
    let design = harness(config(Variant::Correct));
    for kind in FaultKind::ALL {
        passes(&design, 0..2, |c| {
            c.nemesis = Some(nemesis(&design, FaultWeights::only(kind)))
        });
    }
}

/// store-0, the leader, cut off from the other stores and the controller
/// (app-0 still reaches it, and only it), its wall clock stepped back 3 s
/// at the same moment; healed at 4.5 s.
fn deposed_leader_stepped_back(c: &mut SimConfig, layout: Layout) {
    c.faults = Story::new()
        .split(
            1_500,
            vec![
                vec![layout.store(0), layout.app(0)],
                vec![
                    layout.store(1),
                    layout.store(2),
                    layout.controller(),
                    layout.app(1),
                    layout.app(2),
                ],
            ],
        )
        .clock_step(1_500, layout.store(0), -3_000_000)
        .heal(4_500)
        .faults();
    c.liveness = Some(LivenessConfig {
        heal_at_ms: 5_000,
        bound_ms: 5_000,
        require_ok: false,
    });
}

#[test]
fn a_deposed_leader_whose_clock_steps_back_vouches_for_nothing_unless_its_lease_reads_the_wall_clock()
 {
    let correct = harness(config(Variant::Correct));
    let layout = Layout::of(correct.model().config());
    passes(&correct, 0..5, |c| deposed_leader_stepped_back(c, layout));

    let broken = harness(config(Variant::WallClockLease));
    let v = first_violation(&broken, 0..30, |c| deposed_leader_stepped_back(c, layout));
    assert_eq!(v.invariant, "seat_map_fresh", "{}", v.message);
    assert!(
        v.message.starts_with("app-0 served a seat map"),
        "{}",
        v.message
    );
    assert!(v.message.contains("as current, but entry"), "{}", v.message);
}

#[test]
fn clock_steps_far_past_the_margin_on_the_store_do_not_sell_a_seat_twice() {
    // Seconds, where the margin is 200 ms: expiry is judged on the leader's
    // clock, but never earlier than a time the journal already holds.
    let design = harness(config(Variant::Correct));
    passes(&design, 0..4, |c| {
        let mut n = nemesis(
            &design,
            FaultWeights {
                clock_step: 3,
                partition: 1,
                ..FaultWeights::ZERO
            },
        );
        n.targets = Layout::of(design.model().config()).stores().collect();
        n.clock_step_us_max = 3_000_000;
        c.nemesis = Some(n);
    });
}

/// Slow links everywhere (20-80 ms), the store crashed and cut off for
/// longer than the failover timeout.
fn slow_failovers(c: &mut SimConfig, design: &Harness<BookingDesign>) {
    c.network.default_link.latency = Latency::Uniform {
        min_us: 20_000,
        max_us: 80_000,
    };
    let mut n = nemesis(
        design,
        FaultWeights {
            crash: 3,
            partition: 1,
            ..FaultWeights::ZERO
        },
    );
    n.targets = Layout::of(design.model().config()).stores().collect();
    (n.interval_ms_min, n.interval_ms_max) = (300, 900);
    (n.duration_ms_min, n.duration_ms_max) = (700, 1_500);
    c.nemesis = Some(n);
}

#[test]
fn failovers_keep_every_acknowledged_entry_unless_replication_is_asynchronous() {
    let correct = harness(config(Variant::Correct));
    passes(&correct, 0..4, |c| slow_failovers(c, &correct));

    let broken = harness(config(Variant::AsyncReplication));
    let v = first_violation(&broken, 0..40, |c| slow_failovers(c, &broken));
    assert!(
        ["seat_sold_once", "zone_capacity", "money_conserved"].contains(&v.invariant.as_str()),
        "{}: {}",
        v.invariant,
        v.message
    );
}

#[test]
fn check_then_write_sells_a_seat_twice() {
    let design = harness(config(Variant::CheckThenWrite));
    let v = first_violation(&design, 0..10, |_| {});
    assert_eq!(v.invariant, "seat_sold_once", "{}", v.message);
    assert!(v.message.contains("is on two tickets"), "{}", v.message);
}

#[test]
fn a_zone_counted_then_written_blind_oversells() {
    let mut c = config(Variant::ZoneNotAtomic);
    c.zone_capacity = 10;
    c.workload.zone_per_million = 800_000;
    let design = harness(c);
    let v = first_violation(&design, 0..30, |_| {});
    assert_eq!(v.invariant, "zone_capacity", "{}", v.message);
    assert!(v.message.contains("but the zone holds 10"), "{}", v.message);
}

/// App servers' clocks 1.5 s behind; 1 s holds; payments that take
/// 0.5-1.8 s.
fn skewed(variant: Variant) -> (Harness<BookingDesign>, impl Fn(&mut SimConfig)) {
    let mut c = config(variant);
    c.seats = 30;
    c.hold_ms = 1_000;
    c.hold_margin_ms = 100;
    c.payment_deadline_ms = 2_000;
    c.payment_latency = Latency::Uniform {
        min_us: 500_000,
        max_us: 1_800_000,
    };
    c.workload.users = 300;
    c.workload.think_ms = 200;
    let design = harness(c);
    let names = design.node_names();
    let apps: Vec<usize> = Layout::of(design.model().config())
        .apps()
        .map(NodeId::index)
        .collect();
    let setup = move |c: &mut SimConfig| {
        c.clocks = vec![ClockConfig::default(); names.len()];
        for &app in &apps {
            c.clocks[app].offset_us = -1_500_000;
        }
    };
    (design, setup)
}

#[test]
fn expiry_checked_on_a_skewed_app_clock_sells_a_seat_twice() {
    let (correct, setup) = skewed(Variant::Correct);
    passes(&correct, 0..4, &setup);
    let (broken, setup) = skewed(Variant::SkewedExpiry);
    let v = first_violation(&broken, 0..60, setup);
    assert!(
        ["seat_sold_once", "zone_capacity"].contains(&v.invariant.as_str()),
        "{}: {}",
        v.invariant,
        v.message
    );
}

#[test]
fn without_a_deadline_a_silent_charge_leaves_an_order_paying() {
    let design = harness(config(Variant::NoPaymentDeadline));
    let v = first_violation(&design, 0..20, |_| {});
    assert!(
        ["money_conserved", "payments_resolved"].contains(&v.invariant.as_str()),
        "{}: {}",
        v.invariant,
        v.message
    );
    assert!(
        v.message.contains("Paying in the store") || v.message.contains("still paying"),
        "{}",
        v.message
    );
}

#[test]
fn a_timeout_taken_as_not_charged_leaves_a_charge_with_no_ticket() {
    let mut c = config(Variant::TimeoutIsNotCharged);
    c.payment_latency = Latency::Uniform {
        min_us: 100_000,
        max_us: 700_000,
    };
    let design = harness(c);
    let v = first_violation(&design, 0..10, |_| {});
    assert_eq!(v.invariant, "money_conserved", "{}", v.message);
    assert!(
        v.message.contains("with neither a ticket nor a refund"),
        "{}",
        v.message
    );
    assert!(v.message.contains("Released in the store"), "{}", v.message);
}

fn crashing_apps(c: &mut SimConfig, design: &Harness<BookingDesign>) {
    let mut n = nemesis(
        design,
        FaultWeights {
            crash: 3,
            shutdown: 1,
            ..FaultWeights::ZERO
        },
    );
    n.targets = Layout::of(design.model().config()).apps().collect();
    c.nemesis = Some(n);
}

#[test]
fn payments_a_dead_server_left_are_finished_only_by_reconciling() {
    let mut c = config(Variant::Correct);
    c.payment_latency = Latency::Uniform {
        min_us: 100_000,
        max_us: 600_000,
    };
    // Users give up before retrying, so no other server takes a payment
    // over on a user's behalf: only the reconciler can finish it.
    (c.workload.request_timeout_ms, c.workload.pay_timeout_ms) = (300, 300);
    let correct = harness(c.clone());
    passes(&correct, 0..4, |s| crashing_apps(s, &correct));
    let reconciled: f64 = (0..4)
        .map(|seed| {
            let mut s = sim(seed);
            crashing_apps(&mut s, &correct);
            correct.run(s, false).metrics["reconciled"]
        })
        .sum();
    assert!(reconciled > 0.0, "the reconciler found payments to finish");

    c.variant = Variant::NoReconcile;
    let broken = harness(c);
    let v = first_violation(&broken, 0..10, |s| crashing_apps(s, &broken));
    assert!(
        ["money_conserved", "payments_resolved"].contains(&v.invariant.as_str()),
        "{}: {}",
        v.invariant,
        v.message
    );
}

// Driven by hand.

fn disks(config: &BookingConfig) -> Vec<BookingDisk> {
    BookingDesign::new(config.clone())
        .nodes()
        .into_iter()
        .map(|(_, d)| d)
        .collect()
}

fn answers(effects: &sim_core::testing::Effects<BookingNode>) -> Vec<(u64, TxOutcome)> {
    effects
        .conn_sends
        .iter()
        .filter_map(|(_, m)| match m {
            Msg::TxDone { id, outcome } => Some((*id, outcome.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn driven_by_hand_an_expired_hold_lets_its_seats_go_with_no_cleanup() {
    let c = BookingConfig {
        stores: 1,
        ..config(Variant::Correct)
    };
    let layout = Layout::of(&c);
    let (store, app) = (layout.store(0), layout.app(0));
    let mut driver = Driver::<BookingNode>::new(disks(&c));
    driver.start(store);
    let conn = driver.connected(app, store);
    let tx = |driver: &mut Driver<BookingNode>, id, tx| {
        let effects = driver.conn_event(store, conn, ConnEvent::Message(Msg::Tx { id, tx }));
        answers(&effects)
    };
    let hold = |order| Tx::Hold {
        order: OrderId(order),
        user: NodeId(99),
        seats: [3, 4].into(),
        zone: 0,
    };
    assert!(matches!(
        tx(&mut driver, 0, hold(1))[..],
        [(0, TxOutcome::Held { .. })]
    ));
    assert_eq!(
        tx(&mut driver, 1, hold(2)),
        vec![(1, TxOutcome::Refused(Conflict::Seat(3)))]
    );
    // The hold lasts hold_ms + hold_margin_ms, and keeps its seats
    // clock_margin_ms more: 2.4 s in all.
    driver.advance(Duration::from_millis(2_300));
    assert_eq!(
        tx(&mut driver, 2, hold(2)),
        vec![(2, TxOutcome::Refused(Conflict::Seat(3)))]
    );
    driver.advance(Duration::from_millis(200));
    assert!(matches!(
        tx(&mut driver, 3, hold(2))[..],
        [(3, TxOutcome::Held { .. })]
    ));
    // The first order can no longer be paid for.
    let late = tx(&mut driver, 4, Tx::StartPaying { order: OrderId(1) });
    assert!(
        matches!(
            &late[..],
            [(
                4,
                TxOutcome::Order {
                    state: OrderState::Held,
                    ..
                } | TxOutcome::Expired
            )]
        ),
        "{late:?}"
    );
}

#[test]
fn driven_by_hand_the_controller_promotes_the_newest_epochs_journal_over_a_longer_one() {
    let c = config(Variant::Correct);
    let layout = Layout::of(&c);
    let controller = layout.controller();
    let mut driver = Driver::<BookingNode>::new(disks(&c));
    driver.start(controller);
    driver.advance(Duration::from_millis(c.failover_after_ms + c.heartbeat_ms));
    let asked = driver.fire(controller, Timer::Watch);
    let epoch = asked
        .sends
        .iter()
        .find_map(|(_, m)| match m {
            Msg::Prepare { epoch } => Some(*epoch),
            _ => None,
        })
        .expect("a failover began");
    // store-1 copied epoch 1's journal; store-2 holds a longer one, kept
    // from epoch 0 (entries nobody committed).
    driver.deliver(
        controller,
        layout.store(2),
        Msg::Prepared {
            epoch,
            log_epoch: 0,
            len: 9,
        },
    );
    let promoted = driver.deliver(
        controller,
        layout.store(1),
        Msg::Prepared {
            epoch,
            log_epoch: 1,
            len: 5,
        },
    );
    let to: Vec<NodeId> = promoted
        .sends
        .iter()
        .filter(|(_, m)| matches!(m, Msg::Promote { .. }))
        .map(|(to, _)| *to)
        .collect();
    assert_eq!(to, vec![layout.store(1)]);
}

/// A change that breaks a configuration.
type Breaks = fn(&mut BookingConfig);

#[test]
fn the_model_section_rejects_what_cannot_work() {
    let cases: [(&str, Breaks); 5] = [
        ("stores", |c| c.stores = 4),
        ("failover_after_ms", |c| {
            c.failover_after_ms = c.heartbeat_ms
        }),
        ("payment_decline_per_million", |c| {
            c.payment_decline_per_million = 2_000_000
        }),
        ("seats", |c| (c.seats, c.zone_capacity) = (0, 0)),
        ("workload", |c| c.workload.max_seats = 0),
    ];
    for (field, break_it) in cases {
        let mut c = BookingConfig::default();
        break_it(&mut c);
        let e = c.validate().expect_err(field);
        assert!(e.to_string().contains(field), "{field}: {e}");
    }
}
