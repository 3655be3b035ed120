//! The design's checks: sim-core's stream checks (`sim_core::stream`),
//! each conversation a stream whose participants are its members.
//!
//! - `shown_once`: no user sees a message twice (a retry stored twice, a
//!   copy shown again), nor one nobody sent.
//! - `same_order`: the members of a conversation see it in one order.
//! - `sender_order`: a message sent after another was acknowledged never
//!   appears before it.
//! - `acknowledged_shown`: no acknowledged message is lost: after the
//!   heal every member shows it within the liveness bound.
//!
//! The first three are invariants, checked as messages are shown; the
//! last reads the finished history.

use std::sync::Arc;
use std::time::Duration;

use sim_core::stream::{AcknowledgedShown, ItemNames, SameOrder, SenderOrder, ShownOnce, Streams};
use sim_core::{Checks, SimTime};

use super::node::ChatNode;
use super::workload::split_item;
use super::{ChatConfig, Layout};

/// The checks; `liveness` is (when the run heals, the bound, when it
/// ends). Without a liveness phase nothing is owed by a deadline, so
/// `acknowledged_shown` judges nothing.
pub fn checks(
    config: &ChatConfig,
    names: Vec<String>,
    liveness: Option<(SimTime, Duration, SimTime)>,
) -> Checks<ChatNode> {
    let layout = Layout::of(config);
    let participants = (0..config.workload.conversations)
        .map(|conv| {
            let members = config.workload.members(conv);
            (u64::from(conv), members.into_iter().map(|i| layout.client(i)).collect())
        })
        .collect();
    // "client-1's message 3": the sender and its count, from the id.
    let senders = names.clone();
    let item_names: ItemNames = Arc::new(move |item| {
        let (sender, boot, count) = split_item(item);
        let name = senders.get(sender.index()).map_or("?", String::as_str);
        match boot {
            0 | 1 => format!("{name}'s message {count}"),
            _ => format!("{name}'s message {count} (boot {boot})"),
        }
    });
    let streams = Arc::new(Streams {
        participants,
        names,
        noun: "conversation",
        item_names: Some(item_names),
    });
    let (healed, bound, end) = liveness.unwrap_or((SimTime::ZERO, Duration::ZERO, SimTime::ZERO));
    Checks::new()
        .invariant(ShownOnce::new(Arc::clone(&streams)))
        .invariant(SameOrder::new(Arc::clone(&streams)))
        .invariant(SenderOrder::new(Arc::clone(&streams)))
        .history(AcknowledgedShown::new(streams, healed, bound, end))
}
