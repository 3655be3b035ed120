//! The store: it gives each conversation its order and keeps its
//! messages, on a buffered disk. A message is acknowledged, readable and
//! announced to the servers only once the sync that covers it has
//! completed, so a crash never takes back a message anyone was told of.
//! A message's id is its idempotency key: a retry of a stored message gets
//! the first copy's place back instead of a second copy.
//!
//! The broken variants change one rule: `NoIdempotency` ignores keys;
//! `ShortIdempotencyWindow` forgets them after `idempotency_window_ms`;
//! `ArrivalOrder` orders each conversation by the servers' arrival stamps
//! instead of numbering messages as they are stored.

use std::collections::BTreeSet;
use std::sync::Arc;

use sim_core::{ConnEvent, ConnId, Ctx, NodeId};

use super::msg::{Cursor, Message, Msg};
use super::node::{ChatDisk, ChatNode, StoreDisk, Timer};
use super::{ChatConfig, Variant};

#[derive(Debug)]
pub struct Store {
    config: Arc<ChatConfig>,
    /// Messages written but not yet synced: not readable, not announced.
    unsynced: BTreeSet<u64>,
    /// Connections from servers.
    servers: Vec<ConnId>,
    next_sync: u64,
    /// Answers waiting for a sync: (sync number, connection, answer, the
    /// message to announce if it is new).
    waiting: Vec<(u64, ConnId, Msg, Option<Message>)>,
}

impl Store {
    pub fn new(disk: &StoreDisk) -> Store {
        Store {
            config: Arc::clone(&disk.config),
            unsynced: BTreeSet::new(),
            servers: Vec::new(),
            next_sync: 0,
            waiting: Vec::new(),
        }
    }

    pub fn on_connection(&mut self, ctx: &mut Ctx<'_, ChatNode>, conn: ConnId, event: ConnEvent<Msg>) {
        match event {
            ConnEvent::Accepted { .. } => self.servers.push(conn),
            ConnEvent::Closed(_) => {
                self.servers.retain(|&c| c != conn);
                self.waiting.retain(|(_, c, _, _)| *c != conn);
            }
            ConnEvent::Message(msg) => self.on_request(ctx, conn, msg),
            ConnEvent::Opened { .. } => {}
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, ChatNode>, conn: ConnId, msg: Msg) {
        match msg {
            Msg::Append {
                request,
                conv,
                item,
                sender,
                stamp,
            } => self.append(ctx, conn, request, (conv, item, sender, stamp)),
            Msg::Read { request, cursors } => {
                let (messages, heads) = self.read(ctx, &cursors);
                ctx.send_on(
                    conn,
                    Msg::Messages {
                        request,
                        messages,
                        heads,
                    },
                );
            }
            _ => {}
        }
    }

    fn append(
        &mut self,
        ctx: &mut Ctx<'_, ChatNode>,
        conn: ConnId,
        request: u64,
        (conv, item, sender, stamp): (u32, u64, NodeId, u64),
    ) {
        let now = ctx.now().as_nanos();
        let variant = self.config.variant;
        let window_ns = i64::try_from(self.config.idempotency_window_ms)
            .unwrap_or(i64::MAX / 1_000_000)
            .saturating_mul(1_000_000);
        let disk = disk(ctx);
        let known = match variant {
            Variant::NoIdempotency => None,
            Variant::ShortIdempotencyWindow => {
                // The mistake: keys expire while senders still retry.
                disk.keys.forget_older_than(now, window_ns);
                disk.keys.get(item)
            }
            _ => disk.keys.get(item),
        };
        if let Some((_, order, _)) = known {
            let answer = Msg::Appended {
                request,
                item,
                order,
            };
            if self.unsynced.contains(&item) {
                // Stored but not yet on disk: answer with its sync.
                self.waiting.push((self.next_sync - 1, conn, answer, None));
            } else {
                ctx.send_on(conn, answer);
            }
            return;
        }
        let messages = disk.conversations.log_mut(conv);
        let order = match variant {
            // The mistake: the conversation's order is the servers' clocks.
            Variant::ArrivalOrder => stamp.max(1),
            _ => messages.last().map_or(1, |m| m.order + 1),
        };
        let message = Message {
            conv,
            item,
            sender,
            order,
        };
        let at = messages.partition_point(|m| (m.order, m.item) < (order, item));
        messages.insert(at, message);
        disk.keys.insert(item, (conv, order, now));
        self.unsynced.insert(item);
        let n = self.next_sync;
        self.next_sync += 1;
        let answer = Msg::Appended {
            request,
            item,
            order,
        };
        self.waiting.push((n, conn, answer, Some(message)));
        ctx.sync(Timer::Synced { n });
    }

    /// Synced messages after each cursor (none for "from now on"), and
    /// each conversation's latest synced order.
    fn read(&self, ctx: &mut Ctx<'_, ChatNode>, cursors: &[Cursor]) -> (Vec<Message>, Vec<(u32, u64)>) {
        let disk = disk(ctx);
        let mut messages = Vec::new();
        let mut heads = Vec::new();
        let synced = |m: &&Message| !self.unsynced.contains(&m.item);
        for &(conv, cursor) in cursors {
            // In order, so a read looks at what is after its cursor, not
            // at the whole conversation (a long poll reads again and again).
            let Some(list) = disk.conversations.get(conv) else {
                heads.push((conv, 0));
                continue;
            };
            let head = list.latest_first().find(synced).map_or(0, |m| m.order);
            if let Some(cursor) = cursor {
                let after = list.partition_point(|m| m.order <= cursor);
                messages.extend(list.starting_at(after).filter(synced));
            }
            heads.push((conv, head));
        }
        (messages, heads)
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, ChatNode>, timer: Timer) {
        let Timer::Synced { n } = timer else {
            return;
        };
        for (_, conn, answer, new) in self.waiting.extract_if(.., |(s, ..)| *s <= n) {
            if let Some(message) = new {
                self.unsynced.remove(&message.item);
                for &server in &self.servers {
                    ctx.send_on(server, Msg::New(message));
                }
            }
            ctx.send_on(conn, answer);
        }
    }
}

fn disk<'a>(ctx: &'a mut Ctx<'_, ChatNode>) -> &'a mut StoreDisk {
    match ctx.durable() {
        ChatDisk::Store(disk) => disk,
        other => unreachable!("the store with {other:?}"),
    }
}
