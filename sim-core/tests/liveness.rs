//! The liveness phase: after the heal, operations must finish within the
//! bound. A server that answers passes; one that falls silent is reported
//! as "did not finish", apart from any safety violation.

use std::time::Duration;

use sim_core::{
    Ctx, Fault, LivenessConfig, Node, NodeId, OpId, Outcome, Partition, Sim, SimConfig, TimedFault,
    Verdict,
};

#[derive(Clone, Debug, Hash)]
enum Msg {
    Request(u32),
    Reply(u32),
}

#[derive(Debug, Hash)]
enum Timer {
    Next,
    Timeout(u32),
}

#[derive(Debug, Clone)]
enum Role {
    Client {
        server: NodeId,
    },
    /// Answers requests, unless `silent_after_ms` has passed on its clock.
    Server {
        silent_after_ms: Option<u64>,
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
        match (msg, &self.role) {
            (Msg::Request(n), Role::Server { silent_after_ms }) => {
                let silent =
                    silent_after_ms.is_some_and(|ms| ctx.now().as_nanos() >= ms as i64 * 1_000_000);
                if !silent {
                    ctx.send(from, Msg::Reply(n));
                }
            }
            (Msg::Reply(n), Role::Client { .. }) => {
                if let Some((pending, op)) = self.pending
                    && pending == n
                {
                    self.pending = None;
                    ctx.complete(op, Outcome::Ok(()));
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
    let mut c = SimConfig::new(7);
    c.duration = Duration::from_secs(5);
    c.faults = vec![TimedFault {
        at_ms: 500,
        fault: Fault::Partition(Partition::Isolate(NodeId(1))),
    }];
    c.liveness = Some(LivenessConfig {
        heal_at_ms: 2_000,
        bound_ms: 1_000,
    });
    let roles = vec![
        Role::Client { server: NodeId(1) },
        Role::Server { silent_after_ms },
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
fn a_server_silent_before_the_heal_too() {
    assert!(matches!(run(Some(0)), Verdict::NotLive(_)));
}
