//! The nodes one event may have changed: what invariants look at after
//! the event (`Step::nodes`).

use crate::node::NodeId;

/// The nodes one event may have changed, in the order it touched them,
/// each once. A mark per node makes a touch O(1): a fault that strikes
/// every one of 5,000 nodes touches them in 5,000 steps, not 12.5 million
/// comparisons.
#[derive(Debug)]
pub(crate) struct Touched {
    /// Room for every node, as each is listed at most once a step; the
    /// first `len` are this step's. A fixed slice and a count of its own,
    /// not a `Vec`: the checks' view of the list was read as one 16-byte
    /// load of a vector's pointer and length just after a push had stored
    /// the length alone, and a load the processor cannot take from one
    /// pending store waits for the store to reach the cache.
    nodes: Box<[NodeId]>,
    /// Per node: the epoch it was last touched in.
    mark: Vec<u64>,
    len: usize,
    /// Bumped by every `clear`, so clearing costs nothing per node.
    epoch: u64,
}

impl Touched {
    pub(crate) fn new(node_count: usize) -> Touched {
        Touched {
            nodes: vec![NodeId(0); node_count].into_boxed_slice(),
            mark: vec![0; node_count],
            len: 0,
            epoch: 1,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.len = 0;
        self.epoch += 1;
    }

    #[inline(always)]
    pub(crate) fn insert(&mut self, id: NodeId) {
        let mark = &mut self.mark[id.index()];
        if *mark != self.epoch {
            *mark = self.epoch;
            self.nodes[self.len] = id;
            self.len += 1;
        }
    }

    pub(crate) fn nodes(&self) -> &[NodeId] {
        &self.nodes[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each node once, in the order first touched, however often touched,
    /// and afresh after a clear.
    #[test]
    fn each_node_is_listed_once_in_the_order_touched() {
        let mut touched = Touched::new(100);
        for round in 0..3 {
            let order: Vec<u32> = match round {
                0 => vec![4, 2, 4, 2, 9],
                _ => (0..40).map(|i| (i * 7 + round) % 30).collect(),
            };
            let mut expected: Vec<NodeId> = Vec::new();
            for &n in order.iter().chain(order.iter().rev()) {
                touched.insert(NodeId(n));
                if !expected.contains(&NodeId(n)) {
                    expected.push(NodeId(n));
                }
            }
            assert_eq!(touched.nodes(), expected, "round {round}");
            touched.clear();
            assert!(touched.nodes().is_empty());
        }
    }
}
