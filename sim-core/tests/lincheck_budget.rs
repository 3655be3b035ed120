//! Issue #8, the checker never runs out of memory: on the 50-client
//! history whose key 0 makes the search explode (`lincheck_support::hard`),
//! keys take turns, so the easy key 9 is refuted at once, and the memory
//! limit ends a search that cannot finish with `Unknown`, never a kill.
//!
//! Postmortem: keys were checked one after another with only time bounded,
//! so the memo of key 0 grew by about 100 MB/s until the process died,
//! and key 9 was never reached.

mod lincheck_support;

use lincheck_support::hard::{EASY_KEY, EasyKey, HARD_KEY, NEVER_WRITTEN, hard_key_history};
use sim_core::lincheck::{Budget, Limit, RegisterSpec, Verdict, check};

/// Far more than the easy keys need, far less than the hard key would
/// take: a check that got here searched keys one after another.
const STEPS_PER_KEY: u64 = 10_000_000;

fn register() -> RegisterSpec<u8, u32> {
    RegisterSpec::new(0)
}

#[test]
fn issue_8_history_is_refuted_on_its_easy_key_within_the_first_round() {
    let history = hard_key_history(1, EasyKey::Refutable);
    let memory_limit = 4 << 20;
    let mut budget = Budget::steps(STEPS_PER_KEY).with_memory_limit(memory_limit);
    let verdict = check(&register(), &history, &mut budget);
    let Verdict::NotLinearizable(counterexample) = &verdict else {
        panic!("{verdict:?}");
    };
    assert_eq!(counterexample.key, EASY_KEY);
    let blocked = history.get(counterexample.op);
    assert_eq!(blocked.ok_value(), Some(&NEVER_WRITTEN));
    // One round: a slice of 4,096 steps for each of the hard key's two
    // searches, a few steps for each other key.
    assert!(budget.steps_taken() < 3 * 4096, "{budget:?}");
    assert!(budget.memory_bytes_peak() < memory_limit, "{budget:?}");
    assert_eq!(
        budget.memory_bytes(),
        0,
        "every search gave its memory back"
    );

    let mut again = Budget::steps(STEPS_PER_KEY).with_memory_limit(memory_limit);
    assert_eq!(check(&register(), &history, &mut again), verdict);
    assert_eq!(again.steps_taken(), budget.steps_taken());
}

#[test]
fn issue_8_hard_key_ends_unknown_at_the_memory_limit() {
    let history = hard_key_history(1, EasyKey::Linearizable);
    let memory_limit = 16 << 20;
    let mut budget = Budget::steps(STEPS_PER_KEY).with_memory_limit(memory_limit);
    assert_eq!(
        check(&register(), &history, &mut budget),
        Verdict::Unknown {
            undecided_keys: vec![HARD_KEY],
            limit: Limit::Memory,
        },
        "every other key is decided linearizable; {budget:?}"
    );
    // The check stops at the first step past the limit: one step adds at
    // most one memo entry, a few hundred bytes here.
    let peak = budget.memory_bytes_peak();
    assert!(peak > memory_limit, "{budget:?}");
    assert!(peak <= memory_limit + 4096, "{budget:?}");
    assert_eq!(
        budget.memory_bytes(),
        0,
        "every search gave its memory back"
    );
}

#[test]
fn the_memory_limit_stops_at_the_same_step_every_time() {
    let history = hard_key_history(2, EasyKey::Linearizable);
    let run = || {
        let mut budget = Budget::steps(STEPS_PER_KEY).with_memory_limit(2 << 20);
        let verdict = check(&register(), &history, &mut budget);
        (verdict, budget.steps_taken(), budget.memory_bytes_peak())
    };
    let first = run();
    assert!(
        matches!(
            first.0,
            Verdict::Unknown {
                limit: Limit::Memory,
                ..
            }
        ),
        "{first:?}"
    );
    assert_eq!(run(), first);
}

#[test]
fn a_memory_limit_too_small_to_start_leaves_every_key_undecided() {
    let history = hard_key_history(1, EasyKey::Refutable);
    let mut budget = Budget::unlimited().with_memory_limit(0);
    for _ in 0..2 {
        let verdict = check(&register(), &history, &mut budget);
        let Verdict::Unknown {
            undecided_keys,
            limit: Limit::Memory,
        } = verdict
        else {
            panic!("{verdict:?}");
        };
        assert_eq!(undecided_keys, (0..10).collect::<Vec<u8>>());
    }
    assert_eq!(budget.steps_taken(), 0);
}
