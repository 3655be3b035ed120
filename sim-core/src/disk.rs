//! Disks: when a node's durable writes survive a crash.
//!
//! A node writes its durable state through `Ctx::durable`, and sees its
//! writes at once. On an unbuffered disk (the default) every write is on
//! disk at once: a crash loses nothing the node wrote. On a buffered disk,
//! as behind an operating system's page cache, a write survives a crash
//! only once a sync that began after it has completed; a sync takes the
//! disk's latency, and syncs complete in the order they began. A crash
//! rolls the node's durable state back to what the last completed sync
//! saw. That is how "acknowledged before it was on disk" bugs become
//! catchable: the acknowledgement can race the sync, and lose.
//!
//! The engine keeps, per buffered node, the state as of the last completed
//! sync beside the state the node sees; a sync copies the state it covers.
//! An unbuffered disk copies nothing, ever.

use std::time::Duration;

use crate::link::{ConfigError, Latency};
use crate::rng::LazyRng;
use crate::time::SimTime;

/// How one node's disk behaves.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiskConfig {
    /// Writes survive a crash only once a sync has completed. Off: every
    /// write is on disk at once, and a sync completes at once.
    pub buffered: bool,
    /// How long a sync takes on a buffered disk (default: uniform in 1–5
    /// ms, an SSD's fsync).
    pub sync_latency: Latency,
}

impl Default for DiskConfig {
    fn default() -> Self {
        DiskConfig {
            buffered: false,
            sync_latency: Latency::Uniform {
                min_us: 1_000,
                max_us: 5_000,
            },
        }
    }
}

impl DiskConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.sync_latency
            .validate()
            .map_err(|e| e.within("sync_latency"))
    }
}

/// A node's disk while running: its configuration, the state as of the
/// last completed sync (buffered disks only), and the syncs in progress.
#[derive(Debug)]
pub(crate) struct Disk<D> {
    config: DiskConfig,
    /// What a crash rolls back to (buffered disks only).
    synced: Option<D>,
    /// When the last sync begun will complete: syncs complete in order.
    last_sync_done: SimTime,
    rng: LazyRng,
}

impl<D: Clone> Disk<D> {
    pub(crate) fn new(config: DiskConfig, initial: &D, rng: LazyRng) -> Disk<D> {
        Disk {
            config,
            synced: config.buffered.then(|| initial.clone()),
            last_sync_done: SimTime::ZERO,
            rng,
        }
    }

    pub(crate) fn is_buffered(&self) -> bool {
        self.config.buffered
    }

    /// Begins a sync of `current` at `now`: returns when it completes and
    /// the copy it covers (none for an unbuffered disk, whose writes are
    /// already safe).
    pub(crate) fn begin_sync(&mut self, current: &D, now: SimTime) -> (SimTime, Option<D>) {
        if !self.config.buffered {
            return (now, None);
        }
        let latency = Duration::from_nanos(self.config.sync_latency.sample_ns(self.rng.get()));
        let done = (now + latency).max(self.last_sync_done);
        self.last_sync_done = done;
        (done, Some(current.clone()))
    }

    /// A sync completed: its copy is what a crash now rolls back to.
    pub(crate) fn complete_sync(&mut self, copy: D) {
        self.synced = Some(copy);
    }

    /// What the node's durable state becomes after a crash: the last
    /// synced copy on a buffered disk, `None` (keep it) otherwise.
    pub(crate) fn after_crash(&self) -> Option<D> {
        self.synced.clone()
    }

    /// A clean stop flushed everything: `current` is on disk.
    pub(crate) fn flushed(&mut self, current: &D) {
        if self.config.buffered {
            self.synced = Some(current.clone());
        }
    }
}
