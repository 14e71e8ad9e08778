//! Drawing of the `ladder` chart from what [`LadderRecorder`] followed.
//!
//! [`LadderChart`] lays each connection out in its own panel. Time runs downward; consecutive
//! moments are spaced by their gap relative to the typical one-way delay, and long idle gaps
//! are shortened to a marked break, so a 1 s retransmission timeout does not squash the
//! 10 ms hops into one line.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ladder::{End, LadderConn, LadderRecorder, LadderSeg, Side};
use super::ladder_layout::{Arrow, Key, Layout, crosses, fit, label_spot};
use super::{Chart, DrawResult, FONT, state_color, title};
use crate::spec::Scenario;
use crate::tcp::TcpState;
use crate::time::SimTime;

// ---------------------------------------------------------------------------------- drawing

/// Colour of ordinary segments.
const SEGMENT: RGBColor = RGBColor(30, 30, 30);
/// Colour of retransmitted segments.
const RETX: RGBColor = RGBColor(170, 0, 120);
/// Colour of the loss cross.
const LOST: RGBColor = RGBColor(200, 0, 0);
/// Colour of notes.
const NOTE: RGBColor = RGBColor(100, 100, 100);

/// A time on the ladder's axis: ms below 10 s, else s.
fn time_label(t: SimTime, in_ms: bool) -> String {
    let trim = |s: String| s.trim_end_matches('0').trim_end_matches('.').to_string();
    if in_ms {
        format!("{} ms", trim(format!("{:.1}", t.as_ms_f64())))
    } else {
        format!("{} s", trim(format!("{:.3}", t.as_secs_f64())))
    }
}

/// A span of time for a break note.
fn span_label(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0} ms later", s * 1000.0)
    } else {
        let v = format!("{s:.2}");
        format!("{} s later", v.trim_end_matches('0').trim_end_matches('.'))
    }
}

/// Whether black text is readable on `c`.
fn is_light(c: RGBColor) -> bool {
    0.299 * c.0 as f64 + 0.587 * c.1 as f64 + 0.114 * c.2 as f64 > 150.0
}

/// Pixels per layout unit below which a panel stops drawing later segments (so text never
/// shrinks past readable).
const MIN_UNIT: f64 = 14.0;
/// The widest panel: wider only spreads the arrows flat.
const MAX_PANEL_PX: u32 = 640;
/// The narrowest panel: room for the state boxes on both sides and a label between.
const MIN_PANEL_PX: u32 = 380;

/// The ladder diagram of a run.
pub(crate) struct LadderChart<'a> {
    scenario: &'a str,
    conns: Vec<&'a LadderConn>,
    /// Chosen connections not drawn: over `ladder_connections`, or no room for their panel.
    more: usize,
    /// Per connection: its heading (attempt and outcome) and why it was chosen.
    headings: Vec<(String, String)>,
    /// Per connection: whether its server port has a listener (LISTEN is shown at the top).
    listening: Vec<bool>,
}

/// What a panel says about its connection: `attempt 3 of legit: timed out` and the picks
/// that chose it.
fn heading(scn: &Scenario, rec: &LadderRecorder, c: &LadderConn) -> (String, String) {
    let who = match c.attempt {
        Some((ci, a)) => {
            let name = scn
                .clients
                .get(ci as usize)
                .map_or("?", |c| c.name.as_str());
            format!("attempt {a} of {name}")
        }
        None => "attempt".to_string(),
    };
    let how = match c.outcome {
        Some(o) => super::outcome_label(o).to_string(),
        None => "still in progress at the end".to_string(),
    };
    let why: Vec<String> = c
        .picked_by
        .iter()
        .map(|&i| rec.picks()[i].label(&scn.clients))
        .collect();
    (
        format!("{who}: {how}"),
        format!("chosen as: {}", why.join(", ")),
    )
}

impl<'a> LadderChart<'a> {
    /// `name` is the scenario's name as the title shows it.
    pub fn new(scn: &Scenario, name: &'a str, rec: &'a LadderRecorder) -> Self {
        let (mut conns, mut more) = rec.drawn();
        let fit = (scn.charts.width_px / MIN_PANEL_PX).max(1) as usize;
        if conns.len() > fit {
            more += conns.len() - fit;
            conns.truncate(fit);
        }
        let headings = conns.iter().map(|c| heading(scn, rec, c)).collect();
        let listening = conns
            .iter()
            .map(|c| {
                scn.listeners.iter().any(|l| {
                    Some(l.host) == c.server_host
                        && l.port == c.server.port
                        && scn.hosts[l.host.0 as usize].alive
                })
            })
            .collect();
        LadderChart {
            scenario: name,
            conns,
            more,
            headings,
            listening,
        }
    }

    /// Draws a state chip: text on the state's colour, anchored at `(x, y)`.
    fn chip<DB: DrawingBackend>(
        area: &DrawingArea<DB, Shift>,
        (x, y): (i32, i32),
        text: &str,
        fill: RGBColor,
        left: bool,
    ) -> Result<[i32; 4], Box<dyn std::error::Error>>
    where
        DB::ErrorType: 'static,
    {
        let font = (FONT, 12, FontStyle::Bold).into_font();
        let (w, _) = area.estimate_text_size(text, &font.clone().into_text_style(area))?;
        let w = w as i32 + 8;
        let x0 = if left { x } else { x - w };
        area.draw(&Rectangle::new(
            [(x0, y - 7), (x0 + w, y + 7)],
            fill.filled(),
        ))?;
        let color = if is_light(fill) { BLACK } else { WHITE };
        area.draw(&Text::new(
            text.to_string(),
            (x0 + 4, y),
            font.color(&color).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        Ok([x0, y - 7, x0 + w, y + 7])
    }

    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        n: usize,
        c: &LadderConn,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (w, h) = area.dim_in_pixel();
        let (w, h) = (w as i32, h as i32);
        let bold = (FONT, 14, FontStyle::Bold).into_font().color(&BLACK);
        let small = (FONT, 12).into_font().color(&NOTE);
        let centre = Pos::new(HPos::Center, VPos::Top);
        let (head, why) = &self.headings[n];
        area.draw(&Text::new(head.clone(), (w / 2, 2), bold.pos(centre)))?;
        area.draw(&Text::new(why.clone(), (w / 2, 20), small.pos(centre)))?;
        // Client line on the left (time labels and client states to its left), server on the
        // right (server states to its right).
        let xc = (w * 20 / 100).max(148);
        let xs = w - (w * 20 / 100).max(100);
        for (x, who, addr) in [
            (xc, "client", &c.client_text),
            (xs, "server", &c.server_text),
        ] {
            area.draw(&Text::new(who, (x, 40), bold.pos(centre)))?;
            area.draw(&Text::new(addr.clone(), (x, 58), small.pos(centre)))?;
        }
        let top = 100;
        // Later segments are left out rather than squeezed past readable.
        let (view, hidden) = fit(c, (h - 10 - top) as f64 / MIN_UNIT);
        let c = &view;
        let lay = Layout::of(c);
        let g = Geometry {
            xc,
            xs,
            top,
            unit: ((h - 10 - top) as f64 / lay.total).min(64.0),
        };
        let line_end = g.py(lay.total - 0.4);
        for x in [xc, xs] {
            area.draw(&PathElement::new(
                [(x, top - 22), (x, line_end)],
                RGBColor(90, 90, 90).stroke_width(2),
            ))?;
        }
        // Initial states, above the first moment.
        Self::chip(
            area,
            (xc - 6, top - 14),
            "CLOSED",
            state_color(TcpState::Closed),
            false,
        )?;
        if self.listening.get(n).copied().unwrap_or(false) {
            Self::chip(
                area,
                (xs + 6, top - 14),
                "LISTEN",
                state_color(TcpState::Listen),
                true,
            )?;
        }
        // Boxes of the labels placed so far (x0, y0, x1, y1).
        let mut placed: Vec<[i32; 4]> = Vec::new();
        breaks(area, &g, &lay)?;
        let arrows = segments(area, &g, &lay, c)?;
        // The red crosses, so no note or label is written over one.
        for (s, &(_, (x, y))) in c.segs.iter().zip(&arrows) {
            if matches!(s.end, End::Lost(_) | End::InFlight | End::HostDown) {
                placed.push([x - 8, y - 8, x + 8, y + 8]);
            }
        }
        marks(area, &g, &lay, c, &mut placed)?;
        time_labels(area, &g, &lay, &placed)?;
        break_notes(area, &g, &lay, &arrows, &mut placed)?;
        // Labels after every arrow so none is drawn over; each slides along its arrow to the
        // first place that does not cover an earlier label.
        let compact = g.unit < 24.0;
        for (i, s) in c.segs.iter().enumerate() {
            Self::segment_label(area, c, s, i, &arrows, compact, &mut placed)?;
        }
        hidden_note(area, (xc, xs), line_end, hidden + c.left_out, &placed)?;
        Ok(())
    }

    /// Flags (and what happened to the segment) above, numbers below, on a white backing.
    fn segment_label<DB: DrawingBackend>(
        area: &DrawingArea<DB, Shift>,
        c: &LadderConn,
        s: &LadderSeg,
        i: usize,
        arrows: &[Arrow],
        compact: bool,
        placed: &mut Vec<[i32; 4]>,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (seq, ack) = c.relative(s);
        let mut head = match s.icmp {
            Some(code) => format!("ICMP {}", code.name()),
            None => s.flags.name().to_string(),
        };
        if s.retx {
            head.push_str(" (retx)");
        }
        match s.end {
            End::Lost(_) => head.push_str(" lost"),
            End::HostDown => head.push_str(" lost: host down"),
            // Delivered, then handled by a rule (often answered, e.g. by a RST): name it.
            End::Discarded(rule) => {
                head.push_str(": ");
                head.push_str(&rule.replace('_', " "));
            }
            End::InFlight | End::Delivered => {}
        }
        let mut nums = format!("seq={seq}");
        if s.flags.ack() {
            nums.push_str(&format!(" ack={ack}"));
        }
        if s.len > 0 {
            nums.push_str(&format!(" len={}", s.len));
        }
        let color = if s.retx { RETX } else { SEGMENT };
        let f1 = (FONT, if compact { 10 } else { 12 }, FontStyle::Bold)
            .into_font()
            .color(&color);
        let f2 = (FONT, if compact { 10 } else { 12 })
            .into_font()
            .color(&color);
        let mut lines: Vec<(String, TextStyle)> = vec![(head, f1), (nums, f2)];
        let lh = if compact { 12 } else { 14 };
        // Two lines, else the flags alone, at the first place along (or just beside) the
        // arrow that covers no other label and no other arrow; with no such place the label
        // is left out rather than drawn over another.
        let mut spot = None;
        while !lines.is_empty() && spot.is_none() {
            let mut bw = 0;
            for (t, f) in &lines {
                bw = bw.max(area.estimate_text_size(t, f)?.0 as i32 + 6);
            }
            spot = label_spot(arrows, i, placed, (bw, lh * lines.len() as i32));
            if spot.is_none() {
                lines.pop();
            }
        }
        let Some(b) = spot else { return Ok(()) };
        let (bw, bh) = (b[2] - b[0], b[3] - b[1]);
        placed.push(b);
        let (x0, y0, mx) = (b[0], b[1], b[0] + bw / 2);
        area.draw(&Rectangle::new(
            [(x0, y0), (x0 + bw, y0 + bh)],
            WHITE.mix(0.88).filled(),
        ))?;
        for (i, (t, f)) in lines.into_iter().enumerate() {
            area.draw(&Text::new(
                t,
                (mx, y0 + lh * i as i32 + lh / 2),
                f.pos(Pos::new(HPos::Center, VPos::Center)),
            ))?;
        }
        Ok(())
    }
}

impl Chart for LadderChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let n = self.conns.len();
        let head = match n {
            0 => format!("{}: ladder diagram", self.scenario),
            1 => format!("{}: ladder diagram of one connection", self.scenario),
            _ => format!("{}: ladder diagrams of {n} connections", self.scenario),
        };
        let (w, h) = root.dim_in_pixel();
        let wide = w >= 1100;
        let used = title(
            root,
            &head,
            Some(if wide {
                "How to read: time runs downward; each arrow is one TCP segment, sloping because \
                 the network takes time to carry it."
            } else {
                "Time runs downward; each arrow is one TCP segment."
            }),
        )?;
        let note = (FONT, if wide { 14 } else { 12 })
            .into_font()
            .color(&RGBColor(60, 60, 60));
        let foot = if wide {
            [
                "seq/ack are relative: 0 is the sender's initial sequence number (ISN), so ack=1 \
                 acknowledges the SYN. Coloured boxes: the TCP state entered at that moment.",
                "Red cross: segment lost (in the network, or its host was down). \"SYN: no \
                 socket\": delivered, then handled by that rule of the receiver.",
                "Thick dashed purple arrow (retx): a retransmission, the same seq and flags sent \
                 again. Long idle gaps are shortened (~).",
            ]
        } else {
            [
                "seq/ack count from each side's ISN (ack=1 acknowledges the SYN). Boxes: state \
                 entered.",
                "Red cross: lost. \"SYN: no socket\": delivered, then handled by that rule.",
                "Thick dashed purple (retx): a retransmission. Long idle gaps shortened (~).",
            ]
        };
        let step = if wide { 18 } else { 15 };
        for (i, t) in foot.iter().enumerate() {
            root.draw(&Text::new(
                t.to_string(),
                (w as i32 / 2, h as i32 - 3 * step - 4 + step * i as i32),
                note.pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
        let body = root.margin(used as u32 + 6, 3 * step as u32 + 12, 0, 0);
        if n == 0 {
            let (bw, bh) = body.dim_in_pixel();
            body.draw(&Text::new(
                "no legitimate connection was opened in this run: nothing to draw",
                (bw as i32 / 2, bh as i32 / 2),
                (FONT, 16)
                    .into_font()
                    .color(&NOTE)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            ))?;
            return Ok(());
        }
        let bw = body.dim_in_pixel().0;
        let side = bw.saturating_sub(MAX_PANEL_PX * n as u32) / 2;
        let panels = body.margin(0, 0, side, side).split_evenly((1, n));
        for (i, (p, c)) in panels.iter().zip(&self.conns).enumerate() {
            self.panel(p, i, c)?;
            if i > 0 {
                let ph = p.dim_in_pixel().1 as i32;
                p.draw(&PathElement::new(
                    [(0, 0), (0, ph)],
                    RGBColor(210, 210, 210),
                ))?;
            }
        }
        if self.more > 0 {
            body.draw(&Text::new(
                format!(
                    "{} more chosen connections not drawn (charts.ladder_connections, \
                     charts.width_px)",
                    self.more
                ),
                (w as i32 - 10, 0),
                (FONT, 12)
                    .into_font()
                    .color(&NOTE)
                    .pos(Pos::new(HPos::Right, VPos::Top)),
            ))?;
        }
        Ok(())
    }
}

/// Where one connection's panel puts things: the x of the two time lines, the y of the first
/// moment, and pixels per layout unit.
struct Geometry {
    xc: i32,
    xs: i32,
    top: i32,
    unit: f64,
}

impl Geometry {
    fn py(&self, u: f64) -> i32 {
        self.top + (u * self.unit) as i32
    }
}

/// Breaks: a gap in both lines (drawn before the arrows, which pass over it).
fn breaks<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    g: &Geometry,
    lay: &Layout,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    for &(u, _) in &lay.breaks {
        let y = g.py(u);
        for x in [g.xc, g.xs] {
            area.draw(&Rectangle::new(
                [(x - 4, y - 5), (x + 4, y + 5)],
                WHITE.filled(),
            ))?;
            for dy in [-5, 5] {
                area.draw(&PathElement::new(
                    [(x - 7, y + dy + 3), (x + 7, y + dy - 3)],
                    RGBColor(90, 90, 90).stroke_width(2),
                ))?;
            }
        }
    }
    Ok(())
}

/// How much time each break skipped, written between the lines where no arrow passes (or
/// left out if every place is taken).
fn break_notes<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    g: &Geometry,
    lay: &Layout,
    arrows: &[Arrow],
    placed: &mut Vec<[i32; 4]>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let small = (FONT, 12).into_font().color(&NOTE);
    for &(u, skipped) in &lay.breaks {
        let y = g.py(u);
        let text = format!("~ {} ~", span_label(skipped));
        let tw = area.estimate_text_size(&text, &small)?.0 as i32 + 4;
        let free = |b: &[i32; 4]| {
            placed
                .iter()
                .all(|p| b[2] <= p[0] || p[2] <= b[0] || b[3] <= p[1] || p[3] <= b[1])
                && arrows.iter().all(|&a| !crosses(a, b))
        };
        let spot = [50, 35, 65, 25, 75].iter().find_map(|&pc| {
            let mx = g.xc + (g.xs - g.xc) * pc / 100;
            let b = [mx - tw / 2, y - 7, mx + tw / 2, y + 7];
            free(&b).then_some(b)
        });
        let Some(b) = spot else { continue };
        placed.push(b);
        area.draw(&Text::new(
            text,
            ((b[0] + b[2]) / 2, y),
            small.pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
    }
    Ok(())
}

/// Time labels at the far left, skipping those too close to the previous one or to a state
/// box.
fn time_labels<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    g: &Geometry,
    lay: &Layout,
    placed: &[[i32; 4]],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let small = (FONT, 12).into_font().color(&NOTE);
    let in_ms = lay.keys.last().is_none_or(|k| k.0.as_secs_f64() < 10.0);
    let mut last: Option<(SimTime, i32)> = None;
    for (k, &u) in lay.keys.iter().zip(&lay.y) {
        let y = g.py(u);
        if last.is_some_and(|(t, ly)| t == k.0 || y - ly < 15) {
            continue;
        }
        let text = time_label(k.0, in_ms);
        let tw = area.estimate_text_size(&text, &small)?.0 as i32;
        let b = [6, y - 7, 6 + tw + 2, y + 7];
        if placed
            .iter()
            .any(|p| !(b[2] <= p[0] || p[2] <= b[0] || b[3] <= p[1] || p[3] <= b[1]))
        {
            continue;
        }
        area.draw(&Text::new(
            text,
            (6, y),
            small.pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        area.draw(&PathElement::new([(g.xc - 3, y), (g.xc + 3, y)], NOTE))?;
        last = Some((k.0, y));
    }
    Ok(())
}

/// A red cross of half-size `r` at `(x, y)`.
fn cross<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    r: i32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    for (a, b) in [((-r, -r), (r, r)), ((-r, r), (r, -r))] {
        area.draw(&PathElement::new(
            [(x + a.0, y + a.1), (x + b.0, y + b.1)],
            LOST.stroke_width(3),
        ))?;
    }
    Ok(())
}

/// One arrow per segment (dashed if retransmitted, crossed if lost); returns each arrow's ends.
fn segments<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    g: &Geometry,
    lay: &Layout,
    c: &LadderConn,
) -> Result<Vec<Arrow>, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let mut arrows = Vec::with_capacity(c.segs.len());
    for (s, &(send, arr)) in c.segs.iter().zip(&lay.seg_keys) {
        let (x0, x1) = match s.from {
            Side::Client => (g.xc, g.xs),
            Side::Server => (g.xs, g.xc),
        };
        let y0 = g.py(lay.y_of(send));
        let lost = matches!(s.end, End::Lost(_) | End::InFlight);
        let (xe, ye) = match arr {
            Some(k) if !lost => (x1, g.py(lay.y_of(k))),
            _ => (x0 + (x1 - x0) * 55 / 100, y0 + (0.55 * g.unit) as i32),
        };
        let color = if s.retx { RETX } else { SEGMENT };
        if s.retx {
            area.draw(&DashedPathElement::new(
                [(x0, y0), (xe, ye)],
                8,
                4,
                color.stroke_width(3),
            ))?;
        } else {
            area.draw(&PathElement::new(
                [(x0, y0), (xe, ye)],
                color.stroke_width(2),
            ))?;
        }
        if lost {
            cross(area, (xe, ye), 7)?;
        } else {
            let (dx, dy) = ((xe - x0) as f64, (ye - y0) as f64);
            let len = (dx * dx + dy * dy).sqrt().max(1.0);
            let (ux, uy) = (dx / len, dy / len);
            let p = |along: f64, across: f64| {
                (
                    (xe as f64 - ux * along - uy * across) as i32,
                    (ye as f64 - uy * along + ux * across) as i32,
                )
            };
            area.draw(&Polygon::new(
                vec![(xe, ye), p(11.0, 5.0), p(11.0, -5.0)],
                color.filled(),
            ))?;
            if s.end == End::HostDown {
                cross(area, (xe, ye), 6)?;
            }
        }
        arrows.push(((x0, y0), (xe, ye)));
    }
    Ok(arrows)
}

/// States beside the lines; several at one moment are stacked downwards.
fn marks<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    g: &Geometry,
    lay: &Layout,
    c: &LadderConn,
    placed: &mut Vec<[i32; 4]>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let mut prev: Option<(Key, Side, i32)> = None;
    for (m, &k) in c.marks.iter().zip(&lay.mark_keys) {
        let mut y = g.py(lay.y_of(k));
        if let Some((pk, ps, py_)) = prev {
            if pk == k && ps == m.side {
                y = py_ + 15;
            }
        }
        prev = Some((k, m.side, y));
        let text = m.state.map_or(m.text, |s| s.name());
        let fill = m.state.map_or(RGBColor(225, 225, 225), state_color);
        placed.push(match m.side {
            Side::Client => LadderChart::chip(area, (g.xc - 6, y), text, fill, false)?,
            Side::Server => LadderChart::chip(area, (g.xs + 6, y), text, fill, true)?,
        });
    }
    Ok(())
}

/// "... N later segments not drawn", centred between the lines, below their end and below any
/// label that hangs past it.
fn hidden_note<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (xc, xs): (i32, i32),
    line_end: i32,
    hidden: u64,
    placed: &[[i32; 4]],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if hidden == 0 {
        return Ok(());
    }
    let small = (FONT, 12).into_font().color(&NOTE);
    let text = format!(
        "... {hidden} later segment{} not drawn",
        if hidden == 1 { "" } else { "s" }
    );
    let (tw, th) = area.estimate_text_size(&text, &small)?;
    let (x0, x1) = ((xc + xs - tw as i32) / 2, (xc + xs + tw as i32) / 2);
    let mut y = line_end + 2;
    for b in placed {
        if b[0] < x1 && x0 < b[2] && b[1] < y + th as i32 && y <= b[3] {
            y = y.max(b[3] + 2);
        }
    }
    let centre = Pos::new(HPos::Center, VPos::Top);
    area.draw(&Text::new(text, ((xc + xs) / 2, y), small.pos(centre)))?;
    Ok(())
}
