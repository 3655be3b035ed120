//! Clients: each asks a random ID server for a batch of IDs, waits for the
//! answer, thinks (exponential, mean `think_ms_mean`), asks again. An
//! attempt with no answer after `attempt_timeout_ms` is sent again to
//! another server (asking twice costs at most wasted IDs, never repeated
//! ones); the first answer to any attempt completes the request. A request
//! with no answer after `timeout_ms` records an unknown outcome (`Info`).

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sim_core::record::ExportOp;
use sim_core::{ConfigError, Ctx, NodeId, OpId, Outcome, TimerId};

use super::msg::Msg;
use super::node::{KgsDisk, KgsNode, Timer};
use super::{KgsConfig, Layout};

/// What clients ask and when.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkloadConfig {
    /// Client nodes (`client-0` ..).
    pub clients: u32,
    /// IDs per request: uniform in `batch_min..=batch_max`.
    pub batch_min: u32,
    pub batch_max: u32,
    /// Mean pause between an answer and the next request, in milliseconds.
    pub think_ms_mean: u64,
    /// An attempt unanswered this long is sent to another server, in ms.
    pub attempt_timeout_ms: u64,
    /// A request gives up after this long and records `Info`, in ms.
    pub timeout_ms: u64,
    /// Requests each client makes before it stops; unset: until the end.
    pub requests_per_client: Option<u64>,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            clients: 4,
            batch_min: 1,
            batch_max: 20,
            think_ms_mean: 10,
            attempt_timeout_ms: 200,
            timeout_ms: 1_000,
            requests_per_client: None,
        }
    }
}

/// The most IDs `expected_ids` makes room for up front (about 2 MB of
/// map): a longer run grows its map as it goes.
const MOST_EXPECTED_IDS: u64 = 1 << 16;

impl WorkloadConfig {
    /// About how many IDs a run of `duration_ms` hands out, if each
    /// client asked again after every think time (an overestimate: answers
    /// take time too), capped at `MOST_EXPECTED_IDS`.
    pub fn expected_ids(&self, duration_ms: u64) -> usize {
        let asks = duration_ms / self.think_ms_mean.max(1);
        let per_client = self.requests_per_client.map_or(asks, |most| most.min(asks));
        let mean_batch = (u64::from(self.batch_min) + u64::from(self.batch_max)) / 2;
        let ids = u64::from(self.clients)
            .saturating_mul(per_client)
            .saturating_mul(mean_batch);
        ids.min(MOST_EXPECTED_IDS) as usize
    }

    /// Range checks; paths are relative to the workload section.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=5_000).contains(&self.clients) {
            return Err(ConfigError::new("clients", "must be between 1 and 5000"));
        }
        if !(1..=10_000).contains(&self.batch_min) {
            return Err(ConfigError::new("batch_min", "must be between 1 and 10000"));
        }
        if !(self.batch_min..=10_000).contains(&self.batch_max) {
            return Err(ConfigError::new(
                "batch_max",
                format!("must be between batch_min ({}) and 10000", self.batch_min),
            ));
        }
        if self.attempt_timeout_ms == 0 {
            return Err(ConfigError::new("attempt_timeout_ms", "must be at least 1"));
        }
        if self.timeout_ms < self.attempt_timeout_ms {
            return Err(ConfigError::new(
                "timeout_ms",
                format!("must be at least attempt_timeout_ms ({})", self.attempt_timeout_ms),
            ));
        }
        Ok(())
    }
}

/// "Give me this many IDs."
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize)]
pub struct Op {
    pub count: u32,
}

/// The IDs, and the server that handed them out.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize)]
pub struct Ret {
    pub server: NodeId,
    pub ids: Vec<u64>,
}

impl ExportOp<Ret> for Op {
    fn f(&self) -> &'static str {
        "get"
    }
    fn key(&self) -> Option<String> {
        None
    }
    fn invoke_value(&self) -> serde_json::Value {
        self.count.into()
    }
    fn ok_value(&self, ret: &Ret) -> serde_json::Value {
        serde_json::json!({ "server": ret.server.0, "ids": ret.ids })
    }
}

#[derive(Debug)]
pub struct Client {
    config: Arc<KgsConfig>,
    next_request: u64,
    asked: u64,
    waiting: Option<Waiting>,
    /// The attempt list of the last request that ended, emptied: the next
    /// request's list reuses its room instead of allocating.
    spare_attempts: Vec<(u64, NodeId)>,
}

#[derive(Debug)]
struct Waiting {
    op: OpId,
    count: u32,
    /// Every attempt so far: (request, server asked).
    attempts: Vec<(u64, NodeId)>,
    retry: TimerId,
    deadline: TimerId,
}

impl Client {
    pub fn new(config: &Arc<KgsConfig>, _index: u32) -> Client {
        Client {
            config: Arc::clone(config),
            next_request: 0,
            asked: 0,
            waiting: None,
            spare_attempts: Vec::new(),
        }
    }

    pub fn on_start(&mut self, ctx: &mut Ctx<'_, KgsNode>) {
        if let KgsDisk::Client(disk) = ctx.durable() {
            disk.boots += 1;
            self.next_request = u64::from(disk.boots) << 32;
        }
        self.think(ctx);
    }

    pub fn on_message(&mut self, ctx: &mut Ctx<'_, KgsNode>, msg: Msg) {
        let Msg::Ids { request, ids } = msg else {
            return;
        };
        let answered = |w: &mut Waiting| w.attempts.iter().any(|(r, _)| *r == request);
        let Some(waiting) = self.waiting.take_if(answered) else {
            return; // late: that request is over
        };
        ctx.cancel_timer(waiting.retry);
        ctx.cancel_timer(waiting.deadline);
        let server = waiting
            .attempts
            .iter()
            .find(|(r, _)| *r == request)
            .map(|(_, s)| *s)
            .expect("answered");
        ctx.complete(waiting.op, Outcome::Ok(Ret { server, ids }));
        self.end(waiting);
        self.think(ctx);
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, KgsNode>, timer: Timer) {
        match timer {
            Timer::Think => self.ask(ctx),
            Timer::Retry => {
                if let Some(mut waiting) = self.waiting.take() {
                    self.attempt(ctx, &mut waiting);
                    self.waiting = Some(waiting);
                }
            }
            Timer::Deadline { request } => {
                let ours = |w: &mut Waiting| w.attempts.first().is_some_and(|(r, _)| *r == request);
                if let Some(waiting) = self.waiting.take_if(ours) {
                    ctx.cancel_timer(waiting.retry);
                    ctx.complete(waiting.op, Outcome::Info);
                    self.end(waiting);
                    self.think(ctx);
                }
            }
            _ => {}
        }
    }

    fn ask(&mut self, ctx: &mut Ctx<'_, KgsNode>) {
        let workload = &self.config.workload;
        if workload.requests_per_client.is_some_and(|max| self.asked >= max) {
            return;
        }
        self.asked += 1;
        let span = u64::from(workload.batch_max - workload.batch_min) + 1;
        let count = workload.batch_min + ctx.rng().below(span) as u32;
        let op = ctx.invoke(Op { count });
        let first = self.next_request;
        let timeout = Duration::from_millis(workload.timeout_ms);
        let deadline = ctx.set_timer(timeout, Timer::Deadline { request: first });
        let mut waiting = Waiting {
            op,
            count,
            attempts: std::mem::take(&mut self.spare_attempts),
            retry: deadline, // replaced by the first attempt's timer
            deadline,
        };
        self.attempt(ctx, &mut waiting);
        self.waiting = Some(waiting);
    }

    /// Keeps an ended request's attempt list for the next request.
    fn end(&mut self, waiting: Waiting) {
        let mut attempts = waiting.attempts;
        attempts.clear();
        self.spare_attempts = attempts;
    }

    /// Sends the request (again) to a server not yet asked, if any.
    fn attempt(&mut self, ctx: &mut Ctx<'_, KgsNode>, waiting: &mut Waiting) {
        let request = self.next_request;
        self.next_request += 1;
        let layout = Layout::of(&self.config);
        // A server not asked yet, drawn uniformly; any server once all were.
        // Counted, not collected: this runs for every request.
        let asked = |s: &NodeId| waiting.attempts.iter().any(|(_, a)| a == s);
        let fresh = layout.server_nodes().filter(|s| !asked(s)).count();
        let server = if fresh == 0 {
            let all = layout.server_nodes().count();
            layout.server_nodes().nth(ctx.rng().index(all))
        } else {
            layout.server_nodes().filter(|s| !asked(s)).nth(ctx.rng().index(fresh))
        }
        .expect("the index is below the count");
        ctx.send(
            server,
            Msg::Get {
                request,
                count: waiting.count,
            },
        );
        waiting.attempts.push((request, server));
        let after = Duration::from_millis(self.config.workload.attempt_timeout_ms);
        waiting.retry = ctx.set_timer(after, Timer::Retry);
    }

    fn think(&mut self, ctx: &mut Ctx<'_, KgsNode>) {
        let mean_ns = self.config.workload.think_ms_mean.saturating_mul(1_000_000);
        let pause = Duration::from_nanos(ctx.rng().exponential(mean_ns));
        ctx.set_timer(pause, Timer::Think);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_ids_follow_the_request_rate_and_stay_capped() {
        let workload = WorkloadConfig::default(); // 4 clients, 1-20 IDs, 10 ms
        // 500 requests per client over 5 s, 10 IDs each (the mean, rounded down).
        assert_eq!(workload.expected_ids(5_000), 4 * 500 * 10);
        let few = WorkloadConfig {
            requests_per_client: Some(3),
            ..workload
        };
        assert_eq!(few.expected_ids(5_000), 4 * 3 * 10);
        assert_eq!(workload.expected_ids(u64::MAX), MOST_EXPECTED_IDS as usize);
    }
}
