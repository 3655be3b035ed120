//! What every plot over true time draws under its data: the times when a
//! fault was in force, shaded, and the liveness phase and the violation as
//! vertical lines, with their legend entries. The latency plots and the
//! design's own plots share it, so a reader lines them up by eye.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::palette;
use crate::plot::{DrawResult, Mark, colour};

/// A chart with true time (s) across and any `Y` up.
pub type TimeChart<'a, 'b, Y> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, Y>>;

/// When faults were in force, and the run's two landmarks.
#[derive(Clone, Copy, Debug)]
pub struct Backdrop<'a> {
    /// When any fault was in force, as disjoint `(start, end)` spans in ns.
    pub fault_spans: &'a [(u64, u64)],
    pub liveness_ns: Option<u64>,
    pub violation_ns: Option<u64>,
}

impl Backdrop<'_> {
    /// Fault shading from `y.0` to `y.1`, then the landmark lines.
    pub fn draw<Y>(&self, chart: &mut TimeChart<'_, '_, Y>, y: (f64, f64)) -> DrawResult
    where
        Y: Ranged<ValueType = f64>,
    {
        let shade = colour(palette::FAULT_SHADE).mix(0.22).filled();
        let spans = self.fault_spans.iter().map(|(start, end)| {
            Rectangle::new(
                [(*start as f64 / 1e9, y.0), (*end as f64 / 1e9, y.1)],
                shade,
            )
        });
        chart.draw_series(spans)?;
        for (at, hex) in [
            (self.liveness_ns, palette::LIVENESS),
            (self.violation_ns, palette::VIOLATION),
        ] {
            let Some(at) = at else { continue };
            let style = colour(hex).stroke_width(2);
            let x = at as f64 / 1e9;
            chart.draw_series(LineSeries::new([(x, y.0), (x, y.1)], style))?;
        }
        Ok(())
    }

    /// Legend entries for what was drawn (nothing for what was not).
    pub fn legend_entries(&self) -> Vec<(&'static str, Mark)> {
        let mut entries = Vec::new();
        if !self.fault_spans.is_empty() {
            entries.push((
                "a fault in force",
                Mark::Square(colour(palette::FAULT_SHADE), 0.35),
            ));
        }
        if self.liveness_ns.is_some() {
            entries.push(("liveness phase", Mark::Line(colour(palette::LIVENESS))));
        }
        if self.violation_ns.is_some() {
            entries.push(("violation", Mark::Line(colour(palette::VIOLATION))));
        }
        entries
    }
}
