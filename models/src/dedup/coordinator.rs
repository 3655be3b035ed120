//! The coordinator: the client-side library that answers "have you seen
//! X?" with quorums. One request goes through:
//!
//! 1. **Read phase.** Ask R replicas of X's preference list. Hedging asks
//!    one more each time `hedge_after_ms` passes without R answers, which
//!    is also how a request gets past a down replica.
//! 2. If any replica says present: **read-repair**. Add X until W replicas
//!    are known to hold it (those that said present count), then answer
//!    `true`. Answering at once would be faster and wrong: a partial write
//!    left by a timed-out request could be seen by this request, answered
//!    `true`, and missed by a later one that answers `false`.
//! 3. If R replicas say absent: **write phase**. Test-and-set X, claiming
//!    it for this request, on exactly W replicas chosen at random (the
//!    seed's design; `WriteFanOut::Quorum`, hedged like reads) or on the
//!    whole preference list (`PreferenceList`). Each replica answers with
//!    X's owner (the first request to add it there). Answer `false` on W
//!    replies owned by this request: with W > N/2 any two write quorums
//!    share a replica, whose test-and-set is atomic, so two concurrent
//!    first-time requests cannot both answer `false`. A mixed answer goes
//!    on to the rest of the preference list and waits for the rule in
//!    `ownership.rs` over all N owners, so that they cannot both answer
//!    `true` either.
//!
//! A request that has no answer after `timeout_ms` records `Info`: it may
//! have taken effect. Concurrent first-time requests that split the
//! replicas' ownership need every replica to agree who was first, so with
//! replicas down they may time out; a request that meets no such
//! collision completes while min(N-R, N-W) replicas are down.
//!
//! The `SloppyQuorum` variant adds stand-ins outside the preference list
//! to both phases when the list is slow to answer.

use std::collections::BTreeMap;
use std::time::Duration;

use sim_core::{Ctx, NodeId, OpId, Outcome, TimerId};

use super::Seen;
use super::msg::{Msg, RequestNumber};
use super::node::{DedupNode, Timer};
use super::ownership::{self, Owner};
use super::placement::{Few, Placement, Targets};
use super::store::Adder;
use super::workload::Finished;
use super::WriteFanOut;

/// The protocol's parameters, fixed for a run.
#[derive(Clone, Copy, Debug)]
pub struct Protocol {
    pub placement: Placement,
    pub read_quorum: usize,
    pub write_quorum: usize,
    pub write_fan_out: WriteFanOut,
    pub hedge_after: Option<Duration>,
    /// When a write phase turns to stand-ins; `None` unless sloppy.
    pub stand_in_after: Option<Duration>,
    pub timeout: Duration,
}

/// How a request's read phase ended, for the `read_miss_fraction` metric.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ReadPhase {
    pub op: OpId,
    /// Some replica said present.
    pub found: bool,
}

/// One client's coordinator: its requests in flight.
#[derive(Debug)]
pub struct Coordinator {
    protocol: Protocol,
    /// The client's boot count, from its disk: the high half of request
    /// numbers.
    boot: u32,
    counter: u32,
    /// Boxed: a request holds its replicas' answers inline (`Few`), and
    /// the map moves its values as it grows and shrinks.
    requests: BTreeMap<RequestNumber, Box<Request>>,
    /// Every read phase that ended, in order (read by the metrics observer).
    read_phases: Vec<ReadPhase>,
}

#[derive(Debug)]
struct Request {
    x: u64,
    /// This request, as replicas record owners.
    me: Adder,
    /// The owner this request's adds carry: itself in a write phase, the
    /// owner it found in a repair.
    claim: Adder,
    op: OpId,
    slot: u32,
    targets: Targets,
    /// How many replicas of the read order the read phase has asked.
    asked: usize,
    phase: Phase,
    deadline: TimerId,
    /// The hedge timer in the read phase, the stand-in timer after it.
    helper: Option<TimerId>,
}

// The whole request is boxed (`Coordinator::requests`), so the size of
// its largest phase costs nothing to move, and phases change in place.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Phase {
    Read {
        answered: Few<NodeId>,
    },
    /// X is somewhere: make W replicas hold it before answering `true`.
    Repair {
        holders: Few<NodeId>,
        stand_ins_asked: usize,
    },
    /// Nobody asked had X: test-and-set it, and hear whose it is.
    Write {
        owners: Few<(NodeId, Owner)>,
        /// How many of the write order have been asked.
        asked: usize,
        stand_ins_asked: usize,
    },
}

impl Coordinator {
    pub fn new(protocol: Protocol) -> Coordinator {
        Coordinator {
            protocol,
            boot: 0,
            counter: 0,
            requests: BTreeMap::new(),
            read_phases: Vec::new(),
        }
    }

    /// Sets the boot count request numbers start from (at each start).
    pub fn set_boot(&mut self, boot: u32) {
        self.boot = boot;
    }

    pub fn read_phases(&self) -> &[ReadPhase] {
        &self.read_phases
    }

    /// Invokes "have you seen `x`?" and starts its read phase.
    pub fn start(&mut self, ctx: &mut Ctx<'_, DedupNode>, x: u64, slot: u32) {
        let number = RequestNumber::new(self.boot, self.counter);
        self.counter += 1;
        let op = ctx.invoke(Seen(x));
        let targets = self.protocol.placement.targets(x, ctx.rng());
        let asked = self.protocol.read_quorum.min(targets.read_order_len());
        for index in 0..asked {
            let replica = targets.read_order(index).expect("within the read order");
            ctx.send(replica, Msg::Query { request: number, x });
        }
        let deadline = ctx.set_timer(self.protocol.timeout, Timer::Deadline { request: number });
        let helper = self
            .protocol
            .hedge_after
            .map(|after| ctx.set_timer(after, Timer::Hedge { request: number }));
        let me = Adder {
            client: ctx.id(),
            request: number,
        };
        let request = Request {
            x,
            me,
            claim: me,
            op,
            slot,
            targets,
            asked,
            phase: Phase::Read {
                answered: Few::new(),
            },
            deadline,
            helper,
        };
        self.requests.insert(number, Box::new(request));
    }

    pub fn on_query_reply(
        &mut self,
        ctx: &mut Ctx<'_, DedupNode>,
        from: NodeId,
        number: RequestNumber,
        owner: Option<Owner>,
    ) -> Option<Finished> {
        let protocol = self.protocol;
        let request = self.requests.get_mut(&number)?;
        let Phase::Read { answered } = &mut request.phase else {
            return None; // a late answer: the read phase is over
        };
        if answered.contains(&from) {
            return None; // a network duplicate
        }
        answered.push(from);
        let present = owner.is_some();
        // A repair spreads the owner it found, never itself: a request
        // that answers `true` must not become a candidate for first. (An
        // unknown owner comes from a Bloom filter, which records none.)
        if let Some(Owner::Request(found)) = owner {
            request.claim = found;
        }
        if !present && answered.len() < protocol.read_quorum {
            return None;
        }
        // Set in place: a phase holds its replies inline.
        request.phase = if present {
            Phase::Repair {
                holders: smallvec::smallvec![from],
                stand_ins_asked: 0,
            }
        } else {
            Phase::Write {
                owners: Few::new(),
                asked: 0,
                stand_ins_asked: 0,
            }
        };
        self.read_phases.push(ReadPhase {
            op: request.op,
            found: present,
        });
        request.begin_adding(ctx, &protocol, number);
        self.finish_if_done(ctx, number)
    }

    pub fn on_add_reply(
        &mut self,
        ctx: &mut Ctx<'_, DedupNode>,
        from: NodeId,
        number: RequestNumber,
        owner: Owner,
    ) -> Option<Finished> {
        let request = self.requests.get_mut(&number)?;
        match &mut request.phase {
            Phase::Read { .. } => return None,
            Phase::Repair { holders, .. } => {
                if !holders.contains(&from) {
                    holders.push(from);
                }
            }
            Phase::Write { owners, .. } => {
                if owners.iter().all(|&(replica, _)| replica != from) {
                    owners.push((from, owner));
                }
            }
        }
        self.finish_if_done(ctx, number)
    }

    /// The read phase is late: ask the next replica of the read order.
    pub fn on_hedge(&mut self, ctx: &mut Ctx<'_, DedupNode>, number: RequestNumber) {
        let Some(request) = self.requests.get_mut(&number) else {
            return;
        };
        request.helper = None;
        if let Phase::Write { asked, .. } = request.phase {
            // A replica of the W written is slow: ask the next one.
            request.extend_write(ctx, number, 1);
            if let Some(after) = self.protocol.hedge_after
                && asked + 1 < request.targets.write_order().len()
            {
                request.helper = Some(ctx.set_timer(after, Timer::Hedge { request: number }));
            }
            return;
        }
        if !matches!(request.phase, Phase::Read { .. }) {
            return;
        }
        if let Some(replica) = request.targets.read_order(request.asked) {
            request.asked += 1;
            let x = request.x;
            ctx.send(replica, Msg::Query { request: number, x });
        }
        if let Some(after) = self.protocol.hedge_after
            && request.asked < request.targets.read_order_len()
        {
            request.helper = Some(ctx.set_timer(after, Timer::Hedge { request: number }));
        }
    }

    /// The preference list is slow to take a write: ask stand-ins for the
    /// replies still missing (the `SloppyQuorum` mistake).
    pub fn on_stand_in(&mut self, ctx: &mut Ctx<'_, DedupNode>, number: RequestNumber) {
        let Some(request) = self.requests.get_mut(&number) else {
            return;
        };
        request.helper = None;
        let write_quorum = self.protocol.write_quorum;
        let (counted, stand_ins_asked) = match &mut request.phase {
            Phase::Read { .. } => return,
            Phase::Repair {
                holders,
                stand_ins_asked,
            } => (holders.len(), stand_ins_asked),
            Phase::Write {
                owners,
                stand_ins_asked,
                ..
            } => (owners.len(), stand_ins_asked),
        };
        let missing = write_quorum.saturating_sub(counted);
        let stand_ins = request.targets.stand_ins();
        let ask = missing.min(stand_ins.len() - *stand_ins_asked);
        for &replica in &stand_ins[*stand_ins_asked..*stand_ins_asked + ask] {
            let (x, owner) = (request.x, request.claim);
            ctx.send(
                replica,
                Msg::Add {
                    request: number,
                    x,
                    owner,
                },
            );
        }
        *stand_ins_asked += ask;
        if let Some(after) = self.protocol.stand_in_after
            && *stand_ins_asked < stand_ins.len()
        {
            request.helper = Some(ctx.set_timer(after, Timer::StandIn { request: number }));
        }
    }

    /// The request ran out of time: its outcome is unknown.
    pub fn on_deadline(
        &mut self,
        ctx: &mut Ctx<'_, DedupNode>,
        number: RequestNumber,
    ) -> Option<Finished> {
        let request = self.requests.remove(&number)?;
        if let Some(helper) = request.helper {
            ctx.cancel_timer(helper);
        }
        ctx.complete(request.op, Outcome::Info);
        Some(Finished {
            slot: request.slot,
            x: request.x,
            timed_out: true,
        })
    }

    /// Answers the request if its phase has heard enough.
    fn finish_if_done(
        &mut self,
        ctx: &mut Ctx<'_, DedupNode>,
        number: RequestNumber,
    ) -> Option<Finished> {
        let write_quorum = self.protocol.write_quorum;
        let request = self.requests.get(&number)?;
        let answer = match &request.phase {
            Phase::Repair { holders, .. } if holders.len() >= write_quorum => true,
            Phase::Write {
                owners,
                asked,
                stand_ins_asked,
            } => {
                let heard = owners.iter().map(|&(_, owner)| owner);
                let replicas = request.targets.preferred().len() + stand_ins_asked;
                match ownership::decide(request.me, heard, write_quorum, replicas) {
                    Some(answer) => answer,
                    None => {
                        // Every replica asked answered and who was first is
                        // still open: ask the rest of the preference list.
                        let heard_all = owners.len() >= *asked;
                        if heard_all && *asked < request.targets.write_order().len() {
                            let request = self.requests.get_mut(&number).expect("found");
                            request.extend_write(ctx, number, usize::MAX);
                        }
                        return None;
                    }
                }
            }
            _ => return None,
        };
        let request = self.requests.remove(&number).expect("just found");
        ctx.cancel_timer(request.deadline);
        if let Some(helper) = request.helper {
            ctx.cancel_timer(helper);
        }
        ctx.complete(request.op, Outcome::Ok(answer));
        Some(Finished {
            slot: request.slot,
            x: request.x,
            timed_out: false,
        })
    }
}

impl Request {
    /// Asks up to `more` further replicas of the write order to add X,
    /// claimed for this request.
    fn extend_write(&mut self, ctx: &mut Ctx<'_, DedupNode>, number: RequestNumber, more: usize) {
        let Phase::Write { asked, .. } = &mut self.phase else {
            return;
        };
        let from = *asked;
        let to = from.saturating_add(more).min(self.targets.write_order().len());
        *asked = to;
        for index in from..to {
            let replica = self.targets.write_order()[index];
            self.add_to(ctx, number, replica);
        }
    }

    fn add_to(&self, ctx: &mut Ctx<'_, DedupNode>, number: RequestNumber, replica: NodeId) {
        let (x, owner) = (self.x, self.claim);
        ctx.send(
            replica,
            Msg::Add {
                request: number,
                x,
                owner,
            },
        );
    }

    /// Starts the phase just set: a repair adds X on every replica of the
    /// preference list not already known to hold it, a write phase on the
    /// first replicas of the write order (W of them, or all).
    fn begin_adding(&mut self, ctx: &mut Ctx<'_, DedupNode>, protocol: &Protocol, number: RequestNumber) {
        if let Some(helper) = self.helper.take() {
            ctx.cancel_timer(helper);
        }
        let writing = matches!(self.phase, Phase::Write { .. });
        if let Phase::Repair { holders, .. } = &self.phase {
            ctx.reached(super::READ_REPAIR);
            for &replica in self.targets.preferred() {
                if !holders.contains(&replica) {
                    self.add_to(ctx, number, replica);
                }
            }
        }
        if writing {
            let first = match protocol.write_fan_out {
                WriteFanOut::Quorum => protocol.write_quorum,
                WriteFanOut::PreferenceList => usize::MAX,
            };
            self.extend_write(ctx, number, first);
        }
        if let Some(after) = protocol.stand_in_after
            && !self.targets.stand_ins().is_empty()
        {
            self.helper = Some(ctx.set_timer(after, Timer::StandIn { request: number }));
        } else if writing
            && let Some(after) = protocol.hedge_after
            && protocol.write_fan_out == WriteFanOut::Quorum
        {
            self.helper = Some(ctx.set_timer(after, Timer::Hedge { request: number }));
        }
    }
}
