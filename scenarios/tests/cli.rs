//! The `dsim` verbs as a user runs them, on the shipped dedup scenarios:
//! exit codes, what the output promises (verdict, digest, replay command),
//! and the files written.

mod common;

use common::{dsim, scratch};

fn line<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{out}"))
}

#[test]
fn run_explains_a_passing_seed_and_how_to_replay_it() {
    let (code, out, err) = dsim(&["run", "dedup/correct.ron", "--seed", "3"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(line(&out, "verdict").contains("pass"), "{out}");
    assert_eq!(
        line(&out, "digest")
            .split_whitespace()
            .nth(1)
            .unwrap()
            .len(),
        sim_core::digest::DIGEST_HEX_DIGITS
    );
    assert!(line(&out, "run").contains("events/s"), "{out}");
    assert_eq!(
        line(&out, "replay"),
        "replay    dsim run dedup/correct.ron --seed 3"
    );
    // The printed command, run as printed, is the same run.
    let command: Vec<&str> = line(&out, "replay").split_whitespace().skip(2).collect();
    let (_, again, _) = dsim(&command);
    assert_eq!(
        line(&out, "digest"),
        line(&again, "digest"),
        "same seed, same run"
    );
}

#[test]
fn run_names_the_violation_of_a_broken_variant_and_exits_0_when_expected() {
    let (code, out, _) = dsim(&["run", "dedup/small-quorums.ron", "--seed", "0"]);
    assert_eq!(code, 0, "the scenario expects this violation: {out}");
    let verdict = line(&out, "verdict");
    assert!(
        verdict.contains("violated `at_most_one_false` at event"),
        "{verdict}"
    );
    assert!(verdict.contains("as expected"), "{verdict}");
}

#[test]
fn run_exits_1_when_a_seed_does_not_do_what_the_scenario_expects() {
    // The late-tie bug hides on most seeds: seed 0 passes, which is not the
    // violation the scenario promises.
    let (code, out, _) = dsim(&["run", "dedup/late-tie.ron", "--seed", "0"]);
    assert_eq!(code, 1, "{out}");
    assert!(line(&out, "verdict").contains("UNEXPECTED"), "{out}");
}

#[test]
fn run_json_prints_one_seed_line() {
    let (code, out, _) = dsim(&["run", "dedup/correct.ron", "--seed", "1", "--json"]);
    assert_eq!(code, 0);
    let value: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(value["seed"], 1);
    assert_eq!(value["verdict"], "pass");
}

#[test]
fn replay_prints_the_trace_window_readably_or_as_json() {
    let (code, out, err) = dsim(&[
        "replay",
        "dedup/correct.ron",
        "--seed",
        "2",
        "--from",
        "10",
        "--to",
        "20",
    ]);
    assert_eq!(code, 0, "{err}");
    let steps: Vec<u64> = out
        .lines()
        .map(|l| l[1..].split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert!(
        !steps.is_empty() && steps.iter().all(|s| (10..=20).contains(s)),
        "{out}"
    );
    assert!(
        out.contains("client-") && out.contains("replica-"),
        "nodes by name: {out}"
    );
    assert!(err.contains("verdict pass; digest"), "{err}");

    let (_, json, _) = dsim(&[
        "replay",
        "dedup/correct.ron",
        "--seed",
        "2",
        "--to",
        "5",
        "--json",
    ]);
    for row in json.lines() {
        let event: serde_json::Value = serde_json::from_str(row).unwrap();
        assert!(event["event"].as_u64().unwrap() <= 5);
    }
}

#[test]
fn check_fails_a_scenario_whose_promise_breaks() {
    let dir = scratch("check");
    // A broken variant that claims to pass must fail the check.
    let text = std::fs::read_to_string(format!(
        "{}/dedup/small-quorums.ron",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let lying = text.replace("expect: Violation(\"at_most_one_false\")", "expect: Pass");
    std::fs::write(dir.join("lying.ron"), lying).unwrap();
    let (code, out, _) = dsim(&["check", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL") && out.contains("expected every seed to pass"),
        "{out}"
    );
    // One expecting the wrong check fails too.
    let wrong = text.replace(
        "Violation(\"at_most_one_false\")",
        "Violation(\"linearizable\")",
    );
    std::fs::write(dir.join("lying.ron"), wrong).unwrap();
    let (code, out, _) = dsim(&["check", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("failed with `at_most_one_false` instead"),
        "{out}"
    );
}

#[test]
fn reports_are_written_where_asked() {
    let dir = scratch("report");
    let d = dir.to_str().unwrap();
    let (code, _, err) = dsim(&["run", "dedup/bloom-filter.ron", "--report", d]);
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(dir.join("dedup-bloom-filter-seed-0.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("linearizable"));

    let results = dir.join("sweep.jsonl");
    let (code, out, _) = dsim(&[
        "sweep",
        "dedup/correct.ron",
        "--seeds",
        "0..8",
        "--out",
        results.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let html = dir.join("from-results.html");
    let (code, out, err) = dsim(&[
        "report",
        results.to_str().unwrap(),
        "--out",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        std::fs::read_to_string(&html)
            .unwrap()
            .contains("dedup-correct")
    );
}

/// A sweep timed or run for its summary alone writes its lines to a
/// device, which has nothing to sync.
#[cfg(unix)]
#[test]
fn a_sweep_can_write_its_lines_to_dev_null() {
    let (code, out, err) = dsim(&[
        "sweep",
        "register/correct.ron",
        "--seeds",
        "0..3",
        "--out",
        "/dev/null",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("3 seeds") && out.contains("results   /dev/null"),
        "{out}"
    );
}

#[test]
fn a_grid_sweep_reports_each_cell_and_skips_invalid_ones() {
    let dir = scratch("grid");
    let args = [
        "sweep",
        "dedup/small-quorums.ron",
        "--seeds",
        "0..3",
        "--grid",
        "read_quorum=1..=4,write_quorum=1..=2",
    ];
    let (code, out, err) = dsim(&[&args[..], &["--report", dir.to_str().unwrap()]].concat());
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("read_quorum=1,write_quorum=1") && out.contains("100.0% of 3 seeds fail"),
        "{out}"
    );
    assert!(
        out.contains("read_quorum=4,write_quorum=1") && out.contains("skipped"),
        "R > N is skipped: {out}"
    );
    assert!(dir.join("dedup-small-quorums-grid.html").exists());
    let (code, _, err) = dsim(&[
        "sweep",
        "dedup/small-quorums.ron",
        "--seeds",
        "0..2",
        "--grid",
        "bogus=1..=2",
    ]);
    assert_eq!(code, 2, "an unknown parameter is bad input: {err}");
}

#[test]
fn a_grid_varies_the_nemesis_beside_the_model() {
    let (code, out, err) = dsim(&[
        "sweep",
        "kgs/tradeoff.ron",
        "--seeds",
        "0..2",
        "--grid",
        "bulk_size=100|100000,nemesis.interval_ms=16000",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let cell = |label: &str| {
        out.lines()
            .find(|l| l.contains(label))
            .unwrap_or_else(|| panic!("no cell {label}: {out}"))
            .to_owned()
    };
    let metric = |line: &str, name: &str| -> f64 {
        let after = line.split(&format!("{name} ")).nth(1).expect(name);
        after.split(';').next().unwrap().trim().parse().unwrap()
    };
    let small = cell("bulk_size=100,nemesis.interval_ms=16000");
    let large = cell("bulk_size=100000,nemesis.interval_ms=16000");
    assert!(
        metric(&small, "stalled_fraction") > 10.0 * metric(&large, "stalled_fraction"),
        "small bulks stall clients: {small} / {large}"
    );
    assert!(
        metric(&small, "authority_requests_per_s")
            > 5.0 * metric(&large, "authority_requests_per_s"),
        "and load the authority: {small} / {large}"
    );
    let (code, _, err) = dsim(&[
        "sweep",
        "kgs/tradeoff.ron",
        "--seeds",
        "0..2",
        "--grid",
        "nemesis.interval=100",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("interval_ms_min"),
        "the fields that exist are named: {err}"
    );
}

#[test]
fn a_pass_that_never_reaches_a_required_label_fails_the_check_and_sweeps_count_labels() {
    // Booking with no faults at all: no failover can happen during a payment.
    let dir = scratch("reach");
    let text = r#"(
        name: "booking-no-faults",
        model: Booking((workload: (users: 50))),
        duration_ms: 6000,
        seeds: (start: 0, count: 3),
        expect: Pass,
        reach: ["failover_during_payment", "stale_map_served"],
    )"#;
    std::fs::write(dir.join("quiet.ron"), text).unwrap();
    let (code, out, err) = dsim(&["check", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("none reached `failover_during_payment`"),
        "{out}"
    );
    assert!(
        !out.contains("`stale_map_served`"),
        "maps are stale at the start: {out}"
    );

    let (code, out, _) = dsim(&["sweep", "booking/correct.ron", "--seeds", "0..20"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("reached failover_during_payment"), "{out}");
}
