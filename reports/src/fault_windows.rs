//! When each fault was in force, per node, read from the trace: a crash
//! or a shutdown lasts until the node's restart, a pause until its resume,
//! a partition until the next heal or its own end, a degraded link until
//! links are reset or its own end. Clock steps and drift changes are
//! instants. Each is read from the typed fault the
//! trace event carries. The fault timeline draws these; the latency plots
//! shade the times when any fault was active.

use sim_core::trace::{TraceEvent, TraceKind};
use sim_core::{Fault, NodeId};

use crate::fault_text::partition_sides;

/// More windows than this are not drawn; a report must stay small even
/// for a nemesis that struck all day.
pub const MAX_WINDOWS: usize = 1_500;

/// A span of time during which one node suffered one fault.
#[derive(Clone, PartialEq, Debug)]
pub struct FaultWindow {
    pub kind: WindowKind,
    /// The node's row (`NodeId` index).
    pub node: usize,
    pub start_ns: u64,
    pub end_ns: u64,
    /// Still in force when the run ended.
    pub open_at_end: bool,
    /// A short label for this node's part in the fault (`side A`).
    pub label: String,
    /// The fault as the trace describes it.
    pub detail: String,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WindowKind {
    Crashed,
    Paused,
    /// Cut off by a partition; `side` tells groups apart.
    Partitioned {
        side: usize,
    },
    Link,
    /// A fault event recorded without its typed fault (a record from
    /// before sim-core kept one): an instant on every row, since which
    /// nodes it struck and what ends it are unknown.
    Unread,
}

/// An instant fault on one node (a clock step or drift change).
#[derive(Clone, PartialEq, Debug)]
pub struct FaultMarker {
    pub node: usize,
    pub at_ns: u64,
    pub label: String,
    pub detail: String,
}

/// Everything the fault timeline shows.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct FaultPicture {
    pub windows: Vec<FaultWindow>,
    pub markers: Vec<FaultMarker>,
    /// When the liveness phase began.
    pub liveness_ns: Option<u64>,
    /// Windows and markers left out to respect `MAX_WINDOWS`.
    pub omitted: usize,
}

/// Reads the fault picture of a run from its trace.
pub fn read_faults(trace: &[TraceEvent], node_count: usize, end_ns: u64) -> FaultPicture {
    let mut reader = Reader {
        picture: FaultPicture::default(),
        open: Vec::new(),
        node_count,
    };
    for event in trace {
        reader.on_event(event);
    }
    for (_, open) in std::mem::take(&mut reader.open) {
        reader.close(open, end_ns, true);
    }
    let mut picture = reader.picture;
    picture
        .windows
        .sort_by_key(|w| (w.start_ns, w.node, w.end_ns));
    picture
}

impl FaultPicture {
    /// The times when any fault was in force, merged into disjoint spans.
    pub fn active_spans(&self) -> Vec<(u64, u64)> {
        let mut spans: Vec<(u64, u64)> = self
            .windows
            .iter()
            .map(|w| (w.start_ns, w.end_ns))
            .collect();
        spans.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(spans.len());
        for (start, end) in spans {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    }
}

struct Reader {
    picture: FaultPicture,
    /// Windows that have begun and not yet ended (`end_ns` not yet set),
    /// with the fault that began each.
    open: Vec<(Fault, FaultWindow)>,
    node_count: usize,
}

impl Reader {
    fn on_event(&mut self, event: &TraceEvent) {
        let at = event.time.as_nanos();
        let Some(fault) = &event.fault else {
            match event.kind {
                TraceKind::LivenessPhase => {
                    self.picture.liveness_ns.get_or_insert(at);
                }
                kind if is_fault_kind(kind) => self.mark_unread(at, event),
                _ => {}
            }
            return;
        };
        if event.kind == TraceKind::Undo {
            // A fault that lasted a while ended: only its own windows close.
            self.end_where(at, |cause, _| cause == fault);
            return;
        }
        match fault {
            Fault::Crash(node) => self.begin(WindowKind::Crashed, *node, at, "crashed", event),
            Fault::Shutdown { node, .. } => {
                self.begin(WindowKind::Crashed, *node, at, "shut down", event)
            }
            Fault::Pause(node) => self.begin(WindowKind::Paused, *node, at, "paused", event),
            Fault::Restart(node) => self.end_where(at, |_, w| {
                w.kind == WindowKind::Crashed && w.node == node.index()
            }),
            Fault::Resume(node) => self.end_where(at, |_, w| {
                w.kind == WindowKind::Paused && w.node == node.index()
            }),
            Fault::Partition(partition) => {
                for side in partition_sides(partition, self.node_count) {
                    let kind = WindowKind::Partitioned { side: side.side };
                    self.begin(kind, NodeId(side.node as u32), at, &side.label, event);
                }
            }
            Fault::Heal => {
                self.end_where(at, |_, w| matches!(w.kind, WindowKind::Partitioned { .. }))
            }
            Fault::Link { from, to, .. } => {
                let named: Vec<NodeId> = from.iter().chain(to).copied().collect();
                // A link with no named end degrades every node's links.
                let nodes: Vec<NodeId> = if named.is_empty() {
                    (0..self.node_count as u32).map(NodeId).collect()
                } else {
                    named
                };
                for node in nodes {
                    self.begin(WindowKind::Link, node, at, "degraded link", event);
                }
            }
            Fault::ResetLinks => self.end_where(at, |_, w| w.kind == WindowKind::Link),
            Fault::ClockStep { node, delta_us } => {
                let label = format!("clock step {:+.1} ms", *delta_us as f64 / 1000.0);
                self.mark_clock(*node, at, label, event);
            }
            Fault::ClockDrift { node, drift_ppm } => {
                self.mark_clock(*node, at, format!("clock drift {drift_ppm:+} ppm"), event);
            }
        }
    }

    fn begin(&mut self, kind: WindowKind, node: NodeId, at: u64, label: &str, event: &TraceEvent) {
        let cause = event.fault.clone().expect("only typed faults open windows");
        self.open.push((
            cause,
            FaultWindow {
                kind,
                node: node.index(),
                start_ns: at,
                end_ns: at,
                open_at_end: false,
                label: label.to_owned(),
                detail: event.detail.clone(),
            },
        ));
    }

    /// Ends every open window that `matches` (given the fault that began
    /// it).
    fn end_where(&mut self, at: u64, matches: impl Fn(&Fault, &FaultWindow) -> bool) {
        let (ending, staying): (Vec<_>, Vec<_>) = std::mem::take(&mut self.open)
            .into_iter()
            .partition(|(cause, w)| matches(cause, w));
        self.open = staying;
        for (_, open) in ending {
            self.close(open, at, false);
        }
    }

    fn close(&mut self, mut window: FaultWindow, at: u64, open_at_end: bool) {
        if self.picture.windows.len() >= MAX_WINDOWS {
            self.picture.omitted += 1;
            return;
        }
        window.end_ns = at.max(window.start_ns);
        window.open_at_end = open_at_end;
        self.picture.windows.push(window);
    }

    /// A fault with no typed form: only its text is known, and reading
    /// that text back is exactly what typed faults replaced.
    fn mark_unread(&mut self, at: u64, event: &TraceEvent) {
        for node in 0..self.node_count {
            let window = FaultWindow {
                kind: WindowKind::Unread,
                node,
                start_ns: at,
                end_ns: at,
                open_at_end: false,
                label: event.detail.clone(),
                detail: "recorded without fault data".to_owned(),
            };
            self.close(window, at, false);
        }
    }

    fn mark_clock(&mut self, node: NodeId, at: u64, label: String, event: &TraceEvent) {
        if self.picture.markers.len() >= MAX_WINDOWS {
            self.picture.omitted += 1;
            return;
        }
        self.picture.markers.push(FaultMarker {
            node: node.index(),
            at_ns: at,
            label,
            detail: event.detail.clone(),
        });
    }
}

/// The kinds sim-core records a fault with.
fn is_fault_kind(kind: TraceKind) -> bool {
    matches!(
        kind,
        TraceKind::Crash
            | TraceKind::Restart
            | TraceKind::Pause
            | TraceKind::Resume
            | TraceKind::ClockStep
            | TraceKind::ClockDrift
            | TraceKind::Partition
            | TraceKind::Heal
            | TraceKind::LinkChange
            | TraceKind::Undo
            | TraceKind::Shutdown
    )
}

#[cfg(test)]
mod tests {
    use sim_core::{Partition, SimTime};

    use super::*;

    /// A fault event as sim-core records it: node faults name their node.
    fn event(at_ms: u64, kind: TraceKind, fault: Fault) -> TraceEvent {
        let node = match &fault {
            Fault::Partition(_) | Fault::Link { .. } => None,
            other => other.nodes().first().map(|n| **n),
        };
        TraceEvent {
            event: at_ms,
            time: SimTime::from_millis(at_ms),
            kind,
            node,
            peer: None,
            message: None,
            detail: format!("{fault:?}"),
            fault: Some(fault),
            op: None,
        }
    }

    /// `(node, label, start_ms, end_ms, open_at_end)` per window.
    fn summary(picture: &FaultPicture) -> Vec<(usize, &str, u64, u64, bool)> {
        picture
            .windows
            .iter()
            .map(|w| {
                let ms = |ns: u64| ns / 1_000_000;
                (
                    w.node,
                    w.label.as_str(),
                    ms(w.start_ns),
                    ms(w.end_ns),
                    w.open_at_end,
                )
            })
            .collect()
    }

    #[test]
    fn crashes_last_until_restart_and_partitions_until_heal() {
        let groups = Partition::Groups(vec![vec![NodeId(0)], vec![NodeId(1)]]);
        let trace = vec![
            event(10, TraceKind::Crash, Fault::Crash(NodeId(1))),
            event(20, TraceKind::Partition, Fault::Partition(groups)),
            event(30, TraceKind::Restart, Fault::Restart(NodeId(1))),
            event(40, TraceKind::Heal, Fault::Heal),
            event(50, TraceKind::Pause, Fault::Pause(NodeId(2))),
        ];
        let picture = read_faults(&trace, 3, SimTime::from_millis(100).as_nanos());
        assert_eq!(
            summary(&picture),
            vec![
                (1, "crashed", 10, 30, false),
                (0, "side A", 20, 40, false),
                (1, "side B", 20, 40, false),
                (2, "side C", 20, 40, false),
                (2, "paused", 50, 100, true),
            ]
        );
        assert_eq!(
            picture.active_spans(),
            vec![(10_000_000, 40_000_000), (50_000_000, 100_000_000)]
        );
    }

    #[test]
    fn links_last_until_reset_and_clock_changes_are_instants() {
        let link = Fault::Link {
            from: None,
            to: None,
            link: sim_core::LinkConfig::default(),
        };
        let step = Fault::ClockStep {
            node: NodeId(1),
            delta_us: -1500,
        };
        let trace = vec![
            event(10, TraceKind::LinkChange, link),
            event(15, TraceKind::ClockStep, step),
            event(20, TraceKind::LinkChange, Fault::ResetLinks),
        ];
        let picture = read_faults(&trace, 2, SimTime::from_millis(100).as_nanos());
        assert_eq!(
            summary(&picture),
            vec![
                (0, "degraded link", 10, 20, false),
                (1, "degraded link", 10, 20, false),
            ]
        );
        assert_eq!(picture.markers.len(), 1);
        assert_eq!(picture.markers[0].label, "clock step -1.5 ms");
    }

    #[test]
    fn faults_without_data_mark_every_node_with_their_text() {
        let mut old = event(10, TraceKind::Partition, Fault::Heal);
        old.fault = None;
        old.detail = "Partition(Ring(3))".to_owned();
        let picture = read_faults(&[old], 2, SimTime::from_millis(100).as_nanos());
        assert_eq!(
            summary(&picture),
            vec![
                (0, "Partition(Ring(3))", 10, 10, false),
                (1, "Partition(Ring(3))", 10, 10, false),
            ]
        );
    }
}
