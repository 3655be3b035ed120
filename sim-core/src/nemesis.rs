//! The random fault generator ("nemesis"). Every so often it picks a fault
//! among the kinds it is allowed, applies it to a random target of that
//! kind, and gives it a duration, after which the engine undoes exactly
//! that fault. With `swarm` on, the mix itself is drawn per seed (some
//! seeds only partition, some only crash, some do everything), which
//! finds more bugs than one fixed mix (Groce et al., "Swarm Testing").
//! Each kind has its own target set, so a scenario can crash the app
//! servers, skew the store's clocks and partition anyone.

use std::collections::BTreeMap;
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
    /// Nodes it may strike with any kind of fault (usually the servers,
    /// not the clients). Empty means the design's default targets.
    pub targets: Vec<N>,
    /// Targets for one kind instead of `targets` (e.g. crash only the app
    /// servers, skew only the store's clocks). An empty list disables the
    /// kind.
    pub targets_per_kind: BTreeMap<FaultKind, Vec<N>>,
    /// Shortest gap between two faults, in milliseconds.
    pub interval_ms_min: u64,
    /// Longest gap between two faults, in milliseconds.
    pub interval_ms_max: u64,
    /// Shortest time a fault lasts before it is undone, in milliseconds.
    pub duration_ms_min: u64,
    /// Longest time a fault lasts before it is undone, in milliseconds.
    pub duration_ms_max: u64,
    /// At most this many nodes crashed, paused or shutting down at once.
    pub max_down: u32,
    /// Relative weight of each kind of fault; zero disables a kind.
    pub weights: FaultWeights,
    /// Largest clock jump of a clock-step fault, in microseconds.
    pub clock_step_us_max: u64,
    /// How a target's links behave during a link fault.
    pub degraded_link: LinkConfig,
    /// How long a node told to shut down may act before it stops, in
    /// milliseconds.
    pub shutdown_grace_ms: u64,
    /// Draw the mix per seed: each enabled kind is kept with even odds
    /// (at least one stays) with a weight up to its configured weight.
    pub swarm: bool,
}

/// The kinds of fault the nemesis chooses among.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, serde::Serialize, serde::Deserialize,
)]
pub enum FaultKind {
    Partition,
    Crash,
    Pause,
    ClockStep,
    Link,
    Shutdown,
    ConnReset,
    ConnStall,
}

impl FaultKind {
    /// Every kind, in the fixed order draws are made in.
    pub const ALL: [FaultKind; 8] = [
        FaultKind::Partition,
        FaultKind::Crash,
        FaultKind::Pause,
        FaultKind::ClockStep,
        FaultKind::Link,
        FaultKind::Shutdown,
        FaultKind::ConnReset,
        FaultKind::ConnStall,
    ];

    /// Does this kind take its node down (for `max_down`)?
    fn takes_down(self) -> bool {
        matches!(
            self,
            FaultKind::Crash | FaultKind::Pause | FaultKind::Shutdown
        )
    }
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
    /// Graceful shutdowns (then a restart).
    pub shutdown: u32,
    /// Resets of a node's connections. Zero unless set: only designs that
    /// use connections have any to break. (Left out of the digest while
    /// zero, so runs without connections keep their digests.)
    #[serde(skip_serializing_if = "is_zero")]
    pub conn_reset: u32,
    /// Stalls of a node's connections; zero unless set, as `conn_reset`.
    #[serde(skip_serializing_if = "is_zero")]
    pub conn_stall: u32,
}

fn is_zero(weight: &u32) -> bool {
    *weight == 0
}

impl Default for FaultWeights {
    fn default() -> Self {
        FaultWeights {
            partition: 1,
            crash: 1,
            pause: 1,
            clock_step: 1,
            link: 1,
            shutdown: 1,
            conn_reset: 0,
            conn_stall: 0,
        }
    }
}

impl FaultWeights {
    pub fn get(&self, kind: FaultKind) -> u32 {
        match kind {
            FaultKind::Partition => self.partition,
            FaultKind::Crash => self.crash,
            FaultKind::Pause => self.pause,
            FaultKind::ClockStep => self.clock_step,
            FaultKind::Link => self.link,
            FaultKind::Shutdown => self.shutdown,
            FaultKind::ConnReset => self.conn_reset,
            FaultKind::ConnStall => self.conn_stall,
        }
    }

    fn get_mut(&mut self, kind: FaultKind) -> &mut u32 {
        match kind {
            FaultKind::Partition => &mut self.partition,
            FaultKind::Crash => &mut self.crash,
            FaultKind::Pause => &mut self.pause,
            FaultKind::ClockStep => &mut self.clock_step,
            FaultKind::Link => &mut self.link,
            FaultKind::Shutdown => &mut self.shutdown,
            FaultKind::ConnReset => &mut self.conn_reset,
            FaultKind::ConnStall => &mut self.conn_stall,
        }
    }

    /// Only `kind`, at weight 1.
    pub fn only(kind: FaultKind) -> FaultWeights {
        let mut weights = FaultWeights::ZERO;
        *weights.get_mut(kind) = 1;
        weights
    }

    /// No weights at all.
    pub const ZERO: FaultWeights = FaultWeights {
        partition: 0,
        crash: 0,
        pause: 0,
        clock_step: 0,
        link: 0,
        shutdown: 0,
        conn_reset: 0,
        conn_stall: 0,
    };
}

impl<N> Default for NemesisConfig<N> {
    fn default() -> Self {
        NemesisConfig {
            targets: Vec::new(),
            targets_per_kind: BTreeMap::new(),
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
            shutdown_grace_ms: 200,
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
        let mut targets_per_kind = BTreeMap::new();
        for (kind, targets) in &self.targets_per_kind {
            let targets = targets.iter().map(&mut *f).collect::<Result<_, E>>()?;
            targets_per_kind.insert(*kind, targets);
        }
        Ok(NemesisConfig {
            targets: self.targets.iter().map(&mut *f).collect::<Result<_, E>>()?,
            targets_per_kind,
            interval_ms_min: self.interval_ms_min,
            interval_ms_max: self.interval_ms_max,
            duration_ms_min: self.duration_ms_min,
            duration_ms_max: self.duration_ms_max,
            max_down: self.max_down,
            weights: self.weights,
            clock_step_us_max: self.clock_step_us_max,
            degraded_link: self.degraded_link,
            shutdown_grace_ms: self.shutdown_grace_ms,
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
            ("shutdown_grace_ms", self.shutdown_grace_ms, MAX_NEMESIS_MS),
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
        let lists = std::iter::once(("targets".to_owned(), &self.targets)).chain(
            self.targets_per_kind
                .iter()
                .map(|(kind, targets)| (format!("targets_per_kind[{kind:?}]"), targets)),
        );
        for (field, targets) in lists {
            if let Some(bad) = targets.iter().find(|n| n.index() >= node_count) {
                return Err(ConfigError::new(
                    &field,
                    format!("no node {} (there are {node_count})", bad.0),
                ));
            }
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
        if self.weights == FaultWeights::ZERO {
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

/// A fault the nemesis chose and how long it lasts; the engine undoes
/// exactly this fault when the time is up.
#[derive(Clone, Debug)]
pub struct NemesisStrike {
    pub fault: Fault,
    pub duration: Duration,
}

#[derive(Debug)]
pub struct Nemesis {
    config: NemesisConfig,
    weights: FaultWeights,
    /// Each kind's targets, by `FaultKind::ALL` index.
    targets: [Vec<NodeId>; 8],
    /// Nodes some kind may take down, for `max_down`.
    downable: Vec<NodeId>,
    rng: SimRng,
}

impl Nemesis {
    pub fn new(config: NemesisConfig, node_count: usize, mut rng: SimRng) -> Nemesis {
        let every: Vec<NodeId> = if config.targets.is_empty() {
            (0..node_count as u32).map(NodeId).collect()
        } else {
            config.targets.clone()
        };
        let targets = FaultKind::ALL.map(|kind| {
            config
                .targets_per_kind
                .get(&kind)
                .cloned()
                .unwrap_or_else(|| every.clone())
        });
        let mut downable: Vec<NodeId> = FaultKind::ALL
            .iter()
            .zip(&targets)
            .filter(|(kind, _)| kind.takes_down())
            .flat_map(|(_, nodes)| nodes.iter().copied())
            .collect();
        downable.sort();
        downable.dedup();
        let weights = if config.swarm {
            draw_swarm(config.weights, &mut rng)
        } else {
            config.weights
        };
        Nemesis {
            config,
            weights,
            targets,
            downable,
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

    fn targets_of(&self, kind: FaultKind) -> &[NodeId] {
        let index = FaultKind::ALL
            .iter()
            .position(|&k| k == kind)
            .expect("listed");
        &self.targets[index]
    }

    /// Picks the next fault. `is_down` tells which nodes are crashed,
    /// paused or shutting down now. Returns `None` when the chosen kind
    /// has nothing to act on.
    pub fn strike(
        &mut self,
        is_down: impl Fn(NodeId) -> bool,
        node_count: usize,
    ) -> Option<NemesisStrike> {
        let weights = FaultKind::ALL.map(|kind| {
            if self.targets_of(kind).is_empty() {
                0
            } else {
                self.weights.get(kind)
            }
        });
        let kind = FaultKind::ALL[self.rng.weighted(&weights)?];
        let duration = Duration::from_millis(self.rng.between(
            self.config.duration_ms_min,
            self.config.duration_ms_max.saturating_add(1),
        ));
        let targets = self.targets_of(kind).to_vec();
        let fault = match kind {
            FaultKind::Partition => Fault::Partition(self.pick_partition(&targets, node_count)),
            FaultKind::Crash | FaultKind::Pause | FaultKind::Shutdown => {
                let down = self.downable.iter().filter(|&&n| is_down(n)).count() as u32;
                let up: Vec<NodeId> = targets.into_iter().filter(|&n| !is_down(n)).collect();
                if down >= self.config.max_down || up.is_empty() {
                    return None;
                }
                let node = up[self.rng.index(up.len())];
                match kind {
                    FaultKind::Crash => Fault::Crash(node),
                    FaultKind::Pause => Fault::Pause(node),
                    _ => Fault::Shutdown {
                        node,
                        grace_ms: self.config.shutdown_grace_ms,
                    },
                }
            }
            FaultKind::ClockStep => {
                let node = targets[self.rng.index(targets.len())];
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
                Fault::ClockStep { node, delta_us }
            }
            FaultKind::Link => Fault::Link {
                from: Some(targets[self.rng.index(targets.len())]),
                to: None,
                link: self.config.degraded_link,
            },
            FaultKind::ConnReset => Fault::ConnReset(targets[self.rng.index(targets.len())]),
            FaultKind::ConnStall => Fault::ConnStall(targets[self.rng.index(targets.len())]),
        };
        Some(NemesisStrike { fault, duration })
    }

    /// Isolates one target, or splits the targets in two (a bridge when
    /// there are enough), putting every other node (clients) on a random
    /// side so clients keep reaching some servers.
    fn pick_partition(&mut self, targets: &[NodeId], node_count: usize) -> Partition {
        let mut shuffled = targets.to_vec();
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
                    .filter(|n| !targets.contains(n))
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
    let mut drawn = FaultWeights::ZERO;
    for kind in FaultKind::ALL {
        let m = max.get(kind);
        if m > 0 && rng.chance(500_000) {
            *drawn.get_mut(kind) = 1 + rng.below(u64::from(m)) as u32;
        }
    }
    if drawn == FaultWeights::ZERO {
        let enabled: Vec<FaultKind> = FaultKind::ALL
            .into_iter()
            .filter(|&kind| max.get(kind) > 0)
            .collect();
        let keep = enabled[rng.index(enabled.len())];
        *drawn.get_mut(keep) = max.get(keep);
    }
    drawn
}
