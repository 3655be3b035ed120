//! A client: a user's app. It sends messages (through the load balancer,
//! retrying each with its id until a server says it is stored), and it
//! learns of new ones the way the scenario says:
//!
//! - `Push`: it asks the load balancer for a server, connects, and
//!   subscribes with its cursors; the server sends what it missed, then
//!   every new message. When the connection goes, it reconnects after a
//!   backoff that doubles while attempts fail, and subscribes again from
//!   its cursors (the resync). A gap asks for what is missing.
//! - `LongPoll`: it asks "anything after my cursors?" and the server holds
//!   the question until there is; it asks again as soon as it is answered.
//! - `ShortPoll`: the same question, answered at once, every interval.
//!
//! What it shows is the receiver's business (`receiver.rs`).

use std::sync::Arc;
use std::time::Duration;

use sim_core::{ConnEvent, ConnId, Ctx, NodeId, OpId, Outcome, TimerId};

use super::msg::{Message, Msg, Reply, Request};
use super::node::{ChatDisk, ChatNode, ClientDisk, Timer};
use super::receiver::Receiver;
use super::workload::{Op, item_id};
use super::{ChatConfig, Delivery, Layout, Variant};

#[derive(Debug)]
pub struct Client {
    id: NodeId,
    config: Arc<ChatConfig>,
    conversations: Vec<u32>,
    next_conv: usize,
    sent: u64,
    next_request: u64,
    sending: Option<Sending>,
    receiver: Receiver,
    /// Polls: the request in flight (or last answered), and whether it was.
    poll: Option<(u64, bool)>,
    push: Push,
}

#[derive(Debug)]
struct Sending {
    op: OpId,
    conv: u32,
    item: u64,
    /// Every attempt's request number: any answer completes the send.
    attempts: Vec<u64>,
    retry: TimerId,
    deadline: TimerId,
}

#[derive(Debug, Default)]
struct Push {
    /// The connection, and whether it is up.
    conn: Option<(ConnId, bool)>,
    /// An `Assign` in flight.
    assigning: Option<u64>,
    /// The next reconnect's wait, in ms (0: not yet failed).
    backoff_ms: u64,
    /// Gap fetches in flight: conversation → request.
    fetching: Vec<(u32, u64)>,
    /// It lost a connection and has not resynced since.
    away: bool,
}

impl Client {
    pub fn new(id: NodeId, disk: &ClientDisk) -> Client {
        let config = Arc::clone(&disk.config);
        let conversations = config.workload.conversations_of(disk.index);
        Client {
            id,
            receiver: Receiver::new(config.variant, &conversations),
            conversations,
            config,
            next_conv: 0,
            sent: 0,
            next_request: 0,
            sending: None,
            poll: None,
            push: Push::default(),
        }
    }

    pub fn on_start(&mut self, ctx: &mut Ctx<'_, ChatNode>) {
        if let ChatDisk::Client(disk) = ctx.durable() {
            disk.boots += 1;
            self.next_request = u64::from(disk.boots) << 40;
        }
        self.think(ctx);
        match self.config.delivery {
            Delivery::Push => self.assign(ctx),
            Delivery::LongPoll | Delivery::ShortPoll => self.send_poll(ctx),
        }
    }

    fn request_number(&mut self) -> u64 {
        let r = self.next_request;
        self.next_request += 1;
        r
    }

    fn boot(&self, ctx: &mut Ctx<'_, ChatNode>) -> u32 {
        match ctx.durable() {
            ChatDisk::Client(disk) => disk.boots,
            _ => 0,
        }
    }

    // Sending.

    fn think(&mut self, ctx: &mut Ctx<'_, ChatNode>) {
        let workload = &self.config.workload;
        if self.conversations.is_empty()
            || workload.messages_per_client.is_some_and(|max| self.sent >= max)
        {
            return;
        }
        let pause = ctx.rng().exponential(workload.send_every_ms.saturating_mul(1_000_000));
        ctx.set_timer(Duration::from_nanos(pause), Timer::Think);
    }

    fn send_message(&mut self, ctx: &mut Ctx<'_, ChatNode>) {
        let conv = self.conversations[self.next_conv % self.conversations.len()];
        self.next_conv += 1;
        let boot = self.boot(ctx);
        let item = item_id(self.id, boot, self.sent);
        self.sent += 1;
        let op = ctx.invoke(Op { conv, item });
        let timeout = Duration::from_millis(self.config.workload.timeout_ms);
        let first = self.next_request;
        let deadline = ctx.set_timer(timeout, Timer::Deadline { request: first });
        let mut sending = Sending {
            op,
            conv,
            item,
            attempts: Vec::new(),
            retry: deadline,
            deadline,
        };
        self.attempt(ctx, &mut sending);
        self.sending = Some(sending);
    }

    fn attempt(&mut self, ctx: &mut Ctx<'_, ChatNode>, sending: &mut Sending) {
        let request = self.request_number();
        sending.attempts.push(request);
        let send = Request::Send {
            request,
            conv: sending.conv,
            item: sending.item,
        };
        ctx.send(Layout::LB, Msg::Request(send));
        let after = Duration::from_millis(self.config.workload.attempt_timeout_ms);
        sending.retry = ctx.set_timer(after, Timer::Retry { request });
    }

    fn on_sent(&mut self, ctx: &mut Ctx<'_, ChatNode>, request: u64, order: u64) {
        let ours = |s: &mut Sending| s.attempts.contains(&request);
        let Some(sending) = self.sending.take_if(ours) else {
            return; // a late answer to a send that is over
        };
        ctx.cancel_timer(sending.retry);
        ctx.cancel_timer(sending.deadline);
        ctx.complete(sending.op, Outcome::Ok(order));
        self.think(ctx);
    }

    // Polling.

    fn send_poll(&mut self, ctx: &mut Ctx<'_, ChatNode>) {
        let request = self.request_number();
        self.poll = Some((request, false));
        let hold_ms = match self.config.delivery {
            Delivery::LongPoll => self.config.long_poll_hold_ms,
            _ => 0,
        };
        let poll = Request::Poll {
            request,
            cursors: self.receiver.cursors(),
            hold_ms,
        };
        ctx.send(Layout::LB, Msg::Request(poll));
        // Unanswered by then, it was lost: ask again.
        let patience = Duration::from_millis(hold_ms + self.config.workload.attempt_timeout_ms);
        ctx.set_timer(patience, Timer::PollTimeout { request });
    }

    fn on_poll_answer(&mut self, ctx: &mut Ctx<'_, ChatNode>, request: u64, messages: &[Message]) {
        if self.poll != Some((request, false)) {
            return; // late, or a copy
        }
        self.poll = Some((request, true));
        self.receiver.take(ctx, messages);
        match self.config.delivery {
            Delivery::ShortPoll => {
                let interval = Duration::from_millis(self.config.poll_interval_ms);
                ctx.set_timer(interval, Timer::Poll { request });
            }
            _ => self.send_poll(ctx),
        }
    }

    // Push.

    fn assign(&mut self, ctx: &mut Ctx<'_, ChatNode>) {
        let request = self.request_number();
        self.push.assigning = Some(request);
        ctx.send(Layout::LB, Msg::Assign { request });
        let patience = Duration::from_millis(self.config.workload.attempt_timeout_ms);
        ctx.set_timer(patience, Timer::Reconnect);
    }

    fn reconnect_later(&mut self, ctx: &mut Ctx<'_, ChatNode>) {
        let (min, max) = (self.config.reconnect_min_ms, self.config.reconnect_max_ms);
        let wait = self.push.backoff_ms.clamp(min, max);
        self.push.backoff_ms = (wait * 2).min(max);
        // Jitter, so clients cut off together do not return together.
        let jittered = wait / 2 + ctx.rng().below(wait / 2 + 1);
        ctx.set_timer(Duration::from_millis(jittered), Timer::Reconnect);
    }

    fn subscribe(&mut self, ctx: &mut Ctx<'_, ChatNode>, conn: ConnId) {
        let cursors = match self.config.variant {
            // The mistake: subscribe from "now"; what came meanwhile is skipped.
            Variant::NoResync => self.conversations.iter().map(|&c| (c, None)).collect(),
            _ => self.receiver.cursors(),
        };
        ctx.send_on(conn, Msg::Request(Request::Subscribe { cursors }));
    }

    fn fetch_gaps(&mut self, ctx: &mut Ctx<'_, ChatNode>, gaps: Vec<u32>) {
        let Some((conn, true)) = self.push.conn else {
            return; // the resync after the reconnect will fill them
        };
        for conv in gaps {
            if self.push.fetching.iter().any(|(c, _)| *c == conv) {
                continue;
            }
            let request = self.request_number();
            ctx.reached(super::labels::GAP_FETCHED);
            self.push.fetching.push((conv, request));
            let fetch = Request::Fetch {
                request,
                cursor: self.receiver.cursor(conv),
            };
            ctx.send_on(conn, Msg::Request(fetch));
            let patience = Duration::from_millis(self.config.workload.attempt_timeout_ms);
            ctx.set_timer(patience, Timer::FetchTimeout { request });
        }
    }

    pub fn on_connection(&mut self, ctx: &mut Ctx<'_, ChatNode>, conn: ConnId, event: ConnEvent<Msg>) {
        if self.push.conn.map(|(c, _)| c) != Some(conn) {
            return; // an old connection's last word
        }
        match event {
            ConnEvent::Opened { .. } => {
                self.push.conn = Some((conn, true));
                self.push.backoff_ms = 0;
                ctx.count("connections_opened", 1);
                self.subscribe(ctx, conn);
            }
            ConnEvent::Message(Msg::Reply(reply)) => {
                let gaps = match reply {
                    Reply::Pushed(message) => self.receiver.take(ctx, &[message]),
                    Reply::Batch {
                        request,
                        messages,
                        heads,
                    } => {
                        if request.is_none() && std::mem::take(&mut self.push.away) && !messages.is_empty() {
                            ctx.reached(super::labels::RESYNC_AFTER_RECONNECT);
                        }
                        match request {
                            None if self.config.variant == Variant::NoResync => {
                                self.receiver.jump_to(ctx, &heads);
                            }
                            Some(r) => self.push.fetching.retain(|(_, f)| *f != r),
                            None => {}
                        }
                        self.receiver.take(ctx, &messages)
                    }
                    Reply::Sent { .. } | Reply::Unavailable { .. } => Vec::new(),
                };
                self.fetch_gaps(ctx, gaps);
            }
            ConnEvent::Closed(_) => {
                self.push.conn = None;
                self.push.fetching.clear();
                self.push.away = true;
                ctx.count("reconnects", 1);
                self.reconnect_later(ctx);
            }
            _ => {}
        }
    }

    pub fn on_message(&mut self, ctx: &mut Ctx<'_, ChatNode>, msg: Msg) {
        match msg {
            Msg::Reply(Reply::Sent { request, order, .. }) => self.on_sent(ctx, request, order),
            Msg::Reply(Reply::Batch {
                request: Some(request),
                messages,
                ..
            }) => self.on_poll_answer(ctx, request, &messages),
            Msg::Reply(Reply::Unavailable { request }) if self.poll == Some((request, false)) => {
                // Ask again soon; the load balancer hands it to another server.
                self.poll = Some((request, true));
                let soon = Duration::from_millis(self.config.workload.attempt_timeout_ms);
                ctx.set_timer(soon, Timer::Poll { request });
            }
            Msg::Assigned { request, server } if self.push.assigning == Some(request) => {
                self.push.assigning = None;
                if self.push.conn.is_none() {
                    let conn = ctx.connect(server);
                    self.push.conn = Some((conn, false));
                }
            }
            _ => {}
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, ChatNode>, timer: Timer) {
        match timer {
            Timer::Think => self.send_message(ctx),
            Timer::Retry { request } => {
                if let Some(mut sending) = self.sending.take() {
                    if sending.attempts.last() == Some(&request) {
                        self.attempt(ctx, &mut sending);
                    }
                    self.sending = Some(sending);
                }
            }
            Timer::Deadline { request } => {
                let ours = |s: &mut Sending| s.attempts.first() == Some(&request);
                if let Some(sending) = self.sending.take_if(ours) {
                    ctx.cancel_timer(sending.retry);
                    ctx.complete(sending.op, Outcome::Info);
                    self.think(ctx);
                }
            }
            Timer::Poll { request } if self.poll == Some((request, true)) => self.send_poll(ctx),
            Timer::PollTimeout { request } if self.poll == Some((request, false)) => {
                self.send_poll(ctx);
            }
            Timer::Reconnect if self.push.conn.is_none() => self.assign(ctx),
            Timer::FetchTimeout { request } => {
                if let Some(i) = self.push.fetching.iter().position(|(_, r)| *r == request) {
                    let (conv, _) = self.push.fetching.remove(i);
                    self.fetch_gaps(ctx, vec![conv]);
                }
            }
            _ => {}
        }
    }
}
