//! `Script`: a history written by hand in real-time order. Every invoke and
//! completion takes the next position, so reading a test top to bottom is
//! reading the history.

use sim_core::history::{Completion, History, OpId, Operation, Outcome, Stamp};
use sim_core::lincheck::{Budget, Counterexample, Spec, Verdict, check};
use sim_core::node::NodeId;
use sim_core::time::SimTime;

/// A history under construction, positions assigned in call order.
pub struct Script<O, R> {
    operations: Vec<Operation<O, R>>,
    next_position: u64,
}

impl<O: Clone, R: Clone> Script<O, R> {
    pub fn new() -> Self {
        Script {
            operations: Vec::new(),
            next_position: 0,
        }
    }
    pub fn invoke(&mut self, client: u32, op: O) -> OpId {
        let id = OpId(self.operations.len() as u32);
        let invoke = self.stamp();
        let node = NodeId(client);
        self.operations.push(Operation {
            id,
            node,
            op,
            invoke,
            completion: None,
        });
        id
    }
    pub fn ok(&mut self, id: OpId, ret: R) {
        self.complete(id, Outcome::Ok(ret));
    }
    pub fn fail(&mut self, id: OpId) {
        self.complete(id, Outcome::Fail);
    }
    pub fn info(&mut self, id: OpId) {
        self.complete(id, Outcome::Info);
    }
    /// Invokes and completes at once: an operation alone in time.
    pub fn call(&mut self, client: u32, op: O, ret: R) -> OpId {
        let id = self.invoke(client, op);
        self.ok(id, ret);
        id
    }
    pub fn history(&self) -> History<O, R> {
        self.operations.iter().cloned().collect()
    }
    fn complete(&mut self, id: OpId, outcome: Outcome<R>) {
        let stamp = self.stamp();
        self.operations[id.0 as usize].completion = Some(Completion { stamp, outcome });
    }
    fn stamp(&mut self) -> Stamp {
        let position = self.next_position;
        self.next_position += 1;
        Stamp {
            position,
            time: SimTime::from_nanos(position),
            event: position,
        }
    }
}

/// Checks a script's history. The step limit only guards against a hang.
pub fn verdict<S: Spec>(spec: &S, script: &Script<S::Op, S::Ret>) -> Verdict<S::Key>
where
    S::Op: Clone,
    S::Ret: Clone,
{
    check(spec, &script.history(), &mut Budget::steps(1_000_000))
}

pub fn counterexample<K: std::fmt::Debug>(verdict: Verdict<K>) -> Counterexample<K> {
    match verdict {
        Verdict::NotLinearizable(counterexample) => counterexample,
        other => panic!("expected NotLinearizable, got {other:?}"),
    }
}
