//! Plotters glue: renders a chart into an in-memory SVG string (no files,
//! no font library: SVG text is laid out by the browser) and gives the
//! `<svg>` the id readers and tests find it by. Charts share one look.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::html::escape;

/// What a chart drawing function returns; plotters' errors are boxed, as
/// they only name what went wrong.
pub type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// The drawing area a chart draws on.
pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Renders `draw` into an `<svg id="{id}" class="plot">`. A chart that
/// fails to draw becomes a note in its place, with the same id, so one bad
/// plot never loses the rest of a report.
pub fn render(
    id: &str,
    label: &str,
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> DrawResult,
) -> String {
    let mut text = String::new();
    let outcome = {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| e.to_string())
            .and_then(|()| draw(&root).map_err(|e| e.to_string()))
            .and_then(|()| root.present().map_err(|e| e.to_string()))
    };
    let attributes = format!(
        "<svg id=\"{}\" class=\"plot\" role=\"img\" aria-label=\"{}\" ",
        escape(id),
        escape(label)
    );
    match outcome {
        Ok(()) if text.starts_with("<svg ") => text.replacen("<svg ", &attributes, 1),
        Ok(()) => format!("{attributes}width=\"10\" height=\"10\"></svg>\n"),
        Err(error) => format!(
            "{attributes}width=\"{}\" height=\"40\" xmlns=\"http://www.w3.org/2000/svg\"><text x=\"8\" y=\"24\">could not draw this chart: {}</text></svg>\n",
            size.0,
            escape(&error)
        ),
    }
}

/// How a legend entry is drawn.
#[derive(Clone, Copy, Debug)]
pub enum Mark {
    Dot(RGBColor),
    Line(RGBColor),
    /// A filled square, with its opacity.
    Square(RGBColor, f64),
    Ring,
}

/// A legend in the right margin of a chart `width` pixels wide, drawn on
/// the root area: plotters clips its own legends to the plotting area.
pub fn side_legend(area: &Area<'_>, width: u32, entries: &[(&str, Mark)]) -> DrawResult {
    let x = width as i32 - 176;
    for (row, (label, mark)) in entries.iter().enumerate() {
        let y = 24 + row as i32 * 18;
        match *mark {
            Mark::Dot(colour) => area.draw(&Circle::new((x + 6, y), 4, colour.filled()))?,
            Mark::Line(colour) => area.draw(&PathElement::new(
                vec![(x, y), (x + 12, y)],
                colour.stroke_width(2),
            ))?,
            Mark::Square(colour, opacity) => area.draw(&Rectangle::new(
                [(x, y - 6), (x + 12, y + 6)],
                colour.mix(opacity).filled(),
            ))?,
            Mark::Ring => area.draw(&Circle::new((x + 6, y), 5, BLACK.stroke_width(2)))?,
        }
        area.draw(&Text::new(label.to_string(), (x + 20, y - 7), label_font()))?;
    }
    Ok(())
}

/// A palette colour (`#rrggbb`) as a plotters colour.
pub fn colour(hex: &str) -> RGBColor {
    let channel = |at: usize| {
        hex.get(at..at + 2)
            .and_then(|pair| u8::from_str_radix(pair, 16).ok())
            .unwrap_or(0)
    };
    RGBColor(channel(1), channel(3), channel(5))
}

/// The font for axis labels and descriptions.
pub fn label_font() -> TextStyle<'static> {
    ("sans-serif", 12)
        .into_font()
        .color(&RGBColor(0x47, 0x54, 0x67))
}

/// The light grid every chart uses.
pub fn grid_style() -> ShapeStyle {
    RGBColor(0xee, 0xf0, 0xf4).stroke_width(1)
}

/// The grid lines at labelled ticks.
pub fn bold_grid_style() -> ShapeStyle {
    RGBColor(0xdd, 0xe1, 0xe8).stroke_width(1)
}

/// A chart's title, drawn above it.
pub fn title_font() -> TextStyle<'static> {
    ("sans-serif", 14)
        .into_font()
        .color(&RGBColor(0x1d, 0x23, 0x30))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_charts_carry_their_id() {
        let svg = render("a-chart", "a chart", (200, 100), |area| {
            let mut chart = ChartBuilder::on(area)
                .x_label_area_size(20)
                .y_label_area_size(20)
                .build_cartesian_2d(0f64..1f64, 0f64..1f64)?;
            chart.configure_mesh().draw()?;
            Ok(())
        });
        assert!(
            svg.starts_with("<svg id=\"a-chart\" class=\"plot\""),
            "{svg}"
        );
        assert_eq!(colour("#2f7ed8"), RGBColor(0x2f, 0x7e, 0xd8));
    }
}
