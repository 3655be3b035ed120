//! The simulated network: which links exist (a `petgraph` topology), how
//! each behaves (`LinkConfig`), and which are cut (`CutSet`). `route`
//! decides a message's fate when it is sent: lost, cut, or delivered at a
//! time (and maybe twice). Link behaviour and cuts change while running.

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{EdgeFiltered, EdgeRef};

use crate::link::{ConfigError, LinkConfig};
use crate::node::NodeId;
use crate::partition::{CutSet, Partition};
use crate::rng::SimRng;
use crate::time::SimTime;

/// The network section of a simulation's configuration.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkConfig<N = NodeId> {
    /// How every link behaves unless overridden below.
    pub default_link: LinkConfig,
    /// Links that behave differently, applied in order.
    pub links: Vec<LinkOverride<N>>,
}

impl<N> Default for NetworkConfig<N> {
    fn default() -> Self {
        NetworkConfig {
            default_link: LinkConfig::default(),
            links: Vec::new(),
        }
    }
}

impl<N> NetworkConfig<N> {
    /// The same configuration with every node renamed by `f`.
    pub fn resolve<M, E>(
        &self,
        f: &mut impl FnMut(&N) -> Result<M, E>,
    ) -> Result<NetworkConfig<M>, E> {
        let links = self
            .links
            .iter()
            .map(|o| {
                Ok(LinkOverride {
                    from: o.from.as_ref().map(&mut *f).transpose()?,
                    to: o.to.as_ref().map(&mut *f).transpose()?,
                    link: o.link,
                })
            })
            .collect::<Result<_, E>>()?;
        Ok(NetworkConfig {
            default_link: self.default_link,
            links,
        })
    }
}

/// Sets the behaviour of the links from `from` to `to`; a missing end
/// means every node.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkOverride<N = NodeId> {
    pub from: Option<N>,
    pub to: Option<N>,
    pub link: LinkConfig,
}

impl NetworkConfig {
    pub fn validate(&self, node_count: usize) -> Result<(), ConfigError> {
        self.default_link
            .validate()
            .map_err(|e| e.within("default_link"))?;
        for (i, o) in self.links.iter().enumerate() {
            let at = format!("links[{i}]");
            o.link
                .validate()
                .map_err(|e| e.within("link").within(&at))?;
            for (field, node) in [("from", o.from), ("to", o.to)] {
                if node.is_some_and(|n| n.index() >= node_count) {
                    return Err(ConfigError::new(
                        field,
                        format!("no node {} (there are {node_count})", node.unwrap().0),
                    )
                    .within(&at));
                }
            }
        }
        Ok(())
    }
}

/// Which directed links exist. A full mesh unless a design says otherwise.
#[derive(Clone, Debug)]
pub struct Topology {
    graph: DiGraph<NodeId, ()>,
}

impl Topology {
    pub fn full_mesh(node_count: usize) -> Topology {
        let edges = (0..node_count).flat_map(|a| {
            (0..node_count)
                .filter(move |&b| a != b)
                .map(move |b| (a, b))
        });
        Topology::from_edges(node_count, edges)
    }

    /// Only the given directed links exist.
    pub fn from_edges(
        node_count: usize,
        edges: impl IntoIterator<Item = (usize, usize)>,
    ) -> Topology {
        let mut graph = DiGraph::with_capacity(node_count, node_count * node_count);
        for i in 0..node_count {
            graph.add_node(NodeId(u32::try_from(i).expect("node count fits u32")));
        }
        for (a, b) in edges {
            graph.add_edge(NodeIndex::new(a), NodeIndex::new(b), ());
        }
        Topology { graph }
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }
    pub fn has_link(&self, from: NodeId, to: NodeId) -> bool {
        self.graph
            .contains_edge(NodeIndex::new(from.index()), NodeIndex::new(to.index()))
    }
}

/// Why a message was not delivered.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub enum DropReason {
    /// The topology has no such link.
    NoLink,
    /// A partition cut the link, when sent or before delivery.
    Partitioned,
    /// Random loss on the link.
    Lost,
    /// The receiver crashed (or restarted) while it was in flight.
    ReceiverCrashed,
}

/// A message's fate, decided when it is sent.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Route {
    Deliver {
        at: SimTime,
        copy_at: Option<SimTime>,
    },
    Drop(DropReason),
}

const NO_LINK: u32 = u32::MAX;

#[derive(Debug)]
pub struct Network {
    node_count: usize,
    topology: Topology,
    base: NetworkConfig,
    /// Distinct link behaviours in use; `pair_config` indexes into it.
    configs: Vec<LinkConfig>,
    pair_config: Vec<u32>,
    /// Latest delivery time per directed pair, so FIFO links keep order.
    fifo_tail: Vec<SimTime>,
    cut: CutSet,
    rng: SimRng,
    /// Set by the liveness phase: no loss or duplication from then on,
    /// whatever later link changes say.
    reliable: bool,
}

impl Network {
    pub fn new(topology: Topology, config: NetworkConfig, rng: SimRng) -> Network {
        let node_count = topology.node_count();
        config
            .validate(node_count)
            .expect("network configuration validated before the run");
        let mut network = Network {
            node_count,
            topology,
            base: config,
            configs: Vec::new(),
            pair_config: vec![NO_LINK; node_count * node_count],
            fifo_tail: vec![SimTime::ZERO; node_count * node_count],
            cut: CutSet::new(node_count),
            rng,
            reliable: false,
        };
        network.reset_links();
        network
    }

    /// Decides the fate of a message sent now.
    pub fn route(&mut self, from: NodeId, to: NodeId, now: SimTime) -> Route {
        let pair = from.index() * self.node_count + to.index();
        let config = self.pair_config[pair];
        if config == NO_LINK {
            return Route::Drop(DropReason::NoLink);
        }
        if self.cut.is_blocked(from, to) {
            return Route::Drop(DropReason::Partitioned);
        }
        let link = self.configs[config as usize];
        if self.rng.chance(link.loss_per_million) {
            return Route::Drop(DropReason::Lost);
        }
        let at = self.arrival(pair, &link, now);
        let copy_at = self
            .rng
            .chance(link.duplicate_per_million)
            .then(|| self.arrival(pair, &link, now));
        Route::Deliver { at, copy_at }
    }

    fn arrival(&mut self, pair: usize, link: &LinkConfig, now: SimTime) -> SimTime {
        let at = SimTime::from_nanos(
            now.as_nanos()
                .saturating_add(link.latency.sample_ns(&mut self.rng)),
        );
        if !link.fifo {
            return at;
        }
        // Equal times keep send order through the queue's sequence numbers.
        let at = at.max(self.fifo_tail[pair]);
        self.fifo_tail[pair] = at;
        at
    }

    /// Is the link cut right now? Checked again at delivery, so a
    /// partition also catches messages already in flight.
    pub fn is_cut(&self, from: NodeId, to: NodeId) -> bool {
        self.cut.is_blocked(from, to)
    }

    pub fn partition(&mut self, partition: &Partition) {
        self.cut.apply(partition);
    }

    /// Removes every cut.
    pub fn heal(&mut self) {
        self.cut.heal();
    }

    pub fn is_partitioned(&self) -> bool {
        !self.cut.is_empty()
    }

    /// Changes the behaviour of the links from `from` to `to` (a missing
    /// end means every node).
    pub fn set_link(&mut self, from: Option<NodeId>, to: Option<NodeId>, mut link: LinkConfig) {
        if self.reliable {
            link.loss_per_million = 0;
            link.duplicate_per_million = 0;
        }
        let index = match self.configs.iter().position(|c| *c == link) {
            Some(i) => i,
            None => {
                self.configs.push(link);
                self.configs.len() - 1
            }
        };
        let index = u32::try_from(index).expect("fewer than 2^32 link behaviours");
        for a in 0..self.node_count {
            for b in 0..self.node_count {
                let matches =
                    from.is_none_or(|f| f.index() == a) && to.is_none_or(|t| t.index() == b);
                if matches && self.topology.has_link(NodeId(a as u32), NodeId(b as u32)) {
                    self.pair_config[a * self.node_count + b] = index;
                }
            }
        }
    }

    /// Puts every link back to its configured behaviour.
    pub fn reset_links(&mut self) {
        self.configs.clear();
        let base = self.base.clone();
        self.set_link(None, None, base.default_link);
        for o in &base.links {
            self.set_link(o.from, o.to, o.link);
        }
    }

    /// Stops loss and duplication on every link, now and after any later
    /// link change (latency and ordering stay as configured): the liveness
    /// phase's network, where a request that still fails to finish is the
    /// design's fault, not the dice's.
    pub fn make_reliable(&mut self) {
        self.reliable = true;
        for config in &mut self.configs {
            config.loss_per_million = 0;
            config.duplicate_per_million = 0;
        }
    }

    /// Groups of nodes that can all reach each other right now (strongly
    /// connected components of the uncut topology), sorted, for traces and
    /// reports.
    pub fn components(&self) -> Vec<Vec<NodeId>> {
        let view = EdgeFiltered::from_fn(&self.topology.graph, |edge| {
            let (a, b) = (
                self.topology.graph[edge.source()],
                self.topology.graph[edge.target()],
            );
            !self.cut.is_blocked(a, b)
        });
        let mut groups: Vec<Vec<NodeId>> = tarjan_scc(&view)
            .into_iter()
            .map(|scc| {
                let mut g: Vec<NodeId> = scc.into_iter().map(|i| self.topology.graph[i]).collect();
                g.sort();
                g
            })
            .collect();
        groups.sort();
        groups
    }

    pub fn node_count(&self) -> usize {
        self.node_count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;

    fn lossy_network() -> Network {
        let link = LinkConfig {
            loss_per_million: 1_000_000,
            ..LinkConfig::default()
        };
        let config = NetworkConfig {
            default_link: link,
            links: Vec::new(),
        };
        Network::new(
            Topology::full_mesh(2),
            config,
            SimRng::new(1, Stream::Network),
        )
    }

    #[test]
    fn reliability_survives_later_link_changes() {
        let mut network = lossy_network();
        assert!(matches!(
            network.route(NodeId(0), NodeId(1), SimTime::ZERO),
            Route::Drop(DropReason::Lost)
        ));
        network.make_reliable();
        network.reset_links(); // a nemesis undo arriving after the heal
        let lossy = LinkConfig {
            loss_per_million: 1_000_000,
            ..LinkConfig::default()
        };
        network.set_link(None, None, lossy);
        for _ in 0..100 {
            assert!(matches!(
                network.route(NodeId(0), NodeId(1), SimTime::ZERO),
                Route::Deliver { .. }
            ));
        }
    }
}
