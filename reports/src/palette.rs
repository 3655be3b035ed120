//! The colours every plot shares, so an `ok` operation, a crash or a
//! partition looks the same in the timeline, the latency plots and the
//! space-time diagram. Outcome colours follow Jepsen's plots (blue ok,
//! orange info, red-pink fail), which many readers already know.

/// An operation that completed `ok`.
pub const OK: &str = "#2f7ed8";
/// An operation that completed `fail`: it certainly did not happen.
pub const FAIL: &str = "#e0245e";
/// An operation that completed `info` (timed out): it may have happened.
pub const INFO: &str = "#f39c12";

/// A node that is crashed.
pub const CRASHED: &str = "#5b616e";
/// A node that is paused.
pub const PAUSED: &str = "#8e6bbf";
/// A node on one side of a partition (sides cycle through these).
pub const PARTITION_SIDES: [&str; 4] = ["#e8a33d", "#b5523b", "#f2d16b", "#8a5a2b"];
/// A degraded link.
pub const LINK: &str = "#2a9d8f";
/// A connection's opens and closes in the space-time diagram.
pub const CONNECTION: &str = "#0e7490";
/// A clock step or drift change.
pub const CLOCK: &str = "#1d4ed8";

/// The liveness phase's start: faults stop, everything heals.
pub const LIVENESS: &str = "#1a7f37";
/// The violation.
pub const VIOLATION: &str = "#c62828";
/// A shaded window when any fault was active.
pub const FAULT_SHADE: &str = "#f2c14e";

/// Messages in the space-time diagram.
pub const MESSAGE: &str = "#4a5568";
pub const DUPLICATE: &str = "#b45309";
pub const DROP: &str = "#c62828";

/// The causal chain of the operations a verdict names, in the space-time
/// diagram.
pub const CHAIN: &str = "#b42318";
/// How much of everything outside that chain still shows.
pub const DIMMED_OPACITY: &str = "0.3";

/// Lines of a design's own plots, in the order its plot names series;
/// none is the liveness green or the violation red drawn over them.
pub const SERIES: [&str; 6] = [
    "#2f7ed8", "#8e44ad", "#d35400", "#16a085", "#7f8c8d", "#c2185b",
];

/// Verdicts in sweep strips: pass, then failure kinds in label order.
pub const PASS: &str = "#4caf50";
pub const FAILURE_KINDS: [&str; 5] = ["#d32f2f", "#f57c00", "#7b1fa2", "#1565c0", "#5d4037"];

/// A colour for the `index`-th failure label.
pub fn failure_kind(index: usize) -> &'static str {
    FAILURE_KINDS[index % FAILURE_KINDS.len()]
}
