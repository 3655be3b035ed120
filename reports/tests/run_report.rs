//! Run reports of real runs of the counter design: a violation, a pass, a
//! liveness failure, a run with nothing recorded, and a 100,000-event run
//! that must still give a small page. Snapshots hold the verdict and check
//! tables as text and the page's outline, not the HTML itself.

mod common;

use common::fixtures::{long_run, not_live_run, passing_run, render_run, violating_run};
use common::summary::{duplicate_ids, outline, section_text, svg_ids};

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
        "dsim replay scenarios/counter/gossip.ron --seed {}",
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
    let html = render_run(&record);
    assert!(svg_ids(&html).is_empty());
    assert!(section_text(&html, "faults").contains("No trace was recorded"));
    assert!(section_text(&html, "latency").contains("The history is empty"));
    assert!(section_text(&html, "spacetime").contains("replay it"));
}

#[test]
fn text_from_runs_and_scenarios_is_escaped() {
    let mut record = passing_run();
    record.node_names[0] = "<script>alert(1)</script>".to_owned();
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
