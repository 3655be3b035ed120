//! Virtual time. `SimTime` is the one true time of a run, in integer
//! nanoseconds since the run started; `LocalTime` is what a node's own wall
//! clock reads, which may be offset, drifting or stepped; `MonotonicTime`
//! is what its monotonic clock reads, which drifts but never steps (see
//! `clock.rs`). Distinct types, so a lease cannot mix the two by mistake.
//!
//! Integers only: float time would make equal instants compare unequal on
//! some path, and a run must be the same bit for bit everywhere.

use std::fmt;
use std::ops::{Add, Sub};
use std::time::Duration;

/// True simulated time: nanoseconds since the start of the run.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct SimTime(u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub const fn from_nanos(ns: u64) -> SimTime {
        SimTime(ns)
    }
    pub const fn from_micros(us: u64) -> SimTime {
        SimTime(us.saturating_mul(1_000))
    }
    pub const fn from_millis(ms: u64) -> SimTime {
        SimTime(ms.saturating_mul(1_000_000))
    }
    pub const fn from_secs(s: u64) -> SimTime {
        SimTime(s.saturating_mul(1_000_000_000))
    }
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// Time since `earlier`, or zero if `earlier` is later.
    pub fn since(self, earlier: SimTime) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

/// Converts a duration to whole nanoseconds, saturating at `u64::MAX`
/// (about 584 years), which no run reaches.
pub fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Add<Duration> for SimTime {
    type Output = SimTime;
    fn add(self, d: Duration) -> SimTime {
        SimTime(self.0.saturating_add(duration_nanos(d)))
    }
}

impl Sub for SimTime {
    type Output = Duration;
    fn sub(self, earlier: SimTime) -> Duration {
        self.since(earlier)
    }
}

impl fmt::Debug for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Seconds with nanosecond precision, e.g. `1.250000000s`.
impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:09}s",
            self.0 / 1_000_000_000,
            self.0 % 1_000_000_000
        )
    }
}

/// A reading of a node's local clock, in nanoseconds. Signed, because a
/// clock with a negative offset reads before the run started.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Debug,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct LocalTime(i64);

impl LocalTime {
    pub const fn from_nanos(ns: i64) -> LocalTime {
        LocalTime(ns)
    }
    pub const fn as_nanos(self) -> i64 {
        self.0
    }
    /// Local time elapsed since `earlier`, or zero if `earlier` is later
    /// (a clock stepped backwards).
    pub fn since(self, earlier: LocalTime) -> Duration {
        Duration::from_nanos(u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0))
    }
}

impl Add<Duration> for LocalTime {
    type Output = LocalTime;
    fn add(self, d: Duration) -> LocalTime {
        LocalTime(
            self.0
                .saturating_add(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)),
        )
    }
}

/// A reading of a node's monotonic clock: nanoseconds its oscillator has
/// counted since the node last booted. Drift applies (a fast oscillator
/// counts fast); clock steps never do. Readings from different boots or
/// different nodes do not compare: this measures "how long has passed"
/// on one node, as `Instant` does.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Debug,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct MonotonicTime(u64);

impl MonotonicTime {
    pub const fn from_nanos(ns: u64) -> MonotonicTime {
        MonotonicTime(ns)
    }
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// Time counted since `earlier`, or zero if `earlier` is later.
    pub fn since(self, earlier: MonotonicTime) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for MonotonicTime {
    type Output = MonotonicTime;
    fn add(self, d: Duration) -> MonotonicTime {
        MonotonicTime(self.0.saturating_add(duration_nanos(d)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_seconds_with_nanos() {
        assert_eq!(SimTime::from_millis(1250).to_string(), "1.250000000s");
        assert_eq!(SimTime::from_nanos(7).to_string(), "0.000000007s");
    }

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        assert_eq!(SimTime::MAX + Duration::from_secs(1), SimTime::MAX);
        assert_eq!(SimTime::ZERO - SimTime::from_secs(1), Duration::ZERO);
        assert_eq!(
            LocalTime::from_nanos(5).since(LocalTime::from_nanos(9)),
            Duration::ZERO
        );
    }
}
