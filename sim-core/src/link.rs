//! How one directed link behaves: its latency distribution, loss,
//! duplication and ordering. Faults are data: the same struct is read from
//! scenario files, changed by the fault plan and shown in reports.

use crate::rng::{MILLION, SimRng};

/// One-way message latency.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Latency {
    /// Always the same.
    Constant {
        /// Latency, in microseconds.
        us: u64,
    },
    /// Uniform in `[min_us, max_us)`.
    Uniform {
        /// Smallest latency, in microseconds.
        min_us: u64,
        /// Upper bound (exclusive), in microseconds.
        max_us: u64,
    },
    /// `min_us` plus an exponential tail with mean `mean_extra_us`, cut at
    /// `max_us`: mostly fast, sometimes slow, never unbounded.
    Exponential {
        /// Smallest latency, in microseconds.
        min_us: u64,
        /// Mean of the tail added to `min_us`, in microseconds.
        mean_extra_us: u64,
        /// Largest latency, in microseconds.
        max_us: u64,
    },
}

/// The longest latency a link may have: a day, in µs. A message slower
/// than that is a lost message; and the arithmetic stays far from overflow.
pub const MAX_LATENCY_US: u64 = 24 * 3600 * 1_000_000;

impl Default for Latency {
    fn default() -> Self {
        Latency::Uniform {
            min_us: 1_000,
            max_us: 10_000,
        }
    }
}

impl Latency {
    /// A latency in nanoseconds.
    #[inline]
    pub fn sample_ns(&self, rng: &mut SimRng) -> u64 {
        match *self {
            Latency::Constant { us } => us * 1_000,
            Latency::Uniform { min_us, max_us } => rng.between(min_us * 1_000, max_us * 1_000),
            Latency::Exponential {
                min_us,
                mean_extra_us,
                max_us,
            } => {
                let tail = rng.exponential(mean_extra_us * 1_000);
                (min_us * 1_000).saturating_add(tail).min(max_us * 1_000)
            }
        }
    }

    /// Checks the ranges; the error names the offending field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fields: &[(&str, u64)] = match self {
            Latency::Constant { us } => &[("us", *us)],
            Latency::Uniform { min_us, max_us } => &[("min_us", *min_us), ("max_us", *max_us)],
            Latency::Exponential {
                min_us,
                mean_extra_us,
                max_us,
            } => &[
                ("min_us", *min_us),
                ("mean_extra_us", *mean_extra_us),
                ("max_us", *max_us),
            ],
        };
        if let Some((field, value)) = fields.iter().find(|(_, v)| *v > MAX_LATENCY_US) {
            return Err(ConfigError::new(
                field,
                format!(
                    "{value} µs is beyond the longest accepted latency, {MAX_LATENCY_US} µs (a day)"
                ),
            ));
        }
        match *self {
            Latency::Constant { .. } => Ok(()),
            Latency::Uniform { min_us, max_us } if max_us < min_us => Err(ConfigError::new(
                "max_us",
                format!("the range is inverted: max_us ({max_us}) < min_us ({min_us})"),
            )),
            Latency::Exponential { min_us, max_us, .. } if max_us < min_us => {
                Err(ConfigError::new(
                    "max_us",
                    format!("the range is inverted: max_us ({max_us}) < min_us ({min_us})"),
                ))
            }
            _ => Ok(()),
        }
    }
}

/// Everything about one directed link.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, Debug, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields, default)]
pub struct LinkConfig {
    /// One-way latency of each message.
    pub latency: Latency,
    /// Messages lost, per million sent.
    pub loss_per_million: u32,
    /// Messages delivered twice, per million sent.
    pub duplicate_per_million: u32,
    /// Deliver in send order (a TCP connection). Otherwise each message
    /// takes its own latency and messages overtake each other.
    pub fifo: bool,
}

impl LinkConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.latency.validate().map_err(|e| e.within("latency"))?;
        for (field, value) in [
            ("loss_per_million", self.loss_per_million),
            ("duplicate_per_million", self.duplicate_per_million),
        ] {
            if value > MILLION {
                return Err(ConfigError::new(
                    field,
                    format!("{value} is a probability above 1 (at most 1000000 per million)"),
                ));
            }
        }
        Ok(())
    }
}

/// A configuration value out of range, with the path of the field.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    /// Dotted path to the field, outermost first, e.g. `network.default_link.latency.max_us`.
    pub path: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(field: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            path: field.to_owned(),
            message: message.into(),
        }
    }
    /// Prefixes the path with the enclosing field.
    pub fn within(mut self, outer: &str) -> ConfigError {
        self.path = if self.path.is_empty() {
            outer.to_owned()
        } else {
            format!("{outer}.{}", self.path)
        };
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;

    #[test]
    fn samples_stay_in_their_ranges() {
        let mut rng = SimRng::new(9, Stream::Network);
        let uniform = Latency::Uniform {
            min_us: 1_000,
            max_us: 10_000,
        };
        let tail = Latency::Exponential {
            min_us: 100,
            mean_extra_us: 500,
            max_us: 2_000,
        };
        for _ in 0..10_000 {
            assert!((1_000_000..10_000_000).contains(&uniform.sample_ns(&mut rng)));
            assert!((100_000..=2_000_000).contains(&tail.sample_ns(&mut rng)));
        }
        assert_eq!(Latency::Constant { us: 7 }.sample_ns(&mut rng), 7_000);
    }

    #[test]
    fn validation_names_the_field() {
        let inverted = LinkConfig {
            latency: Latency::Uniform {
                min_us: 9,
                max_us: 3,
            },
            ..LinkConfig::default()
        };
        assert_eq!(inverted.validate().unwrap_err().path, "latency.max_us");
        let lossy = LinkConfig {
            loss_per_million: 2_000_000,
            ..LinkConfig::default()
        };
        assert_eq!(lossy.validate().unwrap_err().path, "loss_per_million");
        assert!(LinkConfig::default().validate().is_ok());
    }
}
