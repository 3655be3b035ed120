//! What became of each message in a stretch of the trace: its send, its
//! deliveries (two for a duplicate) and its drop, paired by the message
//! id the trace gives sends, deliveries and drops. The space-time diagram
//! draws one arrow per pairing.

use std::collections::BTreeMap;
use std::ops::Range;

use sim_core::trace::{TraceEvent, TraceKind};

/// The trace events of one message, as indices into the trace.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct MessageFate {
    pub send: Option<usize>,
    pub deliveries: Vec<usize>,
    pub drops: Vec<usize>,
}

impl MessageFate {
    /// Neither delivered nor dropped yet.
    fn unresolved(&self) -> bool {
        self.deliveries.is_empty() && self.drops.is_empty()
    }
}

/// The fate of every message with an event in `window`. A message sent in
/// the window but delivered after it is followed past the window's end, so
/// its arrow can say where it went; a message delivered in the window but
/// sent before it keeps `send: None`.
pub fn message_fates(trace: &[TraceEvent], window: Range<usize>) -> BTreeMap<u64, MessageFate> {
    let mut fates: BTreeMap<u64, MessageFate> = BTreeMap::new();
    let end = window.end;
    for index in window {
        if let Some(id) = trace[index].message {
            note_fate(fates.entry(id).or_default(), &trace[index], index);
        }
    }
    let mut unresolved = fates
        .values()
        .filter(|f| f.send.is_some() && f.unresolved())
        .count();
    for (index, event) in trace.iter().enumerate().skip(end) {
        if unresolved == 0 {
            break;
        }
        let Some(id) = event.message else { continue };
        if let Some(fate) = fates.get_mut(&id)
            && fate.send.is_some()
            && fate.unresolved()
        {
            note_fate(fate, event, index);
            unresolved -= 1;
        }
    }
    fates
}

fn note_fate(fate: &mut MessageFate, event: &TraceEvent, index: usize) {
    match event.kind {
        TraceKind::Send => fate.send = Some(index),
        TraceKind::Deliver => fate.deliveries.push(index),
        TraceKind::Drop(_) => fate.drops.push(index),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use sim_core::network::DropReason;
    use sim_core::{NodeId, SimTime};

    use super::*;

    fn event(kind: TraceKind, message: u64) -> TraceEvent {
        TraceEvent {
            event: 1,
            time: SimTime::ZERO,
            kind,
            node: Some(NodeId(0)),
            peer: Some(NodeId(1)),
            message: Some(message),
            detail: String::new(),
            fault: None,
            op: None,
        }
    }

    #[test]
    fn follows_messages_past_the_window_and_keeps_duplicates() {
        let trace = vec![
            event(TraceKind::Deliver, 0),
            event(TraceKind::Send, 1),
            event(TraceKind::Send, 2),
            event(TraceKind::Deliver, 1),
            event(TraceKind::Deliver, 1),
            event(TraceKind::Drop(DropReason::Lost), 2),
        ];
        let fates = message_fates(&trace, 0..5);
        assert_eq!(fates[&0].send, None);
        assert_eq!(fates[&1].deliveries, vec![3, 4]);
        assert_eq!(fates[&2].drops, vec![5], "found after the window");
    }
}
