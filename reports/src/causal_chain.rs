//! The causal chain of the operations a verdict names: the trace events
//! that happened after a named operation's invocation and before its
//! completion in Lamport's happens-before order, and the faults that
//! struck the nodes involved while it ran. The space-time diagram lights
//! these and dims the rest, so a reader follows the request, the messages
//! it caused and the answer, not the gossip around them.
//!
//! Happens-before is computed over the recorded trace: each node's events
//! in trace order (a node acts one event at a time), and each message from
//! its send to its deliveries (paired by `TraceEvent.message`). A drop is
//! the network's doing, not the sender's, so it takes no place in a node's
//! order. An event is in the chain of an operation when a path of those
//! edges leads from the invocation to it and from it to the completion on
//! the client; a message is in the chain when both its send and its
//! delivery are. One forward pass from the invocation and one backward
//! pass from the completion decide it, each over only the trace between
//! the two. An operation that never completed reaches back to the last
//! event its client saw instead.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::fault_log::FaultWindow;
use sim_core::record::OperationRecord;
use sim_core::trace::{TraceEvent, TraceKind};
use sim_core::{Fault, NodeId};

/// At most this many named operations get a chain: a liveness failure can
/// name hundreds, and the diagram shows a few hundred events at most.
pub const MAX_CHAIN_OPS: usize = 32;

/// What the space-time diagram lights. Empty when the verdict names no
/// operation: then nothing is dimmed.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct CausalChain {
    /// Trace indices of the events in some named operation's chain, and
    /// of the drops of messages its client sent while it ran (the
    /// attempts the network lost are part of the story).
    pub events: BTreeSet<usize>,
    /// Trace indices of the deliveries whose message is in the chain: the
    /// delivery and its send both are.
    pub deliveries: BTreeSet<usize>,
    /// Indices into the record's fault windows: faults in force on a node
    /// involved while a named operation ran.
    pub windows: BTreeSet<usize>,
    /// Trace indices of the fault events that began or ended those
    /// windows.
    pub fault_events: BTreeSet<usize>,
}

impl CausalChain {
    /// Is there a chain to light (and so the rest to dim)?
    pub fn is_active(&self) -> bool {
        !self.events.is_empty()
    }

    /// Did the delivery at trace index `delivery` carry the chain on?
    pub fn carries(&self, delivery: usize) -> bool {
        self.deliveries.contains(&delivery)
    }
}

/// The chain of every operation in `named` (by `OpId`), up to
/// `MAX_CHAIN_OPS` of them.
pub fn causal_chain(
    trace: &[TraceEvent],
    operations: &[OperationRecord],
    named: &BTreeSet<u32>,
    windows: &[FaultWindow],
    end_ns: u64,
) -> CausalChain {
    let mut chain = CausalChain::default();
    for (&id, &(invoke, complete)) in op_bounds(trace, named).iter().take(MAX_CHAIN_OPS) {
        let Some(client) = trace[invoke].node else {
            continue;
        };
        let last = complete.unwrap_or_else(|| last_event_at(trace, client, invoke));
        let events = chain_of_op(trace, invoke, last, client);
        let involved: BTreeSet<NodeId> = events.iter().filter_map(|&i| actor(&trace[i])).collect();
        chain.deliveries.extend(carried(trace, &events));
        chain
            .events
            .extend(lost_attempts(trace, &events, client, invoke..last));
        chain.events.extend(events);
        // The operation ran from its invocation to its completion, or to
        // the end of the run.
        let op = operations.iter().find(|op| op.id.0 == id);
        let start_ns = op.map_or(trace[invoke].time.as_nanos(), |op| op.invoke_ns);
        let end = op.and_then(|op| op.complete_ns).unwrap_or(end_ns);
        for (index, window) in windows.iter().enumerate() {
            let until = window.end.map_or(end_ns, |e| e.as_nanos());
            let overlaps = window.start.as_nanos() <= end && until >= start_ns;
            if overlaps && window.nodes.iter().any(|n| involved.contains(n)) {
                chain.windows.insert(index);
            }
        }
    }
    let lit: Vec<&FaultWindow> = chain.windows.iter().map(|&i| &windows[i]).collect();
    for (index, event) in trace.iter().enumerate() {
        if lit.iter().any(|w| begins_or_ends(event, w)) {
            chain.fault_events.insert(index);
        }
    }
    chain
}

/// The events between `invoke` and `last` in both directions of
/// happens-before: after the invocation and before the client's `last`.
fn chain_of_op(
    trace: &[TraceEvent],
    invoke: usize,
    last: usize,
    client: NodeId,
) -> BTreeSet<usize> {
    let after = forward(trace, invoke, last, client);
    let before = backward(trace, invoke, last, client);
    after.intersection(&before).copied().collect()
}

/// The deliveries among `events` whose send is among them too.
fn carried(trace: &[TraceEvent], events: &BTreeSet<usize>) -> Vec<usize> {
    let of_kind = |kind: TraceKind| {
        events
            .iter()
            .copied()
            .filter(move |&i| trace[i].kind == kind)
    };
    let sent: BTreeSet<u64> = of_kind(TraceKind::Send)
        .filter_map(|i| trace[i].message)
        .collect();
    of_kind(TraceKind::Deliver)
        .filter(|&i| trace[i].message.is_some_and(|m| sent.contains(&m)))
        .collect()
}

/// Each named operation's invocation and completion, as trace indices.
fn op_bounds(trace: &[TraceEvent], named: &BTreeSet<u32>) -> BTreeMap<u32, (usize, Option<usize>)> {
    let mut bounds: BTreeMap<u32, (usize, Option<usize>)> = BTreeMap::new();
    for (index, event) in trace.iter().enumerate() {
        let Some(op) = event.op.filter(|op| named.contains(&op.0)) else {
            continue;
        };
        match event.kind {
            TraceKind::Invoke => {
                bounds.entry(op.0).or_insert((index, None));
            }
            TraceKind::Complete(_) => {
                if let Some(bound) = bounds.get_mut(&op.0) {
                    bound.1 = Some(index);
                }
            }
            _ => {}
        }
    }
    bounds
}

/// The node whose order an event takes a place in: none for drops and
/// network-wide events.
fn actor(event: &TraceEvent) -> Option<NodeId> {
    match event.kind {
        TraceKind::Drop(_) => None,
        _ => event.node,
    }
}

/// The last event in `client`'s order from `from` on.
fn last_event_at(trace: &[TraceEvent], client: NodeId, from: usize) -> usize {
    (from..trace.len())
        .rev()
        .find(|&i| actor(&trace[i]) == Some(client))
        .unwrap_or(from)
}

/// Events in `first..=last` that the event at `first` happens before.
fn forward(trace: &[TraceEvent], first: usize, last: usize, client: NodeId) -> BTreeSet<usize> {
    let mut reached = BTreeSet::from([client]);
    let mut sent: BTreeSet<u64> = BTreeSet::new();
    let mut events = BTreeSet::from([first]);
    for (index, event) in trace.iter().enumerate().take(last + 1).skip(first + 1) {
        let Some(node) = actor(event) else { continue };
        let carried =
            event.kind == TraceKind::Deliver && event.message.is_some_and(|m| sent.contains(&m));
        if reached.contains(&node) || carried {
            events.insert(index);
            reached.insert(node);
            if event.kind == TraceKind::Send {
                sent.extend(event.message);
            }
        }
    }
    events
}

/// Events in `first..=last` that happen before the event at `last`, on
/// `client`.
fn backward(trace: &[TraceEvent], first: usize, last: usize, client: NodeId) -> BTreeSet<usize> {
    let mut needed = BTreeSet::from([client]);
    let mut awaited: BTreeSet<u64> = BTreeSet::new();
    let mut events = BTreeSet::from([last]);
    for index in (first..last).rev() {
        let event = &trace[index];
        let Some(node) = actor(event) else { continue };
        let awaited_send =
            event.kind == TraceKind::Send && event.message.is_some_and(|m| awaited.contains(&m));
        if needed.contains(&node) || awaited_send {
            events.insert(index);
            needed.insert(node);
            if event.kind == TraceKind::Deliver {
                awaited.extend(event.message);
            }
        }
    }
    events
}

/// Drops of messages the client sent, within the chain, while the
/// operation ran: requests that never arrived.
fn lost_attempts(
    trace: &[TraceEvent],
    chain: &BTreeSet<usize>,
    client: NodeId,
    span: std::ops::Range<usize>,
) -> Vec<usize> {
    let sends: BTreeSet<u64> = span
        .clone()
        .filter(|i| chain.contains(i))
        .filter(|&i| trace[i].kind == TraceKind::Send && trace[i].node == Some(client))
        .filter_map(|i| trace[i].message)
        .collect();
    (span.start..trace.len())
        .filter(|&i| matches!(trace[i].kind, TraceKind::Drop(_)))
        .filter(|&i| trace[i].message.is_some_and(|m| sends.contains(&m)))
        .collect()
}

/// Did `event` strike the fault of `window`, or end it?
fn begins_or_ends(event: &TraceEvent, window: &FaultWindow) -> bool {
    let Some(fault) = &event.fault else {
        return false;
    };
    if event.kind != TraceKind::Undo && *fault == window.fault && event.time == window.start {
        return true;
    }
    if window.end != Some(event.time) {
        return false;
    }
    match (fault, &window.fault) {
        _ if event.kind == TraceKind::Undo => *fault == window.fault,
        (Fault::Restart(a), Fault::Crash(b) | Fault::Shutdown { node: b, .. }) => a == b,
        (Fault::Resume(a), Fault::Pause(b)) => a == b,
        (Fault::Heal, Fault::Partition(_)) | (Fault::ResetLinks, Fault::Link { .. }) => true,
        _ => false,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use sim_core::history::OpId;
    use sim_core::trace::Ending;
    use sim_core::{SimTime, record::OperationEnding};

    use super::*;

    const CLIENT: NodeId = NodeId(0);
    const SERVER: NodeId = NodeId(1);
    const PEER: NodeId = NodeId(2);
    const OTHER_CLIENT: NodeId = NodeId(3);

    fn event(
        kind: TraceKind,
        node: NodeId,
        peer: Option<NodeId>,
        message: Option<u64>,
    ) -> TraceEvent {
        TraceEvent {
            event: 0,
            time: SimTime::ZERO,
            kind,
            node: Some(node),
            peer,
            message,
            detail: String::new(),
            fault: None,
            op: None,
        }
    }

    fn send(from: NodeId, to: NodeId, message: u64) -> TraceEvent {
        event(TraceKind::Send, from, Some(to), Some(message))
    }

    fn deliver(to: NodeId, from: NodeId, message: u64) -> TraceEvent {
        event(TraceKind::Deliver, to, Some(from), Some(message))
    }

    fn fault(kind: TraceKind, node: NodeId, fault: Fault) -> TraceEvent {
        TraceEvent {
            fault: Some(fault),
            ..event(kind, node, None, None)
        }
    }

    /// A client's request, forwarded by its server to a peer and answered,
    /// among messages that are not part of it: another client's request
    /// to the same server, a message the peer sends elsewhere, and one the
    /// client sends after its operation completed. The peer is paused
    /// (and resumed) while the operation runs; the other client crashes,
    /// but it has no part in the operation. Steps are ms.
    pub(crate) fn trace() -> Vec<TraceEvent> {
        let mut invoke = event(TraceKind::Invoke, CLIENT, None, None);
        invoke.op = Some(OpId(0));
        let mut complete = event(TraceKind::Complete(Ending::Ok), CLIENT, None, None);
        complete.op = Some(OpId(0));
        let mut trace = vec![
            invoke,                                                            // 0
            send(CLIENT, SERVER, 0),                                           // 1: the request
            send(OTHER_CLIENT, SERVER, 1),    // 2: not caused by it
            deliver(SERVER, CLIENT, 0),       // 3
            send(SERVER, PEER, 2),            // 4: forwarded
            deliver(SERVER, OTHER_CLIENT, 1), // 5: after, but sent before
            fault(TraceKind::Pause, PEER, Fault::Pause(PEER)), // 6
            fault(TraceKind::Resume, PEER, Fault::Resume(PEER)), // 7
            deliver(PEER, SERVER, 2),         // 8
            send(PEER, SERVER, 3),            // 9: the peer's answer
            send(PEER, OTHER_CLIENT, 4),      // 10: leads elsewhere
            fault(TraceKind::Crash, OTHER_CLIENT, Fault::Crash(OTHER_CLIENT)), // 11
            deliver(SERVER, PEER, 3),         // 12
            send(SERVER, CLIENT, 5),          // 13: the reply
            deliver(CLIENT, SERVER, 5),       // 14
            complete,                         // 15
            send(CLIENT, SERVER, 6),          // 16: after the operation
            deliver(SERVER, CLIENT, 6),       // 17
        ];
        for (index, event) in trace.iter_mut().enumerate() {
            event.event = index as u64;
            event.time = SimTime::from_millis(index as u64);
        }
        trace
    }

    pub(crate) fn windows() -> Vec<FaultWindow> {
        let window = |fault: Fault, node: NodeId, start_ms, end_ms| FaultWindow {
            fault,
            start: SimTime::from_millis(start_ms),
            end: Some(SimTime::from_millis(end_ms)),
            nodes: vec![node],
        };
        vec![
            window(Fault::Pause(PEER), PEER, 6, 7),
            window(Fault::Crash(OTHER_CLIENT), OTHER_CLIENT, 11, 30),
            window(Fault::Crash(SERVER), SERVER, 20, 25),
        ]
    }

    pub(crate) fn operations() -> Vec<OperationRecord> {
        vec![OperationRecord {
            id: OpId(0),
            node: CLIENT,
            process: 0,
            f: "add".to_owned(),
            key: None,
            input: serde_json::Value::Null,
            output: None,
            ending: OperationEnding::Ok,
            invoke_ns: 0,
            invoke_event: 0,
            complete_ns: Some(15_000_000),
            complete_event: Some(15),
        }]
    }

    pub(crate) fn chain() -> CausalChain {
        let end_ns = SimTime::from_millis(40).as_nanos();
        causal_chain(
            &trace(),
            &operations(),
            &BTreeSet::from([0]),
            &windows(),
            end_ns,
        )
    }

    #[test]
    fn the_chain_runs_from_the_invocation_through_the_servers_to_the_completion() {
        let chain = chain();
        assert_eq!(
            chain.events,
            BTreeSet::from([0, 1, 3, 4, 5, 8, 9, 12, 13, 14, 15]),
            "5 is in the chain (the server handled it between request and reply), \
             its send (2) is not; the pause (6, 7) came before the peer heard of \
             the request; 10 leads nowhere near the client; 16 comes after"
        );
        assert_eq!(
            chain.deliveries,
            BTreeSet::from([3, 8, 12, 14]),
            "messages 0, 2, 3 and 5; not 1, whose send (2) came before the request"
        );
    }

    #[test]
    fn faults_on_involved_nodes_while_the_operation_ran_are_lit() {
        let chain = chain();
        assert_eq!(chain.windows, BTreeSet::from([0]), "the peer's pause only");
        assert_eq!(chain.fault_events, BTreeSet::from([6, 7]));
    }

    #[test]
    fn no_named_operation_means_no_chain() {
        let chain = causal_chain(&trace(), &operations(), &BTreeSet::new(), &windows(), 0);
        assert!(!chain.is_active());
    }

    #[test]
    fn a_lost_request_belongs_to_the_chain() {
        let mut trace = trace();
        // A drop names the sender as its node.
        trace[3] = event(
            TraceKind::Drop(sim_core::network::DropReason::Lost),
            CLIENT,
            Some(SERVER),
            Some(0),
        );
        let named = BTreeSet::from([0]);
        let chain = causal_chain(&trace, &operations(), &named, &[], 0);
        assert!(
            chain.events.contains(&3),
            "the drop of the client's request"
        );
        assert!(
            !chain.events.contains(&4),
            "nothing follows from a lost request"
        );
    }
}
