//! `queues`: SYN and accept queue occupancy per listener with their capacities, and the rate
//! of SYN drops and SYN cookies, with attack windows shaded.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::series::{MAX_LISTENER_SERIES, Point};
use super::{
    Chart, DrawResult, FONT, LineItem, TimeUnit, Windows, line_legend, state_color, thick_line,
    time_panel, title,
};
use crate::report::Summary;
use crate::spec::Scenario;
use crate::tcp::TcpState;

/// Width reserved right of each panel for its legend.
const LEGEND_W: u32 = 250;

/// (SYN queue capacity, accept queue capacity) per listener.
pub(crate) fn capacities(summary: &Summary) -> Vec<(u64, u64)> {
    summary
        .listeners
        .iter()
        .map(|l| (l.syn_queue_capacity, l.accept_queue_capacity))
        .collect()
}

pub(crate) struct QueuesChart<'a> {
    pub scenario: &'a str,
    pub points: &'a [Point],
    pub listeners: &'a [String],
    pub capacities: &'a [(u64, u64)],
    pub windows: &'a Windows,
    pub duration_s: f64,
    /// Where the first listener's SYN queue settles after each attack, and why.
    pub settles: Vec<Settle>,
}

/// The level the first listener's SYN queue settles at after an attack window, written on
/// the chart where a reader asks why the queue did not empty.
#[derive(Clone, Debug)]
pub(crate) struct Settle {
    /// Seconds: the end of the attack and the end of the quiet stretch after it.
    pub from: f64,
    pub to: f64,
    pub level: u64,
    pub why: String,
    /// The same in a few words, for a panel too short for `why`.
    pub short: String,
}

/// The SYN-queue level after each attack window (the last sample before the next window or
/// the end), with the rule that explains it for the listener's stack.
pub(crate) fn settles(
    scn: &Scenario,
    summary: &Summary,
    points: &[Point],
    w: &Windows,
) -> Vec<Settle> {
    let (Some(l), Some(ls)) = (scn.listeners.first(), summary.listeners.first()) else {
        return Vec::new();
    };
    let cfg = &scn.hosts[l.host.0 as usize].stack;
    let mut out = Vec::new();
    for (k, &(_, stop)) in w.attacks.iter().enumerate() {
        let to = w
            .attacks
            .get(k + 1)
            .map_or(scn.duration.as_secs_f64(), |n| n.0);
        let Some(last) = points.iter().rev().find(|p| p.t >= stop && p.t <= to) else {
            continue;
        };
        let level = last.listeners.first().map_or(0, |q| q.syn_queue);
        if to - stop < 1.0 {
            continue;
        }
        let (_, expiry_ms) = cfg.synack_schedule_ms();
        let (why, short) = if level == 0 {
            // Nothing to explain: the queue empties once the attack stops.
            continue;
        } else if let Some(half) = pruning_floor(cfg.synack_pruning, ls.backlog, level) {
            let long = format!(
                "settles at {level}, {}half the backlog of {}: Linux shortens SYN-ACK retries only \
                 while the queue holds more than half its backlog (reqsk_timer_handler), so the \
                 last {level} entries keep all {} retries and live {:.0} s",
                if level == half { "" } else { "just under " },
                ls.backlog,
                cfg.synack_retries,
                expiry_ms as f64 / 1000.0
            );
            let short = format!(
                "settles at {level} = backlog/2 (reqsk_timer_handler prunes only above it)"
            );
            (long, short)
        } else {
            let long = format!(
                "stays at {level}: half-open entries left when the attack stopped live until \
                 their {} SYN-ACK retries run out ({:.0} s)",
                cfg.synack_retries,
                expiry_ms as f64 / 1000.0
            );
            let short = format!(
                "stays at {level} until {} SYN-ACK retries run out",
                cfg.synack_retries
            );
            (long, short)
        };
        out.push(Settle {
            from: stop,
            to,
            level,
            why,
            short,
        });
    }
    out
}

/// Half the backlog (at least 4) when `level` sits at or just under it: where Linux's SYN-ACK
/// pruning stops, since `reqsk_timer_handler` shortens retries only while
/// `qlen << 1 > max(backlog, 8)` (src/tcp/stack/timers.rs). Entries expire a tick's batch at a
/// time, so the level can end a little below the line (127 for a backlog of 256).
fn pruning_floor(pruning: bool, backlog: u64, level: u64) -> Option<u64> {
    let half = backlog.max(8) / 2;
    let slack = (half / 32).max(2);
    (pruning && level <= half && level + slack >= half).then_some(half)
}

/// (time in s, value) points of one line.
type Series = Vec<(f64, f64)>;

/// Colour of the drop rate line.
const DROPS: RGBColor = RGBColor(0, 0, 0);
/// Colour of the cookie rate line.
const COOKIES: RGBColor = RGBColor(23, 140, 160);
/// Colour of the eviction rate line.
const EVICTED: RGBColor = RGBColor(150, 80, 190);

/// Lighter shade for the second and later listeners.
fn shade(c: RGBColor, i: usize) -> RGBColor {
    if i == 0 {
        return c;
    }
    let f = 1.0 / (1.0 + i as f64);
    let mix = |v: u8| (v as f64 * f + 255.0 * (1.0 - f) * 0.6) as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

impl QueuesChart<'_> {
    /// The listeners drawn: the first [`MAX_LISTENER_SERIES`].
    fn drawn(&self) -> &[String] {
        &self.listeners[..self.listeners.len().min(MAX_LISTENER_SERIES)]
    }

    /// A legend line naming how many listeners are not drawn, if any.
    fn left_out(&self, items: &mut Vec<LineItem>) {
        let n = self.listeners.len() - self.drawn().len();
        if n > 0 {
            let s = if n == 1 { "" } else { "s" };
            items.push((
                format!("+ {n} more listener{s} not drawn"),
                RGBColor(150, 150, 150),
                false,
            ));
            items.push((
                "  (all are in timeline.csv)".into(),
                RGBColor(150, 150, 150),
                false,
            ));
        }
    }

    /// Per-second rates of listener `i`'s cumulative drops, cookies and evictions between
    /// points.
    fn rates(&self, i: usize) -> (Series, Series, Series) {
        let mut drops = Vec::new();
        let mut cookies = Vec::new();
        let mut evicted = Vec::new();
        for w in self.points.windows(2) {
            let dt = w[1].t - w[0].t;
            if dt <= 0.0 {
                continue;
            }
            let (a, b) = (&w[0].listeners[i], &w[1].listeners[i]);
            drops.push((w[1].t, b.drops.saturating_sub(a.drops) as f64 / dt));
            cookies.push((w[1].t, b.cookies.saturating_sub(a.cookies) as f64 / dt));
            evicted.push((w[1].t, b.evicted.saturating_sub(a.evicted) as f64 / dt));
        }
        (drops, cookies, evicted)
    }

    fn occupancy<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        unit: TimeUnit,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (plot, legend) = area.split_horizontally(area.dim_in_pixel().0 - LEGEND_W);
        let peak = self
            .points
            .iter()
            .flat_map(|p| p.listeners.iter().map(|l| l.syn_queue.max(l.accept_queue)))
            .max()
            .unwrap_or(0);
        let cap = self
            .capacities
            .iter()
            .take(MAX_LISTENER_SERIES)
            .map(|c| c.0.max(c.1))
            .max()
            .unwrap_or(0);
        let y_max = (peak.max(cap) as f64 * 1.1).max(4.0).ceil();
        let mut chart = time_panel(
            &plot,
            "queue occupancy (entries) and capacity",
            unit,
            self.duration_s,
            y_max,
            "entries",
            8,
            20,
        )?;
        self.windows.shade(&mut chart, unit)?;
        let mut items: Vec<LineItem> = Vec::new();
        for (i, name) in self.drawn().iter().enumerate() {
            let syn_c = shade(state_color(TcpState::SynReceived), i);
            let acc_c = shade(state_color(TcpState::Established), i);
            let (syn_cap, acc_cap) = self.capacities.get(i).copied().unwrap_or((0, 0));
            for (c, v) in [(acc_c, acc_cap), (syn_c, syn_cap)] {
                chart.draw_series(std::iter::once(DashedPathElement::new(
                    [
                        (0.0, v as f64),
                        (unit.of(self.duration_s).max(1e-9), v as f64),
                    ],
                    6,
                    4,
                    c.stroke_width(2),
                )))?;
            }
            let acc = self
                .points
                .iter()
                .map(|p| (unit.of(p.t), p.listeners[i].accept_queue as f64));
            chart.draw_series(thick_line(acc, acc_c.stroke_width(2)))?;
            let syn = self
                .points
                .iter()
                .map(|p| (unit.of(p.t), p.listeners[i].syn_queue as f64));
            chart.draw_series(thick_line(syn, syn_c.stroke_width(2)))?;
            if i == 0 {
                self.annotate(&mut chart, unit, y_max)?;
            }
            items.push((format!("{name} SYN queue"), syn_c, false));
            items.push((format!("  capacity {syn_cap}"), syn_c, true));
            items.push((format!("{name} accept queue"), acc_c, false));
            items.push((format!("  capacity {acc_cap}"), acc_c, true));
        }
        self.left_out(&mut items);
        if self.listeners.is_empty() {
            items.push((
                "no listener in this run".into(),
                RGBColor(150, 150, 150),
                false,
            ));
        }
        line_legend(&legend, (8, 40), &items)
    }

    /// The settle notes: a bracket over the quiet stretch at the level, and the reason above.
    fn annotate<DB: DrawingBackend>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
        unit: TimeUnit,
        y_max: f64,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        for st in &self.settles {
            let y = st.level as f64;
            let (a, b) = (unit.of(st.from), unit.of(st.to));
            chart.draw_series(std::iter::once(PathElement::new(
                [(a, y), (b, y)],
                BLACK.mix(0.6).stroke_width(1),
            )))?;
            // The reason wrapped to the quiet stretch's width.
            let font = (FONT, 12).into_font().color(&RGBColor(40, 40, 40));
            let (x0, x1) = (
                chart.backend_coord(&(a, y)).0,
                chart.backend_coord(&(b, y)).0,
            );
            let width = ((x1 - x0) as u32).max(160);
            let wrap = |text: &str| {
                let mut lines: Vec<String> = Vec::new();
                for word in text.split(' ') {
                    let grown = match lines.last() {
                        Some(l) => format!("{l} {word}"),
                        None => word.to_string(),
                    };
                    let fits = chart
                        .plotting_area()
                        .estimate_text_size(&grown, &font)
                        .map_or(true, |s| s.0 + 8 <= width);
                    match lines.last_mut() {
                        Some(l) if fits => *l = grown,
                        _ => lines.push(word.to_string()),
                    }
                }
                lines
            };
            // One text line in data units: the font's height over the panel's, so lines
            // never run into each other on a short chart.
            let panel_px = chart.plotting_area().dim_in_pixel().1.max(1) as f64;
            let step = y_max * 15.0 / panel_px;
            // Room below the level (the queue is above it just before) or else above it; the
            // short form when the whole reason fits in neither, cut to the room there is.
            let rows_below = ((y / step) - 0.5).floor().max(0.0) as usize;
            let rows_above = (((y_max - y) / step) - 0.5).floor().max(0.0) as usize;
            let mut lines = wrap(&st.why);
            if lines.len() > rows_below.max(rows_above) {
                lines = wrap(&st.short);
            }
            let above = lines.len() > rows_below && rows_above > rows_below;
            lines.truncate(if above { rows_above } else { rows_below });
            let n = lines.len() as f64;
            for (k, text) in lines.into_iter().enumerate() {
                let yy = if above {
                    y + step * (n - k as f64)
                } else {
                    y - step * (k as f64 + 1.0)
                };
                chart.draw_series(std::iter::once(Text::new(
                    text,
                    (a, yy),
                    font.clone().pos(Pos::new(HPos::Left, VPos::Center)),
                )))?;
            }
        }
        Ok(())
    }

    fn rates_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        unit: TimeUnit,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (plot, legend) = area.split_horizontally(area.dim_in_pixel().0 - LEGEND_W);
        let series: Vec<_> = (0..self.drawn().len()).map(|i| self.rates(i)).collect();
        let max = series
            .iter()
            .flat_map(|(d, c, e)| d.iter().chain(c).chain(e))
            .map(|p| p.1)
            .fold(0.0, f64::max);
        let y_max = (max * 1.1).max(4.0).ceil();
        let mut chart = time_panel(
            &plot,
            "SYNs dropped, SYN cookies sent and half-open entries evicted, per second",
            unit,
            self.duration_s,
            y_max,
            "per second",
            6,
            20,
        )?;
        self.windows.shade(&mut chart, unit)?;
        let mut items: Vec<LineItem> = Vec::new();
        for (i, (drops, cookies, evicted)) in series.iter().enumerate() {
            let name = &self.listeners[i];
            let (dc, cc) = (shade(DROPS, i), shade(COOKIES, i));
            // Evictions only where there are any (recycle-oldest, a SYN cache).
            if evicted.iter().any(|p| p.1 > 0.0) {
                let ec = shade(EVICTED, i);
                let pts: Vec<_> = evicted.iter().map(|&(t, r)| (unit.of(t), r)).collect();
                chart.draw_series(thick_line(pts, ec.stroke_width(2)))?;
                items.push((format!("{name} entries evicted/s"), ec, false));
            }
            let pts =
                |v: &Vec<(f64, f64)>| v.iter().map(|&(t, r)| (unit.of(t), r)).collect::<Vec<_>>();
            chart.draw_series(thick_line(pts(cookies), cc.stroke_width(2)))?;
            chart.draw_series(thick_line(pts(drops), dc.stroke_width(2)))?;
            items.push((format!("{name} SYNs dropped/s"), dc, false));
            items.push((format!("{name} cookies sent/s"), cc, false));
        }
        self.left_out(&mut items);
        if max == 0.0 {
            items.push(("(none in this run)".into(), RGBColor(150, 150, 150), false));
        }
        line_legend(&legend, (8, 40), &items)
    }
}

impl Chart for QueuesChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let used = title(
            root,
            &format!("{}: listen queues", self.scenario),
            Some(
                "SYN queue = half-open (SYN-RECEIVED) entries; accept queue = established, \
                 not yet accepted; dashed = capacity",
            ),
        )?;
        let shading = self.windows.legend();
        let body = if shading.is_empty() {
            root.margin(used as u32, 0, 0, 0)
        } else {
            super::swatch_legend(root, (80, used + 8), &shading)?;
            root.margin(used as u32 + 22, 0, 0, 0)
        };
        let (top, bottom) = body.split_vertically(body.dim_in_pixel().1 * 11 / 20);
        let unit = TimeUnit::for_max(self.duration_s);
        self.occupancy(&top, unit)?;
        self.rates_panel(&bottom, unit)
    }
}
