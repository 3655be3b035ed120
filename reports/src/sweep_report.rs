//! The sweep report: many seeds of one scenario. The pass rate and each
//! verdict's count and first appearance (how many seeds it takes to find
//! it), a strip of every seed's verdict, the failing seeds grouped by
//! verdict with their replay commands, and each metric's distribution.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sim_core::record::{SeedLine, accepts, replay_command};

use crate::SweepReportInput;
use crate::distribution::{distribution, metric_names};
use crate::histogram::{Sample, metric_histogram};
use crate::html::{Cell, Ids, Page, code, escape, facts, figure, paragraph, table};
use crate::numbers;
use crate::seed_strip::{self, label_colours, seed_strip};
use crate::verdict::{describe_expected, expectation};

/// Failing seeds listed in full per verdict; the rest only by number.
const MAX_LISTED_SEEDS: usize = 10;
/// Seed numbers listed after the full rows, per verdict.
const MAX_MORE_SEEDS: usize = 300;

/// The ids the page itself uses: its sections and the seed strip.
const PAGE_IDS: [&str; 5] = ["summary", "seeds", "failures", "metrics", "seed-strip"];

/// Reads one of a run's counts as a number.
type RunCount = fn(&SeedLine) -> f64;

/// Seeds of one verdict, in seed order, with the index of the first one.
struct Group<'a> {
    label: &'a str,
    lines: Vec<(usize, &'a SeedLine)>,
}

pub fn render(input: &SweepReportInput<'_>) -> String {
    let groups = group_by_verdict(input.lines);
    let failures: Vec<&Group<'_>> = groups.iter().filter(|g| g.label != "pass").collect();
    let failure_labels: Vec<&str> = failures.iter().map(|g| g.label).collect();
    let colours = label_colours(&failure_labels);
    let title = format!(
        "dsim sweep: {} ({} seeds)",
        input.scenario_name,
        input.lines.len()
    );
    let mut page = Page::new(&title, input.scenario_path);
    page.section("summary", "Summary", summary_section(input, &groups));
    let strip_caption = if input.lines.len() > seed_strip::MAX_SEEDS {
        format!(
            "The first {} seeds; hover a square for its verdict.",
            seed_strip::MAX_SEEDS
        )
    } else {
        "Hover a square for its seed and verdict.".to_owned()
    };
    page.section(
        "seeds",
        "Verdict by seed",
        figure(&seed_strip(input.lines, &colours), &strip_caption),
    );
    let mut ids = Ids::new(&PAGE_IDS);
    page.section(
        "failures",
        "Failing seeds",
        failures_section(input, &failures, &mut ids),
    );
    page.section(
        "metrics",
        "Metric distributions",
        metrics_section(input.lines, &mut ids),
    );
    page.finish()
}

/// Groups in order: most seeds first, ties by first appearance.
fn group_by_verdict(lines: &[SeedLine]) -> Vec<Group<'_>> {
    let mut by_label: BTreeMap<&str, Vec<(usize, &SeedLine)>> = BTreeMap::new();
    for (index, line) in lines.iter().enumerate() {
        by_label
            .entry(&line.verdict)
            .or_default()
            .push((index, line));
    }
    let mut groups: Vec<Group<'_>> = by_label
        .into_iter()
        .map(|(label, lines)| Group { label, lines })
        .collect();
    groups.sort_by_key(|g| (std::cmp::Reverse(g.lines.len()), g.lines[0].0));
    groups
}

fn summary_section(input: &SweepReportInput<'_>, groups: &[Group<'_>]) -> String {
    let total = input.lines.len() as u64;
    let passed = groups
        .iter()
        .find(|g| g.label == "pass")
        .map_or(0, |g| g.lines.len() as u64);
    // Green when the sweep found what the scenario expects: every seed
    // passing, or failures all of the expected kind.
    let failures_as_expected = groups
        .iter()
        .all(|g| g.label == "pass" || accepts(input.expected, g.label));
    let class = match (passed == total, input.expected == "pass") {
        (true, true) => "pass",
        (true, false) => "warn",
        (false, _) if failures_as_expected && input.expected != "pass" => "pass",
        (false, _) => "fail",
    };
    let mut out = format!(
        "<p class=\"verdict {class}\">{} of {total} seeds passed ({}); {} failed</p>\n",
        passed,
        numbers::percent(passed, total),
        total - passed
    );
    let seeds = match (input.lines.first(), input.lines.last()) {
        (Some(first), Some(last)) => format!("{} to {}", first.seed, last.seed),
        _ => "none".to_owned(),
    };
    out.push_str(&facts(&[
        (
            "scenario",
            format!(
                "{} ({})",
                escape(input.scenario_name),
                code(input.scenario_path)
            ),
        ),
        ("expected", escape(&describe_expected(input.expected))),
        ("seeds", escape(&seeds)),
    ]));
    out.push_str(&verdict_table(input, groups));
    out
}

/// One row per verdict: how many seeds, and the first seed that showed it.
fn verdict_table(input: &SweepReportInput<'_>, groups: &[Group<'_>]) -> String {
    let total = input.lines.len() as u64;
    let rows: Vec<Vec<Cell>> = groups
        .iter()
        .map(|group| {
            let (first_index, first) = group.lines[0];
            let verdict = expectation(group.label, input.expected);
            vec![
                Cell::Code(group.label.to_owned()),
                Cell::Number(group.lines.len().to_string()),
                Cell::Number(numbers::percent(group.lines.len() as u64, total)),
                // How many seeds it took to find a failure: the sweep's
                // cost to catch it, and a guide to how many seeds CI needs.
                Cell::Number(if group.label == "pass" {
                    "–".to_owned()
                } else {
                    format!("seed {} (run {} of {total})", first.seed, first_index + 1)
                }),
                // Passing seeds in a sweep hunting for a failure are not a
                // warning: the sweep runs until it finds one.
                Cell::Status(
                    verdict.text,
                    if group.label == "pass" {
                        "muted"
                    } else {
                        verdict.class
                    },
                ),
            ]
        })
        .collect();
    let headers = [
        "verdict",
        "seeds",
        "share",
        "first seen (seeds to find it)",
        "against the expectation",
    ];
    table(&headers, &rows)
}

fn failures_section(
    input: &SweepReportInput<'_>,
    failures: &[&Group<'_>],
    ids: &mut Ids,
) -> String {
    if failures.is_empty() {
        return paragraph("Every seed passed.");
    }
    let mut out = String::new();
    for group in failures {
        let _ = writeln!(
            out,
            "<h3 id=\"{}\"><code>{}</code>: {} seeds</h3>",
            ids.claim(&format!("failures-{}", group.label)),
            escape(group.label),
            group.lines.len()
        );
        let rows: Vec<Vec<Cell>> = group
            .lines
            .iter()
            .take(MAX_LISTED_SEEDS)
            .map(|(_, line)| {
                vec![
                    Cell::Number(line.seed.to_string()),
                    Cell::Text(line.message.clone().unwrap_or_default()),
                    Cell::Number(line.event.map(|e| e.to_string()).unwrap_or_default()),
                    Cell::Number(line.time_ns.map(numbers::time).unwrap_or_default()),
                    Cell::Code(replay_command(input.scenario_path, line.seed)),
                ]
            })
            .collect();
        out.push_str(&table(
            &["seed", "message", "event", "time", "replay"],
            &rows,
        ));
        let rest: Vec<String> = group
            .lines
            .iter()
            .skip(MAX_LISTED_SEEDS)
            .map(|(_, line)| line.seed.to_string())
            .collect();
        if !rest.is_empty() {
            let shown = rest.len().min(MAX_MORE_SEEDS);
            let mut text = format!("{} more seeds: {}", rest.len(), rest[..shown].join(", "));
            if rest.len() > shown {
                let _ = write!(text, ", … ({} not listed)", rest.len() - shown);
            }
            out.push_str(&paragraph(&text));
        }
    }
    out
}

fn metrics_section(lines: &[SeedLine], ids: &mut Ids) -> String {
    let names = metric_names(lines);
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    let mut charts = String::new();
    let counts: [(&str, RunCount); 4] = [
        ("engine events", |l| l.events as f64),
        ("messages delivered", |l| l.messages_delivered as f64),
        ("faults", |l| l.faults as f64),
        ("simulated seconds", |l| l.end_time_ns as f64 / 1e9),
    ];
    for name in &names {
        let samples: Vec<Sample> = lines
            .iter()
            .filter_map(|l| {
                let value = *l.metrics.get(name)?;
                Some(Sample {
                    value,
                    passed: l.verdict == "pass",
                })
            })
            .collect();
        rows.push(distribution_row(
            name,
            samples.iter().map(|s| s.value),
            true,
        ));
        let id = ids.claim(&format!("histogram-{name}"));
        charts.push_str(&figure(&metric_histogram(&id, name, &samples), ""));
    }
    for (name, value) in counts {
        rows.push(distribution_row(name, lines.iter().map(value), false));
    }
    let headers = [
        "metric",
        "seeds",
        "min",
        "median",
        "p90",
        "max",
        "mean",
        "not finite",
    ];
    let mut out = table(&headers, &rows);
    if names.is_empty() {
        out.push_str(&paragraph("The design reported no metrics."));
    } else {
        let _ = write!(out, "<div class=\"columns\">\n{charts}</div>\n");
    }
    out
}

fn distribution_row(
    name: &str,
    values: impl IntoIterator<Item = f64>,
    is_metric: bool,
) -> Vec<Cell> {
    let label = if is_metric {
        Cell::Code(name.to_owned())
    } else {
        Cell::Text(name.to_owned())
    };
    let Some(d) = distribution(values) else {
        return vec![label, Cell::Number("0".to_owned())];
    };
    let mut row = vec![label, Cell::Number(d.count.to_string())];
    for value in [d.min, d.median, d.p90, d.max, d.mean] {
        row.push(Cell::Number(numbers::number(value)));
    }
    row.push(Cell::Number(d.not_finite.to_string()));
    row
}
