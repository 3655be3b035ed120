//! Sweeps are machine-independent: the JSON lines are byte-identical for
//! any `--jobs`, and shards merged by `dsim merge` are byte-identical to the
//! unsharded sweep for any shard count. The shipped Kubernetes Indexed Job
//! and Slurm array are run here as their engines would run them, one shell
//! per index with the engine's variables set, and their shards merged;
//! `cargo xtask slurm` does the same on a real Slurm.

use std::path::{Path, PathBuf};
use std::process::Command;

const SCENARIO: &str = "dedup/correct.ron";
const SEEDS: &str = "0..40";

mod common;

use common::{dsim as dsim_out, scratch};

fn dsim(args: &[&str]) -> (i32, String) {
    let (code, _, err) = dsim_out(args);
    (code, err)
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

fn paths(files: &[PathBuf]) -> Vec<&str> {
    files.iter().map(|f| f.to_str().unwrap()).collect()
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
        args.extend(paths(&files).into_iter().rev());
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
    assert!(
        err.contains(&format!("{other}: belongs to another sweep")),
        "{err}"
    );

    // A shard killed mid-write: its last line (the trailer) is missing.
    let complete = read(Path::new(&s2));
    let cut: Vec<&str> = complete
        .lines()
        .take(complete.lines().count() - 1)
        .collect();
    std::fs::write(&s2, cut.join("\n")).unwrap();
    let (code, err) = dsim(&["merge", &s0, &s1, &s2]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("{s2}:{}: no trailer line", cut.len())),
        "{err}"
    );

    // Re-running the killed shard mends the sweep.
    shard(2, 3);
    assert_eq!(dsim(&["merge", &s0, &s1, &s2]).0, 0);

    // A seed line that is not the shard's, found while streaming: the
    // merge stops naming the line, and its output has no trailer.
    let good = read(Path::new(&s1));
    let first_seed = good
        .lines()
        .next()
        .unwrap()
        .replace("\"seed\":1,", "\"seed\":7,");
    assert_ne!(first_seed, good.lines().next().unwrap(), "the edit took");
    let edited: Vec<String> = std::iter::once(first_seed)
        .chain(good.lines().skip(1).map(str::to_owned))
        .collect();
    std::fs::write(&s1, edited.join("\n")).unwrap();
    let out = dir.join("cut-short.jsonl");
    let (code, err) = dsim(&["merge", "--out", out.to_str().unwrap(), &s0, &s1, &s2]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("{s1}:1: its seeds are not those of shard 1/3")),
        "{err}"
    );
    assert!(
        !read(&out).contains("trailer"),
        "an unfinished merge has no trailer"
    );
    let (code, err) = dsim(&["merge", &s0, &s1, "no-such-shard.jsonl"]);
    assert_eq!(code, 2);
    assert!(err.contains("no-such-shard.jsonl: cannot read"), "{err}");
}

#[test]
fn merge_summarises_failures_and_reports_as_the_unsharded_sweep_does() {
    let dir = scratch("summary");
    let file = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let (whole_dir, merged_dir) = (file("whole-report"), file("merged-report"));
    let run = |extra: &[&str]| {
        let broken = ["sweep", "dedup/minority-writes.ron", "--seeds", "0..30"];
        dsim_out(&[&broken[..], extra].concat())
    };
    let whole = run(&["--out", &file("whole.jsonl"), "--report", &whole_dir]);
    let shards: Vec<String> = (0..3).map(|k| file(&format!("shard-{k}.jsonl"))).collect();
    for (k, shard) in shards.iter().enumerate() {
        assert_eq!(run(&["--shard", &format!("{k}/3"), "--out", shard]).0, 0);
    }
    let all = file("all.jsonl");
    let mut merge = vec!["merge", "--out", &all, "--report", &merged_dir];
    merge.extend(shards.iter().map(String::as_str));
    let merged = dsim_out(&merge);
    assert_eq!((whole.0, merged.0), (0, 0), "{}{}", whole.2, merged.2);
    // Past the first line (timing vs. provenance) and the file names,
    // the summaries agree line for line.
    let body = |out: &str| -> Vec<String> {
        let own = |l: &&str| l.starts_with("results") || l.starts_with("report");
        out.lines()
            .skip(1)
            .filter(|l| !own(l))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(body(&whole.1), body(&merged.1));
    assert!(merged.1.contains("at_most_one_false"), "{}", merged.1);
    let report = "dedup-minority-writes-sweep.html";
    let html = |d: &str| read(&Path::new(d).join(report));
    assert_eq!(html(&whole_dir), html(&merged_dir));
}

/// The repository root: the scenarios crate's parent.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The value of the first `key: value` line.
fn yaml_value<'a>(yaml: &'a str, key: &str) -> &'a str {
    let prefix = format!("{key}:");
    yaml.lines()
        .find_map(|l| l.trim().strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("the manifest has no `{key}:`"))
        .trim()
}

/// The container's `args`: one folded block scalar (`- >`), its lines
/// joined with spaces as YAML folds lines of equal indentation.
fn yaml_args(yaml: &str) -> String {
    let mut lines = yaml.lines().skip_while(|l| l.trim() != "args:").skip(1);
    assert_eq!(
        lines.next().map(str::trim),
        Some("- >"),
        "args is one folded scalar"
    );
    let body: Vec<&str> = lines
        .take_while(|l| l.starts_with("              ") && !l.trim().is_empty())
        .collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    assert!(
        body.iter().all(|l| indent(l) == indent(body[0])),
        "equal indentation"
    );
    body.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ")
}

/// `text` with each `(from, to)` replaced; each `from` must occur once.
fn substitute(text: &str, pairs: &[(&str, &str)]) -> String {
    pairs.iter().fold(text.to_owned(), |acc, (from, to)| {
        assert_eq!(acc.matches(from).count(), 1, "`{from}` once in: {acc}");
        acc.replace(from, to)
    })
}

/// Merges `dir/shard-*.jsonl` and asserts it equals `whole`.
fn assert_shards_merge_into(dir: &Path, count: u32, whole: &Path) {
    let shards: Vec<PathBuf> = (0..count)
        .map(|k| dir.join(format!("shard-{k}.jsonl")))
        .collect();
    let merged = dir.join("merged.jsonl");
    let args = [
        &["merge", "--out", merged.to_str().unwrap()][..],
        &paths(&shards),
    ]
    .concat();
    let (code, err) = dsim(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(read(&merged), read(whole));
}

#[test]
fn the_kubernetes_indexed_job_runs_shards_that_merge_into_the_sweep() {
    let yaml = read(&root().join("scenarios/examples/k8s-indexed-job.yaml"));
    let completions: u32 = yaml_value(&yaml, "completions").parse().unwrap();
    let after_name = yaml
        .split("- name: SHARDS")
        .nth(1)
        .expect("a SHARDS variable");
    let shards = yaml_value(after_name, "value").trim_matches('"');
    assert_eq!(
        shards,
        completions.to_string(),
        "SHARDS is the completion count"
    );
    let dir = scratch("k8s");
    let scenario = format!("{}/scenarios/dedup/correct.ron", root().display());
    // The image's paths mapped to this checkout, the seeds cut to a test's.
    let script = substitute(
        &yaml_args(&yaml),
        &[
            ("/dsim/dsim ", &format!("{} ", env!("CARGO_BIN_EXE_dsim"))),
            ("/dsim/scenarios/dedup/correct.ron", &scenario),
            ("/results/", &format!("{}/", dir.display())),
            ("--seeds 0..100000", &format!("--seeds {SEEDS}")),
        ],
    );
    for index in 0..completions {
        let status = Command::new("/bin/sh")
            .args(["-c", &script])
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .env("SHARDS", shards)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pod {index}: {status}");
    }
    let whole = dir.join("whole.jsonl");
    let args = [
        "sweep",
        &scenario,
        "--seeds",
        SEEDS,
        "--out",
        whole.to_str().unwrap(),
    ];
    assert_eq!(dsim(&args).0, 0);
    assert_shards_merge_into(&dir, completions, &whole);
}

#[cfg(unix)]
#[test]
fn the_slurm_array_script_runs_shards_that_merge_into_the_sweep() {
    use std::os::unix::fs::symlink;
    // A checkout as the script is submitted from: scenarios/ and the binary.
    let dir = scratch("slurm");
    symlink(env!("CARGO_MANIFEST_DIR"), dir.join("scenarios")).unwrap();
    std::fs::create_dir_all(dir.join("target/release")).unwrap();
    symlink(env!("CARGO_BIN_EXE_dsim"), dir.join("target/release/dsim")).unwrap();
    let script = root().join("scenarios/examples/slurm-array.sh");
    let task = |cwd: &Path, index: u32| {
        Command::new("bash")
            .arg(&script)
            .current_dir(cwd)
            .env("SLURM_ARRAY_TASK_ID", index.to_string())
            .env("SLURM_CPUS_PER_TASK", "1")
            .envs([("SHARDS", "4"), ("SEEDS", SEEDS), ("RESULTS", "shards")])
            .output()
            .unwrap()
    };
    for index in 0..4 {
        let output = task(&dir, index);
        assert!(output.status.success(), "task {index}: {output:?}");
    }
    let whole = dir.join("whole.jsonl");
    let (code, _) = {
        let output = Command::new(env!("CARGO_BIN_EXE_dsim"))
            .args([
                "sweep",
                "scenarios/dedup/correct.ron",
                "--seeds",
                SEEDS,
                "--out",
            ])
            .arg(&whole)
            .current_dir(&dir)
            .output()
            .unwrap();
        (output.status.code(), output)
    };
    assert_eq!(code, Some(0));
    assert_shards_merge_into(&dir.join("shards"), 4, &whole);
    // Submitted from elsewhere, a task says what is wrong instead of failing blind.
    let elsewhere = scratch("slurm-elsewhere");
    let output = task(&elsewhere, 0);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cargo build --release"));
}
