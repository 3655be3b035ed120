//! Reports in a real browser: headless Chromium loads each kind of report
//! from a file and the DOM it builds must hold every plot. Skips with a
//! message when Chromium is missing, unless `CI` is set (then it fails).
//!
//! The ignored test writes the screenshots kept in `reports/examples/`:
//! `cargo test -p reports --test browser -- --ignored`.

mod common;

use std::path::{Path, PathBuf};

use common::browser::{chromium_or_skip, dump_dom, scratch_dir, screenshot};
use common::fixtures::{
    grid_cells, render_grid, render_run, render_sweep, sweep_lines, violating_run,
};
use common::summary::svg_ids;

/// One page of each kind: (file stem, HTML).
fn pages() -> Vec<(&'static str, String)> {
    vec![
        ("run-report", render_run(&violating_run())),
        ("sweep-report", render_sweep(&sweep_lines(300))),
        ("grid-report", render_grid(&grid_cells(6))),
    ]
}

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

#[test]
#[ignore = "writes reports/examples/*.png; run by hand after changing how reports look"]
fn screenshots_for_the_examples_folder() {
    let chromium = common::browser::find_chromium().expect("screenshots need chromium");
    let scratch = scratch_dir("screenshots");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    std::fs::create_dir_all(&examples).expect("create reports/examples");
    for (stem, html) in pages() {
        let page = write_page(&scratch, stem, &html);
        screenshot(
            &chromium,
            &page,
            &examples.join(format!("{stem}.png")),
            &scratch,
        );
    }
    let _ = std::fs::remove_dir_all(&scratch);
}
