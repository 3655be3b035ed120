//! Node clocks. Each node reads its own local clock: true time plus an
//! offset, running fast or slow by a drift in parts per million, and
//! stepped by the fault plan. Designs that trust clocks (leases, hold
//! expiry) fail here the way they fail in production.
//!
//! Two readings, as in an operating system: `now()` is the wall clock,
//! which steps move; `monotonic()` and every timer run on the node's
//! oscillator, which drift speeds up or slows down but steps never touch (a
//! stepped wall clock does not re-time a sleeping thread). Leases and holds
//! that measure "how long has passed" must use the monotonic reading.

use std::time::Duration;

use crate::time::{LocalTime, SimTime, duration_nanos};

/// How a node's clock starts: its offset from true time and its drift.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClockConfig {
    /// Local minus true time at the start of the run, in microseconds.
    pub offset_us: i64,
    /// Rate error: +100 means the clock gains 100 µs per true second.
    pub drift_ppm: i32,
}

/// The smallest and largest drift we accept: beyond ±50% a "clock" is no
/// longer a clock, and the arithmetic below stays far from overflow.
pub const DRIFT_PPM_LIMIT: i32 = 500_000;

#[derive(Clone, Debug)]
pub struct Clock {
    /// True time and wall reading at the last step or change of rate.
    wall_anchor_true: SimTime,
    wall_anchor_ns: i64,
    /// True time and oscillator count at the last change of rate. Steps
    /// never touch the oscillator: it is what timers and the monotonic
    /// reading run on.
    oscillator_anchor_true: SimTime,
    oscillator_anchor_ns: u64,
    drift_ppm: i32,
}

impl Clock {
    pub fn new(config: ClockConfig) -> Clock {
        assert!(
            config.drift_ppm.abs() <= DRIFT_PPM_LIMIT,
            "drift out of range: {config:?}"
        );
        Clock {
            wall_anchor_true: SimTime::ZERO,
            wall_anchor_ns: config.offset_us.saturating_mul(1_000),
            oscillator_anchor_true: SimTime::ZERO,
            oscillator_anchor_ns: 0,
            drift_ppm: config.drift_ppm,
        }
    }

    /// The wall reading at true time `now`.
    pub fn local(&self, now: SimTime) -> LocalTime {
        let counted = self.counted_since(self.wall_anchor_true, now);
        LocalTime::from_nanos(
            self.wall_anchor_ns
                .saturating_add(i64::try_from(counted).unwrap_or(i64::MAX)),
        )
    }

    /// What the oscillator has counted since the run began, at true time
    /// `now`: drift applies, steps do not.
    pub fn oscillator(&self, now: SimTime) -> u64 {
        self.oscillator_anchor_ns
            .saturating_add(self.counted_since(self.oscillator_anchor_true, now))
    }

    /// Nanoseconds the oscillator counts between true times `from` and
    /// `now`, at the current rate.
    fn counted_since(&self, from: SimTime, now: SimTime) -> u64 {
        let elapsed = now.as_nanos().saturating_sub(from.as_nanos());
        if self.drift_ppm == 0 {
            // Most clocks: no 128-bit division, the same count.
            return elapsed;
        }
        let elapsed = u128::from(elapsed);
        let rate = u128::try_from(1_000_000 + i64::from(self.drift_ppm)).expect("drift limited");
        u64::try_from(elapsed * rate / 1_000_000).unwrap_or(u64::MAX)
    }

    /// How much true time passes while this clock's oscillator counts
    /// `local` (rounded up, so a timer never fires early by its own clock).
    pub fn true_duration(&self, local: Duration) -> Duration {
        if self.drift_ppm == 0 {
            return Duration::from_nanos(duration_nanos(local));
        }
        let local_ns = u128::from(duration_nanos(local));
        let rate = u128::try_from(1_000_000 + i64::from(self.drift_ppm)).expect("drift limited");
        let true_ns = (local_ns * 1_000_000).div_ceil(rate);
        Duration::from_nanos(u64::try_from(true_ns).unwrap_or(u64::MAX))
    }

    /// Moves the wall reading by `delta_ns` at true time `now` (NTP
    /// stepping the clock, or an operator's mistake). The oscillator, and
    /// so the monotonic reading and every timer, does not notice.
    pub fn step(&mut self, now: SimTime, delta_ns: i64) {
        let reading = self.local(now).as_nanos();
        self.wall_anchor_true = now;
        self.wall_anchor_ns = reading.saturating_add(delta_ns);
    }

    /// Changes the rate from `now` on; neither reading jumps.
    pub fn set_drift(&mut self, now: SimTime, drift_ppm: i32) {
        assert!(
            drift_ppm.abs() <= DRIFT_PPM_LIMIT,
            "drift out of range: {drift_ppm}"
        );
        self.wall_anchor_ns = self.local(now).as_nanos();
        self.wall_anchor_true = now;
        self.oscillator_anchor_ns = self.oscillator(now);
        self.oscillator_anchor_true = now;
        self.drift_ppm = drift_ppm;
    }

    pub fn drift_ppm(&self) -> i32 {
        self.drift_ppm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_and_drift_shape_the_reading() {
        let clock = Clock::new(ClockConfig {
            offset_us: -5,
            drift_ppm: 100,
        });
        assert_eq!(clock.local(SimTime::ZERO).as_nanos(), -5_000);
        // One true second at +100 ppm reads one second and 100 µs later.
        assert_eq!(
            clock.local(SimTime::from_secs(1)).as_nanos(),
            1_000_100_000 - 5_000
        );
    }

    #[test]
    fn steps_move_the_reading_but_not_the_rate() {
        let mut clock = Clock::new(ClockConfig {
            offset_us: 0,
            drift_ppm: 0,
        });
        clock.step(SimTime::from_secs(1), -2_000_000_000);
        assert_eq!(
            clock.local(SimTime::from_secs(1)).as_nanos(),
            -1_000_000_000
        );
        assert_eq!(clock.local(SimTime::from_secs(3)).as_nanos(), 1_000_000_000);
        assert_eq!(
            clock.true_duration(Duration::from_secs(1)),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn the_oscillator_drifts_but_ignores_steps() {
        let mut clock = Clock::new(ClockConfig {
            offset_us: 7,
            drift_ppm: 1_000,
        });
        clock.step(SimTime::from_secs(1), 5_000_000_000);
        assert_eq!(clock.oscillator(SimTime::from_secs(2)), 2_002_000_000);
        clock.set_drift(SimTime::from_secs(2), 0);
        assert_eq!(clock.oscillator(SimTime::from_secs(3)), 3_002_000_000);
    }

    #[test]
    fn a_clock_without_drift_counts_true_time_at_every_size() {
        // The undrifted shortcut gives what the general formula gives,
        // up to the saturating end.
        let clock = Clock::new(ClockConfig {
            offset_us: 3,
            drift_ppm: 0,
        });
        let formula = |ns: u64| {
            let true_ns = (u128::from(ns) * 1_000_000).div_ceil(1_000_000);
            u64::try_from(true_ns).unwrap_or(u64::MAX)
        };
        for ns in [0, 1, 999_999, 1_000_001, 1 << 40, u64::MAX / 3, u64::MAX] {
            let d = Duration::from_nanos(ns);
            assert_eq!(duration_nanos(clock.true_duration(d)), formula(ns));
            assert_eq!(clock.oscillator(SimTime::from_nanos(ns)), ns);
        }
        assert_eq!(
            duration_nanos(clock.true_duration(Duration::MAX)),
            u64::MAX,
            "saturates as the formula does"
        );
    }

    #[test]
    fn a_fast_clock_fires_timers_early_in_true_time() {
        let fast = Clock::new(ClockConfig {
            offset_us: 0,
            drift_ppm: 100_000,
        });
        let slow = Clock::new(ClockConfig {
            offset_us: 0,
            drift_ppm: -100_000,
        });
        assert_eq!(
            fast.true_duration(Duration::from_millis(1100)),
            Duration::from_millis(1000)
        );
        assert_eq!(
            slow.true_duration(Duration::from_millis(900)),
            Duration::from_millis(1000)
        );
    }

    #[test]
    fn changing_drift_keeps_the_reading_continuous() {
        let mut clock = Clock::new(ClockConfig {
            offset_us: 0,
            drift_ppm: 0,
        });
        clock.set_drift(SimTime::from_secs(10), 500_000);
        assert_eq!(
            clock.local(SimTime::from_secs(10)).as_nanos(),
            10_000_000_000
        );
        assert_eq!(
            clock.local(SimTime::from_secs(12)).as_nanos(),
            13_000_000_000
        );
    }
}
