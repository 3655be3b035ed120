//! Who books, when, and how; and the operations the history records.
//!
//! Users arrive spread over `arrive_over_ms`. Each reads the seat map,
//! picks up to `max_seats` seats it shows free (or, `zone_per_million` of
//! the time, places in the zone), and asks for a hold. A held user pays
//! (`pay_per_million` of the time; the rest walk away and let the hold
//! expire); a refused or failed one starts over from the map, up to
//! `attempts` times. A request unanswered within `request_timeout_ms` is
//! sent again to another app server; a hold gives up after
//! `hold_timeout_ms` and a payment after `pay_timeout_ms` (unknown
//! outcomes).

use serde::{Deserialize, Serialize};
use sim_core::ConfigError;
use sim_core::record::ExportOp;

use super::ledger::{OrderId, Seats};
use super::msg::Ticket;

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkloadConfig {
    /// User nodes (`user-0` ..).
    pub users: u32,
    /// Users arrive uniformly over this long, in ms.
    pub arrive_over_ms: u64,
    /// Seats (or zone places) per order: 1 to this.
    pub max_seats: u32,
    /// Orders for zone places rather than seats, per million.
    pub zone_per_million: u32,
    /// Held users who go on to pay, per million.
    pub pay_per_million: u32,
    /// Holds a user tries before it gives up.
    pub attempts: u32,
    /// Mean pause before each step (exponential), in ms.
    pub think_ms: u64,
    /// A request unanswered this long is sent again, in ms.
    pub request_timeout_ms: u64,
    /// A hold gives up after this long, in ms.
    pub hold_timeout_ms: u64,
    /// A payment gives up after this long, in ms.
    pub pay_timeout_ms: u64,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            users: 200,
            arrive_over_ms: 4_000,
            max_seats: 4,
            zone_per_million: 200_000,
            pay_per_million: 800_000,
            attempts: 3,
            think_ms: 100,
            request_timeout_ms: 300,
            hold_timeout_ms: 2_000,
            pay_timeout_ms: 5_000,
        }
    }
}

impl WorkloadConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=1_000_000).contains(&self.users) {
            return Err(ConfigError::new("users", "must be between 1 and 1000000"));
        }
        if !(1..=100).contains(&self.max_seats) {
            return Err(ConfigError::new("max_seats", "must be between 1 and 100"));
        }
        if !(1..=100).contains(&self.attempts) {
            return Err(ConfigError::new("attempts", "must be between 1 and 100"));
        }
        for (field, per_million) in [
            ("zone_per_million", self.zone_per_million),
            ("pay_per_million", self.pay_per_million),
        ] {
            if per_million > 1_000_000 {
                return Err(ConfigError::new(field, format!("{per_million} is a probability above 1")));
            }
        }
        if self.request_timeout_ms == 0 {
            return Err(ConfigError::new("request_timeout_ms", "must be at least 1"));
        }
        for (field, value) in [("hold_timeout_ms", self.hold_timeout_ms), ("pay_timeout_ms", self.pay_timeout_ms)] {
            if value < self.request_timeout_ms {
                return Err(ConfigError::new(
                    field,
                    format!("must be at least request_timeout_ms ({})", self.request_timeout_ms),
                ));
            }
        }
        Ok(())
    }
}

/// What a user asks.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize)]
pub enum Op {
    Hold {
        order: OrderId,
        seats: Seats,
        zone: u32,
    },
    Pay { order: OrderId },
}

/// What it was told: held, or a ticket.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub enum Ret {
    Held,
    Ticket(Ticket),
}

impl ExportOp<Ret> for Op {
    fn f(&self) -> &'static str {
        match self {
            Op::Hold { .. } => "hold",
            Op::Pay { .. } => "pay",
        }
    }
    fn key(&self) -> Option<String> {
        let order = match self {
            Op::Hold { order, .. } | Op::Pay { order } => order,
        };
        Some(format!("order {}", order.label()))
    }
    fn invoke_value(&self) -> serde_json::Value {
        match self {
            Op::Hold { seats, zone, .. } => serde_json::json!({ "seats": seats, "zone": zone }),
            Op::Pay { .. } => serde_json::Value::Null,
        }
    }
    fn ok_value(&self, ret: &Ret) -> serde_json::Value {
        match ret {
            Ret::Held => "held".into(),
            Ret::Ticket(t) => serde_json::json!({ "seats": t.seats, "zone": t.zone }),
        }
    }
}

