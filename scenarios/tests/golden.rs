//! Golden digests through `dsim check`: a folder without a golden file is
//! checked for outcomes only; `--bless` pins the digests; a changed digest
//! fails the check (exit 1) naming the scenario and the seed; a malformed
//! golden file is bad input (exit 2) naming its line.

use std::path::{Path, PathBuf};

mod common;

use common::dsim;

/// A folder holding one small library scenario (three seeds).
fn folder(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dsim-golden-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let library = Path::new(env!("CARGO_MANIFEST_DIR")).join("dedup/correct.ron");
    let text = std::fs::read_to_string(library).unwrap().replace(
        "seeds: (start: 0, count: 200)",
        "seeds: (start: 0, count: 3)",
    );
    assert!(
        text.contains("count: 3"),
        "the library scenario changed shape"
    );
    std::fs::write(dir.join("correct.ron"), text).unwrap();
    dir
}

#[test]
fn a_golden_digest_mismatch_fails_the_check_and_bless_pins_the_new_ones() {
    let dir = folder("mismatch");
    let dir_arg = dir.to_str().unwrap();
    let (code, out, err) = dsim(&["check", dir_arg]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("digests not pinned"), "{out}");

    let (code, out, _) = dsim(&["check", dir_arg, "--bless"]);
    assert_eq!(code, 0, "{out}");
    let golden = dir.join("golden-digests.txt");
    let pinned = std::fs::read_to_string(&golden).unwrap();
    assert_eq!(
        pinned
            .lines()
            .filter(|l| l.starts_with("correct.ron "))
            .count(),
        3
    );
    assert_eq!(dsim(&["check", dir_arg]).0, 0, "the pinned digests match");

    // Pretend the runs of seed 1 used to be different.
    let line = pinned
        .lines()
        .find(|l| l.starts_with("correct.ron 1 "))
        .unwrap();
    let tampered = pinned.replace(line, &format!("correct.ron 1 {}", "0".repeat(32)));
    std::fs::write(&golden, tampered).unwrap();
    let (code, out, _) = dsim(&["check", dir_arg]);
    assert_eq!(code, 1, "{out}");
    let fail = out.lines().find(|l| l.starts_with("FAIL")).expect(&out);
    assert!(fail.contains("correct.ron"), "{fail}");
    assert!(
        fail.contains("seed 1: golden digest 0000000000000000 is now"),
        "{fail}"
    );
    assert!(fail.contains("--bless"), "{fail}");

    assert_eq!(dsim(&["check", dir_arg, "--bless"]).0, 0);
    assert_eq!(
        std::fs::read_to_string(&golden).unwrap(),
        pinned,
        "blessed back"
    );
}

#[test]
fn a_malformed_golden_file_is_bad_input_with_its_line() {
    let dir = folder("malformed");
    std::fs::write(dir.join("golden-digests.txt"), "# pinned\ncorrect.ron 0\n").unwrap();
    let (code, _, err) = dsim(&["check", dir.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("golden-digests.txt:2: expected `<file> <seed> <digest>`"),
        "{err}"
    );
}

#[test]
fn a_golden_file_pinned_with_the_old_blake3_digests_says_how_to_renew_it() {
    let dir = folder("blake3");
    let old = format!("correct.ron 0 {}\n", "ab".repeat(32));
    std::fs::write(dir.join("golden-digests.txt"), old).unwrap();
    let (code, _, err) = dsim(&["check", dir.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("golden-digests.txt:1:") && err.contains("is not a 32-digit hex digest"),
        "{err}"
    );
    assert!(err.contains("dsim check --bless"), "{err}");
}
