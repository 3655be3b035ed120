//! What the space-time diagram draws on its grid besides arrows: lifelines
//! (styled while a node is crashed or paused) and marks for client
//! operations, timers and faults, each lit or dimmed by the causal chain.
//! `spacetime.rs` chooses the window and the grid; `spacetime_arrows.rs`
//! draws the messages.

use std::ops::Range;

use sim_core::NodeId;
use sim_core::trace::{Ending, TraceEvent, TraceKind};

use crate::fault_text::describe_network_fault;
use crate::palette;
use crate::spacetime::{Emphasis, LEFT, Layout, SpacetimeInput, TOP, WIDTH, is_drawn};
use crate::svg::{Anchor, Svg, shorten};

/// Longest message or event text kept in a tooltip.
pub(crate) const DETAIL_CHARS: usize = 240;
/// Text with a white halo, readable over arrows.
pub(crate) const HALO: &str = "paint-order=\"stroke\" stroke=\"#fff\" stroke-width=\"3\"";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Life {
    Up,
    Crashed,
    Paused,
}

/// One lifeline per node, from top to bottom, drawn per stretch of state.
/// A crashed or paused stretch is lit when the fault that began it touched
/// the chain.
pub(crate) fn draw_lifelines(
    svg: &mut Svg,
    input: &SpacetimeInput<'_>,
    layout: &Layout,
    window: Range<usize>,
) {
    let nodes = layout.columns.len();
    let mut life = vec![Life::Up; nodes];
    // The trace index of the event that began each node's current stretch.
    let mut began: Vec<Option<usize>> = vec![None; nodes];
    for (index, event) in input.trace[..window.start].iter().enumerate() {
        apply_life(&mut life, &mut began, (index, event));
    }
    let mut since = vec![TOP - 8.0; nodes];
    for (index, event) in input
        .trace
        .iter()
        .enumerate()
        .take(window.end)
        .skip(window.start)
    {
        let Some(node) = event.node.map(NodeId::index).filter(|n| *n < nodes) else {
            continue;
        };
        if !is_drawn(event) {
            continue;
        }
        let before = (life[node], began[node]);
        apply_life(&mut life, &mut began, (index, event));
        if life[node] != before.0
            && let Some(x) = layout.columns[node]
        {
            let y = layout.y(event.event);
            let stretch = Stretch {
                x,
                span: (since[node], y),
                life: before.0,
                emphasis: stretch_emphasis(input, before),
            };
            lifeline(svg, stretch, &input.node_names[node]);
            since[node] = y;
        }
    }
    for (node, state) in life.into_iter().enumerate() {
        let Some(x) = layout.columns[node] else {
            continue;
        };
        let stretch = Stretch {
            x,
            span: (since[node], layout.bottom()),
            life: state,
            emphasis: stretch_emphasis(input, (state, began[node])),
        };
        lifeline(svg, stretch, &input.node_names[node]);
    }
}

/// One stretch of a lifeline in one state.
#[derive(Clone, Copy, Debug)]
struct Stretch {
    x: f64,
    span: (f64, f64),
    life: Life,
    emphasis: Emphasis,
}

/// A node that is up is the diagram's frame, never dimmed; a crash or a
/// pause is a fault, lit when the chain's faults began it.
fn stretch_emphasis(input: &SpacetimeInput<'_>, (life, began): (Life, Option<usize>)) -> Emphasis {
    if life == Life::Up {
        return Emphasis::Plain;
    }
    let lit = began.is_some_and(|i| input.chain.fault_events.contains(&i));
    Emphasis::of(input.chain, lit)
}

fn apply_life(
    life: &mut [Life],
    began: &mut [Option<usize>],
    (index, event): (usize, &TraceEvent),
) {
    let Some(node) = event.node.map(NodeId::index).filter(|n| *n < life.len()) else {
        return;
    };
    let next = match event.kind {
        TraceKind::Crash => Life::Crashed,
        TraceKind::Pause => Life::Paused,
        TraceKind::Restart | TraceKind::Resume => Life::Up,
        _ => return,
    };
    if next != life[node] {
        life[node] = next;
        began[node] = Some(index);
    }
}

fn lifeline(svg: &mut Svg, stretch: Stretch, name: &str) {
    let (x, (from, to)) = (stretch.x, stretch.span);
    let opacity = stretch.emphasis.opacity();
    match stretch.life {
        Life::Up => svg.line(
            (x, from),
            (x, to),
            "stroke=\"#98a2b3\" stroke-width=\"1.2\"",
            None,
        ),
        Life::Crashed => {
            let paint = format!(
                "stroke=\"{}\" stroke-width=\"4\" stroke-dasharray=\"3,3\"{opacity}",
                palette::CRASHED
            );
            svg.line(
                (x, from),
                (x, to),
                &paint,
                Some(&format!("{name} is crashed")),
            );
        }
        Life::Paused => {
            let paint = format!(
                "stroke=\"{}\" stroke-width=\"4\" stroke-opacity=\"0.7\"{opacity}",
                palette::PAUSED
            );
            svg.line(
                (x, from),
                (x, to),
                &paint,
                Some(&format!("{name} is paused")),
            );
        }
    }
}

pub(crate) fn name(input: &SpacetimeInput<'_>, node: Option<NodeId>) -> String {
    match node {
        Some(id) => input
            .node_names
            .get(id.index())
            .cloned()
            .unwrap_or_else(|| id.to_string()),
        None => "?".to_owned(),
    }
}

/// Client operations, timers and faults, drawn over the arrows.
pub(crate) fn draw_event_marks(
    svg: &mut Svg,
    input: &SpacetimeInput<'_>,
    layout: &Layout,
    window: Range<usize>,
) {
    draw_network_faults(svg, input, layout, window.clone());
    let events = input.trace.iter().enumerate();
    for (index, event) in events.take(window.end).skip(window.start) {
        if !is_drawn(event) {
            continue;
        }
        let at = (layout.x(event.node), layout.y(event.event));
        let who = name(input, event.node);
        // Operations and timers belong to the chain by happens-before;
        // faults by the windows that touched it.
        let in_chain = input.chain.events.contains(&index);
        let emphasis = Emphasis::of(input.chain, in_chain);
        let fault_emphasis = Emphasis::of(input.chain, input.chain.fault_events.contains(&index));
        match event.kind {
            TraceKind::Invoke => draw_invocation(svg, input, (at, emphasis), event, &who),
            TraceKind::Complete(ending) => {
                draw_completion(svg, input, (at, emphasis), (event, ending), &who);
            }
            TraceKind::Timer => {
                let title = format!(
                    "{who}: timer fired: {}",
                    shorten(&event.detail, DETAIL_CHARS)
                );
                let paint = format!("fill=\"#fff\" stroke=\"#667085\"{}", emphasis.opacity());
                svg.circle(at, 2.5, &paint, Some(&title));
            }
            TraceKind::ClockStep | TraceKind::ClockDrift => {
                let diamond = [
                    (at.0, at.1 - 5.0),
                    (at.0 + 5.0, at.1),
                    (at.0, at.1 + 5.0),
                    (at.0 - 5.0, at.1),
                ];
                let paint = format!("fill=\"{}\"{}", palette::CLOCK, fault_emphasis.opacity());
                svg.polygon(&diamond, &paint, Some(&format!("{who}: {}", event.detail)));
            }
            TraceKind::Crash | TraceKind::Restart | TraceKind::Pause | TraceKind::Resume => {
                draw_node_fault(svg, (at, fault_emphasis), event, &who);
            }
            TraceKind::ConnOpen
            | TraceKind::ConnUp
            | TraceKind::ConnClose
            | TraceKind::ConnClosed
            | TraceKind::ConnBreak
            | TraceKind::ConnReset
            | TraceKind::ConnStall => draw_connection_mark(svg, (at, fault_emphasis), event, &who),
            _ => {}
        }
    }
}

fn draw_completion(
    svg: &mut Svg,
    input: &SpacetimeInput<'_>,
    (at, emphasis): ((f64, f64), Emphasis),
    (event, ending): (&TraceEvent, Ending),
    who: &str,
) {
    let fill = match ending {
        Ending::Ok => palette::OK,
        Ending::Fail => palette::FAIL,
        Ending::Info => palette::INFO,
    };
    let highlighted = is_highlighted(input, event);
    let stroke = if highlighted {
        "stroke=\"#c62828\" stroke-width=\"2.5\""
    } else {
        "stroke=\"#fff\""
    };
    let title = format!(
        "{who}: operation completes {}",
        shorten(&event.detail, DETAIL_CHARS)
    );
    let radius = if highlighted { 5.5 } else { 4.0 };
    let paint = format!("fill=\"{fill}\" {stroke}{}", emphasis.opacity());
    svg.circle(at, radius, &paint, Some(&title));
}

/// Is this the invocation or completion of an operation the verdict names?
fn is_highlighted(input: &SpacetimeInput<'_>, event: &TraceEvent) -> bool {
    event
        .op
        .is_some_and(|op| input.highlighted_ops.contains(&op.0))
}

fn draw_node_fault(
    svg: &mut Svg,
    (at, emphasis): ((f64, f64), Emphasis),
    event: &TraceEvent,
    who: &str,
) {
    let (word, colour) = match event.kind {
        TraceKind::Crash => ("crash", palette::CRASHED),
        TraceKind::Restart => ("restart", palette::LIVENESS),
        TraceKind::Pause => ("pause", palette::PAUSED),
        _ => ("resume", palette::PAUSED),
    };
    let title = format!("{who}: {}", event.detail);
    let opacity = emphasis.opacity();
    svg.rect(
        at.0 - 9.0,
        at.1 - 2.0,
        18.0,
        4.0,
        &format!("fill=\"{colour}\"{opacity}"),
        Some(&title),
    );
    let paint = format!("fill=\"{colour}\" font-size=\"10\" font-weight=\"bold\" {HALO}{opacity}");
    svg.text((at.0 + 12.0, at.1 + 3.5), Anchor::Start, &paint, word);
}

/// A connection's life on the node's line: opened, up, closed, told it
/// is gone, broken, reset or stalled by a fault.
fn draw_connection_mark(
    svg: &mut Svg,
    (at, emphasis): ((f64, f64), Emphasis),
    event: &TraceEvent,
    who: &str,
) {
    let (word, colour) = match event.kind {
        TraceKind::ConnOpen => ("connect", palette::CONNECTION),
        TraceKind::ConnUp => ("conn up", palette::CONNECTION),
        TraceKind::ConnClose => ("close", palette::CONNECTION),
        TraceKind::ConnClosed => ("conn gone", palette::CONNECTION),
        TraceKind::ConnStall => ("stall", palette::LINK),
        _ => ("conn broken", palette::DROP),
    };
    let title = format!("{who}: {word}: {}", event.detail);
    let opacity = emphasis.opacity();
    svg.rect(
        at.0 - 2.0,
        at.1 - 6.0,
        4.0,
        12.0,
        &format!("fill=\"{colour}\"{opacity}"),
        Some(&title),
    );
    let paint = format!("fill=\"{colour}\" font-size=\"9\" {HALO}{opacity}");
    svg.text((at.0 - 6.0, at.1 + 3.0), Anchor::End, &paint, word);
}

fn draw_invocation(
    svg: &mut Svg,
    input: &SpacetimeInput<'_>,
    (at, emphasis): ((f64, f64), Emphasis),
    event: &TraceEvent,
    who: &str,
) {
    let highlighted = is_highlighted(input, event);
    let op = event
        .op
        .map_or_else(|| "?".to_owned(), |op| op.0.to_string());
    let (size, fill) = if highlighted {
        (9.0, "#c62828")
    } else {
        (7.0, "#1d2330")
    };
    let title = format!(
        "{who} invokes operation {op}: {}",
        shorten(&event.detail, DETAIL_CHARS)
    );
    let paint = format!("fill=\"{fill}\"{}", emphasis.opacity());
    let corner = (at.0 - size / 2.0, at.1 - size / 2.0);
    svg.rect(corner.0, corner.1, size, size, &paint, Some(&title));
}

fn is_network_fault(event: &TraceEvent) -> bool {
    matches!(
        event.kind,
        TraceKind::Partition | TraceKind::Heal | TraceKind::LinkChange | TraceKind::LivenessPhase
    )
}

/// One dashed line across the diagram per engine step with network-wide
/// faults, labelled with all of them: the liveness phase heals partitions
/// and links in the step it starts, and three labels on one line overlap.
/// A line is lit when one of its faults touched the chain; the liveness
/// phase is a landmark, never dimmed.
fn draw_network_faults(
    svg: &mut Svg,
    input: &SpacetimeInput<'_>,
    layout: &Layout,
    window: Range<usize>,
) {
    let mut by_step: Vec<(u64, Vec<usize>)> = Vec::new();
    for index in window.filter(|&i| is_network_fault(&input.trace[i])) {
        let step = input.trace[index].event;
        match by_step.last_mut() {
            Some((last, faults)) if *last == step => faults.push(index),
            _ => by_step.push((step, vec![index])),
        }
    }
    for (step, indices) in by_step {
        let faults: Vec<&TraceEvent> = indices.iter().map(|&i| &input.trace[i]).collect();
        let colour = match faults[0].kind {
            TraceKind::LivenessPhase => palette::LIVENESS,
            TraceKind::LinkChange => palette::LINK,
            _ => palette::PARTITION_SIDES[0],
        };
        let landmark = faults.iter().any(|f| f.kind == TraceKind::LivenessPhase);
        let lit = landmark || indices.iter().any(|i| input.chain.fault_events.contains(i));
        let opacity = Emphasis::of(input.chain, lit).opacity();
        let words: Vec<String> = faults
            .iter()
            .map(|f| describe_network_fault(f, input.node_names))
            .collect();
        let details: Vec<String> = faults
            .iter()
            .map(|f| shorten(&f.detail, DETAIL_CHARS))
            .collect();
        let title = format!("{}\n{}", words.join("\n"), details.join("\n"));
        let y = layout.y(step);
        let paint =
            format!("stroke=\"{colour}\" stroke-width=\"1.5\" stroke-dasharray=\"8,4\"{opacity}");
        svg.line((LEFT - 4.0, y), (WIDTH - 6.0, y), &paint, Some(&title));
        let label_paint =
            format!("fill=\"{colour}\" font-size=\"10\" font-weight=\"bold\" {HALO}{opacity}");
        let label = shorten(&words.join(" · "), 110);
        svg.text((WIDTH - 8.0, y - 3.0), Anchor::End, &label_paint, &label);
    }
}
