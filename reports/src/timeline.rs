//! The fault timeline: true time across, one row per node, and in each row
//! three lanes: the node's process state (crashed, paused), its network
//! side during partitions, and degraded links. Clock steps are diamonds;
//! the liveness phase and the violation are vertical lines. Every band has
//! a `<title>` tooltip with the fault's own text.

use std::collections::{BTreeMap, BTreeSet};

use crate::fault_windows::{FaultPicture, NodeWindow, WindowKind};
use crate::numbers;
use crate::palette;
use crate::svg::{Anchor, Svg, TimeScale, shorten};

const WIDTH: f64 = 1200.0;
const LEFT: f64 = 140.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 26.0;
const ROW: f64 = 30.0;
/// Each lane's offset and height within a row.
const STATE_LANE: (f64, f64) = (3.0, 9.0);
const PARTITION_LANE: (f64, f64) = (13.0, 9.0);
const LINK_LANE: (f64, f64) = (23.0, 5.0);

/// What the timeline marks besides the faults.
#[derive(Clone, Copy, Debug)]
pub struct TimelineMarks {
    pub end_ns: u64,
    pub violation_ns: Option<u64>,
}

/// Past this many nodes, the nodes of a large role (`user-*`, more than
/// `LARGE_ROLE` of them) with no fault of their own share one row per
/// role: a crowd of users is the workload, not the system, and a row each
/// would bury the servers' faults under thousands of rows of partition
/// sides.
pub const FOLD_ABOVE: usize = 40;
const LARGE_ROLE: usize = 8;

/// Which nodes get a row, in node order, and the rows that stand for the
/// folded rest (one per role).
pub fn timeline_rows(picture: &FaultPicture, node_names: &[String]) -> (Vec<usize>, Vec<String>) {
    let all: Vec<usize> = (0..node_names.len()).collect();
    if node_names.len() <= FOLD_ABOVE {
        return (all, Vec::new());
    }
    let own_fault = |node: usize| {
        picture
            .windows
            .iter()
            .any(|w| w.node == node && !matches!(w.kind, WindowKind::Partitioned { .. }))
            || picture.markers.iter().any(|m| m.node == node)
    };
    let role = |name: &str| {
        name.rsplit_once('-')
            .map_or(name, |(role, _)| role)
            .to_owned()
    };
    let mut roles: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (node, name) in node_names.iter().enumerate() {
        roles.entry(role(name)).or_default().push(node);
    }
    let mut folded_nodes = BTreeSet::new();
    let mut folded = Vec::new();
    for (role, nodes) in &roles {
        if nodes.len() <= LARGE_ROLE {
            continue;
        }
        let quiet: Vec<usize> = nodes.iter().copied().filter(|&n| !own_fault(n)).collect();
        if let (Some(&first), Some(&last)) = (quiet.first(), quiet.last()) {
            folded.push(format!(
                "{} {role} nodes ({} … {}): no faults of their own",
                quiet.len(),
                node_name(node_names, first),
                node_name(node_names, last)
            ));
            folded_nodes.extend(quiet);
        }
    }
    let shown = all
        .into_iter()
        .filter(|n| !folded_nodes.contains(n))
        .collect();
    (shown, folded)
}

/// Draws the timeline as an `<svg id="fault-timeline">`: a row for each
/// node in `rows`, then one for each folded group.
pub fn fault_timeline(
    picture: &FaultPicture,
    node_names: &[String],
    (rows, folded): (&[usize], &[String]),
    marks: TimelineMarks,
) -> String {
    let mut row_of = vec![None; node_names.len()];
    for (row, &node) in rows.iter().enumerate() {
        if let Some(slot) = row_of.get_mut(node) {
            *slot = Some(row);
        }
    }
    let row_count = (rows.len() + folded.len()).max(1) as f64;
    let bottom = TOP + row_count * ROW;
    let height = bottom + 64.0;
    let label = "fault timeline: one row per node, time across";
    let mut svg = Svg::new("fault-timeline", WIDTH, height, label);
    let scale = TimeScale {
        start_ns: 0,
        end_ns: marks.end_ns.max(1),
        from: LEFT,
        to: WIDTH - RIGHT,
    };
    draw_rows(&mut svg, node_names, rows, folded, bottom);
    scale.draw_axis(&mut svg, bottom + 4.0, TOP);
    for window in &picture.windows {
        if let Some(Some(row)) = row_of.get(window.node) {
            draw_window(&mut svg, &scale, window, *row, node_names);
        }
    }
    for marker in &picture.markers {
        let Some(Some(row)) = row_of.get(marker.node) else {
            continue;
        };
        let x = scale.at(marker.at_ns);
        let y = TOP + *row as f64 * ROW + STATE_LANE.0 + STATE_LANE.1 / 2.0;
        let title = format!(
            "{}: {} at {} — {}",
            node_name(node_names, marker.node),
            marker.label,
            numbers::time(marker.at_ns),
            marker.detail
        );
        let diamond = [(x, y - 5.0), (x + 5.0, y), (x, y + 5.0), (x - 5.0, y)];
        let paint = format!(
            "fill=\"{}\" stroke=\"#fff\" stroke-width=\"0.8\"",
            palette::CLOCK
        );
        svg.polygon(&diamond, &paint, Some(&title));
    }
    if let Some(at) = picture.liveness_ns {
        vertical_line(
            &mut svg,
            &scale,
            at,
            bottom,
            palette::LIVENESS,
            "liveness phase",
        );
    }
    if let Some(at) = marks.violation_ns {
        vertical_line(
            &mut svg,
            &scale,
            at,
            bottom,
            palette::VIOLATION,
            "violation",
        );
    }
    draw_legend(&mut svg, height - 12.0);
    svg.finish()
}

fn draw_rows(svg: &mut Svg, node_names: &[String], rows: &[usize], folded: &[String], bottom: f64) {
    for (row, &node) in rows.iter().enumerate() {
        let y = TOP + row as f64 * ROW;
        if row % 2 == 0 {
            svg.rect(LEFT, y, WIDTH - RIGHT - LEFT, ROW, "fill=\"#f7f8fa\"", None);
        }
        svg.text(
            (LEFT - 8.0, y + ROW / 2.0 + 4.0),
            Anchor::End,
            "fill=\"#1d2330\" font-size=\"12\"",
            &shorten(&node_name(node_names, node), 20),
        );
    }
    for (i, text) in folded.iter().enumerate() {
        let y = TOP + (rows.len() + i) as f64 * ROW;
        svg.text(
            (LEFT + 8.0, y + ROW / 2.0 + 4.0),
            Anchor::Start,
            "fill=\"#475467\" font-size=\"12\" font-style=\"italic\"",
            text,
        );
    }
    svg.line((LEFT, TOP), (LEFT, bottom), "stroke=\"#98a2b3\"", None);
}

fn draw_window(
    svg: &mut Svg,
    scale: &TimeScale,
    window: &NodeWindow,
    row: usize,
    node_names: &[String],
) {
    let (lane, colour) = match window.kind {
        WindowKind::Crashed => (STATE_LANE, palette::CRASHED),
        WindowKind::Paused => (STATE_LANE, palette::PAUSED),
        WindowKind::Partitioned { side } => (
            PARTITION_LANE,
            palette::PARTITION_SIDES[side % palette::PARTITION_SIDES.len()],
        ),
        WindowKind::Link => (LINK_LANE, palette::LINK),
    };
    let x = scale.at(window.start_ns);
    // At least a sliver, so an instant fault is still visible and hoverable.
    let width = (scale.at(window.end_ns) - x).max(1.5);
    let y = TOP + row as f64 * ROW + lane.0;
    let until = if window.open_at_end {
        "the end of the run".to_owned()
    } else {
        numbers::time(window.end_ns)
    };
    let title = format!(
        "{}: {} from {} until {} ({}) — {}",
        node_name(node_names, window.node),
        window.label,
        numbers::time(window.start_ns),
        until,
        numbers::millis(window.end_ns - window.start_ns),
        shorten(&window.detail, 300)
    );
    let paint = format!("fill=\"{colour}\" fill-opacity=\"0.85\"");
    svg.rect(x, y, width, lane.1, &paint, Some(&title));
    // Partition sides are told apart by a letter when there is room.
    if let WindowKind::Partitioned { .. } = window.kind
        && width > 18.0
        && let Some(letter) = window.label.strip_prefix("side ")
    {
        svg.text(
            (x + 3.0, y + lane.1 - 1.0),
            Anchor::Start,
            "fill=\"#fff\" font-size=\"8\" font-weight=\"bold\"",
            letter,
        );
    }
}

fn vertical_line(
    svg: &mut Svg,
    scale: &TimeScale,
    at: u64,
    bottom: f64,
    colour: &str,
    label: &str,
) {
    let x = scale.at(at);
    let title = format!("{label} at {}", numbers::time(at));
    let paint = format!("stroke=\"{colour}\" stroke-width=\"2\" stroke-dasharray=\"5,3\"");
    svg.line((x, TOP - 6.0), (x, bottom), &paint, Some(&title));
    let anchor = if x > WIDTH - 160.0 {
        Anchor::End
    } else {
        Anchor::Start
    };
    let offset = if x > WIDTH - 160.0 { -4.0 } else { 4.0 };
    let text_paint = format!("fill=\"{colour}\" font-weight=\"bold\"");
    svg.text((x + offset, TOP - 10.0), anchor, &text_paint, label);
}

fn draw_legend(svg: &mut Svg, y: f64) {
    let entries = [
        (palette::CRASHED, "crashed"),
        (palette::PAUSED, "paused"),
        (palette::PARTITION_SIDES[0], "partition side A"),
        (palette::PARTITION_SIDES[1], "side B"),
        (palette::PARTITION_SIDES[2], "side C"),
        (palette::LINK, "degraded link"),
        (palette::CLOCK, "clock step / drift"),
        (palette::LIVENESS, "liveness phase"),
        (palette::VIOLATION, "violation"),
    ];
    let mut x = LEFT;
    for (colour, text) in entries {
        let paint = format!("fill=\"{colour}\"");
        svg.rect(x, y - 9.0, 11.0, 11.0, &paint, None);
        svg.text((x + 15.0, y), Anchor::Start, "fill=\"#475467\"", text);
        x += 22.0 + text.len() as f64 * 6.6;
    }
}

fn node_name(node_names: &[String], node: usize) -> String {
    node_names
        .get(node)
        .cloned()
        .unwrap_or_else(|| format!("n{node}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(node: usize, kind: WindowKind) -> NodeWindow {
        NodeWindow {
            kind,
            node,
            start_ns: 0,
            end_ns: 1_000,
            open_at_end: false,
            label: String::new(),
            detail: String::new(),
        }
    }

    fn names(users: usize) -> Vec<String> {
        let servers = ["store-0", "store-1", "app-0"].map(str::to_owned);
        servers
            .into_iter()
            .chain((0..users).map(|i| format!("user-{i}")))
            .collect()
    }

    #[test]
    fn a_crowd_of_users_with_no_faults_of_their_own_shares_one_row() {
        let names = names(60);
        let picture = FaultPicture {
            // store-0 crashed; user-5 paused; every user on a partition side.
            windows: std::iter::once(window(0, WindowKind::Crashed))
                .chain(std::iter::once(window(3 + 5, WindowKind::Paused)))
                .chain((3..63).map(|n| window(n, WindowKind::Partitioned { side: n % 2 })))
                .collect(),
            ..FaultPicture::default()
        };
        let (rows, folded) = timeline_rows(&picture, &names);
        assert_eq!(
            rows,
            vec![0, 1, 2, 8],
            "the servers, and the user with a fault of its own"
        );
        assert_eq!(
            folded,
            vec!["59 user nodes (user-0 … user-59): no faults of their own".to_owned()]
        );
        let svg = fault_timeline(
            &picture,
            &names,
            (&rows, &folded),
            TimelineMarks {
                end_ns: 1_000,
                violation_ns: None,
            },
        );
        assert!(
            svg.contains("user-5<") && !svg.contains("user-6<"),
            "user-5 has a row, user-6 does not"
        );
        assert!(svg.contains("59 user nodes"));
    }

    #[test]
    fn a_small_run_keeps_a_row_per_node() {
        let names = names(20);
        let picture = FaultPicture::default();
        let (rows, folded) = timeline_rows(&picture, &names);
        assert_eq!(rows, (0..23).collect::<Vec<_>>());
        assert!(folded.is_empty());
    }
}
