//! The random fault generator ("nemesis"). Every so often it picks a fault
//! among the kinds it is allowed, applies it to a random target, and undoes
//! it a while later. With `swarm` on, the mix itself is drawn per seed
//! (some seeds only partition, some only crash, some do everything), which
//! finds more bugs than one fixed mix (Groce et al., "Swarm Testing").

use std::time::Duration;

use crate::faults::Fault;
use crate::link::{ConfigError, LinkConfig};
use crate::node::NodeId;
use crate::partition::Partition;
use crate::rng::SimRng;

/// What the nemesis may do and how often.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NemesisConfig<N = NodeId> {
    /// Nodes it may crash, pause, skew or cut off (usually the servers,
    /// not the clients). Empty means every node.
    pub targets: Vec<N>,
    /// Shortest gap between two faults, in milliseconds.
    pub interval_ms_min: u64,
    /// Longest gap between two faults, in milliseconds.
    pub interval_ms_max: u64,
    /// Shortest time a fault lasts before it is undone, in milliseconds.
    pub duration_ms_min: u64,
    /// Longest time a fault lasts before it is undone, in milliseconds.
    pub duration_ms_max: u64,
    /// At most this many targets crashed or paused at once.
    pub max_down: u32,
    /// Relative weight of each kind of fault; zero disables a kind.
    pub weights: FaultWeights,
    /// Largest clock jump of a clock-step fault, in microseconds.
    pub clock_step_us_max: u64,
    /// How a target's links behave during a link fault.
    pub degraded_link: LinkConfig,
    /// Draw the mix per seed: each enabled kind is kept with even odds
    /// (at least one stays) with a weight up to its configured weight.
    pub swarm: bool,
}

/// Relative weights of the fault kinds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultWeights {
    pub partition: u32,
    pub crash: u32,
    pub pause: u32,
    pub clock_step: u32,
    pub link: u32,
}

impl Default for FaultWeights {
    fn default() -> Self {
        FaultWeights {
            partition: 1,
            crash: 1,
            pause: 1,
            clock_step: 1,
            link: 1,
        }
    }
}

impl FaultWeights {
    fn as_array(self) -> [u32; 5] {
        [
            self.partition,
            self.crash,
            self.pause,
            self.clock_step,
            self.link,
        ]
    }
    fn from_array(a: [u32; 5]) -> FaultWeights {
        FaultWeights {
            partition: a[0],
            crash: a[1],
            pause: a[2],
            clock_step: a[3],
            link: a[4],
        }
    }
}

impl<N> Default for NemesisConfig<N> {
    fn default() -> Self {
        NemesisConfig {
            targets: Vec::new(),
            interval_ms_min: 200,
            interval_ms_max: 2_000,
            duration_ms_min: 100,
            duration_ms_max: 3_000,
            max_down: 1,
            weights: FaultWeights::default(),
            clock_step_us_max: 500_000,
            degraded_link: LinkConfig {
                latency: crate::link::Latency::Exponential {
                    min_us: 1_000,
                    mean_extra_us: 50_000,
                    max_us: 500_000,
                },
                loss_per_million: 200_000,
                duplicate_per_million: 50_000,
                fifo: false,
            },
            swarm: true,
        }
    }
}

impl<N> NemesisConfig<N> {
    /// The same configuration with every target renamed by `f`.
    pub fn resolve<M, E>(
        &self,
        f: &mut impl FnMut(&N) -> Result<M, E>,
    ) -> Result<NemesisConfig<M>, E> {
        Ok(NemesisConfig {
            targets: self.targets.iter().map(f).collect::<Result<_, E>>()?,
            interval_ms_min: self.interval_ms_min,
            interval_ms_max: self.interval_ms_max,
            duration_ms_min: self.duration_ms_min,
            duration_ms_max: self.duration_ms_max,
            max_down: self.max_down,
            weights: self.weights,
            clock_step_us_max: self.clock_step_us_max,
            degraded_link: self.degraded_link,
            swarm: self.swarm,
        })
    }
}

/// The largest clock step the nemesis may take: a century, in µs. Far
/// beyond anything useful, and far from overflowing an `i64`.
pub const MAX_CLOCK_STEP_US: u64 = 100 * 365 * 24 * 3600 * 1_000_000;

/// The longest interval or fault duration: ten years, in ms.
pub const MAX_NEMESIS_MS: u64 = 10 * 365 * 24 * 3600 * 1_000;

impl NemesisConfig {
    pub fn validate(&self, node_count: usize) -> Result<(), ConfigError> {
        for (field, value, limit) in [
            ("interval_ms_max", self.interval_ms_max, MAX_NEMESIS_MS),
            ("duration_ms_max", self.duration_ms_max, MAX_NEMESIS_MS),
            (
                "clock_step_us_max",
                self.clock_step_us_max,
                MAX_CLOCK_STEP_US,
            ),
        ] {
            if value > limit {
                return Err(ConfigError::new(
                    field,
                    format!("{value} is beyond the largest accepted value, {limit}"),
                ));
            }
        }
        if let Some(bad) = self.targets.iter().find(|n| n.index() >= node_count) {
            return Err(ConfigError::new(
                "targets",
                format!("no node {} (there are {node_count})", bad.0),
            ));
        }
        if self.interval_ms_max < self.interval_ms_min || self.interval_ms_max == 0 {
            return Err(ConfigError::new(
                "interval_ms_max",
                format!(
                    "must be positive and at least interval_ms_min ({})",
                    self.interval_ms_min
                ),
            ));
        }
        if self.duration_ms_max < self.duration_ms_min {
            return Err(ConfigError::new(
                "duration_ms_max",
                format!(
                    "must be at least duration_ms_min ({})",
                    self.duration_ms_min
                ),
            ));
        }
        if self.weights.as_array().iter().all(|&w| w == 0) {
            return Err(ConfigError::new(
                "weights",
                "every weight is zero: the nemesis would do nothing",
            ));
        }
        self.degraded_link
            .validate()
            .map_err(|e| e.within("degraded_link"))
    }
}

/// A fault the nemesis chose, and how (and when) to undo it.
#[derive(Clone, Debug)]
pub struct NemesisStrike {
    pub fault: Fault,
    pub undo_after: Duration,
    pub undo: Fault,
}

#[derive(Debug)]
pub struct Nemesis {
    config: NemesisConfig,
    weights: FaultWeights,
    targets: Vec<NodeId>,
    rng: SimRng,
}

impl Nemesis {
    pub fn new(config: NemesisConfig, node_count: usize, mut rng: SimRng) -> Nemesis {
        let targets = if config.targets.is_empty() {
            (0..node_count as u32).map(NodeId).collect()
        } else {
            config.targets.clone()
        };
        let weights = if config.swarm {
            draw_swarm(config.weights, &mut rng)
        } else {
            config.weights
        };
        Nemesis {
            config,
            weights,
            targets,
            rng,
        }
    }

    /// The mix in force for this seed.
    pub fn weights(&self) -> FaultWeights {
        self.weights
    }

    /// Time until the next strike.
    pub fn next_gap(&mut self) -> Duration {
        let ms = self.rng.between(
            self.config.interval_ms_min,
            self.config.interval_ms_max.saturating_add(1),
        );
        Duration::from_millis(ms)
    }

    /// Picks the next fault. `is_down` tells which targets are crashed or
    /// paused now. Returns `None` when the chosen kind has nothing to act on.
    pub fn strike(
        &mut self,
        is_down: impl Fn(NodeId) -> bool,
        node_count: usize,
    ) -> Option<NemesisStrike> {
        let kind = self.rng.weighted(&self.weights.as_array())?;
        let undo_after = Duration::from_millis(self.rng.between(
            self.config.duration_ms_min,
            self.config.duration_ms_max.saturating_add(1),
        ));
        let down = self.targets.iter().filter(|&&n| is_down(n)).count() as u32;
        let up: Vec<NodeId> = self
            .targets
            .iter()
            .copied()
            .filter(|&n| !is_down(n))
            .collect();
        let (fault, undo) = match kind {
            0 => (
                Fault::Partition(self.pick_partition(node_count)),
                Fault::Heal,
            ),
            1 | 2 if down >= self.config.max_down || up.is_empty() => return None,
            1 => {
                let node = up[self.rng.index(up.len())];
                (Fault::Crash(node), Fault::Restart(node))
            }
            2 => {
                let node = up[self.rng.index(up.len())];
                (Fault::Pause(node), Fault::Resume(node))
            }
            3 => {
                let node = self.targets[self.rng.index(self.targets.len())];
                let magnitude = self.rng.between(
                    1,
                    self.config
                        .clock_step_us_max
                        .clamp(1, MAX_CLOCK_STEP_US)
                        .saturating_add(1),
                ) as i64;
                let delta_us = if self.rng.chance(500_000) {
                    magnitude
                } else {
                    -magnitude
                };
                (
                    Fault::ClockStep { node, delta_us },
                    Fault::ClockStep {
                        node,
                        delta_us: -delta_us,
                    },
                )
            }
            _ => {
                let node = self.targets[self.rng.index(self.targets.len())];
                let link = self.config.degraded_link;
                (
                    Fault::Link {
                        from: Some(node),
                        to: None,
                        link,
                    },
                    Fault::ResetLinks,
                )
            }
        };
        Some(NemesisStrike {
            fault,
            undo_after,
            undo,
        })
    }

    /// Isolates one target, or splits the targets in two (a bridge when
    /// there are enough), putting every other node (clients) on a random
    /// side so clients keep reaching some servers.
    fn pick_partition(&mut self, node_count: usize) -> Partition {
        let mut shuffled = self.targets.clone();
        for i in (1..shuffled.len()).rev() {
            let j = self.rng.index(i + 1);
            shuffled.swap(i, j);
        }
        match self.rng.below(3) {
            0 => Partition::Isolate(shuffled[0]),
            1 if shuffled.len() >= 3 => {
                let bridge = shuffled.pop().expect("at least 3");
                let right = shuffled.split_off(shuffled.len() / 2);
                Partition::Bridge {
                    left: shuffled,
                    bridge,
                    right,
                }
            }
            _ => {
                let cut = 1 + self.rng.index(shuffled.len().max(2) - 1);
                let mut right = shuffled.split_off(cut.min(shuffled.len()));
                let mut left = shuffled;
                for other in (0..node_count as u32)
                    .map(NodeId)
                    .filter(|n| !self.targets.contains(n))
                {
                    if self.rng.chance(500_000) {
                        left.push(other)
                    } else {
                        right.push(other)
                    }
                }
                Partition::Groups(vec![left, right])
            }
        }
    }
}

fn draw_swarm(max: FaultWeights, rng: &mut SimRng) -> FaultWeights {
    let max = max.as_array();
    let mut drawn = [0u32; 5];
    for (d, &m) in drawn.iter_mut().zip(&max) {
        if m > 0 && rng.chance(500_000) {
            *d = 1 + rng.below(u64::from(m)) as u32;
        }
    }
    if drawn.iter().all(|&w| w == 0) {
        let enabled: Vec<usize> = (0..5).filter(|&i| max[i] > 0).collect();
        let keep = enabled[rng.index(enabled.len())];
        drawn[keep] = max[keep];
    }
    FaultWeights::from_array(drawn)
}
