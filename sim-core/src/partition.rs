//! Network partitions: which directed pairs of nodes cannot talk. Each
//! partition in force is one cut in the cut set, with its own id, so a
//! fault that lasts a while removes exactly its own cut when it ends and
//! leaves overlapping ones in place; `heal` removes them all. Cuts
//! compose, so a fault plan can isolate a node during a split. A cut
//! costs memory linear in the number of nodes, never quadratic, and a
//! node is never cut off from itself.

use crate::node::NodeId;

/// A way to cut the network. `N` is how nodes are named: `NodeId` in the
/// engine, names (`"replica-1"`) in scenario files; `resolve` maps one to
/// the other.
#[derive(Clone, PartialEq, Eq, Hash, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Partition<N = NodeId> {
    /// Nodes in different groups cannot reach each other, both ways. Nodes
    /// in no group form one more group together.
    Groups(Vec<Vec<N>>),
    /// Messages from any of `from` to any of `to` are dropped; replies the
    /// other way still get through.
    OneWay { from: Vec<N>, to: Vec<N> },
    /// `left` and `right` cannot reach each other, but `bridge` reaches
    /// both: each side sees a majority that the other side also sees.
    Bridge {
        left: Vec<N>,
        bridge: N,
        right: Vec<N>,
    },
    /// One node cut off from everyone, both ways.
    Isolate(N),
}

impl<N> Partition<N> {
    /// Every node the partition names.
    pub fn nodes(&self) -> Vec<&N> {
        match self {
            Partition::Groups(groups) => groups.iter().flatten().collect(),
            Partition::OneWay { from, to } => from.iter().chain(to).collect(),
            Partition::Bridge {
                left,
                bridge,
                right,
            } => left
                .iter()
                .chain(right)
                .chain(std::iter::once(bridge))
                .collect(),
            Partition::Isolate(node) => vec![node],
        }
    }

    /// The same partition with every node renamed by `f`.
    pub fn resolve<M, E>(&self, f: &mut impl FnMut(&N) -> Result<M, E>) -> Result<Partition<M>, E> {
        let mut all = |v: &[N]| v.iter().map(&mut *f).collect::<Result<Vec<M>, E>>();
        Ok(match self {
            Partition::Groups(groups) => {
                Partition::Groups(groups.iter().map(|g| all(g)).collect::<Result<_, E>>()?)
            }
            Partition::OneWay { from, to } => Partition::OneWay {
                from: all(from)?,
                to: all(to)?,
            },
            Partition::Bridge {
                left,
                bridge,
                right,
            } => {
                let (left, right) = (all(left)?, all(right)?);
                Partition::Bridge {
                    left,
                    bridge: f(bridge)?,
                    right,
                }
            }
            Partition::Isolate(node) => Partition::Isolate(f(node)?),
        })
    }
}

/// Names one cut in force, so the fault that made it can remove it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CutId(u64);

/// The partitions in force. Checking a pair costs one test per cut in
/// force, and nothing at all while there is none.
#[derive(Clone, Debug)]
pub struct CutSet {
    node_count: usize,
    cuts: Vec<(CutId, Cut)>,
    next_id: u64,
}

/// One partition, compiled for O(1) lookups.
#[derive(Clone, Debug)]
enum Cut {
    /// Each node's group; unlisted nodes share one more group.
    Groups(Vec<u32>),
    OneWay {
        from: NodeSet,
        to: NodeSet,
    },
    Bridge {
        left: NodeSet,
        right: NodeSet,
    },
    Isolate(NodeId),
}

/// A set of nodes as a bitset over node indices.
#[derive(Clone, Debug)]
struct NodeSet(Vec<u64>);

impl NodeSet {
    fn of(nodes: &[NodeId], node_count: usize) -> NodeSet {
        let mut words = vec![0; node_count.div_ceil(64)];
        for node in nodes {
            assert!(node.index() < node_count, "partition names an unknown node");
            words[node.index() / 64] |= 1 << (node.index() % 64);
        }
        NodeSet(words)
    }
    fn contains(&self, node: NodeId) -> bool {
        self.0[node.index() / 64] & (1 << (node.index() % 64)) != 0
    }
}

impl Cut {
    fn compile(partition: &Partition, n: usize) -> Cut {
        match partition {
            Partition::Groups(groups) => {
                let mut group_of = vec![groups.len() as u32; n];
                for (g, members) in groups.iter().enumerate() {
                    for node in members {
                        assert!(node.index() < n, "partition names an unknown node");
                        group_of[node.index()] = g as u32;
                    }
                }
                Cut::Groups(group_of)
            }
            Partition::OneWay { from, to } => Cut::OneWay {
                from: NodeSet::of(from, n),
                to: NodeSet::of(to, n),
            },
            Partition::Bridge { left, right, .. } => Cut::Bridge {
                left: NodeSet::of(left, n),
                right: NodeSet::of(right, n),
            },
            Partition::Isolate(node) => {
                assert!(node.index() < n, "partition names an unknown node");
                Cut::Isolate(*node)
            }
        }
    }

    fn blocks(&self, from: NodeId, to: NodeId) -> bool {
        match self {
            Cut::Groups(group_of) => group_of[from.index()] != group_of[to.index()],
            Cut::OneWay { from: f, to: t } => f.contains(from) && t.contains(to),
            Cut::Bridge { left, right } => {
                (left.contains(from) && right.contains(to))
                    || (right.contains(from) && left.contains(to))
            }
            Cut::Isolate(node) => from == *node || to == *node,
        }
    }
}

impl CutSet {
    pub fn new(node_count: usize) -> CutSet {
        CutSet {
            node_count,
            cuts: Vec::new(),
            next_id: 0,
        }
    }

    #[inline]
    pub fn is_blocked(&self, from: NodeId, to: NodeId) -> bool {
        !self.cuts.is_empty() && from != to && self.cuts.iter().any(|(_, cut)| cut.blocks(from, to))
    }

    pub fn is_empty(&self) -> bool {
        self.cuts.is_empty()
    }

    /// Removes every cut.
    pub fn heal(&mut self) {
        self.cuts.clear();
    }

    /// Adds the cuts of `partition`; returns the id that removes them.
    ///
    /// # Panics
    /// If it names a node outside the simulation; scenarios are validated
    /// before a run, so that is a bug.
    pub fn apply(&mut self, partition: &Partition) -> CutId {
        let id = CutId(self.next_id);
        self.next_id += 1;
        self.cuts
            .push((id, Cut::compile(partition, self.node_count)));
        id
    }

    /// Removes one cut; other cuts stay. Returns false if it was already
    /// gone (healed).
    pub fn remove(&mut self, id: CutId) -> bool {
        let before = self.cuts.len();
        self.cuts.retain(|(cut, _)| *cut != id);
        self.cuts.len() < before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[u32]) -> Vec<NodeId> {
        v.iter().map(|&i| NodeId(i)).collect()
    }

    #[test]
    fn groups_cut_across_and_unlisted_nodes_stay_together() {
        let mut cut = CutSet::new(5);
        cut.apply(&Partition::Groups(vec![ids(&[0, 1]), ids(&[2])]));
        assert!(!cut.is_blocked(NodeId(0), NodeId(1)));
        assert!(cut.is_blocked(NodeId(0), NodeId(2)) && cut.is_blocked(NodeId(2), NodeId(0)));
        assert!(
            !cut.is_blocked(NodeId(3), NodeId(4)),
            "3 and 4 are unlisted: one group"
        );
        assert!(cut.is_blocked(NodeId(3), NodeId(2)));
        cut.heal();
        assert!(!cut.is_blocked(NodeId(0), NodeId(2)));
    }

    #[test]
    fn one_way_blocks_one_direction() {
        let mut cut = CutSet::new(3);
        cut.apply(&Partition::OneWay {
            from: ids(&[0]),
            to: ids(&[1, 2]),
        });
        assert!(cut.is_blocked(NodeId(0), NodeId(1)));
        assert!(!cut.is_blocked(NodeId(1), NodeId(0)));
    }

    #[test]
    fn bridge_reaches_both_sides() {
        let mut cut = CutSet::new(5);
        cut.apply(&Partition::Bridge {
            left: ids(&[0, 1]),
            bridge: NodeId(2),
            right: ids(&[3, 4]),
        });
        assert!(cut.is_blocked(NodeId(0), NodeId(3)) && cut.is_blocked(NodeId(4), NodeId(1)));
        assert!(!cut.is_blocked(NodeId(2), NodeId(0)) && !cut.is_blocked(NodeId(3), NodeId(2)));
    }

    #[test]
    fn removing_one_cut_leaves_an_overlapping_one_in_place() {
        let mut cut = CutSet::new(3);
        let planned = cut.apply(&Partition::Isolate(NodeId(1)));
        let nemesis = cut.apply(&Partition::Groups(vec![ids(&[0, 1])]));
        assert!(cut.remove(nemesis));
        assert!(!cut.remove(nemesis), "already removed");
        assert!(
            cut.is_blocked(NodeId(0), NodeId(1)),
            "the planned cut stays"
        );
        assert!(!cut.is_blocked(NodeId(0), NodeId(2)));
        assert!(cut.remove(planned) && cut.is_empty());
    }

    #[test]
    fn no_cut_separates_a_node_from_itself() {
        let mut cut = CutSet::new(2);
        cut.apply(&Partition::Isolate(NodeId(1)));
        cut.apply(&Partition::OneWay {
            from: ids(&[0, 1]),
            to: ids(&[0, 1]),
        });
        assert!(!cut.is_blocked(NodeId(1), NodeId(1)));
        assert!(cut.is_blocked(NodeId(0), NodeId(1)));
    }

    #[test]
    fn isolate_cuts_one_node_both_ways() {
        let mut cut = CutSet::new(3);
        cut.apply(&Partition::Isolate(NodeId(1)));
        assert!(cut.is_blocked(NodeId(1), NodeId(0)) && cut.is_blocked(NodeId(2), NodeId(1)));
        assert!(!cut.is_blocked(NodeId(0), NodeId(2)));
    }
}
