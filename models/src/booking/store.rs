//! A store node: the leader of an epoch, or a follower. The leader runs
//! every transaction against its ledger, judging conditions on its own
//! clock (`transact.rs`), and writes the result as one journal entry. It streams entries
//! to its followers over a connection each, and answers once a majority
//! (itself and enough followers) has the entry: synchronous replication.
//! (`AsyncReplication` answers at once.)
//!
//! Failover is the controller's: it asks every node to promise a newer
//! epoch and say whose journal it holds and how long, and promotes the
//! one of a majority with the newest epoch's journal, the longest of
//! those (as Viewstamped Replication picks its new primary). A node that has promised an epoch refuses entries from any
//! older leader (fencing), so an old leader that is merely cut off cannot
//! commit anything more. Nor can it acknowledge anything more, unless it
//! acknowledges before replicating. A new leader first gives each follower
//! its whole journal, so any entries a follower kept from an old epoch are
//! replaced.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use sim_core::{ConnEvent, ConnId, Ctx, NodeId};

use super::ledger::{Entry, Ledger};
use super::msg::{Msg, Tx, TxOutcome};
use super::node::{BookingDisk, BookingNode, StoreDisk, Timer};
use super::{BookingConfig, Layout, Variant};

#[derive(Debug)]
pub struct Store {
    id: NodeId,
    config: Arc<BookingConfig>,
    layout: Layout,
    ledger: Ledger,
    /// The latest snapshot of the ledger (taken every `snapshot_every`
    /// entries), for seat-map views starting from scratch.
    snapshot: Option<Ledger>,
    leading: Option<Leading>,
}

/// An answer to a transaction, held until it is safe to give.
#[derive(Debug)]
struct Answer {
    /// Once the journal has this many entries committed: what it wrote,
    /// and what it read.
    committed: u64,
    /// Once a majority has echoed a heartbeat sent at or after this (on
    /// the lease clock): for an answer that read without writing, proof
    /// that no newer leader had taken over when it was read.
    echoed: Option<u64>,
    conn: ConnId,
    id: u64,
    outcome: TxOutcome,
}

#[derive(Debug)]
struct Leading {
    epoch: u64,
    /// Per follower: its connection, whether it is up, and how much of the
    /// journal it has acknowledged.
    followers: BTreeMap<NodeId, (ConnId, bool, u64)>,
    /// Entries a majority has.
    committed: u64,
    /// Answers waiting to be safe to give.
    waiting: Vec<Answer>,
    /// A heartbeat sent for answers that read, not yet echoed by a
    /// majority.
    read_ping: Option<u64>,
    /// Per follower: the latest heartbeat it echoed, on the lease clock.
    contact: BTreeMap<NodeId, u64>,
}

impl Leading {
    /// Queues an answer. It waits for at least as much of the journal as
    /// every answer before it (the journal only grows while this node
    /// leads): `release_answers` relies on that order.
    fn wait(&mut self, answer: Answer) {
        debug_assert!(
            self.waiting.last().is_none_or(|last| last.committed <= answer.committed),
            "answers queue in the order of the journal"
        );
        self.waiting.push(answer);
    }
}

impl Store {
    pub fn new(id: NodeId, disk: &StoreDisk) -> Store {
        let config = Arc::clone(&disk.config);
        let mut ledger = config.ledger();
        for entry in &disk.journal {
            ledger.apply(entry);
        }
        Store {
            id,
            layout: Layout::of(&config),
            config,
            ledger,
            snapshot: None,
            leading: None,
        }
    }

    pub fn on_start(&mut self, ctx: &mut Ctx<'_, BookingNode>) {
        let disk = disk(ctx);
        if let Some(epoch) = disk.leads.filter(|&e| e == disk.epoch) {
            self.lead(ctx, epoch);
        }
    }

    /// Leading `epoch`: connect to every follower, and send heartbeats.
    fn lead(&mut self, ctx: &mut Ctx<'_, BookingNode>, epoch: u64) {
        let mut followers = BTreeMap::new();
        for node in self.layout.stores().filter(|&n| n != self.id) {
            let conn = ctx.connect(node);
            followers.insert(node, (conn, false, 0));
        }
        let own = disk(ctx).journal.len() as u64;
        self.leading = Some(Leading {
            epoch,
            followers,
            committed: if self.config.stores == 1 { own } else { 0 },
            waiting: Vec::new(),
            read_ping: None,
            contact: BTreeMap::new(),
        });
        ctx.set_timer(Duration::ZERO, Timer::Heartbeat);
    }

    /// No longer the leader: every answer still waiting is "not leader",
    /// and every connection it held for leading is closed.
    fn step_down(&mut self, ctx: &mut Ctx<'_, BookingNode>) {
        if let Some(leading) = self.leading.take() {
            for (conn, _, _) in leading.followers.values() {
                ctx.close(*conn);
            }
            for Answer { conn, id, .. } in leading.waiting {
                ctx.send_on(conn, Msg::TxDone { id, outcome: TxOutcome::NotLeader });
            }
        }
        disk(ctx).leads = None;
    }

    pub fn on_message(&mut self, ctx: &mut Ctx<'_, BookingNode>, _from: NodeId, msg: Msg) {
        match msg {
            Msg::Prepare { epoch } => {
                // The promise: no entry from an older leader from now on.
                let d = disk(ctx);
                if epoch > d.epoch {
                    d.epoch = epoch;
                    if self.leading.as_ref().is_some_and(|l| l.epoch < epoch) {
                        self.step_down(ctx);
                    }
                }
                let d = disk(ctx);
                let (log_epoch, len) = (d.log_epoch, d.journal.len() as u64);
                ctx.send(self.layout.controller(), Msg::Prepared { epoch, log_epoch, len });
            }
            Msg::Promote { epoch } => {
                let d = disk(ctx);
                if epoch >= d.epoch && self.leading.as_ref().is_none_or(|l| l.epoch < epoch) {
                    d.epoch = epoch;
                    d.leads = Some(epoch);
                    d.log_epoch = epoch;
                    self.step_down_quietly();
                    self.lead(ctx, epoch);
                    if self.ledger.orders.values().any(|o| o.state == super::ledger::OrderState::Paying) {
                        ctx.reached(super::labels::FAILOVER_DURING_PAYMENT);
                    }
                }
            }
            Msg::Leader { epoch, leader } => {
                let d = disk(ctx);
                if epoch > d.epoch {
                    d.epoch = epoch;
                }
                if leader != self.id && self.leading.as_ref().is_some_and(|l| l.epoch < epoch) {
                    self.step_down(ctx);
                }
            }
            _ => {}
        }
    }

    /// Forgets an older leadership about to be replaced by a newer one.
    fn step_down_quietly(&mut self) {
        self.leading = None;
    }

    /// The clock its lease is read from: the monotonic one. (The
    /// `WallClockLease` mistake reads the wall clock, which steps.)
    fn lease_clock(&self, ctx: &Ctx<'_, BookingNode>) -> u64 {
        match self.config.variant {
            Variant::WallClockLease => u64::try_from(ctx.now().as_nanos()).unwrap_or(0),
            _ => ctx.monotonic().as_nanos(),
        }
    }

    /// How long ago a majority last vouched for this leader: the oldest
    /// heartbeat that a majority (itself included) has echoed. Until then
    /// no follower had promised a newer epoch, so nothing can have been
    /// committed elsewhere before that moment. None if no majority has
    /// echoed one since it began leading (the lease clock restarts with
    /// the node, so "never" is not "at 0").
    fn vouched_ago(&self, ctx: &Ctx<'_, BookingNode>) -> Option<u64> {
        let at = self.vouched_at(ctx)?;
        Some(self.lease_clock(ctx).saturating_sub(at))
    }

    /// When, on the lease clock, a majority last vouched for it.
    fn vouched_at(&self, ctx: &Ctx<'_, BookingNode>) -> Option<u64> {
        let leading = self.leading.as_ref()?;
        let own = std::iter::once(self.lease_clock(ctx));
        kth_largest(leading.contact.values().copied().chain(own), self.config.majority())
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, BookingNode>, timer: Timer) {
        if !matches!(timer, Timer::Heartbeat) || self.leading.is_none() {
            return;
        }
        let Some(epoch) = self.leads() else {
            return;
        };
        ctx.send(self.layout.controller(), Msg::Heartbeat { epoch });
        let ping = self.lease_clock(ctx);
        self.ping_followers(ctx, ping);
        ctx.set_timer(Duration::from_millis(self.config.heartbeat_ms), Timer::Heartbeat);
    }

    /// A heartbeat to every follower, stamped `ping`: their echoes keep
    /// the lease, and confirm answers that read.
    fn ping_followers(&mut self, ctx: &mut Ctx<'_, BookingNode>, ping: u64) {
        let len = disk(ctx).journal.len() as u64;
        let Some(leading) = self.leading.as_mut() else {
            return;
        };
        let epoch = leading.epoch;
        for (conn, up, _) in leading.followers.values() {
            if *up {
                ctx.send_on(*conn, Msg::Sync { epoch, from: len, entries: Vec::new(), ping });
            }
        }
    }

    pub fn on_connection(&mut self, ctx: &mut Ctx<'_, BookingNode>, conn: ConnId, event: ConnEvent<Msg>) {
        let follower = self.leading.as_ref().and_then(|l| {
            l.followers.iter().find(|(_, (c, _, _))| *c == conn).map(|(n, _)| *n)
        });
        match (event, follower) {
            (ConnEvent::Opened { .. }, Some(node)) => {
                // A follower is reachable: give it the whole journal.
                let Some(leading) = self.leading.as_mut() else {
                    return;
                };
                if let Some(f) = leading.followers.get_mut(&node) {
                    f.1 = true;
                }
                let epoch = leading.epoch;
                let entries = disk(ctx).journal.clone();
                ctx.send_on(conn, Msg::Sync { epoch, from: 0, entries, ping: 0 });
            }
            (ConnEvent::Closed(_), Some(node)) => {
                // Try again, for as long as it leads.
                let new = ctx.connect(node);
                if let Some(leading) = self.leading.as_mut() {
                    leading.followers.insert(node, (new, false, 0));
                }
            }
            (ConnEvent::Message(msg), Some(node)) => self.on_follower_says(ctx, node, msg),
            (ConnEvent::Message(msg), None) => self.on_request(ctx, conn, msg),
            _ => {}
        }
    }

    /// What a follower tells its leader.
    fn on_follower_says(&mut self, ctx: &mut Ctx<'_, BookingNode>, node: NodeId, msg: Msg) {
        match msg {
            Msg::Acked { epoch, len, ping } => {
                let Some(leading) = self.leading.as_mut().filter(|l| l.epoch == epoch) else {
                    return;
                };
                if let Some(f) = leading.followers.get_mut(&node) {
                    f.2 = f.2.max(len);
                }
                if ping > 0 {
                    let heard = leading.contact.entry(node).or_default();
                    *heard = (*heard).max(ping);
                }
                self.advance_commit(ctx);
            }
            Msg::Fenced { epoch } => {
                let d = disk(ctx);
                d.epoch = d.epoch.max(epoch);
                self.step_down(ctx);
            }
            _ => {}
        }
    }

    /// Commits what a majority has, and sends the answers that waited.
    fn advance_commit(&mut self, ctx: &mut Ctx<'_, BookingNode>) {
        let own = disk(ctx).journal.len() as u64;
        let majority = self.config.majority();
        let Some(leading) = self.leading.as_mut() else {
            return;
        };
        let lens = leading.followers.values().map(|f| f.2).chain(std::iter::once(own));
        let committed = kth_largest(lens, majority).unwrap_or(0);
        leading.committed = leading.committed.max(committed);
        self.release_answers(ctx);
    }

    /// Gives every answer that is now safe to give; sends a heartbeat if
    /// answers that read are waiting for one.
    fn release_answers(&mut self, ctx: &mut Ctx<'_, BookingNode>) {
        let vouched = self.vouched_at(ctx);
        let now = self.lease_clock(ctx);
        let Some(leading) = self.leading.as_mut() else {
            return;
        };
        let committed = leading.committed;
        let safe = |a: &Answer| a.committed <= committed && a.echoed.is_none_or(|t| vouched.is_some_and(|v| v >= t));
        // What an answer waits to see committed only grows along the
        // queue (`Leading::wait`), so from the first that waits for more
        // than is committed, all do: only those before it are looked at.
        // The answers left wait where they are, in order (most calls
        // release none or a few of many).
        let ready = leading.waiting.partition_point(|a| a.committed <= committed);
        for Answer { conn, id, outcome, .. } in leading.waiting.extract_if(..ready, |a| safe(a)) {
            ctx.send_on(conn, Msg::TxDone { id, outcome });
        }
        if leading.read_ping.is_some_and(|p| vouched.is_some_and(|v| v >= p)) {
            leading.read_ping = None;
        }
        // One heartbeat at a time for reads: the answers that arrive
        // meanwhile wait for the next. (A read stamped later than now, on
        // a clock that stepped back, waits for the regular heartbeats.)
        let ask = leading.read_ping.is_none() && leading.waiting.iter().any(|a| a.echoed.is_some_and(|t| t <= now));
        if ask {
            leading.read_ping = Some(now);
            self.ping_followers(ctx, now);
        }
    }

    /// As a follower: an entry or the whole journal from a leader.
    fn on_replication(&mut self, ctx: &mut Ctx<'_, BookingNode>, conn: ConnId, msg: Msg) {
        let (epoch, from, entries, ping) = match msg {
            Msg::Append { epoch, index, entry } => (epoch, index, vec![entry], 0),
            Msg::Sync { epoch, from, entries, ping } => (epoch, from, entries, ping),
            _ => return,
        };
        let d = disk(ctx);
        if epoch < d.epoch {
            let mine = d.epoch;
            ctx.send_on(conn, Msg::Fenced { epoch: mine });
            return;
        }
        d.epoch = epoch;
        if from > 0 && d.log_epoch != epoch {
            // Not yet a copy of this leader's journal (its whole journal
            // comes first on every connection): nothing to add to.
            return;
        }
        if from == 0 {
            d.log_epoch = epoch;
        }
        let from = from as usize;
        if from > d.journal.len() {
            // A gap (it cannot happen on one connection): say where it is.
            let len = d.journal.len() as u64;
            ctx.send_on(conn, Msg::Acked { epoch, len, ping });
            return;
        }
        let truncated = from < d.journal.len();
        d.journal.truncate(from);
        d.journal.extend(entries);
        let len = d.journal.len() as u64;
        if truncated {
            // Entries it had from an older epoch are gone: so is any
            // snapshot that saw them.
            self.snapshot = None;
            let mut ledger = self.config.ledger();
            for entry in &d.journal {
                ledger.apply(entry);
            }
            self.ledger = ledger;
        } else {
            let journal = &d.journal;
            for entry in &journal[self.ledger.offset as usize..] {
                self.ledger.apply(entry);
            }
        }
        if self.leading.as_ref().is_some_and(|l| l.epoch < epoch) {
            self.step_down(ctx);
        }
        ctx.send_on(conn, Msg::Acked { epoch, len, ping });
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, BookingNode>, conn: ConnId, msg: Msg) {
        let (id, tx) = match msg {
            Msg::Tx { id, tx } => (id, tx),
            other @ (Msg::Append { .. } | Msg::Sync { .. }) => {
                self.on_replication(ctx, conn, other);
                return;
            }
            _ => return,
        };
        if self.leading.is_none() {
            ctx.send_on(conn, Msg::TxDone { id, outcome: TxOutcome::NotLeader });
            return;
        }
        if let Tx::JournalSince { offset } = tx {
            let vouched_ago = self.vouched_ago(ctx);
            let outcome = self.journal_since(&disk(ctx).journal, offset, vouched_ago);
            ctx.send_on(conn, Msg::TxDone { id, outcome });
            return;
        }
        let now = ctx.now().as_nanos();
        match super::transact::judge(&self.config, &self.ledger, now, tx) {
            (Some(entry), outcome) => self.write(ctx, conn, id, entry, outcome),
            (None, outcome) => self.answer_when_committed(ctx, conn, id, outcome),
        }
    }

    /// The committed journal after `offset`: from the snapshot, if one
    /// is newer than `offset` and committed, and the entries after it.
    fn journal_since(&self, journal: &[Entry], offset: u64, vouched_ago: Option<u64>) -> TxOutcome {
        let Some(leading) = &self.leading else {
            return TxOutcome::NotLeader;
        };
        let written = journal.len() as u64;
        let head = match self.config.variant {
            // It answers as if everything written were committed.
            Variant::AsyncReplication => written,
            _ => leading.committed.min(written),
        };
        let usable = self.snapshot.as_ref().filter(|s| s.offset <= head && s.offset > offset);
        let (snapshot, start) = match usable {
            Some(s) => (Some(Box::new(s.clone())), s.offset),
            None => (None, offset.min(head)),
        };
        TxOutcome::Journal {
            snapshot,
            entries: journal[start as usize..head as usize].to_vec(),
            head,
            // A leader that knows less than the reader (just restarted, its
            // commit point not yet learned again) cannot vouch for it.
            vouched_ago_ns: vouched_ago.filter(|_| head >= offset),
        }
    }

    /// An answer that writes nothing was still read from the ledger, which
    /// holds entries not yet committed: it waits until all of them are, so
    /// nobody is told what a failover could take back. (`AsyncReplication`
    /// answers at once.)
    fn answer_when_committed(&mut self, ctx: &mut Ctx<'_, BookingNode>, conn: ConnId, id: u64, outcome: TxOutcome) {
        let written = disk(ctx).journal.len() as u64;
        let since = self.lease_clock(ctx);
        match self.leading.as_mut() {
            Some(leading) if self.config.variant != Variant::AsyncReplication => {
                leading.wait(Answer {
                    committed: written,
                    echoed: Some(since),
                    conn,
                    id,
                    outcome,
                });
                self.release_answers(ctx);
            }
            _ => {
                ctx.send_on(conn, Msg::TxDone { id, outcome });
            }
        }
    }

    /// Appends an entry and streams it to the followers; answers once a
    /// majority has it (at once for `AsyncReplication`).
    fn write(&mut self, ctx: &mut Ctx<'_, BookingNode>, conn: ConnId, id: u64, entry: Entry, outcome: TxOutcome) {
        let seats_of = |l: &Ledger, order| l.orders.get(&order).map_or(0, |o| o.seats.len() as u64 + u64::from(o.zone));
        match &entry {
            Entry::Hold { seats, zone, .. } => ctx.count("seats_held", seats.len() as u64 + u64::from(*zone)),
            Entry::Paid { order } => ctx.count("seats_sold_in_store", seats_of(&self.ledger, *order)),
            Entry::Released { order } | Entry::Refunded { order } => {
                ctx.count("seats_freed", seats_of(&self.ledger, *order));
            }
            Entry::Paying { .. } => {}
        }
        self.ledger.apply(&entry);
        if self.ledger.offset.is_multiple_of(self.config.snapshot_every) {
            self.ledger.prune();
            self.snapshot = Some(self.ledger.clone());
        }
        let d = disk(ctx);
        d.journal.push(entry.clone());
        let index = d.journal.len() as u64 - 1;
        let Some(leading) = self.leading.as_mut() else {
            return;
        };
        let epoch = leading.epoch;
        for (fconn, up, _) in leading.followers.values() {
            if *up {
                ctx.send_on(*fconn, Msg::Append { epoch, index, entry: entry.clone() });
            }
        }
        if self.config.variant == Variant::AsyncReplication {
            // The mistake: answered before any follower has it.
            ctx.send_on(conn, Msg::TxDone { id, outcome });
        } else {
            leading.wait(Answer {
                committed: index + 1,
                echoed: None,
                conn,
                id,
                outcome,
            });
        }
        self.advance_commit(ctx);
    }

    /// The journal (for the checkers and views): every entry written here.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The epoch it leads, if it leads.
    pub fn leads(&self) -> Option<u64> {
        self.leading.as_ref().map(|l| l.epoch)
    }

    /// Entries a majority has (the leader's view).
    pub fn committed(&self) -> Option<u64> {
        self.leading.as_ref().map(|l| l.committed)
    }
}

fn disk<'a>(ctx: &'a mut Ctx<'_, BookingNode>) -> &'a mut StoreDisk {
    match ctx.durable() {
        BookingDisk::Store(disk) => disk,
        other => unreachable!("a store with {other:?}"),
    }
}

/// The `k`-th largest of `values` (1-based; repeats count), if there are
/// `k`: what a majority has reached. A store group has at most 9 members
/// (the configuration's bound), so the values are sorted on the stack,
/// not collected into a heap block on every answer.
fn kth_largest(values: impl Iterator<Item = u64>, k: usize) -> Option<u64> {
    let mut group = [0u64; 9];
    let mut len = 0;
    let mut more = Vec::new();
    for value in values {
        match group.get_mut(len) {
            Some(slot) => {
                *slot = value;
                len += 1;
            }
            None => more.push(value),
        }
    }
    let all = if more.is_empty() {
        &mut group[..len]
    } else {
        more.extend_from_slice(&group);
        &mut more[..]
    };
    all.sort_unstable_by(|a, b| b.cmp(a));
    all.get(k.checked_sub(1)?).copied()
}

#[cfg(test)]
mod tests {
    use super::kth_largest;

    #[test]
    fn the_kth_largest_counts_repeats_and_needs_k_values() {
        let of = |values: &[u64], k| kth_largest(values.iter().copied(), k);
        assert_eq!(of(&[3, 9, 1, 9, 4], 1), Some(9));
        assert_eq!(of(&[3, 9, 1, 9, 4], 2), Some(9));
        assert_eq!(of(&[3, 9, 1, 9, 4], 3), Some(4));
        assert_eq!(of(&[3, 9, 1, 9, 4], 5), Some(1));
        assert_eq!(of(&[3, 9, 1, 9, 4], 6), None);
        assert_eq!(of(&[7, 7, 7], 2), Some(7));
        assert_eq!(of(&[], 1), None);
        assert_eq!(of(&[3, 9], 0), None);
        let eleven: Vec<u64> = (0..11).collect();
        assert_eq!(of(&eleven, 1), Some(10));
        assert_eq!(of(&eleven, 11), Some(0));
        assert_eq!(of(&eleven, 12), None);
    }
}
