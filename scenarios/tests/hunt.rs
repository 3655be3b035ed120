//! `dsim hunt` and its corpus as a user runs them: the corpus keeps the
//! soonest failures of each check, is the same for any thread count given
//! a budget in seeds, and `dsim check CORPUS` replays it, failing when a
//! seed no longer fails as recorded; a swarm hunt's replay commands say
//! `--swarm` and reproduce the run; bad budgets and broken corpora are
//! bad input.

mod common;

use common::{dsim, scratch};

use std::path::Path;

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The corpus's seed lines as (verdict, soonest event, seed).
fn entries(corpus: &str) -> Vec<(String, u64, u64)> {
    corpus
        .lines()
        .skip(1)
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let event = v["event"].as_u64().or(v["events"].as_u64()).unwrap();
            (
                v["verdict"].as_str().unwrap().to_owned(),
                event,
                v["seed"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_hunt_keeps_the_soonest_failures_the_same_on_any_thread_count_and_check_replays_them() {
    let dir = scratch("corpus");
    let (one, two) = (dir.join("one.jsonl"), dir.join("two.jsonl"));
    let hunt = |jobs: &str, corpus: &Path| {
        dsim(&[
            "hunt",
            "dedup/small-quorums.ron",
            "--seeds",
            "150",
            "--start",
            "7",
            "--keep",
            "5",
            "--jobs",
            jobs,
            "--corpus",
            path(corpus),
        ])
    };
    let (code, out, err) = hunt("1", &one);
    assert_eq!(
        code, 0,
        "a broken variant caught is the expected outcome: {out}{err}"
    );
    assert!(out.contains("150 seeds (7..157)"), "{out}");
    assert!(
        out.contains("again     dsim hunt dedup/small-quorums.ron --start 7 --seeds 150"),
        "{out}"
    );
    hunt("2", &two);
    let text = std::fs::read_to_string(&one).unwrap();
    assert_eq!(
        text,
        std::fs::read_to_string(&two).unwrap(),
        "same seeds, same corpus"
    );

    let header: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(header["seeds"], "7..157");
    let failing: u64 = header["failing"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(failing > 5, "more seeds failed than were kept: {header}");
    let kept = entries(&text);
    assert!(!kept.is_empty() && kept.len() <= 5 * header["failing"].as_object().unwrap().len());
    let mut sorted = kept.clone();
    sorted.sort();
    assert_eq!(kept, sorted, "grouped by check, the soonest failure first");

    let (code, out, err) = dsim(&["check", path(&one)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("{} seeds as recorded", kept.len())),
        "{out}"
    );
}

/// A 40-seed hunt of a broken dedup variant (every seed fails), kept in `corpus`.
fn small_corpus(corpus: &Path) {
    let (code, out, err) = dsim(&[
        "hunt",
        "dedup/small-quorums.ron",
        "--seeds",
        "40",
        "--corpus",
        path(corpus),
    ]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn a_corpus_seed_that_no_longer_fails_as_recorded_fails_the_check() {
    let dir = scratch("changed");
    let corpus = dir.join("c.jsonl");
    small_corpus(&corpus);
    let text = std::fs::read_to_string(&corpus).unwrap();
    let seed = entries(&text)[0].2;
    // As if the design had changed: the recorded digest is not this run's.
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut entry: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    entry["digest"] = serde_json::Value::from("0".repeat(sim_core::digest::DIGEST_HEX_DIGITS));
    lines[1] = entry.to_string();
    std::fs::write(&corpus, lines.join("\n")).unwrap();
    let (code, out, _) = dsim(&["check", path(&corpus)]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("FAIL seed {seed}")) && out.contains("the run changed"),
        "{out}"
    );
    assert!(out.contains("NOT as recorded"), "{out}");
}

#[test]
fn a_swarm_hunt_says_swarm_in_its_replay_commands_and_they_reproduce_the_run() {
    // chat/no-resync.ron turns swarm off; the hunt turns it on.
    let dir = scratch("swarm");
    let corpus = dir.join("c.jsonl");
    let (code, out, _) = dsim(&[
        "hunt",
        "chat/no-resync.ron",
        "--seeds",
        "32",
        "--corpus",
        path(&corpus),
    ]);
    assert_eq!(code, 0, "{out}");
    let replay = out
        .lines()
        .find(|l| l.trim_start().starts_with("dsim run"))
        .expect("a replay command");
    assert!(replay.ends_with("--swarm"), "{replay}");
    let command: Vec<&str> = replay.split_whitespace().skip(1).collect();
    let (_, run, _) = dsim(&command);
    let digest = run
        .lines()
        .find(|l| l.starts_with("digest"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned();
    let seed: u64 = command[command.iter().position(|a| *a == "--seed").unwrap() + 1]
        .parse()
        .unwrap();
    let text = std::fs::read_to_string(&corpus).unwrap();
    let recorded = text
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["seed"] == seed)
        .expect("the seed is in the corpus");
    assert_eq!(
        recorded["digest"],
        digest.as_str(),
        "the printed command is the hunted run"
    );
}

#[test]
fn a_time_budget_ends_a_hunt_and_an_uncaught_broken_variant_is_unexpected() {
    let (code, out, err) = dsim(&["hunt", "register/correct.ron", "--budget", "1s"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("no seed failed"), "{out}");
    // A broken variant that a whole hunt never catches is unexpected: the
    // register's mistake needs a crash, and a 1 ms run is over before any.
    let dir = scratch("uncaught");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("register/ack-before-sync.ron"),
    )
    .unwrap()
    .replace("duration_ms: ", "duration_ms: 1, // was ")
    .replace("liveness: (", "// liveness: (");
    let file = dir.join("short.ron");
    std::fs::write(&file, text).unwrap();
    let (code, out, err) = dsim(&["hunt", path(&file), "--seeds", "8"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("no seed failed"), "{out}");
}

#[test]
fn bad_budgets_and_broken_corpora_are_bad_input() {
    let cases: [(&[&str], &str); 4] = [
        (&["hunt", "register/correct.ron"], "say how long to hunt"),
        (
            &["hunt", "register/correct.ron", "--budget", "10x"],
            "unknown unit `x`",
        ),
        (
            &["hunt", "register/correct.ron", "--budget", "0s"],
            "needs some time",
        ),
        (
            &["hunt", "register/correct.ron", "--seeds", "0"],
            "at least one seed",
        ),
    ];
    for (args, message) in cases {
        let (code, out, err) = dsim(args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(message), "{args:?}: {err}");
    }
    let dir = scratch("broken");
    let corpus = dir.join("c.jsonl");
    small_corpus(&corpus);
    let text = std::fs::read_to_string(&corpus).unwrap();
    let truncated = &text[..text.len() - 30];
    std::fs::write(&corpus, truncated).unwrap();
    let (code, _, err) = dsim(&["check", path(&corpus)]);
    assert_eq!(code, 2, "{err}");
    let last = truncated.lines().count();
    assert!(
        err.contains(&format!("c.jsonl:{last}: not a corpus seed line")),
        "{err}"
    );
    std::fs::write(&corpus, "{}\n").unwrap();
    let (code, _, err) = dsim(&["check", path(&corpus)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("c.jsonl:1: not a hunt corpus header"), "{err}");
}
