//! What the store's disk holds, in structures a copy mostly shares.
//!
//! A buffered disk copies the node's durable state at every sync (what a
//! crash rolls back to), and the store syncs after every message it
//! stores. With a vector and a hash map, each copy was the whole history:
//! a run's cost grew with the square of its length (a 400 s run spent 83%
//! of its time copying). Here the newest entries, fewer than `CHUNK`, are
//! plain (copied with the state, as cheap as the old copy of a short
//! run); older ones are sealed, a chunk at a time, into persistent
//! structures (rpds) that a copy shares by pointer.

use archery::ArcTK;
use rpds::{HashTrieMap, RedBlackTreeMap, Vector};
use rustc_hash::{FxBuildHasher, FxHashMap};

use super::msg::Message;

/// Entries kept plain before they are sealed.
const CHUNK: usize = 64;

/// A conversation's messages, in order. (Atomic counts: a run's state is
/// made on one thread and may run on another.)
#[derive(Debug, Default)]
pub struct MessageLog {
    /// Full chunks of `CHUNK` messages, shared with copies.
    sealed: Vector<Vec<Message>, ArcTK>,
    /// The newest messages, fewer than `CHUNK`.
    tail: Vec<Message>,
}

/// A copy's tail has room for a whole chunk. The live log is copied
/// when a write finds it shared with a disk's copy, and the write then
/// pushes: a tail cloned to its length grew (a new block, and every
/// message copied again) on nearly every message stored.
impl Clone for MessageLog {
    fn clone(&self) -> MessageLog {
        let mut tail = Vec::with_capacity(CHUNK);
        tail.extend_from_slice(&self.tail);
        MessageLog {
            sealed: self.sealed.clone(),
            tail,
        }
    }
}

impl MessageLog {
    fn len(&self) -> usize {
        self.sealed.len() * CHUNK + self.tail.len()
    }

    pub fn last(&self) -> Option<&Message> {
        self.tail
            .last()
            .or_else(|| self.sealed.last().and_then(|chunk| chunk.last()))
    }

    fn get(&self, index: usize) -> &Message {
        match self.sealed.get(index / CHUNK) {
            Some(chunk) => &chunk[index % CHUNK],
            None => &self.tail[index - self.sealed.len() * CHUNK],
        }
    }

    /// How many messages, from the first, satisfy `pred`; `pred` must hold
    /// for a prefix and not after it (as `slice::partition_point`).
    pub fn partition_point(&self, pred: impl Fn(&Message) -> bool) -> usize {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = low + (high - low) / 2;
            if pred(self.get(mid)) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        low
    }

    /// Puts `message` at `at`. The end is the usual place; elsewhere (only
    /// `ArrivalOrder`, whose stamps arrive out of order) the log from the
    /// chunk of `at` on is rebuilt.
    pub fn insert(&mut self, at: usize, message: Message) {
        if at == self.len() {
            self.push(message);
            return;
        }
        // From the start of `at`'s chunk (or of the tail) on.
        let start = (at / CHUNK).min(self.sealed.len()) * CHUNK;
        let mut rest: Vec<Message> = self.starting_at(start).copied().collect();
        rest.insert(at - start, message);
        while self.sealed.len() * CHUNK > start {
            self.sealed.drop_last_mut();
        }
        self.tail.clear();
        for m in rest {
            self.push(m);
        }
    }

    fn push(&mut self, message: Message) {
        self.tail.push(message);
        if self.tail.len() == CHUNK {
            let full = std::mem::replace(&mut self.tail, Vec::with_capacity(CHUNK));
            self.sealed.push_back_mut(full);
        }
    }

    /// The messages from `index` on, in order.
    pub fn starting_at(&self, index: usize) -> impl Iterator<Item = &Message> {
        (index..self.len()).map(|index| self.get(index))
    }

    /// The messages from the last back.
    pub fn latest_first(&self) -> impl Iterator<Item = &Message> {
        let sealed = self.sealed.iter().rev().flat_map(|chunk| chunk.iter().rev());
        self.tail.iter().rev().chain(sealed)
    }
}

/// Every conversation's log, by conversation. Persistent too: with a
/// thousand conversations, a copy of an ordinary map cloned every log's
/// newest messages at every sync; this one shares them, and a write
/// copies only the path to its conversation.
#[derive(Clone, Debug, Default)]
pub struct Conversations {
    logs: RedBlackTreeMap<u32, MessageLog, ArcTK>,
}

impl Conversations {
    pub fn get(&self, conv: u32) -> Option<&MessageLog> {
        self.logs.get(&conv)
    }

    /// `conv`'s log, made empty if it has none yet.
    pub fn log_mut(&mut self, conv: u32) -> &mut MessageLog {
        if self.logs.get(&conv).is_none() {
            self.logs.insert_mut(conv, MessageLog::default());
        }
        self.logs.get_mut(&conv).expect("just made")
    }
}

/// A stored message's key: (conversation, order, the store's clock when
/// stored).
type Key = (u32, u64, i64);

/// The key of every message stored, by message id. Fx hashing: the same
/// layout on every machine and run.
#[derive(Clone, Default)]
pub struct Keys {
    /// Older keys, shared with copies.
    sealed: HashTrieMap<u64, Key, ArcTK, FxBuildHasher>,
    /// The newest keys, fewer than `CHUNK`.
    recent: FxHashMap<u64, Key>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let stored = self.sealed.size() + self.recent.len();
        f.debug_struct("Keys").field("stored", &stored).finish()
    }
}

impl Keys {
    pub fn get(&self, item: u64) -> Option<Key> {
        self.recent
            .get(&item)
            .or_else(|| self.sealed.get(&item))
            .copied()
    }

    /// Stores `item`'s key. A key stored again (`NoIdempotency` stores a
    /// retry anew) shadows the sealed one until it is sealed over it; a
    /// window that forgets the newer forgets the older too.
    pub fn insert(&mut self, item: u64, key: Key) {
        self.recent.insert(item, key);
        if self.recent.len() == CHUNK {
            for (item, key) in self.recent.drain() {
                self.sealed.insert_mut(item, key);
            }
        }
    }

    /// Forgets every key stored before `now - window_ns`.
    pub fn forget_older_than(&mut self, now: i64, window_ns: i64) {
        let old = |&(_, _, at): &Key| now.saturating_sub(at) > window_ns;
        self.recent.retain(|_, key| !old(key));
        let expired: Vec<u64> = self
            .sealed
            .iter()
            .filter(|(_, key)| old(key))
            .map(|(&item, _)| item)
            .collect();
        for item in expired {
            self.sealed.remove_mut(&item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::NodeId;

    fn message(order: u64) -> Message {
        Message {
            conv: 0,
            item: order * 10,
            sender: NodeId(0),
            order,
        }
    }

    /// A copy taken before later writes keeps what it saw: a crash rolls
    /// back to it.
    #[test]
    fn a_copy_keeps_what_it_saw() {
        let mut log = MessageLog::default();
        let mut keys = Keys::default();
        for order in 1..=300 {
            log.insert(log.len(), message(order));
            keys.insert(order * 10, (0, order, order as i64));
        }
        let (log_then, keys_then) = (log.clone(), keys.clone());
        log.insert(log.len(), message(301));
        keys.insert(3010, (0, 301, 301));
        keys.forget_older_than(301, 50);
        assert_eq!(log_then.len(), 300);
        assert_eq!(log_then.last(), Some(&message(300)));
        assert_eq!(log.last(), Some(&message(301)));
        assert_eq!(keys_then.get(10), Some((0, 1, 1)));
        assert_eq!(keys_then.get(3010), None);
        assert_eq!(keys.get(10), None, "forgotten: older than the window");
        assert_eq!(keys.get(2600), Some((0, 260, 260)));
        assert_eq!(keys.get(3010), Some((0, 301, 301)));
    }

    #[test]
    fn a_copy_of_the_conversations_keeps_what_it_saw() {
        let mut conversations = Conversations::default();
        for conv in 0..50 {
            conversations.log_mut(conv).insert(0, message(1));
        }
        let then = conversations.clone();
        let log = conversations.log_mut(7);
        log.insert(log.len(), message(2));
        assert_eq!(conversations.get(7).and_then(MessageLog::last), Some(&message(2)));
        assert_eq!(then.get(7).and_then(MessageLog::last), Some(&message(1)));
        assert!(then.get(50).is_none());
    }

    #[test]
    fn inserts_in_place_and_reads_in_order() {
        // Odd orders 1..=199, then the evens put in their places: every
        // chunk boundary is crossed, and the result is 1..=199 in order.
        let mut log = MessageLog::default();
        for order in (1..200).step_by(2) {
            log.insert(log.len(), message(order));
        }
        for order in (2..200).step_by(2) {
            let at = log.partition_point(|m| m.order < order);
            log.insert(at, message(order));
        }
        let orders: Vec<u64> = log.starting_at(0).map(|m| m.order).collect();
        assert_eq!(orders, (1..200).collect::<Vec<u64>>());
        let latest: Vec<u64> = log.latest_first().map(|m| m.order).collect();
        assert_eq!(latest, (1..200).rev().collect::<Vec<u64>>());
        let from: Vec<u64> = log.starting_at(130).map(|m| m.order).take(3).collect();
        assert_eq!(from, [131, 132, 133]);
        assert_eq!(log.partition_point(|m| m.order <= 64), 64);
    }
}
