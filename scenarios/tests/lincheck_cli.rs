//! `dsim lincheck` as a user runs it: history files in, verdicts and exit
//! codes out (0 linearizable, 1 not, 2 bad input with the line number,
//! 3 unknown with the limit that ran out).

use std::path::Path;
use std::process::Command;

// The generator of issue #8's history, shared with sim-core's tests.
#[path = "../../sim-core/tests/lincheck_support/hard.rs"]
mod hard;

fn lincheck(file: &str, model: &str, extra: &[&str]) -> (i32, String, String) {
    let path = format!("{}/tests/histories/{file}", env!("CARGO_MANIFEST_DIR"));
    lincheck_path(Path::new(&path), model, extra)
}

fn lincheck_path(path: &Path, model: &str, extra: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_dsim"))
        .arg("lincheck")
        .arg(path)
        .args(["--model", model])
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

/// Writes issue #8's history where only this test reads it.
fn hard_history_file(easy_key: hard::EasyKey) -> std::path::PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("issue-8-{easy_key:?}.jsonl"));
    let history = hard::hard_key_history(1, easy_key);
    std::fs::write(&path, hard::to_json_lines(&history)).expect("write the history");
    path
}

#[test]
fn issue_8_history_exits_1_on_its_easy_key() {
    let path = hard_history_file(hard::EasyKey::Refutable);
    let limits = ["--initial", "0", "--memory-limit", "16"];
    let (code, out, err) = lincheck_path(&path, "register", &limits);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("key \"k9\""), "{out}");
}

#[test]
fn issue_8_hard_key_exits_3_at_the_memory_limit() {
    let path = hard_history_file(hard::EasyKey::Linearizable);
    let limits = ["--initial", "0", "--memory-limit", "16"];
    let (code, out, err) = lincheck_path(&path, "register", &limits);
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        out.contains("the memory limit of 16 MB (--memory-limit)"),
        "{out}"
    );
    assert!(out.contains(r#"undecided keys: ["k0"]"#), "{out}");
}

#[test]
fn a_bad_memory_limit_exits_2_with_the_reason() {
    for bad in ["0", "1.5", "lots", "-3", "99999999999"] {
        let argument = format!("--memory-limit={bad}");
        let (code, _, err) = lincheck("register-ok.jsonl", "register", &[&argument]);
        assert_eq!(code, 2, "--memory-limit {bad}: {err}");
        assert!(err.contains("not a whole number of megabytes"), "{err}");
    }
}
