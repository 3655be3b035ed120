//! When each fault was in force, per node: the engine's own fault windows
//! (`RunRecord::fault_windows`) spread over the timeline's rows. A crash,
//! a shutdown or a pause is one band on its node's row; a partition is
//! one band per node, on its side (sides as `fault_text.rs` computes them,
//! so the timeline and the space-time diagram agree on a side's letter); a
//! degraded link is one band per node it names. Clock steps and drift
//! changes are instants. The engine closed each window when the fault was
//! undone, so nothing here pairs trace events. The fault timeline draws
//! these; the latency and design plots shade the times when any fault was
//! in force.

use sim_core::Fault;
use sim_core::fault_log::FaultWindow;

use crate::fault_text::partition_sides;

/// More bands and markers than this are not drawn; a report must stay
/// small even for a nemesis that struck all day.
pub const MAX_WINDOWS: usize = 1_500;

/// A span of time during which one node suffered one fault.
#[derive(Clone, PartialEq, Debug)]
pub struct NodeWindow {
    pub kind: WindowKind,
    /// The node's row (`NodeId` index).
    pub node: usize,
    pub start_ns: u64,
    pub end_ns: u64,
    /// Still in force when the run ended.
    pub open_at_end: bool,
    /// A short label for this node's part in the fault (`side A`).
    pub label: String,
    /// The fault as the trace describes it (its `Debug` form).
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
    pub windows: Vec<NodeWindow>,
    pub markers: Vec<FaultMarker>,
    /// When the liveness phase began.
    pub liveness_ns: Option<u64>,
    /// Bands and markers left out to respect `MAX_WINDOWS`.
    pub omitted: usize,
}

/// The fault picture of a run of `node_count` nodes that ended at
/// `end_ns`, from the engine's windows (in the order the faults struck).
pub fn read_faults(windows: &[FaultWindow], node_count: usize, end_ns: u64) -> FaultPicture {
    let mut picture = FaultPicture::default();
    for window in windows {
        picture.add(window, node_count, end_ns);
    }
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

    fn add(&mut self, window: &FaultWindow, node_count: usize, end_ns: u64) {
        let start_ns = window.start.as_nanos();
        let (end_ns, open_at_end) = match window.end {
            Some(end) => (end.as_nanos().max(start_ns), false),
            None => (end_ns.max(start_ns), true),
        };
        let band = |kind, node: usize, label: &str| NodeWindow {
            kind,
            node,
            start_ns,
            end_ns,
            open_at_end,
            label: label.to_owned(),
            detail: format!("{:?}", window.fault),
        };
        let mut bands = Vec::new();
        match &window.fault {
            Fault::Crash(node) => bands.push(band(WindowKind::Crashed, node.index(), "crashed")),
            Fault::Shutdown { node, .. } => {
                bands.push(band(WindowKind::Crashed, node.index(), "shut down"));
            }
            Fault::Pause(node) => bands.push(band(WindowKind::Paused, node.index(), "paused")),
            Fault::Partition(partition) => {
                for side in partition_sides(partition, node_count) {
                    let kind = WindowKind::Partitioned { side: side.side };
                    bands.push(band(kind, side.node, &side.label));
                }
            }
            // The engine lists every node a link change degrades (all of
            // them for a link that names no end).
            Fault::Link { .. } => {
                for node in &window.nodes {
                    bands.push(band(WindowKind::Link, node.index(), "degraded link"));
                }
            }
            Fault::ClockStep { node, delta_us } => {
                let label = format!("clock step {:+.1} ms", *delta_us as f64 / 1000.0);
                self.mark(node.index(), start_ns, label, window, node_count);
            }
            Fault::ClockDrift { node, drift_ppm } => {
                let label = format!("clock drift {drift_ppm:+} ppm");
                self.mark(node.index(), start_ns, label, window, node_count);
            }
            Fault::ConnStall(node) => {
                bands.push(band(WindowKind::Link, node.index(), "connections stalled"));
            }
            Fault::ConnReset(node) => {
                self.mark(
                    node.index(),
                    start_ns,
                    "connections reset".to_owned(),
                    window,
                    node_count,
                );
            }
            // These only end other faults' windows; the engine opens none.
            Fault::Heal | Fault::Restart(_) | Fault::Resume(_) | Fault::ResetLinks => {}
        }
        for band in bands.into_iter().filter(|b| b.node < node_count) {
            if self.windows.len() >= MAX_WINDOWS {
                self.omitted += 1;
            } else {
                self.windows.push(band);
            }
        }
    }

    fn mark(
        &mut self,
        node: usize,
        at_ns: u64,
        label: String,
        window: &FaultWindow,
        node_count: usize,
    ) {
        if node >= node_count {
            return;
        }
        if self.markers.len() >= MAX_WINDOWS {
            self.omitted += 1;
            return;
        }
        self.markers.push(FaultMarker {
            node,
            at_ns,
            label,
            detail: format!("{:?}", window.fault),
        });
    }
}

#[cfg(test)]
mod tests {
    use sim_core::{NodeId, Partition, SimTime};

    use super::*;

    /// A window as the engine records it, in ms.
    fn window(fault: Fault, start_ms: u64, end_ms: Option<u64>) -> FaultWindow {
        let mut nodes: Vec<NodeId> = fault.nodes().into_iter().copied().collect();
        nodes.sort();
        FaultWindow {
            fault,
            start: SimTime::from_millis(start_ms),
            end: end_ms.map(SimTime::from_millis),
            nodes,
        }
    }

    /// `(node, label, start_ms, end_ms, open_at_end)` per band.
    fn summary(picture: &FaultPicture) -> Vec<(usize, &str, u64, u64, bool)> {
        let ms = |ns: u64| ns / 1_000_000;
        picture
            .windows
            .iter()
            .map(|w| {
                let (start, end) = (ms(w.start_ns), ms(w.end_ns));
                (w.node, w.label.as_str(), start, end, w.open_at_end)
            })
            .collect()
    }

    #[test]
    fn crashes_pauses_and_partitions_become_bands_on_their_rows() {
        let groups = Partition::Groups(vec![vec![NodeId(0)], vec![NodeId(1)]]);
        let windows = vec![
            window(Fault::Crash(NodeId(1)), 10, Some(30)),
            window(Fault::Partition(groups), 20, Some(40)),
            window(Fault::Pause(NodeId(2)), 50, None),
        ];
        let picture = read_faults(&windows, 3, SimTime::from_millis(100).as_nanos());
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
        assert_eq!(picture.windows[0].detail, "Crash(NodeId(1))");
    }

    #[test]
    fn links_cover_the_nodes_the_engine_lists_and_clock_changes_are_instants() {
        let link = Fault::Link {
            from: None,
            to: None,
            link: sim_core::LinkConfig::default(),
        };
        let mut every_node = window(link, 10, Some(20));
        every_node.nodes = vec![NodeId(0), NodeId(1)];
        let step = Fault::ClockStep {
            node: NodeId(1),
            delta_us: -1500,
        };
        let windows = vec![every_node, window(step, 15, Some(15))];
        let picture = read_faults(&windows, 2, SimTime::from_millis(100).as_nanos());
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
    fn at_most_max_windows_bands_are_kept_and_the_rest_counted() {
        let windows: Vec<FaultWindow> = (0..MAX_WINDOWS as u64 + 40)
            .map(|i| window(Fault::Crash(NodeId(0)), i, Some(i + 1)))
            .collect();
        let picture = read_faults(&windows, 1, SimTime::from_secs(10).as_nanos());
        assert_eq!(picture.windows.len(), MAX_WINDOWS);
        assert_eq!(picture.omitted, 40);
        assert_eq!(picture.windows[0].start_ns, 0, "the first faults are kept");
    }
}
