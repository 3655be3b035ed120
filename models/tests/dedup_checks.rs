//! The dedup checks on hand-built histories of one X: a retry answering
//! `true` after a timeout is legal, and each way of answering wrongly is
//! caught by the check that should catch it.

use models::dedup::Seen;
use models::dedup::invariants::{FalseAnswers, Linearizable};
use sim_core::history::{Completion, Operation, Stamp};
use sim_core::{History, HistoryCheck, HistoryVerdict, NodeId, OpId, Outcome, SimTime};

/// A hand-built history on one X: (invoked at, completed at, outcome).
fn history(ops: &[(u64, u64, Outcome<bool>)]) -> History<Seen, bool> {
    ops.iter()
        .enumerate()
        .map(|(i, (invoked, completed, outcome))| {
            let stamp = |position: u64| Stamp {
                position,
                time: SimTime::from_millis(position),
                event: position,
            };
            Operation {
                id: OpId(i as u32),
                node: NodeId(3),
                op: Seen(7),
                invoke: stamp(*invoked),
                completion: Some(Completion {
                    stamp: stamp(*completed),
                    outcome: outcome.clone(),
                }),
            }
        })
        .collect()
}

#[test]
fn the_checks_on_hand_built_histories() {
    let linearizable = |h: &History<Seen, bool>| Linearizable::default().check(h);
    // Timed out, then a retry answers `true`: the first may have happened.
    let retried = history(&[(0, 1, Outcome::Info), (2, 3, Outcome::Ok(true))]);
    assert_eq!(linearizable(&retried), HistoryVerdict::Pass);
    assert!(FalseAnswers::check_history(&retried).is_ok());
    // The same, had the first certainly failed: `true` for a never-seen X.
    let never_seen = history(&[(0, 1, Outcome::Fail), (2, 3, Outcome::Ok(true))]);
    assert!(matches!(
        linearizable(&never_seen),
        HistoryVerdict::Violated(_)
    ));
    // `false` after a completed `true` breaks only linearizability...
    let late_false = history(&[
        (0, 1, Outcome::Info),
        (2, 3, Outcome::Ok(true)),
        (4, 5, Outcome::Ok(false)),
    ]);
    assert!(matches!(
        linearizable(&late_false),
        HistoryVerdict::Violated(_)
    ));
    assert!(FalseAnswers::check_history(&late_false).is_ok());
    // ... two `false`s break both.
    let two_false = history(&[(0, 2, Outcome::Ok(false)), (1, 3, Outcome::Ok(false))]);
    assert!(matches!(
        linearizable(&two_false),
        HistoryVerdict::Violated(_)
    ));
    let breach = FalseAnswers::check_history(&two_false).unwrap_err();
    assert_eq!(breach.ops, [OpId(0), OpId(1)]);
}
