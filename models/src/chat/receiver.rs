//! What a client shows its user, and in which order. However messages
//! reach it (pushed, polled, fetched, twice, out of order), the correct
//! receiver shows each conversation in the store's sequence: the next
//! message in line is shown, a later one waits in a buffer (a gap: the
//! client asks for what it missed), an earlier one is a copy and is
//! dropped. Its cursor, the last message shown in a row, is what it polls
//! and resyncs from.
//!
//! Two variants show differently: `NoGapDetection` shows whatever arrives
//! at once (skipping copies by id), and `ArrivalOrder`, whose order is a
//! stamp rather than a sequence, can only show what is newer than the
//! newest it has seen.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::Ctx;

use super::Variant;
use super::msg::{Cursor, Message};
use super::node::ChatNode;

#[derive(Debug)]
pub struct Receiver {
    variant: Variant,
    conversations: BTreeMap<u32, View>,
}

#[derive(Debug, Default)]
struct View {
    /// The order of the last message shown in a row (0: none yet).
    cursor: u64,
    /// Messages that arrived ahead of a gap, by order.
    ahead: BTreeMap<u64, Message>,
    /// `NoGapDetection`: the ids it has shown.
    shown: BTreeSet<u64>,
}

impl Receiver {
    pub fn new(variant: Variant, conversations: &[u32]) -> Receiver {
        Receiver {
            variant,
            conversations: conversations.iter().map(|&c| (c, View::default())).collect(),
        }
    }

    /// Where it is in each conversation, for a poll or a resync.
    pub fn cursors(&self) -> Vec<Cursor> {
        self.conversations
            .iter()
            .map(|(&conv, view)| (conv, Some(view.cursor)))
            .collect()
    }

    /// The cursor of one conversation.
    pub fn cursor(&self, conv: u32) -> Cursor {
        (conv, self.conversations.get(&conv).map(|v| v.cursor))
    }

    /// `NoResync`: starts every conversation at its head, as if all
    /// before it had been shown.
    pub fn jump_to(&mut self, ctx: &mut Ctx<'_, ChatNode>, heads: &[(u32, u64)]) {
        for &(conv, head) in heads {
            if let Some(view) = self.conversations.get_mut(&conv) {
                view.cursor = view.cursor.max(head);
                view.ahead.retain(|&order, _| order > head);
                view.show_in_line(ctx);
            }
        }
    }

    /// Takes messages in; shows what can be shown. Returns the
    /// conversations that now have a gap before a buffered message.
    pub fn take(&mut self, ctx: &mut Ctx<'_, ChatNode>, messages: &[Message]) -> Vec<u32> {
        let mut gaps = Vec::new();
        for message in messages {
            let Some(view) = self.conversations.get_mut(&message.conv) else {
                continue;
            };
            match self.variant {
                Variant::NoGapDetection => {
                    // The mistake: shown the moment it arrives.
                    if view.shown.insert(message.item) {
                        view.cursor = view.cursor.max(message.order);
                        show(ctx, message);
                    }
                }
                Variant::ArrivalOrder => {
                    // A stamp is no sequence: all it can tell is "newer".
                    if message.order > view.cursor {
                        view.cursor = message.order;
                        show(ctx, message);
                    }
                }
                _ => {
                    if message.order <= view.cursor {
                        continue; // a copy of one shown already
                    }
                    view.ahead.insert(message.order, *message);
                    view.show_in_line(ctx);
                    if !view.ahead.is_empty() && !gaps.contains(&message.conv) {
                        gaps.push(message.conv);
                    }
                }
            }
        }
        gaps
    }
}

impl View {
    /// Shows the buffered messages that are next in line.
    fn show_in_line(&mut self, ctx: &mut Ctx<'_, ChatNode>) {
        while let Some(next) = self.ahead.remove(&(self.cursor + 1)) {
            self.cursor = next.order;
            show(ctx, &next);
        }
    }
}

fn show(ctx: &mut Ctx<'_, ChatNode>, message: &Message) {
    ctx.show(u64::from(message.conv), message.item);
    ctx.count("messages_shown", 1);
}
