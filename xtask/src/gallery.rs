//! `cargo xtask gallery`: the example reports in `reports/examples/`, made
//! from shipped library scenarios exactly as a user makes them, so every
//! picture is one a reader can reproduce with the command printed under
//! it. It builds `dsim` (release), writes a run report of a broken
//! variant's first catching seed, a sweep report and a grid report into
//! `target/gallery/`, and screenshots each with headless Chromium into
//! `reports/examples/*.png`.
//!
//! The HTML is a pure function of the scenarios and seeds, byte for byte;
//! the PNGs depend on Chromium's version and fonts, so they are not
//! compared, only replaced.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::command::{show, succeed, which};
use crate::workspace_root;

/// The run report: replicas that keep X only in memory, caught by
/// `at_most_one_false` at seed 0. Every part of the page has something to
/// say: crashes on the timeline, their shading over the latency plots, and
/// two `false` answers for one X, a crash apart, with the second one's
/// messages lit in the space-time diagram.
const RUN_SCENARIO: &str = "scenarios/dedup/memory-only.ron";
const RUN_SEED: &str = "0";
/// The sweep report: a sloppy quorum, caught by `at_most_one_false` on
/// most of these seeds, by `linearizable` on one, and passing on the rest,
/// so the report has every kind of row to show.
const SWEEP_SCENARIO: &str = "scenarios/dedup/sloppy-quorum.ron";
const SWEEP_SEEDS: &str = "0..300";
/// The grid report: the R + W > N boundary appears in the failure rate.
const GRID_SCENARIO: &str = "scenarios/dedup/small-quorums.ron";
const GRID_SEEDS: &str = "0..20";
const GRID_AXES: &str = "replicas=3..=5,read_quorum=1..=3,write_quorum=1..=3";

/// Chromium's window: as wide as a laptop screen, tall enough for a
/// report's first sections.
const WINDOW: &str = "--window-size=1280,2400";

pub fn run() -> Result<(), String> {
    let chromium = which("chromium").ok_or(
        "chromium not found; the screenshots need it: apt-get install -y --no-install-recommends chromium",
    )?;
    crate::build_dsim()?;
    let root = workspace_root();
    let out = root.join("target/gallery");
    // A fresh folder: the grid report is found by its extension.
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(out.join("grid"))
        .map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let run_report = out.join("run-report.html");
    dsim(&[
        "report",
        RUN_SCENARIO,
        "--seed",
        RUN_SEED,
        "--out",
        &text(&run_report),
    ])?;
    let results = out.join("sweep.jsonl");
    dsim(&[
        "sweep",
        SWEEP_SCENARIO,
        "--seeds",
        SWEEP_SEEDS,
        "--out",
        &text(&results),
    ])?;
    let sweep_report = out.join("sweep-report.html");
    dsim(&["report", &text(&results), "--out", &text(&sweep_report)])?;
    let grid_dir = out.join("grid");
    dsim(&[
        "sweep",
        GRID_SCENARIO,
        "--seeds",
        GRID_SEEDS,
        "--grid",
        GRID_AXES,
        "--report",
        &text(&grid_dir),
    ])?;
    let grid_report = only_html(&grid_dir)?;
    let examples = root.join("reports/examples");
    for (page, stem) in [
        (&run_report, "run-report"),
        (&sweep_report, "sweep-report"),
        (&grid_report, "grid-report"),
    ] {
        let png = examples.join(format!("{stem}.png"));
        screenshot(&chromium, page, &png, &out)?;
    }
    eprintln!("xtask gallery: reports in {}", out.display());
    eprintln!("  run    dsim report {RUN_SCENARIO} --seed {RUN_SEED}");
    eprintln!("  sweep  dsim sweep {SWEEP_SCENARIO} --seeds {SWEEP_SEEDS} --report DIR");
    eprintln!(
        "  grid   dsim sweep {GRID_SCENARIO} --seeds {GRID_SEEDS} --grid {GRID_AXES} --report DIR"
    );
    eprintln!("xtask gallery: screenshots in {}", examples.display());
    Ok(())
}

/// Runs the release `dsim` from the workspace root (scenario paths in the
/// reports then read as a user typed them); it must exit 0, i.e. the
/// scenario did what it expects.
fn dsim(args: &[&str]) -> Result<(), String> {
    let root = workspace_root();
    show(
        Command::new(root.join("target/release/dsim"))
            .args(args)
            .current_dir(&root),
    )
}

/// The one HTML file `dsim sweep --grid --report DIR` wrote.
fn only_html(dir: &Path) -> Result<PathBuf, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut pages: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "html"))
        .collect();
    match pages.len() {
        1 => Ok(pages.remove(0)),
        n => Err(format!(
            "expected one grid report in {}, found {n}",
            dir.display()
        )),
    }
}

/// A PNG of the page's top, from a headless Chromium with a profile of
/// its own under `scratch` (never the user's).
fn screenshot(chromium: &Path, page: &Path, png: &Path, scratch: &Path) -> Result<(), String> {
    let profile = scratch.join("chromium-profile");
    eprintln!("$ chromium --headless --screenshot={}", png.display());
    // Captured: Chromium is chatty on stderr (no D-Bus here); `succeed`
    // shows it only if the screenshot fails.
    succeed(
        Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                WINDOW,
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--screenshot={}", png.display()))
            .arg(format!("file://{}", page.display())),
    )?;
    if png.is_file() {
        Ok(())
    } else {
        Err(format!("chromium wrote no screenshot at {}", png.display()))
    }
}

fn text(path: &Path) -> String {
    path.display().to_string()
}
