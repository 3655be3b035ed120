//! `dsim lincheck FILE --model set|register|kv [--initial JSON]
//! [--time-limit S] [--memory-limit MB]`: checks an external history (JSON
//! lines, the format in REFERENCE.md) for linearizability. Exit 0
//! linearizable, 1 not (with the key and the operations that cannot be
//! ordered, by line number), 2 bad input (with the line number), 3 unknown
//! (the time or the memory limit, named in the message).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use sim_core::history::{Completion, History, Operation, Outcome, Stamp};
use sim_core::lincheck::{
    Budget, KvCall, KvOp, KvSpec, Limit, RegisterCall, RegisterOp, RegisterSpec, SetSpec, Spec,
    Verdict, check, heap_block_bytes,
};
use sim_core::record::{EventType, HistoryEvent};
use sim_core::{NodeId, OpId, SimTime};

use crate::Exit;
use crate::commands::{self, Failure};
use crate::stopwatch::Stopwatch;

/// Which sequential specification the history is checked against.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum LinModel {
    /// `add` returning whether the element was already present.
    Set,
    /// `read` / `write` / `cas` on registers.
    Register,
    /// `get` / `put` / `append` on strings, per key.
    Kv,
}

/// Check a history file (JSON lines) for linearizability.
#[derive(Debug, clap::Args)]
pub struct LincheckArgs {
    /// The history file.
    pub file: PathBuf,
    /// The sequential specification.
    #[arg(long, value_enum)]
    pub model: LinModel,
    /// The register's initial value, as JSON (default: null, absent).
    #[arg(long)]
    pub initial: Option<String>,
    /// Give up with exit code 3 after this many seconds.
    #[arg(long = "time-limit", value_name = "SECONDS", default_value = "60", value_parser = parse_seconds)]
    pub time_limit: Duration,
    /// Give up with exit code 3 once the search holds this many MB
    /// (2^20 bytes), by the checker's own count (`lincheck::Budget`).
    #[arg(long = "memory-limit", value_name = "MB", default_value_t = 1024, value_parser = parse_megabytes)]
    pub memory_limit_mb: u64,
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s < 1e9 => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!("`{text}` is not a positive number of seconds")),
    }
}

/// Whole megabytes, up to 16 TiB: far beyond any machine, yet the byte
/// count cannot overflow.
fn parse_megabytes(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(mb) if (1..=MEGABYTES_MAX).contains(&mb) => Ok(mb),
        _ => Err(format!(
            "`{text}` is not a whole number of megabytes from 1 to {MEGABYTES_MAX}"
        )),
    }
}

const MEGABYTES_MAX: u64 = 1 << 24;

/// Where each operation came from: its invoke line and completion line.
type Lines = Vec<(usize, Option<usize>)>;

pub fn lincheck(args: &LincheckArgs, out: &mut dyn Write) -> commands::Outcome {
    let name = args.file.display().to_string();
    let events = read_events(&args.file).map_err(|message| bad_input(&name, &message))?;
    let outcome = match args.model {
        LinModel::Set => run(
            &SetSpec::<String>::new(),
            &events,
            set_op,
            |_, e| expect_bool(e),
            args,
        ),
        LinModel::Register => {
            let initial = match args.initial.as_deref().map(serde_json::from_str::<Value>) {
                None => "null".to_owned(),
                Some(Ok(v)) => canonical(&v),
                Some(Err(e)) => return Err(Failure::input(format!("--initial: not JSON: {e}"))),
            };
            // Values are JSON text: each copy owns its bytes.
            let spec = RegisterSpec::new(initial)
                .with_value_heap_bytes(|value: &String| heap_block_bytes(value.len()));
            run(&spec, &events, register_op, register_ret, args)
        }
        LinModel::Kv => run(&KvSpec::<String>::new(), &events, kv_op, kv_ret, args),
    };
    let report = outcome.map_err(|message| bad_input(&name, &message))?;
    out.write_all(report.text.as_bytes())?;
    Ok(report.exit)
}

/// Bad input in the file: `message` starts with the line (`:12: ...`).
fn bad_input(name: &str, message: &str) -> Failure {
    Failure::input(format!("{name}:{message}"))
}

/// The file's events with their 1-based line numbers.
fn read_events(path: &Path) -> Result<Vec<(usize, HistoryEvent)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!(" cannot read: {e}"))?;
    let mut events = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let event = serde_json::from_str::<HistoryEvent>(line).map_err(|e| {
            // serde counts lines within the one line it was given; say the column only.
            let message = e.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(m, _)| m)
                .to_owned();
            format!("{}:{}: {message}", i + 1, e.column())
        })?;
        events.push((i + 1, event));
    }
    Ok(events)
}

struct Report {
    text: String,
    exit: Exit,
}

/// Builds the typed history and searches it.
fn run<S: Spec<Key = String>>(
    spec: &S,
    events: &[(usize, HistoryEvent)],
    op_of: impl Fn(&HistoryEvent) -> Result<S::Op, String>,
    ret_of: impl Fn(&S::Op, &HistoryEvent) -> Result<S::Ret, String>,
    args: &LincheckArgs,
) -> Result<Report, String>
where
    S::Op: Clone,
    S::Ret: Clone,
{
    let (history, lines) = build(events, op_of, ret_of)?;
    let stopwatch = Stopwatch::start();
    let mut should_stop = || stopwatch.elapsed() >= args.time_limit;
    let mut budget = Budget::unlimited()
        .with_memory_limit(args.memory_limit_mb.saturating_mul(1 << 20))
        .with_stop(&mut should_stop);
    let verdict = check(spec, &history, &mut budget);
    let elapsed_ms = stopwatch.seconds() * 1e3;
    let line_of = |op: OpId| {
        let (invoke, done) = lines[op.0 as usize];
        match done {
            Some(done) => format!("lines {invoke}-{done}"),
            None => format!("line {invoke} (never completed)"),
        }
    };
    Ok(match verdict {
        Verdict::Linearizable => Report {
            text: format!(
                "linearizable: {} operations ({elapsed_ms:.1} ms)\n",
                history.len()
            ),
            exit: Exit::Expected,
        },
        Verdict::NotLinearizable(c) => {
            let mut text = format!("NOT linearizable: key {:?}\n  {}\n", c.key, c.explanation);
            text.push_str(&format!(
                "  cannot be ordered: operation at {}\n",
                line_of(c.op)
            ));
            for op in c.concurrent.iter().take(20) {
                text.push_str(&format!(
                    "  concurrent with it: operation at {}\n",
                    line_of(*op)
                ));
            }
            Report {
                text,
                exit: Exit::Unexpected,
            }
        }
        Verdict::Unknown {
            undecided_keys,
            limit,
        } => {
            let why = match limit {
                Limit::Stop => format!(
                    "no verdict within {:.1} s (--time-limit)",
                    args.time_limit.as_secs_f64()
                ),
                Limit::Memory => format!(
                    "the search reached the memory limit of {} MB (--memory-limit) after {:.1} s",
                    args.memory_limit_mb,
                    elapsed_ms / 1e3
                ),
                Limit::Steps => "no verdict within the step limit".to_owned(),
            };
            Report {
                text: format!("unknown: {why}; undecided keys: {undecided_keys:?}\n"),
                exit: Exit::Unknown,
            }
        }
    })
}

/// Pairs each completion with the latest open invocation of its process.
fn build<O: Clone, R>(
    events: &[(usize, HistoryEvent)],
    op_of: impl Fn(&HistoryEvent) -> Result<O, String>,
    ret_of: impl Fn(&O, &HistoryEvent) -> Result<R, String>,
) -> Result<(History<O, R>, Lines), String> {
    let mut ops: Vec<Operation<O, R>> = Vec::new();
    let mut lines: Lines = Vec::new();
    let mut open: std::collections::BTreeMap<u64, usize> = std::collections::BTreeMap::new();
    for (position, (line, event)) in events.iter().enumerate() {
        let stamp = Stamp {
            position: position as u64,
            time: SimTime::from_nanos(event.time_ns.unwrap_or(position as u64)),
            event: *line as u64,
        };
        let at = |m: String| format!("{line}: {m}");
        if event.kind == EventType::Invoke {
            if let Some(&previous) = open.get(&event.process) {
                let since = lines[previous].0;
                return Err(at(format!(
                    "process {} invokes again while its operation from line {since} is open",
                    event.process
                )));
            }
            let op = op_of(event).map_err(at)?;
            let node = NodeId(
                u32::try_from(event.process).map_err(|_| at("process number too large".into()))?,
            );
            open.insert(event.process, ops.len());
            lines.push((*line, None));
            ops.push(Operation {
                id: OpId(ops.len() as u32),
                node,
                op,
                invoke: stamp,
                completion: None,
            });
            continue;
        }
        let index = open.remove(&event.process).ok_or_else(|| {
            at(format!(
                "process {} completes an operation it never invoked",
                event.process
            ))
        })?;
        let outcome = match event.kind {
            EventType::Ok => Outcome::Ok(ret_of(&ops[index].op, event).map_err(at)?),
            EventType::Fail => Outcome::Fail,
            _ => Outcome::Info,
        };
        lines[index].1 = Some(*line);
        ops[index].completion = Some(Completion { stamp, outcome });
    }
    Ok((ops.into_iter().collect(), lines))
}

/// JSON text with sorted keys: equal values, equal strings.
fn canonical(value: &Value) -> String {
    serde_json::to_string(value).expect("JSON values serialize")
}

fn set_op(e: &HistoryEvent) -> Result<String, String> {
    match e.f.as_str() {
        "add" => Ok(e.key.clone().unwrap_or_else(|| canonical(&e.value))),
        other => Err(format!("`{other}` is not a set operation (expected `add`)")),
    }
}

fn expect_bool(e: &HistoryEvent) -> Result<bool, String> {
    e.value
        .as_bool()
        .ok_or_else(|| format!("an `add` result must be true or false, not {}", e.value))
}

fn register_op(e: &HistoryEvent) -> Result<RegisterOp<String, String>, String> {
    let key = e.key.clone().unwrap_or_default();
    let call = match e.f.as_str() {
        "read" => RegisterCall::Read,
        "write" => RegisterCall::Write(canonical(&e.value)),
        "cas" => match e.value.as_array().map(Vec::as_slice) {
            Some([from, to]) => RegisterCall::Cas {
                from: canonical(from),
                to: canonical(to),
            },
            _ => return Err(format!("a `cas` value must be [from, to], not {}", e.value)),
        },
        other => {
            return Err(format!(
                "`{other}` is not a register operation (read, write, cas)"
            ));
        }
    };
    Ok(RegisterOp { key, call })
}

fn register_ret(_: &RegisterOp<String, String>, e: &HistoryEvent) -> Result<String, String> {
    Ok(canonical(&e.value))
}

fn kv_op(e: &HistoryEvent) -> Result<KvOp<String>, String> {
    let key = e.key.clone().ok_or("a kv operation needs a `key`")?;
    let text = || {
        e.value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("`{}` needs a string value, not {}", e.f, e.value))
    };
    let call = match e.f.as_str() {
        "get" => KvCall::Get,
        "put" => KvCall::Put(text()?),
        "append" => KvCall::Append(text()?),
        other => {
            return Err(format!(
                "`{other}` is not a kv operation (get, put, append)"
            ));
        }
    };
    Ok(KvOp { key, call })
}

fn kv_ret(op: &KvOp<String>, e: &HistoryEvent) -> Result<String, String> {
    match op.call {
        KvCall::Get => e
            .value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("a `get` result must be a string, not {}", e.value)),
        _ => Ok(String::new()),
    }
}
