//! What clients and replicas say to each other. Replicas only answer;
//! the coordinator (a library inside each client) drives every request.
//!
//! Every message carries the request's number, so a reply that arrives
//! after its request moved on (a late read answer during the write phase,
//! a reply to a request that timed out) is recognised and ignored.

use super::ownership::Owner;
use super::store::Adder;

/// Numbers a client's requests, unique across the client's restarts: the
/// client's boot count (kept on its disk) in the high 32 bits, a counter
/// in the low 32.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, serde::Serialize)]
pub struct RequestNumber(pub u64);

impl RequestNumber {
    pub fn new(boot: u32, counter: u32) -> RequestNumber {
        RequestNumber(u64::from(boot) << 32 | u64::from(counter))
    }
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, serde::Serialize)]
pub enum Msg {
    /// Read phase: is X in your set, and whose is it? Changes nothing.
    Query { request: RequestNumber, x: u64 },
    /// `None`: X is absent.
    QueryReply {
        request: RequestNumber,
        owner: Option<Owner>,
    },
    /// Write phase and read-repair: add X, atomically, owned by `owner`
    /// if it is absent, and say whose it is. A write phase claims X for
    /// its own request; a repair spreads the owner it found.
    Add {
        request: RequestNumber,
        x: u64,
        owner: Adder,
    },
    AddReply {
        request: RequestNumber,
        owner: Owner,
    },
}
