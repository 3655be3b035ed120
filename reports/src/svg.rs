//! Hand-written SVG for the diagrams plotters cannot draw well: ones that
//! need a `<title>` tooltip per element (the fault timeline, the space-time
//! diagram, heatmaps). Coordinates are written with one decimal, so the
//! output is byte-stable; text goes through `html::escape`.
//!
//! `paint` arguments are attribute text built from constants in this
//! crate (`fill="#..."`), never from run data.

use std::fmt::Write as _;

use crate::html::escape;
use crate::numbers;

/// An SVG document being written.
#[derive(Debug)]
pub struct Svg {
    out: String,
}

/// Where text sits relative to its point.
#[derive(Clone, Copy, Debug)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Svg {
    /// Opens an `<svg>` with an id (tests and readers find plots by it) and
    /// an accessible label.
    pub fn new(id: &str, width: f64, height: f64, label: &str) -> Svg {
        let mut out = String::with_capacity(4096);
        let _ = writeln!(
            out,
            "<svg id=\"{}\" class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"11\">",
            escape(id),
            coordinate(width),
            coordinate(height),
            coordinate(width),
            coordinate(height),
            escape(label)
        );
        Svg { out }
    }

    pub fn rect(
        &mut self,
        x: f64,
        y: f64,
        width: f64,
        height: f64,
        paint: &str,
        title: Option<&str>,
    ) {
        let _ = write!(
            self.out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" {paint}",
            coordinate(x),
            coordinate(y),
            coordinate(width.max(0.0)),
            coordinate(height.max(0.0))
        );
        self.close("rect", title);
    }

    pub fn line(&mut self, from: (f64, f64), to: (f64, f64), paint: &str, title: Option<&str>) {
        let _ = write!(
            self.out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" {paint}",
            coordinate(from.0),
            coordinate(from.1),
            coordinate(to.0),
            coordinate(to.1)
        );
        self.close("line", title);
    }

    pub fn circle(&mut self, center: (f64, f64), radius: f64, paint: &str, title: Option<&str>) {
        let _ = write!(
            self.out,
            "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" {paint}",
            coordinate(center.0),
            coordinate(center.1),
            coordinate(radius)
        );
        self.close("circle", title);
    }

    /// A polygon through `points`.
    pub fn polygon(&mut self, points: &[(f64, f64)], paint: &str, title: Option<&str>) {
        self.out.push_str("<polygon points=\"");
        for (i, (x, y)) in points.iter().enumerate() {
            if i > 0 {
                self.out.push(' ');
            }
            let _ = write!(self.out, "{},{}", coordinate(*x), coordinate(*y));
        }
        let _ = write!(self.out, "\" {paint}");
        self.close("polygon", title);
    }

    pub fn text(&mut self, at: (f64, f64), anchor: Anchor, paint: &str, text: &str) {
        let anchor = match anchor {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        };
        let _ = writeln!(
            self.out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" {paint}>{}</text>",
            coordinate(at.0),
            coordinate(at.1),
            escape(text)
        );
    }

    /// Opens a group; every element until `end_group` shares its tooltip
    /// (when given) and its paint.
    pub fn group(&mut self, paint: &str, title: Option<&str>) {
        let _ = write!(self.out, "<g {paint}>");
        if let Some(title) = title {
            let _ = write!(self.out, "<title>{}</title>", escape(title));
        }
        self.out.push('\n');
    }

    pub fn end_group(&mut self) {
        self.out.push_str("</g>\n");
    }

    /// Arrowhead markers, referenced as `marker-end="url(#<id>)"`. Ids are
    /// prefixed with the plot's id so several plots on a page never clash.
    /// `size` is in stroke widths (a marker scales with its line's).
    pub fn arrow_marker(&mut self, id: &str, colour: &str, size: f64) {
        let _ = writeln!(
            self.out,
            "<defs><marker id=\"{}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"{size}\" markerHeight=\"{size}\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{colour}\"/></marker></defs>",
            escape(id),
            size = coordinate(size)
        );
    }

    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }

    fn close(&mut self, tag: &str, title: Option<&str>) {
        match title {
            Some(title) => {
                let _ = writeln!(self.out, "><title>{}</title></{tag}>", escape(title));
            }
            None => self.out.push_str("/>\n"),
        }
    }
}

/// A linear map from true time (ns) to an x (or y) coordinate.
#[derive(Clone, Copy, Debug)]
pub struct TimeScale {
    pub start_ns: u64,
    pub end_ns: u64,
    pub from: f64,
    pub to: f64,
}

impl TimeScale {
    pub fn at(&self, ns: u64) -> f64 {
        let span = self.end_ns.saturating_sub(self.start_ns).max(1) as f64;
        let offset = ns.clamp(self.start_ns, self.end_ns) - self.start_ns;
        self.from + (self.to - self.from) * (offset as f64 / span)
    }

    /// Draws a horizontal time axis with tick labels in seconds at `y`,
    /// and light grid lines up to `grid_top`.
    pub fn draw_axis(&self, svg: &mut Svg, y: f64, grid_top: f64) {
        let span_s = self.end_ns.saturating_sub(self.start_ns) as f64 / 1e9;
        let step = numbers::nice_step(span_s, 12);
        let start_s = self.start_ns as f64 / 1e9;
        let mut tick = (start_s / step).ceil() * step;
        svg.line((self.from, y), (self.to, y), "stroke=\"#98a2b3\"", None);
        while tick <= start_s + span_s + step * 1e-9 {
            let x = self.at((tick * 1e9).round() as u64);
            svg.line((x, grid_top), (x, y), "stroke=\"#eef0f4\"", None);
            svg.line((x, y), (x, y + 4.0), "stroke=\"#98a2b3\"", None);
            let label = numbers::axis_seconds(tick, step);
            svg.text((x, y + 15.0), Anchor::Middle, "fill=\"#475467\"", &label);
            tick += step;
        }
        let middle = (self.from + self.to) / 2.0;
        svg.text(
            (middle, y + 30.0),
            Anchor::Middle,
            "fill=\"#475467\"",
            "true time (s)",
        );
    }
}

/// A coordinate with one decimal, without a trailing `.0`.
pub fn coordinate(value: f64) -> String {
    let tenths = (value * 10.0).round() as i64;
    if tenths % 10 == 0 {
        format!("{}", tenths / 10)
    } else {
        let sign = if tenths < 0 { "-" } else { "" };
        format!("{sign}{}.{}", tenths.abs() / 10, tenths.abs() % 10)
    }
}

/// Shortens `text` to at most `max` characters, marking the cut with `…`;
/// tooltips of huge messages would bloat a report.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_have_at_most_one_decimal() {
        assert_eq!(coordinate(12.0), "12");
        assert_eq!(coordinate(12.34), "12.3");
        assert_eq!(coordinate(-0.25), "-0.3");
        assert_eq!(coordinate(-3.0), "-3");
    }

    #[test]
    fn titles_are_escaped_children() {
        let mut svg = Svg::new("x", 10.0, 10.0, "a test");
        svg.rect(0.0, 0.0, 1.0, 1.0, "fill=\"red\"", Some("a < b"));
        let text = svg.finish();
        assert!(text.contains("<title>a &lt; b</title></rect>"));
    }

    #[test]
    fn shorten_marks_the_cut() {
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
    }
}
