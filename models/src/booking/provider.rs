//! The payment provider: someone else's system, with its own latency and
//! failures. Every charge is keyed by its order, so asking twice is one
//! charge. A charge takes `payment_latency` to process; it may be declined;
//! and now and then the provider never answers, having made the charge or
//! not (the app cannot tell which without asking). A query answers at once
//! how a key stands, and with `void` makes a key it never saw unchargeable
//! for good: how an app that gave up waiting makes sure a late charge
//! cannot happen behind its back.

use std::sync::Arc;
use std::time::Duration;

use sim_core::{Ctx, NodeId};

use super::BookingConfig;
use super::ledger::OrderId;
use super::msg::{ChargeStatus, Msg};
use super::node::{BookingDisk, BookingNode, ProviderDisk, Timer};

#[derive(Debug)]
pub struct Provider {
    config: Arc<BookingConfig>,
}

impl Provider {
    pub fn new(disk: &ProviderDisk) -> Provider {
        Provider {
            config: Arc::clone(&disk.config),
        }
    }

    pub fn on_message(&mut self, ctx: &mut Ctx<'_, BookingNode>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Charge { key } => {
                let ns = self.config.payment_latency.sample_ns(ctx.rng());
                let silent = ctx.rng().chance(self.config.payment_silent_per_million);
                // Silent: half the time it charges and does not say so,
                // half the time the request is simply lost.
                if silent && ctx.rng().chance(500_000) {
                    return;
                }
                let answer = Timer::Answer {
                    to: from,
                    key,
                    charge: !silent,
                };
                if silent {
                    // Charge, but send nothing back.
                    self.charge(ctx, key);
                    return;
                }
                ctx.set_timer(Duration::from_nanos(ns), answer);
            }
            Msg::Query { key, void } => {
                let now = ctx.now().as_nanos();
                let charges = &mut disk(ctx).charges;
                if void {
                    charges.entry(key).or_insert((ChargeStatus::Voided, now));
                }
                let status = charges.get(&key).map_or(ChargeStatus::Unknown, |(s, _)| *s);
                ctx.send(from, Msg::ChargeState { key, status });
            }
            Msg::Refund { key } => {
                let charges = &mut disk(ctx).charges;
                if let Some((status @ ChargeStatus::Charged, _)) = charges.get_mut(&key) {
                    *status = ChargeStatus::Refunded;
                    ctx.count("refunds", 1);
                }
                let status = disk(ctx).charges.get(&key).map_or(ChargeStatus::Voided, |(s, _)| *s);
                ctx.send(from, Msg::ChargeState { key, status });
            }
            _ => {}
        }
    }

    /// Processes a charge: once per key; declined now and then.
    fn charge(&mut self, ctx: &mut Ctx<'_, BookingNode>, key: OrderId) -> ChargeStatus {
        let now = ctx.now().as_nanos();
        let declined = ctx.rng().chance(self.config.payment_decline_per_million);
        let charges = &mut disk(ctx).charges;
        charges
            .entry(key)
            .or_insert(if declined {
                (ChargeStatus::Declined, now)
            } else {
                (ChargeStatus::Charged, now)
            })
            .0
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, BookingNode>, timer: Timer) {
        if let Timer::Answer { to, key, charge: true } = timer {
            let status = self.charge(ctx, key);
            ctx.send(to, Msg::ChargeState { key, status });
        }
    }
}

fn disk<'a>(ctx: &'a mut Ctx<'_, BookingNode>) -> &'a mut ProviderDisk {
    match ctx.durable() {
        BookingDisk::Provider(disk) => disk,
        other => unreachable!("the provider with {other:?}"),
    }
}
