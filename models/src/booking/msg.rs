//! What the nodes say to each other.
//!
//! Users talk to app servers (datagrams: requests carry a number, users
//! retry). App servers hold a connection to the store's leader and send it
//! transactions; the leader holds a connection to each follower and
//! streams its journal. The leader tells the controller it is alive; the
//! controller promotes a new leader when it is not, and tells everyone.
//! App servers talk to the payment provider with datagrams, each charge
//! keyed by its order (so a repeated charge is the same charge).

use serde::Serialize;

use super::ledger::{Conflict, Entry, Ledger, OrderId, OrderState, Seats};

/// What a user holds once it has paid.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Ticket {
    pub order: OrderId,
    pub seats: Seats,
    pub zone: u32,
}

/// A transaction an app server asks the store leader for.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub enum Tx {
    /// Hold these seats and zone places if every one is free: one
    /// conditional update. A repeated hold of one order answers with the
    /// order as it is.
    Hold {
        order: OrderId,
        user: sim_core::NodeId,
        seats: Seats,
        zone: u32,
    },
    /// `CheckThenWrite`, `ZoneNotAtomic`: are these free now?
    Check { seats: Seats, zone: u32 },
    /// `CheckThenWrite`, `ZoneNotAtomic`: hold them, no questions asked.
    HoldUnchecked {
        order: OrderId,
        user: sim_core::NodeId,
        seats: Seats,
        zone: u32,
    },
    /// Begin paying for a held order that has not expired.
    StartPaying { order: OrderId },
    /// Mark a paying order paid, if it has not expired.
    Confirm { order: OrderId },
    /// `SkewedExpiry`: mark it paid, no questions asked.
    ForceConfirm { order: OrderId },
    Release { order: OrderId },
    Refunded { order: OrderId },
    /// Orders paying for longer than this, in ns of the leader's clock.
    ListStuck { longer_than_ns: i64 },
    /// The committed journal after `offset` (with a snapshot if that is
    /// shorter).
    JournalSince { offset: u64 },
}

/// The leader's answer.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub enum TxOutcome {
    /// Held until `expires_ns` (leader's clock).
    Held { expires_ns: i64 },
    Refused(Conflict),
    /// `Check`'s answer: the first conflict, if any.
    Checked(Option<Conflict>),
    /// The order as it now is.
    Order {
        state: OrderState,
        seats: Seats,
        zone: u32,
        expires_ns: i64,
        paying_since_ns: Option<i64>,
    },
    NoSuchOrder,
    /// `StartPaying` moved the order from held to paying: this caller
    /// runs the payment.
    StartedPaying {
        seats: Seats,
        zone: u32,
        expires_ns: i64,
    },
    /// `Confirm` too late: it expired.
    Expired,
    Stuck(Vec<OrderId>),
    Journal {
        snapshot: Option<Box<Ledger>>,
        entries: Vec<Entry>,
        head: u64,
        /// How long before answering a majority last vouched for this
        /// leader (on its lease clock): the map holds everything committed
        /// before then. None if it cannot vouch at all.
        vouched_ago_ns: Option<u64>,
    },
    /// This node is not the leader (any more).
    NotLeader,
}

/// How a charge stands at the provider.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub enum ChargeStatus {
    Charged,
    Declined,
    Refunded,
    /// Never seen, and now never will be: a later charge is declined.
    Voided,
    /// Never seen (a query without `void`).
    Unknown,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub enum Msg {
    // Users and app servers.
    GetMap { request: u64 },
    /// The free seats (bits), zone places left, the journal offset the map
    /// is at, and whether it was brought up to date recently enough to be
    /// called current.
    Map {
        request: u64,
        free: Vec<u64>,
        zone_left: u32,
        offset: u64,
        current: bool,
    },
    Hold {
        request: u64,
        order: OrderId,
        seats: Seats,
        zone: u32,
    },
    /// Held; the user is told it has `hold_ms` to pay.
    Held { request: u64, order: OrderId },
    Refused { request: u64, order: OrderId },
    Pay { request: u64, order: OrderId },
    Paid { request: u64, ticket: Ticket },
    /// Not paid: declined, expired, or charged too late and refunded.
    PayFailed {
        request: u64,
        order: OrderId,
        refunded: bool,
    },
    /// The store cannot take changes now (failing over): try again later.
    TryLater { request: u64 },

    // App servers and the store.
    Tx { id: u64, tx: Tx },
    TxDone { id: u64, outcome: TxOutcome },

    // Among the stores (on the leader's connections).
    /// Entry number `index` of the journal, from the leader of `epoch`.
    Append { epoch: u64, index: u64, entry: Entry },
    /// The follower has the journal up to `len`; `ping` echoes the last
    /// heartbeat it had.
    Acked { epoch: u64, len: u64, ping: u64 },
    /// The leader's journal from `from` on: the follower drops what it
    /// has from there and takes this. Empty, it is the leader's heartbeat,
    /// stamped `ping` on the leader's lease clock.
    Sync {
        epoch: u64,
        from: u64,
        entries: Vec<Entry>,
        ping: u64,
    },
    /// A follower has promised a newer epoch: the sender is no leader.
    Fenced { epoch: u64 },

    // The controller.
    Heartbeat { epoch: u64 },
    /// Failing over to `epoch`: promise to follow no older leader, and
    /// say how long your journal is.
    Prepare { epoch: u64 },
    /// Promised; its journal is a copy of `log_epoch`'s and `len` long.
    Prepared { epoch: u64, log_epoch: u64, len: u64 },
    Promote { epoch: u64 },
    /// The leader of `epoch` is `leader`.
    Leader { epoch: u64, leader: sim_core::NodeId },
    WhoLeads,

    // App servers and the payment provider.
    Charge { key: OrderId },
    /// `Query`: and if you never saw this charge, make sure you never do.
    Query { key: OrderId, void: bool },
    Refund { key: OrderId },
    ChargeState { key: OrderId, status: ChargeStatus },
}
