//! A run's result with the design's types erased: what the command line
//! prints, sweeps aggregate, and reports draw. The history is exported in
//! the JSON-lines format that `dsim lincheck` reads, so any run's history
//! can be re-checked (or checked by another tool), and as typed operations
//! (invocation and completion paired by operation id), which reports read.
//! Fault windows and counter series come from the engine as data.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::check::Verdict;
use crate::fault_log::FaultWindow;
use crate::history::{History, OpId, Outcome};
use crate::metrics::Series;
use crate::nemesis::FaultWeights;
use crate::node::NodeId;
use crate::result::{RunResult, RunStats};
use crate::trace::TraceEvent;

/// A design-independent run result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    pub seed: u64,
    pub verdict: Verdict,
    /// XXH3-128 of the trace: equal digests, equal runs.
    pub digest: String,
    pub stats: RunStats,
    /// The fault mix drawn for this seed, if a nemesis ran.
    pub nemesis_weights: Option<FaultWeights>,
    /// The design's metrics, by name; names carry their unit
    /// (`latency_ms_p99`, `messages_per_request`, `read_miss_fraction`).
    pub metrics: BTreeMap<String, f64>,
    /// Node names by `NodeId` index, shared with the run's config.
    pub node_names: Arc<[String]>,
    /// Every invariant and history check the run had, by name.
    pub checks: Vec<String>,
    /// The history as JSON-lines events (empty unless requested).
    pub history: Vec<HistoryEvent>,
    /// The same operations, typed and paired, by `OpId` (empty unless the
    /// history was requested).
    pub operations: Vec<OperationRecord>,
    /// When each fault was in force.
    pub fault_windows: Vec<FaultWindow>,
    /// Every nemesis strike, as a timed fault (the plan `dsim record` writes).
    #[serde(default)]
    pub nemesis_plan: Vec<crate::faults::TimedFault>,
    /// The design's counters over time (`Ctx::count`, and series the
    /// design adds).
    pub series: Vec<Series>,
    /// How often each "sometimes" label was reached (`Ctx::reached`).
    #[serde(default)]
    pub reached: BTreeMap<String, u64>,
    /// The plots the design asks the run report to draw from `series`.
    pub plots: Vec<PlotSpec>,
    /// What the design says its numbers mean, a sentence each: the math a
    /// measurement should meet, beside the measurement (the run summary
    /// and the run report print them).
    pub notes: Vec<String>,
    /// Every trace event (only when recording was on).
    pub trace: Option<Vec<TraceEvent>>,
}

/// One client operation, typed: what was asked, by whom, when, and how
/// it ended.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct OperationRecord {
    pub id: OpId,
    pub node: NodeId,
    /// The process it ran in, as in the exported history.
    pub process: u64,
    pub f: String,
    pub key: Option<String>,
    /// The input, as the history file writes it.
    pub input: serde_json::Value,
    /// The result, for an operation that completed `ok`.
    pub output: Option<serde_json::Value>,
    pub ending: OperationEnding,
    pub invoke_ns: u64,
    /// The engine step that invoked it.
    pub invoke_event: u64,
    /// When it completed, and in which engine step; `None` while pending.
    pub complete_ns: Option<u64>,
    pub complete_event: Option<u64>,
}

impl OperationRecord {
    /// Completion minus invocation time; `None` while pending.
    pub fn latency_ns(&self) -> Option<u64> {
        Some(self.complete_ns?.saturating_sub(self.invoke_ns))
    }
}

/// How an operation ended, as its client saw it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationEnding {
    Ok,
    Fail,
    /// Timed out: it may or may not have happened.
    Info,
    /// No completion before the run ended.
    Pending,
}

impl OperationEnding {
    pub fn label(self) -> &'static str {
        match self {
            OperationEnding::Ok => "ok",
            OperationEnding::Fail => "fail",
            OperationEnding::Info => "info",
            OperationEnding::Pending => "pending",
        }
    }
}

/// A plot the design wants in its run report: these series, over time.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct PlotSpec {
    pub title: String,
    /// Names of series in `RunRecord::series`, drawn together.
    pub series: Vec<String>,
    /// Draw running totals rather than counts per bucket.
    pub cumulative: bool,
    /// What the y axis measures, when the series are not counts (a
    /// latency per bucket, say); unset: a count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y_label: Option<String>,
}

/// Does a scenario's expected outcome, as a label (`pass`, a check's
/// name, `liveness`, or several failure labels joined by `|`), accept a
/// seed whose verdict has `label`?
pub fn accepts(expected: &str, label: &str) -> bool {
    expected.split('|').any(|wanted| wanted == label)
}

/// The command that reproduces one seed of a scenario, printed
/// everywhere a run is named, so a reader who copies it from any output
/// reproduces the run.
pub fn replay_command(scenario_path: &str, seed: u64) -> String {
    format!("dsim run {scenario_path} --seed {seed}")
}

/// One line of a history file.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryEvent {
    /// A logical client process: one operation at a time per process.
    pub process: u64,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// The operation's name (`add`, `read`, `write`, `cas`, `get`, ...).
    pub f: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The input on invoke; on `ok`, the result (or the input echoed).
    #[serde(default)]
    pub value: serde_json::Value,
    /// True time in nanoseconds (optional in files; dsim always writes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_ns: Option<u64>,
    /// The client node's name (optional; for people).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    Invoke,
    Ok,
    Fail,
    Info,
}

/// How a design's operations appear in a history file.
pub trait ExportOp<R> {
    /// The operation's name.
    fn f(&self) -> &'static str;
    /// The key it acts on, if operations are keyed.
    fn key(&self) -> Option<String>;
    /// The value written in the invoke line.
    fn invoke_value(&self) -> serde_json::Value;
    /// The value written in an `ok` line: the result where the operation
    /// returns one, else the input echoed.
    fn ok_value(&self, ret: &R) -> serde_json::Value;
}

impl RunRecord {
    /// Erases a run's types. `for_report` exports what only a report or a
    /// replay reads: the history, the typed operations (costly for long
    /// runs) and the counters' series. Sweeps leave them out.
    pub fn from_result<O: ExportOp<R>, R>(
        result: RunResult<O, R>,
        node_names: Arc<[String]>,
        checks: Vec<String>,
        metrics: BTreeMap<String, f64>,
        for_report: bool,
    ) -> RunRecord {
        let (history, operations) = if for_report {
            export(&result.history, &node_names)
        } else {
            (Vec::new(), Vec::new())
        };
        RunRecord {
            seed: result.seed,
            verdict: result.verdict,
            digest: result.digest,
            stats: result.stats,
            nemesis_weights: result.nemesis_weights,
            metrics,
            node_names,
            checks,
            history,
            operations,
            fault_windows: result.fault_windows,
            nemesis_plan: result.nemesis_plan,
            series: if for_report {
                result.metrics.series()
            } else {
                Vec::new()
            },
            reached: result.metrics.reached(),
            plots: Vec::new(),
            notes: Vec::new(),
            trace: result.trace,
        }
    }
}

/// The history as events in their total order. Each operation runs in a
/// process: the lowest process number of its node that is free when it is
/// invoked (numbered in order of first use), as Jepsen numbers processes.
pub fn export_history<O: ExportOp<R>, R>(
    history: &History<O, R>,
    node_names: &[String],
) -> Vec<HistoryEvent> {
    export(history, node_names).0
}

/// The history as events in their total order, and as typed operations
/// by id, with the same process numbers.
fn export<O: ExportOp<R>, R>(
    history: &History<O, R>,
    node_names: &[String],
) -> (Vec<HistoryEvent>, Vec<OperationRecord>) {
    // (position, op index, is completion)
    let mut order: Vec<(u64, usize, bool)> = Vec::with_capacity(history.len() * 2);
    for (i, op) in history.operations().iter().enumerate() {
        order.push((op.invoke.position, i, false));
        if let Some(c) = &op.completion {
            order.push((c.stamp.position, i, true));
        }
    }
    order.sort_unstable();
    let mut lanes: BTreeMap<(u32, usize), u64> = BTreeMap::new(); // (node, lane) -> process
    let mut busy: BTreeMap<u32, Vec<bool>> = BTreeMap::new(); // node -> lane in use
    let mut lane_of = vec![0usize; history.len()];
    let mut events = Vec::with_capacity(order.len());
    let mut operations = Vec::with_capacity(history.len());
    for (_, i, is_completion) in order {
        let op = &history.operations()[i];
        let node = op.node.0;
        let node_lanes = busy.entry(node).or_default();
        let lane = if is_completion {
            node_lanes[lane_of[i]] = false;
            lane_of[i]
        } else {
            let lane = node_lanes
                .iter()
                .position(|b| !b)
                .unwrap_or(node_lanes.len());
            if lane == node_lanes.len() {
                node_lanes.push(false);
            }
            node_lanes[lane] = true;
            lane_of[i] = lane;
            lane
        };
        let next = lanes.len() as u64;
        let process = *lanes.entry((node, lane)).or_insert(next);
        let (kind, value, time) = match (&op.completion, is_completion) {
            (_, false) => (EventType::Invoke, op.op.invoke_value(), op.invoke.time),
            (Some(c), true) => match &c.outcome {
                Outcome::Ok(r) => (EventType::Ok, op.op.ok_value(r), c.stamp.time),
                Outcome::Fail => (EventType::Fail, op.op.invoke_value(), c.stamp.time),
                Outcome::Info => (EventType::Info, op.op.invoke_value(), c.stamp.time),
            },
            (None, true) => unreachable!("only completed operations have completion events"),
        };
        events.push(HistoryEvent {
            process,
            kind,
            f: op.op.f().to_owned(),
            key: op.op.key(),
            value,
            time_ns: Some(time.as_nanos()),
            node: node_names.get(node as usize).cloned(),
        });
        if !is_completion {
            operations.push(operation_record(op, process));
        }
    }
    (events, operations)
}

fn operation_record<O: ExportOp<R>, R>(
    op: &crate::history::Operation<O, R>,
    process: u64,
) -> OperationRecord {
    let (ending, output) = match op.completion.as_ref().map(|c| &c.outcome) {
        None => (OperationEnding::Pending, None),
        Some(Outcome::Ok(r)) => (OperationEnding::Ok, Some(op.op.ok_value(r))),
        Some(Outcome::Fail) => (OperationEnding::Fail, None),
        Some(Outcome::Info) => (OperationEnding::Info, None),
    };
    OperationRecord {
        id: op.id,
        node: op.node,
        process,
        f: op.op.f().to_owned(),
        key: op.op.key(),
        input: op.op.invoke_value(),
        output,
        ending,
        invoke_ns: op.invoke.time.as_nanos(),
        invoke_event: op.invoke.event,
        complete_ns: op.completion.as_ref().map(|c| c.stamp.time.as_nanos()),
        complete_event: op.completion.as_ref().map(|c| c.stamp.event),
    }
}

/// One line of a sweep's JSON-lines output: everything about a seed that
/// does not depend on the machine (no wall time), so outputs compare byte
/// for byte across thread counts and shards.
#[derive(Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedLine {
    pub scenario: String,
    pub seed: u64,
    /// `pass`, the violated check's name, `liveness`, `unknown` or `limit`.
    pub verdict: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The engine step and time of a violation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_ns: Option<u64>,
    pub digest: String,
    pub events: u64,
    pub messages_delivered: u64,
    pub faults: u64,
    pub end_time_ns: u64,
    pub metrics: BTreeMap<String, f64>,
    /// "Sometimes" labels this seed reached, and how often.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reached: BTreeMap<String, u64>,
}

impl SeedLine {
    pub fn new(scenario: &str, record: &RunRecord) -> SeedLine {
        let (message, event, time_ns) = verdict_detail(&record.verdict);
        SeedLine {
            scenario: scenario.to_owned(),
            seed: record.seed,
            verdict: record.verdict.label().to_owned(),
            message,
            event,
            time_ns,
            digest: record.digest.clone(),
            events: record.stats.events,
            messages_delivered: record.stats.messages_delivered,
            faults: record.stats.faults,
            end_time_ns: record.stats.end_time.as_nanos(),
            metrics: record.metrics.clone(),
            reached: record.reached.clone(),
        }
    }
}

/// A verdict's message, event and time, where it has them.
pub fn verdict_detail(verdict: &Verdict) -> (Option<String>, Option<u64>, Option<u64>) {
    match verdict {
        Verdict::Pass => (None, None, None),
        Verdict::Violated(v) => (
            Some(v.message.clone()),
            Some(v.event),
            Some(v.time.as_nanos()),
        ),
        Verdict::NotLive(l) => (Some(l.message.clone()), None, None),
        Verdict::Unknown { check, reason } => (Some(format!("{check}: {reason}")), None, None),
        Verdict::LimitReached { limit, event, time } => (
            Some(format!("hit the {limit:?} limit")),
            Some(*event),
            Some(time.as_nanos()),
        ),
    }
}
