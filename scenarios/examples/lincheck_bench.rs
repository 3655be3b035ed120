//! The `dsim lincheck` benchmark behind `cargo xtask bench`: a history of
//! 10,000 register operations over 10 keys from 8 clients (2% time out),
//! produced by a real sequential execution with overlapping calls, written
//! as a JSON-lines file and checked through the command itself.
//!
//! Last line: `lincheck-bench ops=<n> keys=<n> ms=<n> verdict=<exit code>`.

// Timing the check is the point of a benchmark.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::time::{Duration, Instant};

use scenarios::commands::lincheck::{LinModel, LincheckArgs, lincheck};
use sim_core::{SimRng, Stream};

const OPERATIONS: usize = 10_000;
const KEYS: u64 = 10;
const CLIENTS: usize = 8;

/// Each client runs one operation at a time; an operation takes effect at
/// a point between its invoke and its completion, in a global order, so the
/// history is linearizable by construction.
fn history() -> String {
    let mut rng = SimRng::new(42, Stream::User(0));
    let mut values = vec![0u64; KEYS as usize];
    // Per client: the time its current operation completes.
    let mut busy_until = [0u64; CLIENTS];
    let mut events: Vec<(u64, String)> = Vec::with_capacity(OPERATIONS * 2);
    let mut now = 0u64;
    for n in 0..OPERATIONS {
        now += 1 + rng.below(3);
        let client = (0..CLIENTS)
            .min_by_key(|&c| (busy_until[c], c))
            .expect("clients");
        let invoke = now.max(busy_until[client] + 1);
        let effect = invoke + rng.below(20);
        let complete = effect + rng.below(20);
        busy_until[client] = complete;
        now = invoke;
        let key = rng.below(KEYS);
        let (f, input, output) = if rng.chance(500_000) {
            values[key as usize] = n as u64;
            ("write", n.to_string(), n.to_string())
        } else {
            ("read", "null".to_owned(), values[key as usize].to_string())
        };
        let line = |kind: &str, value: &str| {
            format!(
                r#"{{"process":{client},"type":"{kind}","f":"{f}","key":"k{key}","value":{value}}}"#
            )
        };
        events.push((invoke * 2, line("invoke", &input)));
        let kind = if rng.chance(20_000) { "info" } else { "ok" };
        events.push((
            complete * 2 + 1,
            line(kind, if kind == "ok" { &output } else { &input }),
        ));
    }
    events.sort_by_key(|(t, _)| *t);
    events.into_iter().map(|(_, l)| l + "\n").collect()
}

fn main() {
    let path = std::env::temp_dir().join("dsim-lincheck-bench.jsonl");
    std::fs::write(&path, history()).expect("write the history");
    let args = LincheckArgs {
        file: path.clone(),
        model: LinModel::Register,
        initial: Some("0".to_owned()),
        time_limit: Duration::from_secs(60),
        memory_limit_mb: 1024,
    };
    let mut walls = Vec::new();
    let mut exit = None;
    for _ in 0..5 {
        let mut sink = Vec::new();
        let started = Instant::now();
        exit = Some(lincheck(&args, &mut sink).expect("lincheck runs"));
        walls.push(started.elapsed());
        print!("{}", String::from_utf8_lossy(&sink));
    }
    walls.sort();
    let exit = exit.expect("ran");
    println!(
        "lincheck-bench ops={OPERATIONS} keys={KEYS} ms={:.1} verdict={}",
        walls[walls.len() / 2].as_secs_f64() * 1e3,
        exit.code()
    );
}
