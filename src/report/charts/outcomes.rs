//! `outcomes`: every legitimate attempt as a point (start time, time to outcome), coloured and
//! shaped by outcome, and the CDF of connect latency.

use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::series::OutcomePoints;
use super::{
    Chart, DrawResult, FONT, TimeUnit, Windows, outcome_color, outcome_label, swatch_legend, tick,
    title,
};
use crate::report::histogram::Histogram;
use crate::sim::Outcome;

pub(crate) struct OutcomesChart<'a> {
    pub scenario: &'a str,
    pub points: &'a OutcomePoints,
    pub latency: &'a Histogram,
    pub windows: &'a Windows,
    pub duration_s: f64,
}

/// Draws the marker of outcome `o` (radius about `s` px) at `c`.
pub(crate) fn marker<DB, CT>(
    area: &DrawingArea<DB, CT>,
    c: CT::From,
    o: Outcome,
    s: i32,
) -> DrawResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    CT: CoordTranslate,
    CT::From: Clone,
{
    let col = outcome_color(o);
    match o {
        Outcome::Established => area.draw(&Circle::new(c, s, col.mix(0.75).filled()))?,
        Outcome::Refused => area.draw(&TriangleMarker::new(c, s + 2, col.filled()))?,
        Outcome::Unreachable => {
            area.draw(&(EmptyElement::at(c) + Rectangle::new([(-s, -s), (s, s)], col.filled())))?
        }
        Outcome::TimedOut => area.draw(&Cross::new(c, s, col.stroke_width(2)))?,
        Outcome::Reset => area.draw(
            &(EmptyElement::at(c)
                + Polygon::new(
                    vec![(0, -s - 2), (s + 2, 0), (0, s + 2), (-s - 2, 0)],
                    col.filled(),
                )),
        )?,
        Outcome::Aborted => area.draw(&Circle::new(c, s + 1, col.stroke_width(2)))?,
    }
    Ok(())
}

impl OutcomesChart<'_> {
    fn scatter<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let pts = &self.points.points;
        let max_took = pts.iter().map(|p| p.took_s).fold(0.0, f64::max);
        let yu = TimeUnit::for_max(max_took.max(0.001));
        let xu = TimeUnit::for_max(self.duration_s);
        let y_max = yu.of(max_took * 1.1).max(yu.of(0.001));
        let x_max = xu.of(self.duration_s).max(1e-9);
        let mut chart = ChartBuilder::on(area)
            .margin_right(25)
            .margin_left(10)
            .margin_top(40)
            .x_label_area_size(42)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE.mix(0.0))
            .x_desc(format!("attempt start, simulated time ({})", xu.name))
            .y_desc(format!("start to outcome, any outcome ({})", yu.name))
            .x_labels(8)
            .y_labels(8)
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 14))
            .draw()?;
        self.windows.shade(&mut chart, xu)?;
        // Failures last, so they stay visible over the (usually many) successes.
        for o in Outcome::ALL {
            for p in pts.iter().filter(|p| p.outcome == o) {
                marker(
                    chart.plotting_area(),
                    (xu.of(p.start_s), yu.of(p.took_s)),
                    o,
                    3,
                )?;
            }
        }
        if pts.is_empty() {
            let (w, h) = chart.plotting_area().dim_in_pixel();
            area.draw(&Text::new(
                "no attempt finished in this run",
                (w as i32 / 2 + 80, h as i32 / 2 + 40),
                (FONT, 16)
                    .into_font()
                    .color(&RGBColor(110, 110, 110))
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            ))?;
        }
        // Legend: the outcomes present, with their counts, on one line above the plot.
        let mut x = 85;
        let style = (FONT, 14)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        for o in Outcome::ALL {
            let n = self.points.counts[o as usize];
            if n == 0 {
                continue;
            }
            marker(area, (x, 16), o, 4)?;
            let label = format!("{} ({n})", outcome_label(o));
            area.draw(&Text::new(label.clone(), (x + 9, 16), style.clone()))?;
            x += 9 + area.estimate_text_size(&label, &style)?.0 as i32 + 18;
        }
        let x = swatch_legend(area, (x, 16), &self.windows.legend())?;
        if (pts.len() as u64) < self.points.total {
            area.draw(&Text::new(
                format!(
                    "({} of {} attempts shown: 1 in {}, over the whole run)",
                    pts.len(),
                    self.points.total,
                    self.points.stride
                ),
                (x, 16),
                style,
            ))?;
        }
        Ok(())
    }

    fn cdf<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let cdf = self.latency.cdf_ns(2000);
        let max_s = self.latency.max_ns().unwrap_or(1_000_000) as f64 / 1e9;
        let xu = TimeUnit::for_max(max_s);
        let x_max = xu.of(max_s * 1.08).max(xu.of(0.001));
        let mut chart = ChartBuilder::on(area)
            .caption("connect latency CDF (established only)", (FONT, 16))
            .margin_right(30)
            .margin_left(10)
            .margin_top(8)
            .x_label_area_size(42)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..x_max, 0.0..1.0)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE.mix(0.0))
            .x_desc(format!("first SYN to ESTABLISHED ({})", xu.name))
            .y_desc("fraction of attempts")
            .x_labels(5)
            .y_labels(6)
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 14))
            .draw()?;
        let Some(&(first, _)) = cdf.first() else {
            let (w, h) = chart.plotting_area().dim_in_pixel();
            area.draw(&Text::new(
                "no connection was established",
                (w as i32 / 2 + 60, h as i32 / 2 + 40),
                (FONT, 14)
                    .into_font()
                    .color(&RGBColor(110, 110, 110))
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            ))?;
            return Ok(());
        };
        let us = |v: u64| xu.of(v as f64 / 1e9);
        let mut steps = vec![(us(first), 0.0)];
        let mut prev = 0.0;
        for &(v, f) in &cdf {
            steps.push((us(v), prev));
            steps.push((us(v), f));
            prev = f;
        }
        steps.push((x_max, 1.0));
        let col = outcome_color(Outcome::Established);
        chart.draw_series(LineSeries::new(steps, col.stroke_width(3)))?;
        let q = |p: f64| {
            self.latency
                .quantile_ns(p)
                .map(|v| format!("{} {}", tick(us(v)), xu.name))
                .unwrap_or_default()
        };
        let lines = [
            format!("n = {}", self.latency.count()),
            format!("p50 = {}", q(0.5)),
            format!("p90 = {}", q(0.9)),
            format!("p99 = {}", q(0.99)),
        ];
        let (w, h) = chart.plotting_area().dim_in_pixel();
        let pa = chart.plotting_area().strip_coord_spec();
        let style = (FONT, 14)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Bottom));
        for (i, l) in lines.iter().rev().enumerate() {
            pa.draw(&Text::new(
                l.clone(),
                (w as i32 - 8, h as i32 - 8 - 17 * i as i32),
                style.clone(),
            ))?;
        }
        Ok(())
    }
}

impl Chart for OutcomesChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let used = title(
            root,
            &format!("{}: outcome of every connection attempt", self.scenario),
            Some(
                "one point per legitimate attempt: when it started (x), how long until it ended, established or not (y); right: only the established, first SYN to ESTABLISHED",
            ),
        )?;
        let body = root.margin(used as u32, 0, 0, 0);
        let (left, right) = body.split_horizontally(body.dim_in_pixel().0 * 63 / 100);
        self.scatter(&left)?;
        self.cdf(&right)
    }
}
