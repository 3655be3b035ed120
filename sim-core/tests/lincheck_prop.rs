//! Property tests for the linearizability checker. Histories that a real
//! sequential execution produced (see `lincheck_support::executed`) must
//! be linearizable, whatever the overlaps, timeouts and failures, and
//! corrupting one read to a value nobody wrote must make them not
//! linearizable. Small arbitrary histories, mostly not linearizable, must
//! get the same answer as a brute force search.

mod lincheck_support;

use std::collections::BTreeMap;

use lincheck_support::executed::{
    Fate, Planned, SpecOperation, Timed, assemble, corrupt_one_read, execute_kv, execute_register,
    is_kv_get, is_register_read, run_plan,
};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use sim_core::history::{History, Operation, Outcome};
use sim_core::lincheck::{
    Budget, KvCall, KvOp, KvSpec, RegisterCall, RegisterOp, RegisterSpec, Spec, Verdict, check,
};

fn fate() -> impl Strategy<Value = Fate> {
    prop_oneof![
        14 => Just(Fate::Ok),
        2 => Just(Fate::TimedOutApplied),
        1 => Just(Fate::PendingApplied),
        2 => Just(Fate::TimedOutNotApplied),
        1 => Just(Fate::Failed),
    ]
}

/// Up to 40 operations; lead and lag up to 3 effect intervals, so each
/// operation overlaps several others.
fn plan<O: std::fmt::Debug>(
    op: impl Strategy<Value = O>,
) -> impl Strategy<Value = Vec<Planned<O>>> {
    let planned =
        (op, fate(), 0..3_000u64, 0..3_000u64).prop_map(|(op, fate, lead_ns, lag_ns)| Planned {
            op,
            fate,
            lead_ns,
            lag_ns,
        });
    prop::collection::vec(planned, 1..40)
}

/// A plan with `read` inserted somewhere, completing `Ok`, so there is
/// always a read to corrupt.
fn plan_with_read<O: std::fmt::Debug + Clone>(
    op: impl Strategy<Value = O>,
    read: impl Strategy<Value = O>,
) -> impl Strategy<Value = Vec<Planned<O>>> {
    (plan(op), read, any::<Index>(), 0..3_000u64, 0..3_000u64).prop_map(
        |(mut plan, op, place, lead_ns, lag_ns)| {
            plan.insert(
                place.index(plan.len() + 1),
                Planned {
                    op,
                    fate: Fate::Ok,
                    lead_ns,
                    lag_ns,
                },
            );
            plan
        },
    )
}

fn register_read() -> impl Strategy<Value = RegisterOp<u8, u32>> {
    (0..3u8).prop_map(|key| RegisterOp {
        key,
        call: RegisterCall::Read,
    })
}

fn kv_get() -> impl Strategy<Value = KvOp<u8>> {
    (0..3u8).prop_map(|key| KvOp {
        key,
        call: KvCall::Get,
    })
}

fn register_op() -> impl Strategy<Value = RegisterOp<u8, u32>> {
    let call = prop_oneof![
        2 => Just(RegisterCall::Read),
        2 => (0..4u32).prop_map(RegisterCall::Write),
        1 => (0..4u32, 0..4u32).prop_map(|(from, to)| RegisterCall::Cas { from, to }),
    ];
    (0..3u8, call).prop_map(|(key, call)| RegisterOp { key, call })
}

/// Values use the letters a to c only, so "z" is never written.
fn kv_op() -> impl Strategy<Value = KvOp<u8>> {
    let letters = || select(vec!["a", "b", "c", "ab", "ca"]);
    let call = prop_oneof![
        2 => Just(KvCall::Get),
        1 => letters().prop_map(|value| KvCall::Put(value.to_string())),
        2 => letters().prop_map(|suffix| KvCall::Append(suffix.to_string())),
    ];
    (0..3u8, call).prop_map(|(key, call)| KvOp { key, call })
}

fn register_history(plan: Vec<Planned<RegisterOp<u8, u32>>>) -> History<RegisterOp<u8, u32>, u32> {
    let mut values = BTreeMap::new();
    run_plan(plan, |op| execute_register(&mut values, op))
}

fn kv_history(plan: Vec<Planned<KvOp<u8>>>) -> History<KvOp<u8>, String> {
    let mut values = BTreeMap::new();
    run_plan(plan, |op| execute_kv(&mut values, op))
}

/// Generous: a few hundred steps per key is typical here. Running out
/// would show as `Unknown` and fail the property.
const STEP_LIMIT_PER_KEY: u64 = 1_000_000;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn executed_register_histories_are_linearizable(plan in plan(register_op())) {
        let history = register_history(plan);
        let verdict = check(&RegisterSpec::new(0), &history, &mut Budget::steps(STEP_LIMIT_PER_KEY));
        prop_assert_eq!(verdict, Verdict::Linearizable);
    }

    #[test]
    fn executed_kv_histories_are_linearizable(plan in plan(kv_op())) {
        let history = kv_history(plan);
        let verdict = check(&KvSpec::new(), &history, &mut Budget::steps(STEP_LIMIT_PER_KEY));
        prop_assert_eq!(verdict, Verdict::Linearizable);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn register_read_of_unwritten_value_is_caught(plan in plan_with_read(register_op(), register_read()), which in any::<Index>()) {
        let spec = RegisterSpec::new(0);
        let (history, key) = corrupt_one_read(&spec, &register_history(plan), |reads| which.index(reads), is_register_read, 999)
            .expect("every plan has a read that completes");
        let verdict = check(&spec, &history, &mut Budget::steps(STEP_LIMIT_PER_KEY));
        prop_assert!(matches!(&verdict, Verdict::NotLinearizable(c) if c.key == key), "{:?}", verdict);
        prop_assert_eq!(check(&spec, &history, &mut Budget::steps(STEP_LIMIT_PER_KEY)), verdict);
    }

    #[test]
    fn kv_get_of_unwritten_value_is_caught(plan in plan_with_read(kv_op(), kv_get()), which in any::<Index>()) {
        let spec = KvSpec::new();
        let (history, key) = corrupt_one_read(&spec, &kv_history(plan), |gets| which.index(gets), is_kv_get, "z".to_string())
            .expect("every plan has a get that completes");
        let verdict = check(&spec, &history, &mut Budget::steps(STEP_LIMIT_PER_KEY));
        prop_assert!(matches!(&verdict, Verdict::NotLinearizable(c) if c.key == key), "{:?}", verdict);
        prop_assert_eq!(check(&spec, &history, &mut Budget::steps(STEP_LIMIT_PER_KEY)), verdict);
    }
}

/// The definition, by brute force: some order of the operations, each
/// with a known result taking effect once and each with an unknown result
/// at most once, that the spec accepts, where an operation that returned
/// (with a known result) before another was invoked comes first.
fn linearizable_by_brute_force<S: Spec>(
    spec: &S,
    key: &S::Key,
    operations: &[SpecOperation<S>],
) -> bool {
    let happened: Vec<&SpecOperation<S>> = operations.iter().filter(|op| !op.is_failed()).collect();
    extend_by_brute_force(
        spec,
        &spec.init(key),
        &happened,
        &mut vec![false; happened.len()],
    )
}

/// Whether the operations not `used` yet can continue an order that has
/// reached `state`.
fn extend_by_brute_force<S: Spec>(
    spec: &S,
    state: &S::State,
    happened: &[&SpecOperation<S>],
    used: &mut [bool],
) -> bool {
    if (0..happened.len()).all(|index| used[index] || happened[index].ok_value().is_none()) {
        return true;
    }
    for next in 0..happened.len() {
        let must_wait = (0..happened.len()).any(|other| {
            !used[other]
                && other != next
                && returned_at(happened[other]) < happened[next].invoke.position
        });
        if used[next] || must_wait {
            continue;
        }
        if let Some(after) = spec.step(state, &happened[next].op, happened[next].ok_value()) {
            used[next] = true;
            let found = extend_by_brute_force(spec, &after, happened, used);
            used[next] = false;
            if found {
                return true;
            }
        }
    }
    false
}

/// When an operation returned; never, if its result is unknown.
fn returned_at<O, R>(operation: &Operation<O, R>) -> u64 {
    match &operation.completion {
        Some(completion) if operation.ok_value().is_some() => completion.stamp.position,
        _ => u64::MAX,
    }
}

/// An arbitrary register operation on one key, results and all: most such
/// histories are not linearizable, some are.
fn arbitrary_register_operation() -> impl Strategy<Value = Timed<RegisterOp<u8, u32>, u32>> {
    let call = prop_oneof![
        Just(RegisterCall::Read),
        (0..3u32).prop_map(RegisterCall::Write),
        (0..3u32, 0..3u32).prop_map(|(from, to)| RegisterCall::Cas { from, to }),
    ];
    let outcome = prop_oneof![
        5 => (0..3u32).prop_map(|value| Some(Outcome::Ok(value))),
        1 => Just(Some(Outcome::Info)),
        1 => Just(Some(Outcome::Fail)),
        1 => Just(None),
    ];
    (call, outcome, 0..40u64, 0..30u64, 0..4u32).prop_map(
        |(call, outcome, invoke_ns, duration_ns, client)| Timed {
            op: RegisterOp { key: 0, call },
            client,
            invoke_ns,
            complete_ns: invoke_ns + duration_ns,
            outcome,
        },
    )
}

/// The checker decides a register history of key 0 as the definition does.
fn agrees_with_brute_force(
    timed: Vec<Timed<RegisterOp<u8, u32>, u32>>,
) -> Result<(), TestCaseError> {
    let history = assemble(timed);
    let spec = RegisterSpec::new(0);
    let expected = linearizable_by_brute_force(&spec, &0, history.operations());
    let verdict = check(&spec, &history, &mut Budget::unlimited());
    let decided = !matches!(verdict, Verdict::Unknown { .. });
    prop_assert!(decided);
    prop_assert_eq!(verdict == Verdict::Linearizable, expected, "{:?}", verdict);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn agrees_with_brute_force_on_small_arbitrary_histories(
        timed in prop::collection::vec(arbitrary_register_operation(), 1..7),
    ) {
        agrees_with_brute_force(timed)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Operations one after another, each invoked after the last returned:
    /// the checker replays these in their one order (`in_order.rs`) unless
    /// one with an unknown result could change the state, and must still
    /// agree with the definition.
    #[test]
    fn agrees_with_brute_force_on_operations_one_after_another(
        timed in prop::collection::vec(arbitrary_register_operation(), 1..9),
    ) {
        let timed = timed
            .into_iter()
            .zip(0u64..)
            .map(|(op, i)| Timed {
                invoke_ns: 100 * i,
                complete_ns: 100 * i + op.complete_ns - op.invoke_ns,
                ..op
            })
            .collect();
        agrees_with_brute_force(timed)?;
    }
}
