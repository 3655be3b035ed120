//! The run report: one seed's story. The verdict and how to replay it
//! first, then what the checks said, when faults struck, what clients saw
//! (latency and throughput), what the design itself counted, the messages
//! around the violation with the named operations' causal chain lit, the
//! run's counts, and the scenario text as run. Everything is drawn from
//! the record's data: typed operations, the engine's fault windows, the
//! design's series and plots, the trace.

use std::collections::BTreeSet;

use sim_core::check::Verdict;
use sim_core::record::RunRecord;
use sim_core::trace::TraceKind;

use crate::RunReportInput;
use crate::backdrop::Backdrop;
use crate::causal_chain::causal_chain;
use crate::design_plots::design_section;
use crate::fault_windows::{FaultPicture, read_faults};
use crate::html::{self, Cell, Page, code, escape, facts, figure, paragraph, table};
use crate::latency::{self, LatencyInput};
use crate::named_ops::{named_operations, operations_table};
use crate::numbers;
use crate::palette;
use crate::spacetime::{Focus, SpacetimeInput, spacetime_diagram};
use crate::timeline::{TimelineMarks, fault_timeline, timeline_rows};
use crate::verdict::{check_statuses, expectation, verdict_class};

pub fn render(input: &RunReportInput<'_>) -> String {
    let record = input.record;
    let named_ops = named_operations(&record.verdict);
    let end_ns = record.stats.end_time.as_nanos();
    let mut faults = read_faults(&record.fault_windows, record.node_names.len(), end_ns);
    faults.liveness_ns = liveness_start(record);
    let title = format!("dsim run: {} seed {}", input.scenario_name, record.seed);
    let mut page = Page::new(&title, input.scenario_path);
    page.section("verdict", "Verdict", verdict_section(input, &named_ops));
    page.section(
        "checks",
        "Checks and metrics",
        checks_section(record, faults.liveness_ns.is_some()),
    );
    page.section(
        "faults",
        "Fault timeline",
        timeline_section(record, &faults),
    );
    let spans = faults.active_spans();
    let backdrop = Backdrop {
        fault_spans: &spans,
        liveness_ns: faults.liveness_ns,
        violation_ns: violation_time(&record.verdict),
    };
    let latency_input = LatencyInput {
        operations: &record.operations,
        backdrop,
        end_ns,
        highlighted: &named_ops,
    };
    page.section(
        "latency",
        "Latency and throughput",
        latency_section(&latency_input),
    );
    if !record.plots.is_empty() {
        page.section(
            "design",
            "What the design did",
            design_section(record, backdrop),
        );
    }
    page.section(
        "spacetime",
        "Space-time diagram",
        spacetime_section(record, &named_ops),
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

fn verdict_section(input: &RunReportInput<'_>, named: &BTreeSet<u32>) -> String {
    let record = input.record;
    let expected = expectation(record.verdict.label(), input.expected);
    let mut out = format!(
        "<p class=\"verdict {}\">{}</p>\n",
        verdict_class(&record.verdict),
        escape(&record.verdict.sentence())
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
        out.push_str(&operations_table(
            &record.operations,
            named,
            &record.node_names,
        ));
    }
    out
}

/// When the liveness phase began: the trace's mark, or for a run that
/// failed liveness without a recorded trace, the verdict's heal time.
fn liveness_start(record: &RunRecord) -> Option<u64> {
    let traced = record.trace.as_deref().and_then(|trace| {
        trace
            .iter()
            .find(|e| e.kind == TraceKind::LivenessPhase)
            .map(|e| e.time.as_nanos())
    });
    traced.or(match &record.verdict {
        Verdict::NotLive(l) => Some(l.healed_at.as_nanos()),
        _ => None,
    })
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
    // The design's reading of its own numbers, under the metrics.
    let notes: String = record.notes.iter().map(|n| paragraph(n)).collect();
    format!(
        "<div class=\"columns\">\n<div>\n<h3>Checks</h3>\n{}{note}</div>\n<div>\n<h3>Metrics</h3>\n{}{notes}</div>\n</div>\n",
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

/// The engine records fault windows in every run, so the timeline needs
/// no trace.
fn timeline_section(record: &RunRecord, faults: &FaultPicture) -> String {
    let marks = TimelineMarks {
        end_ns: record.stats.end_time.as_nanos(),
        violation_ns: violation_time(&record.verdict),
    };
    let (rows, folded) = timeline_rows(faults, &record.node_names);
    let svg = fault_timeline(faults, &record.node_names, (&rows, &folded), marks);
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
        .filter(|o| o.complete_ns.is_some())
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

fn spacetime_section(record: &RunRecord, named: &BTreeSet<u32>) -> String {
    let Some(trace) = record.trace.as_deref() else {
        return paragraph("No trace was recorded for this run: replay it to draw its messages.");
    };
    let highlighted_nodes: BTreeSet<usize> = named
        .iter()
        .filter_map(|&id| crate::named_ops::operation(&record.operations, id))
        .map(|op| op.node.index())
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
    let end_ns = record.stats.end_time.as_nanos();
    let chain = causal_chain(
        trace,
        &record.operations,
        named,
        &record.fault_windows,
        end_ns,
    );
    let sentence = record.verdict.sentence();
    let input = SpacetimeInput {
        trace,
        node_names: &record.node_names,
        focus,
        violation: violation.map(|(event, time)| (event, time, sentence.as_str())),
        highlighted_nodes: &highlighted_nodes,
        highlighted_ops: named,
        chain: &chain,
    };
    let diagram = spacetime_diagram(&input);
    let mut legend = String::from(
        "<p class=\"legend\"><span><i style=\"background:#4a5568\"></i>message</span>\
<span><i style=\"background:#b45309\"></i>duplicate delivery</span>\
<span><i style=\"background:#c62828\"></i>drop ✕ / violation</span>\
<span><i style=\"background:#1d2330\"></i>invoke</span>\
<span><i style=\"background:#2f7ed8\"></i>ok</span><span><i style=\"background:#e0245e\"></i>fail</span>\
<span><i style=\"background:#f39c12\"></i>info</span>\
<span><i style=\"background:#fdecea\"></i>client named by the violation</span>",
    );
    if chain.is_active() {
        legend.push_str(&format!(
            "<span><i style=\"background:{}\"></i>causal chain of the named operations</span>\
<span><i style=\"background:#4a5568;opacity:{}\"></i>dimmed: not in the chain</span>",
            palette::CHAIN,
            palette::DIMMED_OPACITY
        ));
    }
    legend.push_str("</p>\n");
    // The same chain in words, above the picture.
    let story = crate::chain_text::chain_list(trace, &chain, &record.node_names).map_or_else(
        String::new,
        |list| {
            format!(
                "<p>How it happened: the causal chain of the operations the verdict names, in \
             order (engine event, true time), as the diagram below lights it.</p>\n{list}"
            )
        },
    );
    format!("{story}{legend}{}", figure(&diagram.svg, &diagram.caption))
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
