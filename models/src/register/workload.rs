//! Clients: each asks one question at a time, thinks (exponential, mean
//! `think_ms_mean`), asks again. A question is a write of a value no one
//! else writes (the client's index in the high bits) or a read. A request
//! with no answer after `timeout_ms` records an unknown outcome (`Info`):
//! it may have taken effect.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sim_core::record::ExportOp;
use sim_core::{ConfigError, Ctx, OpId, Outcome, TimerId};

use super::msg::Msg;
use super::node::{RegisterDisk, RegisterNode, Timer};
use super::{RegisterConfig, SERVER};

/// What clients ask and when.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkloadConfig {
    /// Client nodes (`client-0` ..).
    pub clients: u32,
    /// Mean pause between an answer and the next request, in milliseconds.
    pub think_ms_mean: u64,
    /// Requests that are writes, per million (the rest are reads).
    pub write_per_million: u32,
    /// A request gives up after this long and records `Info`, in ms.
    pub timeout_ms: u64,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            clients: 3,
            think_ms_mean: 20,
            write_per_million: 500_000,
            timeout_ms: 200,
        }
    }
}

impl WorkloadConfig {
    /// Range checks; paths are relative to the workload section.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=1_000).contains(&self.clients) {
            return Err(ConfigError::new("clients", "must be between 1 and 1000"));
        }
        if self.timeout_ms == 0 {
            return Err(ConfigError::new("timeout_ms", "must be at least 1"));
        }
        if self.write_per_million > 1_000_000 {
            return Err(ConfigError::new(
                "write_per_million",
                format!("{} is a probability above 1", self.write_per_million),
            ));
        }
        Ok(())
    }
}

/// A client operation, as the history records it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize)]
pub enum Op {
    Read,
    Write(u64),
}

impl ExportOp<u64> for Op {
    fn f(&self) -> &'static str {
        match self {
            Op::Read => "read",
            Op::Write(_) => "write",
        }
    }
    fn key(&self) -> Option<String> {
        None
    }
    fn invoke_value(&self) -> serde_json::Value {
        match self {
            Op::Read => serde_json::Value::Null,
            Op::Write(value) => (*value).into(),
        }
    }
    /// A read's value; a write's version, as the server numbered it.
    fn ok_value(&self, ret: &u64) -> serde_json::Value {
        (*ret).into()
    }
}

/// One client's volatile state.
#[derive(Debug)]
pub struct Client {
    config: Arc<RegisterConfig>,
    index: u32,
    /// Request numbers: the boot count in the high half.
    next_request: u64,
    waiting: Option<Waiting>,
}

#[derive(Debug)]
struct Waiting {
    request: u64,
    op: OpId,
    deadline: TimerId,
}

impl Client {
    pub fn new(config: &Arc<RegisterConfig>, index: u32) -> Client {
        Client {
            config: Arc::clone(config),
            index,
            next_request: 0,
            waiting: None,
        }
    }

    pub fn on_start(&mut self, ctx: &mut Ctx<'_, RegisterNode>) {
        if let RegisterDisk::Client { boots, .. } = ctx.durable() {
            *boots += 1;
            self.next_request = u64::from(*boots) << 32;
        }
        self.think(ctx);
    }

    pub fn on_message(&mut self, ctx: &mut Ctx<'_, RegisterNode>, msg: Msg) {
        let (request, answer) = match msg {
            Msg::Written { request, version } => (request, version),
            Msg::Value { request, value } => (request, value),
            Msg::Write { .. } | Msg::Read { .. } => return,
        };
        let Some(waiting) = self.waiting.take_if(|w| w.request == request) else {
            return; // late: that request timed out
        };
        ctx.cancel_timer(waiting.deadline);
        ctx.complete(waiting.op, Outcome::Ok(answer));
        self.think(ctx);
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, RegisterNode>, timer: Timer) {
        match timer {
            Timer::Think => self.ask(ctx),
            Timer::Deadline { request } => {
                if let Some(waiting) = self.waiting.take_if(|w| w.request == request) {
                    ctx.complete(waiting.op, Outcome::Info);
                    self.think(ctx);
                }
            }
            Timer::Synced { .. } => {}
        }
    }

    fn ask(&mut self, ctx: &mut Ctx<'_, RegisterNode>) {
        let request = self.next_request;
        self.next_request += 1;
        let workload = &self.config.workload;
        let (op, msg) = if ctx.rng().chance(workload.write_per_million) {
            let value = u64::from(self.index) << 40 | (request & 0xff_ffff_ffff);
            (Op::Write(value), Msg::Write { request, value })
        } else {
            (Op::Read, Msg::Read { request })
        };
        let op = ctx.invoke(op);
        ctx.send(SERVER, msg);
        let timeout = Duration::from_millis(workload.timeout_ms);
        let deadline = ctx.set_timer(timeout, Timer::Deadline { request });
        self.waiting = Some(Waiting {
            request,
            op,
            deadline,
        });
    }

    fn think(&mut self, ctx: &mut Ctx<'_, RegisterNode>) {
        let mean_ns = self.config.workload.think_ms_mean.saturating_mul(1_000_000);
        let pause = Duration::from_nanos(ctx.rng().exponential(mean_ns));
        ctx.set_timer(pause, Timer::Think);
    }
}
