//! Which nodes are paused, and the events that came due for each while it
//! was (released in order on resume).

use crate::node::NodeId;
use crate::queue::EventKey;

/// The paused flags are one dense array, apart from the node slots: the
/// run loop reads a flag before every event, and a slot is a kilobyte or
/// more (the node, its durable state and disk, its random stream), so a
/// flag inside it cost a cache miss per event once a run had thousands
/// of nodes.
#[derive(Debug)]
pub(crate) struct Pauses {
    paused: Vec<bool>,
    /// Per node: the events held while it is paused, in the order they
    /// came due.
    held: Vec<Vec<EventKey>>,
}

impl Pauses {
    pub(crate) fn new(node_count: usize) -> Pauses {
        Pauses {
            paused: vec![false; node_count],
            held: (0..node_count).map(|_| Vec::new()).collect(),
        }
    }

    #[inline]
    pub(crate) fn is_paused(&self, id: NodeId) -> bool {
        self.paused[id.index()]
    }

    pub(crate) fn pause(&mut self, id: NodeId) {
        self.paused[id.index()] = true;
    }

    /// Holds an event that came due for paused `id`.
    pub(crate) fn hold(&mut self, id: NodeId, key: EventKey) {
        self.held[id.index()].push(key);
    }

    /// Ends `id`'s pause (if it had one): the events held for it, in the
    /// order they came due.
    pub(crate) fn unpause(&mut self, id: NodeId) -> std::vec::Drain<'_, EventKey> {
        self.paused[id.index()] = false;
        self.held[id.index()].drain(..)
    }

    /// The flags, for the checks' view of the world.
    pub(crate) fn flags(&self) -> &[bool] {
        &self.paused
    }
}
