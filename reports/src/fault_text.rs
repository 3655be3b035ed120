//! Faults in words, from their `Debug` text in the trace: which nodes a
//! partition cuts and on which side each one is, and a network-wide fault
//! said with node names (`partition: side A server-0; side B server-1`).
//! The fault timeline and the space-time diagram both read faults here.

use sim_core::trace::TraceKind;

use crate::debug_text::DebugValue;

/// A network-wide fault in words, with node names: `partition: side A
/// server-0, client-1; side B server-1, server-2`. Falls back to the
/// fault's own text.
pub fn describe_network_fault(kind: TraceKind, detail: &str, node_names: &[String]) -> String {
    let name = |node: usize| {
        node_names
            .get(node)
            .cloned()
            .unwrap_or_else(|| format!("n{node}"))
    };
    match kind {
        TraceKind::Partition => {
            let mut sides: Vec<(String, Vec<String>)> = Vec::new();
            for (node, _, label) in partition_sides(detail, node_names.len()) {
                match sides.iter_mut().find(|(l, _)| *l == label) {
                    Some((_, nodes)) => nodes.push(name(node)),
                    None => sides.push((label, vec![name(node)])),
                }
            }
            let parts: Vec<String> = sides
                .iter()
                .map(|(l, n)| format!("{l} {}", n.join(", ")))
                .collect();
            format!("partition: {}", parts.join("; "))
        }
        TraceKind::Heal => "heal: every partition removed".to_owned(),
        TraceKind::LinkChange => match DebugValue::parse(detail)
            .filter(|p| p.name() == Some("Link"))
        {
            Some(link) => {
                let end = |key| match link.named_field(key).and_then(DebugValue::optional_node_id) {
                    Some(Some(node)) => name(node),
                    _ => "every node".to_owned(),
                };
                format!("degraded links from {} to {}", end("from"), end("to"))
            }
            None => "links back to normal".to_owned(),
        },
        TraceKind::LivenessPhase => "liveness phase: faults stop, everything heals".to_owned(),
        _ => detail.to_owned(),
    }
}

/// Which nodes a partition cuts, and on which side each one is:
/// `(node, side, label)`. A partition whose text cannot be read marks every
/// node, labelled with the text itself.
pub fn partition_sides(detail: &str, node_count: usize) -> Vec<(usize, usize, String)> {
    let shape = DebugValue::parse(detail).and_then(|p| p.field(0).cloned());
    let sides = shape
        .as_ref()
        .and_then(|shape| read_shape(shape, node_count));
    match sides {
        Some(sides) => sides
            .into_iter()
            .filter(|(node, _, _)| *node < node_count)
            .collect(),
        None => (0..node_count)
            .map(|node| (node, 0, format!("partition: {detail}")))
            .collect(),
    }
}

fn read_shape(shape: &DebugValue, node_count: usize) -> Option<Vec<(usize, usize, String)>> {
    let side_name = |side: usize| format!("side {}", char::from(b'A' + (side % 26) as u8));
    match shape.name()? {
        "Isolate" => Some(vec![(shape.field(0)?.node_id()?, 0, "isolated".to_owned())]),
        "Groups" => {
            let groups: Vec<Vec<usize>> = shape
                .field(0)?
                .items()
                .iter()
                .map(DebugValue::node_ids)
                .collect::<Option<_>>()?;
            // Nodes in no group form one more group together.
            let mut side_of = vec![groups.len(); node_count];
            for (side, members) in groups.iter().enumerate() {
                for &node in members.iter().filter(|&&n| n < node_count) {
                    side_of[node] = side;
                }
            }
            Some(
                side_of
                    .into_iter()
                    .enumerate()
                    .map(|(node, side)| (node, side, side_name(side)))
                    .collect(),
            )
        }
        "OneWay" => {
            let from = shape.named_field("from")?.node_ids()?;
            let to = shape.named_field("to")?.node_ids()?;
            let mut sides: Vec<_> = from
                .into_iter()
                .map(|n| (n, 0, "one-way cut: cannot send".to_owned()))
                .collect();
            sides.extend(
                to.into_iter()
                    .map(|n| (n, 1, "one-way cut: cannot hear".to_owned())),
            );
            Some(sides)
        }
        "Bridge" => {
            let left = shape.named_field("left")?.node_ids()?;
            let right = shape.named_field("right")?.node_ids()?;
            let bridge = shape.named_field("bridge")?.node_id()?;
            let mut sides: Vec<_> = left
                .into_iter()
                .map(|n| (n, 0, "left of bridge".to_owned()))
                .collect();
            sides.extend(
                right
                    .into_iter()
                    .map(|n| (n, 1, "right of bridge".to_owned())),
            );
            sides.push((bridge, 2, "bridge".to_owned()));
            Some(sides)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_faults_read_with_node_names() {
        let names: Vec<String> = ["a", "b", "c"].map(str::to_owned).to_vec();
        let partition = "Partition(Groups([[NodeId(0)], [NodeId(1)]]))";
        assert_eq!(
            describe_network_fault(TraceKind::Partition, partition, &names),
            "partition: side A a; side B b; side C c"
        );
        let link = "Link { from: Some(NodeId(2)), to: None, link: LinkConfig { fifo: false } }";
        assert_eq!(
            describe_network_fault(TraceKind::LinkChange, link, &names),
            "degraded links from c to every node"
        );
    }

    #[test]
    fn unreadable_partitions_mark_every_node_with_their_text() {
        let sides = partition_sides("Partition(Ring(3))", 2);
        assert_eq!(sides.len(), 2);
        assert_eq!(sides[0].2, "partition: Partition(Ring(3))");
    }
}
