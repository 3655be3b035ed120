//! Faults in words, from the typed fault each trace event carries: which
//! nodes a partition cuts and on which side each one is, and a
//! network-wide fault said with node names (`partition: side A server-0;
//! side B server-1`). The fault timeline and the space-time diagram both
//! read faults here, so the two always agree on a side's letter.

use sim_core::trace::{TraceEvent, TraceKind};
use sim_core::{Fault, NodeId, Partition};

/// One node's part in a partition.
#[derive(Clone, PartialEq, Debug)]
pub struct Side {
    /// The node's `NodeId` index.
    pub node: usize,
    /// Tells the groups apart (and picks their colour).
    pub side: usize,
    /// `side A`, `isolated`, `left of bridge`, ...
    pub label: String,
}

/// A network-wide fault in words, with node names: `partition: side A
/// server-0, client-1; side B server-1, server-2`. An event without a
/// typed fault (a record from before sim-core kept one) is said by its
/// own text.
pub fn describe_network_fault(event: &TraceEvent, node_names: &[String]) -> String {
    let name = |node: &NodeId| {
        node_names
            .get(node.index())
            .cloned()
            .unwrap_or_else(|| format!("n{}", node.index()))
    };
    if event.kind == TraceKind::Undo {
        let ended = TraceEvent {
            kind: TraceKind::Partition,
            ..event.clone()
        };
        return format!("ends: {}", describe_network_fault(&ended, node_names));
    }
    match &event.fault {
        Some(Fault::Partition(partition)) => {
            let mut sides: Vec<(String, Vec<String>)> = Vec::new();
            for side in partition_sides(partition, node_names.len()) {
                let node = name(&NodeId(side.node as u32));
                match sides.iter_mut().find(|(label, _)| *label == side.label) {
                    Some((_, nodes)) => nodes.push(node),
                    None => sides.push((side.label, vec![node])),
                }
            }
            let parts: Vec<String> = sides
                .iter()
                .map(|(label, nodes)| format!("{label} {}", nodes.join(", ")))
                .collect();
            format!("partition: {}", parts.join("; "))
        }
        Some(Fault::Heal) => "heal: every partition removed".to_owned(),
        Some(Fault::Link { from, to, .. }) => {
            let end = |end: &Option<NodeId>| end.as_ref().map_or("every node".to_owned(), name);
            format!("degraded links from {} to {}", end(from), end(to))
        }
        Some(Fault::ResetLinks) => "links back to normal".to_owned(),
        _ if event.kind == TraceKind::LivenessPhase => {
            "liveness phase: faults stop, everything heals".to_owned()
        }
        _ => event.detail.clone(),
    }
}

/// Which nodes a partition cuts, and on which side each one is. Nodes
/// beyond `node_count` are left out: the timeline has no row for them.
pub fn partition_sides(partition: &Partition, node_count: usize) -> Vec<Side> {
    let side = |node: &NodeId, side: usize, label: &str| Side {
        node: node.index(),
        side,
        label: label.to_owned(),
    };
    let sides = match partition {
        Partition::Isolate(node) => vec![side(node, 0, "isolated")],
        Partition::Groups(groups) => {
            // Nodes in no group form one more group together.
            let mut side_of = vec![groups.len(); node_count];
            for (group, members) in groups.iter().enumerate() {
                for member in members.iter().filter(|n| n.index() < node_count) {
                    side_of[member.index()] = group;
                }
            }
            side_of
                .into_iter()
                .enumerate()
                .map(|(node, group)| Side {
                    node,
                    side: group,
                    label: format!("side {}", char::from(b'A' + (group % 26) as u8)),
                })
                .collect()
        }
        Partition::OneWay { from, to } => from
            .iter()
            .map(|n| side(n, 0, "one-way cut: cannot send"))
            .chain(to.iter().map(|n| side(n, 1, "one-way cut: cannot hear")))
            .collect(),
        Partition::Bridge {
            left,
            bridge,
            right,
        } => left
            .iter()
            .map(|n| side(n, 0, "left of bridge"))
            .chain(right.iter().map(|n| side(n, 1, "right of bridge")))
            .chain([side(bridge, 2, "bridge")])
            .collect(),
    };
    sides.into_iter().filter(|s| s.node < node_count).collect()
}

#[cfg(test)]
mod tests {
    use sim_core::{LinkConfig, SimTime};

    use super::*;

    fn network_event(kind: TraceKind, fault: Fault) -> TraceEvent {
        TraceEvent {
            event: 1,
            time: SimTime::from_millis(1),
            kind,
            node: None,
            peer: None,
            message: None,
            detail: format!("{fault:?}"),
            fault: Some(fault),
            op: None,
        }
    }

    #[test]
    fn network_faults_read_with_node_names() {
        let names: Vec<String> = ["a", "b", "c"].map(str::to_owned).to_vec();
        let groups = Partition::Groups(vec![vec![NodeId(0)], vec![NodeId(1)]]);
        let partition = network_event(TraceKind::Partition, Fault::Partition(groups));
        assert_eq!(
            describe_network_fault(&partition, &names),
            "partition: side A a; side B b; side C c"
        );
        let link = Fault::Link {
            from: Some(NodeId(2)),
            to: None,
            link: LinkConfig::default(),
        };
        assert_eq!(
            describe_network_fault(&network_event(TraceKind::LinkChange, link), &names),
            "degraded links from c to every node"
        );
    }

    #[test]
    fn events_without_a_typed_fault_are_said_by_their_text() {
        let mut old = network_event(TraceKind::Partition, Fault::Heal);
        old.fault = None;
        old.detail = "Partition(Ring(3))".to_owned();
        assert_eq!(describe_network_fault(&old, &[]), "Partition(Ring(3))");
    }

    #[test]
    fn bridges_put_the_bridge_on_a_side_of_its_own() {
        let bridge = Partition::Bridge {
            left: vec![NodeId(0)],
            bridge: NodeId(1),
            right: vec![NodeId(2), NodeId(7)],
        };
        let sides: Vec<(usize, usize)> = partition_sides(&bridge, 3)
            .iter()
            .map(|s| (s.node, s.side))
            .collect();
        assert_eq!(sides, vec![(0, 0), (2, 1), (1, 2)]);
    }
}
