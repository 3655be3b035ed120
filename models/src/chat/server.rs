//! A chat server: stateless between requests. It holds a connection to
//! the store; every request becomes a store request on it. It answers
//! sends once the store has the message on disk, polls with what the
//! store has after the client's cursors (a long poll with nothing to say
//! waits for the store's next announcement or its hold time), and pushes
//! each announced message to the push clients subscribed to its
//! conversation.
//!
//! If its store connection breaks, it closes every push connection it
//! holds: it may have missed announcements, and a client that reconnects
//! resyncs from its own cursor. That is what makes push safe; a design
//! that kept the clients on would leave them waiting for messages that
//! never come.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use sim_core::{ConnEvent, ConnId, Ctx, NodeId, TimerId};

use super::Layout;
use super::msg::{Cursor, Message, Msg, Reply, Request};
use super::node::{ChatNode, Timer};
use super::ChatConfig;

/// How long a server waits before it connects to the store again.
const STORE_RECONNECT: Duration = Duration::from_millis(100);

#[derive(Debug)]
pub struct Server {
    /// The store connection, and whether it is up.
    store: Option<(ConnId, bool)>,
    next_request: u64,
    /// Store requests in flight, by request number: what the answer is for.
    pending: BTreeMap<u64, Pending>,
    /// Push clients: the conversations each connection subscribed to
    /// (none until it subscribes).
    push: Subscriptions,
    /// Long polls with nothing to say yet.
    parked: BTreeMap<u64, Parked>,
    next_poll: u64,
}

#[derive(Debug)]
enum Pending {
    Send { client: NodeId, request: u64 },
    Poll { client: NodeId, request: u64, hold_ms: u64, cursors: Vec<Cursor> },
    Subscribe { conn: ConnId },
    Fetch { conn: ConnId, request: u64 },
}

#[derive(Debug)]
struct Parked {
    client: NodeId,
    request: u64,
    cursors: Vec<Cursor>,
    timer: TimerId,
}

impl Server {
    pub fn new(_config: &Arc<ChatConfig>) -> Server {
        Server {
            store: None,
            next_request: 0,
            pending: BTreeMap::new(),
            push: Subscriptions::default(),
            parked: BTreeMap::new(),
            next_poll: 0,
        }
    }

    /// Push connections it holds now.
    pub fn push_connections(&self) -> usize {
        self.push.len()
    }

    pub fn on_start(&mut self, ctx: &mut Ctx<'_, ChatNode>) {
        let conn = ctx.connect(Layout::STORE);
        self.store = Some((conn, false));
    }

    fn store_up(&self) -> Option<ConnId> {
        self.store.and_then(|(conn, up)| up.then_some(conn))
    }

    /// Sends a request to the store; false if the store is out of reach.
    fn ask_store(&mut self, ctx: &mut Ctx<'_, ChatNode>, build: impl FnOnce(u64) -> Msg, then: Pending) -> bool {
        let Some(conn) = self.store_up() else {
            return false;
        };
        let request = self.next_request;
        self.next_request += 1;
        if !ctx.send_on(conn, build(request)) {
            return false;
        }
        self.pending.insert(request, then);
        true
    }

    pub fn on_message(&mut self, ctx: &mut Ctx<'_, ChatNode>, msg: Msg) {
        let Msg::Forward { client, request } = msg else {
            return;
        };
        ctx.count("server_requests", 1);
        match request {
            Request::Send { request, conv, item } => {
                // The arrival stamp only `ArrivalOrder` orders by.
                let stamp = u64::try_from(ctx.now().as_nanos()).unwrap_or(1);
                let append = |r| Msg::Append {
                    request: r,
                    conv,
                    item,
                    sender: client,
                    stamp,
                };
                // Out of reach of the store: drop it; the client retries.
                self.ask_store(ctx, append, Pending::Send { client, request });
            }
            Request::Poll {
                request,
                cursors,
                hold_ms,
            } => {
                let read = |r| Msg::Read {
                    request: r,
                    cursors: cursors.clone(),
                };
                let then = Pending::Poll {
                    client,
                    request,
                    hold_ms,
                    cursors: cursors.clone(),
                };
                if !self.ask_store(ctx, read, then) {
                    // Fail fast: a poll must not hang on a server that
                    // cannot answer it.
                    ctx.send(client, Msg::Reply(Reply::Unavailable { request }));
                }
            }
            Request::Subscribe { .. } | Request::Fetch { .. } => {} // on a connection only
        }
    }

    pub fn on_connection(&mut self, ctx: &mut Ctx<'_, ChatNode>, conn: ConnId, event: ConnEvent<Msg>) {
        if self.store.is_some_and(|(store, _)| store == conn) {
            self.on_store_event(ctx, event);
            return;
        }
        match event {
            ConnEvent::Accepted { .. } => {
                if self.store_up().is_some() {
                    self.push.set(conn, &[]);
                } else {
                    ctx.close(conn); // nothing to serve it with yet
                }
            }
            ConnEvent::Message(Msg::Request(request)) => self.on_push_request(ctx, conn, request),
            ConnEvent::Closed(_) => {
                self.push.remove(conn);
            }
            _ => {}
        }
    }

    fn on_push_request(&mut self, ctx: &mut Ctx<'_, ChatNode>, conn: ConnId, request: Request) {
        ctx.count("server_requests", 1);
        match request {
            Request::Subscribe { cursors } => {
                // Subscribed at once: announcements that race the resync
                // are the receiver's to order (it buffers by sequence).
                if self.push.holds(conn) {
                    let convs: Vec<u32> = cursors.iter().map(|(conv, _)| *conv).collect();
                    self.push.set(conn, &convs);
                }
                let read = |r| Msg::Read { request: r, cursors };
                if !self.ask_store(ctx, read, Pending::Subscribe { conn }) {
                    self.drop_push(ctx, conn);
                }
            }
            Request::Fetch { request, cursor } => {
                let read = |r| Msg::Read {
                    request: r,
                    cursors: vec![cursor],
                };
                self.ask_store(ctx, read, Pending::Fetch { conn, request });
            }
            Request::Send { .. } | Request::Poll { .. } => {}
        }
    }

    fn drop_push(&mut self, ctx: &mut Ctx<'_, ChatNode>, conn: ConnId) {
        self.push.remove(conn);
        ctx.close(conn);
    }

    fn on_store_event(&mut self, ctx: &mut Ctx<'_, ChatNode>, event: ConnEvent<Msg>) {
        match event {
            ConnEvent::Opened { .. } => {
                if let Some((_, up)) = &mut self.store {
                    *up = true;
                }
            }
            ConnEvent::Closed(_) => {
                // It may have missed announcements: every push client must
                // reconnect and resync. Requests in flight are lost; their
                // clients retry.
                self.store = None;
                // Polls waiting here would wait in vain: send them away.
                let polls = std::mem::take(&mut self.pending).into_values().filter_map(|p| match p {
                    Pending::Poll { client, request, .. } => Some((client, request)),
                    _ => None,
                });
                let parked = std::mem::take(&mut self.parked).into_values().map(|p| {
                    ctx.cancel_timer(p.timer);
                    (p.client, p.request)
                });
                let unavailable: Vec<(NodeId, u64)> = polls.chain(parked).collect();
                for (client, request) in unavailable {
                    ctx.send(client, Msg::Reply(Reply::Unavailable { request }));
                }
                let conns: Vec<ConnId> = self.push.conns().collect();
                for conn in conns {
                    self.drop_push(ctx, conn);
                }
                ctx.set_timer(STORE_RECONNECT, Timer::StoreReconnect);
            }
            ConnEvent::Message(msg) => self.on_store_answer(ctx, msg),
            ConnEvent::Accepted { .. } => {}
        }
    }

    fn on_store_answer(&mut self, ctx: &mut Ctx<'_, ChatNode>, msg: Msg) {
        match msg {
            Msg::Appended {
                request,
                item,
                order,
            } => {
                if let Some(Pending::Send { client, request: asked }) = self.pending.remove(&request) {
                    ctx.send(
                        client,
                        Msg::Reply(Reply::Sent {
                            request: asked,
                            item,
                            order,
                        }),
                    );
                }
            }
            Msg::Messages {
                request,
                messages,
                heads,
            } => match self.pending.remove(&request) {
                Some(Pending::Poll {
                    client,
                    request,
                    hold_ms,
                    cursors,
                }) => {
                    if messages.is_empty() && hold_ms > 0 {
                        self.park(ctx, client, request, cursors, hold_ms);
                    } else {
                        let batch = Reply::Batch {
                            request: Some(request),
                            messages,
                            heads,
                        };
                        ctx.send(client, Msg::Reply(batch));
                    }
                }
                Some(Pending::Subscribe { conn }) => {
                    let batch = Reply::Batch {
                        request: None,
                        messages,
                        heads,
                    };
                    ctx.send_on(conn, Msg::Reply(batch));
                }
                Some(Pending::Fetch { conn, request }) => {
                    let batch = Reply::Batch {
                        request: Some(request),
                        messages,
                        heads,
                    };
                    ctx.send_on(conn, Msg::Reply(batch));
                }
                _ => {}
            },
            Msg::New(message) => self.announce(ctx, message),
            _ => {}
        }
    }

    fn park(&mut self, ctx: &mut Ctx<'_, ChatNode>, client: NodeId, request: u64, cursors: Vec<Cursor>, hold_ms: u64) {
        let poll = self.next_poll;
        self.next_poll += 1;
        let timer = ctx.set_timer(Duration::from_millis(hold_ms), Timer::PollExpired { poll });
        self.parked.insert(
            poll,
            Parked {
                client,
                request,
                cursors,
                timer,
            },
        );
    }

    /// A new message: push it to its subscribers; answer the long polls
    /// waiting on its conversation with a fresh read.
    fn announce(&mut self, ctx: &mut Ctx<'_, ChatNode>, message: Message) {
        for conn in self.push.of(message.conv) {
            ctx.send_on(conn, Msg::Reply(Reply::Pushed(message)));
        }
        // Parked polls are few at a time (a long poll waits at one server
        // for its hold time), so they are looked through.
        let waiting: Vec<u64> = self
            .parked
            .iter()
            .filter(|(_, p)| p.cursors.iter().any(|(conv, _)| *conv == message.conv))
            .map(|(&poll, _)| poll)
            .collect();
        for poll in waiting {
            let parked = self.parked.remove(&poll).expect("listed");
            ctx.cancel_timer(parked.timer);
            let cursors = parked.cursors.clone();
            let read = |r| Msg::Read { request: r, cursors };
            let then = Pending::Poll {
                client: parked.client,
                request: parked.request,
                hold_ms: 0,
                cursors: parked.cursors,
            };
            self.ask_store(ctx, read, then);
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, ChatNode>, timer: Timer) {
        match timer {
            Timer::StoreReconnect => self.on_start(ctx),
            Timer::PollExpired { poll } => {
                if let Some(parked) = self.parked.remove(&poll) {
                    let empty = Reply::Batch {
                        request: Some(parked.request),
                        messages: Vec::new(),
                        heads: Vec::new(),
                    };
                    ctx.send(parked.client, Msg::Reply(empty));
                }
            }
            _ => {}
        }
    }
}

/// Which push connection subscribed to which conversation, both ways: an
/// announcement reaches its conversation's subscribers without a look at
/// every other connection (a server of 400 push clients checked all 400
/// for every message).
#[derive(Debug, Default)]
struct Subscriptions {
    by_conn: BTreeMap<ConnId, Vec<u32>>,
    by_conv: BTreeMap<u32, BTreeSet<ConnId>>,
}

impl Subscriptions {
    /// `conn` is now subscribed to `convs` (and only those).
    fn set(&mut self, conn: ConnId, convs: &[u32]) {
        self.remove(conn);
        for &conv in convs {
            self.by_conv.entry(conv).or_default().insert(conn);
        }
        self.by_conn.insert(conn, convs.to_vec());
    }

    fn remove(&mut self, conn: ConnId) {
        for conv in self.by_conn.remove(&conn).unwrap_or_default() {
            if let Some(conns) = self.by_conv.get_mut(&conv) {
                conns.remove(&conn);
                if conns.is_empty() {
                    self.by_conv.remove(&conv);
                }
            }
        }
    }

    fn holds(&self, conn: ConnId) -> bool {
        self.by_conn.contains_key(&conn)
    }

    fn len(&self) -> usize {
        self.by_conn.len()
    }

    fn conns(&self) -> impl Iterator<Item = ConnId> + '_ {
        self.by_conn.keys().copied()
    }

    /// The connections subscribed to `conv`, in order.
    fn of(&self, conv: u32) -> impl Iterator<Item = ConnId> + '_ {
        self.by_conv.get(&conv).into_iter().flatten().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_reaches_the_current_subscribers_of_its_conversation_in_order() {
        let mut subs = Subscriptions::default();
        subs.set(ConnId(5), &[]);
        subs.set(ConnId(3), &[1, 2]);
        subs.set(ConnId(5), &[2]);
        subs.set(ConnId(1), &[2, 7]);
        assert_eq!(subs.of(2).collect::<Vec<_>>(), [ConnId(1), ConnId(3), ConnId(5)]);
        // Subscribing again replaces; closing forgets.
        subs.set(ConnId(3), &[7]);
        subs.remove(ConnId(1));
        assert_eq!(subs.of(2).collect::<Vec<_>>(), [ConnId(5)]);
        assert_eq!(subs.of(7).collect::<Vec<_>>(), [ConnId(3)]);
        assert_eq!(subs.of(1).count(), 0);
        assert_eq!((subs.len(), subs.holds(ConnId(1))), (2, false));
        assert_eq!(subs.conns().collect::<Vec<_>>(), [ConnId(3), ConnId(5)]);
    }
}
