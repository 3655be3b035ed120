//! Sweep reports over many seeds of the counter design: a 1,000-seed sweep
//! must give a page under 2 MB, the same bytes every time, with failing
//! seeds grouped by verdict and each verdict's first seed.

mod common;

use common::fixtures::{render_sweep, sweep_lines};
use common::summary::{duplicate_ids, outline, section_text, svg_ids};

#[test]
fn a_thousand_seed_sweep_report_stays_under_2_mb() {
    let lines = sweep_lines(1_000);
    let html = render_sweep(&lines);
    println!(
        "a {}-seed sweep gives a {}-byte report",
        lines.len(),
        html.len()
    );
    assert!(html.len() < 2_000_000, "{} bytes", html.len());
    assert_eq!(html, render_sweep(&lines), "same lines, same bytes");
    assert_eq!(duplicate_ids(&html), Vec::<String>::new());
    insta::assert_snapshot!("thousand_seeds_summary", section_text(&html, "summary"));
    insta::assert_snapshot!("thousand_seeds_outline", outline(&html));
    let failures = section_text(&html, "failures");
    let headings: Vec<&str> = failures.lines().filter(|l| l.ends_with(" seeds")).collect();
    insta::assert_snapshot!("thousand_seeds_failure_groups", headings.join("\n"));
    assert!(failures.contains("dsim run scenarios/counter/gossip.ron --seed "));
    assert!(failures.contains("more seeds: "), "long groups are capped");
}

#[test]
fn every_metric_gets_a_histogram() {
    let lines = sweep_lines(40);
    let html = render_sweep(&lines);
    let ids = svg_ids(&html);
    for metric in lines[0].metrics.keys() {
        let id = format!("histogram-{}", metric.replace('_', "-"));
        assert!(ids.contains(&id), "no {id} in {ids:?}");
    }
    assert!(ids.contains(&"seed-strip".to_owned()));
}

#[test]
fn a_sweep_where_every_seed_passed_says_so() {
    let mut lines = sweep_lines(20);
    lines.retain(|l| l.verdict == "pass");
    let html = render_sweep(&lines);
    assert!(section_text(&html, "failures").contains("Every seed passed."));
    assert!(
        section_text(&html, "summary")
            .contains(&format!("{0} of {0} seeds passed (100.0%)", lines.len()))
    );
}
