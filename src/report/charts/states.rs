//! `states`: live connections per TCP state over time, stacked, one panel per role.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::series::Point;
use super::{
    Chart, DrawResult, FONT, TimeUnit, Windows, state_color, swatch_legend, time_panel, title,
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
        let states = self.present(role);
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
        let (top, bottom) = body.split_vertically(body.dim_in_pixel().1 / 2);
        let unit = TimeUnit::for_max(self.duration_s);
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
