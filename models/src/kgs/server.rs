//! An ID server: leases bulks from the authority and hands IDs out of
//! them, one or many per request. It asks for the next bulk before the
//! current one runs out (when fewer than `low_water` counters are left),
//! so clients rarely wait on the authority; a client that does wait is a
//! stall, measured. A crash loses what was left of its bulks (wasted key
//! space); a graceful shutdown discards it too rather than handing back a
//! partial bulk. Its disk holds only its boot count, except in the
//! `StaleCheckpoint` variant.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use sim_core::{Ctx, MonotonicTime, NodeId, TimerId};

use super::ids::IdMap;
use super::msg::{Msg, Range};
use super::node::{KgsDisk, KgsNode, ServerDisk, Timer};
use super::{KgsConfig, Layout, Variant};

#[derive(Debug)]
pub struct Server {
    config: Arc<KgsConfig>,
    map: IdMap,
    /// Bulks held, issued from front to back.
    held: VecDeque<Held>,
    /// Every bulk granted since this boot, in order (the checkers read it).
    pub granted: Vec<Range>,
    /// Counters given up since this boot (shutdown, lost leases).
    pub discarded: u64,
    /// The lease request for a new bulk in flight.
    asking: Option<Asking>,
    /// `ClockReclaim`: renewals in flight: (request, bulk start, sent at).
    renewing: Vec<(u64, u64, MonotonicTime)>,
    waiting: VecDeque<Waiting>,
    next_request: u64,
    /// The authority node asked next.
    target: u32,
    issued_since_checkpoint: u64,
    /// A graceful shutdown began: answer nobody.
    draining: bool,
}

/// A bulk and how far it has been issued.
#[derive(Clone, Copy, Debug)]
pub struct Held {
    pub range: Range,
    pub cursor: u64,
    /// `ClockReclaim`: the lease ends here, by this server's monotonic clock.
    lease_until: Option<MonotonicTime>,
}

#[derive(Debug)]
struct Asking {
    request: u64,
    timeout: TimerId,
    sent: MonotonicTime,
}

#[derive(Debug)]
struct Waiting {
    client: NodeId,
    request: u64,
    count: u32,
    since: MonotonicTime,
}

impl Server {
    pub fn new(config: &Arc<KgsConfig>) -> Server {
        Server {
            config: Arc::clone(config),
            map: config.id_map(),
            held: VecDeque::new(),
            granted: Vec::new(),
            discarded: 0,
            asking: None,
            renewing: Vec::new(),
            waiting: VecDeque::new(),
            next_request: 0,
            target: 0,
            issued_since_checkpoint: 0,
            draining: false,
        }
    }

    /// Counters left in the bulks held.
    pub fn remaining(&self) -> u64 {
        self.held.iter().map(|h| h.range.end - h.cursor).sum()
    }

    pub fn held(&self) -> impl Iterator<Item = &Held> {
        self.held.iter()
    }

    pub fn on_start(&mut self, ctx: &mut Ctx<'_, KgsNode>) {
        let disk = disk(ctx);
        disk.boots += 1;
        self.next_request = u64::from(disk.boots) << 32;
        // The mistake: resume the bulk where the last checkpoint left it,
        // though IDs after the checkpoint were handed out before the crash.
        if let (Variant::StaleCheckpoint, Some((range, cursor))) =
            (self.config.variant, disk.checkpoint)
        {
            self.held.push_back(Held {
                range,
                cursor,
                lease_until: None,
            });
        }
        self.target = ctx.rng().below(u64::from(self.config.authorities)) as u32;
        if self.config.variant == Variant::AsyncReplica {
            self.target = 0; // the primary
        }
        self.top_up(ctx);
        if self.config.variant == Variant::ClockReclaim {
            ctx.set_timer(self.renew_every(), Timer::Renew);
        }
    }

    pub fn on_shutdown(&mut self, _ctx: &mut Ctx<'_, KgsNode>) {
        // Discard the rest rather than hand back a partial bulk.
        self.draining = true;
        self.discarded += self.remaining();
        self.held.clear();
    }

    pub fn on_message(&mut self, ctx: &mut Ctx<'_, KgsNode>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Get { request, count } => {
                if self.draining {
                    return;
                }
                self.waiting.push_back(Waiting {
                    client: from,
                    request,
                    count,
                    since: ctx.monotonic(),
                });
                self.serve(ctx);
            }
            Msg::Granted { request, range } => self.on_granted(ctx, request, range),
            Msg::LeaseLost { request, start } => {
                self.renewing.retain(|(r, _, _)| *r != request);
                if let Some(i) = self.held.iter().position(|h| h.range.start == start) {
                    let lost = self.held.remove(i).expect("found");
                    self.discarded += lost.range.end - lost.cursor;
                }
                self.top_up(ctx);
            }
            _ => {}
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, KgsNode>, timer: Timer) {
        match timer {
            Timer::LeaseTimeout { request }
                if self.asking.as_ref().is_some_and(|a| a.request == request) =>
            {
                // That authority node is slow or gone: ask the next.
                self.asking = None;
                self.target = (self.target + 1) % self.config.authorities;
                self.top_up(ctx);
            }
            Timer::Renew => {
                self.renew(ctx);
                ctx.set_timer(self.renew_every(), Timer::Renew);
            }
            _ => {}
        }
    }

    fn on_granted(&mut self, ctx: &mut Ctx<'_, KgsNode>, request: u64, range: Range) {
        if let Some(i) = self.renewing.iter().position(|(r, _, _)| *r == request) {
            let (_, start, sent) = self.renewing.remove(i);
            let lease = Duration::from_millis(self.config.lease_ms);
            if let Some(held) = self.held.iter_mut().find(|h| h.range.start == start) {
                held.lease_until = Some(sent + lease);
            }
            return;
        }
        if self.granted.contains(&range) {
            return; // a network duplicate of a grant already taken
        }
        let sent = match self.asking.take_if(|a| a.request == request) {
            Some(asking) => {
                ctx.cancel_timer(asking.timeout);
                asking.sent
            }
            // A late answer to a request given up on: still a bulk.
            None => {
                ctx.reached(super::labels::LATE_GRANT_KEPT);
                ctx.monotonic()
            }
        };
        ctx.count("bulks_leased", 1);
        self.granted.push(range);
        let lease_until = (self.config.variant == Variant::ClockReclaim)
            .then(|| sent + Duration::from_millis(self.config.lease_ms));
        self.held.push_back(Held {
            range,
            cursor: range.start,
            lease_until,
        });
        self.serve(ctx);
    }

    /// Answers waiting clients, in order, while there are IDs.
    fn serve(&mut self, ctx: &mut Ctx<'_, KgsNode>) {
        while let Some(first) = self.waiting.front() {
            let count = first.count;
            let Some(ids) = self.take(ctx, count) else {
                break;
            };
            let waiting = self.waiting.pop_front().expect("a first");
            let waited = ctx.monotonic().since(waiting.since);
            if !waited.is_zero() {
                ctx.observe("stall_us", u64::try_from(waited.as_micros()).unwrap_or(u64::MAX));
            }
            ctx.count("ids_issued", u64::from(count));
            ctx.count("requests_served", 1);
            ctx.send(
                waiting.client,
                Msg::Ids {
                    request: waiting.request,
                    ids,
                },
            );
        }
        self.top_up(ctx);
    }

    /// `count` fresh IDs, or `None` if the bulks held have too few.
    fn take(&mut self, ctx: &mut Ctx<'_, KgsNode>, count: u32) -> Option<Vec<u64>> {
        if self.config.variant == Variant::RandomIds {
            let bits = self.config.random_bits;
            let ids = (0..count).map(|_| random_id(ctx, bits)).collect();
            return Some(ids);
        }
        let now = ctx.monotonic();
        // A lease that ended (by this server's clock) is given up. (Most
        // requests find none: then the bulks held stay where they are.)
        let live = |h: &Held| h.lease_until.is_none_or(|until| now < until);
        let ended: VecDeque<Held> = if self.held.iter().all(live) {
            VecDeque::new()
        } else {
            let (live, ended) = std::mem::take(&mut self.held).into_iter().partition(live);
            self.held = live;
            ended
        };
        for lost in ended {
            // Given up: say how far it got, so the rest can be reused.
            self.discarded += lost.range.end - lost.cursor;
            self.send_renewal(ctx, lost.range.start, lost.cursor);
        }
        if self.remaining() < u64::from(count) {
            return None;
        }
        let mut ids = Vec::with_capacity(count as usize);
        while ids.len() < count as usize {
            // A run of counters from the oldest bulk held, in one pass.
            let held = self.held.front_mut().expect("enough remaining");
            let wanted = count as u64 - ids.len() as u64;
            let run = held.cursor..(held.cursor + wanted).min(held.range.end);
            held.cursor = run.end;
            let map = &self.map;
            ids.extend(run.map(|counter| map.id(counter)));
            if held.cursor == held.range.end {
                let done = self.held.pop_front().expect("a front");
                if self.config.variant == Variant::ClockReclaim {
                    // Done: nothing of it is left to take back.
                    self.send_renewal(ctx, done.range.start, done.range.end);
                }
            }
        }
        self.checkpoint(ctx, u64::from(count));
        Some(ids)
    }

    /// `StaleCheckpoint`: writes the cursor every `checkpoint_every` IDs.
    fn checkpoint(&mut self, ctx: &mut Ctx<'_, KgsNode>, issued: u64) {
        if self.config.variant != Variant::StaleCheckpoint {
            return;
        }
        self.issued_since_checkpoint += issued;
        if self.issued_since_checkpoint < self.config.checkpoint_every {
            return;
        }
        self.issued_since_checkpoint = 0;
        let at = self.held.front().map(|h| (h.range, h.cursor));
        disk(ctx).checkpoint = at;
    }

    /// Asks for the next bulk once fewer than `low_water` counters are left.
    fn top_up(&mut self, ctx: &mut Ctx<'_, KgsNode>) {
        let needs = self.config.variant != Variant::RandomIds
            && !self.draining
            && self.asking.is_none()
            && (self.remaining() < self.config.low_water || !self.waiting.is_empty());
        if !needs {
            return;
        }
        let request = self.next_request;
        self.next_request += 1;
        let to = Layout::of(&self.config).authority(self.target);
        ctx.send(to, Msg::LeaseRequest { request, renew: None });
        let after = Duration::from_millis(self.config.lease_timeout_ms);
        let timeout = ctx.set_timer(after, Timer::LeaseTimeout { request });
        self.asking = Some(Asking {
            request,
            timeout,
            sent: ctx.monotonic(),
        });
    }

    /// `ClockReclaim`: renews the lease of every bulk held, saying how far
    /// it has been issued.
    fn renew(&mut self, ctx: &mut Ctx<'_, KgsNode>) {
        for held in self.held.clone() {
            self.send_renewal(ctx, held.range.start, held.cursor);
        }
        self.target = (self.target + 1) % self.config.authorities;
    }

    fn send_renewal(&mut self, ctx: &mut Ctx<'_, KgsNode>, start: u64, cursor: u64) {
        let request = self.next_request;
        self.next_request += 1;
        let to = Layout::of(&self.config).authority(self.target);
        let renew = Some((start, cursor));
        ctx.send(to, Msg::LeaseRequest { request, renew });
        self.renewing.push((request, start, ctx.monotonic()));
    }

    fn renew_every(&self) -> Duration {
        Duration::from_millis((self.config.lease_ms / 3).max(1))
    }
}

fn random_id(ctx: &mut Ctx<'_, KgsNode>, bits: u32) -> u64 {
    let draw = ctx.rng().next_u64();
    if bits >= 64 { draw } else { draw >> (64 - bits) }
}

fn disk<'a>(ctx: &'a mut Ctx<'_, KgsNode>) -> &'a mut ServerDisk {
    match ctx.durable() {
        KgsDisk::Server(disk) => disk,
        other => unreachable!("an ID server with {other:?}"),
    }
}
