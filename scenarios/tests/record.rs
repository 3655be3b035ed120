//! `dsim record` as a user runs it, on every model: the recorded file has
//! the nemesis off and its strikes as timed faults, and running it gives
//! the seed's verdict at the same event; bad input is exit 2.

mod common;

use common::{dsim, scratch};

fn verdict_line(out: &str) -> String {
    let line = out
        .lines()
        .find(|l| l.starts_with("verdict"))
        .expect("a verdict line");
    // Without the expectation, which the recorded file states for itself.
    line.split("  (").next().unwrap().to_owned()
}

#[test]
fn a_recorded_seed_replays_as_an_explicit_plan_on_every_model() {
    let dir = scratch("models");
    // A broken variant of each model, at a seed its nemesis catches, and a
    // correct booking seed with connection faults among its strikes.
    let cases = [
        ("booking/async-replication.ron", "9"),
        ("booking/correct.ron", "3"),
        ("chat/no-resync.ron", "0"),
        ("kgs/async-replica.ron", "0"),
        ("dedup/sloppy-quorum.ron", "0"),
    ];
    for (file, seed) in cases {
        let out_file = dir.join(file.replace('/', "-"));
        let out_path = out_file.to_str().unwrap();
        let (code, out, err) = dsim(&["record", file, "--seed", seed, "--out", out_path]);
        assert_eq!(code, 0, "{file}: {out}{err}");
        assert!(
            out.contains("reproduced the same verdict at the same event"),
            "{file}: {out}"
        );
        let text = std::fs::read_to_string(&out_file).unwrap();
        assert!(text.contains("nemesis: None"), "{file}: the nemesis is off");
        assert!(
            text.starts_with("// Recorded by `dsim record"),
            "{file}: says where it came from"
        );
        let strikes: usize = out
            .split(": ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        if strikes > 0 {
            assert!(
                text.contains("at_ms:"),
                "{file}: its strikes are timed faults"
            );
        }
        // Run as a person would: the same verdict, at the same event.
        let (_, original, _) = dsim(&["run", file, "--seed", seed]);
        let (code, replayed, err) = dsim(&["run", out_path]);
        assert_eq!(
            code, 0,
            "{file}: the recorded file expects what it records: {replayed}{err}"
        );
        assert_eq!(verdict_line(&original), verdict_line(&replayed), "{file}");
    }
}

#[test]
fn recording_a_file_that_does_not_load_is_bad_input() {
    let (code, _, err) = dsim(&["record", "no/such/file.ron", "--seed", "0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no/such/file.ron"), "{err}");
}
