//! Client behaviour: which X to ask about, when, and how many at once.
//!
//! Each client runs `concurrency` independent slots; a slot asks, waits for
//! the answer, thinks (exponential, mean `think_ms_mean`), asks again. The
//! Xs are chosen so that concurrent first-time requests for one X are
//! common, because that is where quorum mistakes show: time is cut into
//! generations of `generation_ms` on the client's clock, and generation g
//! has `hot_keys` fresh Xs (`g * hot_keys ..`) that every client draws
//! from. A fraction of requests repeats an X of an earlier generation,
//! which must be answered `true` if anyone asked it before. After a
//! timeout a slot asks about the same X again (a new operation), as a user
//! pressing retry would.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sim_core::{ConfigError, Ctx};

use super::node::{DedupNode, Timer};

/// What clients ask and when.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkloadConfig {
    /// Client nodes (`client-0` ..), each with its own coordinator.
    pub clients: u32,
    /// Requests each client keeps in flight at once (its slots).
    pub concurrency: u32,
    /// Fresh questions each client asks before it stops (retries after a
    /// timeout do not count); unset: until the run ends.
    pub requests_per_client: Option<u64>,
    /// Mean pause between an answer and the slot's next request, in
    /// milliseconds (exponentially distributed; 0: none).
    pub think_ms_mean: u64,
    /// Fresh Xs per generation, shared by every client: the fewer, the
    /// more concurrent first-time requests for the same X.
    pub hot_keys: u32,
    /// How long one generation of fresh Xs lasts on a client's clock, in
    /// milliseconds.
    pub generation_ms: u64,
    /// Requests that ask about an X of an earlier generation instead, per
    /// million.
    pub repeat_per_million: u32,
    /// A request gives up after this long and records an unknown outcome
    /// (`Info`), in milliseconds.
    pub timeout_ms: u64,
    /// After a timeout, ask about the same X again (as a new operation).
    pub retry_after_timeout: bool,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            clients: 3,
            concurrency: 2,
            requests_per_client: None,
            think_ms_mean: 10,
            hot_keys: 4,
            generation_ms: 100,
            repeat_per_million: 200_000,
            timeout_ms: 300,
            retry_after_timeout: true,
        }
    }
}

impl WorkloadConfig {
    /// Range checks; paths are relative to the workload section.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("clients", u64::from(self.clients)),
            ("concurrency", u64::from(self.concurrency)),
            ("hot_keys", u64::from(self.hot_keys)),
            ("generation_ms", self.generation_ms),
            ("timeout_ms", self.timeout_ms),
        ];
        if let Some((field, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err(ConfigError::new(field, "must be at least 1"));
        }
        if self.clients > 10_000 {
            return Err(ConfigError::new("clients", "at most 10000"));
        }
        if self.repeat_per_million > 1_000_000 {
            return Err(ConfigError::new(
                "repeat_per_million",
                format!("{} is a probability above 1", self.repeat_per_million),
            ));
        }
        Ok(())
    }
}

/// One client's workload state (volatile: a restarted client starts over).
#[derive(Debug)]
pub struct Workload {
    /// Fresh questions asked so far.
    asked: u64,
    /// Per slot: the X to ask again after a timeout, if any.
    retries: Vec<Option<u64>>,
}

/// What a finished request tells the workload.
#[derive(Clone, Copy, Debug)]
pub struct Finished {
    pub slot: u32,
    pub x: u64,
    pub timed_out: bool,
}

impl Workload {
    pub fn new(config: &WorkloadConfig) -> Workload {
        Workload {
            asked: 0,
            retries: vec![None; config.concurrency as usize],
        }
    }

    /// Starts every slot after a first think, so clients do not move in
    /// lockstep.
    pub fn on_start(&mut self, config: &WorkloadConfig, ctx: &mut Ctx<'_, DedupNode>) {
        for slot in 0..config.concurrency {
            let think = think_time(config, ctx);
            ctx.set_timer(think, Timer::Think { slot });
        }
    }

    /// The X slot `slot` asks about next, or `None` once the client has
    /// asked all it should.
    pub fn next_x(
        &mut self,
        config: &WorkloadConfig,
        ctx: &mut Ctx<'_, DedupNode>,
        slot: u32,
    ) -> Option<u64> {
        if let Some(x) = self.retries[slot as usize].take() {
            return Some(x);
        }
        if config
            .requests_per_client
            .is_some_and(|most| self.asked >= most)
        {
            return None;
        }
        self.asked += 1;
        let local_ms = u64::try_from(ctx.now().as_nanos()).unwrap_or(0) / 1_000_000;
        let generation = local_ms / config.generation_ms;
        let hot_keys = u64::from(config.hot_keys);
        let rng = ctx.rng();
        // Saturating: a clock stepped centuries ahead must not overflow.
        let first_fresh = generation.saturating_mul(hot_keys);
        if generation > 0 && rng.chance(config.repeat_per_million) {
            Some(rng.below(first_fresh))
        } else {
            Some(first_fresh.saturating_add(rng.below(hot_keys)))
        }
    }

    /// Schedules the slot's next request after it thinks.
    pub fn on_finished(
        &mut self,
        config: &WorkloadConfig,
        ctx: &mut Ctx<'_, DedupNode>,
        finished: Finished,
    ) {
        if finished.timed_out && config.retry_after_timeout {
            self.retries[finished.slot as usize] = Some(finished.x);
        }
        let think = think_time(config, ctx);
        ctx.set_timer(
            think,
            Timer::Think {
                slot: finished.slot,
            },
        );
    }
}

fn think_time(config: &WorkloadConfig, ctx: &mut Ctx<'_, DedupNode>) -> Duration {
    let mean_ns = config.think_ms_mean.saturating_mul(1_000_000);
    if mean_ns == 0 {
        Duration::ZERO
    } else {
        Duration::from_nanos(ctx.rng().exponential(mean_ns))
    }
}
