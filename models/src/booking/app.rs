//! An app server: stateless, so any of them can take any request and any
//! may die between two steps. It holds a connection to the store leader
//! (found from the controller) and turns users' requests into
//! transactions.
//!
//! - A hold is one conditional transaction (`CheckThenWrite` and
//!   `ZoneNotAtomic` split it into a check and a blind write).
//! - A payment is a flow. It starts paying in the store (only a held,
//!   unexpired order can), charges the provider under a deadline, and then
//!   confirms in the store (only an unexpired order can be paid). A charge
//!   that lands too late is refunded. A declined one releases the order.
//!   On the deadline it asks the provider how the charge stands, voiding
//!   it if the provider never saw it, because a timeout is not "not
//!   charged".
//! - Every `reconcile_ms` it asks the store for orders paying far longer
//!   than a deadline, left by an app server that died, and finishes them
//!   the same way.
//! - Its seat map is a view of the store's journal. It starts from the
//!   leader's snapshot and is brought up to date every `map_refresh_ms`.
//!   It is served as current only if brought up to date within
//!   `map_fresh_ms`; otherwise as stale, which is what users read while
//!   the store fails over.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use sim_core::{ConnEvent, ConnId, Ctx, MonotonicTime, NodeId};

use super::ledger::{Ledger, OrderId, OrderState, SeatMap, Seats};
use super::msg::{ChargeStatus, Msg, Ticket, Tx, TxOutcome};
use super::node::{BookingNode, Timer};
use super::{BookingConfig, Layout, Variant, labels};

#[derive(Debug)]
pub struct App {
    config: Arc<BookingConfig>,
    layout: Layout,
    leader: Option<(u64, NodeId)>,
    conn: Option<(ConnId, bool)>,
    next_tx: u64,
    txs: BTreeMap<u64, Waiting>,
    pays: BTreeMap<OrderId, Pay>,
    view: Ledger,
    /// The last seat map computed from `view`, while `view` is unchanged:
    /// maps are asked for far more often than the journal moves.
    map_cache: Option<SeatMap>,
    view_fresh: Option<MonotonicTime>,
    /// A refresh in flight, and when it was sent: the map it brings is
    /// at least that fresh.
    refreshing: Option<MonotonicTime>,
    /// Maps served so far, and the last one's offset and whether it was
    /// served as current (the freshness check reads these).
    pub served: (u64, u64, bool),
}

/// What a transaction in flight is for.
#[derive(Debug)]
enum Waiting {
    Hold { user: NodeId, request: u64, order: OrderId },
    /// The check of a check-then-write; the write follows.
    Check { user: NodeId, request: u64, order: OrderId, seats: Seats, zone: u32 },
    /// A step of this order's payment.
    Pay { order: OrderId },
    Reconcile,
    Journal,
}

/// A payment this app server runs.
#[derive(Debug)]
struct Pay {
    /// Who to tell (none for one found by reconciling).
    user: Option<(NodeId, u64)>,
    step: Step,
    attempt: u32,
    seats: Seats,
    zone: u32,
    expires_ns: i64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Step {
    Starting,
    /// Waiting for the provider (a charge, or a query after a deadline).
    Charging,
    Confirming,
    Refunding,
    MarkingRefunded,
    Releasing,
}

impl App {
    pub fn new(_id: NodeId, config: &Arc<BookingConfig>) -> App {
        App {
            layout: Layout::of(config),
            view: config.ledger(),
            map_cache: None,
            config: Arc::clone(config),
            leader: None,
            conn: None,
            next_tx: 0,
            txs: BTreeMap::new(),
            pays: BTreeMap::new(),
            view_fresh: None,
            refreshing: None,
            served: (0, 0, false),
        }
    }

    pub fn on_start(&mut self, ctx: &mut Ctx<'_, BookingNode>) {
        ctx.send(self.layout.controller(), Msg::WhoLeads);
        ctx.set_timer(Duration::from_millis(self.config.map_refresh_ms), Timer::MapRefresh);
        ctx.set_timer(Duration::from_millis(self.config.reconcile_ms), Timer::Reconcile);
    }

    fn reconciles(&self) -> bool {
        // Without a deadline nobody knows when to give up on a payment.
        !matches!(self.config.variant, Variant::NoReconcile | Variant::NoPaymentDeadline)
    }

    /// Sends a transaction; false if the leader is out of reach now.
    fn tx(&mut self, ctx: &mut Ctx<'_, BookingNode>, tx: Tx, waiting: Waiting) -> bool {
        let Some((conn, true)) = self.conn else {
            return false;
        };
        let id = self.next_tx;
        self.next_tx += 1;
        if !ctx.send_on(conn, Msg::Tx { id, tx }) {
            return false;
        }
        self.txs.insert(id, waiting);
        true
    }

    fn connect(&mut self, ctx: &mut Ctx<'_, BookingNode>) {
        if let Some((conn, _)) = self.conn.take() {
            ctx.close(conn);
        }
        if let Some((_, leader)) = self.leader {
            self.conn = Some((ctx.connect(leader), false));
        }
    }

    /// The connection is gone, or leads nowhere: whatever was in flight on
    /// it is forgotten (payments resume on the next one), and the
    /// controller is asked who leads now.
    fn lost_leader(&mut self, ctx: &mut Ctx<'_, BookingNode>) {
        if let Some((conn, _)) = self.conn.take() {
            ctx.close(conn);
        }
        self.txs.clear();
        self.refreshing = None;
        ctx.send(self.layout.controller(), Msg::WhoLeads);
        ctx.set_timer(Duration::from_millis(self.config.heartbeat_ms), Timer::Reconnect);
    }

    pub fn on_connection(&mut self, ctx: &mut Ctx<'_, BookingNode>, conn: ConnId, event: ConnEvent<Msg>) {
        if self.conn.map(|(c, _)| c) != Some(conn) {
            return;
        }
        match event {
            ConnEvent::Opened { .. } => {
                self.conn = Some((conn, true));
                // Payments that lost a step with the last connection go on.
                let orders: Vec<OrderId> = self.pays.keys().copied().collect();
                for order in orders {
                    self.resume(ctx, order);
                }
            }
            ConnEvent::Closed(_) => {
                self.conn = None;
                self.lost_leader(ctx);
            }
            ConnEvent::Message(Msg::TxDone { id, outcome }) => {
                if let Some(waiting) = self.txs.remove(&id) {
                    let deposed = outcome == TxOutcome::NotLeader;
                    self.on_outcome(ctx, waiting, outcome);
                    if deposed {
                        self.lost_leader(ctx);
                    }
                }
            }
            _ => {}
        }
    }

    pub fn on_message(&mut self, ctx: &mut Ctx<'_, BookingNode>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Leader { epoch, leader } => {
                let newer = self.leader.is_none_or(|(e, n)| epoch > e || (epoch == e && n != leader));
                if newer {
                    self.leader = Some((epoch, leader));
                    self.connect(ctx);
                } else if self.conn.is_none() {
                    self.connect(ctx);
                }
            }
            Msg::GetMap { request } => self.serve_map(ctx, from, request),
            Msg::Hold { request, order, seats, zone } => self.hold(ctx, from, request, order, seats, zone),
            Msg::Pay { request, order } => self.pay(ctx, from, request, order),
            Msg::ChargeState { key, status } => self.on_charge_state(ctx, key, status),
            _ => {}
        }
    }

    // The seat map.

    fn serve_map(&mut self, ctx: &mut Ctx<'_, BookingNode>, user: NodeId, request: u64) {
        let now = ctx.now().as_nanos();
        let fresh_for = Duration::from_millis(self.config.map_fresh_ms);
        let current = self.view_fresh.is_some_and(|at| ctx.monotonic().since(at) < fresh_for);
        let offset = self.view.offset;
        self.served = (self.served.0 + 1, offset, current);
        if !current {
            ctx.reached(labels::STALE_MAP_SERVED);
        }
        ctx.count("maps_served", 1);
        let map = match self.map_cache.take().filter(|m| m.holds_at(now)) {
            Some(map) => map,
            None => self.view.free_seats_window(now),
        };
        let zone_left = self.view.zone_capacity.saturating_sub(map.zone_used);
        let free = map.bits.clone();
        self.map_cache = Some(map);
        ctx.send(user, Msg::Map { request, free, zone_left, offset, current });
    }

    fn refresh_map(&mut self, ctx: &mut Ctx<'_, BookingNode>) {
        if self.refreshing.is_some() {
            return;
        }
        let offset = self.view.offset;
        let sent = ctx.monotonic();
        if self.tx(ctx, Tx::JournalSince { offset }, Waiting::Journal) {
            self.refreshing = Some(sent);
        }
    }

    // Holds.

    fn hold(&mut self, ctx: &mut Ctx<'_, BookingNode>, user: NodeId, request: u64, order: OrderId, seats: Seats, zone: u32) {
        let split = match self.config.variant {
            Variant::CheckThenWrite => true,
            Variant::ZoneNotAtomic => zone > 0,
            _ => false,
        };
        let sent = if split {
            // The mistake: ask, then write what the answer allowed.
            let check = Tx::Check { seats: seats.clone(), zone };
            self.tx(ctx, check, Waiting::Check { user, request, order, seats, zone })
        } else {
            let hold = Tx::Hold { order, user, seats, zone };
            self.tx(ctx, hold, Waiting::Hold { user, request, order })
        };
        if !sent {
            ctx.send(user, Msg::TryLater { request });
        }
    }

    fn on_outcome(&mut self, ctx: &mut Ctx<'_, BookingNode>, waiting: Waiting, outcome: TxOutcome) {
        match waiting {
            Waiting::Hold { user, request, order } => {
                let answer = match outcome {
                    TxOutcome::Held { .. } => Msg::Held { request, order },
                    TxOutcome::Order { state, .. } if state != OrderState::Released && state != OrderState::Refunded => {
                        Msg::Held { request, order }
                    }
                    TxOutcome::NotLeader => Msg::TryLater { request },
                    _ => Msg::Refused { request, order },
                };
                ctx.send(user, answer);
            }
            Waiting::Check { user, request, order, seats, zone } => match outcome {
                TxOutcome::Checked(None) => {
                    let write = Tx::HoldUnchecked { order, user, seats, zone };
                    if !self.tx(ctx, write, Waiting::Hold { user, request, order }) {
                        ctx.send(user, Msg::TryLater { request });
                    }
                }
                TxOutcome::NotLeader => {
                    ctx.send(user, Msg::TryLater { request });
                }
                _ => {
                    ctx.send(user, Msg::Refused { request, order });
                }
            },
            Waiting::Pay { order } => self.on_pay_outcome(ctx, order, outcome),
            Waiting::Reconcile => {
                if let TxOutcome::Stuck(orders) = outcome {
                    for order in orders {
                        if self.pays.contains_key(&order) {
                            // Ours, and slow: its step may have been lost
                            // (a store that answered and then failed over).
                            self.resume(ctx, order);
                            continue;
                        }
                        ctx.count("reconciled", 1);
                        ctx.reached(labels::PAYMENT_RECONCILED);
                        self.pays.insert(
                            order,
                            Pay {
                                user: None,
                                step: Step::Charging,
                                attempt: 0,
                                seats: Seats::default(),
                                zone: 0,
                                expires_ns: 0,
                            },
                        );
                        self.query(ctx, order);
                    }
                }
            }
            Waiting::Journal => {
                let sent = self.refreshing.take();
                if let TxOutcome::Journal { snapshot, entries, head, vouched_ago_ns } = outcome {
                    if let Some(snapshot) = snapshot {
                        self.view = *snapshot;
                        self.map_cache = None;
                    }
                    for entry in entries.iter().skip(self.view.offset.saturating_sub(head - entries.len() as u64) as usize) {
                        self.view.apply(entry);
                        self.map_cache = None;
                    }
                    // As fresh as the moment the leader was last vouched
                    // for, counted back from when the refresh was sent (the
                    // leader answered later than that). A percent more, for
                    // the two clocks' drift.
                    let vouched = sent
                        .zip(vouched_ago_ns)
                        .and_then(|(sent, ago)| sent.as_nanos().checked_sub(ago.saturating_add(ago / 100)));
                    if let Some(at) = vouched.map(MonotonicTime::from_nanos) {
                        self.view_fresh = self.view_fresh.max(Some(at));
                    }
                }
            }
        }
    }

    // Payments.

    fn pay(&mut self, ctx: &mut Ctx<'_, BookingNode>, user: NodeId, request: u64, order: OrderId) {
        if let Some(pay) = self.pays.get_mut(&order) {
            pay.user = Some((user, request)); // it will hear when it is done
            return;
        }
        self.pays.insert(
            order,
            Pay {
                user: Some((user, request)),
                step: Step::Starting,
                attempt: 0,
                seats: Seats::default(),
                zone: 0,
                expires_ns: 0,
            },
        );
        if !self.tx(ctx, Tx::StartPaying { order }, Waiting::Pay { order }) {
            self.pays.remove(&order);
            ctx.send(user, Msg::TryLater { request });
        }
    }

    /// Sends the transaction of the step a payment is at again (after a
    /// lost connection).
    fn resume(&mut self, ctx: &mut Ctx<'_, BookingNode>, order: OrderId) {
        let Some(pay) = self.pays.get(&order) else {
            return;
        };
        let tx = match pay.step {
            Step::Starting => Tx::StartPaying { order },
            Step::Confirming => self.confirm_tx(ctx, order, pay.expires_ns),
            Step::MarkingRefunded => Tx::Refunded { order },
            Step::Releasing => Tx::Release { order },
            Step::Charging | Step::Refunding => return, // with the provider, under a deadline
        };
        self.tx(ctx, tx, Waiting::Pay { order });
    }

    fn charge(&mut self, ctx: &mut Ctx<'_, BookingNode>, order: OrderId) {
        ctx.count("charges", 1);
        // Without a deadline nobody ever stops waiting.
        let deadline = self.config.variant != Variant::NoPaymentDeadline;
        self.ask_provider(ctx, order, Step::Charging, Msg::Charge { key: order }, deadline);
    }

    /// Asks the provider how the charge stands, voiding it if it never
    /// saw it: after this, a late charge cannot happen.
    fn query(&mut self, ctx: &mut Ctx<'_, BookingNode>, order: OrderId) {
        self.ask_provider(ctx, order, Step::Charging, Msg::Query { key: order, void: true }, true);
    }

    /// Asks the provider to give the money back, under a deadline: a
    /// refund whose answer is lost is asked for again (the provider
    /// refunds a key once).
    fn refund(&mut self, ctx: &mut Ctx<'_, BookingNode>, order: OrderId) {
        self.ask_provider(ctx, order, Step::Refunding, Msg::Refund { key: order }, true);
    }

    /// Moves the payment to `step` and sends `msg` to the provider, with
    /// a deadline for its answer (a new attempt: answers to older ones
    /// and their deadlines no longer count).
    fn ask_provider(&mut self, ctx: &mut Ctx<'_, BookingNode>, order: OrderId, step: Step, msg: Msg, deadline: bool) {
        let Some(pay) = self.pays.get_mut(&order) else {
            return;
        };
        pay.step = step;
        pay.attempt += 1;
        let attempt = pay.attempt;
        ctx.send(self.layout.provider(), msg);
        if deadline {
            let after = Duration::from_millis(self.config.payment_deadline_ms);
            ctx.set_timer(after, Timer::PaymentDeadline { order, attempt });
        }
    }

    fn step(&mut self, ctx: &mut Ctx<'_, BookingNode>, order: OrderId, step: Step, tx: Tx) {
        if let Some(pay) = self.pays.get_mut(&order) {
            pay.step = step;
        }
        // Out of reach: `resume` sends it once the connection is back.
        self.tx(ctx, tx, Waiting::Pay { order });
    }

    /// The payment is over: tell the user, if there is one.
    fn finish(&mut self, ctx: &mut Ctx<'_, BookingNode>, order: OrderId, answer: impl FnOnce(u64) -> Msg) {
        if let Some(Pay { user: Some((user, request)), .. }) = self.pays.remove(&order) {
            ctx.send(user, answer(request));
        }
    }

    fn on_pay_outcome(&mut self, ctx: &mut Ctx<'_, BookingNode>, order: OrderId, outcome: TxOutcome) {
        let Some(step) = self.pays.get(&order).map(|p| p.step) else {
            return;
        };
        match (step, outcome) {
            (_, TxOutcome::NotLeader) => {} // resumed on the next connection
            (Step::Starting, TxOutcome::StartedPaying { seats, zone, expires_ns }) => {
                if let Some(pay) = self.pays.get_mut(&order) {
                    (pay.seats, pay.zone, pay.expires_ns) = (seats, zone, expires_ns);
                }
                self.charge(ctx, order);
            }
            (Step::Starting, TxOutcome::Order { state: OrderState::Paying, seats, zone, expires_ns, .. }) => {
                if !self.reconciles() {
                    // The mistake: "someone is on it". Without a deadline
                    // (or with nobody taking over a dead server's
                    // payments) nobody ever is again.
                    let user = self.pays.remove(&order).and_then(|p| p.user);
                    if let Some((user, request)) = user {
                        ctx.send(user, Msg::TryLater { request });
                    }
                    return;
                }
                if let Some(pay) = self.pays.get_mut(&order) {
                    (pay.seats, pay.zone, pay.expires_ns) = (seats, zone, expires_ns);
                }
                // Another server may be on it: the same key is the same
                // charge, so charging again is safe.
                self.charge(ctx, order);
            }
            (_, TxOutcome::Order { state: OrderState::Paid, seats, zone, .. }) => {
                ctx.count("tickets", 1);
                self.finish(ctx, order, |request| Msg::Paid {
                    request,
                    ticket: Ticket { order, seats, zone },
                });
            }
            (Step::Confirming, TxOutcome::Expired) => {
                // Charged too late: the seats may be someone else's now.
                ctx.reached(labels::LATE_PAYMENT_REFUNDED);
                self.refund(ctx, order);
            }
            (Step::Confirming, TxOutcome::Order { .. } | TxOutcome::NoSuchOrder) => {
                // Charged, but the order is gone (released elsewhere, or
                // lost with a store that failed over): give the money back.
                self.refund(ctx, order);
            }
            (Step::MarkingRefunded, TxOutcome::Order { .. }) => {
                self.finish(ctx, order, |request| Msg::PayFailed { request, order, refunded: true });
            }
            (_, TxOutcome::Order { state: OrderState::Refunded, .. }) => {
                self.finish(ctx, order, |request| Msg::PayFailed { request, order, refunded: true });
            }
            (_, _) => {
                self.finish(ctx, order, |request| Msg::PayFailed { request, order, refunded: false });
            }
        }
    }

    /// The transaction that marks a charged order paid: the store judges
    /// whether it still can.
    fn confirm_tx(&self, ctx: &Ctx<'_, BookingNode>, order: OrderId, expires_ns: i64) -> Tx {
        if self.config.variant == Variant::SkewedExpiry && ctx.now().as_nanos() < expires_ns {
            // The mistake: expiry judged by this server's clock, no
            // margin, then written without a condition.
            Tx::ForceConfirm { order }
        } else {
            Tx::Confirm { order }
        }
    }

    fn on_charge_state(&mut self, ctx: &mut Ctx<'_, BookingNode>, order: OrderId, status: ChargeStatus) {
        let Some(pay) = self.pays.get(&order) else {
            return; // a late answer to a payment that is over
        };
        let step = pay.step;
        match (step, status) {
            (Step::Charging, ChargeStatus::Charged) => {
                let confirm = self.confirm_tx(ctx, order, pay.expires_ns);
                self.step(ctx, order, Step::Confirming, confirm);
            }
            (Step::Charging | Step::Refunding, ChargeStatus::Refunded) => {
                self.step(ctx, order, Step::MarkingRefunded, Tx::Refunded { order });
            }
            (
                Step::Charging | Step::Refunding,
                ChargeStatus::Declined | ChargeStatus::Voided | ChargeStatus::Unknown,
            ) => {
                // Nothing was taken (or nothing is left to give back).
                self.step(ctx, order, Step::Releasing, Tx::Release { order });
            }
            _ => {}
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, BookingNode>, timer: Timer) {
        match timer {
            Timer::Reconnect if self.conn.is_none() => self.connect(ctx),
            Timer::MapRefresh => {
                if self.conn.is_none() {
                    // The controller's answer may have been lost.
                    ctx.send(self.layout.controller(), Msg::WhoLeads);
                }
                self.refresh_map(ctx);
                ctx.set_timer(Duration::from_millis(self.config.map_refresh_ms), Timer::MapRefresh);
            }
            Timer::Reconcile => {
                if self.reconciles() {
                    let longer = self.config.payment_deadline_ms.saturating_mul(2) + self.config.reconcile_ms;
                    let longer_than_ns = i64::try_from(longer).unwrap_or(i64::MAX / 1_000_000) * 1_000_000;
                    self.tx(ctx, Tx::ListStuck { longer_than_ns }, Waiting::Reconcile);
                }
                ctx.set_timer(Duration::from_millis(self.config.reconcile_ms), Timer::Reconcile);
            }
            Timer::PaymentDeadline { order, attempt } => {
                let Some(step) = self.pays.get(&order).filter(|p| p.attempt == attempt).map(|p| p.step) else {
                    return;
                };
                if step == Step::Refunding {
                    self.refund(ctx, order);
                    return;
                }
                if step != Step::Charging {
                    return;
                }
                ctx.count("payment_timeouts", 1);
                if self.config.variant == Variant::TimeoutIsNotCharged {
                    // The mistake: no answer taken as "not charged".
                    self.step(ctx, order, Step::Releasing, Tx::Release { order });
                    self.finish(ctx, order, |request| Msg::PayFailed { request, order, refunded: false });
                } else {
                    ctx.reached(labels::DEADLINE_RESOLVED_BY_ASKING);
                    self.query(ctx, order);
                }
            }
            _ => {}
        }
    }
}
