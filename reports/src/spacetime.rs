//! The space-time (Lamport) diagram: one vertical lifeline per node, time
//! running down, one row per engine step, and one arrow per message from
//! its send to its delivery. It shows a window of the trace: by default the
//! events just before and after the violation, so a reader sees the
//! messages that led to it. The window bounds the diagram's size, so a
//! run of any length gives a diagram of a few hundred arrows at most.
//!
//! Rows are engine steps rather than true time: a handler's delivery and
//! the sends it caused share a row, causality reads straight down, and a
//! burst of events at one instant does not collapse into one line.
//!
//! When the verdict names operations, their causal chain
//! (`causal_chain.rs`) is lit and everything else dimmed.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use sim_core::trace::{TraceEvent, TraceKind};

use crate::causal_chain::CausalChain;
use crate::messages::message_fates;
use crate::numbers;
use crate::spacetime_arrows::draw_arrows;
use crate::spacetime_marks::draw_event_marks;
use crate::svg::{Anchor, Svg, shorten};

/// How many trace events the window keeps before the violation, and after.
pub const EVENTS_BEFORE: usize = 150;
pub const EVENTS_AFTER: usize = 30;
/// How many events a window with no violation keeps.
pub const EVENTS_WITHOUT_FOCUS: usize = 180;

pub(crate) const WIDTH: f64 = 1200.0;
pub(crate) const LEFT: f64 = 118.0;
pub(crate) const TOP: f64 = 48.0;
pub(crate) const ROW: f64 = 16.0;

/// Which part of the trace the diagram shows.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Focus {
    /// Around the engine step a violation was seen at.
    Violation { event: u64 },
    /// From just before a true time on (the liveness phase's start).
    From { time_ns: u64 },
    /// The last events (a run stopped by a limit).
    End,
    /// The first events.
    Start,
}

/// What the diagram draws from.
#[derive(Clone, Copy, Debug)]
pub struct SpacetimeInput<'a> {
    pub trace: &'a [TraceEvent],
    pub node_names: &'a [String],
    pub focus: Focus,
    /// The violation's engine step, time and one-line description.
    pub violation: Option<(u64, u64, &'a str)>,
    /// Client nodes of the operations a violation names: tinted columns.
    pub highlighted_nodes: &'a BTreeSet<usize>,
    /// Operations (by `OpId`) a violation names: red invoke/complete marks.
    pub highlighted_ops: &'a BTreeSet<u32>,
    /// What to light; the rest is dimmed (nothing, when it is empty).
    pub chain: &'a CausalChain,
}

/// How an element of the diagram stands out.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Emphasis {
    /// No chain to light: drawn as always.
    Plain,
    /// In the chain: full opacity, a stronger stroke.
    Lit,
    /// Outside the chain: faded.
    Dimmed,
}

impl Emphasis {
    /// `Lit` or `Dimmed` by `in_chain`, or `Plain` when there is no chain.
    pub fn of(chain: &CausalChain, in_chain: bool) -> Emphasis {
        match (chain.is_active(), in_chain) {
            (false, _) => Emphasis::Plain,
            (true, true) => Emphasis::Lit,
            (true, false) => Emphasis::Dimmed,
        }
    }

    /// Attribute text to append to an element's paint.
    pub fn opacity(self) -> String {
        match self {
            Emphasis::Dimmed => format!(" opacity=\"{}\"", crate::palette::DIMMED_OPACITY),
            Emphasis::Plain | Emphasis::Lit => String::new(),
        }
    }
}

/// The diagram and a sentence saying which part of the trace it shows.
#[derive(Clone, Debug)]
pub struct Spacetime {
    pub svg: String,
    pub caption: String,
}

/// Past this many nodes, only the nodes the window touches get a
/// lifeline: a crowd of clients would squeeze every column to a hairline.
pub const ALL_LIFELINES_UP_TO: usize = 24;

/// Where things go: one column per node that has a lifeline, one row per
/// engine step.
pub(crate) struct Layout {
    pub columns: Vec<Option<f64>>,
    pub row_of_step: BTreeMap<u64, usize>,
    pub rows: usize,
}

impl Layout {
    pub fn x(&self, node: Option<sim_core::NodeId>) -> f64 {
        node.and_then(|n| self.columns.get(n.index()).copied().flatten())
            .unwrap_or(LEFT)
    }
    pub fn y(&self, step: u64) -> f64 {
        let row = self.row_of_step.get(&step).copied().unwrap_or(0);
        TOP + ROW * (row as f64 + 0.5)
    }
    pub fn bottom(&self) -> f64 {
        TOP + ROW * self.rows as f64
    }
}

/// Draws the diagram as an `<svg id="spacetime-diagram">`.
pub fn spacetime_diagram(input: &SpacetimeInput<'_>) -> Spacetime {
    let window = select_window(input.trace, input.focus);
    let events = &input.trace[window.clone()];
    let layout = lay_out(events, input.node_names.len(), input.highlighted_nodes);
    let height = layout.bottom() + 28.0;
    let label = "space-time diagram: one lifeline per node, time running down";
    let mut svg = Svg::new("spacetime-diagram", WIDTH, height, label);
    svg.arrow_marker("spacetime-arrow", crate::palette::MESSAGE, 7.0);
    svg.arrow_marker("spacetime-duplicate", crate::palette::DUPLICATE, 7.0);
    if input.chain.is_active() {
        // Chain arrows are twice as thick; their heads should not be.
        svg.arrow_marker("spacetime-chain", crate::palette::CHAIN, 4.0);
    }
    draw_columns(&mut svg, input, &layout, window.clone());
    draw_row_times(&mut svg, events, &layout);
    let fates = message_fates(input.trace, window.clone());
    let counts = draw_arrows(&mut svg, input, &layout, &fates, &window);
    draw_event_marks(&mut svg, input, &layout, window.clone());
    if let Some((step, time_ns, text)) = input.violation {
        draw_violation_line(&mut svg, &layout, step, time_ns, text);
    }
    let caption = caption(input, &layout, &window, &counts);
    Spacetime {
        svg: svg.finish(),
        caption,
    }
}

/// The trace indices the diagram shows.
pub fn select_window(trace: &[TraceEvent], focus: Focus) -> Range<usize> {
    let len = trace.len();
    let (anchor, before, after) = match focus {
        Focus::Violation { event } => (
            trace.partition_point(|e| e.event <= event),
            EVENTS_BEFORE,
            EVENTS_AFTER,
        ),
        Focus::From { time_ns } => (
            trace.partition_point(|e| e.time.as_nanos() < time_ns),
            EVENTS_AFTER,
            EVENTS_BEFORE,
        ),
        Focus::End => (len, EVENTS_WITHOUT_FOCUS, 0),
        Focus::Start => (0, 0, EVENTS_WITHOUT_FOCUS),
    };
    anchor.saturating_sub(before)..(anchor + after).min(len)
}

/// Node starts and the nemesis's rates say nothing a reader needs here.
pub(crate) fn is_drawn(event: &TraceEvent) -> bool {
    !matches!(event.kind, TraceKind::Start | TraceKind::NemesisRates)
}

fn lay_out(events: &[TraceEvent], node_count: usize, highlighted: &BTreeSet<usize>) -> Layout {
    let mut drawn = vec![node_count <= ALL_LIFELINES_UP_TO; node_count];
    for event in events.iter().filter(|e| is_drawn(e)) {
        for node in [event.node, event.peer].into_iter().flatten() {
            if let Some(d) = drawn.get_mut(node.index()) {
                *d = true;
            }
        }
    }
    for &node in highlighted {
        if let Some(d) = drawn.get_mut(node) {
            *d = true;
        }
    }
    let count = drawn.iter().filter(|&&d| d).count().max(1) as f64;
    let width = ((WIDTH - LEFT - 24.0) / count).min(200.0);
    let mut next = 0.0;
    let columns = drawn
        .into_iter()
        .map(|d| {
            d.then(|| {
                next += 1.0;
                LEFT + width * (next - 0.5)
            })
        })
        .collect();
    let mut row_of_step = BTreeMap::new();
    for event in events.iter().filter(|e| is_drawn(e)) {
        let next = row_of_step.len();
        row_of_step.entry(event.event).or_insert(next);
    }
    let rows = row_of_step.len().max(1);
    Layout {
        columns,
        row_of_step,
        rows,
    }
}

/// Node names on top and one lifeline per node; columns of the clients a
/// violation names are tinted.
fn draw_columns(svg: &mut Svg, input: &SpacetimeInput<'_>, layout: &Layout, window: Range<usize>) {
    let mut xs = layout.columns.iter().flatten();
    let half = match (xs.next(), xs.next()) {
        (Some(first), Some(second)) => (second - first) / 2.0,
        _ => 60.0,
    };
    for (node, x) in layout.columns.iter().enumerate() {
        let Some(x) = *x else {
            continue;
        };
        let name = &input.node_names[node];
        let highlighted = input.highlighted_nodes.contains(&node);
        if highlighted {
            let title = format!("{name} invoked an operation the violation names");
            svg.rect(
                x - half + 2.0,
                TOP - 30.0,
                half * 2.0 - 4.0,
                layout.bottom() - TOP + 30.0,
                "fill=\"#fdecea\"",
                Some(&title),
            );
        }
        let paint = if highlighted {
            "fill=\"#c62828\" font-weight=\"bold\" font-size=\"12\""
        } else {
            "fill=\"#1d2330\" font-size=\"12\""
        };
        let chars = ((half * 2.0) / 7.0).max(4.0) as usize;
        svg.text(
            (x, TOP - 16.0),
            Anchor::Middle,
            paint,
            &shorten(name, chars),
        );
    }
    crate::spacetime_marks::draw_lifelines(svg, input, layout, window);
}

/// Each row's true time at the left, when it differs from the row above.
fn draw_row_times(svg: &mut Svg, events: &[TraceEvent], layout: &Layout) {
    svg.text(
        (LEFT - 10.0, TOP - 16.0),
        Anchor::End,
        "fill=\"#667085\"",
        "true time",
    );
    let mut last_label = String::new();
    let mut seen = BTreeSet::new();
    for event in events.iter().filter(|e| is_drawn(e)) {
        if !seen.insert(event.event) {
            continue;
        }
        let label = numbers::time(event.time.as_nanos());
        if label != last_label {
            let y = layout.y(event.event) + 3.5;
            svg.text(
                (LEFT - 10.0, y),
                Anchor::End,
                "fill=\"#667085\" font-size=\"9.5\"",
                &label,
            );
            last_label = label;
        }
    }
}

fn draw_violation_line(svg: &mut Svg, layout: &Layout, step: u64, time_ns: u64, text: &str) {
    // The violation was seen after its step ran: the line goes under the
    // last row at or before that step.
    let Some((&row_step, _)) = layout.row_of_step.range(..=step).next_back() else {
        return;
    };
    let y = layout.y(row_step) + ROW / 2.0;
    let title = format!(
        "{text} (seen after engine step {step}, at {})",
        numbers::time(time_ns)
    );
    let paint = "stroke=\"#c62828\" stroke-width=\"2.5\"";
    svg.line((LEFT - 4.0, y), (WIDTH - 6.0, y), paint, Some(&title));
    let label = shorten(&format!("violation: {text}"), 110);
    let paint = format!(
        "fill=\"#c62828\" font-weight=\"bold\" {}",
        crate::spacetime_marks::HALO
    );
    svg.text((WIDTH - 8.0, y - 4.0), Anchor::End, &paint, &label);
}

/// What the arrows drawn came to, for the caption.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ArrowCounts {
    pub messages: usize,
    pub duplicates: usize,
    pub drops: usize,
    /// Arrows and drops drawn lit, in the chain.
    pub lit: usize,
}

fn caption(
    input: &SpacetimeInput<'_>,
    layout: &Layout,
    window: &Range<usize>,
    counts: &ArrowCounts,
) -> String {
    let total = input.trace.len();
    if window.is_empty() {
        return "The trace is empty.".to_owned();
    }
    let first = &input.trace[window.start];
    let last = &input.trace[window.end - 1];
    let focus = match input.focus {
        Focus::Violation { .. } => format!(
            "up to {EVENTS_BEFORE} trace events before the violation and {EVENTS_AFTER} after"
        ),
        Focus::From { .. } => {
            "the start of the liveness phase (the heal) and what followed".to_owned()
        }
        Focus::End => {
            format!("the last {EVENTS_WITHOUT_FOCUS} trace events, where the run stopped")
        }
        Focus::Start => format!("the first {EVENTS_WITHOUT_FOCUS} trace events"),
    };
    let chain = if input.chain.is_active() {
        format!(
            " Lit: the causal chain of the operations the verdict names ({} of the messages \
             and drops drawn, and {} faults that struck the nodes involved while they ran); \
             everything else is dimmed.",
            counts.lit,
            input.chain.windows.len()
        )
    } else {
        String::new()
    };
    let lifelines = layout.columns.iter().flatten().count();
    let lifelines = if lifelines < layout.columns.len() {
        format!(
            " Lifelines for the {lifelines} nodes this window touches, of {}.",
            layout.columns.len()
        )
    } else {
        String::new()
    };
    format!(
        "Trace events {}–{} of {total} (engine steps {}–{}, true time {} to {}): {focus}. \
         {} messages ({} duplicate deliveries, {} drops ✕).{chain}{lifelines} Rows are engine \
         steps; hover an arrow or mark for its full text. Dashed arrows cross the window's edge.",
        window.start + 1,
        window.end,
        first.event,
        last.event,
        numbers::time(first.time.as_nanos()),
        numbers::time(last.time.as_nanos()),
        counts.messages,
        counts.duplicates,
        counts.drops
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::causal_chain::tests::{chain, trace};

    fn draw(chain: &CausalChain) -> String {
        let names: Vec<String> = ["client-0", "server-0", "server-1", "client-1"]
            .map(str::to_owned)
            .to_vec();
        let input = SpacetimeInput {
            trace: &trace(),
            node_names: &names,
            focus: Focus::Start,
            violation: None,
            highlighted_nodes: &BTreeSet::from([0]),
            highlighted_ops: &BTreeSet::from([0]),
            chain,
        };
        spacetime_diagram(&input).svg
    }

    #[test]
    fn the_chain_is_lit_and_everything_else_dimmed() {
        let svg = draw(&chain());
        let dimmed = format!("opacity=\"{}\"", crate::palette::DIMMED_OPACITY);
        assert_eq!(
            svg.matches("marker-end=\"url(#spacetime-chain)\"").count(),
            4,
            "request, forward, answer, reply"
        );
        let dimmed_arrow = format!("marker-end=\"url(#spacetime-arrow)\" {dimmed}");
        assert_eq!(
            svg.matches(&dimmed_arrow).count(),
            3,
            "the other client's request, the peer's message elsewhere, the later request"
        );
        let pause = format!("fill=\"{}\"><title>server-1", crate::palette::PAUSED);
        assert!(svg.contains(&pause), "the peer's pause is lit:\n{svg}");
        let crash = format!("fill=\"{}\" {dimmed}", crate::palette::CRASHED);
        assert!(svg.contains(&crash), "the other client's crash is dimmed");
    }

    #[test]
    fn without_a_chain_nothing_is_dimmed() {
        let svg = draw(&CausalChain::default());
        assert!(!svg.contains(" opacity="), "nothing is dimmed");
        assert!(!svg.contains("spacetime-chain"));
    }
}
