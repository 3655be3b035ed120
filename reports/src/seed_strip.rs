//! The seed strip: one small square per seed, in seed order, coloured by
//! verdict, with the seed and its verdict in a tooltip. It shows whether
//! failures are rare or common, and whether they cluster.

use std::collections::BTreeMap;

use sim_core::record::SeedLine;

use crate::palette;
use crate::svg::{Anchor, Svg, shorten};

/// Seeds beyond this are not drawn; the sweep's tables still count them.
pub const MAX_SEEDS: usize = 5_000;
const WIDTH: f64 = 1200.0;
const CELL: f64 = 12.0;
const GAP: f64 = 2.0;

/// The colour of each verdict label: `pass` green, failures by the order
/// of `failure_labels`.
pub fn label_colours(failure_labels: &[&str]) -> BTreeMap<String, &'static str> {
    let mut colours: BTreeMap<String, &'static str> = failure_labels
        .iter()
        .enumerate()
        .map(|(i, label)| ((*label).to_owned(), palette::failure_kind(i)))
        .collect();
    colours.insert("pass".to_owned(), palette::PASS);
    colours
}

/// Draws the strip as an `<svg id="seed-strip">`.
pub fn seed_strip(lines: &[SeedLine], colours: &BTreeMap<String, &'static str>) -> String {
    let shown = &lines[..lines.len().min(MAX_SEEDS)];
    let per_row = ((WIDTH - 20.0) / (CELL + GAP)).floor() as usize;
    let rows = shown.len().div_ceil(per_row).max(1);
    let height = 24.0 + rows as f64 * (CELL + GAP) + 8.0;
    let mut svg = Svg::new(
        "seed-strip",
        WIDTH,
        height,
        "verdict of each seed, in seed order",
    );
    let heading = format!("seeds in order, {per_row} per row");
    svg.text((10.0, 14.0), Anchor::Start, "fill=\"#667085\"", &heading);
    for (i, line) in shown.iter().enumerate() {
        let x = 10.0 + (i % per_row) as f64 * (CELL + GAP);
        let y = 22.0 + (i / per_row) as f64 * (CELL + GAP);
        let colour = colours.get(&line.verdict).copied().unwrap_or("#999999");
        let mut title = format!("seed {}: {}", line.seed, line.verdict);
        if let Some(message) = &line.message {
            title.push_str(": ");
            title.push_str(&shorten(message, 140));
        }
        svg.rect(
            x,
            y,
            CELL,
            CELL,
            &format!("fill=\"{colour}\""),
            Some(&title),
        );
    }
    svg.finish()
}
