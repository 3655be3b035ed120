//! A heatmap over two swept parameters: one cell per pair of values, its
//! colour the value, its number written in it, and a tooltip with the
//! details. Small multiples share one colour scale so they compare.

use crate::svg::{Anchor, Svg, shorten};

const CELL_HEIGHT: f64 = 34.0;
/// The narrowest left margin; a long row-axis name widens it.
const LEFT: f64 = 120.0;
/// Roughly the width of one character at the labels' font size.
const CHAR_WIDTH: f64 = 6.6;
const TOP: f64 = 52.0;

/// One axis of a heatmap: its parameter's name and values.
#[derive(Clone, Copy, Debug)]
pub struct Axis<'a> {
    pub name: &'a str,
    pub values: &'a [i64],
}

/// What one cell shows.
#[derive(Clone, PartialEq, Debug)]
pub struct CellValue {
    pub value: f64,
    pub text: String,
    pub title: String,
}

/// How values map to colours.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Scale {
    /// A failure rate in `[0, 1]`: zero is pale green (safe), anything
    /// above it white to red, so the boundary of safe designs stands out.
    Rate,
    /// A metric: light to dark blue between `low` and `high`.
    Range { low: f64, high: f64 },
}

/// A heatmap to draw.
#[derive(Clone, Copy, Debug)]
pub struct Heatmap<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub across: Axis<'a>,
    /// `None` for a one-axis grid: a single row.
    pub down: Option<Axis<'a>>,
    pub scale: Scale,
}

/// Draws `heatmap`; `cell(x, y)` gives the value at a pair of parameter
/// values (`y` is 0 for a one-axis grid), `None` where nothing ran.
pub fn draw_heatmap(heatmap: &Heatmap<'_>, cell: impl Fn(i64, i64) -> Option<CellValue>) -> String {
    let columns = heatmap.across.values.len().max(1);
    let rows: Vec<i64> = heatmap.down.map_or(vec![0], |a| a.values.to_vec());
    let cell_width = (560.0 / columns as f64).clamp(44.0, 90.0);
    let down_label = heatmap.down.map(|down| format!("{} ↓", down.name));
    let label_width = down_label
        .as_ref()
        .map_or(0.0, |l| l.chars().count() as f64 * CHAR_WIDTH);
    let left = LEFT.max(label_width + 16.0);
    let width = left + cell_width * columns as f64 + 16.0;
    let height = TOP + CELL_HEIGHT * rows.len() as f64 + 14.0;
    let mut svg = Svg::new(heatmap.id, width, height, heatmap.title);
    svg.text(
        (left, 16.0),
        Anchor::Start,
        "fill=\"#1d2330\" font-size=\"13\" font-weight=\"bold\"",
        &shorten(heatmap.title, 80),
    );
    let across_label = format!("{} →", heatmap.across.name);
    svg.text(
        (left, 32.0),
        Anchor::Start,
        "fill=\"#475467\"",
        &across_label,
    );
    if let Some(down_label) = &down_label {
        svg.text(
            (left - 8.0, 32.0),
            Anchor::End,
            "fill=\"#475467\"",
            down_label,
        );
    }
    for (column, x_value) in heatmap.across.values.iter().enumerate() {
        let x = left + cell_width * (column as f64 + 0.5);
        svg.text(
            (x, TOP - 6.0),
            Anchor::Middle,
            "fill=\"#1d2330\"",
            &x_value.to_string(),
        );
    }
    for (row, y_value) in rows.iter().enumerate() {
        let y = TOP + CELL_HEIGHT * row as f64;
        if heatmap.down.is_some() {
            svg.text(
                (left - 8.0, y + CELL_HEIGHT / 2.0 + 4.0),
                Anchor::End,
                "fill=\"#1d2330\"",
                &y_value.to_string(),
            );
        }
        for (column, x_value) in heatmap.across.values.iter().enumerate() {
            let x = left + cell_width * column as f64;
            draw_cell(
                &mut svg,
                (x, y, cell_width),
                cell(*x_value, *y_value),
                heatmap.scale,
            );
        }
    }
    svg.finish()
}

fn draw_cell(
    svg: &mut Svg,
    (x, y, width): (f64, f64, f64),
    value: Option<CellValue>,
    scale: Scale,
) {
    let Some(value) = value else {
        svg.rect(
            x + 1.0,
            y + 1.0,
            width - 2.0,
            CELL_HEIGHT - 2.0,
            "fill=\"#eceff3\"",
            Some("not run"),
        );
        svg.text(
            (x + width / 2.0, y + CELL_HEIGHT / 2.0 + 4.0),
            Anchor::Middle,
            "fill=\"#98a2b3\"",
            "–",
        );
        return;
    };
    let (red, green, blue) = colour_of(value.value, scale);
    let fill = format!("fill=\"#{red:02x}{green:02x}{blue:02x}\"");
    svg.rect(
        x + 1.0,
        y + 1.0,
        width - 2.0,
        CELL_HEIGHT - 2.0,
        &fill,
        Some(&value.title),
    );
    // Dark cells get white text; luminance by the usual weights.
    let luminance = 0.299 * f64::from(red) + 0.587 * f64::from(green) + 0.114 * f64::from(blue);
    let ink = if luminance < 140.0 {
        "#ffffff"
    } else {
        "#1d2330"
    };
    let paint = format!("fill=\"{ink}\" font-size=\"11.5\" pointer-events=\"none\"");
    let chars = (width / 6.5) as usize;
    svg.text(
        (x + width / 2.0, y + CELL_HEIGHT / 2.0 + 4.0),
        Anchor::Middle,
        &paint,
        &shorten(&value.text, chars),
    );
}

/// The colour of `value` on `scale`.
pub fn colour_of(value: f64, scale: Scale) -> (u8, u8, u8) {
    match scale {
        Scale::Rate if value <= 0.0 => (0xe3, 0xf4, 0xe1),
        Scale::Rate => ramp(
            value.min(1.0).sqrt(),
            &[(0xff, 0xf1, 0xee), (0xf4, 0x8c, 0x6c), (0xa5, 0x0f, 0x15)],
        ),
        Scale::Range { low, high } => {
            let position = if high > low {
                (value - low) / (high - low)
            } else {
                0.5
            };
            ramp(
                position,
                &[(0xf0, 0xf6, 0xfc), (0x6b, 0xae, 0xd6), (0x08, 0x30, 0x6b)],
            )
        }
    }
}

/// Linear interpolation through evenly spaced colour stops.
fn ramp(position: f64, stops: &[(u8, u8, u8)]) -> (u8, u8, u8) {
    let position = if position.is_finite() {
        position.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let scaled = position * (stops.len() - 1) as f64;
    let index = (scaled.floor() as usize).min(stops.len() - 2);
    let t = scaled - index as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
    let (a, b) = (stops[index], stops[index + 1]);
    (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_failures_stand_apart_from_any_failure() {
        assert_eq!(colour_of(0.0, Scale::Rate), (0xe3, 0xf4, 0xe1));
        assert_eq!(colour_of(1.0, Scale::Rate), (0xa5, 0x0f, 0x15));
        let small = colour_of(0.01, Scale::Rate);
        assert!(
            small.1 < 0xf4,
            "a 1% failure rate is visibly not green: {small:?}"
        );
    }

    #[test]
    fn ranges_run_light_to_dark() {
        let scale = Scale::Range {
            low: 0.0,
            high: 10.0,
        };
        assert_eq!(colour_of(0.0, scale), (0xf0, 0xf6, 0xfc));
        assert_eq!(colour_of(10.0, scale), (0x08, 0x30, 0x6b));
        assert_eq!(colour_of(5.0, scale), (0x6b, 0xae, 0xd6));
    }
}
