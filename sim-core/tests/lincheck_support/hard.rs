//! The history of issue #8: 50 clients over 10 register keys, where key 0
//! takes a search that explodes and key 9 (last in key order) may hold a
//! read that is easy to refute. Checking keys one after another, the
//! checker never reached key 9 and grew the memo of key 0 until the
//! machine ran out of memory.
//!
//! Key 0 is linearizable by construction, yet hard: four in five
//! operations go to it, nine in ten of those are writes of fresh values,
//! and each lasts long enough to overlap those of about 40 other clients,
//! so the search meets some 2^40 subsets of writes that may have taken
//! effect. One in twenty has an unknown outcome (`info`).
//!
//! This file uses only sim-core's public API and no other module of the
//! test support: the CLI test and the benchmark in `scenarios` include it
//! by path, so that one generator makes the history everywhere.

use sim_core::history::{History, OpId, Outcome};
use sim_core::lincheck::{RegisterCall, RegisterOp};
use sim_core::{NodeId, SimRng, SimTime, Stream};

pub const CLIENTS: u32 = 50;
pub const KEYS: u8 = 10;
/// The key whose search explodes; first in key order.
pub const HARD_KEY: u8 = 0;
/// The key that may hold the refutable read; last in key order.
pub const EASY_KEY: u8 = KEYS - 1;
/// No operation writes it, so a read returning it cannot be linearized.
pub const NEVER_WRITTEN: u32 = u32::MAX;
/// Every register starts at 0 (`dsim lincheck --initial 0`).
pub const INITIAL: u32 = 0;

const OPERATIONS_PER_CLIENT: u32 = 20;
const HARD_KEY_PER_MILLION: u32 = 800_000;
const HARD_KEY_WRITES_PER_MILLION: u32 = 900_000;
const HARD_KEY_INFO_PER_MILLION: u32 = 50_000;
/// Most time a client waits between two operations, over 1 ns.
const GAP_NS_MAX: u64 = 200;
const DURATION_NS_MIN: u64 = 1_000;
const DURATION_NS_SPREAD: u64 = 2_000;

pub type HardOp = RegisterOp<u8, u32>;
pub type HardHistory = History<HardOp, u32>;

/// Whether the easy key holds its impossible read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EasyKey {
    /// Its first read returns `NEVER_WRITTEN`: the history is not
    /// linearizable, and only key 9 shows it.
    Refutable,
    /// Left as executed: the whole history is linearizable.
    Linearizable,
}

/// One generated operation, before it is placed in the history.
struct Planned {
    client: u32,
    invoke_ns: u64,
    effect_ns: u64,
    complete_ns: u64,
    op: HardOp,
    info: bool,
}

/// The issue's history, from the generator seeded with `seed`: each
/// client issues its operations back to back, each taking effect at a
/// random instant of its interval against a plain array of registers.
pub fn hard_key_history(seed: u64, easy_key: EasyKey) -> HardHistory {
    let mut rng = SimRng::new(seed, Stream::User(0));
    let mut planned = plan(&mut rng);
    planned.sort_by_key(|operation| (operation.effect_ns, operation.client));
    let mut values = [INITIAL; KEYS as usize];
    let mut results: Vec<u32> = planned
        .iter()
        .map(|operation| {
            let value = &mut values[usize::from(operation.op.key)];
            match operation.op.call {
                RegisterCall::Read => *value,
                RegisterCall::Write(written) => {
                    // Half the writes with an unknown outcome took effect.
                    if !operation.info || rng.chance(500_000) {
                        *value = written;
                    }
                    written
                }
                RegisterCall::Cas { .. } => unreachable!("the plan has no cas"),
            }
        })
        .collect();
    if easy_key == EasyKey::Refutable {
        let first_read = planned
            .iter()
            .position(|operation| {
                operation.op.key == EASY_KEY && operation.op.call == RegisterCall::Read
            })
            .expect("the easy key has reads");
        results[first_read] = NEVER_WRITTEN;
    }
    assemble(&planned, &results)
}

/// The history as `dsim lincheck --model register` reads it, keys named
/// `k0` to `k9`.
pub fn to_json_lines(history: &HardHistory) -> String {
    let mut lines: Vec<(u64, String)> = Vec::new();
    for operation in history.operations() {
        let (f, input) = match operation.op.call {
            RegisterCall::Read => ("read", "null".to_owned()),
            RegisterCall::Write(written) => ("write", written.to_string()),
            RegisterCall::Cas { .. } => unreachable!("the plan has no cas"),
        };
        let line = |kind: &str, value: &str| {
            format!(
                r#"{{"process":{},"type":"{kind}","f":"{f}","key":"k{}","value":{value}}}"#,
                operation.node.0, operation.op.key
            )
        };
        lines.push((operation.invoke.position, line("invoke", &input)));
        if let Some(completion) = &operation.completion {
            let line = match &completion.outcome {
                Outcome::Ok(result) => line("ok", &result.to_string()),
                Outcome::Info => line("info", &input),
                Outcome::Fail => line("fail", &input),
            };
            lines.push((completion.stamp.position, line));
        }
    }
    lines.sort_unstable();
    lines.into_iter().map(|(_, line)| line + "\n").collect()
}

/// Draws every client's operations, in rounds of one per client.
fn plan(rng: &mut SimRng) -> Vec<Planned> {
    let mut clocks_ns = [0u64; CLIENTS as usize];
    let mut next_value = INITIAL;
    let mut planned = Vec::new();
    for _ in 0..OPERATIONS_PER_CLIENT {
        for client in 0..CLIENTS {
            let clock_ns = &mut clocks_ns[client as usize];
            // At least 1 ns after the previous completion: one operation
            // at a time per client.
            let invoke_ns = *clock_ns + 1 + rng.below(GAP_NS_MAX);
            let complete_ns = invoke_ns + DURATION_NS_MIN + rng.below(DURATION_NS_SPREAD);
            *clock_ns = complete_ns;
            let effect_ns = rng.between(invoke_ns, complete_ns + 1);
            let hard = rng.chance(HARD_KEY_PER_MILLION);
            let key = if hard {
                HARD_KEY
            } else {
                HARD_KEY + 1 + rng.below(u64::from(KEYS - 1)) as u8
            };
            let writes_per_million = if hard {
                HARD_KEY_WRITES_PER_MILLION
            } else {
                500_000
            };
            let call = if rng.chance(writes_per_million) {
                next_value += 1;
                RegisterCall::Write(next_value)
            } else {
                RegisterCall::Read
            };
            planned.push(Planned {
                client,
                invoke_ns,
                effect_ns,
                complete_ns,
                op: RegisterOp { key, call },
                info: hard && rng.chance(HARD_KEY_INFO_PER_MILLION),
            });
        }
    }
    planned
}

/// Records invocations and completions in time order; at equal times
/// invocations go first, which only adds overlaps.
fn assemble(planned: &[Planned], results: &[u32]) -> HardHistory {
    let mut events: Vec<(u64, bool, usize)> = Vec::with_capacity(planned.len() * 2);
    for (index, operation) in planned.iter().enumerate() {
        events.push((operation.invoke_ns, false, index));
        events.push((operation.complete_ns, true, index));
    }
    events.sort_unstable();
    let mut history = History::new();
    let mut ids = vec![OpId(0); planned.len()];
    for (event, &(time_ns, is_completion, index)) in (0..).zip(&events) {
        let operation = &planned[index];
        let time = SimTime::from_nanos(time_ns);
        if is_completion {
            let outcome = if operation.info {
                Outcome::Info
            } else {
                Outcome::Ok(results[index])
            };
            history.complete(ids[index], outcome, time, event);
        } else {
            let node = NodeId(operation.client);
            ids[index] = history.invoke(node, operation.op.clone(), time, event);
        }
    }
    history
}
