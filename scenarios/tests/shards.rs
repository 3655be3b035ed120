//! Sweeps are machine-independent: the JSON lines are byte-identical for
//! any `--jobs`, and shards merged by `dsim merge` are byte-identical to the
//! unsharded sweep for any shard count. This emulates a Kubernetes Indexed
//! Job or a Slurm array locally: N processes, one per shard index.

use std::path::{Path, PathBuf};
use std::process::Command;

const SCENARIO: &str = "dedup/correct.ron";
const SEEDS: &str = "0..40";

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dsim-shards-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn dsim(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_dsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("dsim runs");
    (
        output.status.code().unwrap(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn sweep(out: &Path, extra: &[&str]) {
    let mut args = vec![
        "sweep",
        SCENARIO,
        "--seeds",
        SEEDS,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (code, err) = dsim(&args);
    assert_eq!(code, 0, "{err}");
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn results_are_byte_identical_for_any_thread_count() {
    let dir = scratch("jobs");
    let (one, two) = (dir.join("one.jsonl"), dir.join("two.jsonl"));
    sweep(&one, &["--jobs", "1"]);
    sweep(&two, &["--jobs", "2"]);
    assert_eq!(read(&one), read(&two));
    assert_eq!(read(&one).lines().count(), 41, "40 seeds and a trailer");
}

#[test]
fn merged_shards_equal_the_unsharded_sweep_for_any_shard_count() {
    let dir = scratch("merge");
    let whole = dir.join("whole.jsonl");
    sweep(&whole, &[]);
    for count in [1, 2, 3, 7] {
        let mut files = Vec::new();
        for index in 0..count {
            let file = dir.join(format!("n{count}-shard-{index}.jsonl"));
            sweep(&file, &["--shard", &format!("{index}/{count}")]);
            files.push(file);
        }
        let merged = dir.join(format!("n{count}-merged.jsonl"));
        let mut args = vec!["merge", "--out", merged.to_str().unwrap()];
        // Shards arrive in any order.
        args.extend(files.iter().rev().map(|f| f.to_str().unwrap()));
        let (code, err) = dsim(&args);
        assert_eq!(code, 0, "{err}");
        assert_eq!(read(&merged), read(&whole), "{count} shards");
    }
}

#[test]
fn merge_refuses_missing_truncated_duplicated_and_foreign_shards() {
    let dir = scratch("refuse");
    let shard = |i: u32, n: u32| {
        let file = dir.join(format!("s{i}of{n}.jsonl"));
        sweep(&file, &["--shard", &format!("{i}/{n}")]);
        file.to_str().unwrap().to_owned()
    };
    let (s0, s1, s2) = (shard(0, 3), shard(1, 3), shard(2, 3));
    let other = shard(0, 2);

    let (code, err) = dsim(&["merge", &s0, &s1]);
    assert_eq!(code, 2);
    assert!(err.contains("shard 2/3 is missing"), "{err}");

    let (code, err) = dsim(&["merge", &s0, &s1, &s1, &s2]);
    assert_eq!(code, 2);
    assert!(err.contains("given twice"), "{err}");

    let (code, err) = dsim(&["merge", &s0, &s1, &s2, &other]);
    assert_eq!(code, 2);
    assert!(err.contains("another sweep"), "{err}");

    // A shard killed mid-write: its last line (the trailer) is missing.
    let text = read(Path::new(&s2));
    let cut = text
        .lines()
        .take(text.lines().count() - 1)
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&s2, cut).unwrap();
    let (code, err) = dsim(&["merge", &s0, &s1, &s2]);
    assert_eq!(code, 2);
    assert!(err.contains("no trailer line"), "{err}");
}
