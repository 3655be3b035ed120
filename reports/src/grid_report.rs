//! The grid (design-space) report: a sweep over parameter values × seeds,
//! drawn as one heatmap per measure: the failure rate first (where the
//! safe designs end, e.g. the R+W>N boundary), then each metric's median
//! across seeds. The first axis runs across, the second down, and any
//! further axes give small multiples that share one colour scale.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::distribution::{distribution, metric_names};
use crate::heatmap::{Axis, CellValue, Heatmap, Scale, draw_heatmap};
use crate::html::{Cell, Ids, Page, code, escape, facts, paragraph, table};
use crate::numbers;
use crate::{GridCell, GridReportInput};

/// Rows of the cell table beyond this are left out.
const MAX_TABLE_ROWS: usize = 500;

/// Cells by their parameter values, in axis order.
type CellIndex<'a> = BTreeMap<Vec<i64>, &'a GridCell>;

pub fn render(input: &GridReportInput<'_>) -> String {
    let index = index_cells(input);
    let mut ids = Ids::new(&["summary", "cells"]);
    let title = format!("dsim grid: {}", input.scenario_name);
    let mut page = Page::new(&title, input.scenario_path);
    page.section("summary", "Summary", summary_section(input));
    if !input.axes.is_empty() {
        let section_id = ids.claim("violation-rate");
        let html = rate_section(input, &index, &mut ids);
        page.section(&section_id, "Failure rate", html);
        let mut metrics = metric_names(input.cells.iter().flat_map(|c| &c.lines));
        // The design's headline metrics first, in its order; the rest after.
        metrics.sort_by_key(|m| {
            input
                .headline
                .iter()
                .position(|h| h == m)
                .unwrap_or(usize::MAX)
        });
        for metric in metrics {
            let section_id = ids.claim(&format!("metric-{metric}"));
            let html = metric_section(input, &index, &mut ids, &metric);
            page.section(&section_id, &format!("median {metric}"), html);
        }
    }
    page.section("cells", "Cells", cells_table(input, &index));
    page.finish()
}

/// The failure rate per cell: where the safe designs end.
fn rate_section(input: &GridReportInput<'_>, index: &CellIndex<'_>, ids: &mut Ids) -> String {
    let plot = Plot {
        id: "heatmap-violation-rate",
        title: "failing seeds",
        scale: Scale::Rate,
    };
    let html = heatmaps(input, index, ids, &plot, &|cell| {
        let seeds = cell.lines.len() as u64;
        (seeds > 0).then(|| CellValue {
            value: failures(cell) as f64 / seeds as f64,
            text: numbers::percent(failures(cell), seeds),
            title: format!("{}: {}", params_text(cell), verdict_counts(cell)),
        })
    });
    let note = paragraph(
        "Share of seeds whose verdict was not `pass`. Green cells had no failing seed; \
         the deeper the red, the more seeds failed.",
    );
    format!("{note}{html}")
}

/// One metric's median across each cell's seeds, on one colour scale for
/// every small multiple.
fn metric_section(
    input: &GridReportInput<'_>,
    index: &CellIndex<'_>,
    ids: &mut Ids,
    metric: &str,
) -> String {
    let median = |cell: &GridCell| {
        distribution(
            cell.lines
                .iter()
                .filter_map(|l| l.metrics.get(metric).copied()),
        )
    };
    let medians: Vec<f64> = input
        .cells
        .iter()
        .filter_map(|c| Some(median(c)?.median))
        .collect();
    let low = medians.iter().copied().fold(f64::INFINITY, f64::min);
    let high = medians.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let title = format!("median {metric}");
    let heatmap_id = format!("heatmap-{metric}");
    let plot = Plot {
        id: &heatmap_id,
        title: &title,
        scale: Scale::Range { low, high },
    };
    heatmaps(input, index, ids, &plot, &|cell| {
        let d = median(cell)?;
        Some(CellValue {
            value: d.median,
            text: numbers::number(d.median),
            title: format!(
                "{}: median {metric} {} over {} seeds (min {}, max {})",
                params_text(cell),
                numbers::number(d.median),
                d.count,
                numbers::number(d.min),
                numbers::number(d.max)
            ),
        })
    })
}

fn index_cells<'a>(input: &GridReportInput<'a>) -> CellIndex<'a> {
    let mut index = CellIndex::new();
    for cell in input.cells {
        let key: Option<Vec<i64>> = input
            .axes
            .iter()
            .map(|(name, _)| cell.params.iter().find(|(p, _)| p == name).map(|(_, v)| *v))
            .collect();
        if let Some(key) = key {
            index.entry(key).or_insert(cell);
        }
    }
    index
}

/// What one measure's heatmaps are called and how they colour.
struct Plot<'a> {
    /// The base of the heatmaps' ids; small multiples add `-1`, `-2`, ….
    id: &'a str,
    title: &'a str,
    scale: Scale,
}

/// One heatmap per combination of the axes after the first two.
fn heatmaps(
    input: &GridReportInput<'_>,
    index: &CellIndex<'_>,
    ids: &mut Ids,
    plot: &Plot<'_>,
    value: &dyn Fn(&GridCell) -> Option<CellValue>,
) -> String {
    let axis = |i: usize| {
        input.axes.get(i).map(|(name, values)| Axis {
            name,
            values: values.as_slice(),
        })
    };
    let (Some(across), down) = (axis(0), axis(1)) else {
        return String::new();
    };
    let extra_axes = input.axes.get(2..).unwrap_or(&[]);
    let panels = combinations(extra_axes);
    let mut out = String::from("<div class=\"multiples\">\n");
    for (number, extra) in panels.iter().enumerate() {
        let panel_id = if panels.len() == 1 {
            ids.claim(plot.id)
        } else {
            ids.claim(&format!("{}-{}", plot.id, number + 1))
        };
        let named: Vec<String> = extra_axes
            .iter()
            .zip(extra)
            .map(|((n, _), v)| format!("{n}={v}"))
            .collect();
        let panel_title = match named.is_empty() {
            true => plot.title.to_owned(),
            false => format!("{}, {}", plot.title, named.join(", ")),
        };
        let heatmap = Heatmap {
            id: &panel_id,
            title: &panel_title,
            across,
            down,
            scale: plot.scale,
        };
        let svg = draw_heatmap(&heatmap, |x, y| {
            let mut key = vec![x];
            if down.is_some() {
                key.push(y);
            }
            key.extend(extra);
            value(index.get(&key)?)
        });
        let _ = writeln!(out, "<figure>\n{svg}</figure>");
    }
    out.push_str("</div>\n");
    out
}

/// Every combination of the axes' values, first axis slowest.
fn combinations(axes: &[(String, Vec<i64>)]) -> Vec<Vec<i64>> {
    let mut combos = vec![Vec::new()];
    for (_, values) in axes {
        combos = combos
            .into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut next = prefix.clone();
                    next.push(*v);
                    next
                })
            })
            .collect();
    }
    combos
}

fn failures(cell: &GridCell) -> u64 {
    cell.lines.iter().filter(|l| l.verdict != "pass").count() as u64
}

fn params_text(cell: &GridCell) -> String {
    let parts: Vec<String> = cell
        .params
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    parts.join(", ")
}

/// `3 of 20 seeds failed: linearizable 2, liveness 1`.
fn verdict_counts(cell: &GridCell) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for line in cell.lines.iter().filter(|l| l.verdict != "pass") {
        *counts.entry(&line.verdict).or_default() += 1;
    }
    let mut text = format!("{} of {} seeds failed", failures(cell), cell.lines.len());
    if !counts.is_empty() {
        let parts: Vec<String> = counts.iter().map(|(l, c)| format!("{l} {c}")).collect();
        let _ = write!(text, ": {}", parts.join(", "));
    }
    text
}

fn summary_section(input: &GridReportInput<'_>) -> String {
    let seeds: usize = input.cells.iter().map(|c| c.lines.len()).sum();
    let failed: u64 = input.cells.iter().map(failures).sum();
    let axes: Vec<String> = input
        .axes
        .iter()
        .map(|(name, values)| {
            let values: Vec<String> = values.iter().map(i64::to_string).collect();
            format!("{name} ∈ {{{}}}", values.join(", "))
        })
        .collect();
    let mut out = facts(&[
        (
            "scenario",
            format!(
                "{} ({})",
                escape(input.scenario_name),
                code(input.scenario_path)
            ),
        ),
        ("axes", escape(&axes.join("; "))),
        ("cells", input.cells.len().to_string()),
        (
            "runs",
            format!(
                "{seeds} ({failed} failed, {})",
                numbers::percent(failed, seeds as u64)
            ),
        ),
    ]);
    out.push_str(&paragraph(
        "Across: the first axis; down: the second; further axes give one heatmap per value. Hover a cell for its details.",
    ));
    out
}

fn cells_table(input: &GridReportInput<'_>, index: &CellIndex<'_>) -> String {
    let mut headers: Vec<&str> = input.axes.iter().map(|(name, _)| name.as_str()).collect();
    headers.extend(["seeds", "failure rate", "verdicts"]);
    let rows: Vec<Vec<Cell>> = index
        .iter()
        .take(MAX_TABLE_ROWS)
        .map(|(key, cell)| {
            let mut row: Vec<Cell> = key.iter().map(|v| Cell::Number(v.to_string())).collect();
            row.push(Cell::Number(cell.lines.len().to_string()));
            row.push(Cell::Number(numbers::percent(
                failures(cell),
                cell.lines.len() as u64,
            )));
            row.push(Cell::Text(verdict_counts(cell)));
            row
        })
        .collect();
    let mut out = table(&headers, &rows);
    if index.len() > MAX_TABLE_ROWS {
        out.push_str(&paragraph(&format!(
            "… and {} more cells.",
            index.len() - MAX_TABLE_ROWS
        )));
    }
    out
}
