//! The store's data: orders and what they hold, rebuilt from the journal.
//! Every change is a journal entry; applying the entries in order gives
//! the state, on the leader and on every follower and seat-map view alike
//! (a snapshot at offset k plus the entries after k is the state at the
//! end). Conditions are judged by the leader when it writes an entry,
//! never when one is applied, so applying is the same everywhere.
//!
//! There is no cleanup job: a seat is free when no paid order holds it
//! and no order still within its expiry does. Expiry is a timestamp
//! written into the order at hold time, on the leader's clock, and after
//! a failover another node's clock judges it. So the ledger is
//! conservative by `clock_margin`, more than store clocks ever disagree:
//! an order can be paid only before its expiry, and its seats are free
//! for others only after expiry plus the margin. In between, neither.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use sim_core::NodeId;

/// An order, unique across users: the user's number (`user-N`), its boot
/// and its attempt. It reads as users see it, `278.1` (user-278's second
/// order), in traces, messages and reports alike, and hashes as the one
/// number it is.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct OrderId(pub u64);

impl OrderId {
    pub fn new(user: u32, boot: u32, attempt: u32) -> OrderId {
        OrderId((u64::from(user) << 24) | (u64::from(boot & 0xff) << 16) | u64::from(attempt & 0xffff))
    }

    /// `278.1` is user-278's second order (`278.1/b3` if made in the
    /// user's third boot; users are never crashed by default, so the
    /// first boot is the only one).
    pub fn label(self) -> String {
        let (user, boot, attempt) = (self.0 >> 24, (self.0 >> 16) & 0xff, self.0 & 0xffff);
        if boot <= 1 {
            format!("{user}.{attempt}")
        } else {
            format!("{user}.{attempt}/b{boot}")
        }
    }
}

impl std::fmt::Debug for OrderId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}

/// An order's seats, in seat order. Shared, not copied: the list a user
/// picks travels in its request, the journal entry, every ledger copy
/// (a seat-map view starts from a snapshot of them all) and the answers,
/// and each of those holds the one list.
pub type Seats = Arc<[u16]>;

/// One change of the store.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub enum Entry {
    /// An order holds these seats (and this many zone places), from
    /// `at_ns` until `expires_ns` on the leader's clock.
    Hold {
        order: OrderId,
        user: NodeId,
        seats: Seats,
        zone: u32,
        at_ns: i64,
        expires_ns: i64,
    },
    /// Payment began (at `since_ns` on the leader's clock).
    Paying { order: OrderId, since_ns: i64 },
    Paid { order: OrderId },
    /// Given up: declined, cancelled, or never charged.
    Released { order: OrderId },
    /// Charged too late and refunded.
    Refunded { order: OrderId },
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub enum OrderState {
    Held,
    Paying,
    Paid,
    Released,
    Refunded,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Order {
    pub user: NodeId,
    pub seats: Seats,
    pub zone: u32,
    pub expires_ns: i64,
    pub state: OrderState,
    pub paying_since_ns: Option<i64>,
}

impl Order {
    /// Does it keep its seats from others at `now_ns`? Paid always; held
    /// or paying until its expiry plus `margin_ns`.
    pub fn holds(&self, now_ns: i64, margin_ns: i64) -> bool {
        holds(self.state, self.expires_ns, now_ns, margin_ns)
    }

    /// May it still be paid for at `now_ns`? Before its expiry.
    pub fn payable(&self, now_ns: i64) -> bool {
        matches!(self.state, OrderState::Held | OrderState::Paying) && now_ns < self.expires_ns
    }
}

/// Does an order in `state`, expiring at `expires_ns`, keep its seats
/// from others at `now_ns`? (`Order::holds`.)
fn holds(state: OrderState, expires_ns: i64, now_ns: i64, margin_ns: i64) -> bool {
    match state {
        OrderState::Paid => true,
        OrderState::Held | OrderState::Paying => now_ns < expires_ns.saturating_add(margin_ns),
        OrderState::Released | OrderState::Refunded => false,
    }
}

/// What a seat map needs of a seat's order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct SeatHold {
    state: OrderState,
    expires_ns: i64,
}

/// Why a hold cannot be taken.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub enum Conflict {
    /// This seat is sold or held by another order.
    Seat(u16),
    /// The zone has too few places left.
    Zone { left: u32 },
}

#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Ledger {
    pub seats: u16,
    pub zone_capacity: u32,
    /// Per seat: the last order that took it.
    holder: Vec<Option<OrderId>>,
    /// Per seat: that order's state and expiry, copied by `apply` whenever
    /// either changes, so a seat map (every seat, on every look) reads a
    /// seat without finding its order. Derived from the entries like the
    /// rest, so it is not sent: neither messages nor digests carry it.
    #[serde(skip)]
    seat_holds: Vec<Option<SeatHold>>,
    pub orders: BTreeMap<OrderId, Order>,
    /// Orders with zone places that may still count.
    pub zone_orders: Vec<OrderId>,
    /// Per zone order (by its place in `zone_orders`): its places, state
    /// and expiry, copied by `apply` like `seat_holds`, so counting the
    /// zone (on every hold, check and seat map) looks up no order.
    #[serde(skip)]
    zone_holds: Vec<(u32, SeatHold)>,
    /// How many entries are applied: the offset of this state.
    pub offset: u64,
    /// How long after its expiry an order still keeps its seats from
    /// others, in ns: more than store clocks disagree.
    pub margin_ns: i64,
    /// The latest time an entry was judged at. A leader judges no
    /// transaction earlier than this: a clock stepped back (or a new
    /// leader's clock behind the old one's) cannot bring an order back
    /// from expiry after its seats were held by someone else.
    pub latest_ns: i64,
}

// By hand, to leave out `seat_holds`: a snapshot in a trace reads as the
// entries made it.
impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("seats", &self.seats)
            .field("zone_capacity", &self.zone_capacity)
            .field("holder", &self.holder)
            .field("orders", &self.orders)
            .field("zone_orders", &self.zone_orders)
            .field("offset", &self.offset)
            .field("margin_ns", &self.margin_ns)
            .field("latest_ns", &self.latest_ns)
            .finish()
    }
}

impl Ledger {
    pub fn new(seats: u16, zone_capacity: u32, margin_ns: i64) -> Ledger {
        Ledger {
            margin_ns,
            seats,
            zone_capacity,
            holder: vec![None; usize::from(seats)],
            seat_holds: vec![None; usize::from(seats)],
            orders: BTreeMap::new(),
            zone_orders: Vec::new(),
            zone_holds: Vec::new(),
            offset: 0,
            latest_ns: i64::MIN,
        }
    }

    pub fn apply(&mut self, entry: &Entry) {
        self.offset += 1;
        match entry {
            Entry::Hold {
                order,
                user,
                seats,
                zone,
                at_ns,
                expires_ns,
            } => {
                self.latest_ns = self.latest_ns.max(*at_ns);
                let hold = SeatHold {
                    state: OrderState::Held,
                    expires_ns: *expires_ns,
                };
                for &seat in seats.iter() {
                    if let Some(h) = self.holder.get_mut(usize::from(seat)) {
                        *h = Some(*order);
                        self.seat_holds[usize::from(seat)] = Some(hold);
                    }
                }
                if *zone > 0 {
                    self.zone_orders.push(*order);
                    self.zone_holds.push((*zone, hold));
                }
                let replaced = self.orders.insert(
                    *order,
                    Order {
                        user: *user,
                        seats: seats.clone(),
                        zone: *zone,
                        expires_ns: *expires_ns,
                        state: OrderState::Held,
                        paying_since_ns: None,
                    },
                );
                if replaced.is_some() {
                    // The same order held twice (a leader judges that
                    // away, so never in practice): every zone entry of it
                    // counts the order as it is now.
                    self.copy_to_zone(*order, *zone, hold);
                }
            }
            Entry::Paying { order, since_ns } => {
                self.latest_ns = self.latest_ns.max(*since_ns);
                if let Some(o) = self.orders.get_mut(order) {
                    o.paying_since_ns = Some(*since_ns);
                }
                self.set_state(*order, OrderState::Paying);
            }
            Entry::Paid { order } => self.set_state(*order, OrderState::Paid),
            Entry::Released { order } => self.set_state(*order, OrderState::Released),
            Entry::Refunded { order } => self.set_state(*order, OrderState::Refunded),
        }
    }

    /// Moves `order` to `state`, on the seats it still holds too.
    fn set_state(&mut self, order: OrderId, state: OrderState) {
        let Some(o) = self.orders.get_mut(&order) else {
            return;
        };
        o.state = state;
        let hold = SeatHold {
            state,
            expires_ns: o.expires_ns,
        };
        for &seat in o.seats.iter() {
            let seat = usize::from(seat);
            if self.holder.get(seat) == Some(&Some(order)) {
                self.seat_holds[seat] = Some(hold);
            }
        }
        if o.zone > 0 {
            let zone = o.zone;
            self.copy_to_zone(order, zone, hold);
        }
    }

    /// Sets every zone entry of `order` to these places, state and expiry.
    fn copy_to_zone(&mut self, order: OrderId, zone: u32, hold: SeatHold) {
        for (id, entry) in self.zone_orders.iter().zip(&mut self.zone_holds) {
            if *id == order {
                *entry = (zone, hold);
            }
        }
    }

    /// The order holding `seat` at `now_ns`, if any.
    pub fn seat_holder(&self, seat: u16, now_ns: i64) -> Option<OrderId> {
        let seat = usize::from(seat);
        let order = (*self.holder.get(seat)?)?;
        self.seat_holds[seat]
            .is_some_and(|h| holds(h.state, h.expires_ns, now_ns, self.margin_ns))
            .then_some(order)
    }

    /// Zone places taken at `now_ns`.
    pub fn zone_used(&self, now_ns: i64) -> u32 {
        self.zone_holds
            .iter()
            .filter(|(_, h)| holds(h.state, h.expires_ns, now_ns, self.margin_ns))
            .map(|(zone, _)| zone)
            .sum()
    }

    /// Can an order take these seats and zone places at `now_ns`? One
    /// check over all of them: the conditional update's condition.
    pub fn can_hold(&self, seats: &[u16], zone: u32, now_ns: i64) -> Result<(), Conflict> {
        if let Some(&seat) = seats.iter().find(|&&s| self.seat_holder(s, now_ns).is_some()) {
            return Err(Conflict::Seat(seat));
        }
        let used = self.zone_used(now_ns);
        if zone > 0 && used + zone > self.zone_capacity {
            return Err(Conflict::Zone {
                left: self.zone_capacity.saturating_sub(used),
            });
        }
        Ok(())
    }

    /// The free seats at `now_ns`, one bit each (the seat map).
    pub fn free_seats(&self, now_ns: i64) -> Vec<u64> {
        self.free_seats_window(now_ns).bits
    }

    /// The free seats and the zone places taken at `now_ns`, and the
    /// times between which both stay the same while the ledger does: an
    /// order flips only when `now` crosses its expiry plus the margin.
    pub fn free_seats_window(&self, now_ns: i64) -> SeatMap {
        let mut map = SeatMap {
            bits: vec![0u64; usize::from(self.seats).div_ceil(64)],
            zone_used: 0,
            from_ns: i64::MIN,
            until_ns: i64::MAX,
        };
        // Whether an order in `state`, expiring at `expires_ns`, holds at
        // `now_ns`, narrowing the window to the moment that could change.
        let mut holds_now = |state: OrderState, expires_ns: i64| {
            if matches!(state, OrderState::Held | OrderState::Paying) {
                let flips = expires_ns.saturating_add(self.margin_ns);
                if now_ns < flips {
                    map.until_ns = map.until_ns.min(flips);
                } else {
                    map.from_ns = map.from_ns.max(flips);
                }
            }
            holds(state, expires_ns, now_ns, self.margin_ns)
        };
        for (seat, hold) in self.seat_holds.iter().enumerate().take(usize::from(self.seats)) {
            let held = hold.is_some_and(|h| holds_now(h.state, h.expires_ns));
            if !held {
                map.bits[seat / 64] |= 1 << (seat % 64);
            }
        }
        let zone_used = self
            .zone_holds
            .iter()
            .filter(|(_, h)| holds_now(h.state, h.expires_ns))
            .map(|(zone, _)| zone)
            .sum();
        map.zone_used = zone_used;
        map
    }

    /// Forgets zone orders that can never count again.
    pub fn prune(&mut self) {
        let counts = |(_, h): &(u32, SeatHold)| !matches!(h.state, OrderState::Released | OrderState::Refunded);
        let mut kept = self.zone_holds.iter().map(counts);
        self.zone_orders.retain(|_| kept.next().unwrap_or(false));
        self.zone_holds.retain(counts);
    }
}

/// A seat map and the times it holds for, while the ledger is unchanged:
/// `from_ns <= now < until_ns`.
#[derive(Clone, Debug)]
pub struct SeatMap {
    pub bits: Vec<u64>,
    /// Zone places taken (`Ledger::zone_used`).
    pub zone_used: u32,
    pub from_ns: i64,
    pub until_ns: i64,
}

impl SeatMap {
    pub fn holds_at(&self, now_ns: i64) -> bool {
        self.from_ns <= now_ns && now_ns < self.until_ns
    }
}

/// The seats a seat map's bits say are free, read in place: how many,
/// and which are at given ranks. A user reads a 500-seat map on every
/// look and picks a few seats of it, so the free seats are counted a word
/// at a time and only the picked ones are found, never all listed.
#[derive(Clone, Copy, Debug)]
pub struct FreeSeats<'a> {
    bits: &'a [u64],
    seats: u16,
}

impl<'a> FreeSeats<'a> {
    pub fn new(bits: &'a [u64], seats: u16) -> FreeSeats<'a> {
        FreeSeats { bits, seats }
    }

    /// The words, with the bits at or past the seat count cleared.
    fn words(self) -> impl Iterator<Item = u64> + 'a {
        let seats = usize::from(self.seats);
        let whole = (seats / 64).min(self.bits.len());
        let (full, rest) = self.bits.split_at(whole);
        let last = rest.first().map(|&word| word & ((1u64 << (seats % 64)) - 1));
        full.iter().copied().chain(last)
    }

    pub fn count(self) -> usize {
        self.words().map(|w| w.count_ones() as usize).sum()
    }

    /// Replaces each rank in `ranks` (ascending, each below `count()`) by
    /// the free seat of that rank: rank 0 is the lowest free seat. One
    /// pass over the words. A rank past the last free seat is left as it
    /// is (the caller's ranks are all below the count).
    pub fn at_ranks(self, ranks: &mut [u16]) {
        let mut ranks = ranks.iter_mut().peekable();
        let mut below = 0usize; // free seats in the words before this one
        for (index, word) in self.words().enumerate() {
            let here = word.count_ones() as usize;
            while let Some(rank) = ranks.next_if(|r| usize::from(**r) < below + here) {
                let mut rest = word;
                for _ in 0..usize::from(*rank) - below {
                    rest &= rest - 1;
                }
                *rank = (index * 64 + rest.trailing_zeros() as usize) as u16;
            }
            below += here;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every free seat, in order: the seats at every rank.
    fn free_list(bits: &[u64], seats: u16) -> Vec<u16> {
        let free = FreeSeats::new(bits, seats);
        let mut list: Vec<u16> = (0..free.count() as u16).collect();
        free.at_ranks(&mut list);
        list
    }

    #[test]
    fn the_free_seats_are_every_set_bit_below_the_seat_count_in_order() {
        let bits = [0b1011u64, 0, u64::MAX, 1 << 63 | 1];
        for seats in [0, 1, 3, 4, 64, 130, 192, 193, 255, 256, 300] {
            let expected: Vec<u16> = (0..seats.min(256))
                .filter(|&s| bits[usize::from(s) / 64] >> (s % 64) & 1 == 1)
                .collect();
            let free = FreeSeats::new(&bits, seats);
            assert_eq!(free.count(), expected.len(), "{seats} seats");
            assert_eq!(free_list(&bits, seats), expected, "{seats} seats");
            let mut some = [0, 2, 3];
            if expected.len() > 3 {
                free.at_ranks(&mut some);
                assert_eq!(some, [expected[0], expected[2], expected[3]], "{seats} seats");
            }
        }
        assert_eq!(FreeSeats::new(&[], 10).count(), 0);
        assert_eq!(FreeSeats::new(&[u64::MAX], 10).count(), 10);
    }

    fn hold(order: u64, seats: &[u16], zone: u32, expires_ns: i64) -> Entry {
        Entry::Hold {
            order: OrderId(order),
            user: NodeId(9),
            seats: seats.into(),
            zone,
            at_ns: 0,
            expires_ns,
        }
    }

    #[test]
    fn an_expired_hold_frees_its_seats_without_anyone_cleaning_up() {
        let mut l = Ledger::new(10, 5, 0);
        l.apply(&hold(1, &[3, 4], 2, 1_000));
        assert_eq!(l.can_hold(&[4], 0, 999), Err(Conflict::Seat(4)));
        assert_eq!(l.can_hold(&[], 4, 999), Err(Conflict::Zone { left: 3 }));
        assert_eq!(l.can_hold(&[4], 4, 1_000), Ok(()), "expired at 1000");
        l.apply(&Entry::Paying { order: OrderId(1), since_ns: 500 });
        l.apply(&Entry::Paid { order: OrderId(1) });
        assert_eq!(l.can_hold(&[4], 0, 5_000), Err(Conflict::Seat(4)), "paid holds for good");
        assert_eq!(free_list(&l.free_seats(5_000), 10), vec![0, 1, 2, 5, 6, 7, 8, 9]);
    }

    #[test]
    fn a_seat_map_holds_until_the_next_order_flips_and_from_the_last() {
        let mut l = Ledger::new(10, 5, 100);
        l.apply(&hold(1, &[3, 4], 0, 1_000));
        l.apply(&hold(2, &[7], 0, 2_000));
        let early = l.free_seats_window(500);
        // Order 1 flips at 1,000 + the 100 margin, the first to flip.
        assert_eq!((early.from_ns, early.until_ns), (i64::MIN, 1_100));
        assert!(early.holds_at(1_099) && !early.holds_at(1_100));
        let later = l.free_seats_window(1_100);
        assert_eq!((later.from_ns, later.until_ns), (1_100, 2_100));
        assert!(!later.holds_at(1_099), "a clock stepped back is outside it");
        for now in [500, 1_099] {
            assert_eq!(early.bits, l.free_seats(now));
        }
        assert_ne!(early.bits, later.bits);
        assert_eq!(free_list(&later.bits, 10), vec![0, 1, 2, 3, 4, 5, 6, 8, 9]);
    }

    #[test]
    fn a_seat_taken_again_answers_for_its_new_order_only() {
        let mut l = Ledger::new(4, 0, 0);
        l.apply(&hold(1, &[0, 1], 0, 100));
        l.apply(&hold(2, &[1], 0, 1_000)); // seat 1 again, after order 1 expired
        l.apply(&Entry::Paid { order: OrderId(1) }); // too late for seat 1
        assert_eq!(l.seat_holder(0, 5_000), Some(OrderId(1)), "paid keeps seat 0");
        assert_eq!(l.seat_holder(1, 500), Some(OrderId(2)));
        assert_eq!(l.seat_holder(1, 1_000), None, "order 2 expired; order 1's payment is not seat 1's");
        l.apply(&Entry::Released { order: OrderId(2) });
        assert_eq!(free_list(&l.free_seats(500), 4), vec![1, 2, 3]);
        assert_eq!(l.can_hold(&[1], 0, 500), Ok(()));
    }

    #[test]
    fn a_snapshot_at_k_plus_the_entries_after_k_is_the_state() {
        let entries = vec![
            hold(1, &[1], 0, 100),
            hold(2, &[2, 3], 1, 200),
            Entry::Paying { order: OrderId(2), since_ns: 50 },
            Entry::Paid { order: OrderId(2) },
            hold(3, &[1], 0, 300),
            Entry::Released { order: OrderId(3) },
        ];
        let mut whole = Ledger::new(8, 4, 0);
        for e in &entries {
            whole.apply(e);
        }
        for k in 0..=entries.len() {
            let mut snapshot = Ledger::new(8, 4, 0);
            for e in &entries[..k] {
                snapshot.apply(e);
            }
            let mut rest = snapshot.clone();
            for e in &entries[k..] {
                rest.apply(e);
            }
            assert_eq!(rest, whole, "snapshot at {k}");
        }
    }
}
