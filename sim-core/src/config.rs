//! Everything that shapes one run besides the nodes themselves: seed,
//! network, clocks, faults, liveness phase, limits. Scenario files build
//! this; the engine only reads it.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::{ClockConfig, DRIFT_PPM_LIMIT};
use crate::disk::DiskConfig;
use crate::faults::TimedFault;
use crate::link::ConfigError;
use crate::nemesis::NemesisConfig;
use crate::network::{NetworkConfig, Topology};
use crate::time::SimTime;

#[derive(Clone, Debug)]
pub struct SimConfig {
    pub seed: u64,
    /// Which links exist; a full mesh when `None`.
    pub topology: Option<Topology>,
    pub network: NetworkConfig,
    /// Per-node clocks, by node index; nodes past the end read true time.
    pub clocks: Vec<ClockConfig>,
    /// Per-node disks, by node index; nodes past the end write through
    /// (every write on disk at once).
    pub disks: Vec<DiskConfig>,
    /// Faults at fixed times.
    pub faults: Vec<TimedFault>,
    /// Random faults, if any.
    pub nemesis: Option<NemesisConfig>,
    /// When faults stop and operations must finish.
    pub liveness: Option<LivenessConfig>,
    /// The run stops when simulated time passes this.
    pub duration: Duration,
    pub limits: Limits,
    /// Keep every trace event (for replay and reports), not only the digest.
    pub record_trace: bool,
    /// Node names by index, for the engine's own messages (a liveness
    /// failure names the node); past the end, a node is `n<index>`.
    /// Shared: a sweep's every seed, and its record, hold the same list.
    pub node_names: Arc<[String]>,
}

impl SimConfig {
    /// A quiet network, no faults, ten simulated seconds.
    pub fn new(seed: u64) -> SimConfig {
        SimConfig {
            seed,
            topology: None,
            network: NetworkConfig::default(),
            clocks: Vec::new(),
            disks: Vec::new(),
            faults: Vec::new(),
            nemesis: None,
            liveness: None,
            duration: Duration::from_secs(10),
            limits: Limits::default(),
            record_trace: false,
            node_names: Arc::default(),
        }
    }

    pub fn end(&self) -> SimTime {
        SimTime::ZERO + self.duration
    }

    /// Cross-field checks; the error names the field path.
    pub fn validate(&self, node_count: usize) -> Result<(), ConfigError> {
        if let Some(t) = &self.topology
            && t.node_count() != node_count
        {
            return Err(ConfigError::new(
                "topology",
                format!("has {} nodes, the design has {node_count}", t.node_count()),
            ));
        }
        self.network
            .validate(node_count)
            .map_err(|e| e.within("network"))?;
        for (i, c) in self.clocks.iter().enumerate() {
            if i >= node_count {
                return Err(ConfigError::new(
                    &format!("clocks[{i}]"),
                    format!("there are only {node_count} nodes"),
                ));
            }
            if c.drift_ppm.abs() > DRIFT_PPM_LIMIT {
                return Err(ConfigError::new(
                    &format!("clocks[{i}].drift_ppm"),
                    format!("{} ppm is beyond ±{DRIFT_PPM_LIMIT} ppm", c.drift_ppm),
                ));
            }
        }
        for (i, d) in self.disks.iter().enumerate() {
            if i >= node_count {
                return Err(ConfigError::new(
                    &format!("disks[{i}]"),
                    format!("there are only {node_count} nodes"),
                ));
            }
            d.validate().map_err(|e| e.within(&format!("disks[{i}]")))?;
        }
        let end_ms = self.duration.as_millis();
        let faults_until_ms = self.liveness.map_or(end_ms, |l| u128::from(l.heal_at_ms));
        for (i, f) in self.faults.iter().enumerate() {
            let at = format!("faults[{i}]");
            f.fault
                .validate(node_count)
                .map_err(|e| e.within("fault").within(&at))?;
            if u128::from(f.at_ms) >= faults_until_ms {
                let why = if self.liveness.is_some() {
                    "the liveness phase starts"
                } else {
                    "the run ends"
                };
                return Err(ConfigError::new(
                    "at_ms",
                    format!("{} ms is not before {why} ({faults_until_ms} ms)", f.at_ms),
                )
                .within(&at));
            }
            if let Some(duration) = f.duration_ms {
                if !f.fault.can_last() {
                    return Err(ConfigError::new(
                        "duration_ms",
                        "this fault only undoes others, so it has no duration of its own",
                    )
                    .within(&at));
                }
                if duration == 0 || duration > crate::nemesis::MAX_NEMESIS_MS {
                    return Err(ConfigError::new(
                        "duration_ms",
                        format!(
                            "{duration} ms: a duration must be between 1 ms and {} ms",
                            crate::nemesis::MAX_NEMESIS_MS
                        ),
                    )
                    .within(&at));
                }
            }
        }
        if let Some(n) = &self.nemesis {
            n.validate(node_count).map_err(|e| e.within("nemesis"))?;
        }
        if let Some(l) = self.liveness {
            let needed = u128::from(l.heal_at_ms) + u128::from(l.bound_ms);
            if needed > end_ms {
                return Err(ConfigError::new(
                    "liveness.bound_ms",
                    format!(
                        "heal_at_ms + bound_ms = {needed} ms runs past the end of the run ({end_ms} ms): \
                         the bound could never be checked"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The liveness phase: at `heal_at_ms` every fault is undone and no new
/// ones come; then operations must finish within `bound_ms`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LivenessConfig {
    /// When faults stop and everything heals, in milliseconds.
    pub heal_at_ms: u64,
    /// How long operations may take after that, in milliseconds.
    pub bound_ms: u64,
    /// Operations invoked after the heal must complete `Ok`: a `Fail`
    /// ("try again later") counts as not finished, so a design stuck
    /// refusing forever is not live. Off: any definite answer will do.
    #[serde(default)]
    pub require_ok: bool,
}

impl LivenessConfig {
    pub fn heal_at(&self) -> SimTime {
        SimTime::from_millis(self.heal_at_ms)
    }
    pub fn bound(&self) -> Duration {
        Duration::from_millis(self.bound_ms)
    }
}

/// Limits on a run; hitting one ends the run with `Verdict::LimitReached`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Most engine events (queue pops) in one run.
    pub max_events: u64,
    /// Most events pending at once (messages in flight plus timers).
    pub max_pending: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_events: 50_000_000,
            max_pending: 1_000_000,
        }
    }
}
