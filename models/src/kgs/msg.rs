//! What the nodes say to each other, and the authority's replicated state.
//!
//! Clients ask ID servers for IDs; ID servers lease ranges of counters
//! ("bulks") from the authority; the authority's nodes run a CAS-Paxos
//! register among themselves (prepare, promise, accept, accepted), whose
//! value is the authority's whole state: the next free counter (and, for
//! the lease-reclaiming variant, its leases). Every request carries its
//! sender's request number, so a late answer is recognised.

use serde::Serialize;

/// Counters `start..end`: a bulk, or what is left of one.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize)]
pub struct Range {
    pub start: u64,
    pub end: u64,
}

impl Range {
    pub fn len(&self) -> u64 {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.start >= self.end
    }
    pub fn contains(&self, counter: u64) -> bool {
        (self.start..self.end).contains(&counter)
    }
    pub fn overlaps(&self, other: &Range) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// A CAS-Paxos ballot: a round, then the proposing node to break ties.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Serialize)]
pub struct Ballot {
    pub round: u64,
    pub node: u32,
}

/// What the authority stores: the next free counter, never every issued
/// ID. Leases are kept only by the `ClockReclaim` variant.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize)]
pub struct AuthorityState {
    pub next_free: u64,
    pub leases: Vec<Lease>,
    /// Ranges taken back from expired leases, granted again first.
    pub free: Vec<Range>,
}

/// `ClockReclaim`: a range leased to a server until `expires_ns` on the
/// wall clock of whichever authority node last renewed it. Once it has
/// expired, the rest from `reported` (how far the holder said it had
/// issued) is taken back.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Lease {
    pub holder: u32,
    pub range: Range,
    pub reported: u64,
    pub expires_ns: i64,
}

/// What an acceptor last accepted, as its promise carries it.
pub type Accepted = (Ballot, Box<AuthorityState>);

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub enum Msg {
    // Clients and ID servers.
    /// Give me `count` IDs.
    Get { request: u64, count: u32 },
    Ids { request: u64, ids: Vec<u64> },

    // ID servers and the authority.
    /// Lease me a bulk (`renew: None`), or renew my lease on the range
    /// starting at `start`, which I have issued up to `cursor` (the range's
    /// end: I am done with it).
    LeaseRequest { request: u64, renew: Option<(u64, u64)> },
    /// The bulk leased (or, for a renewal, the range renewed).
    Granted { request: u64, range: Range },
    /// `ClockReclaim`: that lease is gone (expired and reclaimed).
    LeaseLost { request: u64, start: u64 },

    // Among the authority's nodes (CAS-Paxos). The state is boxed: these
    // are a few messages a lease, and unboxed the state made every message
    // 96 bytes instead of 48, and every pending event with it (each is
    // moved in and out of the queue whole). Serialized and printed, a box
    // is what it holds, so digests and traces do not see it.
    Prepare { ballot: Ballot },
    Promise {
        ballot: Ballot,
        accepted: Option<Accepted>,
    },
    Accept { ballot: Ballot, state: Box<AuthorityState> },
    Accepted { ballot: Ballot },
    /// Refused: a higher ballot was promised.
    Nack { ballot: Ballot, promised: Ballot },
    /// `AsyncReplica`: the primary's state, sent without waiting.
    Replicate { state: Box<AuthorityState> },
}
