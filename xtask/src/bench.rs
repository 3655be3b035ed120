//! `cargo xtask bench`: the benchmarks, built with the `bench` profile
//! (release, one codegen unit, thin LTO). Each prints a last line of
//! `name key=value ...` so scripts can track the figures.

use std::path::Path;
use std::process::{Command, Output};

use crate::{cargo, workspace_root};

/// The sweep benchmark's scenario and seeds.
const SWEEP_SCENARIO: &str = "scenarios/dedup/correct.ron";
const SWEEP_SEEDS: &str = "0..4000";

/// Issue #15's real profiles: every correct library scenario, with the
/// seeds its instruction count is taken over (a crowd seed is 80,000
/// events).
const LIBRARY: [(&str, &str); 8] = [
    ("scenarios/register/correct.ron", "0..20"),
    ("scenarios/dedup/correct.ron", "0..5"),
    ("scenarios/kgs/correct.ron", "0..5"),
    ("scenarios/chat/correct-push.ron", "0..10"),
    ("scenarios/chat/correct-long-poll.ron", "0..10"),
    ("scenarios/chat/correct-short-poll.ron", "0..10"),
    ("scenarios/booking/correct.ron", "0..5"),
    ("scenarios/booking/crowd.ron", "0..1"),
];

/// What `--compare` runs unless told otherwise, and how many rounds.
const COMPARE_SCENARIO: &str = "scenarios/register/correct.ron";
const COMPARE_SEEDS: &str = "0..4000";
const COMPARE_ROUNDS: usize = 12;

pub fn run(args: &[String]) -> Result<(), String> {
    match args {
        [] => wall_clock(),
        [flag] if flag == "--instructions" => instructions(),
        [flag, old, new, rest @ ..] if flag == "--compare" && rest.len() <= 2 => {
            let scenario = rest.first().map_or(COMPARE_SCENARIO, String::as_str);
            let seeds = rest.get(1).map_or(COMPARE_SEEDS, String::as_str);
            compare(Path::new(old), Path::new(new), scenario, seeds)
        }
        _ => Err(format!(
            "unknown bench arguments {args:?}: `cargo xtask bench`, `cargo xtask bench \
             --instructions` or `cargo xtask bench --compare OLD_DSIM NEW_DSIM [FILE [SEEDS]]`"
        )),
    }
}

/// `--compare OLD NEW`: two `dsim` binaries' sweep rates, as a ratio that
/// this machine's load does not move. Run one after the other, two
/// binaries drift apart by 10% either way as the load changes; run at
/// the same time, one per core (`taskset`, when there is one), the cores
/// and which starts first swapped from round to round, they share
/// whatever the machine does. Prints every round's rates and the median
/// ratio, new over old.
fn compare(old: &Path, new: &Path, scenario: &str, seeds: &str) -> Result<(), String> {
    // Absolute: the sweeps run from the workspace root.
    let found = |dsim: &Path| {
        dsim.canonicalize()
            .ok()
            .filter(|path| path.is_file())
            .ok_or_else(|| format!("{}: no such dsim binary", dsim.display()))
    };
    let (old, new) = (&found(old)?, &found(new)?);
    let pin = Command::new("taskset").arg("-V").output().is_ok();
    let start = |dsim: &Path, core: usize| {
        let mut command = if pin {
            let mut taskset = Command::new("taskset");
            taskset.args(["-c", &core.to_string()]).arg(dsim);
            taskset
        } else {
            Command::new(dsim)
        };
        command
            .args(["sweep", scenario, "--seeds", seeds, "--jobs", "1"])
            .current_dir(workspace_root())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", dsim.display()))
    };
    let mut ratios = Vec::new();
    for round in 0..COMPARE_ROUNDS {
        // Each binary gets each core, and starts first, in half the rounds.
        let (old_core, new_core) = if round % 2 == 0 { (0, 1) } else { (1, 0) };
        let (old_run, new_run) = if round % 4 < 2 {
            let old_run = start(old, old_core)?;
            (old_run, start(new, new_core)?)
        } else {
            let new_run = start(new, new_core)?;
            (start(old, old_core)?, new_run)
        };
        let rate = |run: std::process::Child| -> Result<f64, String> {
            let output = run.wait_with_output().map_err(|e| e.to_string())?;
            Ok(parse_sweep_line(&output)?.events_per_s)
        };
        let (old_rate, new_rate) = (rate(old_run)?, rate(new_run)?);
        println!(
            "round {}: old {:.2} M events/s, new {:.2} M events/s",
            round + 1,
            old_rate / 1e6,
            new_rate / 1e6
        );
        ratios.push(new_rate / old_rate);
    }
    ratios.sort_by(f64::total_cmp);
    let median = (ratios[(ratios.len() - 1) / 2] + ratios[ratios.len() / 2]) / 2.0;
    println!(
        "compare-bench scenario={scenario} seeds={seeds} rounds={COMPARE_ROUNDS} pinned={pin} \
         new_over_old={median:.3} min={:.3} max={:.3}",
        ratios[0],
        ratios[ratios.len() - 1]
    );
    Ok(())
}

fn wall_clock() -> Result<(), String> {
    let bench = |package: &str, example: &str| {
        cargo(&[
            "run",
            "--quiet",
            "--locked",
            "--profile",
            "bench",
            "-p",
            package,
            "--example",
            example,
        ])
    };
    // The engine: 200,000 delivered messages of a quorum workload.
    bench("sim-core", "quorum_bench")?;
    // Scale: setup time and event rate at 10, 10,000 and 100,000 nodes.
    bench("sim-core", "scale_bench")?;
    // Deep queues: the same workload with 1,000,000 timers parked.
    bench("sim-core", "deep_queue_bench")?;
    // The linearizability checker through `dsim lincheck`: 10,000 operations.
    bench("scenarios", "lincheck_bench")?;
    // ... and issue #8's 50-client history, whose key 0 makes the search
    // explode: time and peak memory under the limits.
    bench("scenarios", "lincheck_hard_bench")?;
    // Loading a scenario: parse, resolve names, validate.
    bench("scenarios", "parse_bench")?;
    // A sweep's memory: 10,000 seeds, then 100,000; it must stay flat.
    bench("scenarios", "sweep_memory_bench")?;
    sweep_scaling()?;
    library_rates()
}

/// Events per second on one core for every correct library scenario,
/// over its own seeds, as `dsim sweep FILE --jobs 1` prints it.
fn library_rates() -> Result<(), String> {
    build_bench("scenarios", &["--bin", "dsim"])?;
    for (scenario, _) in LIBRARY {
        let line = sweep_line(&[scenario, "--jobs", "1"])?;
        println!(
            "library-bench scenario={scenario} events_per_s={:.0}",
            line.events_per_s
        );
    }
    Ok(())
}

/// Builds `targets` of `package` with the `bench` profile.
fn build_bench(package: &str, targets: &[&str]) -> Result<(), String> {
    let mut args = vec![
        "build",
        "--quiet",
        "--locked",
        "--profile",
        "bench",
        "-p",
        package,
    ];
    args.extend_from_slice(targets);
    cargo(&args)
}

/// `dsim sweep` on one thread and on every core, as a user runs it.
fn sweep_scaling() -> Result<(), String> {
    build_bench("scenarios", &["--bin", "dsim"])?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let seeds_per_s = |jobs: usize| -> Result<f64, String> {
        let jobs = jobs.to_string();
        let line = sweep_line(&[SWEEP_SCENARIO, "--seeds", SWEEP_SEEDS, "--jobs", &jobs])?;
        println!("{}", line.text);
        Ok(line.seeds_per_s)
    };
    let one = seeds_per_s(1)?;
    let all = seeds_per_s(cores)?;
    println!(
        "sweep-bench scenario={SWEEP_SCENARIO} seeds={SWEEP_SEEDS} jobs1_seeds_per_s={one:.0} jobs{cores}_seeds_per_s={all:.0} speedup={:.2}",
        all / one
    );
    Ok(())
}

/// The first line `dsim sweep` prints, and its two rates.
struct SweepLine {
    text: String,
    seeds_per_s: f64,
    events_per_s: f64,
}

/// Runs the bench-built `dsim sweep` with `args`; its summary line:
/// "name: N seeds (shard 0/1) in S s on J threads (R seeds/s, E M events/s)".
fn sweep_line(args: &[&str]) -> Result<SweepLine, String> {
    let output = Command::new(workspace_root().join("target/release/dsim"))
        .arg("sweep")
        .args(args)
        .current_dir(workspace_root())
        .output()
        .map_err(|e| format!("cannot run dsim: {e}"))?;
    parse_sweep_line(&output)
}

/// The summary line of a finished `dsim sweep`, and its two rates.
fn parse_sweep_line(output: &Output) -> Result<SweepLine, String> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let text = stdout.lines().next().unwrap_or_default().to_owned();
    let rates = text
        .rsplit_once('(')
        .map(|(_, r)| r.split_whitespace().collect::<Vec<_>>())
        .unwrap_or_default();
    // ["R", "seeds/s,", "E", "M", "events/s)"]
    match rates[..] {
        [seeds, _, events, "M", ..] => Ok(SweepLine {
            seeds_per_s: seeds
                .parse()
                .map_err(|_| format!("unexpected sweep output: {stdout}"))?,
            events_per_s: events
                .parse::<f64>()
                .map_err(|_| format!("unexpected sweep output: {stdout}"))?
                * 1e6,
            text,
        }),
        _ => Err(format!("unexpected sweep output: {stdout}")),
    }
}

/// Delivered messages in one repetition of `quorum_bench` and of
/// `bare_heap_bench` (the same workload).
const BENCH_MESSAGES: u64 = 200_000;

/// Issue #15's goal for the engine, in instructions per delivered message.
const GOAL_IR_PER_MESSAGE: u64 = 500;

/// `cargo xtask bench --instructions`: the engine benchmark and the bare
/// binary-heap loop under callgrind, one repetition each. Instruction
/// counts do not swing with the machine's load as wall times do, so this
/// is the figure to compare across changes.
fn instructions() -> Result<(), String> {
    build_bench(
        "sim-core",
        &["--example", "quorum_bench", "--example", "bare_heap_bench"],
    )?;
    let dsim = callgrind("quorum_bench")?;
    let bare = callgrind("bare_heap_bench")?;
    let per = |ir: u64| ir as f64 / BENCH_MESSAGES as f64;
    println!(
        "quorum_bench     {ir:>13} instructions, {:.0} per delivered message",
        per(dsim),
        ir = thousands(dsim)
    );
    println!(
        "bare_heap_bench  {ir:>13} instructions, {:.0} per delivered message (no network model, digest, history or checks)",
        per(bare),
        ir = thousands(bare)
    );
    println!(
        "instructions-bench dsim_ir_per_msg={:.0} bare_ir_per_msg={:.0} ratio={:.2} goal_ir_per_msg={GOAL_IR_PER_MESSAGE}",
        per(dsim),
        per(bare),
        bare as f64 / dsim as f64
    );
    library_instructions()
}

/// Instructions per event of every correct library scenario: `dsim sweep`
/// over a few of its seeds on one thread under callgrind, process start
/// and scenario loading included, divided by the events its seed lines
/// count.
fn library_instructions() -> Result<(), String> {
    build_bench("scenarios", &["--bin", "dsim"])?;
    for (scenario, seeds) in LIBRARY {
        let (ir, events) = sweep_instructions(scenario, seeds)?;
        println!(
            "library-instructions scenario={scenario} seeds={seeds} events={events} ir_per_event={:.0}",
            ir as f64 / events.max(1) as f64
        );
    }
    scaled_run_instructions()
}

/// The chat scenario that is also run made larger, and how: its run fifty
/// times as long (with the liveness check's heal), and its clients and
/// conversations a hundred times as many. Each edit is text the file must
/// hold.
const SCALED_SCENARIO: &str = "scenarios/chat/correct-push.ron";
const SCALED_RUNS: [(&str, &[(&str, &str)]); 2] = [
    (
        "400s",
        &[
            ("duration_ms: 8000,", "duration_ms: 400000,"),
            ("heal_at_ms: 4000,", "heal_at_ms: 200000,"),
        ],
    ),
    (
        "400_clients",
        &[(
            "clients: 4, conversations: 3,",
            "clients: 400, conversations: 300,",
        )],
    ),
];

/// A larger run costs what a small one does per event. Chat's store
/// syncs after every message, and a buffered disk copies the node's
/// durable state at each sync: when that copy was the whole history, a
/// 400 s run cost five times as much per event as the library's 8 s one,
/// and 400 clients in 300 conversations nearly seven times as much. The
/// same file, made larger (written to `target/`), one seed each.
fn scaled_run_instructions() -> Result<(), String> {
    let root = workspace_root();
    let source = std::fs::read_to_string(root.join(SCALED_SCENARIO))
        .map_err(|e| format!("{SCALED_SCENARIO}: {e}"))?;
    let per_event = |scenario: &str| -> Result<f64, String> {
        let (ir, events) = sweep_instructions(scenario, "0..1")?;
        Ok(ir as f64 / events.max(1) as f64)
    };
    let small = per_event(SCALED_SCENARIO)?;
    for (name, edits) in SCALED_RUNS {
        let mut scaled = source.clone();
        for (from, to) in edits {
            if !scaled.contains(from) {
                return Err(format!(
                    "{SCALED_SCENARIO} no longer says `{from}`: update SCALED_RUNS"
                ));
            }
            scaled = scaled.replacen(from, to, 1);
        }
        let path = root.join(format!("target/chat-{name}.ron"));
        std::fs::write(&path, scaled).map_err(|e| format!("{}: {e}", path.display()))?;
        let large = per_event(&path.display().to_string())?;
        println!(
            "scaled-run-instructions scenario={SCALED_SCENARIO} seeds=0..1 scaled={name} ir_per_event_as_shipped={small:.0} ir_per_event_scaled={large:.0} ratio={:.2}",
            large / small
        );
    }
    Ok(())
}

/// `dsim sweep SCENARIO --seeds SEEDS --jobs 1` under callgrind: its
/// instructions, and the events its seed lines count.
fn sweep_instructions(scenario: &str, seeds: &str) -> Result<(u64, u64), String> {
    let root = workspace_root();
    let dsim = root.join("target/release/dsim");
    let lines = root.join("target/library-bench.jsonl");
    let out = root.join("target/callgrind.library.out");
    eprintln!("$ valgrind --tool=callgrind dsim sweep {scenario} --seeds {seeds} --jobs 1");
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(&dsim)
        .args(["sweep", scenario, "--seeds", seeds, "--jobs", "1", "--out"])
        .arg(&lines)
        .current_dir(&root)
        .output()
        .map_err(|e| format!("cannot run valgrind ({e})"))?;
    if !output.status.success() {
        return Err(format!(
            "dsim sweep {scenario} failed under valgrind: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let ir =
        collected(&output.stderr).ok_or_else(|| format!("no instruction count for {scenario}"))?;
    let text = std::fs::read_to_string(&lines).map_err(|e| e.to_string())?;
    // Each seed line holds `"events":N`; the trailer has none.
    let events: u64 = text
        .lines()
        .filter_map(|l| l.split_once("\"events\":"))
        .filter_map(|(_, rest)| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse::<u64>().ok())
        })
        .sum();
    Ok((ir, events))
}

/// Runs a benchmark example once under callgrind; its instruction count.
fn callgrind(example: &str) -> Result<u64, String> {
    let root = workspace_root();
    let binary = root.join("target/release/examples").join(example);
    let out = root.join(format!("target/callgrind.{example}.out"));
    eprintln!(
        "$ valgrind --tool=callgrind {} --repetitions 1",
        binary.display()
    );
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(&binary)
        .args(["--repetitions", "1"])
        .current_dir(&root)
        .output()
        .map_err(|e| {
            format!("cannot run valgrind ({e}): install it (Debian: apt-get install valgrind)")
        })?;
    if !output.status.success() {
        return Err(format!(
            "valgrind {example} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    collected(&output.stderr).ok_or_else(|| {
        format!(
            "no instruction count in callgrind's output for {example}: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The instruction count callgrind prints: "==123== Collected : 221341030".
fn collected(stderr: &[u8]) -> Option<u64> {
    String::from_utf8_lossy(stderr).lines().find_map(|l| {
        l.split_once("Collected :")
            .and_then(|(_, n)| n.trim().parse().ok())
    })
}

/// A count with thousands separators (as `sim_core::metrics::thousands`;
/// xtask depends on no crate of the workspace).
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
