//! What the space-time diagram draws on its grid besides arrows: lifelines
//! (styled while a node is crashed or paused) and marks for client
//! operations, timers and faults. `spacetime.rs` chooses the window and the
//! grid; `spacetime_arrows.rs` draws the messages.

use std::ops::Range;

use sim_core::NodeId;
use sim_core::trace::{Ending, TraceEvent, TraceKind};

use crate::fault_text::describe_network_fault;
use crate::palette;
use crate::spacetime::{LEFT, Layout, SpacetimeInput, TOP, WIDTH, is_drawn};
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
pub(crate) fn draw_lifelines(
    svg: &mut Svg,
    input: &SpacetimeInput<'_>,
    layout: &Layout,
    window: Range<usize>,
) {
    let mut life = vec![Life::Up; layout.columns.len()];
    for event in &input.trace[..window.start] {
        apply_life(&mut life, event);
    }
    let mut since = vec![TOP - 8.0; life.len()];
    for event in input.trace[window].iter().filter(|e| is_drawn(e)) {
        let Some(node) = event.node.map(NodeId::index).filter(|n| *n < life.len()) else {
            continue;
        };
        let before = life[node];
        apply_life(&mut life, event);
        if life[node] != before {
            let y = layout.y(event.event);
            lifeline(
                svg,
                layout.columns[node],
                (since[node], y),
                before,
                &input.node_names[node],
            );
            since[node] = y;
        }
    }
    for (node, state) in life.into_iter().enumerate() {
        let bottom = layout.bottom();
        lifeline(
            svg,
            layout.columns[node],
            (since[node], bottom),
            state,
            &input.node_names[node],
        );
    }
}

fn apply_life(life: &mut [Life], event: &TraceEvent) {
    let Some(slot) = event.node.and_then(|n| life.get_mut(n.index())) else {
        return;
    };
    match event.kind {
        TraceKind::Crash => *slot = Life::Crashed,
        TraceKind::Pause => *slot = Life::Paused,
        TraceKind::Restart | TraceKind::Resume => *slot = Life::Up,
        _ => {}
    }
}

fn lifeline(svg: &mut Svg, x: f64, (from, to): (f64, f64), life: Life, name: &str) {
    match life {
        Life::Up => svg.line(
            (x, from),
            (x, to),
            "stroke=\"#98a2b3\" stroke-width=\"1.2\"",
            None,
        ),
        Life::Crashed => {
            let paint = format!(
                "stroke=\"{}\" stroke-width=\"4\" stroke-dasharray=\"3,3\"",
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
                "stroke=\"{}\" stroke-width=\"4\" stroke-opacity=\"0.7\"",
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
    let events = &input.trace[window];
    draw_network_faults(svg, layout, events, input.node_names);
    for event in events.iter().filter(|e| is_drawn(e)) {
        let at = (layout.x(event.node), layout.y(event.event));
        let who = name(input, event.node);
        match event.kind {
            TraceKind::Invoke => draw_invocation(svg, input, at, event, &who),
            TraceKind::Complete(ending) => draw_completion(svg, input, at, (event, ending), &who),
            TraceKind::Timer => {
                let title = format!(
                    "{who}: timer fired: {}",
                    shorten(&event.detail, DETAIL_CHARS)
                );
                svg.circle(at, 2.5, "fill=\"#fff\" stroke=\"#667085\"", Some(&title));
            }
            TraceKind::ClockStep | TraceKind::ClockDrift => {
                let diamond = [
                    (at.0, at.1 - 5.0),
                    (at.0 + 5.0, at.1),
                    (at.0, at.1 + 5.0),
                    (at.0 - 5.0, at.1),
                ];
                let paint = format!("fill=\"{}\"", palette::CLOCK);
                svg.polygon(&diamond, &paint, Some(&format!("{who}: {}", event.detail)));
            }
            TraceKind::Crash | TraceKind::Restart | TraceKind::Pause | TraceKind::Resume => {
                draw_node_fault(svg, at, event, &who);
            }
            _ => {}
        }
    }
}

fn draw_completion(
    svg: &mut Svg,
    input: &SpacetimeInput<'_>,
    at: (f64, f64),
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
    svg.circle(
        at,
        radius,
        &format!("fill=\"{fill}\" {stroke}"),
        Some(&title),
    );
}

/// Is this the invocation or completion of an operation the verdict names?
fn is_highlighted(input: &SpacetimeInput<'_>, event: &TraceEvent) -> bool {
    event
        .op
        .is_some_and(|op| input.highlighted_ops.contains(&(op.0 as usize)))
}

fn draw_node_fault(svg: &mut Svg, at: (f64, f64), event: &TraceEvent, who: &str) {
    let (word, colour) = match event.kind {
        TraceKind::Crash => ("crash", palette::CRASHED),
        TraceKind::Restart => ("restart", palette::LIVENESS),
        TraceKind::Pause => ("pause", palette::PAUSED),
        _ => ("resume", palette::PAUSED),
    };
    let title = format!("{who}: {}", event.detail);
    svg.rect(
        at.0 - 9.0,
        at.1 - 2.0,
        18.0,
        4.0,
        &format!("fill=\"{colour}\""),
        Some(&title),
    );
    let paint = format!("fill=\"{colour}\" font-size=\"10\" font-weight=\"bold\" {HALO}");
    svg.text((at.0 + 12.0, at.1 + 3.5), Anchor::Start, &paint, word);
}

fn draw_invocation(
    svg: &mut Svg,
    input: &SpacetimeInput<'_>,
    at: (f64, f64),
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
    let paint = format!("fill=\"{fill}\"");
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
fn draw_network_faults(
    svg: &mut Svg,
    layout: &Layout,
    events: &[TraceEvent],
    node_names: &[String],
) {
    let mut by_step: Vec<(u64, Vec<&TraceEvent>)> = Vec::new();
    for event in events.iter().filter(|e| is_network_fault(e)) {
        match by_step.last_mut() {
            Some((step, faults)) if *step == event.event => faults.push(event),
            _ => by_step.push((event.event, vec![event])),
        }
    }
    for (step, faults) in by_step {
        let colour = match faults[0].kind {
            TraceKind::LivenessPhase => palette::LIVENESS,
            TraceKind::LinkChange => palette::LINK,
            _ => palette::PARTITION_SIDES[0],
        };
        let words: Vec<String> = faults
            .iter()
            .map(|f| describe_network_fault(f, node_names))
            .collect();
        let details: Vec<String> = faults
            .iter()
            .map(|f| shorten(&f.detail, DETAIL_CHARS))
            .collect();
        let title = format!("{}\n{}", words.join("\n"), details.join("\n"));
        let y = layout.y(step);
        let paint = format!("stroke=\"{colour}\" stroke-width=\"1.5\" stroke-dasharray=\"8,4\"");
        svg.line((LEFT - 4.0, y), (WIDTH - 6.0, y), &paint, Some(&title));
        let label_paint = format!("fill=\"{colour}\" font-size=\"10\" font-weight=\"bold\" {HALO}");
        let label = shorten(&words.join(" · "), 110);
        svg.text((WIDTH - 8.0, y - 3.0), Anchor::End, &label_paint, &label);
    }
}
