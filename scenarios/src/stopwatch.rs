//! The one place in this crate that reads the wall clock: how long a
//! command took (events per second, seeds per second), and the wall-clock
//! deadline of `dsim lincheck`. Runs never see it: a run's every input is
//! its scenario and seed. `clippy.toml` bans the wall clock everywhere
//! else, and the exemptions here are as narrow as the two calls.

use std::time::Duration;

/// Time since it was started, on the wall clock.
#[derive(Clone, Copy, Debug)]
#[allow(clippy::disallowed_types)] // the one wall-clock reading
pub struct Stopwatch {
    started: std::time::Instant,
}

#[allow(clippy::disallowed_types, clippy::disallowed_methods)] // the one wall-clock reading
impl Stopwatch {
    pub fn start() -> Stopwatch {
        Stopwatch {
            started: std::time::Instant::now(),
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    pub fn seconds(&self) -> f64 {
        self.elapsed().as_secs_f64()
    }
}
