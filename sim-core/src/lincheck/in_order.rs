//! The shortcut for a key whose operations never overlap: each returned
//! before the next was invoked, so real time allows exactly one order,
//! and the key is linearizable if and only if the spec accepts that order
//! with every result the clients saw. Replaying it needs no lists, memo
//! or stack, so it allocates nothing. Many keys of a dedup run are like
//! this (an X asked about a few times, well apart), and each had a search
//! built for it: lists, a memo and a stack.
//!
//! It decides only what the search would: it charges the budget the steps
//! the search takes on such a key (two per operation: one to find the
//! call, one to take it), and leaves anything else to the search, a key
//! whose replay fails included, so that its counterexample is the one the
//! search finds.

use super::budget::Budget;
use super::spec::Spec;
use crate::history::Operation;

/// How the search would walk a key whose operations never overlap: per
/// operation, one step to move from the empty list of unknown results to
/// the list of known ones, and one to take its call.
const STEPS_PER_OPERATION: u64 = 2;

/// Whether `operations` (one key's, in history order) are linearizable
/// in their one real-time order; `false` when they overlap, when one with
/// an unknown result could change the state, when the spec rejects a step,
/// or when the budget runs out, all of which the search decides instead.
pub(super) fn linearizable_in_order<S: Spec>(
    spec: &S,
    key: &S::Key,
    operations: &[&Operation<S::Op, S::Ret>],
    budget: &mut Budget<'_>,
) -> bool {
    let mut state = spec.init(key);
    let mut previous: Option<&Operation<S::Op, S::Ret>> = None;
    let mut taken = 0u64;
    for operation in operations {
        let Some(ret) = operation.ok_value() else {
            // An unknown result: a read constrains nothing and the
            // search leaves it out; anything else may take effect at any
            // later point, so there is more than one order.
            if spec.is_read_only(&operation.op) {
                continue;
            }
            return false;
        };
        // At equal positions operations overlap (as in the search's lists).
        if previous.is_some_and(|previous| !previous.precedes(operation)) {
            return false;
        }
        let Some(next) = spec.step(&state, &operation.op, Some(ret)) else {
            return false;
        };
        state = next;
        previous = Some(operation);
        taken += 1;
    }
    // Charged once the replay has succeeded, so that a key that falls
    // through to the search spends its steps there, once. A key that
    // cannot afford them falls through to run out of steps in the search;
    // a memory limit or a stop met on the way ends the check, and the
    // search meets it again at its first step.
    let steps = taken * STEPS_PER_OPERATION;
    if steps > budget.max_steps_per_key() {
        return false;
    }
    (0..steps).all(|key_steps| budget.spend_step(key_steps).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{History, Outcome};
    use crate::lincheck::key_search::KeySearch;
    use crate::lincheck::{Limit, RegisterCall, RegisterOp, RegisterSpec, Verdict, check};
    use crate::{NodeId, SimTime};

    type Register = RegisterSpec<u8, u32>;
    type Ops = History<RegisterOp<u8, u32>, u32>;

    fn write(value: u32) -> RegisterOp<u8, u32> {
        RegisterOp {
            key: 0,
            call: RegisterCall::Write(value),
        }
    }

    fn read() -> RegisterOp<u8, u32> {
        RegisterOp {
            key: 0,
            call: RegisterCall::Read,
        }
    }

    /// Operations one after another, each `(op, outcome)`.
    fn one_after_another(ops: Vec<(RegisterOp<u8, u32>, Outcome<u32>)>) -> Ops {
        let mut history = History::new();
        for (event, (op, outcome)) in (0..).zip(ops) {
            let id = history.invoke(NodeId(1), op, SimTime::from_nanos(event), event);
            history.complete(id, outcome, SimTime::from_nanos(event), event);
        }
        history
    }

    fn replayed(history: &Ops, budget: &mut Budget<'_>) -> bool {
        let operations: Vec<_> = history.operations().iter().collect();
        linearizable_in_order(&RegisterSpec::new(0), &0, &operations, budget)
    }

    /// The steps the search takes to decide the history's one key.
    fn search_steps(history: &Ops) -> u64 {
        let spec: Register = RegisterSpec::new(0);
        let operations: Vec<_> = history.operations().iter().collect();
        let mut budget = Budget::unlimited();
        let mut search = KeySearch::new(&spec, &0, &operations, &mut budget);
        let outcome = std::iter::repeat_with(|| search.run_slice(&mut budget))
            .find_map(|outcome| outcome)
            .expect("a search ends");
        assert!(matches!(
            outcome,
            super::super::search::SearchOutcome::Linearizable
        ));
        budget.steps_taken()
    }

    #[test]
    fn operations_one_after_another_are_replayed_for_the_steps_the_search_takes() {
        let history = one_after_another(vec![
            (write(1), Outcome::Ok(1)),
            (read(), Outcome::Ok(1)),
            // A read with an unknown result constrains nothing.
            (read(), Outcome::Info),
            (write(2), Outcome::Ok(2)),
            (read(), Outcome::Ok(2)),
        ]);
        let mut budget = Budget::unlimited();
        assert!(replayed(&history, &mut budget));
        assert_eq!(budget.steps_taken(), 8);
        assert_eq!(budget.steps_taken(), search_steps(&history));
        assert_eq!(budget.memory_bytes_peak(), 0, "a replay holds nothing");
    }

    #[test]
    fn overlapping_operations_go_to_the_search() {
        let mut history: Ops = History::new();
        let t = SimTime::from_nanos(0);
        let w = history.invoke(NodeId(1), write(1), t, 0);
        let r = history.invoke(NodeId(2), read(), t, 1);
        history.complete(w, Outcome::Ok(1), t, 2);
        history.complete(r, Outcome::Ok(1), t, 3);
        let mut budget = Budget::unlimited();
        assert!(!replayed(&history, &mut budget));
        assert_eq!(budget.steps_taken(), 0);
        let spec: Register = RegisterSpec::new(0);
        assert_eq!(check(&spec, &history, &mut budget), Verdict::Linearizable);
    }

    #[test]
    fn a_write_with_an_unknown_result_goes_to_the_search() {
        let history = one_after_another(vec![(write(1), Outcome::Info), (read(), Outcome::Ok(1))]);
        let mut budget = Budget::unlimited();
        assert!(!replayed(&history, &mut budget));
        let spec: Register = RegisterSpec::new(0);
        assert_eq!(check(&spec, &history, &mut budget), Verdict::Linearizable);
    }

    #[test]
    fn a_replay_the_spec_rejects_goes_to_the_search_for_its_counterexample() {
        let history = one_after_another(vec![(write(1), Outcome::Ok(1)), (read(), Outcome::Ok(2))]);
        let mut budget = Budget::unlimited();
        assert!(!replayed(&history, &mut budget));
        assert_eq!(budget.steps_taken(), 0, "the search spends the steps");
        let spec: Register = RegisterSpec::new(0);
        let Verdict::NotLinearizable(counterexample) = check(&spec, &history, &mut budget) else {
            panic!("reading a value never written is not linearizable");
        };
        assert_eq!(counterexample.op, history.operations()[1].id);
    }

    #[test]
    fn a_key_that_cannot_afford_its_steps_runs_out_of_them_in_the_search() {
        let history = one_after_another(vec![(write(1), Outcome::Ok(1)), (read(), Outcome::Ok(1))]);
        let mut budget = Budget::steps(3);
        assert!(!replayed(&history, &mut budget));
        assert_eq!(budget.steps_taken(), 0);
        let spec: Register = RegisterSpec::new(0);
        assert_eq!(
            check(&spec, &history, &mut budget),
            Verdict::Unknown {
                undecided_keys: vec![0],
                limit: Limit::Steps,
            }
        );
        let mut enough = Budget::steps(4);
        assert!(replayed(&history, &mut enough));
    }
}
