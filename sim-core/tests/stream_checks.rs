//! The stream checks on histories that must pass and histories that must
//! fail. Each history is played by scripted clients: at given times they
//! post items (acknowledged, failed or left unknown) and show items, so
//! every case is a short story read top to bottom.

use std::sync::Arc;
use std::time::Duration;

use sim_core::stream::{AcknowledgedShown, SameOrder, SenderOrder, ShownOnce, StreamPost, Streams};
use sim_core::{Checks, Ctx, Node, NodeId, Outcome, Sim, SimConfig, SimTime, Verdict};

const ALICE: NodeId = NodeId(0);
const BOB: NodeId = NodeId(1);
const CAROL: NodeId = NodeId(2);
const STREAM: u64 = 7;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Act {
    /// Post an item: acknowledged at once (`Some(true)`), failed
    /// (`Some(false)`) or never answered (`None`).
    Post(u64, Option<bool>),
    Show(u64),
}

#[derive(Clone, Debug, Default)]
struct Script(Vec<(u64, Act)>);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
struct Post(u64);

impl StreamPost for Post {
    fn post(&self) -> Option<(u64, u64)> {
        Some((STREAM, self.0))
    }
}

#[derive(Debug)]
struct Client;

#[derive(Debug, serde::Serialize)]
struct Step(usize);

impl Node for Client {
    type Durable = Script;
    type Msg = ();
    type Timer = Step;
    type Op = Post;
    type Ret = ();

    fn boot(_id: NodeId, _script: &Script) -> Self {
        Client
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        let times: Vec<u64> = ctx.durable().0.iter().map(|(at, _)| *at).collect();
        for (i, at) in times.into_iter().enumerate() {
            ctx.set_timer(Duration::from_millis(at), Step(i));
        }
    }

    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, _msg: ()) {}

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, Step(i): Step) {
        match ctx.durable().0[i].1 {
            Act::Post(item, answer) => {
                let op = ctx.invoke(Post(item));
                match answer {
                    Some(true) => ctx.complete(op, Outcome::Ok(())),
                    Some(false) => ctx.complete(op, Outcome::Fail),
                    None => {}
                }
            }
            Act::Show(item) => ctx.show(STREAM, item),
        }
    }
}

fn streams() -> Arc<Streams> {
    Arc::new(Streams {
        participants: [(STREAM, vec![ALICE, BOB, CAROL])].into(),
        names: vec!["alice".into(), "bob".into(), "carol".into()],
        noun: "stream",
        item_names: None,
    })
}

/// Runs three scripted clients under every stream check; the liveness
/// phase begins at 1 s with a 500 ms bound, and the run ends at 3 s.
fn verdict(alice: &[(u64, Act)], bob: &[(u64, Act)], carol: &[(u64, Act)]) -> Verdict {
    let mut config = SimConfig::new(0);
    config.duration = Duration::from_secs(3);
    let scripts = [alice, bob, carol].map(|s| Script(s.to_vec())).to_vec();
    let mut sim = Sim::<Client>::new(config, scripts);
    let s = streams();
    sim.add_checks(
        Checks::new()
            .invariant(ShownOnce::new(s.clone()))
            .invariant(SameOrder::new(s.clone()))
            .invariant(SenderOrder::new(s.clone()))
            .history(AcknowledgedShown::new(
                s,
                SimTime::from_millis(1_000),
                Duration::from_millis(500),
                SimTime::from_secs(3),
            )),
    );
    sim.run().verdict
}

fn violated(verdict: Verdict) -> (String, String) {
    match verdict {
        Verdict::Violated(v) => (v.invariant, v.message),
        other => panic!("expected a violation, got {other:?}"),
    }
}

use Act::{Post as P, Show as S};

#[test]
fn everyone_showing_everything_once_in_one_order_passes() {
    let everyone = [(10, S(1)), (20, S(2)), (30, S(3))];
    let alice = [
        (1, P(1, Some(true))),
        (2, P(2, Some(true))),
        (3, P(3, Some(true))),
    ];
    let alice: Vec<_> = alice.iter().chain(&everyone).copied().collect();
    assert_eq!(verdict(&alice, &everyone, &everyone), Verdict::Pass);
}

#[test]
fn an_item_shown_twice_is_caught() {
    let alice = [(1, P(1, Some(true))), (10, S(1))];
    let bob = [(10, S(1)), (20, S(1))];
    let (check, message) = violated(verdict(&alice, &bob, &[(10, S(1))]));
    assert_eq!(check, "shown_once");
    assert!(
        message.contains("bob showed item 1 in stream 7"),
        "{message}"
    );
    assert!(message.contains("twice"), "{message}");
}

#[test]
fn an_item_nobody_posted_is_caught() {
    let (check, message) = violated(verdict(&[], &[(10, S(9))], &[]));
    assert_eq!(check, "shown_once");
    assert!(message.contains("which nobody posted"), "{message}");
}

#[test]
fn two_participants_disagreeing_on_order_are_caught_even_with_gaps_between() {
    let alice = [
        (1, P(1, Some(true))),
        (2, P(2, Some(true))),
        (10, S(1)),
        (20, S(2)),
    ];
    // Bob shows 2 first; 1 comes later: the disagreement is only visible
    // once bob shows 1.
    let bob = [(10, S(2)), (30, S(1))];
    let (check, message) = violated(verdict(&alice, &bob, &[(10, S(1)), (20, S(2))]));
    assert_eq!(check, "same_order");
    assert!(
        message.contains("bob showed item 2 before item 1"),
        "{message}"
    );
}

#[test]
fn showing_a_subset_in_the_same_order_is_no_disagreement() {
    let alice = [
        (1, P(1, Some(true))),
        (2, P(2, Some(true))),
        (3, P(3, None)),
        (10, S(1)),
        (20, S(2)),
        (30, S(3)),
    ];
    let bob = [(10, S(1)), (30, S(3))]; // bob has not shown 2 yet (it is due later)
    let carol = [(10, S(1)), (20, S(2)), (30, S(3)), (40, S(3))];
    // carol shows 3 twice: caught as a duplicate, not an order problem.
    let (check, _) = violated(verdict(&alice, &bob, &carol));
    assert_eq!(check, "shown_once");
    let carol = [(10, S(1)), (20, S(2)), (30, S(3))];
    let bob = [(10, S(1)), (20, S(2)), (30, S(3))];
    assert_eq!(verdict(&alice, &bob, &carol), Verdict::Pass);
}

#[test]
fn a_sender_s_later_message_shown_before_its_acknowledged_earlier_one_is_caught() {
    // 1 is acknowledged at 1 ms, 2 sent at 5 ms: everyone must show 1 first.
    let alice = [
        (1, P(1, Some(true))),
        (5, P(2, Some(true))),
        (10, S(2)),
        (20, S(1)),
    ];
    let other = [(10, S(2)), (20, S(1))];
    let (check, message) = violated(verdict(&alice, &other, &other));
    assert_eq!(check, "sender_order");
    assert!(
        message.contains(
            "showed item 2 before item 1, though alice sent item 2 only after item 1 was acknowledged"
        ),
        "{message}"
    );
}

#[test]
fn messages_sent_concurrently_may_appear_in_either_order() {
    // 1 is never answered before 2 is sent: no order is owed between them.
    let alice = [
        (1, P(1, None)),
        (5, P(2, Some(true))),
        (10, S(2)),
        (20, S(1)),
    ];
    let other = [(10, S(2)), (20, S(1))];
    assert_eq!(verdict(&alice, &other, &other), Verdict::Pass);
}

#[test]
fn an_acknowledged_item_one_participant_never_shows_is_lost() {
    let alice = [(1, P(1, Some(true))), (10, S(1))];
    let (check, message) = violated(verdict(&alice, &[(10, S(1))], &[]));
    assert_eq!(check, "acknowledged_shown");
    assert!(message.contains("was never shown by carol"), "{message}");
}

#[test]
fn an_acknowledged_item_shown_after_its_deadline_is_late() {
    // Due by max(ack, heal at 1 s) + 500 ms = 1.5 s; carol shows it at 2 s.
    let alice = [(1, P(1, Some(true))), (10, S(1))];
    let (check, message) = violated(verdict(&alice, &[(10, S(1))], &[(2_000, S(1))]));
    assert_eq!(check, "acknowledged_shown");
    assert!(
        message.contains("was shown by carol only at 2.000000000s"),
        "{message}"
    );
}

#[test]
fn failed_and_unanswered_posts_are_not_owed_to_anyone() {
    let alice = [(1, P(1, Some(false))), (2, P(2, None))];
    assert_eq!(verdict(&alice, &[], &[]), Verdict::Pass);
}

#[test]
fn a_post_acknowledged_too_late_to_judge_is_not_judged() {
    // Acknowledged at 2.8 s: due at 3.3 s, after the run ends.
    let alice = [(2_800, P(1, Some(true)))];
    assert_eq!(verdict(&alice, &[], &[]), Verdict::Pass);
}

/// Notes the history's size each time it is called, by event.
struct Watcher {
    only_history: bool,
    calls: std::rc::Rc<std::cell::RefCell<Vec<(u64, u64)>>>,
}

impl sim_core::Invariant<Client> for Watcher {
    fn name(&self) -> &str {
        "watcher"
    }
    fn reads_only_history(&self) -> bool {
        self.only_history
    }
    fn check(
        &mut self,
        world: &sim_core::World<'_, Client>,
        step: &sim_core::Step<'_>,
    ) -> Result<(), sim_core::Breach> {
        let seen = (step.event, world.history().recorded());
        self.calls.borrow_mut().push(seen);
        Ok(())
    }
}

#[test]
fn an_invariant_of_the_history_alone_is_called_only_after_events_that_recorded() {
    let alice = [(1, P(1, Some(true))), (2, P(2, None)), (10, S(1))];
    let bob = [(10, S(1)), (12, S(2))];
    let scripts = [&alice[..], &bob, &[]].map(|s| Script(s.to_vec())).to_vec();
    let mut config = SimConfig::new(0);
    config.duration = Duration::from_secs(1);
    let mut sim = Sim::<Client>::new(config, scripts);
    let (every, only) = Default::default();
    for (only_history, calls) in [(false, &every), (true, &only)] {
        let calls = std::rc::Rc::clone(calls);
        sim.add_invariant(Watcher {
            only_history,
            calls,
        });
    }
    assert_eq!(sim.run().verdict, Verdict::Pass);
    let every: Vec<(u64, u64)> = every.take();
    // After each event whose history grew, and never after the others.
    let mut before = 0;
    let grew: Vec<(u64, u64)> = every
        .iter()
        .copied()
        .filter(|&(_, recorded)| std::mem::replace(&mut before, recorded) != recorded)
        .collect();
    assert_eq!(only.take(), grew);
    assert_eq!(
        grew.len(),
        5,
        "two posts (one answered at once), three shows"
    );
    assert!(
        every.len() > grew.len(),
        "the clients' starts recorded nothing"
    );
}
