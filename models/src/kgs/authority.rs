//! The authority: a replicated register that stores only the next free
//! counter, on a majority of 3, 5 or 7 nodes, run as CAS-Paxos. Every node
//! is both an acceptor (it keeps a promised ballot and the last accepted
//! value on its disk) and a proposer (it turns ID servers' lease requests
//! into one change of the register).
//!
//! A change: prepare with a ballot above any seen; on a majority of
//! promises take the value accepted with the highest ballot; apply every
//! queued request to it (each gets the next bulk); ask every node to
//! accept the new value; on a majority of acceptances, grant. An acceptor
//! answers only once its promise or acceptance is synced to disk, so a
//! crash cannot take back what it told a proposer. The proposer's own
//! acceptor is asked by a message to itself.
//!
//! The broken variants change one step: `MinorityWrites` grants on one
//! acceptance; `AckBeforeSync` answers before the sync; `AsyncReplica`
//! skips consensus (the node asked grants from its own copy and copies it
//! to the others later); `ClockReclaim` leases bulks by time, expires
//! them by the proposing node's wall clock and grants the rest after the
//! holder's last report again.

use std::sync::Arc;
use std::time::Duration;

use sim_core::{Ctx, NodeId, TimerId};

use super::msg::{Accepted, AuthorityState, Ballot, Lease, Msg, Range};
use super::node::{AuthorityDisk, KgsDisk, KgsNode, Timer};
use super::{KgsConfig, Layout, Variant};

/// How long a proposal may take before the proposer tries again.
const ROUND_TIMEOUT: Duration = Duration::from_millis(200);
/// The most a refused proposer waits before it tries again.
const BACKOFF_MS_MAX: u64 = 40;

#[derive(Debug)]
pub struct Authority {
    id: NodeId,
    config: Arc<KgsConfig>,
    /// The highest ballot seen anywhere: the next proposal goes above it.
    highest: Ballot,
    /// Lease requests waiting for a change of the register.
    queue: Vec<Pending>,
    round: Option<Round>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pending {
    from: NodeId,
    request: u64,
    /// `ClockReclaim`: renew the lease on `(start, issued up to)`.
    renew: Option<(u64, u64)>,
}

#[derive(Debug)]
struct Round {
    ballot: Ballot,
    phase: Phase,
    timeout: TimerId,
}

#[derive(Debug)]
enum Phase {
    Preparing {
        promises: Vec<(NodeId, Option<Accepted>)>,
    },
    Accepting {
        acks: Vec<NodeId>,
        /// The requests this change answers, and their answers.
        answers: Vec<(Pending, Msg)>,
    },
}

impl Authority {
    pub fn new(id: NodeId, config: &Arc<KgsConfig>) -> Authority {
        Authority {
            id,
            config: Arc::clone(config),
            highest: Ballot::default(),
            queue: Vec::new(),
            round: None,
        }
    }

    pub fn on_message(&mut self, ctx: &mut Ctx<'_, KgsNode>, from: NodeId, msg: Msg) {
        match msg {
            Msg::LeaseRequest { request, renew } => {
                ctx.count("authority_requests", 1);
                let pending = Pending {
                    from,
                    request,
                    renew,
                };
                if self.config.variant == Variant::AsyncReplica {
                    self.grant_alone(ctx, pending);
                    return;
                }
                if !self.queue.contains(&pending) {
                    self.queue.push(pending);
                }
                if self.round.is_none() {
                    self.propose(ctx);
                }
            }
            Msg::Prepare { ballot } => self.on_prepare(ctx, from, ballot),
            Msg::Accept { ballot, state } => self.on_accept(ctx, from, ballot, *state),
            Msg::Promise { ballot, accepted } => self.on_promise(ctx, from, ballot, accepted),
            Msg::Accepted { ballot } => self.on_accepted(ctx, from, ballot),
            Msg::Nack { ballot, promised } => {
                self.highest = self.highest.max(promised);
                if self.round.as_ref().is_some_and(|r| r.ballot == ballot) {
                    ctx.reached(super::labels::BALLOT_LOST);
                    self.abandon(ctx);
                }
            }
            Msg::Replicate { state } => {
                let disk = disk(ctx);
                let mine = disk.accepted.as_ref().map_or(0, |(_, s)| s.next_free);
                if state.next_free > mine {
                    disk.accepted = Some((Ballot::default(), *state));
                    ctx.sync(Timer::Flushed);
                }
            }
            _ => {}
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, KgsNode>, timer: Timer) {
        match timer {
            Timer::RoundTimeout { ballot } if self.round.as_ref().is_some_and(|r| r.ballot == ballot) => {
                self.abandon(ctx);
            }
            Timer::Retry if self.round.is_none() && !self.queue.is_empty() => self.propose(ctx),
            Timer::Synced { to, msg } => ctx.send(to, *msg),
            _ => {}
        }
    }

    // The acceptor.

    fn on_prepare(&mut self, ctx: &mut Ctx<'_, KgsNode>, from: NodeId, ballot: Ballot) {
        self.highest = self.highest.max(ballot);
        let disk = disk(ctx);
        if ballot <= disk.promised {
            let promised = disk.promised;
            ctx.send(from, Msg::Nack { ballot, promised });
            return;
        }
        disk.promised = ballot;
        let accepted = disk.accepted.clone().map(|(ballot, state)| (ballot, Box::new(state)));
        self.answer_once_on_disk(ctx, from, Msg::Promise { ballot, accepted });
    }

    fn on_accept(&mut self, ctx: &mut Ctx<'_, KgsNode>, from: NodeId, ballot: Ballot, state: AuthorityState) {
        self.highest = self.highest.max(ballot);
        let disk = disk(ctx);
        if ballot < disk.promised {
            let promised = disk.promised;
            ctx.send(from, Msg::Nack { ballot, promised });
            return;
        }
        disk.promised = ballot;
        disk.accepted = Some((ballot, state));
        self.answer_once_on_disk(ctx, from, Msg::Accepted { ballot });
    }

    /// Syncs what was just written, and answers once it is on disk (or at
    /// once: the `AckBeforeSync` mistake).
    fn answer_once_on_disk(&self, ctx: &mut Ctx<'_, KgsNode>, to: NodeId, msg: Msg) {
        if self.config.variant == Variant::AckBeforeSync {
            ctx.send(to, msg);
            ctx.sync(Timer::Flushed);
        } else {
            ctx.sync(Timer::Synced {
                to,
                msg: Box::new(msg),
            });
        }
    }

    // The proposer.

    fn propose(&mut self, ctx: &mut Ctx<'_, KgsNode>) {
        let ballot = Ballot {
            round: self.highest.round + 1,
            node: self.id.0,
        };
        self.highest = ballot;
        let timeout = ctx.set_timer(ROUND_TIMEOUT, Timer::RoundTimeout { ballot });
        self.round = Some(Round {
            ballot,
            phase: Phase::Preparing {
                promises: Vec::new(),
            },
            timeout,
        });
        let layout = Layout::of(&self.config);
        ctx.broadcast(layout.authority_nodes(), &Msg::Prepare { ballot });
    }

    fn on_promise(
        &mut self,
        ctx: &mut Ctx<'_, KgsNode>,
        from: NodeId,
        ballot: Ballot,
        accepted: Option<Accepted>,
    ) {
        let majority = self.config.majority();
        let Some(round) = self.round.as_mut().filter(|r| r.ballot == ballot) else {
            return;
        };
        let Phase::Preparing { promises } = &mut round.phase else {
            return;
        };
        if promises.iter().any(|(node, _)| *node == from) {
            return; // a network duplicate
        }
        promises.push((from, accepted));
        if promises.len() < majority {
            return;
        }
        // A majority that disagrees: some authority missed the last value.
        let first = promises[0].1.as_ref().map(|(b, _)| *b);
        if promises.iter().any(|(_, accepted)| accepted.as_ref().map(|(b, _)| *b) != first) {
            ctx.reached(super::labels::STALE_AUTHORITY_IN_MAJORITY);
        }
        // The value accepted with the highest ballot is the register's.
        let current = promises
            .iter()
            .filter_map(|(_, accepted)| accepted.as_ref())
            .max_by_key(|(ballot, _)| *ballot)
            .map(|(_, state)| AuthorityState::clone(state))
            .unwrap_or_default();
        let now_ns = ctx.now().as_nanos();
        let (state, answers) = apply(&self.config, current, &self.queue, now_ns);
        round.phase = Phase::Accepting {
            acks: Vec::new(),
            answers,
        };
        let layout = Layout::of(&self.config);
        ctx.broadcast(
            layout.authority_nodes(),
            &Msg::Accept {
                ballot,
                state: Box::new(state),
            },
        );
    }

    fn on_accepted(&mut self, ctx: &mut Ctx<'_, KgsNode>, from: NodeId, ballot: Ballot) {
        let quorum = self.config.accept_quorum();
        let Some(round) = self.round.as_mut().filter(|r| r.ballot == ballot) else {
            return;
        };
        let Phase::Accepting { acks, answers } = &mut round.phase else {
            return;
        };
        if acks.contains(&from) {
            return;
        }
        acks.push(from);
        if acks.len() < quorum {
            return;
        }
        let answers = std::mem::take(answers);
        let round = self.round.take().expect("found");
        ctx.cancel_timer(round.timeout);
        for (pending, answer) in answers {
            self.queue.retain(|p| *p != pending);
            ctx.send(pending.from, answer);
        }
        if !self.queue.is_empty() {
            self.propose(ctx);
        }
    }

    /// Gives up the current proposal and tries again after a random pause
    /// (two proposers in lockstep would refuse each other forever).
    fn abandon(&mut self, ctx: &mut Ctx<'_, KgsNode>) {
        if let Some(round) = self.round.take() {
            ctx.cancel_timer(round.timeout);
        }
        let pause = Duration::from_millis(ctx.rng().below(BACKOFF_MS_MAX) + 1);
        ctx.set_timer(pause, Timer::Retry);
    }

    // `AsyncReplica`: one database, copied to the others afterwards.

    fn grant_alone(&mut self, ctx: &mut Ctx<'_, KgsNode>, pending: Pending) {
        let now_ns = ctx.now().as_nanos();
        let disk = disk(ctx);
        let current = disk.accepted.take().map(|(_, s)| s).unwrap_or_default();
        let (state, mut answers) = apply(&self.config, current, &[pending], now_ns);
        disk.accepted = Some((Ballot::default(), state.clone()));
        let (pending, answer) = answers.pop().expect("one request, one answer");
        ctx.sync(Timer::Synced {
            to: pending.from,
            msg: Box::new(answer),
        });
        // The mistake: the others hear of it later, if at all.
        let others = Layout::of(&self.config)
            .authority_nodes()
            .filter(|&node| node != self.id);
        ctx.broadcast(others, &Msg::Replicate { state: Box::new(state) });
    }
}

fn disk<'a>(ctx: &'a mut Ctx<'_, KgsNode>) -> &'a mut AuthorityDisk {
    match ctx.durable() {
        KgsDisk::Authority(disk) => disk,
        other => unreachable!("an authority node with {other:?}"),
    }
}

/// One change of the register: every queued request applied in order,
/// with its answer. `now_ns` is the proposer's wall clock, which only
/// `ClockReclaim` reads.
fn apply(
    config: &KgsConfig,
    mut state: AuthorityState,
    queue: &[Pending],
    now_ns: i64,
) -> (AuthorityState, Vec<(Pending, Msg)>) {
    let reclaiming = config.variant == Variant::ClockReclaim;
    let lease_ns = i64::try_from(config.lease_ms).unwrap_or(i64::MAX / 2) * 1_000_000;
    if reclaiming {
        let margin_ns = i64::try_from(config.reclaim_margin_ms).unwrap_or(0) * 1_000_000;
        // The mistake: "expired" by this node's wall clock, which may run
        // ahead of the clock the holder stops by.
        let expired: Vec<Lease> = state
            .leases
            .extract_if(.., |lease| lease.expires_ns.saturating_add(margin_ns) < now_ns)
            .collect();
        for lease in expired {
            let rest = Range {
                start: lease.reported,
                end: lease.range.end,
            };
            if !rest.is_empty() {
                state.free.push(rest);
            }
        }
    }
    let mut answers = Vec::with_capacity(queue.len());
    for &pending in queue {
        let request = pending.request;
        if let Some((start, cursor)) = pending.renew {
            let lease = state
                .leases
                .iter_mut()
                .find(|l| l.holder == pending.from.0 && l.range.start == start);
            let answer = match lease {
                Some(lease) => {
                    lease.reported = lease.reported.max(cursor).min(lease.range.end);
                    lease.expires_ns = now_ns.saturating_add(lease_ns);
                    Msg::Granted {
                        request,
                        range: lease.range,
                    }
                }
                None => Msg::LeaseLost { request, start },
            };
            answers.push((pending, answer));
            continue;
        }
        let range = if reclaiming && !state.free.is_empty() {
            state.free.remove(0)
        } else {
            let start = state.next_free;
            state.next_free = start.saturating_add(config.bulk_size);
            Range {
                start,
                end: state.next_free,
            }
        };
        if reclaiming {
            state.leases.push(Lease {
                holder: pending.from.0,
                range,
                reported: range.start,
                expires_ns: now_ns.saturating_add(lease_ns),
            });
        }
        answers.push((pending, Msg::Granted { request, range }));
    }
    (state, answers)
}
