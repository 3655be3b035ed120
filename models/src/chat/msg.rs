//! What the nodes say to each other.
//!
//! Clients send requests to the load balancer, which forwards each to a
//! server; servers answer clients directly. A push client holds a
//! connection to one server and talks over it. Servers talk to the store
//! over a connection each; the store tells every connected server about
//! each new message. Every request carries its sender's request number,
//! so a late answer is recognised.

use serde::Serialize;
use sim_core::NodeId;

/// A message of a conversation, as the store keeps it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct Message {
    pub conv: u32,
    /// The message's own id: unique per message, the same for every retry
    /// of it (its idempotency key).
    pub item: u64,
    /// The sending client's node.
    pub sender: NodeId,
    /// Its place in the conversation: the store's sequence number (1, 2,
    /// ...), or for `ArrivalOrder` the server's arrival stamp (ns).
    pub order: u64,
}

/// Where a receiver is in a conversation: the last `order` it has shown
/// in a row (0: nothing yet), or `None` for "from now on" (`NoResync`).
pub type Cursor = (u32, Option<u64>);

/// What a client asks a server.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub enum Request {
    /// Add `item` to `conv`; `Reply::Sent` when it is stored.
    Send { request: u64, conv: u32, item: u64 },
    /// What is there after these cursors? Hold the answer up to `hold_ms`
    /// if there is nothing yet (0: answer at once).
    Poll {
        request: u64,
        cursors: Vec<Cursor>,
        hold_ms: u64,
    },
    /// `Push`, on the connection: send me everything after these cursors,
    /// then every new message of these conversations.
    Subscribe { cursors: Vec<Cursor> },
    /// `Push`, on the connection: a gap; what is after this cursor?
    Fetch { request: u64, cursor: Cursor },
}

/// What a server answers a client.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub enum Reply {
    /// `item` is stored as message `order` of its conversation.
    Sent { request: u64, item: u64, order: u64 },
    /// Messages after the cursors asked about (an answer to a poll, a
    /// fetch or a subscribe: `request` says which, `None` for a
    /// subscribe), with the latest `order` of each conversation asked.
    Batch {
        request: Option<u64>,
        messages: Vec<Message>,
        heads: Vec<(u32, u64)>,
    },
    /// `Push`: one new message.
    Pushed(Message),
    /// This server cannot reach the store now: ask again soon (another
    /// server may).
    Unavailable { request: u64 },
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub enum Msg {
    // Clients and the load balancer.
    /// `Push`: which server should I connect to?
    Assign { request: u64 },
    Assigned { request: u64, server: NodeId },
    /// A request for any server.
    Request(Request),
    /// The load balancer hands a client's request to a server.
    Forward { client: NodeId, request: Request },
    /// A server's answer to a client (directly, or on its connection).
    Reply(Reply),

    // Servers and the store (on a connection each).
    /// Store `item` in `conv`; `stamp` is the server's arrival stamp
    /// (`ArrivalOrder` orders by it).
    Append {
        request: u64,
        conv: u32,
        item: u64,
        sender: NodeId,
        stamp: u64,
    },
    /// Stored (synced) as message `order`.
    Appended { request: u64, item: u64, order: u64 },
    /// What is after these cursors?
    Read { request: u64, cursors: Vec<Cursor> },
    Messages {
        request: u64,
        messages: Vec<Message>,
        heads: Vec<(u32, u64)>,
    },
    /// The store to every connected server: a new message, on disk.
    New(Message),
}
