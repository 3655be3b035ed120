//! The causal chain as text: the events the space-time diagram lights,
//! in order, each with its engine event index and true time, so a reader
//! can follow the story in words above the picture (and find each event
//! in `dsim replay --from N`).

use sim_core::trace::{TraceEvent, TraceKind};

use crate::causal_chain::CausalChain;
use crate::html::escape;
use crate::numbers;
use crate::svg::shorten;

/// Lines listed at most; the diagram and the replay have the rest.
pub const MAX_LINES: usize = 60;

/// The chain as an ordered HTML list, or `None` when there is no chain.
pub fn chain_list(
    trace: &[TraceEvent],
    chain: &CausalChain,
    node_names: &[String],
) -> Option<String> {
    if !chain.is_active() {
        return None;
    }
    let told = |index: &usize| {
        let event = &trace[*index];
        match event.kind {
            // A delivery is told when it carried the chain on; the rest of
            // the chain's events are told when they are news.
            TraceKind::Deliver => chain.carries(*index),
            TraceKind::Timer | TraceKind::Sync | TraceKind::Synced => false,
            _ => true,
        }
    };
    let indices: Vec<usize> = chain
        .events
        .iter()
        .chain(chain.fault_events.iter())
        .copied()
        .collect::<std::collections::BTreeSet<usize>>()
        .into_iter()
        .filter(told)
        .collect();
    let mut html = String::from("<ol class=\"chain\">\n");
    let mut previous = None;
    for &index in indices.iter().take(MAX_LINES) {
        let event = &trace[index];
        // One anchor per engine event (an event can send several messages).
        let anchor = if previous == Some(event.event) {
            String::new()
        } else {
            format!(" id=\"chain-{}\"", event.event)
        };
        previous = Some(event.event);
        html.push_str(&format!(
            "<li{anchor}><code>#{}</code> {} — {}</li>\n",
            event.event,
            numbers::time(event.time.as_nanos()),
            escape(&line(event, node_names))
        ));
    }
    html.push_str("</ol>\n");
    if indices.len() > MAX_LINES {
        html.push_str(&format!(
            "<p>… and {} more events of the chain: the diagram lights them all, and \
             <code>dsim replay --from N</code> lists them.</p>\n",
            indices.len() - MAX_LINES
        ));
    }
    Some(html)
}

/// One event in words: who, what, to or from whom, and its detail.
fn line(event: &TraceEvent, names: &[String]) -> String {
    let name = |n: Option<sim_core::NodeId>| {
        n.map_or_else(String::new, |n| {
            names
                .get(n.index())
                .cloned()
                .unwrap_or_else(|| n.to_string())
        })
    };
    let (node, peer) = (name(event.node), name(event.peer));
    let detail = shorten(&event.detail, 160);
    match &event.kind {
        TraceKind::Send => format!("{node} sends {peer}: {detail}"),
        TraceKind::Deliver => format!("{node} receives from {peer}: {detail}"),
        TraceKind::Drop(reason) => format!("{node} → {peer} lost ({reason:?}): {detail}"),
        TraceKind::Invoke => format!("{node} invokes {detail}"),
        TraceKind::Complete(ending) => format!("{node} is told {ending:?}: {detail}"),
        other if node.is_empty() => format!("{other:?}: {detail}"),
        other => format!("{other:?} {node}: {detail}"),
    }
}
