//! The simulated network: which links exist (a full mesh, or a `petgraph`
//! topology), how each behaves (`LinkConfig`), and which are cut
//! (`CutSet`). `route` decides a message's fate when it is sent: lost,
//! cut, or delivered at a time (and maybe twice). Link behaviour and cuts
//! change while running; each change by a fault can be undone on its own.
//!
//! Nothing here is kept per pair of nodes unless the pair uses it (FIFO
//! order), so setting up or resetting a network of n nodes costs O(n plus
//! the configured rules), and a 10,000-node mesh is ready at once.
//! Messages a node sends itself never touch the network.

use std::time::Duration;

use petgraph::graph::{DiGraph, NodeIndex};
use rustc_hash::FxHashMap;

use crate::link::{ConfigError, Latency, LinkConfig};
use crate::node::NodeId;
use crate::partition::{CutId, CutSet, Partition};
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
    /// How long an end of a connection takes to notice that it broke
    /// (keepalives, timeouts), drawn per end.
    pub break_detection: Latency,
}

/// The default time to notice a broken connection: 50-500 ms.
pub const DEFAULT_BREAK_DETECTION: Latency = Latency::Uniform {
    min_us: 50_000,
    max_us: 500_000,
};

impl<N> Default for NetworkConfig<N> {
    fn default() -> Self {
        NetworkConfig {
            default_link: LinkConfig::default(),
            links: Vec::new(),
            break_detection: DEFAULT_BREAK_DETECTION,
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
            break_detection: self.break_detection,
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
        self.break_detection
            .validate()
            .map_err(|e| e.within("break_detection"))?;
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

/// Which directed links exist. A full mesh unless a design says otherwise;
/// a full mesh is a rule, not a list, so it costs nothing per pair.
#[derive(Clone, Debug)]
pub enum Topology {
    /// Every node reaches every other.
    FullMesh { node_count: usize },
    /// Only these directed links exist.
    Graph(DiGraph<NodeId, ()>),
}

impl Topology {
    pub fn full_mesh(node_count: usize) -> Topology {
        Topology::FullMesh { node_count }
    }

    /// Only the given directed links exist.
    pub fn from_edges(
        node_count: usize,
        edges: impl IntoIterator<Item = (usize, usize)>,
    ) -> Topology {
        let mut graph = DiGraph::with_capacity(node_count, 0);
        for i in 0..node_count {
            graph.add_node(NodeId(u32::try_from(i).expect("node count fits u32")));
        }
        for (a, b) in edges {
            graph.add_edge(NodeIndex::new(a), NodeIndex::new(b), ());
        }
        Topology::Graph(graph)
    }

    pub fn node_count(&self) -> usize {
        match self {
            Topology::FullMesh { node_count } => *node_count,
            Topology::Graph(graph) => graph.node_count(),
        }
    }

    /// Is there a link from `from` to another node `to`? (A node always
    /// reaches itself, without a link.)
    pub fn has_link(&self, from: NodeId, to: NodeId) -> bool {
        match self {
            Topology::FullMesh { .. } => from != to,
            Topology::Graph(graph) => {
                graph.contains_edge(NodeIndex::new(from.index()), NodeIndex::new(to.index()))
            }
        }
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
    /// Its connection broke (or was closed) before it arrived.
    ConnectionBroken,
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

/// How long a message a node sends itself takes: through its own stack,
/// never the network, so it is never lost, duplicated or cut off.
pub const SELF_SEND_LATENCY: Duration = Duration::from_micros(1);

/// Names one link change made by a fault, so the fault can undo exactly
/// its own change when it ends.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LinkLayerId(u64);

/// A rule setting the behaviour of the links from `from` to `to` (a
/// missing end matches every node).
#[derive(Clone, Copy, Debug)]
struct LinkRule {
    from: Option<NodeId>,
    to: Option<NodeId>,
    link: LinkConfig,
}

impl LinkRule {
    fn matches(&self, from: NodeId, to: NodeId) -> bool {
        self.from.is_none_or(|f| f == from) && self.to.is_none_or(|t| t == to)
    }
}

#[derive(Debug)]
pub struct Network {
    node_count: usize,
    topology: Topology,
    /// How every link behaves unless a rule says otherwise.
    default_link: LinkConfig,
    /// The configuration's overrides, in order: a later rule wins.
    configured: Vec<LinkRule>,
    /// Changes made by faults, in order, each undoable on its own; they
    /// win over the configuration. Cost per message: one match per rule,
    /// and nothing while there is none, so setup and resets never touch
    /// pairs of nodes.
    layers: Vec<(LinkLayerId, LinkRule)>,
    next_layer: u64,
    /// Latest delivery time per directed pair that has used a FIFO link,
    /// so FIFO links keep order. Lookups only, never iterated.
    fifo_tail: FxHashMap<(u32, u32), SimTime>,
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
        Network {
            node_count,
            topology,
            default_link: config.default_link,
            configured: config
                .links
                .iter()
                .map(|o| LinkRule {
                    from: o.from,
                    to: o.to,
                    link: o.link,
                })
                .collect(),
            layers: Vec::new(),
            next_layer: 0,
            fifo_tail: FxHashMap::default(),
            cut: CutSet::new(node_count),
            rng,
            reliable: false,
        }
    }

    /// Decides the fate of a message sent now.
    #[inline]
    pub fn route(&mut self, from: NodeId, to: NodeId, now: SimTime) -> Route {
        if from == to {
            return Route::Deliver {
                at: now + SELF_SEND_LATENCY,
                copy_at: None,
            };
        }
        if !self.topology.has_link(from, to) {
            return Route::Drop(DropReason::NoLink);
        }
        if self.cut.is_blocked(from, to) {
            return Route::Drop(DropReason::Partitioned);
        }
        let link = self.link(from, to);
        if self.rng.chance(link.loss_per_million) {
            return Route::Drop(DropReason::Lost);
        }
        let at = self.arrival(from, to, &link, now);
        let copy_at = self
            .rng
            .chance(link.duplicate_per_million)
            .then(|| self.arrival(from, to, &link, now));
        Route::Deliver { at, copy_at }
    }

    /// How the link from `from` to `to` behaves now.
    #[inline]
    pub fn link(&self, from: NodeId, to: NodeId) -> LinkConfig {
        if self.layers.is_empty() && self.configured.is_empty() && !self.reliable {
            return self.default_link;
        }
        let rule = self
            .layers
            .iter()
            .rev()
            .map(|(_, rule)| rule)
            .chain(self.configured.iter().rev())
            .find(|rule| rule.matches(from, to));
        let mut link = rule.map_or(self.default_link, |rule| rule.link);
        if self.reliable {
            link.loss_per_million = 0;
            link.duplicate_per_million = 0;
        }
        link
    }

    #[inline(always)]
    fn arrival(&mut self, from: NodeId, to: NodeId, link: &LinkConfig, now: SimTime) -> SimTime {
        let at = SimTime::from_nanos(
            now.as_nanos()
                .saturating_add(link.latency.sample_ns(&mut self.rng)),
        );
        if !link.fifo {
            return at;
        }
        // Equal times keep send order through the queue's sequence numbers.
        let tail = self.fifo_tail.entry((from.0, to.0)).or_default();
        let at = at.max(*tail);
        *tail = at;
        at
    }

    /// Could a message from `from` reach `to` now (a link exists and no
    /// cut blocks it)? A node always reaches itself.
    pub fn reachable(&self, from: NodeId, to: NodeId) -> bool {
        from == to || (self.topology.has_link(from, to) && !self.cut.is_blocked(from, to))
    }

    /// Is the link cut right now? Checked again at delivery, so a
    /// partition also catches messages already in flight. Never true for
    /// a node's messages to itself.
    #[inline]
    pub fn is_cut(&self, from: NodeId, to: NodeId) -> bool {
        self.cut.is_blocked(from, to)
    }

    /// Cuts the network; the id removes exactly this cut.
    pub fn partition(&mut self, partition: &Partition) -> CutId {
        self.cut.apply(partition)
    }

    /// Removes one cut, leaving the others. False if it was already gone.
    pub fn remove_cut(&mut self, id: CutId) -> bool {
        self.cut.remove(id)
    }

    /// Removes every cut.
    pub fn heal(&mut self) {
        self.cut.heal();
    }

    pub fn is_partitioned(&self) -> bool {
        !self.cut.is_empty()
    }

    /// Changes the behaviour of the links from `from` to `to` (a missing
    /// end means every node) until `remove_layer` or `reset_links`.
    pub fn set_link(
        &mut self,
        from: Option<NodeId>,
        to: Option<NodeId>,
        link: LinkConfig,
    ) -> LinkLayerId {
        let id = LinkLayerId(self.next_layer);
        self.next_layer += 1;
        self.layers.push((id, LinkRule { from, to, link }));
        id
    }

    /// Undoes one link change, leaving the others. False if it was
    /// already gone (reset).
    pub fn remove_layer(&mut self, id: LinkLayerId) -> bool {
        let before = self.layers.len();
        self.layers.retain(|(layer, _)| *layer != id);
        self.layers.len() < before
    }

    /// Puts every link back to its configured behaviour.
    pub fn reset_links(&mut self) {
        self.layers.clear();
    }

    /// Stops loss and duplication on every link, now and after any later
    /// link change (latency and ordering stay as configured): the liveness
    /// phase's network, where a request that still fails to finish is the
    /// design's fault, not the dice's.
    pub fn make_reliable(&mut self) {
        self.reliable = true;
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
            ..NetworkConfig::default()
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
        network.reset_links();
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
