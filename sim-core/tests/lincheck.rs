//! What the linearizability checker accepts and rejects, one behaviour per
//! hand-written history: registers, unknown and failed outcomes, sets, the
//! key-value store, keys, real-time order, and the counterexample.

mod lincheck_support;

use lincheck_support::script::{Script, counterexample, verdict};
use sim_core::history::{Completion, OpId, Operation, Outcome, Stamp};
use sim_core::lincheck::{
    Budget, KvOp, KvSpec, RegisterCall, RegisterOp, RegisterSpec, SetSpec, Verdict, check,
};
use sim_core::node::NodeId;
use sim_core::time::SimTime;

type Register = RegisterOp<&'static str, u32>;
type Kv = KvOp<&'static str>;

fn register() -> RegisterSpec<&'static str, u32> {
    RegisterSpec::new(0)
}
fn read(key: &'static str) -> Register {
    RegisterOp::read(key)
}
fn write(key: &'static str, value: u32) -> Register {
    RegisterOp::write(key, value)
}
fn is_linearizable<K>(verdict: Verdict<K>) -> bool {
    matches!(verdict, Verdict::Linearizable)
}

// Registers.

#[test]
fn register_sequential_write_then_read_passes() {
    let mut h = Script::new();
    h.call(1, write("x", 1), 1);
    h.call(2, read("x"), 1);
    assert_eq!(verdict(&register(), &h), Verdict::Linearizable);
}

#[test]
fn register_read_of_value_never_written_fails() {
    let mut h = Script::new();
    h.call(1, write("x", 1), 1);
    let bad_read = h.call(2, read("x"), 7);
    assert_eq!(counterexample(verdict(&register(), &h)).op, bad_read);
}

#[test]
fn register_stale_read_after_completed_write_fails() {
    let mut h = Script::new();
    h.call(1, write("x", 1), 1);
    let stale = h.call(2, read("x"), 0);
    assert_eq!(counterexample(verdict(&register(), &h)).op, stale);
}

#[test]
fn register_read_concurrent_with_write_may_see_old_or_new() {
    for (seen, linearizable) in [(0, true), (1, true), (2, false)] {
        let mut h = Script::new();
        let w = h.invoke(1, write("x", 1));
        let r = h.invoke(2, read("x"));
        h.ok(r, seen);
        h.ok(w, 1);
        assert_eq!(
            is_linearizable(verdict(&register(), &h)),
            linearizable,
            "read saw {seen}"
        );
    }
}

#[test]
fn register_cas_succeeds_only_from_its_expected_value() {
    let mut h = Script::new();
    h.call(1, RegisterOp::cas("x", 0, 1), 1);
    h.call(1, read("x"), 1);
    assert_eq!(verdict(&register(), &h), Verdict::Linearizable);

    let mut h = Script::new();
    let wrong_cas = h.call(1, RegisterOp::cas("x", 5, 6), 6);
    assert_eq!(counterexample(verdict(&register(), &h)).op, wrong_cas);
}

#[test]
fn register_concurrent_cas_from_one_value_cannot_both_succeed() {
    let mut h = Script::new();
    let a = h.invoke(1, RegisterOp::cas("x", 0, 1));
    let b = h.invoke(2, RegisterOp::cas("x", 0, 2));
    h.ok(a, 1);
    h.ok(b, 2);
    assert!(!is_linearizable(verdict(&register(), &h)));

    // Chained compare-and-sets can both succeed, in either interleaving.
    let mut h = Script::new();
    let b = h.invoke(2, RegisterOp::cas("x", 1, 2));
    let a = h.invoke(1, RegisterOp::cas("x", 0, 1));
    h.ok(b, 2);
    h.ok(a, 1);
    h.call(3, read("x"), 2);
    assert_eq!(verdict(&register(), &h), Verdict::Linearizable);
}

#[test]
fn register_failed_cas_did_not_happen() {
    let mut h = Script::new();
    let c = h.invoke(1, RegisterOp::cas("x", 0, 1));
    h.fail(c);
    h.call(2, read("x"), 0);
    assert_eq!(verdict(&register(), &h), Verdict::Linearizable);
}

#[test]
fn register_of_json_text_starts_null() {
    let spec = RegisterSpec::new("null".to_string());
    let mut h = Script::new();
    h.call(1, RegisterOp::read("x"), "null".to_string());
    assert_eq!(verdict(&spec, &h), Verdict::Linearizable);

    h.call(
        1,
        RegisterOp::write("x", "\"a\"".to_string()),
        "\"a\"".to_string(),
    );
    h.call(1, RegisterOp::read("x"), "null".to_string());
    assert!(!is_linearizable(verdict(&spec, &h)));
}

// Unknown outcomes: Info, and operations that never completed.

/// A write of 1 whose outcome is unknown: timed out (`Info`) or never
/// completed, then sequential reads seeing `reads` in order.
fn unknown_write_then_reads(timed_out: bool, reads: &[u32]) -> Verdict<&'static str> {
    let mut h = Script::new();
    let w = h.invoke(1, write("x", 1));
    if timed_out {
        h.info(w);
    }
    for &value in reads {
        h.call(2, read("x"), value);
    }
    verdict(&register(), &h)
}

#[test]
fn unknown_write_is_never_forced_to_take_effect() {
    for timed_out in [true, false] {
        assert_eq!(
            unknown_write_then_reads(timed_out, &[0, 0]),
            Verdict::Linearizable
        );
    }
}

#[test]
fn unknown_write_may_take_effect_after_its_timeout() {
    for timed_out in [true, false] {
        assert_eq!(
            unknown_write_then_reads(timed_out, &[0, 0, 1, 1]),
            Verdict::Linearizable
        );
    }
}

#[test]
fn unknown_write_once_seen_stays() {
    for timed_out in [true, false] {
        let verdict = unknown_write_then_reads(timed_out, &[1, 0]);
        assert_eq!(
            counterexample(verdict).op,
            OpId(2),
            "timed out: {timed_out}"
        );
    }
}

#[test]
fn unknown_write_cannot_take_effect_before_its_invocation() {
    let mut h = Script::new();
    let early_read = h.call(2, read("x"), 1);
    let w = h.invoke(1, write("x", 1));
    h.info(w);
    assert_eq!(counterexample(verdict(&register(), &h)).op, early_read);
}

#[test]
fn failed_write_whose_value_is_read_fails() {
    let mut h = Script::new();
    let w = h.invoke(1, write("x", 1));
    h.fail(w);
    let r = h.call(2, read("x"), 1);
    assert_eq!(counterexample(verdict(&register(), &h)).op, r);
}

// Sets (add-if-absent, returning "was present").

#[test]
fn set_two_concurrent_first_adds_fail() {
    let mut h = Script::new();
    let a = h.invoke(1, "x");
    let b = h.invoke(2, "x");
    h.ok(a, false);
    h.ok(b, false);
    assert!(!is_linearizable(verdict(&SetSpec::new(), &h)));
}

#[test]
fn set_concurrent_adds_one_first_passes() {
    let mut h = Script::new();
    let a = h.invoke(1, "x");
    let b = h.invoke(2, "x");
    h.ok(a, true);
    h.ok(b, false);
    assert_eq!(verdict(&SetSpec::new(), &h), Verdict::Linearizable);
}

#[test]
fn set_present_without_any_add_fails() {
    let mut h = Script::new();
    let a = h.call(1, "x", true);
    assert_eq!(counterexample(verdict(&SetSpec::new(), &h)).op, a);
}

#[test]
fn set_present_after_timed_out_add_passes() {
    let mut h = Script::new();
    let timed_out = h.invoke(1, "x");
    h.info(timed_out);
    h.call(1, "x", true);
    assert_eq!(verdict(&SetSpec::new(), &h), Verdict::Linearizable);
}

#[test]
fn set_present_after_failed_add_fails() {
    let mut h = Script::new();
    let failed = h.invoke(1, "x");
    h.fail(failed);
    h.call(1, "x", true);
    assert!(!is_linearizable(verdict(&SetSpec::new(), &h)));
}

// Key-value store with append.

#[test]
fn kv_get_is_empty_initially() {
    let mut h: Script<Kv, String> = Script::new();
    h.call(1, KvOp::get("x"), String::new());
    assert_eq!(verdict(&KvSpec::new(), &h), Verdict::Linearizable);
    h.call(1, KvOp::get("y"), "v".to_string());
    assert_eq!(counterexample(verdict(&KvSpec::new(), &h)).key, "y");
}

#[test]
fn kv_concurrent_appends_apply_in_one_order() {
    for (seen, linearizable) in [("ab", true), ("ba", true), ("a", false), ("abb", false)] {
        let mut h: Script<Kv, String> = Script::new();
        let a = h.invoke(1, KvOp::append("x", "a"));
        let b = h.invoke(2, KvOp::append("x", "b"));
        h.ok(b, String::new());
        h.ok(a, String::new());
        h.call(3, KvOp::get("x"), seen.to_string());
        h.call(3, KvOp::get("x"), seen.to_string());
        assert_eq!(
            is_linearizable(verdict(&KvSpec::new(), &h)),
            linearizable,
            "get saw {seen:?}"
        );
    }
}

#[test]
fn kv_sequential_appends_keep_their_order() {
    let mut h: Script<Kv, String> = Script::new();
    h.call(1, KvOp::put("x", "p"), String::new());
    h.call(1, KvOp::append("x", "a"), String::new());
    h.call(2, KvOp::append("x", "b"), String::new());
    let get = h.call(3, KvOp::get("x"), "pba".to_string());
    assert_eq!(counterexample(verdict(&KvSpec::new(), &h)).op, get);
}

#[test]
fn kv_keys_are_independent() {
    // One value for both keys would make the get of "y" stale.
    let mut h: Script<Kv, String> = Script::new();
    h.call(1, KvOp::put("x", "1"), String::new());
    h.call(2, KvOp::get("y"), String::new());
    assert_eq!(verdict(&KvSpec::new(), &h), Verdict::Linearizable);
}

// Real-time order, counterexamples, determinism.

/// A register operation that completed `Ok`, with explicit positions and
/// times (nanoseconds) for its invocation and completion.
fn stamped(
    id: u32,
    op: Register,
    invoke: (u64, u64),
    complete: (u64, u64),
    ret: u32,
) -> Operation<Register, u32> {
    let stamp = |(position, time_ns)| Stamp {
        position,
        time: SimTime::from_nanos(time_ns),
        event: position,
    };
    let completion = Some(Completion {
        stamp: stamp(complete),
        outcome: Outcome::Ok(ret),
    });
    Operation {
        id: OpId(id),
        node: NodeId(id),
        op,
        invoke: stamp(invoke),
        completion,
    }
}

#[test]
fn real_time_order_is_position_not_time() {
    // By time the read starts (50ns) before the write ends (100ns), but
    // positions say the write completed first: the read of 0 is stale.
    let sequential = [
        stamped(0, write("x", 1), (0, 0), (1, 100), 1),
        stamped(1, read("x"), (2, 50), (3, 150), 0),
    ];
    let verdict = check(
        &register(),
        &sequential.into_iter().collect(),
        &mut Budget::unlimited(),
    );
    assert!(!is_linearizable(verdict));

    // By time the write ends before the read starts; positions overlap.
    let overlapping = [
        stamped(0, write("x", 1), (0, 0), (2, 10), 1),
        stamped(1, read("x"), (1, 20), (3, 30), 0),
    ];
    let verdict = check(
        &register(),
        &overlapping.into_iter().collect(),
        &mut Budget::unlimited(),
    );
    assert_eq!(verdict, Verdict::Linearizable);
}

#[test]
fn counterexample_names_key_operation_prefix_and_concurrent_ones() {
    let mut h = Script::new();
    h.call(5, write("x", 1), 1);
    let w1 = h.call(1, write("y", 1), 1);
    let r = h.invoke(2, read("y"));
    let w2 = h.invoke(3, write("y", 2));
    let timed_out = h.invoke(4, write("y", 3));
    h.info(timed_out);
    h.ok(r, 9);
    h.ok(w2, 2);
    let c = counterexample(verdict(&register(), &h));
    assert_eq!((c.key, c.op), ("y", r));
    assert_eq!(c.concurrent, vec![w2, timed_out]);
    assert_eq!(c.involved(), vec![r, w2, timed_out]);
    // The longest prefix may use operations with unknown results; w2 and
    // the timed-out write are concurrent, so either order is a prefix.
    let mut rest = c.prefix[1..].to_vec();
    rest.sort();
    assert_eq!((c.prefix[0], rest), (w1, vec![w2, timed_out]));
    let names_both =
        c.explanation.contains("\"y\"") && c.explanation.contains(&format!("#{}", r.0));
    assert!(names_both, "{}", c.explanation);
}

#[test]
fn first_failing_key_in_key_order_is_reported() {
    let mut h = Script::new();
    h.call(1, read("b"), 5);
    h.call(1, read("a"), 5);
    assert_eq!(counterexample(verdict(&register(), &h)).key, "a");
}

#[test]
fn verdict_is_deterministic() {
    let mut h = Script::new();
    let mut pending = Vec::new();
    for value in 1..=6 {
        pending.push(h.invoke(value, write("x", value)));
        h.call(10, read("x"), value.saturating_sub(2));
    }
    for (value, w) in (1..).zip(pending) {
        if value % 2 == 0 {
            h.info(w)
        } else {
            h.ok(w, value)
        }
    }
    h.call(10, read("x"), 42);
    let first = verdict(&register(), &h);
    assert!(matches!(first, Verdict::NotLinearizable(_)));
    for _ in 0..3 {
        assert_eq!(verdict(&register(), &h), first);
    }
}

/// Checks that the test helper builds what it claims.
#[test]
fn script_assigns_positions_in_call_order() {
    let mut h: Script<Register, u32> = Script::new();
    let w = h.invoke(1, write("x", 1));
    h.ok(w, 1);
    let history = h.history();
    let operation = history.get(w);
    assert_eq!(operation.invoke.position, 0);
    assert_eq!(
        operation.completion.as_ref().map(|c| c.stamp.position),
        Some(1)
    );
    assert_eq!(operation.op.call, RegisterCall::Write(1));
}
