//! `dsim sweep FILE --grid name=a..=b,...`: a design-space sweep. Every
//! combination of the named parameters runs the seed range; the summary
//! and the report show each metric per cell. A name is a model parameter
//! (for dedup: replicas, read_quorum, write_quorum, which is how the
//! R + W > N boundary appears) or a nemesis field, `nemesis.<field>` (for
//! KGS: `nemesis.interval_ms`, the gap between faults, against bulk_size,
//! which draws the bulk-size trade-off). Combinations the scenario's rules
//! reject (R > N) are listed and skipped.

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
use crate::schema::Scenario;

/// One swept parameter and its values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Axis {
    pub name: String,
    pub values: Vec<i64>,
}

/// The axes of a grid sweep, in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grid(pub Vec<Axis>);

/// Parses `name=a..=b,name=a..b,name=v,name=a|b|c`: an inclusive range,
/// an exclusive one, one value, a list.
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
        } else if range.contains('|') {
            range.split('|').map(number).collect::<Result<_, _>>()?
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
        let mut scenario = prepared.scenario.clone();
        for (name, value) in &params {
            set_param(&mut scenario, name, *value)
                .map_err(|message| Failure::input(format!("--grid: {message}")))?;
        }
        let cell = match prepared.with_scenario(scenario) {
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

/// The nemesis fields a grid may sweep, after `nemesis.`.
const NEMESIS_FIELDS: &str = "interval_ms (both bounds), interval_ms_min, interval_ms_max, \
     duration_ms (both bounds), duration_ms_min, duration_ms_max, max_down, \
     weights.<partition|crash|pause|clock_step|link|shutdown|conn_reset|conn_stall>";

/// Sets one grid parameter: `nemesis.<field>` on the scenario's nemesis,
/// anything else on the model. The error names what exists.
fn set_param(scenario: &mut Scenario, name: &str, value: i64) -> Result<(), String> {
    let Some(field) = name.strip_prefix("nemesis.") else {
        return scenario.model.set_param(name, value);
    };
    let nemesis = scenario
        .nemesis
        .as_mut()
        .ok_or_else(|| format!("`{name}`: the scenario has no nemesis section to vary"))?;
    let count = u64::try_from(value).map_err(|_| format!("{name} = {value}: not a count"))?;
    let small = || u32::try_from(count).map_err(|_| format!("{name} = {value}: too large"));
    let weights = &mut nemesis.weights;
    match field {
        "interval_ms" => (nemesis.interval_ms_min, nemesis.interval_ms_max) = (count, count),
        "interval_ms_min" => nemesis.interval_ms_min = count,
        "interval_ms_max" => nemesis.interval_ms_max = count,
        "duration_ms" => (nemesis.duration_ms_min, nemesis.duration_ms_max) = (count, count),
        "duration_ms_min" => nemesis.duration_ms_min = count,
        "duration_ms_max" => nemesis.duration_ms_max = count,
        "max_down" => nemesis.max_down = small()?,
        "weights.partition" => weights.partition = small()?,
        "weights.crash" => weights.crash = small()?,
        "weights.pause" => weights.pause = small()?,
        "weights.clock_step" => weights.clock_step = small()?,
        "weights.link" => weights.link = small()?,
        "weights.shutdown" => weights.shutdown = small()?,
        "weights.conn_reset" => weights.conn_reset = small()?,
        "weights.conn_stall" => weights.conn_stall = small()?,
        _ => {
            return Err(format!(
                "the nemesis has no field `{field}` to vary; it has {NEMESIS_FIELDS}"
            ));
        }
    }
    Ok(())
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
        let Grid(axes) = parse_grid("bulk_size=100|1000|10000").unwrap();
        assert_eq!(axes[0].values, vec![100, 1000, 10000]);
        assert!(parse_grid("bulk_size=100|x").is_err());
    }

    #[test]
    fn nemesis_fields_are_grid_parameters() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/kgs/correct.ron"))
            .unwrap();
        let mut scenario = crate::load::parse("correct.ron", &text).unwrap();
        set_param(&mut scenario, "nemesis.interval_ms", 700).unwrap();
        set_param(&mut scenario, "nemesis.weights.crash", 5).unwrap();
        set_param(&mut scenario, "bulk_size", 50).unwrap();
        let nemesis = scenario.nemesis.as_ref().unwrap();
        assert_eq!(
            (nemesis.interval_ms_min, nemesis.interval_ms_max),
            (700, 700)
        );
        assert_eq!(nemesis.weights.crash, 5);
        let unknown = set_param(&mut scenario, "nemesis.interval", 1).unwrap_err();
        assert!(unknown.contains("interval_ms_min"), "{unknown}");
        assert!(set_param(&mut scenario, "nemesis.max_down", -1).is_err());
        assert!(set_param(&mut scenario, "no_such_field", 1).is_err());
    }
}
