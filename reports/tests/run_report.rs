//! Run reports of real runs of the counter design: a violation, a pass, a
//! liveness failure, a run with nothing recorded, a run whose design asks
//! for its own plots, and a 100,000-event run that must still give a small
//! page. Snapshots hold the verdict and check tables as text and the
//! page's outline, not the HTML itself.

mod common;

use common::fixtures::{
    long_run, not_live_run, passing_run, render_run, run_with_design_plots, violating_run,
};
use common::summary::{data_lines, duplicate_ids, outline, section_ids, section_text, svg_ids};
use sim_core::Verdict;

/// Every plot a run report with a trace and a history has.
const RUN_PLOTS: [&str; 5] = [
    "fault-timeline",
    "latency-scatter",
    "latency-quantiles",
    "throughput",
    "spacetime-diagram",
];

#[test]
fn a_violation_report_names_the_check_the_seed_and_the_replay_command() {
    let record = violating_run();
    let html = render_run(&record);
    // Determinism end to end: run the seed again, render again, same bytes.
    assert_eq!(html, render_run(&violating_run()));
    insta::assert_snapshot!("violation_verdict", section_text(&html, "verdict"));
    insta::assert_snapshot!("violation_checks", section_text(&html, "checks"));
    insta::assert_snapshot!("violation_outline", outline(&html));
    let replay = format!(
        "dsim run scenarios/counter/gossip.ron --seed {}",
        record.seed
    );
    assert!(html.contains(&replay));
    assert_eq!(svg_ids(&html), RUN_PLOTS);
    assert_eq!(duplicate_ids(&html), Vec::<String>::new());
    assert!(!html.contains("<script"), "no scripts in reports");
    assert!(!html.contains("could not draw"), "every chart drew");
}

#[test]
fn a_passing_report_shows_the_first_events_and_every_check_passed() {
    let html = render_run(&passing_run());
    insta::assert_snapshot!("pass_verdict", section_text(&html, "verdict"));
    insta::assert_snapshot!("pass_checks", section_text(&html, "checks"));
    assert!(section_text(&html, "spacetime").contains("the first 180 trace events"));
    assert_eq!(svg_ids(&html), RUN_PLOTS);
}

#[test]
fn a_liveness_failure_report_focuses_on_the_heal() {
    let html = render_run(&not_live_run());
    insta::assert_snapshot!("not_live_verdict", section_text(&html, "verdict"));
    insta::assert_snapshot!("not_live_checks", section_text(&html, "checks"));
    assert!(section_text(&html, "spacetime").contains("the start of the liveness phase"));
}

#[test]
fn a_run_without_trace_or_history_says_so_instead_of_drawing() {
    let mut record = violating_run();
    record.trace = None;
    record.history.clear();
    record.operations.clear();
    let html = render_run(&record);
    // The engine records fault windows in every run: the timeline needs no
    // trace.
    assert_eq!(svg_ids(&html), ["fault-timeline"]);
    assert!(section_text(&html, "latency").contains("The history is empty"));
    assert!(section_text(&html, "spacetime").contains("replay it"));
}

#[test]
fn a_design_s_plots_are_drawn_from_its_series_after_the_latency_plots() {
    let html = render_run(&run_with_design_plots());
    let sections = section_ids(&html);
    let latency = sections.iter().position(|s| s == "latency").unwrap();
    assert_eq!(sections[latency + 1], "design", "{sections:?}");
    assert!(section_text(&html, "design").contains("Running totals of acks, losses"));
    let ids = svg_ids(&html);
    assert_eq!(ids[4..6], ["design-plot-1", "design-plot-2"], "{ids:?}");
    assert_eq!(data_lines(&html, "design-plot-1"), 2, "one line per series");
    assert_eq!(data_lines(&html, "design-plot-2"), 1);
    assert!(!html.contains("could not draw"));
}

#[test]
fn a_design_without_plots_gets_no_section() {
    let mut record = run_with_design_plots();
    record.plots.clear();
    let html = render_run(&record);
    assert!(!section_ids(&html).contains(&"design".to_owned()));
    assert!(
        !svg_ids(&html)
            .iter()
            .any(|id| id.starts_with("design-plot"))
    );
}

#[test]
fn the_violation_s_causal_chain_is_lit_and_the_rest_dimmed() {
    let html = render_run(&violating_run());
    let spacetime = section_text(&html, "spacetime");
    assert!(
        spacetime.contains("causal chain of the named operations"),
        "{spacetime}"
    );
    assert!(
        html.contains("url(#spacetime-chain)"),
        "some message is in the chain"
    );
    assert!(
        spacetime.contains("everything else is dimmed"),
        "{spacetime}"
    );
    let diagram = &html[html.find("<svg id=\"spacetime-diagram\"").unwrap()..];
    assert!(diagram.contains(" opacity=\""), "something is dimmed");
}

#[test]
fn the_chain_is_told_in_words_above_the_diagram_in_event_order() {
    let record = violating_run();
    let html = render_run(&record);
    let start = html
        .find("<ol class=\"chain\">")
        .expect("the chain in words");
    assert!(
        start < html.find("<svg id=\"spacetime-diagram\"").unwrap(),
        "above the diagram"
    );
    let list = &html[start..html[start..].find("</ol>").unwrap() + start];
    let events: Vec<u64> = list
        .split("<code>#")
        .skip(1)
        .map(|item| item[..item.find('<').unwrap()].parse().unwrap())
        .collect();
    assert!(events.len() > 2, "{list}");
    assert!(
        events.windows(2).all(|w| w[0] <= w[1]),
        "in event order: {events:?}"
    );
    // It starts where a named operation was invoked, said with names.
    let Verdict::Violated(v) = &record.verdict else {
        panic!("a violation")
    };
    let first_named = v.ops.iter().min().expect("the verdict names operations");
    let invoked = record
        .operations
        .iter()
        .find(|op| op.id == *first_named)
        .unwrap();
    let client = &record.node_names[invoked.node.index()];
    assert!(list.contains(&format!("{client} invokes")), "{list}");
    assert!(
        !list.contains(" n0 ") && !list.contains(" n1 "),
        "nodes by name: {list}"
    );
}

#[test]
fn text_from_runs_and_scenarios_is_escaped() {
    let mut record = passing_run();
    let mut names = record.node_names.to_vec();
    names[0] = "<script>alert(1)</script>".to_owned();
    record.node_names = names.into();
    record.checks[0] = "a \"quoted\" & <b>bold</b> check".to_owned();
    let html = render_run(&record);
    assert!(!html.contains("<script"));
    assert!(!html.contains("<b>bold"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("a &quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt; check"));
}

#[test]
fn the_report_of_a_100_000_event_run_stays_under_5_mb() {
    let record = long_run();
    assert!(
        record.stats.events >= 100_000,
        "only {} events",
        record.stats.events
    );
    let html = render_run(&record);
    println!(
        "a {}-event run ({} trace events, {} history events) gives a {}-byte report",
        record.stats.events,
        record.stats.trace_events,
        record.history.len(),
        html.len()
    );
    assert!(html.len() < 5_000_000, "{} bytes", html.len());
    assert_eq!(svg_ids(&html), RUN_PLOTS);
    insta::assert_snapshot!("long_run_outline", outline(&html));
}
