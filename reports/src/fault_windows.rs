//! When each fault was in force, per node, read from the trace: a crash
//! lasts until the node's restart, a pause until its resume, a partition
//! until the next heal, a degraded link until links are reset. Clock steps
//! and drift changes are instants. The fault timeline draws these; the
//! latency plots shade the times when any fault was active.

use sim_core::trace::{TraceEvent, TraceKind};

use crate::debug_text::DebugValue;
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
    for open in std::mem::take(&mut reader.open) {
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
    /// Windows that have begun and not yet ended (`end_ns` not yet set).
    open: Vec<FaultWindow>,
    node_count: usize,
}

impl Reader {
    fn on_event(&mut self, event: &TraceEvent) {
        let node = event.node.map(|n| n.index());
        let at = event.time.as_nanos();
        match event.kind {
            TraceKind::Crash => self.begin(WindowKind::Crashed, node, at, "crashed", event),
            TraceKind::Pause => self.begin(WindowKind::Paused, node, at, "paused", event),
            TraceKind::Restart => self.end_where(at, |w| {
                w.kind == WindowKind::Crashed && Some(w.node) == node
            }),
            TraceKind::Resume => {
                self.end_where(at, |w| w.kind == WindowKind::Paused && Some(w.node) == node)
            }
            TraceKind::Partition => self.begin_partition(at, event),
            TraceKind::Heal => {
                self.end_where(at, |w| matches!(w.kind, WindowKind::Partitioned { .. }))
            }
            TraceKind::LinkChange => self.on_link_change(at, event),
            TraceKind::ClockStep | TraceKind::ClockDrift => self.mark_clock(node, at, event),
            TraceKind::LivenessPhase => {
                self.picture.liveness_ns.get_or_insert(at);
            }
            _ => {}
        }
    }

    fn begin(
        &mut self,
        kind: WindowKind,
        node: Option<usize>,
        at: u64,
        label: &str,
        event: &TraceEvent,
    ) {
        let Some(node) = node else { return };
        self.open.push(FaultWindow {
            kind,
            node,
            start_ns: at,
            end_ns: at,
            open_at_end: false,
            label: label.to_owned(),
            detail: event.detail.clone(),
        });
    }

    /// Ends every open window that `matches`.
    fn end_where(&mut self, at: u64, matches: impl Fn(&FaultWindow) -> bool) {
        let (ending, staying): (Vec<FaultWindow>, Vec<FaultWindow>) =
            std::mem::take(&mut self.open)
                .into_iter()
                .partition(|w| matches(w));
        self.open = staying;
        for open in ending {
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

    fn begin_partition(&mut self, at: u64, event: &TraceEvent) {
        let sides = partition_sides(&event.detail, self.node_count);
        for (node, side, label) in sides {
            self.begin(
                WindowKind::Partitioned { side },
                Some(node),
                at,
                &label,
                event,
            );
        }
    }

    fn on_link_change(&mut self, at: u64, event: &TraceEvent) {
        let parsed = DebugValue::parse(&event.detail);
        let Some(fault) = parsed.filter(|p| p.name() == Some("Link")) else {
            // `ResetLinks` (or anything unreadable) returns every link to normal.
            self.end_where(at, |w| w.kind == WindowKind::Link);
            return;
        };
        let from = fault
            .named_field("from")
            .and_then(DebugValue::optional_node_id);
        let to = fault
            .named_field("to")
            .and_then(DebugValue::optional_node_id);
        let named: Vec<usize> = [from.flatten(), to.flatten()]
            .into_iter()
            .flatten()
            .collect();
        let nodes: Vec<usize> = if named.is_empty() {
            (0..self.node_count).collect()
        } else {
            named
        };
        for node in nodes {
            self.begin(WindowKind::Link, Some(node), at, "degraded link", event);
        }
    }

    fn mark_clock(&mut self, node: Option<usize>, at: u64, event: &TraceEvent) {
        let Some(node) = node else { return };
        if self.picture.markers.len() >= MAX_WINDOWS {
            self.picture.omitted += 1;
            return;
        }
        let parsed = DebugValue::parse(&event.detail);
        let field = |key| parsed.as_ref().and_then(|p| p.named_field(key)?.integer());
        let label = match (event.kind, field("delta_us"), field("drift_ppm")) {
            (TraceKind::ClockStep, Some(delta_us), _) => {
                format!("clock step {:+.1} ms", delta_us as f64 / 1000.0)
            }
            (TraceKind::ClockDrift, _, Some(ppm)) => format!("clock drift {ppm:+} ppm"),
            _ => "clock change".to_owned(),
        };
        self.picture.markers.push(FaultMarker {
            node,
            at_ns: at,
            label,
            detail: event.detail.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use sim_core::{NodeId, SimTime};

    use super::*;

    fn event(at_ms: u64, kind: TraceKind, node: Option<u32>, detail: &str) -> TraceEvent {
        TraceEvent {
            event: at_ms,
            time: SimTime::from_millis(at_ms),
            kind,
            node: node.map(NodeId),
            peer: None,
            message: None,
            detail: detail.to_owned(),
            fault: None,
        }
    }

    #[test]
    fn crashes_last_until_restart_and_partitions_until_heal() {
        let trace = vec![
            event(10, TraceKind::Crash, Some(1), "Crash(NodeId(1))"),
            event(
                20,
                TraceKind::Partition,
                None,
                "Partition(Groups([[NodeId(0)], [NodeId(1)]]))",
            ),
            event(30, TraceKind::Restart, Some(1), "Restart(NodeId(1))"),
            event(40, TraceKind::Heal, None, "Heal"),
            event(50, TraceKind::Pause, Some(2), "Pause(NodeId(2))"),
        ];
        let picture = read_faults(&trace, 3, SimTime::from_millis(100).as_nanos());
        let summary: Vec<_> = picture
            .windows
            .iter()
            .map(|w| {
                (
                    w.node,
                    w.label.as_str(),
                    w.start_ns / 1_000_000,
                    w.end_ns / 1_000_000,
                    w.open_at_end,
                )
            })
            .collect();
        assert_eq!(
            summary,
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
}
