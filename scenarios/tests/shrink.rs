//! `dsim shrink` as a user runs it, on every model: the shrunk file still
//! fails the same check when run, is no bigger than the recorded seed and
//! smaller in some measure, says what changed, comes out the same on one
//! core as on two, and keeps to its budget; bad input is exit 2.

mod common;

use common::{dsim, scratch};

/// The measures a `--first` line reports: `faults 8 → 3, events 4,881 →
/// 1,123, nodes 308 → 12, run 13.00 s → 7.20 s` as (before, after) pairs.
fn sizes(line: &str) -> Vec<(f64, f64)> {
    let number = |s: &str| s.trim().replace(',', "").parse::<f64>().ok();
    line.split("  (")
        .next()
        .unwrap()
        .split(", ")
        .filter_map(|part| {
            let (before, after) = part.split_once(" → ")?;
            let before = number(before.trim_end_matches(" s").rsplit(' ').next()?)?;
            let after = number(after.split(' ').next()?)?;
            Some((before, after))
        })
        .collect()
}

/// The one `.ron` file in `dir`.
fn only_file(dir: &std::path::Path) -> std::path::PathBuf {
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

#[test]
fn a_shrunk_seed_still_fails_its_check_and_is_smaller_on_every_model() {
    let cases = [
        (
            "booking/async-replication.ron",
            "seat_sold_once|zone_capacity|money_conserved",
        ),
        ("chat/no-resync.ron", "acknowledged_shown"),
        ("kgs/async-replica.ron", "bulks_leased_once|ids_unique"),
        ("dedup/sloppy-quorum.ron", "at_most_one_false"),
        (
            "register/ack-before-sync.ron",
            "acknowledged_writes_survive",
        ),
    ];
    for (file, checks) in cases {
        let dir = scratch(&format!("every-{}", file.replace(['/', '.'], "-")));
        let (code, out, err) = dsim(&[
            "shrink",
            file,
            "--first",
            "1",
            "--attempts",
            "400",
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{file}: {out}{err}");
        let line = out.lines().next().expect("a line per seed");
        let check = line.split_whitespace().nth(2).unwrap();
        assert!(checks.split('|').any(|c| c == check), "{file}: {line}");
        let [faults, events, nodes, run] = sizes(line)[..] else {
            panic!("{file}: faults, events, nodes and run length in {line}")
        };
        assert!(
            faults.1 <= faults.0 && nodes.1 <= nodes.0 && run.1 <= run.0,
            "{file}: {line}"
        );
        assert!(
            faults.1 < faults.0 || events.1 < events.0 || nodes.1 < nodes.0 || run.1 < run.0,
            "{file}: smaller in some measure: {line}"
        );
        let shrunk = only_file(&dir);
        let text = std::fs::read_to_string(&shrunk).unwrap();
        assert!(text.starts_with("// Shrunk by `dsim shrink"), "{file}");
        assert!(text.contains("// What the shrink changed:"), "{file}");
        assert!(
            text.contains(&format!("expect: Violation(\"{check}\")")),
            "{file}"
        );
        // Run as a person would: it fails that check, as it expects.
        let (code, ran, err) = dsim(&["run", shrunk.to_str().unwrap()]);
        assert_eq!(code, 0, "{file}: {ran}{err}");
        assert!(
            ran.contains(&format!("violated `{check}`")),
            "{file}: {ran}"
        );
    }
}

#[test]
fn the_faults_a_failure_does_not_need_are_removed_and_the_one_it_needs_stays() {
    // The register that acknowledges before its sync loses a write only
    // when the server crashes; the pauses of clients and the link changes
    // around that crash are noise.
    let dir = scratch("needed");
    let file = dir.join("noisy.ron");
    std::fs::write(
        &file,
        r#"(
    name: "noisy-ack-before-sync",
    model: Register((
        variant: AckBeforeSync,
        workload: (clients: 3, think_ms_mean: 5, write_per_million: 900000, timeout_ms: 200),
    )),
    disks: { "server-0": (buffered: true, sync_latency: Constant(us: 20000)) },
    faults: [
        (at_ms: 50, fault: Pause("client-1"), duration_ms: Some(30)),
        (at_ms: 120, fault: Link(from: None, to: Some("client-2"), link: (latency: Constant(us: 3000))), duration_ms: Some(100)),
        (at_ms: 200, fault: Pause("client-0"), duration_ms: Some(40)),
        (at_ms: 300, fault: Crash("server-0"), duration_ms: Some(50)),
        (at_ms: 400, fault: Pause("client-2"), duration_ms: Some(20)),
        (at_ms: 500, fault: ClockStep(node: "client-1", delta_us: 1000)),
    ],
    duration_ms: 1000,
    seeds: (start: 0, count: 1),
    expect: Violation("acknowledged_writes_survive"),
)"#,
    )
    .unwrap();
    let out_file = dir.join("shrunk.ron");
    let (code, out, err) = dsim(&[
        "shrink",
        file.to_str().unwrap(),
        "--seed",
        "0",
        "--out",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let text = std::fs::read_to_string(&out_file).unwrap();
    let faults: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("(at_ms:"))
        .collect();
    assert_eq!(faults.len(), 1, "only the crash is needed: {text}");
    assert!(faults[0].contains("Crash(\"server-0\")"), "{text}");
    assert!(out.contains("faults: 6 → 1 (5 removed)"), "{out}");
    assert!(out.contains("as small as it gets"), "{out}");
}

#[test]
fn a_shrink_is_the_same_on_one_core_as_on_two() {
    let dir = scratch("same");
    let mut texts = Vec::new();
    for jobs in ["1", "2"] {
        let out_file = dir.join(format!("jobs-{jobs}.ron"));
        let (code, out, err) = dsim(&[
            "shrink",
            "booking/async-replication.ron",
            "--seed",
            "7",
            "--jobs",
            jobs,
            "--out",
            out_file.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{out}{err}");
        let text = std::fs::read_to_string(&out_file).unwrap();
        // The header's wall time is the one line that may differ.
        let text: Vec<String> = text
            .lines()
            .filter(|l| !l.contains(" s; "))
            .map(String::from)
            .collect();
        texts.push(text);
    }
    assert_eq!(texts[0], texts[1]);
}

#[test]
fn an_attempt_budget_ends_a_shrink_with_what_it_has_found() {
    let dir = scratch("budget");
    let out_file = dir.join("shrunk.ron");
    let (code, out, err) = dsim(&[
        "shrink",
        "booking/no-reconcile.ron",
        "--seed",
        "0",
        "--attempts",
        "3",
        "--out",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("3 runs"), "{out}");
    assert!(out.contains("the attempt budget ended it"), "{out}");
    let (code, ran, err) = dsim(&["run", out_file.to_str().unwrap()]);
    assert_eq!(code, 0, "what it has found still fails: {ran}{err}");
}

#[test]
fn shrinking_without_a_failing_seed_is_bad_input() {
    let (code, _, err) = dsim(&["shrink", "dedup/correct.ron", "--seed", "0"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("seed 0 of dedup/correct.ron passes: nothing to shrink"),
        "{err}"
    );
    let (code, _, err) = dsim(&["shrink", "dedup/small-quorums.ron"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--seed N"), "{err}");
    let (code, _, err) = dsim(&[
        "shrink",
        "dedup/small-quorums.ron",
        "--seed",
        "0",
        "--attempts",
        "0",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--attempts 0"), "{err}");
    let (code, _, err) = dsim(&["shrink", "no/such/file.ron", "--seed", "0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no/such/file.ron"), "{err}");
}
