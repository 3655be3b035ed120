//! When each fault was in force: the engine's own record of fault
//! windows, so reports and tools read them as data instead of pairing
//! trace events. A window opens when a fault strikes and closes when the
//! fault is undone: by its own undo, a heal (partitions), a link reset
//! (link changes), a restart (crashes, shutdowns) or a resume (pauses).
//! Clock steps and drift changes are instants.

use crate::faults::Fault;
use crate::nemesis::FaultKind;
use crate::node::NodeId;
use crate::time::SimTime;

/// One fault and when it was in force.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct FaultWindow {
    pub fault: Fault,
    pub start: SimTime,
    /// When it ended; `None` if it was still in force when the run ended.
    /// Equal to `start` for instants (clock steps and drift changes).
    pub end: Option<SimTime>,
    /// The nodes it names (every node, for a link change naming none).
    pub nodes: Vec<NodeId>,
}

impl FaultWindow {
    /// The kind of fault, where it is one the nemesis also makes.
    pub fn kind(&self) -> Option<FaultKind> {
        match self.fault {
            Fault::Partition(_) => Some(FaultKind::Partition),
            Fault::Crash(_) => Some(FaultKind::Crash),
            Fault::Pause(_) => Some(FaultKind::Pause),
            Fault::ClockStep { .. } => Some(FaultKind::ClockStep),
            Fault::Link { .. } => Some(FaultKind::Link),
            Fault::Shutdown { .. } => Some(FaultKind::Shutdown),
            _ => None,
        }
    }
}

/// Names an open window, so the fault's own undo can close it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WindowId(usize);

impl WindowId {
    /// No window: what recording a fault that opens none returns.
    pub const NONE: WindowId = WindowId(usize::MAX);
}

/// Every window of a run, in the order the faults struck.
#[derive(Debug, Default)]
pub struct FaultLog {
    windows: Vec<FaultWindow>,
}

impl FaultLog {
    /// Opens a window for `fault`, striking `node_count` nodes' network
    /// when it names none.
    pub fn open(&mut self, fault: &Fault, now: SimTime, node_count: usize) -> WindowId {
        let mut nodes: Vec<NodeId> = fault.nodes().into_iter().copied().collect();
        if nodes.is_empty() && matches!(fault, Fault::Link { .. }) {
            nodes = (0..node_count as u32).map(NodeId).collect();
        }
        nodes.sort();
        nodes.dedup();
        let instant = matches!(fault, Fault::ClockStep { .. } | Fault::ClockDrift { .. });
        self.windows.push(FaultWindow {
            fault: fault.clone(),
            start: now,
            end: instant.then_some(now),
            nodes,
        });
        WindowId(self.windows.len() - 1)
    }

    pub fn close(&mut self, id: WindowId, now: SimTime) {
        if let Some(window) = self.windows.get_mut(id.0) {
            window.end.get_or_insert(now);
        }
    }

    /// Closes every open window whose fault `matches`.
    pub fn close_where(&mut self, now: SimTime, matches: impl Fn(&Fault) -> bool) {
        for window in self.windows.iter_mut().filter(|w| w.end.is_none()) {
            if matches(&window.fault) {
                window.end = Some(now);
            }
        }
    }

    pub fn into_windows(self) -> Vec<FaultWindow> {
        self.windows
    }
}
