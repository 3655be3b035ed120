//! `dsim record FILE --seed N [--out F]`: one seed's random faults written
//! down. The scenario comes back with the nemesis switched off and every
//! strike it made that seed as an explicit, timed fault, for a person to
//! read, edit and commit as a regression test. The written file is run at
//! once and must reproduce the seed: the same verdict, and a violation at
//! the same engine event and time. (Its digest differs by construction:
//! the original's trace begins with the fault mix the nemesis drew.)

use std::io::Write;
use std::path::PathBuf;

use sim_core::record::RunRecord;
use sim_core::{NodeId, TimedFault, Verdict};

use crate::Exit;
use crate::commands::{Failure, Outcome, load_scenario, write_text};
use crate::load::{Prepared, prepare};
use crate::runner::run_seed;
use crate::schema::{Expect, Scenario, SeedRange};

/// Write one seed's random faults as an explicit fault plan (the nemesis off) that reproduces the run.
#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// The scenario file.
    pub file: PathBuf,
    #[arg(long)]
    pub seed: u64,
    /// Record the seed as `dsim hunt` ran it (the nemesis draws its own fault mix).
    #[arg(long)]
    pub swarm: bool,
    /// Write the scenario here (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// One seed's run, and the scenario that replays it with its nemesis's
/// strikes as an explicit fault plan (`dsim record`; `dsim shrink` starts
/// from it).
#[derive(Debug)]
pub struct Recorded {
    /// The seed's run, as the file runs it.
    pub original: RunRecord,
    /// The scenario with the nemesis off, its strikes timed faults, its
    /// seeds this one seed, and its expectation the seed's verdict.
    pub scenario: Scenario,
    /// How many faults the nemesis struck.
    pub strikes: usize,
}

/// Runs `seed` of `prepared` and writes its nemesis's strikes down.
pub fn recorded(prepared: &Prepared, seed: u64) -> Recorded {
    let original = run_seed(prepared, seed, false, false);
    let names = prepared.design.node_names();
    let name_of = |id: &NodeId| names.get(id.index()).cloned().ok_or(());
    let plan: Vec<TimedFault<String>> = original
        .nemesis_plan
        .iter()
        .filter_map(|f| {
            let fault = f.fault.resolve(&mut |id: &NodeId| name_of(id)).ok()?;
            Some(TimedFault {
                at_ms: f.at_ms,
                fault,
                duration_ms: f.duration_ms,
            })
        })
        .collect();
    let strikes = plan.len();
    let mut scenario = prepared.scenario.clone();
    scenario.nemesis = None;
    // The file's own faults first at any one time, as they ran.
    scenario.faults.extend(plan);
    scenario.faults.sort_by_key(|f| f.at_ms);
    scenario.seeds = SeedRange {
        start: seed,
        count: 1,
    };
    scenario.expect = match &original.verdict {
        Verdict::Pass => Expect::Pass,
        Verdict::Violated(v) => Expect::Violation(v.invariant.clone()),
        Verdict::NotLive(_) => Expect::NotLive,
        _ => scenario.expect,
    };
    // One seed need not reach what a whole range must.
    scenario.reach.clear();
    Recorded {
        original,
        scenario,
        strikes,
    }
}

pub fn record(args: &RecordArgs, out: &mut dyn Write) -> Outcome {
    let mut prepared = load_scenario(&args.file)?;
    if args.swarm {
        prepared = prepared.swarmed();
    }
    let Recorded {
        original,
        mut scenario,
        strikes,
    } = recorded(&prepared, args.seed);
    let source = prepared.path.clone();
    scenario.name = format!("{}-seed-{}", scenario.name, args.seed);
    scenario.description = format!(
        "Seed {} of {source}, recorded: the nemesis's {strikes} faults as a plan, the nemesis off.",
        args.seed
    );
    let body = ron::ser::to_string_pretty(&scenario, ron::ser::PrettyConfig::default())
        .map_err(|e| Failure::input(format!("cannot write the scenario as RON: {e}")))?;
    let verdict = original.verdict.sentence();
    let text = format!(
        "// Recorded by `dsim record {source} --seed {}`{}: the {strikes} faults the\n\
         // nemesis struck that seed, each at its time and for its duration, with\n\
         // the nemesis off. Edit it freely; `dsim run` on it gives the seed's run.\n\
         // The original verdict: {verdict}\n{body}\n",
        args.seed,
        if args.swarm { " --swarm" } else { "" },
    );
    // The written file must reproduce the seed.
    let shown = args
        .out
        .as_ref()
        .map_or_else(|| "recorded.ron".to_owned(), |p| p.display().to_string());
    let recorded = prepare(&shown, &text).map_err(Failure::Scenario)?;
    let again = run_seed(&recorded, args.seed, false, false);
    let same = same_run(
        &original.verdict,
        &again.verdict,
        original.stats.events,
        again.stats.events,
    );
    match &args.out {
        Some(path) => write_text(path, &text)?,
        None => write!(out, "{text}")?,
    }
    let mut report = |line: String| -> std::io::Result<()> {
        if args.out.is_some() {
            writeln!(out, "{line}")
        } else {
            eprintln!("{line}");
            Ok(())
        }
    };
    report(format!(
        "recorded   {source} seed {}: {strikes} nemesis faults as a plan → {shown}",
        args.seed
    ))?;
    if same {
        let digests = if original.digest == again.digest {
            "the same digest".to_owned()
        } else {
            "the digest differs only by construction (the original traced the nemesis's fault mix)"
                .to_owned()
        };
        report(format!(
            "reproduced the same verdict at the same event ({} events): {digests}",
            again.stats.events
        ))?;
        Ok(Exit::Expected)
    } else {
        report(format!(
            "NOT reproduced: the original {}; the recorded plan {}",
            original.verdict.sentence(),
            again.verdict.sentence()
        ))?;
        Ok(Exit::Unexpected)
    }
}

/// The same outcome: a violation of the same check at the same event and
/// time, or the same verdict over the same number of events.
pub fn same_run(a: &Verdict, b: &Verdict, events_a: u64, events_b: u64) -> bool {
    match (a, b) {
        (Verdict::Violated(x), Verdict::Violated(y)) => {
            x.invariant == y.invariant && x.event == y.event && x.time == y.time
        }
        _ => a.label() == b.label() && events_a == events_b,
    }
}
