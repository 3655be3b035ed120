//! Histories produced by a real sequential execution: each operation
//! takes effect at its own instant against a reference model, and its
//! client sees it over an interval around that instant. Such a history is
//! linearizable by construction, whatever the overlaps, timeouts and
//! failures. Plans come from proptest; loads (clients issuing operations
//! back to back) from a pinned generator.

use std::collections::BTreeMap;

use sim_core::history::{Completion, History, OpId, Operation, Outcome, Stamp};
use sim_core::lincheck::{KvCall, KvOp, KvSpec, RegisterCall, RegisterOp, RegisterSpec, Spec};
use sim_core::node::NodeId;
use sim_core::time::SimTime;

pub type SpecHistory<S> = History<<S as Spec>::Op, <S as Spec>::Ret>;
pub type SpecOperation<S> = Operation<<S as Spec>::Op, <S as Spec>::Ret>;

/// What became of a generated operation.
#[derive(Clone, Copy, Debug)]
pub enum Fate {
    Ok,
    /// Took effect, but the client timed out (`Info`).
    TimedOutApplied,
    /// Took effect, and the run ended before the client heard back.
    PendingApplied,
    /// Timed out and never took effect.
    TimedOutNotApplied,
    /// Rejected: never took effect, and the client knows it.
    Failed,
}

/// A generated operation, before it is placed in time.
#[derive(Clone, Debug)]
pub struct Planned<O> {
    pub op: O,
    pub fate: Fate,
    /// How long before its effect the client invoked it.
    pub lead_ns: u64,
    /// How long after its effect the client heard back.
    pub lag_ns: u64,
}

/// An operation placed in time, with what its client saw.
#[derive(Clone, Debug)]
pub struct Timed<O, R> {
    pub op: O,
    pub client: u32,
    pub invoke_ns: u64,
    pub complete_ns: u64,
    /// `None` for an operation that never completed.
    pub outcome: Option<Outcome<R>>,
}

/// Numbers invocations and completions in time order. At equal times
/// invocations go first, which can only make operations overlap, so the
/// history stays linearizable. Ids follow invocation order.
pub fn assemble<O, R>(timed: Vec<Timed<O, R>>) -> History<O, R> {
    let mut events: Vec<(u64, bool, usize)> = Vec::new();
    for (index, operation) in timed.iter().enumerate() {
        events.push((operation.invoke_ns, false, index));
        if operation.outcome.is_some() {
            events.push((operation.complete_ns, true, index));
        }
    }
    events.sort_unstable();
    let mut stamps: Vec<(Option<Stamp>, Option<Stamp>)> =
        timed.iter().map(|_| (None, None)).collect();
    let mut invocation_order = Vec::new();
    for (position, &(time_ns, is_completion, index)) in (0..).zip(&events) {
        let stamp = Some(Stamp {
            position,
            time: SimTime::from_nanos(time_ns),
            event: position,
        });
        if is_completion {
            stamps[index].1 = stamp;
        } else {
            stamps[index].0 = stamp;
            invocation_order.push(index);
        }
    }
    let mut slots: Vec<Option<Timed<O, R>>> = timed.into_iter().map(Some).collect();
    (0..)
        .zip(invocation_order)
        .map(|(id, index)| {
            let operation = slots[index].take().expect("each operation is invoked once");
            let (invoke, completion) = stamps[index];
            Operation {
                id: OpId(id),
                node: NodeId(operation.client),
                op: operation.op,
                invoke: invoke.expect("every operation is invoked"),
                completion: operation.outcome.map(|outcome| Completion {
                    stamp: completion.expect("a completed operation has a completion"),
                    outcome,
                }),
            }
        })
        .collect()
}

/// Runs a plan: operation i takes effect at (i + 1) microseconds, applied
/// by `execute` unless its fate says it never took effect. `execute`
/// returns `None` for a request that changed nothing and was refused.
pub fn run_plan<O, R>(
    plan: Vec<Planned<O>>,
    mut execute: impl FnMut(&O) -> Option<R>,
) -> History<O, R> {
    let timed = (1..)
        .zip(plan)
        .map(|(number, planned): (u64, Planned<O>)| {
            let effect_ns = number * 1_000;
            let outcome = match planned.fate {
                Fate::Ok => Some(execute(&planned.op).map_or(Outcome::Fail, Outcome::Ok)),
                Fate::TimedOutApplied => {
                    execute(&planned.op);
                    Some(Outcome::Info)
                }
                Fate::PendingApplied => {
                    execute(&planned.op);
                    None
                }
                Fate::TimedOutNotApplied => Some(Outcome::Info),
                Fate::Failed => Some(Outcome::Fail),
            };
            Timed {
                op: planned.op,
                client: (number % 7) as u32,
                invoke_ns: effect_ns.saturating_sub(planned.lead_ns),
                complete_ns: effect_ns + planned.lag_ns,
                outcome,
            }
        })
        .collect();
    assemble(timed)
}

/// The reference register: a plain map. A mismatched compare is refused.
pub fn execute_register(values: &mut BTreeMap<u8, u32>, op: &RegisterOp<u8, u32>) -> Option<u32> {
    let value = values.entry(op.key).or_insert(0);
    match op.call {
        RegisterCall::Read => Some(*value),
        RegisterCall::Write(new_value) => {
            *value = new_value;
            Some(new_value)
        }
        RegisterCall::Cas { from, to } if from == *value => {
            *value = to;
            Some(to)
        }
        RegisterCall::Cas { .. } => None,
    }
}

/// The reference key-value store: a plain map of strings.
pub fn execute_kv(values: &mut BTreeMap<u8, String>, op: &KvOp<u8>) -> Option<String> {
    let value = values.entry(op.key).or_default();
    match &op.call {
        KvCall::Get => {}
        KvCall::Put(new_value) => value.clone_from(new_value),
        KvCall::Append(suffix) => value.push_str(suffix),
    }
    Some(value.clone())
}

/// Replaces the result of one read that completed `Ok` (a read being an
/// operation `is_read` accepts; `pick` chooses one, given how many there
/// are) with `impossible`. Returns the corrupted history and the read's
/// key, or `None` if there is no read.
pub fn corrupt_one_read<S: Spec>(
    spec: &S,
    history: &SpecHistory<S>,
    pick: impl FnOnce(usize) -> usize,
    is_read: impl Fn(&S::Op) -> bool,
    impossible: S::Ret,
) -> Option<(SpecHistory<S>, S::Key)>
where
    S::Op: Clone,
    S::Ret: Clone,
{
    let mut operations = history.operations().to_vec();
    let reads: Vec<usize> = (0..operations.len())
        .filter(|&index| is_read(&operations[index].op) && operations[index].ok_value().is_some())
        .collect();
    if reads.is_empty() {
        return None;
    }
    let read = &mut operations[reads[pick(reads.len())]];
    read.completion.as_mut()?.outcome = Outcome::Ok(impossible);
    let key = spec.key(&read.op);
    Some((operations.into_iter().collect(), key))
}

/// SplitMix64: a tiny pinned generator for the speed check's history.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

/// The shape of a speed-check history.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    pub keys: u64,
    pub clients: u32,
    pub operations: usize,
    /// Timeouts per hundred operations; half of them took effect.
    pub timeouts_per_hundred: u64,
}

/// A history like a simulation's: each client issues its operations back
/// to back, each taking effect at a random instant within its interval;
/// some time out, and one in a hundred is refused.
pub fn concurrent_history<O, R>(
    random: &mut SplitMix64,
    load: Load,
    mut make_op: impl FnMut(&mut SplitMix64) -> O,
    mut execute: impl FnMut(&O) -> Option<R>,
) -> History<O, R> {
    let mut clocks_ns = vec![0u64; load.clients as usize];
    let mut scheduled = Vec::with_capacity(load.operations);
    for number in 0..load.operations {
        let client = (number % load.clients as usize) as u32;
        let invoke_ns = clocks_ns[client as usize] + random.below(200);
        let duration_ns = 100 + random.below(2_000);
        let effect_ns = invoke_ns + random.below(duration_ns + 1);
        clocks_ns[client as usize] = invoke_ns + duration_ns;
        let timeouts = load.timeouts_per_hundred;
        let fate = match random.below(100) {
            draw if draw < timeouts / 2 => Fate::TimedOutApplied,
            draw if draw < timeouts => Fate::TimedOutNotApplied,
            draw if draw == timeouts => Fate::Failed,
            _ => Fate::Ok,
        };
        scheduled.push((
            effect_ns,
            client,
            invoke_ns,
            invoke_ns + duration_ns,
            fate,
            make_op(random),
        ));
    }
    scheduled.sort_by_key(|&(effect_ns, ..)| effect_ns);
    let timed = scheduled
        .into_iter()
        .map(|(_, client, invoke_ns, complete_ns, fate, op)| {
            let outcome = match fate {
                Fate::Ok => execute(&op).map_or(Outcome::Fail, Outcome::Ok),
                Fate::TimedOutApplied => {
                    execute(&op);
                    Outcome::Info
                }
                Fate::TimedOutNotApplied | Fate::PendingApplied => Outcome::Info,
                Fate::Failed => Outcome::Fail,
            };
            Timed {
                op,
                client,
                invoke_ns,
                complete_ns,
                outcome: Some(outcome),
            }
        })
        .collect();
    assemble(timed)
}

/// A register history of `load`, random register operations on random
/// keys, from the generator seeded with `seed`.
pub fn generated_register_history(load: Load, seed: u64) -> SpecHistory<RegisterSpec<u8, u32>> {
    let mut random = SplitMix64(seed);
    let mut values = BTreeMap::new();
    let register_op = |random: &mut SplitMix64| {
        let key = random.below(load.keys) as u8;
        let call = match random.below(5) {
            0 | 1 => RegisterCall::Read,
            2 | 3 => RegisterCall::Write(random.below(1_000) as u32),
            _ => RegisterCall::Cas {
                from: random.below(1_000) as u32,
                to: random.below(1_000) as u32,
            },
        };
        RegisterOp { key, call }
    };
    concurrent_history(&mut random, load, register_op, |op| {
        execute_register(&mut values, op)
    })
}

/// Like `generated_register_history`, for the key-value store.
pub fn generated_kv_history(load: Load, seed: u64) -> SpecHistory<KvSpec<u8>> {
    let mut random = SplitMix64(seed);
    let mut values = BTreeMap::new();
    let kv_op = |random: &mut SplitMix64| {
        let key = random.below(load.keys) as u8;
        let call = match random.below(5) {
            0 | 1 => KvCall::Get,
            2 => KvCall::Put(random.below(100).to_string()),
            _ => KvCall::Append(random.below(10).to_string()),
        };
        KvOp { key, call }
    };
    concurrent_history(&mut random, load, kv_op, |op| execute_kv(&mut values, op))
}

pub fn is_register_read(op: &RegisterOp<u8, u32>) -> bool {
    op.call == RegisterCall::Read
}

pub fn is_kv_get(op: &KvOp<u8>) -> bool {
    op.call == KvCall::Get
}
