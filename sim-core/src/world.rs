//! The god's-eye view invariants get: every node's volatile state (typed,
//! `None` while crashed), its durable state, and the history so far.

use crate::history::History;
use crate::kernel::Kernel;
use crate::node::{Node, NodeId};
use crate::pauses::Pauses;
use crate::sim::Slot;
use crate::time::SimTime;

pub struct World<'a, N: Node> {
    pub(crate) slots: &'a [Slot<N>],
    pub(crate) paused: &'a [bool],
    pub(crate) history: &'a History<N::Op, N::Ret>,
    pub(crate) now: SimTime,
}

impl<N: Node> std::fmt::Debug for World<'_, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("now", &self.now)
            .field("nodes", &self.slots.len())
            .finish()
    }
}

impl<'a, N: Node> World<'a, N> {
    /// The view of a run from its parts, borrowed one by one so that the
    /// run's checks can be borrowed mutably beside it.
    pub(crate) fn of(slots: &'a [Slot<N>], pauses: &'a Pauses, kernel: &'a Kernel<N>) -> Self {
        World {
            slots,
            paused: pauses.flags(),
            history: &kernel.history,
            now: kernel.now,
        }
    }

    /// True time (checkers may know it; nodes may not).
    pub fn now(&self) -> SimTime {
        self.now
    }
    pub fn node_count(&self) -> usize {
        self.slots.len()
    }
    /// A node's volatile state, or `None` while it is crashed.
    pub fn node(&self, id: NodeId) -> Option<&'a N> {
        self.slots[id.index()].node.as_ref()
    }
    pub fn durable(&self, id: NodeId) -> &'a N::Durable {
        &self.slots[id.index()].durable
    }
    pub fn is_paused(&self, id: NodeId) -> bool {
        self.paused[id.index()]
    }
    /// Every node: id, volatile state (if up), durable state.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, Option<&'a N>, &'a N::Durable)> + 'a {
        self.slots
            .iter()
            .enumerate()
            .map(|(i, s)| (NodeId(i as u32), s.node.as_ref(), &s.durable))
    }
    /// The history so far.
    pub fn history(&self) -> &'a History<N::Op, N::Ret> {
        self.history
    }
}
