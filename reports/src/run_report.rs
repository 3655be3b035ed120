//! The run report: one seed's story. The verdict and how to replay it
//! first, then what the checks said, when faults struck, what clients saw
//! (latency and throughput), the messages around the violation, the run's
//! counts, and the scenario text as run.

use std::collections::BTreeSet;

use sim_core::check::Verdict;
use sim_core::record::RunRecord;
use sim_core::trace::TraceKind;

use crate::RunReportInput;
use crate::fault_windows::{FaultPicture, read_faults};
use crate::html::{self, Cell, Page, code, escape, facts, figure, paragraph, table};
use crate::latency::{self, LatencyInput};
use crate::numbers;
use crate::operations::{Operation, pair_operations};
use crate::spacetime::{Focus, SpacetimeInput, spacetime_diagram};
use crate::timeline::{TimelineMarks, fault_timeline};
use crate::verdict::{check_statuses, expectation, verdict_sentence};

/// At most this many operations are listed in the violation's table.
const MAX_LISTED_OPERATIONS: usize = 20;

pub fn render(input: &RunReportInput<'_>) -> String {
    let record = input.record;
    let operations = pair_operations(&record.history);
    let named_ops = named_operations(&record.verdict);
    let trace = record.trace.as_deref().unwrap_or(&[]);
    let end_ns = record.stats.end_time.as_nanos();
    let faults = read_faults(trace, record.node_names.len(), end_ns);
    let title = format!("dsim run: {} seed {}", input.scenario_name, record.seed);
    let mut page = Page::new(&title, input.scenario_path);
    page.section(
        "verdict",
        "Verdict",
        verdict_section(input, &operations, &named_ops),
    );
    page.section(
        "checks",
        "Checks and metrics",
        checks_section(record, trace_has_liveness(record)),
    );
    page.section(
        "faults",
        "Fault timeline",
        timeline_section(record, &faults),
    );
    let spans = faults.active_spans();
    let latency_input = LatencyInput {
        operations: &operations,
        fault_spans: &spans,
        end_ns,
        liveness_ns: faults.liveness_ns,
        violation_ns: violation_time(&record.verdict),
        highlighted: &named_ops,
    };
    page.section(
        "latency",
        "Latency and throughput",
        latency_section(&latency_input),
    );
    page.section(
        "spacetime",
        "Space-time diagram",
        spacetime_section(record, &operations, &named_ops),
    );
    page.section("stats", "Run statistics", stats_section(record));
    let scenario = format!("<pre>{}</pre>\n", escape(input.scenario_source));
    let summary = format!(
        "{} ({} lines)",
        input.scenario_path,
        input.scenario_source.lines().count()
    );
    page.section(
        "scenario",
        "The scenario as run",
        html::details(&summary, &scenario, false),
    );
    page.finish()
}

fn verdict_section(
    input: &RunReportInput<'_>,
    operations: &[Operation<'_>],
    named: &BTreeSet<usize>,
) -> String {
    let record = input.record;
    let sentence = verdict_sentence(&record.verdict);
    let expected = expectation(record.verdict.label(), input.expected);
    let mut out = format!(
        "<p class=\"verdict {}\">{}</p>\n",
        sentence.class,
        escape(&sentence.text)
    );
    out.push_str(&facts(&[
        (
            "expected",
            format!(
                "<span class=\"{}\">{}</span>",
                expected.class,
                escape(&expected.text)
            ),
        ),
        ("seed", code(&record.seed.to_string())),
        ("trace digest", code(&record.digest)),
        ("replay", code(input.replay_command)),
        (
            "scenario",
            format!(
                "{} ({})",
                escape(input.scenario_name),
                code(input.scenario_path)
            ),
        ),
    ]));
    if !named.is_empty() {
        out.push_str("<h3>Operations the verdict names</h3>\n");
        out.push_str(&operations_table(operations, named));
    }
    out
}

/// The operations a violation or liveness failure names, by `OpId`.
fn named_operations(verdict: &Verdict) -> BTreeSet<usize> {
    let ops = match verdict {
        Verdict::Violated(v) => &v.ops,
        Verdict::NotLive(l) => &l.ops,
        _ => return BTreeSet::new(),
    };
    ops.iter().map(|op| op.0 as usize).collect()
}

fn operations_table(operations: &[Operation<'_>], named: &BTreeSet<usize>) -> String {
    let rows: Vec<Vec<Cell>> = named
        .iter()
        .take(MAX_LISTED_OPERATIONS)
        .filter_map(|&index| operations.get(index))
        .map(|op| {
            let completion = op.completion;
            vec![
                Cell::Number(op.index.to_string()),
                Cell::Text(op.invoke.node.clone().unwrap_or_default()),
                Cell::Number(op.invoke.process.to_string()),
                Cell::Code(op.invoke.f.clone()),
                op.invoke
                    .key
                    .clone()
                    .map_or(Cell::Text(String::new()), Cell::Code),
                Cell::Code(op.invoke.value.to_string()),
                Cell::Number(numbers::time(op.invoke_ns())),
                Cell::Text(op.ending.label().to_owned()),
                Cell::Code(completion.map(|c| c.value.to_string()).unwrap_or_default()),
                Cell::Number(op.complete_ns().map(numbers::time).unwrap_or_default()),
                Cell::Number(op.latency_ns().map(numbers::millis).unwrap_or_default()),
            ]
        })
        .collect();
    let headers = [
        "op",
        "client",
        "process",
        "f",
        "key",
        "invoked with",
        "invoked at",
        "outcome",
        "returned",
        "completed at",
        "latency",
    ];
    let mut out = table(&headers, &rows);
    if named.len() > MAX_LISTED_OPERATIONS {
        out.push_str(&paragraph(&format!(
            "… and {} more.",
            named.len() - MAX_LISTED_OPERATIONS
        )));
    }
    out
}

fn trace_has_liveness(record: &RunRecord) -> bool {
    record
        .trace
        .as_deref()
        .is_some_and(|t| t.iter().any(|e| e.kind == TraceKind::LivenessPhase))
}

fn checks_section(record: &RunRecord, had_liveness_phase: bool) -> String {
    let rows: Vec<Vec<Cell>> = check_statuses(&record.checks, &record.verdict, had_liveness_phase)
        .into_iter()
        .map(|(name, status)| {
            let (words, class) = status.words();
            vec![Cell::Code(name), Cell::Status(words.to_owned(), class)]
        })
        .collect();
    let metrics: Vec<Vec<Cell>> = record
        .metrics
        .iter()
        .map(|(name, value)| {
            vec![
                Cell::Code(name.clone()),
                Cell::Number(numbers::number(*value)),
            ]
        })
        .collect();
    let note = if matches!(record.verdict, Verdict::Violated(_)) {
        paragraph(
            "The run stops at the first violation: checks listed after the violated one never had their say.",
        )
    } else {
        String::new()
    };
    format!(
        "<div class=\"columns\">\n<div>\n<h3>Checks</h3>\n{}{note}</div>\n<div>\n<h3>Metrics</h3>\n{}</div>\n</div>\n",
        table(&["check", "status"], &rows),
        if metrics.is_empty() {
            paragraph("The design reported no metrics.")
        } else {
            table(&["metric", "value"], &metrics)
        }
    )
}

fn violation_time(verdict: &Verdict) -> Option<u64> {
    match verdict {
        Verdict::Violated(v) => Some(v.time.as_nanos()),
        _ => None,
    }
}

fn timeline_section(record: &RunRecord, faults: &FaultPicture) -> String {
    if record.trace.is_none() {
        return paragraph("No trace was recorded for this run, so its faults cannot be drawn.");
    }
    let marks = TimelineMarks {
        end_ns: record.stats.end_time.as_nanos(),
        violation_ns: violation_time(&record.verdict),
    };
    let svg = fault_timeline(faults, &record.node_names, marks);
    let mut caption = format!(
        "{} fault windows and {} clock changes. Hover a band for the fault's own text.",
        faults.windows.len(),
        faults.markers.len()
    );
    if faults.omitted > 0 {
        caption.push_str(&format!(
            " {} more were left out to keep the report small.",
            faults.omitted
        ));
    }
    figure(&svg, &caption)
}

fn latency_section(input: &LatencyInput<'_>) -> String {
    let completed = input
        .operations
        .iter()
        .filter(|o| o.completion.is_some())
        .count();
    if completed == 0 {
        return paragraph("The history is empty: no operations to plot.");
    }
    let (scatter, drawn, cell_pixels) = latency::latency_scatter(input);
    let pending = input.operations.len() - completed;
    let merged = if cell_pixels == 1 {
        "points of one outcome on the same pixel are drawn once".to_owned()
    } else {
        format!("points of one outcome within {cell_pixels} pixels are drawn once")
    };
    let scatter_caption = format!(
        "{completed} completed operations ({drawn} points drawn; {merged}); \
         {pending} never completed and are not shown. Info operations (timeouts) sit at their timeout. \
         Shaded: a fault was in force."
    );
    let mut out = figure(&scatter, &scatter_caption);
    out.push_str(&figure(
        &latency::latency_quantiles(input),
        "Latency quantiles of the operations invoked in each bucket (every outcome; info at its timeout), nearest rank.",
    ));
    out.push_str(&figure(
        &latency::throughput(input),
        "Operations completed per second in each bucket, by outcome.",
    ));
    out
}

fn spacetime_section(
    record: &RunRecord,
    operations: &[Operation<'_>],
    named: &BTreeSet<usize>,
) -> String {
    let Some(trace) = record.trace.as_deref() else {
        return paragraph("No trace was recorded for this run: replay it to draw its messages.");
    };
    let highlighted_nodes: BTreeSet<usize> = named
        .iter()
        .filter_map(|&op| operations.get(op)?.invoke.node.as_deref())
        .filter_map(|name| record.node_names.iter().position(|n| n == name))
        .collect();
    let (focus, violation) = match &record.verdict {
        Verdict::Violated(v) => (
            Focus::Violation { event: v.event },
            Some((v.event, v.time.as_nanos())),
        ),
        Verdict::NotLive(l) => (
            Focus::From {
                time_ns: l.healed_at.as_nanos(),
            },
            None,
        ),
        Verdict::LimitReached { .. } => (Focus::End, None),
        _ => (Focus::Start, None),
    };
    let sentence = verdict_sentence(&record.verdict).text;
    let input = SpacetimeInput {
        trace,
        node_names: &record.node_names,
        focus,
        violation: violation.map(|(event, time)| (event, time, sentence.as_str())),
        highlighted_nodes: &highlighted_nodes,
        highlighted_ops: named,
    };
    let diagram = spacetime_diagram(&input);
    let legend = "<p class=\"legend\"><span><i style=\"background:#4a5568\"></i>message</span>\
<span><i style=\"background:#b45309\"></i>duplicate delivery</span>\
<span><i style=\"background:#c62828\"></i>drop ✕ / violation</span>\
<span><i style=\"background:#1d2330\"></i>invoke</span>\
<span><i style=\"background:#2f7ed8\"></i>ok</span><span><i style=\"background:#e0245e\"></i>fail</span>\
<span><i style=\"background:#f39c12\"></i>info</span>\
<span><i style=\"background:#fdecea\"></i>client named by the violation</span></p>\n";
    format!("{legend}{}", figure(&diagram.svg, &diagram.caption))
}

fn stats_section(record: &RunRecord) -> String {
    let stats = &record.stats;
    let rows: Vec<Vec<Cell>> = [
        ("engine events", stats.events.to_string()),
        ("trace events", stats.trace_events.to_string()),
        ("messages sent", stats.messages_sent.to_string()),
        ("messages delivered", stats.messages_delivered.to_string()),
        ("messages dropped", stats.messages_dropped.to_string()),
        ("messages duplicated", stats.messages_duplicated.to_string()),
        ("timers fired", stats.timers_fired.to_string()),
        ("faults", stats.faults.to_string()),
        ("simulated time", numbers::time(stats.end_time.as_nanos())),
        ("history events", record.history.len().to_string()),
    ]
    .into_iter()
    .map(|(name, value)| vec![Cell::from(name), Cell::Number(value)])
    .collect();
    let mut out = table(&["count", "value"], &rows);
    if let Some(weights) = &record.nemesis_weights {
        out.push_str(&paragraph(&format!(
            "Fault mix drawn for this seed (nemesis weights): {weights:?}"
        )));
    }
    out
}
