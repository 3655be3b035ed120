//! When two runs of one seed differ, the first trace event where they part
//! can be named: `trace::first_difference` over two recordings. Shown on a
//! deliberately non-deterministic node (it reads a process-wide counter,
//! which no real design may do), the kind of bug `dsim check` catches.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sim_core::trace::{TraceKind, first_difference};
use sim_core::{Ctx, Node, NodeId, Sim, SimConfig};

/// Bumped by every run: the hidden state that makes runs differ.
static RUNS: AtomicU64 = AtomicU64::new(0);

#[derive(Debug)]
struct Leaky {
    run: u64,
}

impl Node for Leaky {
    type Durable = ();
    type Msg = u64;
    type Timer = u32;
    type Op = ();
    type Ret = ();

    fn boot(id: NodeId, _disk: &()) -> Self {
        let run = if id.0 == 0 {
            RUNS.fetch_add(1, Ordering::Relaxed)
        } else {
            0
        };
        Leaky { run }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(Duration::from_millis(10), 0);
    }

    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, _msg: u64) {}

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, tick: u32) {
        if ctx.id() == NodeId(0) {
            // From the third tick on, the message depends on the run.
            let msg = if tick >= 2 { self.run } else { 7 };
            ctx.send(NodeId(1), msg);
        }
        if tick < 5 {
            ctx.set_timer(Duration::from_millis(10), tick + 1);
        }
    }
}

fn recorded() -> sim_core::RunResult<(), ()> {
    let mut c = SimConfig::new(1);
    c.record_trace = true;
    Sim::<Leaky>::new(c, vec![(), ()]).run()
}

#[test]
fn the_first_event_where_two_runs_part_is_named() {
    let (a, b) = (recorded(), recorded());
    assert_ne!(a.digest, b.digest);
    let (ta, tb) = (a.trace.unwrap(), b.trace.unwrap());
    let at = first_difference(&ta, &tb).expect("the runs differ");
    assert_eq!(ta[at].kind, TraceKind::Send);
    assert_ne!(ta[at].detail, tb[at].detail);
    assert_eq!(&ta[..at], &tb[..at], "everything before agrees");
    assert_eq!(first_difference(&ta, &ta), None);
    assert_eq!(
        first_difference(&ta[..at], &ta),
        Some(at),
        "a prefix parts where it ends"
    );
}
