//! Which replicas hold an X and in which order a request asks them.
//!
//! Replica `i` sits at slot `i` of a ring of `replicas` slots. X hashes to
//! a slot; its preference list is the `replication_factor` (N) replicas
//! from there on, and only they hold X in the correct design. The replicas
//! after the list are stand-ins, used only by the `SloppyQuorum` variant.
//! `ReplicaChoice` decides the order within the preference list: the
//! ring's (the same first R replicas for every request on X) or a fresh
//! random order per request. With N equal to the cluster size (the
//! default) every replica holds every X and `Random` is "R random
//! replicas per request".

use sim_core::{NodeId, SimRng};
use smallvec::SmallVec;

use super::store::mix64;

/// How a request orders the replicas of X's preference list.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, serde::Serialize, serde::Deserialize)]
pub enum ReplicaChoice {
    /// A random order per request.
    #[default]
    Random,
    /// The ring's order: every request on X asks the same replicas first.
    ConsistentHash,
}

/// A few of a request's replicas, or what it heard from each: held
/// inline up to 10 (a cluster of 5, in its read order then its write
/// order: every library scenario's), so that a request allocates nothing
/// but its box; a larger cluster spills to the heap.
pub type Few<T> = SmallVec<[T; 10]>;

/// The replicas a request may ask, in the order it asks them. One
/// list, made once per request: the read order (X's preference list,
/// then the stand-ins), then the write order.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Targets {
    replicas: Few<NodeId>,
    /// How many replicas the preference list has (and so the write order).
    preferred: usize,
}

impl Targets {
    /// X's preference list, in the order the read phase asks it.
    pub fn preferred(&self) -> &[NodeId] {
        &self.replicas[..self.preferred]
    }

    /// Replicas outside the list, in ring order (empty unless sloppy).
    pub fn stand_ins(&self) -> &[NodeId] {
        &self.replicas[self.preferred..self.read_order_len()]
    }

    /// The preference list in the order the write phase asks it: a
    /// second, independent random order (or the ring's), so the W written
    /// are not the R read.
    pub fn write_order(&self) -> &[NodeId] {
        &self.replicas[self.read_order_len()..]
    }

    /// The order of the read phase: the preference list, then stand-ins.
    pub fn read_order(&self, index: usize) -> Option<NodeId> {
        self.replicas[..self.read_order_len()].get(index).copied()
    }

    /// Where the write order starts: it is as long as the preference list.
    pub fn read_order_len(&self) -> usize {
        self.replicas.len() - self.preferred
    }
}

/// The ring. Replica node ids are `0..replicas`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Placement {
    pub replicas: u32,
    pub replication_factor: u32,
    pub choice: ReplicaChoice,
    /// Offer stand-ins outside the preference list (`SloppyQuorum`).
    pub sloppy: bool,
}

impl Placement {
    /// The replicas a request on X may ask. Draws from `rng` only for a
    /// random choice.
    pub fn targets(&self, x: u64, rng: &mut SimRng) -> Targets {
        // X's preference list is the next `factor` replicas of the ring
        // (all of it, for a factor past its size); stand-ins follow it.
        let factor = (self.replication_factor as usize).min(self.replicas as usize);
        let stand_ins = if self.sloppy {
            self.replicas as usize - factor
        } else {
            0
        };
        let write_from = factor + stand_ins;
        let mut replicas = Few::with_capacity(write_from + factor);
        replicas.extend(self.ring_from(x).take(write_from));
        for i in 0..factor {
            replicas.push(replicas[i]);
        }
        if self.choice == ReplicaChoice::Random {
            // The read order first, then the write order: the draws' order.
            shuffle(&mut replicas[..factor], rng);
            shuffle(&mut replicas[write_from..], rng);
        }
        Targets {
            replicas,
            preferred: factor,
        }
    }

    /// Every replica once, clockwise from X's slot.
    fn ring_from(&self, x: u64) -> impl Iterator<Item = NodeId> + use<> {
        let replicas = self.replicas;
        let start = (mix64(x) % u64::from(replicas)) as u32;
        (0..replicas).map(move |i| NodeId((start + i) % replicas))
    }
}

/// Fisher–Yates with our own sampler, so the order is pinned.
fn shuffle(replicas: &mut [NodeId], rng: &mut SimRng) {
    for i in (1..replicas.len()).rev() {
        replicas.swap(i, rng.index(i + 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::Stream;

    #[test]
    fn preference_lists_are_consecutive_and_stand_ins_are_the_rest() {
        let placement = Placement {
            replicas: 5,
            replication_factor: 3,
            choice: ReplicaChoice::ConsistentHash,
            sloppy: true,
        };
        let mut rng = SimRng::new(1, Stream::User(0));
        for x in 0..50 {
            let targets = placement.targets(x, &mut rng);
            let first = targets.preferred()[0].0;
            let expected: Vec<u32> = (0..5).map(|i| (first + i) % 5).collect();
            let got: Vec<u32> = targets
                .preferred()
                .iter()
                .chain(targets.stand_ins())
                .map(|n| n.0)
                .collect();
            assert_eq!(got, expected);
            assert_eq!(targets.read_order(3), Some(targets.stand_ins()[0]));
            assert_eq!(targets.read_order(5), None);
        }
    }

    #[test]
    fn random_choice_reorders_the_same_list() {
        let placement = Placement {
            replicas: 5,
            replication_factor: 5,
            choice: ReplicaChoice::Random,
            sloppy: false,
        };
        let mut rng = SimRng::new(2, Stream::User(0));
        let orders: std::collections::BTreeSet<Vec<NodeId>> = (0..20)
            .map(|_| placement.targets(9, &mut rng).preferred().to_vec())
            .collect();
        assert!(orders.len() > 5, "{orders:?}");
        for order in orders {
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(sorted, (0..5).map(NodeId).collect::<Vec<_>>());
        }
    }
}
