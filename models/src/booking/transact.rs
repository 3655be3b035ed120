//! The store leader's judgement of a transaction: the conditions every
//! hold and payment step must meet, checked once, on the leader's ledger
//! and clock, and the one journal entry (if any) that records the result.
//! The store (`store.rs`) writes that entry and decides when the answer
//! may be given.

use super::ledger::{Entry, Ledger, Order, OrderState};
use super::msg::{Tx, TxOutcome};
use super::BookingConfig;

/// What a transaction writes, if anything, and its answer, judged
/// against the leader's ledger at `now` on its clock.
pub fn judge(config: &BookingConfig, l: &Ledger, now: i64, tx: Tx) -> (Option<Entry>, TxOutcome) {
    let hold_ns = i64::try_from(config.hold_ms + config.hold_margin_ms)
        .unwrap_or(i64::MAX / 1_000_000)
        .saturating_mul(1_000_000);
    // Judged on the leader's clock, but never earlier than a time the
    // journal already holds.
    let now = now.max(l.latest_ns);
    let order_of = |order| l.orders.get(&order).map(order_outcome);
    match tx {
        Tx::Hold { order, user, seats, zone } => {
            if let Some(existing) = order_of(order) {
                return (None, existing);
            }
            match l.can_hold(&seats, zone, now) {
                Ok(()) => {
                    let expires_ns = now.saturating_add(hold_ns);
                    let entry = Entry::Hold { order, user, seats, zone, at_ns: now, expires_ns };
                    (Some(entry), TxOutcome::Held { expires_ns })
                }
                Err(conflict) => (None, TxOutcome::Refused(conflict)),
            }
        }
        Tx::Check { seats, zone } => (None, TxOutcome::Checked(l.can_hold(&seats, zone, now).err())),
        Tx::HoldUnchecked { order, user, seats, zone } => {
            if let Some(existing) = order_of(order) {
                return (None, existing);
            }
            // The mistake's other half: no condition at all.
            let expires_ns = now.saturating_add(hold_ns);
            let entry = Entry::Hold { order, user, seats, zone, at_ns: now, expires_ns };
            (Some(entry), TxOutcome::Held { expires_ns })
        }
        Tx::StartPaying { order } => match l.orders.get(&order) {
            None => (None, TxOutcome::NoSuchOrder),
            Some(o) if o.state == OrderState::Held && o.payable(now) => {
                let entry = Entry::Paying { order, since_ns: now };
                let outcome = TxOutcome::StartedPaying {
                    seats: o.seats.clone(),
                    zone: o.zone,
                    expires_ns: o.expires_ns,
                };
                (Some(entry), outcome)
            }
            Some(o) if o.state == OrderState::Held => (None, TxOutcome::Expired),
            Some(o) => (None, order_outcome(o)),
        },
        Tx::Confirm { order } => match l.orders.get(&order) {
            None => (None, TxOutcome::NoSuchOrder),
            Some(o) if o.state == OrderState::Paying && o.payable(now) => {
                (Some(Entry::Paid { order }), paid(o))
            }
            Some(o) if o.state == OrderState::Paying => (None, TxOutcome::Expired),
            Some(o) => (None, order_outcome(o)),
        },
        Tx::ForceConfirm { order } => match l.orders.get(&order) {
            None => (None, TxOutcome::NoSuchOrder),
            Some(o) if matches!(o.state, OrderState::Paid | OrderState::Refunded) => {
                (None, order_outcome(o))
            }
            Some(o) => (Some(Entry::Paid { order }), paid(o)),
        },
        Tx::Release { order } => match l.orders.get(&order) {
            Some(o) if matches!(o.state, OrderState::Held | OrderState::Paying) => {
                let mut outcome = order_outcome(o);
                if let TxOutcome::Order { state, .. } = &mut outcome {
                    *state = OrderState::Released;
                }
                (Some(Entry::Released { order }), outcome)
            }
            Some(o) => (None, order_outcome(o)),
            None => (None, TxOutcome::NoSuchOrder),
        },
        Tx::Refunded { order } => match l.orders.get(&order) {
            Some(o) if !matches!(o.state, OrderState::Paid | OrderState::Refunded) => {
                let mut outcome = order_outcome(o);
                if let TxOutcome::Order { state, .. } = &mut outcome {
                    *state = OrderState::Refunded;
                }
                (Some(Entry::Refunded { order }), outcome)
            }
            Some(o) => (None, order_outcome(o)),
            None => (None, TxOutcome::NoSuchOrder),
        },
        Tx::ListStuck { longer_than_ns } => {
            let stuck = l
                .orders
                .iter()
                .filter(|(_, o)| {
                    o.state == OrderState::Paying
                        && o.paying_since_ns.is_some_and(|s| now.saturating_sub(s) > longer_than_ns)
                })
                .map(|(id, _)| *id)
                .collect();
            (None, TxOutcome::Stuck(stuck))
        }
        Tx::JournalSince { .. } => (None, TxOutcome::NotLeader), // answered by `on_request`
    }
}

fn order_outcome(o: &Order) -> TxOutcome {
    TxOutcome::Order {
        state: o.state,
        seats: o.seats.clone(),
        zone: o.zone,
        expires_ns: o.expires_ns,
        paying_since_ns: o.paying_since_ns,
    }
}

fn paid(o: &Order) -> TxOutcome {
    let mut outcome = order_outcome(o);
    if let TxOutcome::Order { state, .. } = &mut outcome {
        *state = OrderState::Paid;
    }
    outcome
}
