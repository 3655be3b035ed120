//! Reports in a real browser: headless Chromium loads each kind of report
//! from a file and the DOM it builds must hold every plot, the design's
//! own plots and the lit causal chain included. Skips with a message when
//! Chromium is missing, unless `CI` is set (then it fails).
//!
//! The screenshots in `reports/examples/` are of shipped scenarios, not
//! of this test's fixture: `cargo xtask gallery` takes them.

mod common;

use std::path::{Path, PathBuf};

use common::browser::{chromium_or_skip, dump_dom, scratch_dir};
use common::fixtures::{
    grid_cells, render_grid, render_run, render_sweep, run_with_design_plots, sweep_lines,
};
use common::summary::svg_ids;

/// One page of each kind: (file stem, HTML). The run report has a
/// design's plots and a violation whose chain the diagram lights.
fn pages() -> Vec<(&'static str, String)> {
    vec![
        ("run-report", render_run(&run_with_design_plots())),
        ("sweep-report", render_sweep(&sweep_lines(300))),
        ("grid-report", render_grid(&grid_cells(6))),
    ]
}

/// What the run report must show besides its `<svg>`s.
const RUN_REPORT_PLOTS: [&str; 7] = [
    "fault-timeline",
    "latency-scatter",
    "latency-quantiles",
    "throughput",
    "design-plot-1",
    "design-plot-2",
    "spacetime-diagram",
];

fn write_page(dir: &Path, stem: &str, html: &str) -> PathBuf {
    let path = dir.join(format!("{stem}.html"));
    std::fs::write(&path, html).expect("write the report");
    path
}

#[test]
fn every_report_loads_in_headless_chromium_with_every_plot() {
    let Some(chromium) =
        chromium_or_skip("every_report_loads_in_headless_chromium_with_every_plot")
    else {
        return;
    };
    let scratch = scratch_dir("dom");
    for (stem, html) in pages() {
        let page = write_page(&scratch, stem, &html);
        let dom = dump_dom(&chromium, &page, &scratch);
        assert!(
            dom.trim_end().ends_with("</html>"),
            "{stem}: the page did not load:\n{dom}"
        );
        let expected = svg_ids(&html);
        assert!(!expected.is_empty(), "{stem} has no plots");
        if stem == "run-report" {
            assert_eq!(expected, RUN_REPORT_PLOTS);
            assert!(
                dom.contains("url(#spacetime-chain)"),
                "run-report: the causal chain is drawn"
            );
        }
        for id in &expected {
            assert!(
                dom.contains(&format!("<svg id=\"{id}\"")),
                "{stem}: plot {id} missing from the DOM"
            );
        }
        assert_eq!(
            dom.matches("<svg ").count(),
            expected.len(),
            "{stem}: every <svg> has an id"
        );
        assert!(
            !dom.contains("could not draw"),
            "{stem}: a chart failed to draw"
        );
    }
    let _ = std::fs::remove_dir_all(&scratch);
}
