//! `dsim sweep FILE --grid name=a..=b,...`: a design-space sweep. Every
//! combination of the named model parameters (for dedup: replicas,
//! read_quorum, write_quorum) runs the seed range; the summary and the
//! report show each metric per cell, which is how the R + W > N boundary
//! appears. Combinations the model rejects (R > N) are listed and skipped.

use std::io::Write;
use std::ops::Range;
use std::path::Path;

use reports::{GridCell, GridReportInput};
use sim_core::metrics::nearest_rank;
use sim_core::record::SeedLine;

use crate::Exit;
use crate::commands::report::slug;
use crate::commands::{Failure, Outcome, write_text};
use crate::load::Prepared;
use crate::runner::run_seeds;

/// One swept parameter and its values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Axis {
    pub name: String,
    pub values: Vec<i64>,
}

/// The axes of a grid sweep, in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grid(pub Vec<Axis>);

/// Parses `name=a..=b,name=a..b,name=v`: inclusive, exclusive, single.
pub fn parse_grid(text: &str) -> Result<Grid, String> {
    let mut axes = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, range) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}` is not name=a..=b"))?;
        let number = |s: &str| {
            s.trim()
                .parse::<i64>()
                .map_err(|_| format!("`{s}` in `{part}` is not an integer"))
        };
        let values: Vec<i64> = if let Some((a, b)) = range.split_once("..=") {
            (number(a)?..=number(b)?).collect()
        } else if let Some((a, b)) = range.split_once("..") {
            (number(a)?..number(b)?).collect()
        } else {
            vec![number(range)?]
        };
        if values.is_empty() || values.len() > 64 {
            return Err(format!(
                "`{part}` gives {} values; a grid axis takes 1 to 64",
                values.len()
            ));
        }
        axes.push(Axis {
            name: name.trim().to_owned(),
            values,
        });
    }
    if axes.is_empty() {
        return Err("an empty grid: give name=a..=b,...".to_owned());
    }
    Ok(Grid(axes))
}

/// Runs every cell. Bad parameter names are bad input (exit 2).
pub fn grid_sweep(
    prepared: &Prepared,
    axes: &[Axis],
    seeds: Range<u64>,
    jobs: usize,
    report_dir: Option<&Path>,
    out: &mut dyn Write,
) -> Outcome {
    let seeds: Vec<u64> = seeds.collect();
    let headline = prepared.design.headline_metrics();
    let mut cells = Vec::new();
    for params in combinations(axes) {
        let label: Vec<String> = params.iter().map(|(n, v)| format!("{n}={v}")).collect();
        let label = label.join(",");
        let mut model = prepared.scenario.model.clone();
        for (name, value) in &params {
            model
                .set_param(name, *value)
                .map_err(|message| Failure::input(format!("--grid: {message}")))?;
        }
        let cell = match prepared.with_model(model) {
            Ok(cell) => cell,
            Err(e) => {
                writeln!(out, "  {label:<40} skipped: {e}")?;
                continue;
            }
        };
        let name = format!("{}[{label}]", prepared.scenario.name);
        let lines: Vec<SeedLine> = run_seeds(&cell, &seeds, jobs)
            .iter()
            .map(|r| SeedLine::new(&name, r))
            .collect();
        let failing = lines.iter().filter(|l| l.verdict != "pass").count();
        writeln!(
            out,
            "  {label:<40} {:>6.1}% of {} seeds fail{}",
            100.0 * failing as f64 / lines.len() as f64,
            lines.len(),
            medians(&lines, &headline)
        )?;
        cells.push(GridCell { params, lines });
    }
    if let Some(dir) = report_dir {
        let axes: Vec<(String, Vec<i64>)> = axes
            .iter()
            .map(|a| (a.name.clone(), a.values.clone()))
            .collect();
        let html = reports::grid_report(&GridReportInput {
            scenario_name: &prepared.scenario.name,
            scenario_path: &prepared.path,
            axes: &axes,
            cells: &cells,
            headline: &headline,
        });
        let path = dir.join(format!("{}-grid.html", slug(&prepared.scenario.name)));
        write_text(&path, &html)?;
        writeln!(out, "report    {}", path.display())?;
    }
    Ok(Exit::Expected)
}

/// Every combination of the axes' values, first axis slowest.
fn combinations(axes: &[Axis]) -> Vec<Vec<(String, i64)>> {
    let mut all: Vec<Vec<(String, i64)>> = vec![Vec::new()];
    for axis in axes {
        all = all
            .into_iter()
            .flat_map(|prefix| {
                axis.values.iter().map(move |v| {
                    let mut p = prefix.clone();
                    p.push((axis.name.clone(), *v));
                    p
                })
            })
            .collect();
    }
    all
}

/// `; metric median ...` for the design's headline metrics.
fn medians(lines: &[SeedLine], headline: &[String]) -> String {
    let mut text = String::new();
    for metric in headline {
        let mut values: Vec<f64> = lines
            .iter()
            .filter_map(|l| l.metrics.get(metric).copied())
            .collect();
        values.sort_by(f64::total_cmp);
        if let Some(median) = nearest_rank(&values, 500) {
            text.push_str(&format!("; {metric} {median:.3}"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_syntax() {
        let Grid(axes) = parse_grid("replicas=3..=5, read_quorum=1..3,write_quorum=2").unwrap();
        assert_eq!(axes[0].values, vec![3, 4, 5]);
        assert_eq!(axes[1].values, vec![1, 2]);
        assert_eq!(axes[2].values, vec![2]);
        assert_eq!(combinations(&axes).len(), 6);
        assert!(parse_grid("replicas").is_err());
        assert!(parse_grid("replicas=5..3").is_err());
        assert!(parse_grid("replicas=x..=3").is_err());
        assert!(parse_grid("").is_err());
    }
}
