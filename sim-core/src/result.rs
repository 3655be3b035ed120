//! What a run produces: the verdict, the fingerprint, counts, metrics, the
//! history, and (when recording) the trace.

use crate::check::Verdict;
use crate::fault_log::FaultWindow;
use crate::history::History;
use crate::metrics::Metrics;
use crate::nemesis::FaultWeights;
use crate::time::SimTime;
use crate::trace::TraceEvent;

#[derive(Clone, Debug)]
pub struct RunResult<O, R> {
    pub seed: u64,
    pub verdict: Verdict,
    /// XXH3-128 of the trace, 32 hex digits: the run's fingerprint.
    pub digest: String,
    pub stats: RunStats,
    pub metrics: Metrics,
    pub history: History<O, R>,
    /// The random fault mix drawn for this seed, if a nemesis ran.
    pub nemesis_weights: Option<FaultWeights>,
    /// When each fault was in force, in the order they struck.
    pub fault_windows: Vec<FaultWindow>,
    /// Every nemesis strike, as a timed fault (the plan `dsim record` writes).
    pub nemesis_plan: Vec<crate::faults::TimedFault>,
    /// Every trace event, when `SimConfig::record_trace` was set.
    pub trace: Option<Vec<TraceEvent>>,
}

/// Counts of what the engine did.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct RunStats {
    /// Engine events processed (queue pops).
    pub events: u64,
    /// Trace events written (sends, deliveries, drops, faults, ...).
    pub trace_events: u64,
    pub messages_sent: u64,
    pub messages_delivered: u64,
    pub messages_dropped: u64,
    pub messages_duplicated: u64,
    pub timers_fired: u64,
    pub faults: u64,
    /// Simulated time when the run stopped.
    pub end_time: SimTime,
}
