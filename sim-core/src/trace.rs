//! The trace: everything the engine did, in order. Every event feeds the
//! run's digest; when recording is on (replay, reports) each is also kept
//! as a `TraceEvent` with a readable description.

use std::fmt::Debug;

use serde::Serialize;

use crate::digest::TraceDigest;
use crate::faults::Fault;
use crate::history::{OpId, Outcome};
use crate::network::DropReason;
use crate::node::NodeId;
use crate::time::SimTime;

/// What kind of thing happened.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceKind {
    /// A node booted for the first time.
    Start,
    /// `node` sent a message to `peer`.
    Send,
    /// A message from `peer` reached `node`.
    Deliver,
    /// A message from `node` to `peer` was not delivered.
    Drop(DropReason),
    /// A timer of `node` fired.
    Timer,
    Crash,
    Restart,
    Pause,
    Resume,
    ClockStep,
    ClockDrift,
    Partition,
    Heal,
    LinkChange,
    /// Random fault rates drawn for this seed (swarm testing).
    NemesisRates,
    /// A client invoked an operation.
    Invoke,
    /// A client learned how an operation ended, and how.
    Complete(Ending),
    /// Faults stopped and everything healed: the liveness phase began.
    LivenessPhase,
    /// A fault that was given a duration ended: `fault` is the fault
    /// undone (only its own effect is removed).
    Undo,
    /// `node` was asked to shut down gracefully and has its grace period.
    Shutdown,
    /// A node that was shutting down stopped, its grace period over.
    Stop,
    /// `node` asked its disk to sync what it wrote so far.
    Sync,
    /// A sync of `node` completed: those writes now survive a crash.
    Synced,
    /// `node` opened a connection to `peer` (the open is on its way).
    ConnOpen,
    /// `node` accepted a connection from `peer`: it is up.
    ConnUp,
    /// `node` closed its end of a connection to `peer`.
    ConnClose,
    /// The connection between `node` (its opener) and `peer` broke (or
    /// was refused): what was in flight on it is lost.
    ConnBreak,
    /// `node` learned its connection to `peer` is gone, and why.
    ConnClosed,
    /// Every connection of `node` was broken by a fault.
    ConnReset,
    /// Every connection of `node` froze (a fault).
    ConnStall,
    /// A client showed its user an item of a stream (a chat message).
    Show,
}

impl TraceKind {
    /// A stable one-byte tag for the digest.
    fn tag(self) -> u8 {
        match self {
            TraceKind::Start => 1,
            TraceKind::Send => 2,
            TraceKind::Deliver => 3,
            TraceKind::Drop(reason) => 0x10 + reason as u8,
            TraceKind::Timer => 4,
            TraceKind::Crash => 5,
            TraceKind::Restart => 6,
            TraceKind::Pause => 7,
            TraceKind::Resume => 8,
            TraceKind::ClockStep => 9,
            TraceKind::ClockDrift => 10,
            TraceKind::Partition => 11,
            TraceKind::Heal => 12,
            TraceKind::LinkChange => 13,
            TraceKind::NemesisRates => 14,
            TraceKind::Invoke => 15,
            // The outcome is in the payload; one tag keeps digests stable.
            TraceKind::Complete(_) => 16,
            TraceKind::LivenessPhase => 17,
            TraceKind::Undo => 18,
            TraceKind::Shutdown => 19,
            TraceKind::Stop => 20,
            TraceKind::Sync => 21,
            TraceKind::Synced => 22,
            TraceKind::ConnOpen => 23,
            TraceKind::ConnUp => 24,
            TraceKind::ConnClose => 25,
            TraceKind::ConnBreak => 26,
            TraceKind::ConnClosed => 27,
            TraceKind::ConnReset => 28,
            TraceKind::ConnStall => 29,
            TraceKind::Show => 30,
        }
    }
}

/// How an operation ended, without its result: what a trace event needs
/// to colour a completion.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    Ok,
    Fail,
    Info,
}

impl Ending {
    pub fn of<R>(outcome: &Outcome<R>) -> Ending {
        match outcome {
            Outcome::Ok(_) => Ending::Ok,
            Outcome::Fail => Ending::Fail,
            Outcome::Info => Ending::Info,
        }
    }
}

/// One recorded trace event.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct TraceEvent {
    /// The engine step (queue pop) this happened in; violations name it.
    pub event: u64,
    pub time: SimTime,
    pub kind: TraceKind,
    /// The node it happened at (the sender, for sends and drops).
    pub node: Option<NodeId>,
    /// The other end of a message.
    pub peer: Option<NodeId>,
    /// For sends, deliveries and drops: the message's number (its send
    /// order in the run), pairing a send with its deliveries.
    pub message: Option<u64>,
    /// A readable description of the payload (the message, the timer, the
    /// fault), from its `Debug` form.
    pub detail: String,
    /// For fault events: the fault itself, as data (reports draw it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
    /// For invoke and complete events: the operation, as in the history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<OpId>,
}

/// The digest, and the recorded events if recording is on.
#[derive(Debug, Default)]
pub struct Trace {
    digest: TraceDigest,
    recorded: Option<Vec<TraceEvent>>,
    count: u64,
}

const NO_NODE: u32 = u32::MAX;

impl Trace {
    pub fn new(record: bool) -> Trace {
        Trace {
            digest: TraceDigest::new(),
            recorded: record.then(Vec::new),
            count: 0,
        }
    }

    /// Appends an event with a payload (hashed into the digest; rendered
    /// with `Debug` only when recording).
    pub fn push<P: Serialize + Debug + ?Sized>(
        &mut self,
        event: u64,
        time: SimTime,
        kind: TraceKind,
        node: Option<NodeId>,
        peer: Option<NodeId>,
        payload: &P,
    ) {
        self.push_full(event, time, kind, node, peer, None, payload, payload);
    }

    /// Appends an event whose digest payload (`hashed`) differs from its
    /// description (`detail`): a delivery is described by its message but
    /// not hashed again (the send already was).
    #[allow(clippy::too_many_arguments)] // one event's fields, spelled out
    #[inline]
    pub fn push_full<H: Serialize + ?Sized, D: Debug + ?Sized>(
        &mut self,
        event: u64,
        time: SimTime,
        kind: TraceKind,
        node: Option<NodeId>,
        peer: Option<NodeId>,
        message: Option<u64>,
        hashed: &H,
        detail: &D,
    ) {
        self.count += 1;
        let id = |n: Option<NodeId>| n.map_or(NO_NODE, |n| n.0);
        self.digest
            .event(kind.tag(), time.as_nanos(), id(node), id(peer));
        self.digest.payload(hashed);
        self.digest.end_event();
        if let Some(recorded) = &mut self.recorded {
            recorded.push(TraceEvent {
                event,
                time,
                kind,
                node,
                peer,
                message,
                detail: format!("{detail:?}"),
                fault: None,
                op: None,
            });
        }
    }

    /// Appends a fault event: hashed and described like any payload, and
    /// kept as data when recording.
    pub fn push_fault(
        &mut self,
        event: u64,
        time: SimTime,
        kind: TraceKind,
        node: Option<NodeId>,
        fault: &Fault,
    ) {
        self.push(event, time, kind, node, None, fault);
        if let Some(last) = self.recorded.as_mut().and_then(|r| r.last_mut()) {
            last.fault = Some(fault.clone());
        }
    }

    /// Appends a client operation event (invoke or complete), keeping the
    /// operation's id as data when recording.
    pub fn push_operation<P: Serialize + Debug + ?Sized>(
        &mut self,
        event: u64,
        time: SimTime,
        kind: TraceKind,
        node: NodeId,
        op: OpId,
        payload: &P,
    ) {
        self.push(event, time, kind, Some(node), None, payload);
        if let Some(last) = self.recorded.as_mut().and_then(|r| r.last_mut()) {
            last.op = Some(op);
        }
    }

    pub fn digest_hex(&self) -> String {
        self.digest.hex()
    }
    /// Number of trace events so far.
    pub fn len(&self) -> u64 {
        self.count
    }
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    pub fn take_recorded(&mut self) -> Option<Vec<TraceEvent>> {
        self.recorded.take()
    }
}

/// Names the nodes in recorded details: `NodeId(7)` inside a message or a
/// fault becomes `user-3`, as the design names it. (The digest hashes the
/// payloads, not these words, so naming changes no digest.)
pub fn name_nodes(events: &mut [TraceEvent], names: &[String]) {
    for event in events {
        if event.detail.contains("NodeId(") {
            event.detail = named(&event.detail, names);
        }
    }
}

fn named(detail: &str, names: &[String]) -> String {
    const OPEN: &str = "NodeId(";
    let mut out = String::with_capacity(detail.len());
    let mut rest = detail;
    while let Some(at) = rest.find(OPEN) {
        out.push_str(&rest[..at]);
        let after = &rest[at + OPEN.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let name = after[..digits]
            .parse::<usize>()
            .ok()
            .filter(|_| after[digits..].starts_with(')'))
            .and_then(|i| names.get(i));
        match name {
            Some(name) => {
                out.push_str(name);
                rest = &after[digits + 1..];
            }
            None => {
                out.push_str(OPEN);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Where two recordings of what should have been the same run part: the
/// index of the first event that differs (where the shorter one ends, if
/// one is a prefix of the other), or `None` if they are the same.
pub fn first_difference(a: &[TraceEvent], b: &[TraceEvent]) -> Option<usize> {
    let common = a.iter().zip(b).position(|(x, y)| x != y);
    common.or_else(|| (a.len() != b.len()).then(|| a.len().min(b.len())))
}

#[cfg(test)]
mod tests {
    use super::named;

    #[test]
    fn node_ids_in_a_detail_are_named_and_anything_else_is_left_alone() {
        let names = ["store-0", "app-0", "user-0"].map(String::from);
        assert_eq!(
            named(
                "Leader { epoch: 2, leader: NodeId(0) } Crash(NodeId(2))",
                &names
            ),
            "Leader { epoch: 2, leader: store-0 } Crash(user-0)"
        );
        // Out of range, or not a NodeId at all: as it was.
        assert_eq!(
            named("NodeId(9) NodeId(x) NodeId(1", &names),
            "NodeId(9) NodeId(x) NodeId(1"
        );
    }
}
