//! Network partitions: which directed pairs of nodes cannot talk. A
//! partition is added to the cut set; `heal` clears it. Partitions compose,
//! so a fault plan can isolate a node during a split.

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

/// The set of blocked directed pairs, as a dense bitset: one lookup per
/// message must be cheap.
#[derive(Clone, Debug)]
pub struct CutSet {
    node_count: usize,
    bits: Vec<u64>,
    blocked_pairs: usize,
}

impl CutSet {
    pub fn new(node_count: usize) -> CutSet {
        CutSet {
            node_count,
            bits: vec![0; (node_count * node_count).div_ceil(64)],
            blocked_pairs: 0,
        }
    }

    pub fn is_blocked(&self, from: NodeId, to: NodeId) -> bool {
        if self.blocked_pairs == 0 {
            return false;
        }
        let bit = from.index() * self.node_count + to.index();
        self.bits[bit / 64] & (1 << (bit % 64)) != 0
    }

    pub fn is_empty(&self) -> bool {
        self.blocked_pairs == 0
    }

    pub fn heal(&mut self) {
        self.bits.fill(0);
        self.blocked_pairs = 0;
    }

    /// Adds the cuts of `partition`.
    ///
    /// # Panics
    /// If it names a node outside the simulation; scenarios are validated
    /// before a run, so that is a bug.
    pub fn apply(&mut self, partition: &Partition) {
        let n = self.node_count;
        match partition {
            Partition::Groups(groups) => {
                let mut group_of = vec![groups.len(); n];
                for (g, members) in groups.iter().enumerate() {
                    for node in members {
                        group_of[node.index()] = g;
                    }
                }
                for a in 0..n {
                    for b in 0..n {
                        if group_of[a] != group_of[b] {
                            self.block(a, b);
                        }
                    }
                }
            }
            Partition::OneWay { from, to } => {
                for a in from {
                    for b in to {
                        if a != b {
                            self.block(a.index(), b.index());
                        }
                    }
                }
            }
            Partition::Bridge { left, right, .. } => {
                for a in left {
                    for b in right {
                        self.block(a.index(), b.index());
                        self.block(b.index(), a.index());
                    }
                }
            }
            Partition::Isolate(node) => {
                for other in 0..n {
                    if other != node.index() {
                        self.block(node.index(), other);
                        self.block(other, node.index());
                    }
                }
            }
        }
    }

    fn block(&mut self, from: usize, to: usize) {
        assert!(
            from < self.node_count && to < self.node_count,
            "partition names an unknown node"
        );
        let bit = from * self.node_count + to;
        let word = &mut self.bits[bit / 64];
        if *word & (1 << (bit % 64)) == 0 {
            *word |= 1 << (bit % 64);
            self.blocked_pairs += 1;
        }
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
    fn isolate_cuts_one_node_both_ways() {
        let mut cut = CutSet::new(3);
        cut.apply(&Partition::Isolate(NodeId(1)));
        assert!(cut.is_blocked(NodeId(1), NodeId(0)) && cut.is_blocked(NodeId(2), NodeId(1)));
        assert!(!cut.is_blocked(NodeId(0), NodeId(2)));
    }
}
