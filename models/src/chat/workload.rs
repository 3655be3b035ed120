//! Who talks, where, and how often; and the operation the history
//! records. Each conversation has `group_size` members (2: a one-to-one
//! chat); conversation `c`'s members are clients `c, c+1, ...` (mod the
//! number of clients). Each client sends to its conversations in turn,
//! pausing (exponential, mean `send_every_ms`) between messages. A send
//! that gets no answer within `attempt_timeout_ms` is sent again with the
//! same message id; after `timeout_ms` it records an unknown outcome.
//! What clients show is not an operation: it is an observation
//! (`Ctx::show`), judged by the stream checks.

use serde::{Deserialize, Serialize};
use sim_core::record::ExportOp;
use sim_core::stream::StreamPost;
use sim_core::{ConfigError, NodeId};

/// Who talks, in which conversations, how often.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkloadConfig {
    /// Client nodes (`client-0` ..): the users.
    pub clients: u32,
    /// Conversations (streams `0` ..).
    pub conversations: u32,
    /// Members of each conversation, at most `clients`.
    pub group_size: u32,
    /// Mean pause between a client's messages (exponential), in ms.
    pub send_every_ms: u64,
    /// A send unanswered this long is sent again, in ms.
    pub attempt_timeout_ms: u64,
    /// A send gives up after this long and records `Info`, in ms.
    pub timeout_ms: u64,
    /// Messages each client sends; unset: until the end.
    pub messages_per_client: Option<u64>,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            clients: 4,
            conversations: 3,
            group_size: 3,
            send_every_ms: 200,
            attempt_timeout_ms: 300,
            timeout_ms: 3_000,
            messages_per_client: None,
        }
    }
}

impl WorkloadConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(2..=1_000).contains(&self.clients) {
            return Err(ConfigError::new("clients", "must be between 2 and 1000"));
        }
        if !(1..=1_000).contains(&self.conversations) {
            return Err(ConfigError::new("conversations", "must be between 1 and 1000"));
        }
        if !(2..=self.clients).contains(&self.group_size) {
            return Err(ConfigError::new(
                "group_size",
                format!("must be between 2 and clients ({})", self.clients),
            ));
        }
        if self.send_every_ms == 0 || self.attempt_timeout_ms == 0 {
            let field = if self.send_every_ms == 0 { "send_every_ms" } else { "attempt_timeout_ms" };
            return Err(ConfigError::new(field, "must be at least 1"));
        }
        if self.timeout_ms < self.attempt_timeout_ms {
            return Err(ConfigError::new(
                "timeout_ms",
                format!("must be at least attempt_timeout_ms ({})", self.attempt_timeout_ms),
            ));
        }
        Ok(())
    }

    /// The members of conversation `conv`, by client index.
    pub fn members(&self, conv: u32) -> Vec<u32> {
        self.member_indices(conv).collect()
    }

    /// [`members`](Self::members), one by one, collected nowhere.
    pub fn member_indices(&self, conv: u32) -> impl Iterator<Item = u32> + use<> {
        let clients = self.clients;
        (0..self.group_size).map(move |j| (conv + j) % clients)
    }

    /// The conversations client `index` is in, in order. Conversation `c`
    /// has clients `c + j` (mod `clients`) for `j < group_size`, so the
    /// client is in those `c` congruent to `index - j`: found directly, not
    /// by listing every conversation's members for every client (with 400
    /// clients in 300 conversations, that was 5% of a run).
    pub fn conversations_of(&self, index: u32) -> Vec<u32> {
        let mut convs: Vec<u32> = (0..self.group_size)
            .flat_map(|j| {
                let first = (index + self.clients - j % self.clients) % self.clients;
                (first..self.conversations).step_by(self.clients as usize)
            })
            .collect();
        convs.sort_unstable();
        convs
    }
}

/// "Post this message to this conversation."
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize)]
pub struct Op {
    pub conv: u32,
    pub item: u64,
}

/// The message's place in its conversation, as the server said.
pub type Ret = u64;

impl StreamPost for Op {
    fn post(&self) -> Option<(u64, u64)> {
        Some((u64::from(self.conv), self.item))
    }
}

impl ExportOp<Ret> for Op {
    fn f(&self) -> &'static str {
        "send"
    }
    fn key(&self) -> Option<String> {
        Some(format!("conv-{}", self.conv))
    }
    fn invoke_value(&self) -> serde_json::Value {
        self.item.into()
    }
    fn ok_value(&self, order: &Ret) -> serde_json::Value {
        (*order).into()
    }
}

/// The sender, boot and count a message id was made of.
pub fn split_item(item: u64) -> (NodeId, u32, u64) {
    let sender = NodeId((item >> 44) as u32);
    let boot = ((item >> 32) & 0xfff) as u32;
    (sender, boot, item & 0xffff_ffff)
}

/// A message id no other message has: the sender's node, its boot, and
/// a count within the boot.
pub fn item_id(sender: NodeId, boot: u32, count: u64) -> u64 {
    (u64::from(sender.0) << 44) | (u64::from(boot & 0xfff) << 32) | (count & 0xffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client's conversations are exactly those that list it as a
    /// member, at sizes where groups wrap round the clients.
    #[test]
    fn a_client_is_in_the_conversations_that_list_it() {
        for (clients, conversations, group_size) in [(4, 3, 3), (5, 12, 2), (7, 7, 7), (40, 300, 3)] {
            let workload = WorkloadConfig {
                clients,
                conversations,
                group_size,
                ..WorkloadConfig::default()
            };
            for index in 0..clients {
                let listed: Vec<u32> = (0..conversations)
                    .filter(|&c| workload.members(c).contains(&index))
                    .collect();
                assert_eq!(workload.conversations_of(index), listed, "client {index} of {clients}");
            }
        }
    }
}
