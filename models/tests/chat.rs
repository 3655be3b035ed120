//! Chat: the correct design passes every fault kind in every delivery
//! mode, with the heal demanding that sends succeed and every message
//! reach every member; each broken variant is caught by the check that
//! names its mistake, with a message that says what the user saw; and,
//! driven one handler at a time, the store gives a retry its first
//! copy's place, a receiver holds a message that arrives ahead of a gap
//! and asks for what is missing, and a server that loses the store closes
//! its push connections.

use std::time::Duration;

use models::chat::msg::{Message, Msg, Reply, Request};
use models::chat::node::{ChatDisk, ChatNode, Timer};
use models::chat::{ChatConfig, ChatDesign, Delivery, Layout, Variant, WorkloadConfig};
use models::harness::{Harness, Model};
use models::{Design, ModelSection};
use sim_core::testing::{Driver, Effects, Story};
use sim_core::{
    ClockConfig, CloseReason, ConnEvent, FaultKind, FaultWeights, LivenessConfig, NemesisConfig,
    NodeId, SimConfig, Verdict, Violation,
};

fn config(variant: Variant, delivery: Delivery) -> ChatConfig {
    ChatConfig {
        variant,
        delivery,
        poll_interval_ms: 200,
        workload: WorkloadConfig {
            send_every_ms: 100,
            ..WorkloadConfig::default()
        },
        ..ChatConfig::default()
    }
}

fn harness(config: ChatConfig) -> Harness<ChatDesign> {
    config.validate().expect("a valid configuration");
    Harness::new(ChatDesign::new(config))
}

/// Six simulated seconds, the heal at 3 s with a 2.5 s bound; the store's
/// syncs take 1-5 ms.
fn sim(seed: u64, design: &Harness<ChatDesign>) -> SimConfig {
    let mut c = SimConfig::new(seed);
    c.duration = Duration::from_secs(6);
    c.disks = design.default_disks();
    c.disks[0].sync_latency = sim_core::Latency::Uniform {
        min_us: 1_000,
        max_us: 5_000,
    };
    c.liveness = Some(LivenessConfig {
        heal_at_ms: 3_000,
        bound_ms: 2_500,
        require_ok: true,
    });
    c
}

fn nemesis(design: &Harness<ChatDesign>, weights: FaultWeights) -> NemesisConfig {
    NemesisConfig {
        targets: design.default_fault_targets(),
        interval_ms_min: 30,
        interval_ms_max: 300,
        duration_ms_min: 30,
        duration_ms_max: 500,
        max_down: 1,
        weights,
        swarm: false,
        ..NemesisConfig::default()
    }
}

fn first_violation(
    design: &Harness<ChatDesign>,
    seeds: std::ops::Range<u64>,
    setup: impl Fn(&mut SimConfig),
) -> Violation {
    for seed in seeds.clone() {
        let mut c = sim(seed, design);
        setup(&mut c);
        if let Verdict::Violated(v) = design.run(c, false).verdict {
            return v;
        }
    }
    panic!("no seed in {seeds:?} caught it");
}

#[test]
fn the_correct_design_passes_every_fault_kind_in_every_delivery_mode() {
    for delivery in [Delivery::Push, Delivery::LongPoll, Delivery::ShortPoll] {
        let design = harness(config(Variant::Correct, delivery));
        for kind in FaultKind::ALL {
            for seed in 0..3 {
                let mut c = sim(seed, &design);
                c.nemesis = Some(nemesis(&design, FaultWeights::only(kind)));
                c.network.default_link.loss_per_million = 10_000;
                c.network.default_link.duplicate_per_million = 10_000;
                let run = design.run(c, false);
                assert_eq!(
                    run.verdict,
                    Verdict::Pass,
                    "{delivery:?}, {kind:?}, seed {seed}"
                );
                assert!(
                    run.metrics["messages_shown"] > 50.0,
                    "{delivery:?}, {kind:?}: messages flowed"
                );
            }
        }
    }
}

#[test]
fn push_clients_reconnect_and_resync_after_resets() {
    let design = harness(config(Variant::Correct, Delivery::Push));
    let mut c = sim(1, &design);
    let layout = Layout::of(design.model().config());
    c.faults = Story::new()
        .reset_connections(500, layout.server(0))
        .reset_connections(1_000, layout.server(1))
        .reset_connections(1_500, layout.server(2))
        .faults();
    let run = design.run(c, false);
    assert_eq!(run.verdict, Verdict::Pass);
    assert!(run.metrics["reconnects"] >= 3.0, "{:?}", run.metrics);
}

#[test]
fn without_idempotency_a_retried_message_is_shown_twice() {
    let design = harness(config(Variant::NoIdempotency, Delivery::Push));
    let v = first_violation(&design, 0..30, |c| {
        c.network.default_link.loss_per_million = 50_000
    });
    assert_eq!(v.invariant, "shown_once", "{}", v.message);
    assert!(
        v.message.contains("'s message") && v.message.ends_with("twice"),
        "{}",
        v.message
    );
}

#[test]
fn a_window_shorter_than_the_retries_lets_a_late_retry_in_twice() {
    let mut broken = config(Variant::ShortIdempotencyWindow, Delivery::Push);
    broken.idempotency_window_ms = 100;
    let design = harness(broken);
    let v = first_violation(&design, 0..30, |c| {
        c.network.default_link.loss_per_million = 50_000
    });
    assert_eq!(v.invariant, "shown_once", "{}", v.message);
    // With a window longer than the retries the same plan is harmless.
    let mut long = config(Variant::ShortIdempotencyWindow, Delivery::Push);
    long.idempotency_window_ms = 60_000;
    let design = harness(long);
    for seed in 0..10 {
        let mut c = sim(seed, &design);
        c.network.default_link.loss_per_million = 50_000;
        assert_eq!(design.run(c, false).verdict, Verdict::Pass, "seed {seed}");
    }
}

#[test]
fn push_without_resync_loses_what_was_sent_while_away() {
    let design = harness(config(Variant::NoResync, Delivery::Push));
    let layout = Layout::of(design.model().config());
    let v = first_violation(&design, 0..30, |c| {
        c.faults = Story::new()
            .reset_connections(800, layout.server(0))
            .reset_connections(1_300, layout.server(1))
            .reset_connections(1_800, layout.server(2))
            .faults();
    });
    assert_eq!(v.invariant, "acknowledged_shown", "{}", v.message);
    assert!(v.message.contains("was never shown by"), "{}", v.message);
}

#[test]
fn showing_on_arrival_without_gap_detection_shows_a_conversation_out_of_order() {
    let design = harness(config(Variant::NoGapDetection, Delivery::Push));
    let v = first_violation(&design, 0..50, |c| {
        c.nemesis = Some(nemesis(
            &design,
            FaultWeights {
                conn_reset: 2,
                conn_stall: 1,
                ..FaultWeights::ZERO
            },
        ));
    });
    assert!(
        ["same_order", "sender_order", "acknowledged_shown"].contains(&v.invariant.as_str()),
        "{}: {}",
        v.invariant,
        v.message
    );
}

#[test]
fn ordering_by_server_clocks_loses_or_misorders_messages() {
    let design = harness(config(Variant::ArrivalOrder, Delivery::Push));
    let layout = Layout::of(design.model().config());
    let v = first_violation(&design, 0..20, |c| {
        c.clocks = vec![ClockConfig::default(); design.node_names().len()];
        c.clocks[layout.server(0).index()].offset_us = 40_000;
        c.clocks[layout.server(1).index()].offset_us = -40_000;
    });
    assert!(
        ["acknowledged_shown", "sender_order", "same_order"].contains(&v.invariant.as_str()),
        "{}: {}",
        v.invariant,
        v.message
    );
    // With every clock exact and one server, arrival stamps are a
    // sequence of their own, and nothing goes wrong.
    let mut one = config(Variant::ArrivalOrder, Delivery::Push);
    one.servers = 1;
    let design = harness(one);
    assert_eq!(design.run(sim(0, &design), false).verdict, Verdict::Pass);
}

// Handlers driven by hand.

fn disks(config: &ChatConfig) -> Vec<ChatDisk> {
    ChatDesign::new(config.clone())
        .nodes()
        .into_iter()
        .map(|(_, d)| d)
        .collect()
}

fn appended(effects: &Effects<ChatNode>) -> Vec<(u64, u64)> {
    effects
        .conn_sends
        .iter()
        .filter_map(|(_, m)| match m {
            Msg::Appended { item, order, .. } => Some((*item, *order)),
            _ => None,
        })
        .collect()
}

#[test]
fn driven_by_hand_the_store_gives_a_retry_its_first_copy_s_place() {
    for (variant, second_order) in [(Variant::Correct, 1), (Variant::NoIdempotency, 2)] {
        let c = config(variant, Delivery::Push);
        let mut driver = Driver::<ChatNode>::new(disks(&c));
        let server = Layout::of(&c).server(0);
        let conn = driver.connected(server, Layout::STORE);
        let append = |request| Msg::Append {
            request,
            conv: 0,
            item: 77,
            sender: NodeId(9),
            stamp: 1,
        };
        let first = driver.conn_event(Layout::STORE, conn, ConnEvent::Message(append(0)));
        assert!(
            appended(&first).is_empty(),
            "{variant:?}: acknowledged only once synced"
        );
        let synced = first.syncs.into_iter().next().expect("a sync");
        assert!(matches!(synced, Timer::Synced { .. }));
        let done = driver.fire(Layout::STORE, synced);
        assert_eq!(appended(&done), vec![(77, 1)], "{variant:?}");
        let retry = driver.conn_event(Layout::STORE, conn, ConnEvent::Message(append(1)));
        let at_once = appended(&retry);
        let answer = match retry.syncs.into_iter().next() {
            Some(sync) => appended(&driver.fire(Layout::STORE, sync)),
            None => at_once,
        };
        assert_eq!(answer, vec![(77, second_order)], "{variant:?}");
    }
}

fn pushed(conv: u32, order: u64) -> ConnEvent<Msg> {
    ConnEvent::Message(Msg::Reply(Reply::Pushed(Message {
        conv,
        item: 1_000 + order,
        sender: NodeId(9),
        order,
    })))
}

#[test]
fn driven_by_hand_a_receiver_holds_a_message_ahead_of_a_gap_and_fetches_the_gap() {
    for (variant, shows_at_once) in [(Variant::Correct, false), (Variant::NoGapDetection, true)] {
        let c = config(variant, Delivery::Push);
        let client = Layout::of(&c).client(0);
        let mut driver = Driver::<ChatNode>::new(disks(&c));
        let conn = client_connection(&mut driver, client, &c);
        // Message 2 of conversation 0 arrives before message 1.
        let ahead = driver.conn_event(client, conn, pushed(0, 2));
        let fetched = ahead.conn_sends.iter().any(|(_, m)| {
            matches!(
                m,
                Msg::Request(Request::Fetch {
                    cursor: (0, Some(0)),
                    ..
                })
            )
        });
        assert_eq!(fetched, !shows_at_once, "{variant:?}: asks for the gap");
        let shown_early = driver.history_shown().len();
        assert_eq!(
            shown_early,
            usize::from(shows_at_once),
            "{variant:?}: shown before its turn?"
        );
        driver.conn_event(client, conn, pushed(0, 1));
        let shown: Vec<u64> = driver.history_shown().iter().map(|s| s.item).collect();
        let expected = if shows_at_once {
            vec![1_002, 1_001]
        } else {
            vec![1_001, 1_002]
        };
        assert_eq!(shown, expected, "{variant:?}");
        // A copy of a message already shown is dropped.
        driver.conn_event(client, conn, pushed(0, 1));
        assert_eq!(driver.history_shown().len(), 2, "{variant:?}");
    }
}

/// Starts `client`, lets it ask for a server and connect, opens its
/// connection, and returns it.
fn client_connection(
    driver: &mut Driver<ChatNode>,
    client: NodeId,
    c: &ChatConfig,
) -> sim_core::ConnId {
    let layout = Layout::of(c);
    let started = driver.start(client);
    let request = started
        .sends
        .iter()
        .find_map(|(_, m)| match m {
            Msg::Assign { request } => Some(*request),
            _ => None,
        })
        .expect("a push client asks for a server");
    let assigned = driver.deliver(
        client,
        Layout::LB,
        Msg::Assigned {
            request,
            server: layout.server(0),
        },
    );
    let (conn, _) = assigned.connects[0];
    let opened = driver.conn_event(
        client,
        conn,
        ConnEvent::Opened {
            peer: layout.server(0),
        },
    );
    assert!(
        opened
            .conn_sends
            .iter()
            .any(|(_, m)| matches!(m, Msg::Request(Request::Subscribe { .. }))),
        "it subscribes once connected"
    );
    conn
}

#[test]
fn driven_by_hand_a_server_that_loses_the_store_closes_its_push_connections() {
    let c = config(Variant::Correct, Delivery::Push);
    let layout = Layout::of(&c);
    let server = layout.server(0);
    let mut driver = Driver::<ChatNode>::new(disks(&c));
    let started = driver.start(server);
    let (store, to) = started.connects[0];
    assert_eq!(to, Layout::STORE);
    driver.conn_event(
        server,
        store,
        ConnEvent::Opened {
            peer: Layout::STORE,
        },
    );
    let client = driver.connected(layout.client(0), server);
    driver.conn_event(
        server,
        client,
        ConnEvent::Accepted {
            peer: layout.client(0),
        },
    );
    let lost = driver.conn_event(server, store, ConnEvent::Closed(CloseReason::Broken));
    assert_eq!(
        lost.closes,
        vec![client],
        "every push client must resync elsewhere"
    );
    assert!(
        lost.timers
            .iter()
            .any(|(_, t)| matches!(t, Timer::StoreReconnect)),
        "and it reconnects to the store"
    );
}

#[test]
fn the_model_section_rejects_what_cannot_work() {
    let bad = [
        (
            ChatConfig {
                variant: Variant::NoResync,
                delivery: Delivery::LongPoll,
                ..ChatConfig::default()
            },
            "variant",
        ),
        (
            ChatConfig {
                reconnect_min_ms: 500,
                reconnect_max_ms: 100,
                ..ChatConfig::default()
            },
            "reconnect_max_ms",
        ),
        (
            ChatConfig {
                workload: WorkloadConfig {
                    group_size: 9,
                    ..WorkloadConfig::default()
                },
                ..ChatConfig::default()
            },
            "workload.group_size",
        ),
    ];
    for (config, field) in bad {
        let e = config.validate().expect_err(field);
        assert_eq!(e.path, field, "{e}");
    }
}
