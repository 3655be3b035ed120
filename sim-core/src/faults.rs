//! The fault plan: faults are data. A `TimedFault` says what goes wrong,
//! when, and optionally for how long; the engine applies it as an
//! ordinary event, and every fault is a trace event. A fault with a
//! duration undoes only its own effect when it ends (its own cut, its own
//! link change, its own clock step), never a global heal. Random faults
//! come from the nemesis (`nemesis.rs`), as timed faults with durations.

use crate::link::{ConfigError, LinkConfig};
use crate::node::NodeId;
use crate::partition::Partition;

/// One thing that goes wrong.
#[derive(Clone, PartialEq, Eq, Hash, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Fault<N = NodeId> {
    /// Cut the network (added to any cuts already in place).
    Partition(Partition<N>),
    /// Remove every cut.
    Heal,
    /// The node stops at once; its volatile state, its timers and the
    /// messages in flight to it are lost. Its durable state survives.
    Crash(N),
    /// A crashed (or shut down) node boots again from its durable state.
    Restart(N),
    /// A graceful shutdown: the node is told (`Node::on_shutdown`) and
    /// keeps running for `grace_ms`, then stops. Unlike a crash it keeps
    /// everything it wrote, synced or not (a clean stop flushes the disk).
    Shutdown {
        node: N,
        /// How long the node may act before it stops, in milliseconds.
        grace_ms: u64,
    },
    /// The node freezes (a GC pause, a VM migration): its timers and
    /// deliveries wait until it resumes. Nothing is lost.
    Pause(N),
    Resume(N),
    /// The node's wall clock jumps by `delta_us` (negative: backwards).
    ClockStep {
        node: N,
        /// How far the clock jumps, in microseconds.
        delta_us: i64,
    },
    /// The node's clock runs fast or slow from now on.
    ClockDrift {
        node: N,
        /// Rate error in parts per million (+100 gains 100 µs per second).
        drift_ppm: i32,
    },
    /// Links from `from` to `to` (a missing end means every node) behave
    /// like `link` from now on.
    Link {
        from: Option<N>,
        to: Option<N>,
        link: LinkConfig,
    },
    /// Every link returns to its configured behaviour.
    ResetLinks,
    /// Every connection of the node breaks at once (a reset, a proxy
    /// dropping its sockets): what is in flight on them is lost, and each
    /// end is told after its own detection delay.
    ConnReset(N),
    /// Every connection of the node freezes: nothing on them moves until
    /// the stall ends (its duration, or the heal), then everything
    /// arrives in order. Connections opened meanwhile are not stalled.
    ConnStall(N),
}

impl<N> Fault<N> {
    /// Every node the fault names.
    pub fn nodes(&self) -> Vec<&N> {
        match self {
            Fault::Partition(p) => p.nodes(),
            Fault::Crash(n)
            | Fault::Restart(n)
            | Fault::Pause(n)
            | Fault::Resume(n)
            | Fault::ConnReset(n)
            | Fault::ConnStall(n) => vec![n],
            Fault::ClockStep { node, .. }
            | Fault::ClockDrift { node, .. }
            | Fault::Shutdown { node, .. } => vec![node],
            Fault::Link { from, to, .. } => from.iter().chain(to).collect(),
            Fault::Heal | Fault::ResetLinks => Vec::new(),
        }
    }

    /// The same fault with every node renamed by `f`.
    pub fn resolve<M, E>(&self, f: &mut impl FnMut(&N) -> Result<M, E>) -> Result<Fault<M>, E> {
        let mut opt = |n: &Option<N>| n.as_ref().map(&mut *f).transpose();
        Ok(match self {
            Fault::Partition(p) => Fault::Partition(p.resolve(f)?),
            Fault::Heal => Fault::Heal,
            Fault::Crash(n) => Fault::Crash(f(n)?),
            Fault::Restart(n) => Fault::Restart(f(n)?),
            Fault::Shutdown { node, grace_ms } => Fault::Shutdown {
                node: f(node)?,
                grace_ms: *grace_ms,
            },
            Fault::Pause(n) => Fault::Pause(f(n)?),
            Fault::Resume(n) => Fault::Resume(f(n)?),
            Fault::ClockStep { node, delta_us } => Fault::ClockStep {
                node: f(node)?,
                delta_us: *delta_us,
            },
            Fault::ClockDrift { node, drift_ppm } => Fault::ClockDrift {
                node: f(node)?,
                drift_ppm: *drift_ppm,
            },
            Fault::Link { from, to, link } => Fault::Link {
                from: opt(from)?,
                to: opt(to)?,
                link: *link,
            },
            Fault::ResetLinks => Fault::ResetLinks,
            Fault::ConnReset(n) => Fault::ConnReset(f(n)?),
            Fault::ConnStall(n) => Fault::ConnStall(f(n)?),
        })
    }

    /// Can this fault be given a duration (and so undo itself)? The
    /// faults that only undo others (heal, restart, resume, reset) cannot.
    pub fn can_last(&self) -> bool {
        !matches!(
            self,
            Fault::Heal
                | Fault::Restart(_)
                | Fault::Resume(_)
                | Fault::ResetLinks
                | Fault::ConnReset(_)
        )
    }
}

impl Fault {
    /// Checks node ids and values; the error names the field.
    pub fn validate(&self, node_count: usize) -> Result<(), ConfigError> {
        if let Some(bad) = self.nodes().into_iter().find(|n| n.index() >= node_count) {
            return Err(ConfigError::new(
                "",
                format!(
                    "names node {}, but there are only {node_count} nodes",
                    bad.0
                ),
            ));
        }
        match self {
            Fault::ClockDrift { drift_ppm, .. }
                if drift_ppm.abs() > crate::clock::DRIFT_PPM_LIMIT =>
            {
                Err(ConfigError::new(
                    "drift_ppm",
                    format!(
                        "{drift_ppm} ppm is beyond ±{} ppm",
                        crate::clock::DRIFT_PPM_LIMIT
                    ),
                ))
            }
            Fault::Link { link, .. } => link.validate().map_err(|e| e.within("link")),
            Fault::Shutdown { grace_ms, .. } if *grace_ms > crate::nemesis::MAX_NEMESIS_MS => {
                Err(ConfigError::new(
                    "grace_ms",
                    format!(
                        "{grace_ms} ms is beyond the longest accepted grace period, {} ms",
                        crate::nemesis::MAX_NEMESIS_MS
                    ),
                ))
            }
            _ => Ok(()),
        }
    }
}

/// A fault, the true time it strikes, and how long it lasts.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimedFault<N = NodeId> {
    /// When, in milliseconds since the start of the run.
    pub at_ms: u64,
    pub fault: Fault<N>,
    /// How long it lasts, in milliseconds: then exactly its own effect is
    /// undone (its cut removed, its link change dropped, the node
    /// restarted or resumed, the clock stepped back, the drift restored).
    /// Unset: until another fault undoes it (a heal, a restart, ...). A
    /// fault still in force when the liveness phase begins is undone then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

impl<N> TimedFault<N> {
    /// A fault at `at_ms` that lasts until something undoes it.
    pub fn at(at_ms: u64, fault: Fault<N>) -> TimedFault<N> {
        TimedFault {
            at_ms,
            fault,
            duration_ms: None,
        }
    }
}
