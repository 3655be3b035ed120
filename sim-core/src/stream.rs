//! Stream checks: what users of a stream (a chat conversation, a feed)
//! are owed, judged from the history, for any design. Clients post items
//! to streams (operations whose `Op` says which, `StreamPost`) and show
//! items to their users (observations, `Ctx::show`). The checks:
//!
//! - `shown_once`: no participant shows an item twice, and nobody shows
//!   an item nobody posted (an invariant).
//! - `same_order`: any two participants show the items they both show in
//!   the same order (an invariant).
//! - `sender_order`: a sender's items appear in the order it sent them: if
//!   post x was acknowledged before post y was sent, nobody shows y before
//!   x (an invariant).
//! - `acknowledged_shown`: no acknowledged item is lost: every participant
//!   shows every acknowledged post within the bound after the later of
//!   its acknowledgement and the heal (a history check; it needs a
//!   liveness phase, since faults may delay delivery without limit).
//!
//! Invariants read only what was recorded since their last look, so each
//! costs, per show, the length of the showing participant's view of that
//! stream (for the two order checks), nothing per other event.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::check::{Breach, HistoryCheck, HistoryVerdict, Invariant, Step};
use crate::history::{History, OpId, Shown};
use crate::node::{Node, NodeId};
use crate::time::SimTime;
use crate::world::World;

pub const SHOWN_ONCE: &str = "shown_once";
pub const SAME_ORDER: &str = "same_order";
pub const SENDER_ORDER: &str = "sender_order";
pub const ACKNOWLEDGED_SHOWN: &str = "acknowledged_shown";

/// An operation that may post an item to a stream: the design's `Op`
/// says which operations do.
pub trait StreamPost {
    /// `(stream, item)` if this operation posts.
    fn post(&self) -> Option<(u64, u64)>;
}

/// How a design names its items in messages (`client-1's message 3`).
pub type ItemNames = Arc<dyn Fn(u64) -> String + Send + Sync>;

/// Who takes part in which stream, and what things are called.
#[derive(Clone)]
pub struct Streams {
    /// Per stream: the nodes that must show every item of it.
    pub participants: BTreeMap<u64, Vec<NodeId>>,
    /// Node names by index, for messages.
    pub names: Vec<String>,
    /// What a stream is in the design's words (`conversation`).
    pub noun: &'static str,
    /// How to name an item; unset: `item N`.
    pub item_names: Option<ItemNames>,
}

impl std::fmt::Debug for Streams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streams")
            .field("participants", &self.participants)
            .field("noun", &self.noun)
            .finish_non_exhaustive()
    }
}

impl Streams {
    fn name(&self, node: NodeId) -> &str {
        self.names.get(node.index()).map_or("?", String::as_str)
    }
    fn item(&self, item: u64) -> String {
        match &self.item_names {
            Some(names) => names(item),
            None => format!("item {item}"),
        }
    }
    fn stream(&self, stream: u64) -> String {
        format!("{} {stream}", self.noun)
    }
}

/// Every post seen so far: item → (operation, sender), read from the
/// history as it grows. The checks' maps are only looked up, never
/// iterated, so a hash map's order never shows.
#[derive(Debug, Default)]
struct Posts {
    read: usize,
    by_item: FxHashMap<(u64, u64), (OpId, NodeId)>,
}

impl Posts {
    fn update<O: StreamPost, R>(&mut self, history: &History<O, R>) {
        for op in &history.operations()[self.read..] {
            if let Some(key) = op.op.post() {
                // A retry posts the same item again: the first post names it.
                self.by_item.entry(key).or_insert((op.id, op.node));
            }
        }
        self.read = history.operations().len();
    }
}

/// A check's place in the history's shows.
#[derive(Debug, Default)]
struct ShowFeed {
    read: usize,
}

impl ShowFeed {
    /// The shows recorded since the last call.
    fn new_shows<'h, O, R>(&mut self, history: &'h History<O, R>) -> &'h [Shown] {
        let shown = &history.shown()[self.read..];
        self.read = history.shown().len();
        shown
    }
}

/// What each participant has shown of each stream, in order.
#[derive(Debug, Default)]
struct Views {
    /// (stream, node) → items in the order shown.
    order: FxHashMap<(u64, NodeId), Vec<u64>>,
}

impl Views {
    /// Notes `show` as shown; returns its place in its shower's order.
    fn add(&mut self, show: &Shown) -> usize {
        let order = self.order.entry((show.stream, show.node)).or_default();
        order.push(show.item);
        order.len() - 1
    }

    /// What `node` has shown of `stream`, in order.
    fn shown(&self, stream: u64, node: NodeId) -> &[u64] {
        self.order.get(&(stream, node)).map_or(&[], Vec::as_slice)
    }
}

/// No participant shows an item twice; nobody shows an unposted item.
#[derive(Debug)]
pub struct ShownOnce {
    streams: Arc<Streams>,
    posts: Posts,
    shows: ShowFeed,
    seen: FxHashSet<(u64, NodeId, u64)>,
}

impl ShownOnce {
    pub fn new(streams: Arc<Streams>) -> ShownOnce {
        ShownOnce {
            streams,
            posts: Posts::default(),
            shows: ShowFeed::default(),
            seen: FxHashSet::default(),
        }
    }
}

impl<N: Node> Invariant<N> for ShownOnce
where
    N::Op: StreamPost,
{
    fn name(&self) -> &str {
        SHOWN_ONCE
    }

    fn reads_only_history(&self) -> bool {
        true
    }

    fn check(&mut self, world: &World<'_, N>, _step: &Step<'_>) -> Result<(), Breach> {
        let history = world.history();
        self.posts.update(history);
        for show in self.shows.new_shows(history) {
            let who = self.streams.name(show.node);
            let Some(&(op, sender)) = self.posts.by_item.get(&(show.stream, show.item)) else {
                return Err(Breach::new(format!(
                    "{who} showed {} in {}, which nobody posted",
                    self.streams.item(show.item),
                    self.streams.stream(show.stream)
                )));
            };
            if !self.seen.insert((show.stream, show.node, show.item)) {
                return Err(Breach::new(format!(
                    "{who} showed {} in {} (posted by {}, operation #{}) twice",
                    self.streams.item(show.item),
                    self.streams.stream(show.stream),
                    self.streams.name(sender),
                    op.0
                ))
                .with_ops([op]));
            }
        }
        Ok(())
    }
}

/// Participants agree on the order of what they both show.
#[derive(Debug)]
pub struct SameOrder {
    streams: Arc<Streams>,
    posts: Posts,
    shows: ShowFeed,
    views: Views,
    /// (stream, item) → who has shown it, at which place in their order,
    /// by node.
    showers: FxHashMap<(u64, u64), Vec<(NodeId, usize)>>,
    /// (stream, a, b) → the latest place in b's order of anything a has
    /// shown that b shows too. When a shows x, which b showed at place
    /// p, the two disagree exactly when this is past p: something a
    /// showed before x, b showed after x. One lookup per pair replaces a
    /// scan of everything a showed before, which made a long
    /// conversation's check quadratic. Only looked up, never iterated.
    latest: FxHashMap<(u64, NodeId, NodeId), usize>,
    /// Room for the other showers of the item being checked, kept from
    /// one show to the next so that a show allocates nothing.
    others: Vec<(NodeId, usize)>,
}

impl SameOrder {
    pub fn new(streams: Arc<Streams>) -> SameOrder {
        SameOrder {
            streams,
            posts: Posts::default(),
            shows: ShowFeed::default(),
            views: Views::default(),
            showers: FxHashMap::default(),
            latest: FxHashMap::default(),
            others: Vec::new(),
        }
    }

    /// The first item `node` showed before `x` that `other` showed after
    /// `x_at`: the pair to report (a scan, run only when one exists, and
    /// in debug builds to check `latest`).
    fn out_of_order(&self, stream: u64, node: NodeId, other: NodeId, x_at: usize) -> Option<u64> {
        let before = self.views.shown(stream, node);
        before.iter().copied().find(|&y| {
            self.showers
                .get(&(stream, y))
                .and_then(|showers| showers.iter().find(|(shower, _)| *shower == other))
                .is_some_and(|&(_, y_at)| y_at > x_at)
        })
    }

    /// Puts in `others` the other participants of `stream` that have
    /// shown `x`, with its place, by node.
    fn others_showing(&self, stream: u64, node: NodeId, x: u64, others: &mut Vec<(NodeId, usize)>) {
        others.clear();
        let showers = self
            .showers
            .get(&(stream, x))
            .map_or(&[][..], Vec::as_slice);
        others.extend(showers.iter().filter(|(other, _)| *other != node));
    }
}

impl<N: Node> Invariant<N> for SameOrder
where
    N::Op: StreamPost,
{
    fn name(&self) -> &str {
        SAME_ORDER
    }

    fn reads_only_history(&self) -> bool {
        true
    }

    fn check(&mut self, world: &World<'_, N>, _step: &Step<'_>) -> Result<(), Breach> {
        let history = world.history();
        self.posts.update(history);
        for show in self.shows.new_shows(history) {
            let (stream, x, node) = (show.stream, show.item, show.node);
            // Every other participant that shows x must show, before x,
            // whatever of what `node` showed before it shows at all.
            let mut others = std::mem::take(&mut self.others);
            self.others_showing(stream, node, x, &mut others);
            for &(other, x_at) in &others {
                let latest = self.latest.get(&(stream, node, other)).copied();
                let disagree = latest.is_some_and(|at| at > x_at);
                debug_assert_eq!(
                    disagree,
                    self.out_of_order(stream, node, other, x_at).is_some(),
                    "the latest places agree with a scan"
                );
                if !disagree {
                    continue;
                }
                let y = self
                    .out_of_order(stream, node, other, x_at)
                    .expect("a later place means such an item");
                let ops: Vec<OpId> = [x, y]
                    .iter()
                    .filter_map(|item| self.posts.by_item.get(&(stream, *item)).map(|(op, _)| *op))
                    .collect();
                let (xs, ys) = (self.streams.item(x), self.streams.item(y));
                return Err(Breach::new(format!(
                    "in {}, {} showed {ys} before {xs}, but {} showed {xs} before {ys}",
                    self.streams.stream(stream),
                    self.streams.name(node),
                    self.streams.name(other)
                ))
                .with_ops(ops));
            }
            let x_here = self.views.add(show);
            // A second show of x (`shown_once` speaks to it) moves its place.
            let showers = self.showers.entry((stream, x)).or_default();
            match showers.binary_search_by_key(&node, |&(shower, _)| shower) {
                Ok(at) => showers[at].1 = x_here,
                Err(at) => showers.insert(at, (node, x_here)),
            }
            // x is now among what `node` showed, at `x_here`, and among
            // what each of `others` showed.
            for &(other, x_at) in &others {
                let mine = self.latest.entry((stream, node, other)).or_insert(x_at);
                *mine = (*mine).max(x_at);
                let theirs = self.latest.entry((stream, other, node)).or_insert(x_here);
                *theirs = (*theirs).max(x_here);
            }
            self.others = others;
        }
        Ok(())
    }
}

/// A sender's acknowledged items come before what it sent after them.
#[derive(Debug)]
pub struct SenderOrder {
    streams: Arc<Streams>,
    posts: Posts,
    /// No views of its own: what a shower showed before, needed only to
    /// name a breach (and to check `latest_invoked` in debug builds), is
    /// read from the history.
    shows: ShowFeed,
    /// (stream, shower, sender) → the latest invocation, by history
    /// position, of the sender's items the shower has shown. An
    /// acknowledged x comes too late exactly when this is past x's
    /// completion. One lookup replaces a scan of everything shown before.
    /// Only looked up, never iterated.
    latest_invoked: FxHashMap<(u64, NodeId, NodeId), u64>,
}

impl SenderOrder {
    pub fn new(streams: Arc<Streams>) -> SenderOrder {
        SenderOrder {
            streams,
            posts: Posts::default(),
            shows: ShowFeed::default(),
            latest_invoked: FxHashMap::default(),
        }
    }

    /// Notes `show` as shown, with its sender's invocation.
    fn add<O, R>(&mut self, show: &Shown, history: &History<O, R>) {
        if let Some(&(op, sender)) = self.posts.by_item.get(&(show.stream, show.item)) {
            let invoked = history.get(op).invoke.position;
            let latest = self
                .latest_invoked
                .entry((show.stream, show.node, sender))
                .or_insert(invoked);
            *latest = (*latest).max(invoked);
        }
    }
}

impl<N: Node> Invariant<N> for SenderOrder
where
    N::Op: StreamPost,
{
    fn name(&self) -> &str {
        SENDER_ORDER
    }

    fn reads_only_history(&self) -> bool {
        true
    }

    fn check(&mut self, world: &World<'_, N>, _step: &Step<'_>) -> Result<(), Breach> {
        let history = world.history();
        self.posts.update(history);
        let new = self.shows.new_shows(history);
        let first_new = history.shown().len() - new.len();
        for (at, show) in (first_new..).zip(new) {
            let stream = show.stream;
            let Some(&(x_op, sender)) = self.posts.by_item.get(&(stream, show.item)) else {
                self.add(show, history);
                continue; // `shown_once` speaks to that
            };
            let x_post = history.get(x_op);
            // An item y shown earlier that the sender sent after x was
            // acknowledged: the user sees the sender's later words first.
            let too_late = x_post.ok_value().is_some()
                && x_post.completion.as_ref().is_some_and(|done| {
                    self.latest_invoked
                        .get(&(stream, show.node, sender))
                        .is_some_and(|&invoked| done.stamp.position < invoked)
                });
            let later = |this: &Self| {
                history.shown()[..at]
                    .iter()
                    .filter(|earlier| earlier.stream == stream && earlier.node == show.node)
                    .find_map(|earlier| {
                        let y = earlier.item;
                        let &(y_op, y_sender) = this.posts.by_item.get(&(stream, y))?;
                        let y_post = history.get(y_op);
                        (y_sender == sender
                            && x_post.ok_value().is_some()
                            && x_post.precedes(y_post))
                        .then_some((y, y_op))
                    })
            };
            debug_assert_eq!(
                too_late,
                later(self).is_some(),
                "the latest invocations agree with a scan"
            );
            if too_late {
                let (y, y_op) = later(self).expect("a later invocation means such an item");
                let (xs, ys) = (self.streams.item(show.item), self.streams.item(y));
                return Err(Breach::new(format!(
                    "{} showed {ys} before {xs}, though {} sent {ys} only after {xs} was \
                     acknowledged",
                    self.streams.name(show.node),
                    self.streams.name(sender),
                ))
                .with_ops([x_op, y_op]));
            }
            self.add(show, history);
        }
        Ok(())
    }
}

/// Every acknowledged post is shown by every participant within `bound`
/// after the later of its acknowledgement and the heal.
#[derive(Debug)]
pub struct AcknowledgedShown {
    streams: Arc<Streams>,
    healed_at: SimTime,
    bound: std::time::Duration,
    end: SimTime,
}

impl AcknowledgedShown {
    /// `healed_at` and `bound` from the run's liveness phase; `end`, when
    /// the run ends (posts whose deadline falls after it are not judged).
    pub fn new(
        streams: Arc<Streams>,
        healed_at: SimTime,
        bound: std::time::Duration,
        end: SimTime,
    ) -> AcknowledgedShown {
        AcknowledgedShown {
            streams,
            healed_at,
            bound,
            end,
        }
    }
}

impl<N: Node> HistoryCheck<N> for AcknowledgedShown
where
    N::Op: StreamPost,
{
    fn name(&self) -> &str {
        ACKNOWLEDGED_SHOWN
    }

    fn check(&mut self, history: &History<N::Op, N::Ret>) -> HistoryVerdict {
        // Only looked up, never iterated.
        let mut shown: FxHashMap<(u64, u64, NodeId), SimTime> = FxHashMap::default();
        for s in history.shown() {
            shown
                .entry((s.stream, s.item, s.node))
                .or_insert(s.stamp.time);
        }
        for op in history.operations() {
            let (Some((stream, item)), Some(completion)) = (op.op.post(), &op.completion) else {
                continue;
            };
            if op.ok_value().is_none() {
                continue;
            }
            let deadline = completion.stamp.time.max(self.healed_at) + self.bound;
            if deadline > self.end {
                continue;
            }
            let participants = self
                .streams
                .participants
                .get(&stream)
                .map_or(&[][..], Vec::as_slice);
            for &node in participants {
                let who = self.streams.name(node);
                let fate = match shown.get(&(stream, item, node)) {
                    Some(&at) if at <= deadline => continue,
                    Some(&at) => format!("was shown by {who} only at {at}"),
                    None => format!("was never shown by {who}"),
                };
                return HistoryVerdict::Violated(
                    Breach::new(format!(
                        "{} in {}, posted by {} and acknowledged at {} (operation #{}), {fate}; \
                         it was due by {deadline}",
                        self.streams.item(item),
                        self.streams.stream(stream),
                        self.streams.name(op.node),
                        completion.stamp.time,
                        op.id.0,
                    ))
                    .with_ops([op.id]),
                );
            }
        }
        HistoryVerdict::Pass
    }
}
