//! When a lower count removes nodes (`user-299` is gone with 4 users), the
//! scenario must stop naming them: a fault on a gone node goes, a
//! partition loses the gone members, and clocks, disks and link overrides
//! keyed by a gone node (or a role pattern that now matches nothing) go.

use std::collections::BTreeSet;

use sim_core::{Fault, Partition};

use crate::schema::Scenario;

/// Removes every mention of a node not in `names`.
pub fn prune(scenario: &mut Scenario, names: &[String]) {
    let known: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    let here = |name: &String| match name.strip_suffix('*') {
        Some(prefix) => names.iter().any(|n| n.starts_with(prefix)),
        None => known.contains(name.as_str()),
    };
    scenario
        .faults
        .retain_mut(|f| keep_fault(&mut f.fault, &here));
    scenario.clocks.retain(|name, _| here(name));
    scenario.disks.retain(|name, _| here(name));
    scenario
        .network
        .links
        .retain(|l| l.from.as_ref().is_none_or(here) && l.to.as_ref().is_none_or(here));
}

/// Keeps the fault if it still names a node, with the gone ones removed
/// from a partition's sides.
fn keep_fault(fault: &mut Fault<String>, here: &impl Fn(&String) -> bool) -> bool {
    let keep_side = |side: &mut Vec<String>| {
        side.retain(|n| here(n));
        !side.is_empty()
    };
    match fault {
        Fault::Partition(Partition::Groups(groups)) => {
            groups.retain_mut(|g| keep_side(g));
            !groups.is_empty()
        }
        Fault::Partition(Partition::OneWay { from, to }) => keep_side(from) & keep_side(to),
        Fault::Partition(Partition::Bridge {
            left,
            bridge,
            right,
        }) => here(bridge) & keep_side(left) & keep_side(right),
        Fault::Link { from, to, .. } => {
            from.as_ref().is_none_or(here) && to.as_ref().is_none_or(here)
        }
        other => other.nodes().into_iter().all(here),
    }
}

#[cfg(test)]
mod tests {
    use sim_core::{Fault, Partition};

    use super::prune;
    use crate::load::parse;

    #[test]
    fn gone_nodes_leave_the_faults_partitions_and_clocks_that_named_them() {
        let mut scenario = parse(
            "t.ron",
            r#"(name: "t", model: Register(()), duration_ms: 100, seeds: (start: 0, count: 1),
               expect: Pass, clocks: { "client-2": (offset_us: 5), "client-*": (drift_ppm: 3) },
               faults: [
                 (at_ms: 1, fault: Crash("client-2")),
                 (at_ms: 2, fault: Partition(Groups([["server-0", "client-2"], ["client-3"]]))),
                 (at_ms: 3, fault: Pause("server-0")),
               ])"#,
        )
        .expect("parses");
        let names: Vec<String> = ["server-0", "client-0", "client-1"]
            .map(String::from)
            .to_vec();
        prune(&mut scenario, &names);
        let faults: Vec<Fault<String>> = scenario.faults.iter().map(|f| f.fault.clone()).collect();
        assert_eq!(
            faults,
            vec![
                Fault::Partition(Partition::Groups(vec![vec!["server-0".to_owned()]])),
                Fault::Pause("server-0".to_owned()),
            ]
        );
        assert_eq!(scenario.clocks.keys().collect::<Vec<_>>(), vec!["client-*"]);
    }
}
