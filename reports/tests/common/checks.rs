//! The counter's checkers. `bounded_staleness` is an invariant (checked
//! after every event, incrementally): a read must reflect every add that
//! was acknowledged more than a bound before the read was invoked; gossip
//! keeps servers within that bound unless a fault cuts them off for
//! longer. `reads_never_exceed_adds` checks the finished history and
//! always holds; it is here so reports show a check that was not reached.

use sim_core::check::{Breach, HistoryCheck, HistoryVerdict, Invariant, Step};
use sim_core::history::{History, OpId, Outcome};
use sim_core::{SimTime, World};

use super::counter::{Counter, Op};

/// Reads may lag acknowledged adds by at most `bound_ms`.
#[derive(Debug)]
pub struct BoundedStaleness {
    pub bound_ms: u64,
    /// Operations invoked so far that have not completed.
    open: Vec<usize>,
    /// Operations seen so far (the history's length at the last check).
    seen: usize,
    /// Acknowledged adds in completion order: (time, running total, op).
    acknowledged: Vec<(SimTime, u64, usize)>,
}

impl BoundedStaleness {
    pub fn new(bound_ms: u64) -> BoundedStaleness {
        BoundedStaleness {
            bound_ms,
            open: Vec::new(),
            seen: 0,
            acknowledged: Vec::new(),
        }
    }

    /// How much had been acknowledged by `time`, and the latest such add.
    fn acknowledged_by(&self, time: SimTime) -> (u64, Option<usize>) {
        let count = self.acknowledged.partition_point(|(at, _, _)| *at <= time);
        match count.checked_sub(1).map(|i| self.acknowledged[i]) {
            Some((_, total, op)) => (total, Some(op)),
            None => (0, None),
        }
    }
}

impl Invariant<Counter> for BoundedStaleness {
    fn name(&self) -> &str {
        "bounded_staleness"
    }

    fn check(&mut self, world: &World<'_, Counter>, _step: &Step) -> Result<(), Breach> {
        let history = world.history();
        let operations = history.operations();
        self.open.extend(self.seen..operations.len());
        self.seen = operations.len();
        let mut still_open = Vec::with_capacity(self.open.len());
        for index in std::mem::take(&mut self.open) {
            let op = &operations[index];
            let Some(completion) = &op.completion else {
                still_open.push(index);
                continue;
            };
            let Outcome::Ok(value) = completion.outcome else {
                continue;
            };
            match op.op {
                Op::Add(amount) => {
                    let total = self.acknowledged.last().map_or(0, |a| a.1) + amount;
                    self.acknowledged
                        .push((completion.stamp.time, total, index));
                }
                Op::Read => {
                    let deadline = SimTime::from_nanos(
                        op.invoke
                            .time
                            .as_nanos()
                            .saturating_sub(self.bound_ms * 1_000_000),
                    );
                    let (required, latest) = self.acknowledged_by(deadline);
                    if value < required {
                        let message = format!(
                            "a read returned {value}, but {required} had been acknowledged more than {} ms before it was invoked",
                            self.bound_ms
                        );
                        let ops = latest.into_iter().chain([index]).map(|i| OpId(i as u32));
                        return Err(Breach::new(message).with_ops(ops));
                    }
                }
            }
        }
        self.open = still_open;
        Ok(())
    }
}

/// No read returns more than every add ever invoked before it completed.
#[derive(Debug, Default)]
pub struct ReadsNeverExceedAdds;

impl HistoryCheck<Counter> for ReadsNeverExceedAdds {
    fn name(&self) -> &str {
        "reads_never_exceed_adds"
    }

    fn check(&mut self, history: &History<Op, u64>) -> HistoryVerdict {
        let operations = history.operations();
        // Operations are in invocation order: prefix sums of the amounts
        // added give "everything invoked before position p" by bisection.
        let mut added = vec![0u64];
        for op in operations {
            let amount = match op.op {
                Op::Add(amount) => amount,
                Op::Read => 0,
            };
            added.push(added.last().copied().unwrap_or(0) + amount);
        }
        for read in operations {
            let (Op::Read, Some(value), Some(done)) = (&read.op, read.ok_value(), &read.completion)
            else {
                continue;
            };
            let invoked_before =
                operations.partition_point(|op| op.invoke.position < done.stamp.position);
            let possible = added[invoked_before];
            if *value > possible {
                let message =
                    format!("a read returned {value}, more than the {possible} ever added");
                return HistoryVerdict::Violated(Breach::new(message).with_ops([read.id]));
            }
        }
        HistoryVerdict::Pass
    }
}
