//! A user at the box office (`workload.rs` says how users behave). It
//! reads the seat map from any app server, picks seats the map shows
//! free, holds them, and pays; it starts over when a hold is refused or a
//! payment fails, until it has tried `attempts` times. Every request goes
//! to a random app server and is sent again, to another, if unanswered.

use std::sync::Arc;
use std::time::Duration;

use sim_core::{Ctx, NodeId, OpId, Outcome, TimerId};

use super::BookingConfig;
use super::ledger::{FreeSeats, OrderId, Seats};
use super::msg::Msg;
use super::node::{BookingDisk, BookingNode, Timer, UserDisk};
use super::workload::{Op, Ret};
use super::Layout;

#[derive(Debug)]
pub struct User {
    id: NodeId,
    config: Arc<BookingConfig>,
    layout: Layout,
    attempt: u32,
    next_request: u64,
    /// The request in flight: its number, the message (to send again),
    /// its operation, and its timers.
    current: Option<Current>,
    /// An order held and about to be paid.
    held: Option<OrderId>,
    done: bool,
    picking: Picking,
}

/// Room for picking seats, kept between picks so a pick allocates only
/// the seats it sends.
#[derive(Debug, Default)]
struct Picking {
    /// For `SimRng::shuffled_prefix`.
    moved: Vec<(usize, usize)>,
    /// The picked seats' ranks among the free, then the seats.
    ranks: Vec<u16>,
}

#[derive(Debug)]
struct Current {
    request: u64,
    msg: Msg,
    op: Option<OpId>,
    retry: TimerId,
    give_up: Option<TimerId>,
}

impl User {
    pub fn new(id: NodeId, disk: &UserDisk) -> User {
        User {
            id,
            layout: Layout::of(&disk.config),
            config: Arc::clone(&disk.config),
            attempt: 0,
            next_request: 0,
            current: None,
            held: None,
            done: false,
            picking: Picking::default(),
        }
    }

    fn boot(ctx: &mut Ctx<'_, BookingNode>) -> u32 {
        match ctx.durable() {
            BookingDisk::User(disk) => disk.boots,
            _ => 0,
        }
    }

    pub fn on_start(&mut self, ctx: &mut Ctx<'_, BookingNode>) {
        if let BookingDisk::User(disk) = ctx.durable() {
            disk.boots += 1;
            self.next_request = u64::from(disk.boots) << 32;
        }
        let spread = self.config.workload.arrive_over_ms.saturating_mul(1_000_000);
        let at = ctx.rng().below(spread.max(1));
        ctx.set_timer(Duration::from_nanos(at), Timer::Arrive);
    }

    fn think(&mut self, ctx: &mut Ctx<'_, BookingNode>) {
        let mean = self.config.workload.think_ms.saturating_mul(1_000_000);
        let pause = ctx.rng().exponential(mean);
        ctx.set_timer(Duration::from_nanos(pause), Timer::Next);
    }

    /// Sends a request to a random app server, with its timers.
    fn ask(&mut self, ctx: &mut Ctx<'_, BookingNode>, build: impl FnOnce(u64) -> Msg, op: Option<(Op, u64)>) {
        let request = self.next_request;
        self.next_request += 1;
        let msg = build(request);
        let (op, give_up) = match op {
            Some((op, timeout_ms)) => {
                let id = ctx.invoke(op);
                let timer = ctx.set_timer(Duration::from_millis(timeout_ms), Timer::GiveUp { request });
                (Some(id), Some(timer))
            }
            None => (None, None),
        };
        let retry = self.send(ctx, request, &msg);
        self.current = Some(Current { request, msg, op, retry, give_up });
    }

    fn send(&mut self, ctx: &mut Ctx<'_, BookingNode>, request: u64, msg: &Msg) -> TimerId {
        let app = self.layout.app(ctx.rng().below(u64::from(self.layout.apps)) as u32);
        ctx.send(app, msg.clone());
        let after = Duration::from_millis(self.config.workload.request_timeout_ms);
        ctx.set_timer(after, Timer::Retry { request })
    }

    /// Ends the current request with `outcome` (if it is an operation).
    fn end(&mut self, ctx: &mut Ctx<'_, BookingNode>, outcome: Outcome<Ret>) {
        if let Some(current) = self.current.take() {
            ctx.cancel_timer(current.retry);
            if let Some(timer) = current.give_up {
                ctx.cancel_timer(timer);
            }
            if let Some(op) = current.op {
                ctx.complete(op, outcome);
            }
        }
    }

    /// Starts over from the seat map, if it has tries left.
    fn again(&mut self, ctx: &mut Ctx<'_, BookingNode>) {
        self.attempt += 1;
        self.held = None;
        if self.attempt < self.config.workload.attempts {
            self.think(ctx);
        } else {
            self.done = true;
        }
    }

    fn view(&mut self, ctx: &mut Ctx<'_, BookingNode>) {
        self.ask(ctx, |request| Msg::GetMap { request }, None);
    }

    fn answers(&self, request: u64) -> bool {
        self.current.as_ref().is_some_and(|c| c.request == request)
    }

    pub fn on_message(&mut self, ctx: &mut Ctx<'_, BookingNode>, msg: Msg) {
        match msg {
            Msg::Map { request, free, zone_left, .. } if self.answers(request) => {
                self.end(ctx, Outcome::Info);
                self.choose(ctx, &free, zone_left);
            }
            Msg::Held { request, order } if self.answers(request) => {
                self.end(ctx, Outcome::Ok(Ret::Held));
                if ctx.rng().chance(self.config.workload.pay_per_million) {
                    self.held = Some(order);
                    self.think(ctx);
                } else {
                    self.done = true; // walks away; the hold expires
                }
            }
            Msg::Refused { request, .. } if self.answers(request) => {
                self.end(ctx, Outcome::Fail);
                self.again(ctx);
            }
            Msg::Paid { request, ticket } if self.answers(request) => {
                self.end(ctx, Outcome::Ok(Ret::Ticket(ticket)));
                self.done = true;
            }
            Msg::PayFailed { request, .. } if self.answers(request) => {
                self.end(ctx, Outcome::Fail);
                self.again(ctx);
            }
            Msg::TryLater { request } if self.answers(request) => {
                // Not now: the retry timer asks again.
            }
            _ => {}
        }
    }

    /// Picks what to hold from the map: zone places now and then, else up
    /// to `max_seats` seats it shows free.
    fn choose(&mut self, ctx: &mut Ctx<'_, BookingNode>, free: &[u64], zone_left: u32) {
        let workload = &self.config.workload;
        let want = 1 + ctx.rng().below(u64::from(workload.max_seats)) as u32;
        let free = FreeSeats::new(free, self.config.seats);
        let free_count = free.count();
        let zone_first = ctx.rng().chance(workload.zone_per_million) || free_count == 0;
        let (seats, zone) = if zone_first && zone_left > 0 {
            (Seats::default(), want.min(zone_left))
        } else if free_count == 0 {
            self.done = true; // sold out, as far as the map says
            return;
        } else {
            // `want` of the free seats at random, in seat order: their
            // ranks among the free, then the seats at those ranks.
            let Picking { moved, ranks } = &mut self.picking;
            ranks.clear();
            ctx.rng().shuffled_prefix(want as usize, free_count, moved, |rank| ranks.push(rank as u16));
            ranks.sort_unstable();
            free.at_ranks(ranks);
            (Seats::from(&ranks[..]), 0)
        };
        let boot = Self::boot(ctx);
        let user = self.id.0 - self.layout.user(0).0;
        let order = OrderId::new(user, boot, self.attempt);
        let op = Op::Hold { order, seats: seats.clone(), zone };
        let timeout = self.config.workload.hold_timeout_ms;
        self.ask(ctx, |request| Msg::Hold { request, order, seats, zone }, Some((op, timeout)));
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, BookingNode>, timer: Timer) {
        match timer {
            Timer::Arrive => self.view(ctx),
            Timer::Next if !self.done => match self.held {
                Some(order) => {
                    let timeout = self.config.workload.pay_timeout_ms;
                    self.ask(ctx, |request| Msg::Pay { request, order }, Some((Op::Pay { order }, timeout)));
                }
                None => self.view(ctx),
            },
            Timer::Retry { request } if self.answers(request) => {
                if let Some(current) = self.current.take() {
                    let retry = self.send(ctx, request, &current.msg);
                    self.current = Some(Current { retry, ..current });
                }
            }
            Timer::GiveUp { request } if self.answers(request) => {
                let paying = matches!(self.current.as_ref().map(|c| &c.msg), Some(Msg::Pay { .. }));
                self.end(ctx, Outcome::Info);
                if paying {
                    self.done = true; // it does not know, and stops
                } else {
                    self.again(ctx);
                }
            }
            _ => {}
        }
    }
}
