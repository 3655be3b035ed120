//! Grid reports over the counter design's parameters: gossip period
//! across, servers down, clients as small multiples. The failure-rate
//! heatmap shows where gossip gets slower than the staleness bound.

mod common;

use common::fixtures::{grid_cells, render_grid};
use common::summary::{duplicate_ids, outline, section_text, svg_ids};
use reports::{GridCell, GridReportInput, grid_report};

#[test]
fn a_grid_report_draws_one_heatmap_per_measure_and_small_multiple() {
    let cells = grid_cells(4);
    let html = render_grid(&cells);
    assert_eq!(html, render_grid(&cells), "same cells, same bytes");
    assert_eq!(duplicate_ids(&html), Vec::<String>::new());
    insta::assert_snapshot!("grid_summary", section_text(&html, "summary"));
    insta::assert_snapshot!("grid_cells", section_text(&html, "cells"));
    insta::assert_snapshot!("grid_outline", outline(&html));
    // Gossip slower than the staleness bound fails every seed.
    assert!(html.contains("gossip_ms=800, servers=5, clients=2: 4 of 4 seeds failed"));
}

#[test]
fn one_axis_grids_draw_one_row_and_missing_cells_are_marked() {
    let lines = grid_cells(1).remove(0).lines;
    let cells = vec![GridCell {
        params: vec![("replicas".to_owned(), 3)],
        lines,
    }];
    let axes = vec![("replicas".to_owned(), vec![3, 5])];
    let html = grid_report(&GridReportInput {
        scenario_name: "one-axis",
        scenario_path: "scenarios/x.ron",
        axes: &axes,
        cells: &cells,
        headline: &[],
    });
    let ids = svg_ids(&html);
    assert!(
        ids.contains(&"heatmap-violation-rate".to_owned()),
        "{ids:?}"
    );
    assert_eq!(duplicate_ids(&html), Vec::<String>::new());
    assert!(
        html.contains("<title>not run</title>"),
        "replicas=5 never ran"
    );
}
