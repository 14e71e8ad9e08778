//! The charts of `simulate --compare A B`: each run in its own panel, side by side, on the
//! same axes (time up to the longer run, one y scale for both), so the difference a knob made
//! is read off at a glance.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::outcomes::marker;
use super::{Chart, DrawResult, FONT, TimeUnit, state_color, thick_line, tick, time_panel, title};
use crate::sim::Outcome;
use crate::tcp::TcpState;

/// What the comparison draws of one run.
#[derive(Clone, Debug, Default)]
pub struct RunSeries {
    /// The panel's heading (`A: syn_flood`).
    pub label: String,
    /// (seconds, entries) of the first listener's SYN and accept queues.
    pub syn: Vec<(f64, f64)>,
    pub accept: Vec<(f64, f64)>,
    /// (SYN queue, accept queue) capacity of the first listener.
    pub capacity: Option<(u64, u64)>,
    /// (start s, time to outcome s, outcome) per attempt drawn.
    pub attempts: Vec<(f64, f64, Outcome)>,
    pub duration_s: f64,
}

/// The first listener's queues of both runs.
pub(crate) struct QueuesCompare<'a> {
    pub runs: [&'a RunSeries; 2],
}

/// Every attempt's outcome of both runs.
pub(crate) struct OutcomesCompare<'a> {
    pub runs: [&'a RunSeries; 2],
}

fn duration(runs: &[&RunSeries; 2]) -> f64 {
    runs.iter().map(|r| r.duration_s).fold(0.001, f64::max)
}

fn heading<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, text: &str) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let w = area.dim_in_pixel().0 as i32;
    area.draw(&Text::new(
        text.to_string(),
        (w / 2, 2),
        (FONT, 16, FontStyle::Bold)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    Ok(())
}

impl Chart for QueuesCompare<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let used = title(
            root,
            "SYN queue and accept queue of the first listener, A and B on the same axes",
            Some("solid: occupancy; dashed: capacity; vermillion: SYN queue, blue: accept queue"),
        )?;
        let body = root.margin(used as u32 + 4, 0, 0, 0);
        let dur = duration(&self.runs);
        let unit = TimeUnit::for_max(dur);
        let peak = self
            .runs
            .iter()
            .flat_map(|r| {
                let cap = r.capacity.map_or(0.0, |c| c.0.max(c.1) as f64);
                r.syn.iter().chain(&r.accept).map(|p| p.1).chain([cap])
            })
            .fold(0.0, f64::max);
        let y_max = (peak * 1.1).max(4.0).ceil();
        let (syn_c, acc_c) = (
            state_color(TcpState::SynReceived),
            state_color(TcpState::Established),
        );
        for (area, run) in body.split_evenly((1, 2)).iter().zip(self.runs) {
            heading(area, &run.label)?;
            let area = area.margin(24, 0, 0, 0);
            let mut chart = time_panel(&area, "", unit, dur, y_max, "entries", 8, 20)?;
            if let Some((sc, ac)) = run.capacity {
                for (c, v) in [(acc_c, ac), (syn_c, sc)] {
                    chart.draw_series(std::iter::once(DashedPathElement::new(
                        [(0.0, v as f64), (unit.of(dur), v as f64)],
                        6,
                        4,
                        c.stroke_width(2),
                    )))?;
                }
            }
            let pts =
                |v: &[(f64, f64)]| v.iter().map(|&(t, y)| (unit.of(t), y)).collect::<Vec<_>>();
            chart.draw_series(thick_line(pts(&run.accept), acc_c.stroke_width(2)))?;
            chart.draw_series(thick_line(pts(&run.syn), syn_c.stroke_width(2)))?;
        }
        Ok(())
    }
}

impl Chart for OutcomesCompare<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let used = title(
            root,
            "Outcome of every attempt, A and B on the same axes",
            Some(
                "x: when the attempt started; y: how long until it ended, any outcome \
                 (circle: established, cross: timed out, triangle: refused, diamond: reset)",
            ),
        )?;
        let body = root.margin(used as u32 + 4, 0, 0, 0);
        let dur = duration(&self.runs);
        let xu = TimeUnit::for_max(dur);
        let took = self
            .runs
            .iter()
            .flat_map(|r| r.attempts.iter().map(|a| a.1))
            .fold(0.001, f64::max);
        let yu = TimeUnit::for_max(took);
        let (x_max, y_max) = (xu.of(dur), yu.of(took * 1.1));
        for (area, run) in body.split_evenly((1, 2)).iter().zip(self.runs) {
            heading(area, &run.label)?;
            let area = area.margin(24, 0, 0, 0);
            let mut chart = ChartBuilder::on(&area)
                .margin_right(20)
                .margin_left(8)
                .x_label_area_size(42)
                .y_label_area_size(64)
                .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
            chart
                .configure_mesh()
                .light_line_style(WHITE.mix(0.0))
                .x_desc(format!("attempt start ({})", xu.name))
                .y_desc(format!("start to outcome ({})", yu.name))
                .x_labels(6)
                .y_labels(6)
                .x_label_formatter(&|v| tick(*v))
                .y_label_formatter(&|v| tick(*v))
                .label_style((FONT, 14))
                .axis_desc_style((FONT, 14))
                .draw()?;
            for o in Outcome::ALL {
                for a in run.attempts.iter().filter(|a| a.2 == o) {
                    marker(chart.plotting_area(), (xu.of(a.0), yu.of(a.1)), o, 3)?;
                }
            }
        }
        Ok(())
    }
}
