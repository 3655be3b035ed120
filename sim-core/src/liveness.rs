//! The liveness phase's judgement. After `healed_at` faults stop and
//! everything heals; then the system must answer:
//!
//! - an operation invoked before the heal must complete (any outcome,
//!   including `Info`: a reply lost during the faults is excused) by
//!   `healed_at + bound`;
//! - an operation invoked after the heal must complete `Ok` or `Fail`
//!   within `bound` of its invocation: timing out on a healthy system is
//!   not an answer. With `require_ok`, only `Ok` will do: a design that
//!   keeps saying "try again later" on a healthy system is not live.
//!
//! Operations whose deadline falls after the end of the run are not judged.

use std::time::Duration;

use crate::check::LivenessFailure;
use crate::history::{Completion, History, OpId, Outcome};
use crate::time::SimTime;

/// Returns the operations that did not finish in time, if any.
pub fn judge<O, R>(
    history: &History<O, R>,
    healed_at: SimTime,
    bound: Duration,
    end: SimTime,
    require_ok: bool,
    node_names: &[String],
) -> Option<LivenessFailure> {
    let mut late: Vec<OpId> = Vec::new();
    for op in history.operations() {
        let invoked_before_heal = op.invoke.time < healed_at;
        let deadline = op.invoke.time.max(healed_at) + bound;
        if deadline > end {
            continue;
        }
        let finished = match &op.completion {
            Some(Completion { stamp, outcome }) if stamp.time <= deadline => {
                invoked_before_heal
                    || match outcome {
                        Outcome::Ok(_) => true,
                        Outcome::Fail => !require_ok,
                        Outcome::Info => false,
                    }
            }
            _ => false,
        };
        if !finished {
            late.push(op.id);
        }
    }
    let first = *late.first()?;
    let op = history.get(first);
    let what = match &op.completion {
        None => "never completed".to_owned(),
        Some(c) if matches!(c.outcome, Outcome::Info) => {
            format!("timed out (info) at {}", c.stamp.time)
        }
        Some(c)
            if matches!(c.outcome, Outcome::Fail)
                && c.stamp.time <= op.invoke.time.max(healed_at) + bound =>
        {
            format!(
                "failed at {} on a healed system, and the scenario requires ok",
                c.stamp.time
            )
        }
        Some(c) => format!("completed only at {}", c.stamp.time),
    };
    Some(LivenessFailure {
        healed_at,
        bound_ms: u64::try_from(bound.as_millis()).unwrap_or(u64::MAX),
        message: format!(
            "{} operation(s) did not finish within {:?} after faults healed at {healed_at}; \
             the first, operation #{} invoked at {} by {}, {what}",
            late.len(),
            bound,
            first.0,
            op.invoke.time,
            node_names
                .get(op.node.index())
                .map_or_else(|| op.node.to_string(), Clone::clone),
        ),
        ops: late,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::NodeId;

    const BOUND: Duration = Duration::from_secs(1);

    /// An operation: invoked at this many ms, completed (when, how) or not.
    type Op = (u64, Option<(u64, Outcome<()>)>);

    fn run(ops: &[Op]) -> Option<Vec<OpId>> {
        run_requiring(ops, false)
    }

    fn run_requiring(ops: &[Op], require_ok: bool) -> Option<Vec<OpId>> {
        let mut h = History::<(), ()>::new();
        let mut events: Vec<(u64, usize, Option<Outcome<()>>)> = Vec::new();
        for (i, (inv, done)) in ops.iter().enumerate() {
            events.push((*inv, i, None));
            if let Some((t, o)) = done {
                events.push((*t, i, Some(o.clone())));
            }
        }
        events.sort_by_key(|e| (e.0, e.2.is_some()));
        let mut ids = vec![OpId(0); ops.len()];
        for (t, i, outcome) in events {
            match outcome {
                None => ids[i] = h.invoke(NodeId(0), (), SimTime::from_millis(t), 0),
                Some(o) => h.complete(ids[i], o, SimTime::from_millis(t), 0),
            }
        }
        judge(
            &h,
            SimTime::from_millis(10_000),
            BOUND,
            SimTime::from_millis(20_000),
            require_ok,
            &[],
        )
        .map(|f| f.ops)
    }

    #[test]
    fn the_message_names_the_operation_and_its_node() {
        let mut h: History<(), ()> = History::default();
        h.invoke(NodeId(1), (), SimTime::from_millis(12_000), 0);
        let names = ["server-0".to_owned(), "client-0".to_owned()];
        let end = SimTime::from_millis(20_000);
        let failure =
            judge(&h, SimTime::from_millis(10_000), BOUND, end, false, &names).expect("late");
        assert!(
            failure
                .message
                .contains("operation #0 invoked at 12.000000000s by client-0, never completed"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn info_before_heal_is_excused_but_not_after() {
        assert_eq!(run(&[(1_000, Some((3_000, Outcome::Info)))]), None);
        assert_eq!(
            run(&[(12_000, Some((12_500, Outcome::Info)))]),
            Some(vec![OpId(0)])
        );
        assert_eq!(run(&[(12_000, Some((12_500, Outcome::Ok(()))))]), None);
    }

    #[test]
    fn requiring_ok_makes_a_fail_after_the_heal_not_live() {
        let failed = [(12_000, Some((12_100, Outcome::Fail)))];
        assert_eq!(run(&failed), None);
        assert_eq!(run_requiring(&failed, true), Some(vec![OpId(0)]));
        let before_heal = [(9_000, Some((9_100, Outcome::Fail)))];
        assert_eq!(run_requiring(&before_heal, true), None, "faults were on");
    }

    #[test]
    fn pending_past_the_deadline_is_not_live() {
        assert_eq!(run(&[(9_000, None)]), Some(vec![OpId(0)]));
        assert_eq!(
            run(&[(9_000, Some((11_500, Outcome::Ok(()))))]),
            Some(vec![OpId(0)]),
            "finished after heal+bound"
        );
        assert_eq!(run(&[(9_000, Some((10_900, Outcome::Fail)))]), None);
    }

    #[test]
    fn operations_whose_deadline_is_after_the_end_are_not_judged() {
        assert_eq!(run(&[(19_500, None)]), None);
    }
}
