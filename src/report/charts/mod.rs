//! Charts and the HTML report.
//!
//! [`ChartCollector`] is an [`Observer`] that keeps a bounded copy of what the charts need while
//! the simulation runs: a downsampled timeline ([`series::SampleBuffer`]), the first outcome
//! points ([`series::OutcomePoints`]) and the segments of the first few connections
//! ([`ladder::LadderRecorder`]). Its memory, and so the drawing cost, does not grow with the
//! simulated duration.
//!
//! [`write_charts`] then draws `states`, `queues`, `outcomes` and `ladder`, each as SVG and PNG,
//! and `index.html`, a self-contained page with the key numbers and every chart inline.
//!
//! Text is drawn with DejaVu Sans embedded through the `dejavu` crate (no system font library;
//! its license is in `LICENSES/DejaVu-fonts.txt`). Every TCP state and every outcome has one
//! fixed colour ([`state_color`], [`outcome_color`]) used the same way in every chart.

pub mod compare;
pub mod html;
pub mod ladder;
mod ladder_draw;
mod ladder_layout;
mod outcomes;
mod queues;
pub mod series;
mod states;

use std::error::Error;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::output::OutputDir;
use super::{Recorder, RunError, Summary};
use crate::net::{HostId, Network};
use crate::sim::Outcome;
use crate::sim::{ConnRef, Fate, Observer, OutcomeRecord, Sample};
use crate::spec::Scenario;
use crate::tcp::{Reason, TcpState};
use crate::time::SimTime;
use crate::wire::Packet;

/// Result of drawing on any plotters backend.
pub(crate) type DrawResult = Result<(), Box<dyn Error>>;

/// Font family every chart uses (registered from the embedded DejaVu Sans).
///
/// Every text size in the charts is an even number of pixels: plotters' ab_glyph renderer
/// places each glyph at `size / 2 + top` truncated toward zero, so at an odd size a glyph
/// rising above the baseline and one sitting on it round in opposite directions, and periods
/// showed a pixel above the digits ("32·5 ms"). `tests/charts.rs` checks the sizes.
pub(crate) const FONT: &str = "sans-serif";

/// Registers DejaVu Sans (regular and bold) as [`FONT`], once per process.
fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Both calls only fail on a malformed font file, which the dejavu crate does not ship.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// The colour of a TCP state, the same in every chart.
pub fn state_color(s: TcpState) -> RGBColor {
    // Okabe and Ito's colour-blind-safe set where it matters: SYN-RECEIVED (vermillion) and
    // ESTABLISHED (blue) stay far apart under deuteranopia and protanopia (tests/colours.rs
    // checks the distances under simulated colour vision); every chart also names its
    // states and outcomes in text or by shape, so colour is never the only cue.
    match s {
        TcpState::Closed => RGBColor(60, 60, 60),
        TcpState::Listen => RGBColor(170, 170, 170),
        TcpState::SynSent => RGBColor(230, 159, 0),
        TcpState::SynReceived => RGBColor(213, 94, 0),
        TcpState::Established => RGBColor(0, 114, 178),
        TcpState::FinWait1 => RGBColor(86, 180, 233),
        TcpState::FinWait2 => RGBColor(0, 158, 115),
        TcpState::CloseWait => RGBColor(204, 121, 167),
        TcpState::Closing => RGBColor(240, 228, 66),
        TcpState::LastAck => RGBColor(140, 86, 75),
        TcpState::TimeWait => RGBColor(90, 60, 110),
    }
}

/// The colour of an outcome, the same in every chart (established matches ESTABLISHED).
pub fn outcome_color(o: Outcome) -> RGBColor {
    match o {
        Outcome::Established => state_color(TcpState::Established),
        Outcome::Refused => RGBColor(204, 121, 167),
        Outcome::Unreachable => RGBColor(140, 86, 75),
        Outcome::TimedOut => RGBColor(213, 94, 0),
        Outcome::Reset => RGBColor(230, 159, 0),
        Outcome::Aborted => RGBColor(200, 200, 200),
    }
}

/// Human label of an outcome.
pub fn outcome_label(o: Outcome) -> &'static str {
    match o {
        Outcome::Established => "established",
        Outcome::Refused => "refused",
        Outcome::Unreachable => "unreachable",
        Outcome::TimedOut => "timed out",
        Outcome::Reset => "reset",
        Outcome::Aborted => "aborted",
    }
}

/// Fill of attack windows.
pub(crate) const ATTACK_FILL: RGBColor = RGBColor(255, 214, 214);
/// Fill of windows where a host is down.
pub(crate) const DOWN_FILL: RGBColor = RGBColor(225, 225, 225);

/// A time axis unit chosen so tick labels stay short: ms below 2 s, else s.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct TimeUnit {
    /// Seconds per unit.
    pub per_s: f64,
    pub name: &'static str,
}

impl TimeUnit {
    /// The unit for values up to `max_s` seconds.
    pub fn for_max(max_s: f64) -> TimeUnit {
        if max_s < 2.0 {
            TimeUnit {
                per_s: 1000.0,
                name: "ms",
            }
        } else {
            TimeUnit {
                per_s: 1.0,
                name: "s",
            }
        }
    }
    pub fn of(self, secs: f64) -> f64 {
        secs * self.per_s
    }
}

/// Formats a tick value without trailing zeros ("0.5", "20", "1 200" stays "1200").
/// A panel plotting something against simulated time: the caption, axes, labels and fonts
/// every time-series chart shares. `y_labels` ticks on a `0..y_max` axis described `y_desc`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn time_panel<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: &str,
    unit: TimeUnit,
    duration_s: f64,
    y_max: f64,
    y_desc: &str,
    y_labels: usize,
    margin_right: u32,
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, Box<dyn Error>>
where
    DB::ErrorType: 'static,
{
    let x_max = unit.of(duration_s).max(1e-9);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 16))
        .margin_right(margin_right)
        .margin_left(10)
        .x_label_area_size(42)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE.mix(0.0))
        .x_desc(format!("simulated time ({})", unit.name))
        .y_desc(y_desc)
        .x_labels(10)
        .y_labels(y_labels)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 14))
        .draw()?;
    Ok(chart)
}

pub(crate) fn tick(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    let s = if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A thick polyline as pieces split wherever it turns back vertically. The bitmap backend
/// joins thick segments with unbounded miters, so a one-sample dip in a queue line drew a
/// spike far beyond the data in the PNG (the SVG viewer's joins are right; the pieces look
/// the same there).
pub(crate) fn thick_line(
    points: impl IntoIterator<Item = (f64, f64)>,
    style: ShapeStyle,
) -> Vec<PathElement<(f64, f64)>> {
    let mut pieces = Vec::new();
    let mut cur: Vec<(f64, f64)> = Vec::new();
    for p in points {
        if let [.., a, b] = cur[..] {
            if (b.1 - a.1) * (p.1 - b.1) < 0.0 {
                pieces.push(PathElement::new(
                    std::mem::replace(&mut cur, vec![b]),
                    style,
                ));
            }
        }
        cur.push(p);
    }
    if cur.len() > 1 {
        pieces.push(PathElement::new(cur, style));
    }
    pieces
}

/// Time windows shaded in the time-based charts.
#[derive(Clone, Debug, Default)]
pub(crate) struct Windows {
    /// Attack windows in seconds.
    pub attacks: Vec<(f64, f64)>,
    /// Windows during which a host with a listener is down, in seconds.
    pub down: Vec<(f64, f64)>,
}

impl Windows {
    fn of(scn: &Scenario) -> Windows {
        use crate::spec::Arrivals;
        let end = scn.duration.as_secs_f64();
        let mut attacks: Vec<(f64, f64)> = scn
            .attackers
            .iter()
            .filter_map(|a| match &a.arrivals {
                Arrivals::Constant { start, stop, .. } | Arrivals::Poisson { start, stop, .. } => {
                    Some((start.as_secs_f64(), stop.as_secs_f64().min(end)))
                }
                Arrivals::Times(t) => {
                    Some((t.first()?.as_secs_f64(), t.last()?.as_secs_f64().min(end)))
                }
            })
            .filter(|(a, b)| b > a)
            .collect();
        attacks.sort_by(|a, b| a.partial_cmp(b).expect("finite times"));
        let mut down = Vec::new();
        for (i, h) in scn.hosts.iter().enumerate() {
            if !scn.listeners.iter().any(|l| l.host == HostId(i as u32)) {
                continue;
            }
            if !h.alive {
                down.push((0.0, end));
            }
            for (at, restart) in &h.crashes {
                let b = restart.map_or(end, |r| r.as_secs_f64().min(end));
                down.push((at.as_secs_f64(), b));
            }
        }
        Windows { attacks, down }
    }

    /// Shades the windows on a chart whose x axis is time in `unit`.
    pub fn shade<DB: DrawingBackend>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
        unit: TimeUnit,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        self.shade_with(chart, unit, true)
    }

    /// [`Windows::shade`], the server outages only if `down` (a panel of client connections
    /// is not where a server's outage happens).
    pub fn shade_with<DB: DrawingBackend>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
        unit: TimeUnit,
        down: bool,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (_, y) = (chart.x_range(), chart.y_range());
        let none = Vec::new();
        let outages = if down { &self.down } else { &none };
        for (set, fill) in [(outages, DOWN_FILL), (&self.attacks, ATTACK_FILL)] {
            for &(a, b) in set {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(unit.of(a), y.start), (unit.of(b), y.end)],
                    fill.filled(),
                )))?;
            }
        }
        Ok(())
    }

    /// Legend entries for the shading present.
    pub fn legend(&self) -> Vec<(String, RGBColor)> {
        let mut v = Vec::new();
        if !self.attacks.is_empty() {
            v.push(("attack window".to_string(), ATTACK_FILL));
        }
        if !self.down.is_empty() {
            v.push(("server down".to_string(), DOWN_FILL));
        }
        v
    }
}

/// Draws a one-line legend of filled swatches starting at `(x, y)`; returns the x reached.
pub(crate) fn swatch_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (mut x, y): (i32, i32),
    items: &[(String, RGBColor)],
) -> Result<i32, Box<dyn Error>>
where
    DB::ErrorType: 'static,
{
    let style = (FONT, 14).into_font().color(&BLACK);
    for (label, color) in items {
        area.draw(&Rectangle::new(
            [(x, y - 6), (x + 14, y + 6)],
            color.filled(),
        ))?;
        area.draw(&Rectangle::new(
            [(x, y - 6), (x + 14, y + 6)],
            BLACK.mix(0.4),
        ))?;
        let w = area.estimate_text_size(label, &style)?.0 as i32;
        area.draw(&Text::new(
            label.clone(),
            (x + 19, y),
            style.pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Left,
                plotters::style::text_anchor::VPos::Center,
            )),
        ))?;
        x += 19 + w + 18;
    }
    Ok(x)
}

/// One entry of a line legend: label, colour, dashed.
pub(crate) type LineItem = (String, RGBColor, bool);

/// Draws a vertical legend of line samples starting at `(x, y)`.
pub(crate) fn line_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, mut y): (i32, i32),
    items: &[LineItem],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let style = (FONT, 14)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (label, color, dashed) in items {
        let pts = [(x, y), (x + 26, y)];
        if *dashed {
            area.draw(&DashedPathElement::new(pts, 5, 3, color.stroke_width(2)))?;
        } else {
            area.draw(&PathElement::new(pts, color.stroke_width(3)))?;
        }
        area.draw(&Text::new(label.clone(), (x + 32, y), style.clone()))?;
        y += 20;
    }
    Ok(())
}

/// Draws a chart title (bold, centred) and an optional grey subtitle below it; returns the
/// height used.
pub(crate) fn title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    subtitle: Option<&str>,
) -> Result<i32, Box<dyn Error>>
where
    DB::ErrorType: 'static,
{
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let w = area.dim_in_pixel().0 as i32;
    let style = (FONT, 22, FontStyle::Bold)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    area.draw(&Text::new(text.to_string(), (w / 2, 10), style))?;
    if let Some(s) = subtitle {
        let style = (FONT, 14)
            .into_font()
            .color(&RGBColor(90, 90, 90))
            .pos(Pos::new(HPos::Center, VPos::Top));
        area.draw(&Text::new(s.to_string(), (w / 2, 38), style))?;
        return Ok(60);
    }
    Ok(40)
}

/// Longest scenario name a chart title shows, in characters: a longer one is cut and ends
/// with an ellipsis (the page shows it whole), so drawing time does not grow with it.
pub const TITLE_NAME_CHARS: usize = 80;

/// `name` as chart titles show it (see [`TITLE_NAME_CHARS`]).
pub(crate) fn title_name(name: &str) -> String {
    match name.char_indices().nth(TITLE_NAME_CHARS) {
        None => name.to_string(),
        Some((i, _)) => format!("{}\u{2026}", &name[..i]),
    }
}

/// Something that can be drawn on any backend (so the same code makes the SVG and the PNG).
pub(crate) trait Chart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// Renders `chart` as SVG text and PNG bytes of `w` x `h` pixels.
pub(crate) fn render<C: Chart>(chart: &C, w: u32, h: u32) -> Result<(String, Vec<u8>), String> {
    register_fonts();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        chart.draw(&root).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        chart.draw(&root).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok((svg, encode_png(&rgb, w, h)?))
}

/// Encodes 8-bit RGB pixels as a PNG (no timestamps or other varying chunks).
fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut wr = enc.write_header().map_err(|e| e.to_string())?;
    wr.write_image_data(rgb).map_err(|e| e.to_string())?;
    wr.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

/// Collects, with bounded memory, what the charts need while the simulation runs.
pub struct ChartCollector {
    pub timeline: series::SampleBuffer,
    pub outcomes: series::OutcomePoints,
    pub ladder: ladder::LadderRecorder,
}

impl ChartCollector {
    pub fn new(scn: &Scenario) -> Self {
        ChartCollector {
            timeline: series::SampleBuffer::new(series::TIMELINE_POINTS),
            outcomes: series::OutcomePoints::new(series::OUTCOME_POINTS),
            ladder: ladder::LadderRecorder::new(
                scn.charts.ladder.clone(),
                scn.charts.ladder_connections as usize,
                scn.charts.ladder_max_segments as usize,
            ),
        }
    }
}

impl Observer for ChartCollector {
    fn packet(&mut self, t: SimTime, fate: Fate, pkt: &Packet, net: &Network) {
        self.ladder.packet(t, fate, pkt, net);
    }
    fn state(&mut self, t: SimTime, conn: &ConnRef, from: TcpState, to: TcpState, _why: Reason) {
        self.ladder.state(t, conn, from, to);
    }
    fn outcome(&mut self, _t: SimTime, o: &OutcomeRecord) {
        self.outcomes.push(o);
        self.ladder.outcome(o);
    }
    fn sample(&mut self, t: SimTime, s: &Sample) {
        self.timeline.push(t, s);
    }
    fn host(&mut self, t: SimTime, host: HostId, up: bool) {
        self.ladder.host(t, host, up);
    }
}

/// Draws every chart (SVG and PNG) and `index.html` into `dir`.
pub fn write_charts(
    scn: &Scenario,
    summary: &Summary,
    rec: &Recorder,
    col: &ChartCollector,
    dir: &mut OutputDir,
) -> Result<(), RunError> {
    let (w, h) = (scn.charts.width_px, scn.charts.height_px);
    let name = title_name(&scn.name);
    let windows = Windows::of(scn);
    let points = col.timeline.points();
    let labels = super::listener_labels(scn);
    let states = states::StatesChart {
        scenario: &name,
        points: &points,
        windows: &windows,
        duration_s: scn.duration.as_secs_f64(),
    };
    let queues = queues::QueuesChart {
        scenario: &name,
        points: &points,
        listeners: &labels,
        capacities: &queues::capacities(summary),
        windows: &windows,
        duration_s: scn.duration.as_secs_f64(),
        settles: queues::settles(scn, summary, &points, &windows),
    };
    let outcomes = outcomes::OutcomesChart {
        scenario: &name,
        points: &col.outcomes,
        latency: rec.connect_latency(),
        windows: &windows,
        duration_s: scn.duration.as_secs_f64(),
    };
    let ladder = ladder_draw::LadderChart::new(scn, &name, &col.ladder);
    // The four charts are independent, so they are drawn on rayon's pool (two at a time on two
    // cores; inside a sweep, on the sweep's own pool). Each is drawn exactly as alone, and the
    // files are written afterwards in a fixed order, so the bytes do not depend on threads.
    let ((s, q), (o, l)) = rayon::join(
        || rayon::join(|| render(&states, w, h), || render(&queues, w, h)),
        || rayon::join(|| render(&outcomes, w, h), || render(&ladder, w, h)),
    );
    let mut svgs = Vec::new();
    for (name, r) in [("states", s), ("queues", q), ("outcomes", o), ("ladder", l)] {
        let (svg, png) = r.map_err(|e| RunError::Charts(format!("{name}: {e}")))?;
        dir.write(&format!("{name}.svg"), svg.as_bytes())?;
        dir.write(&format!("{name}.png"), &png)?;
        svgs.push((name.to_string(), svg));
    }
    let page = html::page(scn, summary, &svgs);
    dir.write("index.html", page.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_cut_in_titles() {
        assert_eq!(title_name("syn_flood"), "syn_flood");
        let exact = "é".repeat(TITLE_NAME_CHARS);
        assert_eq!(title_name(&exact), exact);
        let cut = title_name(&"é".repeat(3 * TITLE_NAME_CHARS));
        assert_eq!(cut.chars().count(), TITLE_NAME_CHARS + 1);
        assert!(cut.ends_with('\u{2026}'));
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(0.5), "0.5");
        assert_eq!(tick(20.0), "20");
        assert_eq!(tick(1200.0), "1200");
        assert_eq!(tick(2.25), "2.25");
    }

    #[test]
    fn states_and_outcomes_have_distinct_colours() {
        let mut seen: Vec<RGBColor> = TcpState::ALL.iter().map(|s| state_color(*s)).collect();
        seen.sort_by_key(|c| (c.0, c.1, c.2));
        seen.dedup();
        assert_eq!(seen.len(), TcpState::ALL.len());
        let mut o: Vec<RGBColor> = Outcome::ALL.iter().map(|s| outcome_color(*s)).collect();
        o.sort_by_key(|c| (c.0, c.1, c.2));
        o.dedup();
        assert_eq!(o.len(), Outcome::ALL.len());
    }
}
