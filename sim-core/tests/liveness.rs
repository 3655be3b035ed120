//! The liveness phase: after the heal, operations must finish within the
//! bound. A server that answers passes; one that falls silent is reported
//! as "did not finish", apart from any safety violation; one that only
//! ever refuses ("try again later") fails a scenario that requires `Ok`.

use std::time::Duration;

use sim_core::{
    Ctx, Fault, LivenessConfig, Node, NodeId, OpId, Outcome, Partition, Sim, SimConfig, TimedFault,
    Verdict,
};

#[derive(Clone, Debug, serde::Serialize)]
enum Msg {
    Request(u32),
    Reply(u32),
    Refused(u32),
}

#[derive(Debug, serde::Serialize)]
enum Timer {
    Next,
    Timeout(u32),
}

#[derive(Debug, Clone)]
enum Role {
    Client {
        server: NodeId,
    },
    /// Answers requests, unless `silent_after_ms` has passed on its clock;
    /// with `refuses`, every answer is a refusal.
    Server {
        silent_after_ms: Option<u64>,
        refuses: bool,
    },
}

#[derive(Debug)]
struct Node1 {
    role: Role,
    /// The client's one outstanding request.
    pending: Option<(u32, OpId)>,
    next: u32,
}

impl Node for Node1 {
    type Durable = Role;
    type Msg = Msg;
    type Timer = Timer;
    type Op = u32;
    type Ret = ();

    fn boot(_id: NodeId, role: &Role) -> Self {
        Node1 {
            role: role.clone(),
            pending: None,
            next: 0,
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Role::Client { .. } = self.role {
            ctx.set_timer(Duration::from_millis(100), Timer::Next);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match (msg.clone(), &self.role) {
            (
                Msg::Request(n),
                Role::Server {
                    silent_after_ms,
                    refuses,
                },
            ) => {
                let silent =
                    silent_after_ms.is_some_and(|ms| ctx.now().as_nanos() >= ms as i64 * 1_000_000);
                if silent {
                } else if *refuses {
                    ctx.send(from, Msg::Refused(n));
                } else {
                    ctx.send(from, Msg::Reply(n));
                }
            }
            (Msg::Reply(n) | Msg::Refused(n), Role::Client { .. }) => {
                if let Some((pending, op)) = self.pending
                    && pending == n
                {
                    self.pending = None;
                    let outcome = match msg {
                        Msg::Reply(_) => Outcome::Ok(()),
                        _ => Outcome::Fail,
                    };
                    ctx.complete(op, outcome);
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        let Role::Client { server } = self.role else {
            return;
        };
        match timer {
            Timer::Next => {
                if self.pending.is_none() {
                    let n = self.next;
                    self.next += 1;
                    let op = ctx.invoke(n);
                    self.pending = Some((n, op));
                    ctx.send(server, Msg::Request(n));
                    ctx.set_timer(Duration::from_millis(50), Timer::Timeout(n));
                }
                ctx.set_timer(Duration::from_millis(100), Timer::Next);
            }
            Timer::Timeout(n) => {
                if let Some((pending, op)) = self.pending
                    && pending == n
                {
                    self.pending = None;
                    ctx.complete(op, Outcome::Info);
                }
            }
        }
    }
}

fn run(silent_after_ms: Option<u64>) -> Verdict {
    run_server(silent_after_ms, false, false)
}

fn run_server(silent_after_ms: Option<u64>, refuses: bool, require_ok: bool) -> Verdict {
    let mut c = SimConfig::new(7);
    c.duration = Duration::from_secs(5);
    c.faults = vec![TimedFault::at(
        500,
        Fault::Partition(Partition::Isolate(NodeId(1))),
    )];
    c.liveness = Some(LivenessConfig {
        heal_at_ms: 2_000,
        bound_ms: 1_000,
        require_ok,
    });
    let roles = vec![
        Role::Client { server: NodeId(1) },
        Role::Server {
            silent_after_ms,
            refuses,
        },
    ];
    Sim::<Node1>::new(c, roles).run().verdict
}

#[test]
fn timeouts_during_faults_are_excused_and_answers_after_heal_pass() {
    assert_eq!(run(None), Verdict::Pass);
}

#[test]
fn a_server_silent_after_the_heal_is_reported_as_not_live() {
    let Verdict::NotLive(failure) = run(Some(2_500)) else {
        panic!("expected NotLive")
    };
    assert_eq!(failure.healed_at, sim_core::SimTime::from_millis(2_000));
    assert!(
        failure.message.contains("did not finish"),
        "{}",
        failure.message
    );
    assert!(!failure.ops.is_empty());
}

#[test]
fn a_liveness_check_that_demands_ok_fails_a_design_that_only_ever_fails() {
    assert_eq!(
        run_server(None, true, false),
        Verdict::Pass,
        "a refusal is an answer"
    );
    let Verdict::NotLive(failure) = run_server(None, true, true) else {
        panic!("expected NotLive when ok is required")
    };
    assert!(
        failure.message.contains("requires ok"),
        "{}",
        failure.message
    );
    assert_eq!(run_server(None, false, true), Verdict::Pass);
}

#[test]
fn a_server_silent_before_the_heal_too() {
    assert!(matches!(run(Some(0)), Verdict::NotLive(_)));
}
