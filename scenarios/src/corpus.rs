//! A hunt's corpus: the failing seeds `dsim hunt` kept, as JSON lines. The
//! first line says what was hunted (the scenario, its digest, the seeds,
//! how many failed per check); then one `SeedLine` per kept seed, grouped
//! by check and, within a check, the seed that fails soonest (fewest
//! engine events) first. `dsim check CORPUS.jsonl` replays it: every seed
//! twice, and each must fail as it did, with the same digest.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sim_core::record::SeedLine;

use crate::Exit;
use crate::commands::{Failure, Outcome, load_scenario, read_text, write_text};
use crate::load::Prepared;
use crate::runner::run_seed;
use crate::sweep::{DSIM_VERSION, scenario_digest};

/// The corpus's first line.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusHeader {
    pub dsim: String,
    pub scenario: String,
    /// The scenario file, as the hunt was given it.
    pub path: String,
    pub scenario_digest: String,
    /// The nemesis drew a fresh fault mix per seed (swarm testing).
    pub swarm: bool,
    /// The seeds hunted, `A..B`.
    pub seeds: String,
    /// Failing seeds per check, kept or not.
    pub failing: BTreeMap<String, u64>,
    /// Seeds kept per check, at most.
    pub keep: usize,
}

/// A corpus in memory.
#[derive(Clone, Debug)]
pub struct Corpus {
    pub header: CorpusHeader,
    pub lines: Vec<SeedLine>,
}

/// Soonest-failing first within a check; checks in name order.
pub fn corpus_order(a: &SeedLine, b: &SeedLine) -> std::cmp::Ordering {
    let soonest = |l: &SeedLine| l.event.unwrap_or(l.events);
    (&a.verdict, soonest(a), a.seed).cmp(&(&b.verdict, soonest(b), b.seed))
}

impl Corpus {
    pub fn header_for(prepared: &Prepared, swarm: bool, keep: usize) -> CorpusHeader {
        CorpusHeader {
            dsim: DSIM_VERSION.to_owned(),
            scenario: prepared.scenario.name.clone(),
            path: prepared.path.clone(),
            scenario_digest: scenario_digest(&prepared.source),
            swarm,
            seeds: String::new(),
            failing: BTreeMap::new(),
            keep,
        }
    }

    /// Writes the whole corpus (a hunt rewrites it after every batch, so
    /// a killed hunt leaves what it had found).
    pub fn write(&self, path: &Path) -> Result<(), Failure> {
        let mut text = serde_json::to_string(&self.header).expect("a header serializes");
        text.push('\n');
        for line in &self.lines {
            text.push_str(&serde_json::to_string(line).expect("a seed line serializes"));
            text.push('\n');
        }
        let partial = path.with_extension("jsonl.partial");
        write_text(&partial, &text)?;
        std::fs::rename(&partial, path).map_err(|source| Failure::File {
            doing: "write",
            path: path.to_owned(),
            source,
        })
    }

    /// Reads a corpus, naming the line of anything malformed.
    pub fn read(path: &Path) -> Result<Corpus, Failure> {
        let text = read_text(path)?;
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((_, first)) = lines.next() else {
            return Err(Failure::input(format!(
                "{}: empty: not a hunt corpus",
                path.display()
            )));
        };
        let header: CorpusHeader = serde_json::from_str(first).map_err(|e| {
            Failure::input(format!(
                "{}:1: not a hunt corpus header ({e}); `dsim hunt --corpus` writes one",
                path.display()
            ))
        })?;
        let lines = lines
            .map(|(i, line)| {
                serde_json::from_str::<SeedLine>(line).map_err(|e| {
                    Failure::input(format!(
                        "{}:{}: not a corpus seed line ({e}); a truncated file?",
                        path.display(),
                        i + 1
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Corpus { header, lines })
    }
}

/// `dsim check CORPUS.jsonl`: each kept seed, run twice, must fail as the
/// corpus says, with the same digest both times and as recorded.
pub fn replay_corpus(path: &Path, out: &mut dyn Write) -> Outcome {
    let corpus = Corpus::read(path)?;
    let header = &corpus.header;
    let mut prepared = load_scenario(Path::new(&header.path))?;
    if header.swarm {
        prepared = prepared.swarmed();
    }
    let changed = scenario_digest(&prepared.source) != header.scenario_digest;
    if changed {
        writeln!(
            out,
            "note: {} changed since the hunt: its seeds may run differently now",
            header.path
        )?;
    }
    let mut exit = Exit::Expected;
    for line in &corpus.lines {
        let first = run_seed(&prepared, line.seed, false, false);
        let second = run_seed(&prepared, line.seed, false, false);
        let now = SeedLine::new(&header.scenario, &first);
        let problem = if first.digest != second.digest {
            Some(format!(
                "two runs differ ({} and {}): non-determinism",
                short(&first.digest),
                short(&second.digest)
            ))
        } else if now.verdict != line.verdict {
            Some(format!("now `{}`, was `{}`", now.verdict, line.verdict))
        } else if now.digest != line.digest {
            Some(format!(
                "still `{}`, but the run changed (digest {} was {})",
                now.verdict,
                short(&now.digest),
                short(&line.digest)
            ))
        } else {
            None
        };
        match problem {
            None => writeln!(
                out,
                "ok   seed {:<10} `{}` at event {}",
                line.seed,
                line.verdict,
                now.event.unwrap_or(now.events)
            )?,
            Some(problem) => {
                exit = Exit::Unexpected;
                writeln!(out, "FAIL seed {:<10} {problem}", line.seed)?;
                writeln!(out, "     {}", prepared.replay_command(line.seed))?;
            }
        }
    }
    let verdict = if exit == Exit::Expected {
        "as recorded"
    } else {
        "NOT as recorded"
    };
    writeln!(
        out,
        "{}: {} seeds {verdict}",
        path.display(),
        corpus.lines.len()
    )?;
    Ok(exit)
}

fn short(digest: &str) -> &str {
    &digest[..digest.len().min(16)]
}
