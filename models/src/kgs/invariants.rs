//! The design's checks, named as scenario files expect them:
//!
//! - `unique_ids`: no ID is ever handed to a client twice, across crashes,
//!   restarts, shutdowns, partitions, clock faults and authority failover.
//! - `bulks_leased_once`: no counter is ever leased to two servers (or
//!   twice to one): the authority never grants a bulk again. (Not for
//!   `ClockReclaim`, which grants reclaimed ranges again by design, nor
//!   `RandomIds`, which leases nothing.)
//! - `ids_from_held_bulks`: every ID a server hands out decodes, through
//!   the inverse of the ID map, to a counter inside a bulk that server was
//!   granted.
//!
//! All three are invariants, checked after every event: a grant is judged
//! when the server receives it, an ID when the client does. Bulks granted
//! are read from each server's own log of grants (`GrantBook`), which the
//! checkers remember across the server's crashes.


use rustc_hash::FxHashSet;
use sim_core::history::{CompletionFeed, History};
use sim_core::{Breach, Invariant, NodeId, OpId, Step, World};

use super::Layout;
use super::ids::IdMap;
use super::msg::Range;
use super::node::KgsNode;
use super::workload::{Op, Ret};

pub const UNIQUE_IDS: &str = "unique_ids";
pub const BULKS_LEASED_ONCE: &str = "bulks_leased_once";
pub const IDS_FROM_HELD_BULKS: &str = "ids_from_held_bulks";

/// Every bulk each server was granted, read from the servers' logs.
#[derive(Debug)]
pub struct GrantBook {
    layout: Layout,
    /// Per node, by index: how much of its current boot's log has been
    /// read (servers only).
    cursor: Vec<usize>,
    /// Every grant, in the order they arrived: (server, bulk).
    pub grants: Vec<(NodeId, Range)>,
    /// Per node, by index: the bulks it was granted, in that order.
    by_server: Vec<Vec<Range>>,
}

impl GrantBook {
    pub fn new(layout: Layout) -> GrantBook {
        GrantBook {
            layout,
            cursor: Vec::new(),
            grants: Vec::new(),
            by_server: Vec::new(),
        }
    }

    /// Reads the grants the stepped servers received; returns how many of
    /// `grants` are new.
    ///
    /// Inline: each of the three checks calls it after every event, and
    /// most events step no server.
    #[inline]
    pub fn update(&mut self, world: &World<'_, KgsNode>, step: &Step<'_>) -> usize {
        let before = self.grants.len();
        for &node in step.nodes {
            if self.layout.is_server(node) {
                self.read_log(world, node);
            }
        }
        self.grants.len() - before
    }

    /// Reads what is new in `server`'s log of grants.
    #[inline(never)]
    fn read_log(&mut self, world: &World<'_, KgsNode>, node: NodeId) {
        if self.cursor.len() <= node.index() {
            self.cursor.resize(node.index() + 1, 0);
            self.by_server.resize_with(node.index() + 1, Vec::new);
        }
        let cursor = &mut self.cursor[node.index()];
        match world.node(node) {
            Some(KgsNode::Server(server)) => {
                if *cursor > server.granted.len() {
                    *cursor = 0; // restarted: a new log
                }
                for &range in &server.granted[*cursor..] {
                    self.grants.push((node, range));
                    self.by_server[node.index()].push(range);
                }
                *cursor = server.granted.len();
            }
            _ => *cursor = 0,
        }
    }

    /// The bulks `server` was granted, in the order they arrived.
    pub fn granted_to(&self, server: NodeId) -> &[Range] {
        self.by_server.get(server.index()).map_or(&[], Vec::as_slice)
    }

    /// The first counter of `first..=last` in no bulk `server` was
    /// granted, if any. The newest bulk is tried first: a server hands
    /// out IDs from its latest bulks.
    pub fn first_not_held(&self, server: NodeId, first: u64, last: u64) -> Option<u64> {
        let mut counter = first;
        loop {
            let Some(bulk) = self.granted_to(server).iter().rev().find(|r| r.contains(counter)) else {
                return Some(counter);
            };
            if bulk.end > last {
                return None;
            }
            counter = bulk.end; // held up to here; the rest may be in another bulk
        }
    }

    /// Every grant that holds `counter`.
    pub fn holders(&self, counter: u64) -> impl Iterator<Item = &(NodeId, Range)> {
        self.grants.iter().filter(move |(_, r)| r.contains(counter))
    }
}

/// No ID handed out twice.
#[derive(Debug)]
pub struct UniqueIds {
    layout: Layout,
    map: IdMap,
    feed: CompletionFeed<Op, Ret>,
    book: GrantBook,
    seen: Seen,
    /// `RandomIds`: IDs are drawn from 2^bits values, not mapped counters.
    random_bits: Option<u32>,
}

/// Every ID handed out, with the operation and server it went with: the
/// hottest structure of a KGS run.
#[derive(Debug)]
enum Seen {
    /// Through an invertible map an ID repeats exactly when its counter
    /// does, so counters are kept, as the runs the answers carried (see
    /// [`IdMap::counter_runs`]): first counter → last counter (included).
    /// A server hands out its bulk in counter order, so one answer's run
    /// usually continues its previous one: runs that touch are joined,
    /// and a simulation's thousands of IDs are kept as about as many runs
    /// as there were bulks. Kept runs never overlap (an overlap is the
    /// breach), sorted by their first counter: a few dozen runs, searched
    /// by halving, where a B-tree compared its way along each node (about
    /// 2% of a kgs run's wall time). New bulks have the highest counters
    /// yet, so a new run goes in at or near the end.
    Counters(Vec<(u64, u64)>),
    /// An even multiplier, or random IDs: the IDs themselves. Only looked
    /// up, never iterated, so a hash set (deterministic Fx hashing).
    Ids(FxHashSet<u64>),
}

impl Seen {
    /// Records the IDs of an answer; the first that was handed out before
    /// (by this answer or an earlier one). Who had it first is in the
    /// history (see [`first_holder`]), so it is not kept here.
    fn record(&mut self, map: &IdMap, ret: &Ret) -> Option<u64> {
        match self {
            Seen::Counters(joined) => {
                for (first, last) in map.counter_runs(&ret.ids) {
                    // The kept runs starting at or below `last`; the last
                    // of them is the nearest.
                    let below = joined.partition_point(|&(start, _)| start <= last);
                    match below.checked_sub(1).map(|at| (at, joined[at].1)) {
                        Some((at, end)) if end >= first => {
                            // The earliest kept run that overlaps holds the
                            // first repeated counter.
                            let earliest = joined[..at]
                                .iter()
                                .rposition(|&(_, end)| end < first)
                                .map_or(0, |before| before + 1);
                            return Some(map.id(joined[earliest].0.max(first)));
                        }
                        Some((at, end)) if end.checked_add(1) == Some(first) => joined[at].1 = last,
                        _ => joined.insert(below, (first, last)),
                    }
                }
                None
            }
            Seen::Ids(ids) => ret.ids.iter().copied().find(|&id| !ids.insert(id)),
        }
    }

    /// How many IDs were handed out.
    fn len(&self) -> u64 {
        match self {
            Seen::Counters(joined) => joined.iter().map(|(first, last)| last - first + 1).sum(),
            Seen::Ids(ids) => ids.len() as u64,
        }
    }
}

impl UniqueIds {
    /// `random_bits`: the `RandomIds` variant's space, 2^bits values.
    /// `expected_ids`: how many IDs the run will likely hand out (where
    /// IDs themselves are kept, room is made for them up front: a map
    /// grown by doubling spent a twentieth of a run rehashing).
    pub fn new(layout: Layout, map: IdMap, random_bits: Option<u32>, expected_ids: usize) -> UniqueIds {
        let seen = if random_bits.is_none() && map.is_invertible() {
            Seen::Counters(Vec::new())
        } else {
            Seen::Ids(FxHashSet::with_capacity_and_hasher(expected_ids, Default::default()))
        };
        UniqueIds {
            layout,
            map,
            feed: CompletionFeed::default(),
            book: GrantBook::new(layout),
            seen,
            random_bits,
        }
    }

    /// Where an ID came from, in the design's words.
    fn origin(&self, id: u64) -> String {
        if let Some(bits) = self.random_bits {
            let drawn = self.seen.len() + 1;
            let p = super::birthday::collision_probability(bits, drawn);
            return format!(
                "both drew it at random from 2^{bits} values; after {drawn} draws the exact chance \
                 of some collision is {}",
                super::metrics::probability(p)
            );
        }
        let Some((first, step)) = self.map.counters(id) else {
            return "no counter maps to it".to_owned();
        };
        if step == 0 {
            let holders: Vec<String> = self
                .book
                .holders(first)
                .map(|(s, r)| format!("{} [{}, {})", self.layout.name(*s), r.start, r.end))
                .collect();
            return format!(
                "it decodes to counter {first}, in bulks leased to {}",
                if holders.is_empty() { "nobody".to_owned() } else { holders.join(" and ") }
            );
        }
        // An even multiplier: many counters map to this ID.
        let counters: Vec<String> = self
            .book
            .grants
            .iter()
            .filter_map(|(s, r)| {
                let c = first_in(r, first, step)?;
                Some(format!("{c} ({} [{}, {}))", self.layout.name(*s), r.start, r.end))
            })
            .take(4)
            .collect();
        format!(
            "the multiplier {:#x} is even, so counters {step} apart share an ID: {} map to it",
            self.map.multiplier(),
            counters.join(", ")
        )
    }
}

/// The first counter `first + j·step` inside `range`.
fn first_in(range: &Range, first: u64, step: u64) -> Option<u64> {
    let c = if first >= range.start {
        first
    } else {
        first + (range.start - first).div_ceil(step) * step
    };
    range.contains(c).then_some(c)
}

/// The operation an ID first went to, and the server that handed it out:
/// of the answers that carried it, the one that completed first.
fn first_holder(history: &History<Op, Ret>, id: u64) -> (OpId, NodeId) {
    history
        .operations()
        .iter()
        .filter_map(|op| {
            let ret = op.ok_value().filter(|ret| ret.ids.contains(&id))?;
            Some((op.completion.as_ref()?.stamp.position, op.id, ret.server))
        })
        .min()
        .map(|(_, op, server)| (op, server))
        .expect("a repeated ID was handed out before")
}

impl Invariant<KgsNode> for UniqueIds {
    fn name(&self) -> &str {
        UNIQUE_IDS
    }

    fn check(&mut self, world: &World<'_, KgsNode>, step: &Step<'_>) -> Result<(), Breach> {
        self.book.update(world, step);
        let mut duplicate = None;
        let (seen, map) = (&mut self.seen, &self.map);
        let _ = self.feed.for_each_completed(world.history(), |op| {
            let Some(ret) = op.ok_value() else {
                return Ok(());
            };
            match seen.record(map, ret) {
                Some(id) => {
                    duplicate = Some((id, op.id, ret.server));
                    Err(())
                }
                None => Ok(()),
            }
        });
        let Some((id, op, server)) = duplicate else {
            return Ok(());
        };
        let (first_op, first_server) = first_holder(world.history(), id);
        Err(Breach::new(format!(
            "ID {id:#018x} was handed out twice: by {} (operation #{}) and by {} (operation #{}); {}",
            self.layout.name(first_server),
            first_op.0,
            self.layout.name(server),
            op.0,
            self.origin(id)
        ))
        .with_ops([first_op, op]))
    }
}

/// No counter leased twice.
#[derive(Debug)]
pub struct BulksLeasedOnce {
    book: GrantBook,
}

impl BulksLeasedOnce {
    pub fn new(layout: Layout) -> BulksLeasedOnce {
        BulksLeasedOnce {
            book: GrantBook::new(layout),
        }
    }
}

impl Invariant<KgsNode> for BulksLeasedOnce {
    fn name(&self) -> &str {
        BULKS_LEASED_ONCE
    }

    fn check(&mut self, world: &World<'_, KgsNode>, step: &Step<'_>) -> Result<(), Breach> {
        let new = self.book.update(world, step);
        let grants = &self.book.grants;
        for i in grants.len() - new..grants.len() {
            let (server, range) = grants[i];
            if let Some((earlier, earlier_range)) =
                grants[..i].iter().find(|(_, r)| r.overlaps(&range))
            {
                let layout = self.book.layout;
                return Err(Breach::new(format!(
                    "bulk [{}, {}) was leased to {} though [{}, {}) had been leased to {}: the \
                     authority granted counters twice",
                    range.start,
                    range.end,
                    layout.name(server),
                    earlier_range.start,
                    earlier_range.end,
                    layout.name(*earlier)
                )));
            }
        }
        Ok(())
    }
}

/// Every ID decodes to a counter in a bulk its server was granted.
#[derive(Debug)]
pub struct IdsFromHeldBulks {
    map: IdMap,
    feed: CompletionFeed<Op, Ret>,
    book: GrantBook,
}

impl IdsFromHeldBulks {
    pub fn new(layout: Layout, map: IdMap) -> IdsFromHeldBulks {
        IdsFromHeldBulks {
            map,
            feed: CompletionFeed::default(),
            book: GrantBook::new(layout),
        }
    }
}

impl Invariant<KgsNode> for IdsFromHeldBulks {
    fn name(&self) -> &str {
        IDS_FROM_HELD_BULKS
    }

    fn check(&mut self, world: &World<'_, KgsNode>, step: &Step<'_>) -> Result<(), Breach> {
        self.book.update(world, step);
        let (map, book) = (&self.map, &self.book);
        let mut stray = None;
        let _ = self.feed.for_each_completed(world.history(), |op| {
            let Some(ret) = op.ok_value() else {
                return Ok(());
            };
            if map.is_invertible() {
                for (first, last) in map.counter_runs(&ret.ids) {
                    if let Some(counter) = book.first_not_held(ret.server, first, last) {
                        stray = Some((map.id(counter), op.id, ret.server));
                        return Err(());
                    }
                }
                return Ok(());
            }
            for &id in &ret.ids {
                let held = map.counters(id).is_some_and(|(first, step)| {
                    book.granted_to(ret.server)
                        .iter()
                        .any(|r| first_in(r, first, step).is_some())
                });
                if !held {
                    stray = Some((id, op.id, ret.server));
                    return Err(());
                }
            }
            Ok(())
        });
        let Some((id, op, server)) = stray else {
            return Ok(());
        };
        let counter = map.counters(id).map_or("no counter".to_owned(), |(c, _)| format!("counter {c}"));
        Err(Breach::new(format!(
            "{} handed out ID {id:#018x} (operation #{}), which decodes to {counter}, in no bulk \
             it was granted",
            book.layout.name(server),
            op.0
        ))
        .with_ops([op]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kgs::ids::DEFAULT_MULTIPLIER;
    use sim_core::SimTime;
    use sim_core::history::Outcome;

    /// An ID repeated, and the operation and server it went with first.
    type Repeat = (u64, OpId, NodeId);

    /// Feeds answers of `(server, counters)` to a fresh `seen`, each
    /// completed in a history first; for each answer, the ID it repeated
    /// with who had it first, and how many IDs were kept.
    fn replay(mut seen: Seen, answers: &[(u32, &[u64])]) -> (Vec<Option<Repeat>>, u64) {
        let map = IdMap::new(DEFAULT_MULTIPLIER);
        let mut history = History::new();
        let found = answers
            .iter()
            .enumerate()
            .map(|(event, &(server, counters))| {
                let ret = Ret {
                    server: NodeId(server),
                    ids: counters.iter().map(|&c| map.id(c)).collect(),
                };
                let time = SimTime::from_millis(event as u64);
                let op = history.invoke(NodeId(9), Op { count: 1 }, time, event as u64);
                history.complete(op, Outcome::Ok(ret.clone()), time, event as u64);
                let id = seen.record(&map, &ret)?;
                let (first, server) = first_holder(&history, id);
                Some((id, first, server))
            })
            .collect();
        (found, seen.len())
    }

    #[test]
    fn joined_counter_runs_find_the_same_repeats_as_a_set_of_ids() {
        let counters = || Seen::Counters(Vec::new());
        let ids = || Seen::Ids(FxHashSet::default());
        let map = IdMap::new(DEFAULT_MULTIPLIER);
        let answers: &[(u32, &[u64])] = &[
            (0, &[10, 11, 12]),
            (1, &[100, 101]),
            (0, &[13, 14]),  // joins 10..=12
            (1, &[102, 200]), // joins 100..=101, then a new run
            (2, &[50, 12]),   // 12 was op 0's, inside a joined run
            (2, &[60, 61, 60]), // a repeat inside one answer
            (0, &[u64::MAX]),
            (0, &[0]), // does not join across the wrap
            (3, &[99, 100, 101]), // 100 is op 1's
        ];
        let (by_runs, _) = replay(counters(), answers);
        assert_eq!(by_runs, replay(ids(), answers).0);
        // Until the first repeat (after which the run is over), both keep
        // every ID answered.
        assert_eq!(replay(counters(), &answers[..4]).1, 9);
        assert_eq!(replay(ids(), &answers[..4]).1, 9);
        let repeats: Vec<_> = by_runs.iter().enumerate().filter_map(|(op, r)| Some((op, (*r)?))).collect();
        assert_eq!(
            repeats,
            [
                (4, (map.id(12), OpId(0), NodeId(0))),
                (5, (map.id(60), OpId(5), NodeId(2))),
                (8, (map.id(100), OpId(1), NodeId(1))),
            ]
        );
    }
}
