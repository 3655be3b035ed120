//! The space-time diagram's arrows: one per message from its send to each
//! delivery (a duplicate is a second, differently coloured arrow), a
//! line ending in an ✕ for a drop, and dashed arrows for messages that
//! cross the window's edge. Every arrow's tooltip has the message's text
//! and its timing. Messages in the causal chain of the operations the
//! verdict names are drawn lit, the others dimmed.

use std::collections::BTreeMap;
use std::ops::Range;

use sim_core::NodeId;
use sim_core::network::DropReason;
use sim_core::trace::{TraceEvent, TraceKind};

use crate::messages::MessageFate;
use crate::numbers;
use crate::palette;
use crate::spacetime::{ArrowCounts, Emphasis, Layout, SpacetimeInput, TOP};
use crate::spacetime_marks::{DETAIL_CHARS, name};
use crate::svg::{Svg, shorten};

/// At most this many arrows; the window already bounds them, this keeps a
/// chatty design (many messages per step) bounded too.
pub const MAX_ARROWS: usize = 600;

/// One arrow per message event in the window, in message order.
pub(crate) fn draw_arrows(
    svg: &mut Svg,
    input: &SpacetimeInput<'_>,
    layout: &Layout,
    fates: &BTreeMap<u64, MessageFate>,
    window: &Range<usize>,
) -> ArrowCounts {
    let mut counts = ArrowCounts::default();
    for (id, fate) in fates {
        if counts.messages + counts.drops >= MAX_ARROWS {
            break;
        }
        match fate.send {
            Some(send) => draw_sent(svg, input, layout, (*id, fate, send), window, &mut counts),
            None => draw_arriving(svg, input, layout, (*id, fate), &mut counts),
        }
    }
    counts
}

/// A message sent inside the window: to each delivery, or to its drop.
fn draw_sent(
    svg: &mut Svg,
    input: &SpacetimeInput<'_>,
    layout: &Layout,
    (id, fate, send): (u64, &MessageFate, usize),
    window: &Range<usize>,
    counts: &mut ArrowCounts,
) {
    let send = &input.trace[send];
    let start = (layout.x(send.node), layout.y(send.event));
    let receiver_x = layout.x(send.peer);
    let head = message_head(input, id, send);
    for (copy, &index) in fate.deliveries.iter().enumerate() {
        let delivery = &input.trace[index];
        let inside = index < window.end;
        let end_y = if inside {
            layout.y(delivery.event)
        } else {
            layout.bottom()
        };
        let latency = delivery.time.as_nanos() - send.time.as_nanos();
        let mut title = format!(
            "{head}\nsent {}, delivered {} (after {})",
            numbers::time(send.time.as_nanos()),
            numbers::time(delivery.time.as_nanos()),
            numbers::millis(latency)
        );
        if copy > 0 {
            title.push_str("\nduplicate delivery: the network delivered this message again");
            counts.duplicates += 1;
        }
        if !inside {
            title.push_str("\n(delivered after this window)");
        }
        let emphasis = lit(input, index, counts);
        let style = ArrowStyle {
            duplicate: copy > 0,
            dashed: !inside,
            emphasis,
        };
        arrow(svg, start, (receiver_x, end_y), style, &title);
        counts.messages += 1;
    }
    for &index in &fate.drops {
        let dropped = &input.trace[index];
        let (end, dashed) = if dropped.event == send.event {
            (
                (start.0 + (receiver_x - start.0) * 0.2, start.1 + 4.0),
                false,
            )
        } else if index < window.end {
            ((receiver_x, layout.y(dropped.event)), true)
        } else {
            ((receiver_x, layout.bottom()), true)
        };
        let title = format!("{head}\n{}", drop_text(dropped));
        let emphasis = lit(input, index, counts);
        drop_mark(svg, (start, end), dashed, emphasis, &title);
        counts.drops += 1;
    }
    if fate.deliveries.is_empty() && fate.drops.is_empty() {
        let title = format!("{head}\nstill in flight when the run ended");
        let style = ArrowStyle {
            duplicate: false,
            dashed: true,
            emphasis: Emphasis::of(input.chain, false),
        };
        arrow(svg, start, (receiver_x, layout.bottom()), style, &title);
        counts.messages += 1;
    }
}

/// A message sent before the window: its deliveries come in from the top.
fn draw_arriving(
    svg: &mut Svg,
    input: &SpacetimeInput<'_>,
    layout: &Layout,
    (id, fate): (u64, &MessageFate),
    counts: &mut ArrowCounts,
) {
    for &index in &fate.deliveries {
        let delivery = &input.trace[index];
        // A delivery names the receiver as `node` and the sender as `peer`.
        let title = format!(
            "{}\nsent before this window, delivered {}",
            message_head_between(input, id, delivery.peer, delivery.node, &delivery.detail),
            numbers::time(delivery.time.as_nanos())
        );
        let end = (layout.x(delivery.node), layout.y(delivery.event));
        let style = ArrowStyle {
            duplicate: false,
            dashed: true,
            emphasis: lit(input, index, counts),
        };
        arrow(
            svg,
            (layout.x(delivery.peer), TOP - 4.0),
            end,
            style,
            &title,
        );
        counts.messages += 1;
    }
    for &index in &fate.drops {
        let dropped = &input.trace[index];
        let title = format!(
            "{}\n{}",
            message_head(input, id, dropped),
            drop_text(dropped)
        );
        let at = (layout.x(dropped.peer), layout.y(dropped.event));
        let emphasis = lit(input, index, counts);
        drop_mark(svg, ((at.0, TOP - 4.0), at), true, emphasis, &title);
        counts.drops += 1;
    }
}

/// How an arrow is drawn.
#[derive(Clone, Copy, Debug)]
struct ArrowStyle {
    /// A second delivery of one message.
    duplicate: bool,
    /// It crosses the window's edge.
    dashed: bool,
    emphasis: Emphasis,
}

/// Is the delivery or drop at trace index `index` in the chain? Counts
/// the lit ones for the caption.
fn lit(input: &SpacetimeInput<'_>, index: usize, counts: &mut ArrowCounts) -> Emphasis {
    let is_drop = matches!(input.trace[index].kind, TraceKind::Drop(_));
    let in_chain = input.chain.carries(index) || (is_drop && input.chain.events.contains(&index));
    let emphasis = Emphasis::of(input.chain, in_chain);
    if emphasis == Emphasis::Lit {
        counts.lit += 1;
    }
    emphasis
}

fn arrow(svg: &mut Svg, from: (f64, f64), to: (f64, f64), style: ArrowStyle, title: &str) {
    let (colour, marker, width) = match (style.emphasis, style.duplicate) {
        (Emphasis::Lit, _) => (palette::CHAIN, "spacetime-chain", "2.2"),
        (_, true) => (palette::DUPLICATE, "spacetime-duplicate", "1.1"),
        (_, false) => (palette::MESSAGE, "spacetime-arrow", "1.1"),
    };
    let dash = if style.dashed {
        " stroke-dasharray=\"4,3\""
    } else {
        ""
    };
    let paint = format!(
        "stroke=\"{colour}\" stroke-width=\"{width}\"{dash} marker-end=\"url(#{marker})\"{}",
        style.emphasis.opacity()
    );
    // Stop short of the lifeline so the arrowhead stays visible.
    let length = ((to.0 - from.0).powi(2) + (to.1 - from.1).powi(2))
        .sqrt()
        .max(1.0);
    let shorten_by = 2.5_f64.min(length / 2.0);
    let end = (
        to.0 - (to.0 - from.0) / length * shorten_by,
        to.1 - (to.1 - from.1) / length * shorten_by,
    );
    svg.line(from, end, &paint, Some(title));
}

/// A line towards the receiver ending in an ✕ where the message died.
fn drop_mark(
    svg: &mut Svg,
    (from, at): ((f64, f64), (f64, f64)),
    dashed: bool,
    emphasis: Emphasis,
    title: &str,
) {
    let dash = if dashed {
        " stroke-dasharray=\"3,3\""
    } else {
        ""
    };
    let width = if emphasis == Emphasis::Lit {
        "2.2"
    } else {
        "1.4"
    };
    let paint = format!(
        "stroke=\"{}\" stroke-width=\"{width}\"{dash}{}",
        palette::DROP,
        emphasis.opacity()
    );
    svg.group(&paint, Some(title));
    svg.line(from, at, "", None);
    let size = 4.0;
    let solid = "stroke-dasharray=\"none\" stroke-width=\"2\"";
    svg.line(
        (at.0 - size, at.1 - size),
        (at.0 + size, at.1 + size),
        solid,
        None,
    );
    svg.line(
        (at.0 - size, at.1 + size),
        (at.0 + size, at.1 - size),
        solid,
        None,
    );
    svg.end_group();
}

fn message_head(input: &SpacetimeInput<'_>, id: u64, event: &TraceEvent) -> String {
    message_head_between(input, id, event.node, event.peer, &event.detail)
}

fn message_head_between(
    input: &SpacetimeInput<'_>,
    id: u64,
    from: Option<NodeId>,
    to: Option<NodeId>,
    detail: &str,
) -> String {
    format!(
        "message #{id} {} → {}: {}",
        name(input, from),
        name(input, to),
        shorten(detail, DETAIL_CHARS)
    )
}

fn drop_text(event: &TraceEvent) -> String {
    let why = match event.kind {
        TraceKind::Drop(DropReason::NoLink) => "there is no such link",
        TraceKind::Drop(DropReason::Partitioned) => "a partition cut the link",
        TraceKind::Drop(DropReason::Lost) => "lost on the link",
        TraceKind::Drop(DropReason::ReceiverCrashed) => {
            "the receiver crashed while it was in flight"
        }
        TraceKind::Drop(DropReason::ConnectionBroken) => "its connection broke before it arrived",
        _ => "not delivered",
    };
    format!("dropped {}: {why}", numbers::time(event.time.as_nanos()))
}
