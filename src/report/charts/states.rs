//! `states`: live connections per TCP state over time, stacked, one panel per role, each band
//! named inside it where it is thick enough; TIME-WAIT (which outnumbers everything else once
//! clients close connections for a while) in a panel of its own between them, as lines.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::series::Point;
use super::{
    Chart, DrawResult, FONT, TimeUnit, Windows, state_color, swatch_legend, thick_line, time_panel,
    title,
};
use crate::report::timeline::shown_states;
use crate::tcp::{Role, TcpState};

pub(crate) struct StatesChart<'a> {
    pub scenario: &'a str,
    pub points: &'a [Point],
    pub windows: &'a Windows,
    pub duration_s: f64,
}

impl StatesChart<'_> {
    /// States with a non-zero count somewhere for `role`.
    fn present(&self, role: Role) -> Vec<TcpState> {
        shown_states()
            .filter(|s| {
                self.points
                    .iter()
                    .any(|p| p.counts[role as usize][s.index()] > 0)
            })
            .collect()
    }

    /// The states stacked in `role`'s panel: all but TIME-WAIT.
    fn stacked(&self, role: Role) -> Vec<TcpState> {
        let mut v = self.present(role);
        v.retain(|&s| s != TcpState::TimeWait);
        v
    }

    /// TIME-WAIT per role as lines (clients solid, servers dashed), its own panel.
    fn time_wait<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        unit: TimeUnit,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let tw = TcpState::TimeWait.index();
        let max = self
            .points
            .iter()
            .map(|p| p.counts[0][tw].max(p.counts[1][tw]))
            .max()
            .unwrap_or(0);
        let y_max = (max as f64 * 1.15).max(4.0).ceil();
        let mut chart = time_panel(
            area,
            "TIME-WAIT (closed, the port held for 2 MSL; not stacked above)",
            unit,
            self.duration_s,
            y_max,
            "conns",
            3,
            30,
        )?;
        self.windows.shade_with(&mut chart, unit, false)?;
        let color = state_color(TcpState::TimeWait);
        for role in [Role::Client, Role::Server] {
            let r = role as usize;
            if !self.points.iter().any(|p| p.counts[r][tw] > 0) {
                continue;
            }
            let pts: Vec<(f64, f64)> = self
                .points
                .iter()
                .map(|p| (unit.of(p.t), p.counts[r][tw] as f64))
                .collect();
            let label = format!("{}s", role.name());
            match role {
                Role::Client => {
                    chart.draw_series(thick_line(pts.clone(), color.stroke_width(2)))?;
                }
                Role::Server => {
                    chart.draw_series(std::iter::once(DashedPathElement::new(
                        pts.clone(),
                        6,
                        4,
                        color.stroke_width(2),
                    )))?;
                }
            }
            // Named at its highest point, as a second cue beside the line style.
            if let Some(&(x, y)) = pts.iter().max_by(|a, b| a.1.total_cmp(&b.1)) {
                chart.draw_series(std::iter::once(Text::new(
                    label,
                    (x, y),
                    (FONT, 12)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Right, VPos::Bottom)),
                )))?;
            }
        }
        Ok(())
    }

    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        role: Role,
        caption: &str,
        unit: TimeUnit,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let states = self.stacked(role);
        let r = role as usize;
        let total = |p: &Point| states.iter().map(|s| p.counts[r][s.index()]).sum::<u64>();
        let max = self.points.iter().map(total).max().unwrap_or(0);
        let y_max = (max as f64 * 1.12).max(4.0).ceil();
        let y_labels = if y_max <= 10.0 { y_max as usize + 1 } else { 6 };
        let mut chart = time_panel(
            area,
            caption,
            unit,
            self.duration_s,
            y_max,
            "connections",
            y_labels,
            30,
        )?;
        self.windows
            .shade_with(&mut chart, unit, role == Role::Server)?;
        if states.is_empty() {
            let mid = chart.plotting_area().dim_in_pixel();
            chart.plotting_area().strip_coord_spec().draw(&Text::new(
                format!("no {} connections in this run", role.name()),
                (mid.0 as i32 / 2 - 110, mid.1 as i32 / 2),
                (FONT, 16).into_font().color(&RGBColor(110, 110, 110)),
            ))?;
            return Ok(());
        }
        // No stacked series in plotters: draw cumulative areas from the top layer down.
        for top in (0..states.len()).rev() {
            let color = state_color(states[top]);
            let series = self.points.iter().map(|p| {
                let cum: u64 = states[..=top].iter().map(|s| p.counts[r][s.index()]).sum();
                (unit.of(p.t), cum as f64)
            });
            chart.draw_series(AreaSeries::new(series, 0.0, color.filled()))?;
        }
        self.band_names(&mut chart, role, &states, unit)
    }

    /// Each band's state name inside it, centred on the longest stretch where the band is
    /// tall enough for the text and wide enough to hold it, never over another name: the
    /// bands are told apart by name, not by colour alone.
    fn band_names<DB: DrawingBackend>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
        role: Role,
        states: &[TcpState],
        unit: TimeUnit,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let r = role as usize;
        let px = |t: f64, y: f64| chart.backend_coord(&(unit.of(t), y));
        let font = (FONT, 12).into_font().color(&BLACK);
        let mut placed: Vec<[i32; 4]> = Vec::new();
        let mut names = Vec::new();
        for (i, &st) in states.iter().enumerate() {
            let text = st.name();
            let tw = chart
                .plotting_area()
                .estimate_text_size(text, &font)
                .map_or(80, |s| s.0 as i32)
                + 8;
            // Pixel height of the band at each point, and the longest stretch >= 16 px.
            let tall = |p: &Point| {
                let below: u64 = states[..i].iter().map(|s| p.counts[r][s.index()]).sum();
                let n = p.counts[r][st.index()];
                (px(p.t, below as f64).1 - px(p.t, (below + n) as f64).1) >= 16
            };
            let (mut best, mut run_start) = (None::<(usize, usize)>, None);
            for (k, p) in self.points.iter().enumerate() {
                match (tall(p), run_start) {
                    (true, None) => run_start = Some(k),
                    (false, Some(a)) => {
                        if best.is_none_or(|(b0, b1)| k - 1 - a > b1 - b0) {
                            best = Some((a, k - 1));
                        }
                        run_start = None;
                    }
                    _ => {}
                }
            }
            if let Some(a) = run_start {
                let k = self.points.len() - 1;
                if best.is_none_or(|(b0, b1)| k - a > b1 - b0) {
                    best = Some((a, k));
                }
            }
            let Some((a, b)) = best else { continue };
            let (x0, x1) = (px(self.points[a].t, 0.0).0, px(self.points[b].t, 0.0).0);
            if x1 - x0 < tw {
                continue;
            }
            let p = &self.points[(a + b) / 2];
            let below: u64 = states[..i].iter().map(|s| p.counts[r][s.index()]).sum();
            let mid = below as f64 + p.counts[r][st.index()] as f64 / 2.0;
            let (cx, cy) = px(p.t, mid);
            let bx = [cx - tw / 2, cy - 8, cx + tw / 2, cy + 8];
            if placed
                .iter()
                .any(|q| !(bx[2] <= q[0] || q[2] <= bx[0] || bx[3] <= q[1] || q[3] <= bx[1]))
            {
                continue;
            }
            placed.push(bx);
            names.push((text, (unit.of(p.t), mid), state_color(st)));
        }
        for (text, at, fill) in names {
            let light =
                0.299 * fill.0 as f64 + 0.587 * fill.1 as f64 + 0.114 * fill.2 as f64 > 150.0;
            let color = if light { BLACK } else { WHITE };
            chart.draw_series(std::iter::once(Text::new(
                text.to_string(),
                at,
                (FONT, 12)
                    .into_font()
                    .color(&color)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            )))?;
        }
        Ok(())
    }
}

impl Chart for StatesChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let used = title(
            root,
            &format!("{}: connections per TCP state", self.scenario),
            Some("stacked: the height of each band is the number of connections in that state"),
        )?;
        let mut present = self.present(Role::Client);
        for s in self.present(Role::Server) {
            if !present.contains(&s) {
                present.push(s);
            }
        }
        present.sort();
        let mut legend: Vec<(String, RGBColor)> = present
            .iter()
            .map(|s| (s.name().to_string(), state_color(*s)))
            .collect();
        legend.extend(self.windows.legend());
        swatch_legend(root, (80, used + 8), &legend)?;
        let body = root.margin(used as u32 + 22, 0, 0, 0);
        let unit = TimeUnit::for_max(self.duration_s);
        let tw = TcpState::TimeWait.index();
        let (top, bottom) = if self
            .points
            .iter()
            .any(|p| p.counts[0][tw] + p.counts[1][tw] > 0)
        {
            let h = body.dim_in_pixel().1;
            let (top, rest) = body.split_vertically(h * 2 / 5);
            let (mid, bottom) = rest.split_vertically(h / 5);
            self.time_wait(&mid, unit)?;
            (top, bottom)
        } else {
            body.split_vertically(body.dim_in_pixel().1 / 2)
        };
        self.panel(
            &top,
            Role::Client,
            "clients (connections opened by clients)",
            unit,
        )?;
        self.panel(
            &bottom,
            Role::Server,
            "servers (half-open entries, attackers' included, and accepted connections)",
            unit,
        )?;
        Ok(())
    }
}
