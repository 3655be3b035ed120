//! The design's checks, named as scenario files expect them:
//!
//! - `at_most_one_false`: at most one `Ok(false)` per X, ever. Checked
//!   after every event, incrementally, so a violation stops the run at the
//!   step that caused it.
//! - `linearizable`: the finished history is a linearizable set (sim-core's
//!   generic checker with its set specification). It also catches what the
//!   first check cannot: `true` for an X never asked before (a Bloom
//!   filter's false positive), and `false` after a `true` was answered.
//!
//! Both are needed: a Bloom filter breaks only the second, and the first
//! names the classic quorum failure directly, at the step it happens.

use std::collections::BTreeMap;

use sim_core::history::{CompletionFeed, Operation};
use sim_core::lincheck::{self, Budget, Limit, SetSpec, Spec};
use sim_core::{Breach, History, HistoryCheck, HistoryVerdict, Invariant, NodeId, OpId, Step, World};

use super::Seen;
use super::node::DedupNode;

/// The name of the "at most one false per X" invariant.
pub const AT_MOST_ONE_FALSE: &str = "at_most_one_false";
/// The name of the linearizability check.
pub const LINEARIZABLE: &str = "linearizable";

/// At most one `Ok(false)` per X, ever.
#[derive(Debug, Default)]
pub struct AtMostOneFalse {
    feed: CompletionFeed<Seen, bool>,
    answers: FalseAnswers,
}

impl Invariant<DedupNode> for AtMostOneFalse {
    fn name(&self) -> &str {
        AT_MOST_ONE_FALSE
    }

    fn reads_only_history(&self) -> bool {
        true
    }

    fn check(&mut self, world: &World<'_, DedupNode>, _step: &Step<'_>) -> Result<(), Breach> {
        let history = world.history();
        let answers = &mut self.answers;
        self.feed
            .for_each_completed(history, |op| answers.observe(op))
    }
}

/// The judgement itself, fed one completed operation at a time; usable on
/// a finished history too (`FalseAnswers::check_history`).
#[derive(Debug, Default)]
pub struct FalseAnswers {
    /// The operation that answered `false` for each X.
    first_false: BTreeMap<u64, OpId>,
}

impl FalseAnswers {
    /// Takes one completed operation; a breach if it is a second `false`.
    pub fn observe(&mut self, op: &Operation<Seen, bool>) -> Result<(), Breach> {
        if op.ok_value() != Some(&false) {
            return Ok(());
        }
        let x = op.op.0;
        match self.first_false.get(&x) {
            None => {
                self.first_false.insert(x, op.id);
                Ok(())
            }
            Some(&first) => Err(Breach::new(format!(
                "X = {x} was answered `false` twice (operations {} and {}): two requests both \
                 believe they were the first to see it",
                first.0, op.id.0
            ))
            .with_ops([first, op.id])),
        }
    }

    /// Runs the judgement over a whole history, in completion order.
    pub fn check_history(history: &History<Seen, bool>) -> Result<(), Breach> {
        let mut answers = FalseAnswers::default();
        CompletionFeed::default().for_each_completed(history, |op| answers.observe(op))
    }
}

/// Search steps the linearizability check may spend per X. A key's history
/// is short (a handful of requests per generation), so a correct run needs
/// a tiny fraction of this; running out is reported as `Unknown`.
pub const LINEARIZABILITY_STEPS_PER_KEY: u64 = 1_000_000;

/// Memory the linearizability check may hold, by its count, over the X
/// being searched at once. A correct run holds kilobytes; the limit keeps
/// one pathological history from taking the machine, and a sweep runs one
/// check per thread, so it needs this much per core at worst.
pub const LINEARIZABILITY_MEMORY_BYTES: u64 = 256 << 20;

/// The finished history is a linearizable add-if-absent set.
#[derive(Debug)]
pub struct Linearizable {
    steps_per_key: u64,
    memory_bytes: u64,
    /// Node names, for the explanation.
    names: Vec<String>,
}

impl Default for Linearizable {
    fn default() -> Self {
        Linearizable {
            steps_per_key: LINEARIZABILITY_STEPS_PER_KEY,
            memory_bytes: LINEARIZABILITY_MEMORY_BYTES,
            names: Vec::new(),
        }
    }
}

impl Linearizable {
    /// Explanations name nodes by these names.
    pub fn with_names(self, names: Vec<String>) -> Linearizable {
        Linearizable { names, ..self }
    }
}

/// The add-if-absent set in the design's words: X = 74, a check of it,
/// "seen before" or "first", the client's name.
struct SeenSet<'a> {
    set: SetSpec<Seen>,
    names: &'a [String],
}

impl Spec for SeenSet<'_> {
    type Op = Seen;
    type Ret = bool;
    type Key = Seen;
    type State = bool;

    fn key(&self, op: &Seen) -> Seen {
        self.set.key(op)
    }
    fn init(&self, key: &Seen) -> bool {
        self.set.init(key)
    }
    fn step(&self, present: &bool, op: &Seen, seen_before: Option<&bool>) -> Option<bool> {
        self.set.step(present, op, seen_before)
    }
    fn describe_key(&self, key: &Seen) -> String {
        format!("X = {}", key.0)
    }
    fn describe_op(&self, op: &Seen) -> String {
        format!("a check of X = {}", op.0)
    }
    fn describe_ret(&self, seen_before: &bool) -> String {
        if *seen_before { "true: seen before" } else { "false: the first to see it" }.to_owned()
    }
    fn describe_state(&self, present: &bool) -> String {
        if *present { "X present" } else { "X absent" }.to_owned()
    }
    fn describe_node(&self, node: NodeId) -> String {
        self.names.get(node.index()).cloned().unwrap_or_else(|| node.to_string())
    }
}

impl HistoryCheck<DedupNode> for Linearizable {
    fn name(&self) -> &str {
        LINEARIZABLE
    }

    fn check(&mut self, history: &History<Seen, bool>) -> HistoryVerdict {
        let mut budget = Budget::steps(self.steps_per_key).with_memory_limit(self.memory_bytes);
        let spec = SeenSet {
            set: SetSpec::new(),
            names: &self.names,
        };
        match lincheck::check(&spec, history, &mut budget) {
            lincheck::Verdict::Linearizable => HistoryVerdict::Pass,
            lincheck::Verdict::NotLinearizable(counterexample) => HistoryVerdict::Violated(
                Breach::new(counterexample.explanation.clone()).with_ops(counterexample.involved()),
            ),
            lincheck::Verdict::Unknown {
                undecided_keys,
                limit,
            } => {
                let limit = match limit {
                    Limit::Steps => format!("its limit of {} steps per X", self.steps_per_key),
                    Limit::Memory => format!("its memory limit of {} MiB", self.memory_bytes >> 20),
                    Limit::Stop => "a stop request".to_owned(),
                };
                HistoryVerdict::Unknown(format!(
                    "the search reached {limit} with X = {:?} undecided",
                    undecided_keys.iter().map(|seen| seen.0).collect::<Vec<_>>()
                ))
            }
        }
    }
}
