//! `dsim lincheck` as a user runs it: history files in, verdicts and exit
//! codes out (0 linearizable, 1 not, 2 bad input with the line number).

use std::process::Command;

fn lincheck(file: &str, model: &str, extra: &[&str]) -> (i32, String, String) {
    let path = format!("{}/tests/histories/{file}", env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(env!("CARGO_BIN_EXE_dsim"))
        .args(["lincheck", &path, "--model", model])
        .args(extra)
        .output()
        .expect("dsim runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        output.status.code().expect("exited"),
        text(&output.stdout),
        text(&output.stderr),
    )
}

#[test]
fn a_linearizable_register_history_exits_0() {
    let (code, out, _) = lincheck("register-ok.jsonl", "register", &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("linearizable"), "{out}");
}

#[test]
fn a_stale_read_exits_1_and_names_the_key_and_lines() {
    let (code, out, _) = lincheck("register-stale-read.jsonl", "register", &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("key \"x\""), "{out}");
    assert!(
        out.contains("lines 3-4"),
        "the read that cannot be ordered: {out}"
    );
}

#[test]
fn the_initial_value_is_configurable() {
    // Reading null before any write is fine with the default initial value
    // and wrong when the register starts at 0.
    let (code, _, _) = lincheck("register-stale-read.jsonl", "register", &["--initial", "0"]);
    assert_eq!(code, 1);
    let (code, _, err) = lincheck("register-ok.jsonl", "register", &["--initial", "{not json"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn two_first_time_adds_of_one_element_are_not_linearizable() {
    let (code, out, _) = lincheck("set-two-firsts.jsonl", "set", &[]);
    assert_eq!(code, 1, "{out}");
}

#[test]
fn kv_appends_may_apply_in_either_order() {
    let (code, out, _) = lincheck("kv-append.jsonl", "kv", &[]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn bad_input_exits_2_with_the_line() {
    let (code, _, err) = lincheck("truncated.jsonl", "register", &[]);
    assert_eq!(code, 2);
    assert!(err.contains("truncated.jsonl:2:"), "{err}");
    let (code, _, err) = lincheck("orphan-completion.jsonl", "register", &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains(":1: process 0 completes an operation it never invoked"),
        "{err}"
    );
    let (code, _, err) = lincheck("kv-append.jsonl", "set", &[]);
    assert_eq!(code, 2);
    assert!(err.contains("not a set operation"), "{err}");
    let (code, _, err) = lincheck("no-such-file.jsonl", "set", &[]);
    assert_eq!(code, 2, "{err}");
}
