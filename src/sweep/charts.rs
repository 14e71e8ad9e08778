//! The sweep's charts, one SVG per headline metric (`success_rate`, each attack phase's
//! `during` success rate, each `success_within` rate, `connect_latency_ms.p99`; six at most):
//!
//! - `<metric>.svg`: the mean over the repetitions against the first variable, with its 95 %
//!   interval as a shaded band (error bars when the variable is categorical); one line per
//!   value of the second variable, if any; further variables are held at their first value.
//! - `<metric>_heatmap.svg` (exactly two variables): the mean per (first, second) value on the
//!   viridis scale, with the value printed in each cell for grids up to 12 × 12.
//!
//! A numeric variable gets a numeric axis (logarithmic when every value is positive and they
//! span a factor of 16 or more); any other is drawn as evenly spaced labels. Points without a
//! mean are left out. The output depends only on the input (no maps, no clocks).

mod axis;
mod heatmap;

use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::plan::Plan;
use super::tables::{Collected, PointRow};
use crate::report::charts::{FONT, LineItem, line_legend, tick, title};
use axis::XAxis;
use heatmap::draw_heatmap;

/// Size of every sweep chart, in pixels.
pub const WIDTH: u32 = 800;
pub const HEIGHT: u32 = 450;
/// Most metrics charted.
const MAX_CHARTS: usize = 6;
/// Largest heatmap side whose cells carry their value.
const MAX_TEXT_GRID: usize = 12;

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;
type Chart2d<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Colour-blind-safe line colours (Okabe and Ito; yellow replaced by grey for contrast on
/// white). From the ninth line on they repeat, dashed.
const LINE_COLORS: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(128, 128, 128),
];

const GREY: RGBColor = RGBColor(90, 90, 90);
const NO_VALUE: RGBColor = RGBColor(225, 225, 225);

/// Registers DejaVu Sans as [`FONT`] (the same font the run charts measure text with).
fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// Rank of a charted metric (`None`: not charted).
fn rank(m: &str) -> Option<u8> {
    if m == "success_rate" {
        Some(0)
    } else if m.starts_with("phases[") && m.ends_with("].during.success_rate") {
        Some(1)
    } else if m.starts_with("success_within[") && m.ends_with("].rate") {
        Some(2)
    } else if m == "connect_latency_ms.p99" {
        Some(3)
    } else {
        None
    }
}

/// Indices in `metrics` of the metrics charted, in chart order.
pub fn charted(metrics: &[String]) -> Vec<usize> {
    let mut v: Vec<(u8, usize)> = metrics
        .iter()
        .enumerate()
        .filter_map(|(i, m)| rank(m).map(|r| (r, i)))
        .collect();
    v.sort_unstable();
    v.truncate(MAX_CHARTS);
    v.into_iter().map(|(_, i)| i).collect()
}

/// `name` with every character outside `[A-Za-z0-9_-]` replaced by `_`.
pub fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Every chart of the sweep: (file name, SVG text), in a fixed order.
pub fn sweep_charts(plan: &Plan, c: &Collected, rows: &[PointRow]) -> Vec<(String, String)> {
    let labels: Vec<Vec<String>> = rows.iter().map(|r| r.labels.clone()).collect();
    let mut out = Vec::new();
    for m in charted(&c.metrics) {
        let stats: Vec<(Option<f64>, Option<f64>)> = rows
            .iter()
            .map(|r| r.stats.get(m).copied().unwrap_or((None, None)))
            .collect();
        out.extend(metric_charts(
            &plan.columns,
            &labels,
            &c.metrics[m],
            &stats,
            plan.file.repeat,
        ));
    }
    out
}

/// The charts of one metric from plain data: the variable columns, each point's labels (one
/// per column) and its (mean, 95 % half-width).
pub(crate) fn metric_charts(
    columns: &[String],
    labels: &[Vec<String>],
    metric: &str,
    stats: &[(Option<f64>, Option<f64>)],
    repeat: u32,
) -> Vec<(String, String)> {
    if columns.is_empty() {
        return Vec::new();
    }
    let g = Grid::new(columns, labels, stats, metric, repeat);
    let name = sanitize(metric);
    let mut v = vec![(format!("{name}.svg"), svg(|a| draw_lines(a, &g)))];
    if columns.len() == 2 {
        v.push((format!("{name}_heatmap.svg"), svg(|a| draw_heatmap(a, &g))));
    }
    v
}

/// Position of `s` in `v`, appended if new.
fn index_of(v: &mut Vec<String>, s: &str) -> usize {
    match v.iter().position(|x| x == s) {
        Some(i) => i,
        None => {
            v.push(s.to_string());
            v.len() - 1
        }
    }
}

/// A point's mean and 95 % half-width.
type Cell = (f64, Option<f64>);

/// One metric's points arranged by the first two variables.
struct Grid<'a> {
    columns: &'a [String],
    metric: &'a str,
    repeat: u32,
    /// Distinct values of the first column, in point order.
    xs: Vec<String>,
    /// Distinct values of the second column (one empty label with a single column).
    series: Vec<String>,
    /// `[series][x]`: (mean, half-width), finite values only.
    cells: Vec<Vec<Option<Cell>>>,
    /// Further columns and the value they are held at.
    fixed: Vec<(String, String)>,
}

impl<'a> Grid<'a> {
    fn new(
        columns: &'a [String],
        labels: &[Vec<String>],
        stats: &[(Option<f64>, Option<f64>)],
        metric: &'a str,
        repeat: u32,
    ) -> Grid<'a> {
        let kept: Vec<String> = labels
            .first()
            .map(|l| l.get(2..).unwrap_or(&[]).to_vec())
            .unwrap_or_default();
        let (mut xs, mut series, mut found) = (Vec::new(), Vec::new(), Vec::new());
        for (l, (mean, ci)) in labels.iter().zip(stats) {
            if l.get(2..).unwrap_or(&[]) != kept.as_slice() {
                continue;
            }
            let x = index_of(&mut xs, l.first().map_or("", String::as_str));
            let s = index_of(&mut series, l.get(1).map_or("", String::as_str));
            let v = mean
                .filter(|m| m.is_finite())
                .map(|m| (m, ci.filter(|c| c.is_finite()).map(f64::abs)));
            found.push((s, x, v));
        }
        let mut cells = vec![vec![None; xs.len()]; series.len()];
        for (s, x, v) in found {
            if cells[s][x].is_none() {
                cells[s][x] = v;
            }
        }
        let fixed = columns.iter().skip(2).cloned().zip(kept).collect();
        Grid {
            columns,
            metric,
            repeat,
            xs,
            series,
            cells,
            fixed,
        }
    }

    fn is_rate(&self) -> bool {
        self.metric.ends_with("rate")
    }

    fn values(&self) -> impl Iterator<Item = (f64, Option<f64>)> + '_ {
        self.cells.iter().flatten().flatten().copied()
    }

    fn subtitle(&self, what: &str) -> String {
        let s = if self.repeat == 1 { "" } else { "s" };
        let mut t = if self.repeat < 2 {
            format!(
                "mean over {} repetition{s} (no 95 % CI from one)",
                self.repeat
            )
        } else {
            format!("mean over {} repetition{s}, {what}", self.repeat)
        };
        if !self.fixed.is_empty() {
            let held: Vec<String> = self
                .fixed
                .iter()
                .map(|(c, v)| format!("{c} = {v}"))
                .collect();
            t.push_str(&format!("; only {} (first values)", held.join(", ")));
        }
        t
    }

    /// The y range of the line chart: [0, 1] for rates, else 0 to 1.1 × the highest bound.
    fn y_range(&self) -> (f64, f64) {
        if self.is_rate() {
            return (0.0, 1.0);
        }
        let hi = self
            .values()
            .map(|(m, c)| m + c.unwrap_or(0.0))
            .fold(0.0, f64::max);
        let lo = self
            .values()
            .map(|(m, c)| m - c.unwrap_or(0.0))
            .fold(0.0, f64::min);
        let hi = if hi > 0.0 { hi * 1.1 } else { 1.0 };
        (lo * 1.1, hi)
    }
}

/// Draws on an SVG of [`WIDTH`] × [`HEIGHT`]; a drawing error gives a page naming it.
fn svg(draw: impl FnOnce(&Area) -> Res) -> String {
    fonts();
    let mut s = String::new();
    let r = {
        let root = SVGBackend::with_string(&mut s, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(Into::into)
            .and_then(|_| draw(&root))
            .and_then(|_| root.present().map_err(Into::into))
    };
    match r {
        Ok(()) => s,
        Err(e) => format!(
            "<svg width=\"{WIDTH}\" height=\"{HEIGHT}\" xmlns=\"http://www.w3.org/2000/svg\"><text x=\"20\" y=\"40\">chart not drawn: {}</text></svg>\n",
            crate::report::charts::html::esc(&e.to_string())
        ),
    }
}

fn font(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&BLACK)
}

fn text_w(area: &Area, s: &str, style: &TextStyle) -> i32 {
    area.estimate_text_size(s, style)
        .map_or(s.len() as i32 * 8, |(w, _)| w as i32)
}

/// `s`, cut and ended with an ellipsis if wider than `max` pixels.
fn fit(area: &Area, s: &str, max: i32, style: &TextStyle) -> String {
    if text_w(area, s, style) <= max {
        return s.to_string();
    }
    let chars: Vec<char> = s.chars().collect();
    for n in (0..chars.len()).rev() {
        let t: String = chars[..n].iter().chain(['\u{2026}'].iter()).collect();
        if text_w(area, &t, style) <= max {
            return t;
        }
    }
    "\u{2026}".into()
}

/// The line chart of one metric.
fn draw_lines(root: &Area, g: &Grid) -> Res {
    let band = if matches!(XAxis::of(&g.xs), XAxis::Labels) {
        "95 % CI as error bars"
    } else {
        "95 % CI shaded"
    };
    let top = title(root, g.metric, Some(&g.subtitle(band)))?;
    let body = root.margin(top as u32, 0, 0, 0);
    let legend_w = if g.columns.len() >= 2 {
        legend_width(root, g)
    } else {
        0
    };
    let (w, _) = body.dim_in_pixel();
    let (plot, legend) = body.split_horizontally(w.saturating_sub(legend_w));
    let axis = XAxis::of(&g.xs);
    let (x0, x1) = axis.range(g.xs.len());
    let (y0, y1) = g.y_range();
    let ticks = axis.ticks(&g.xs, x0, x1);
    let label = font(14);
    // Categorical labels wider than their slot are drawn vertically.
    let slot = (plot.dim_in_pixel().0 as i32 - 100) / g.xs.len().max(1) as i32;
    let widest = ticks
        .iter()
        .map(|(_, l)| text_w(root, l, &label))
        .max()
        .unwrap_or(0);
    let vertical = matches!(axis, XAxis::Labels) && widest + 8 > slot;
    let label_h = if vertical {
        widest.min(HEIGHT as i32 * 2 / 5) + 12
    } else {
        24
    };
    let mut chart = ChartBuilder::on(&plot)
        .margin_left(10)
        .margin_right(20)
        .margin_top(6)
        .x_label_area_size(label_h as u32 + 26)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(6)
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .y_label_formatter(&|v| tick(*v))
        .x_desc(g.columns[0].as_str())
        .y_desc(g.metric)
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 14))
        .draw()?;
    x_ticks(root, &chart, &ticks, vertical, label_h - 12)?;
    draw_series(&mut chart, g, &axis, (x0, x1), (y0, y1))?;
    if g.values().next().is_none() {
        let (cx, cy) = chart.backend_coord(&((x0 + x1) / 2.0, (y0 + y1) / 2.0));
        let style = font(16)
            .color(&GREY)
            .pos(Pos::new(HPos::Center, VPos::Center));
        root.draw(&Text::new("no values", (cx, cy), style))?;
    }
    if legend_w > 0 {
        draw_legend(&legend, g)?;
    }
    Ok(())
}

/// Tick marks and labels under the x axis (labels that would overlap the previous one are
/// left out; vertical ones are cut to `max_h` pixels).
fn x_ticks(
    root: &Area,
    chart: &Chart2d,
    ticks: &[(f64, String)],
    vertical: bool,
    max_h: i32,
) -> Res {
    let (xr, yr) = (chart.x_range(), chart.y_range());
    let mut right = i32::MIN;
    let style = font(14);
    for (p, l) in ticks {
        if *p < xr.start || *p > xr.end {
            continue;
        }
        let (px, py) = chart.backend_coord(&(*p, yr.start));
        root.draw(&PathElement::new([(px, py), (px, py + 5)], BLACK))?;
        if vertical {
            let s = style
                .transform(FontTransform::Rotate270)
                .pos(Pos::new(HPos::Right, VPos::Center));
            root.draw(&Text::new(fit(root, l, max_h, &style), (px, py + 8), s))?;
            continue;
        }
        let w = text_w(root, l, &style);
        if px - w / 2 < right + 8 {
            continue;
        }
        right = px + w / 2;
        let s = style.pos(Pos::new(HPos::Center, VPos::Top));
        root.draw(&Text::new(l.clone(), (px, py + 8), s))?;
    }
    Ok(())
}

fn line_style(s: usize) -> (RGBColor, bool) {
    (
        LINE_COLORS[s % LINE_COLORS.len()],
        (s / LINE_COLORS.len()) % 2 == 1,
    )
}

/// Bands (or error bars), lines and markers of every series.
fn draw_series(
    chart: &mut Chart2d,
    g: &Grid,
    axis: &XAxis,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> Res {
    let labels = matches!(axis, XAxis::Labels);
    let n = g.series.len().max(1) as f64;
    // Categorical series side by side around their label.
    let dodge = if labels { (0.6 / n).min(0.15) } else { 0.0 };
    let cap = if labels { 0.06 } else { (x1 - x0) * 0.008 };
    let clamp = |v: f64| v.clamp(y0, y1);
    let mut lines = Vec::new();
    for (s, row) in g.cells.iter().enumerate() {
        let off = (s as f64 - (n - 1.0) / 2.0) * dodge;
        let mut pts: Vec<(f64, f64, f64)> = row
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|(m, c)| (axis.pos(i) + off, m, c.unwrap_or(0.0))))
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (color, _) = line_style(s);
        if !labels && pts.len() >= 2 {
            let mut poly: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, clamp(p.1 + p.2))).collect();
            poly.extend(pts.iter().rev().map(|p| (p.0, clamp(p.1 - p.2))));
            chart.draw_series(std::iter::once(Polygon::new(
                poly,
                color.mix(0.18).filled(),
            )))?;
        } else {
            for &(x, m, c) in pts.iter().filter(|p| p.2 > 0.0) {
                let (lo, hi) = (clamp(m - c), clamp(m + c));
                let st = color.stroke_width(1);
                chart.draw_series([
                    PathElement::new([(x, lo), (x, hi)], st),
                    PathElement::new([(x - cap, lo), (x + cap, lo)], st),
                    PathElement::new([(x - cap, hi), (x + cap, hi)], st),
                ])?;
            }
        }
        lines.push((s, pts));
    }
    for (s, pts) in &lines {
        let (color, dashed) = line_style(*s);
        let xy: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.1)).collect();
        if !labels && xy.len() >= 2 && dashed {
            chart.draw_series(std::iter::once(DashedPathElement::new(
                xy.clone(),
                6,
                4,
                color.stroke_width(2),
            )))?;
        } else if !labels && xy.len() >= 2 {
            chart.draw_series(std::iter::once(PathElement::new(
                xy.clone(),
                color.stroke_width(2),
            )))?;
        }
        chart.draw_series(xy.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
    }
    Ok(())
}

/// Width of the legend: its title (the second column) and one entry per series.
fn legend_width(root: &Area, g: &Grid) -> u32 {
    let bold = (FONT, 14, FontStyle::Bold).into_font().color(&BLACK);
    let head = text_w(root, &g.columns[1], &bold);
    let entries = g.series.iter().map(|s| 32 + text_w(root, s, &font(14)));
    (entries.fold(head, i32::max) + 24).clamp(120, 240) as u32
}

fn draw_legend(area: &Area, g: &Grid) -> Res {
    let (w, h) = area.dim_in_pixel();
    let bold = (FONT, 14, FontStyle::Bold).into_font().color(&BLACK);
    let head = fit(area, &g.columns[1], w as i32 - 16, &bold);
    area.draw(&Text::new(head, (8, 14), bold))?;
    let rows = ((h as i32 - 60) / 20).max(1) as usize;
    let shown = if g.series.len() > rows {
        rows - 1
    } else {
        g.series.len()
    };
    let mut items: Vec<LineItem> = g.series[..shown]
        .iter()
        .enumerate()
        .map(|(s, l)| {
            let (c, d) = line_style(s);
            (fit(area, l, w as i32 - 50, &font(14)), c, d)
        })
        .collect();
    if shown < g.series.len() {
        items.push((
            format!("+ {} more", g.series.len() - shown),
            NO_VALUE,
            false,
        ));
    }
    line_legend(area, (10, 40), &items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// How many nodes of `svg` satisfy `pred`.
    fn count(svg: &str, pred: impl Fn(roxmltree::Node) -> bool) -> usize {
        let doc = roxmltree::Document::parse(svg).expect("SVG parses");
        doc.descendants().filter(|n| pred(*n)).count()
    }

    /// Lines are 2 pixels wide (error bars 1, legend samples 3).
    fn is_line(n: roxmltree::Node) -> bool {
        n.has_tag_name("polyline") && n.attribute("stroke-width") == Some("2")
    }

    fn is_legend(n: roxmltree::Node) -> bool {
        n.has_tag_name("polyline") && n.attribute("stroke-width") == Some("3")
    }

    #[test]
    fn two_variables_give_lines_per_value_and_a_heatmap() {
        let cols = strings(&["rate", "backlog"]);
        let mut labels = Vec::new();
        let mut stats = Vec::new();
        for r in ["1000", "5000"] {
            for b in ["128", "256", "512"] {
                labels.push(strings(&[r, b]));
                stats.push((Some(0.25), Some(0.1)));
            }
        }
        stats[4] = (None, None);
        stats[5] = (Some(f64::NAN), None);
        let charts = metric_charts(&cols, &labels, "success_rate", &stats, 10);
        let names: Vec<&str> = charts.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(names, ["success_rate.svg", "success_rate_heatmap.svg"]);
        let lines = &charts[0].1;
        // Only backlog 128 has two points; the others are single markers.
        assert_eq!(count(lines, is_line), 1);
        assert_eq!(count(lines, is_legend), 3);
        assert_eq!(count(lines, |n| n.has_tag_name("circle")), 4);
        assert!(lines.contains("mean over 10 repetitions, 95 % CI"));
        let heat = &charts[1].1;
        assert_eq!(
            count(heat, |n| n.has_tag_name("text")
                && n.text().map(str::trim) == Some("0.25")),
            4
        );
        let again = metric_charts(&cols, &labels, "success_rate", &stats, 10);
        assert_eq!(charts, again);
    }

    #[test]
    fn one_categorical_variable_has_no_legend_and_survives_missing_values() {
        let cols = strings(&["defence"]);
        let labels: Vec<Vec<String>> = ["none", "a_rather_long_case_label", "x"]
            .iter()
            .map(|l| strings(&[l]))
            .collect();
        let stats = vec![(Some(12.0), Some(3.0)), (None, None), (Some(4.0), None)];
        let charts = metric_charts(&cols, &labels, "connect_latency_ms.p99", &stats, 3);
        assert_eq!(charts.len(), 1);
        assert_eq!(charts[0].0, "connect_latency_ms_p99.svg");
        assert_eq!(count(&charts[0].1, is_legend), 0);
        assert_eq!(count(&charts[0].1, |n| n.has_tag_name("circle")), 2);
        let none = vec![(None, None); 3];
        let charts = metric_charts(&cols, &labels, "success_rate", &none, 3);
        assert!(charts[0].1.contains("no values"));
        assert!(
            metric_charts(&cols, &[], "success_rate", &[], 1)[0]
                .1
                .contains("no values")
        );
    }

    #[test]
    fn picks_headline_metrics_and_axes() {
        let m = strings(&[
            "success_rate",
            "phases[0].before.success_rate",
            "phases[0].during.success_rate",
            "success_within[0].rate",
            "connect_latency_ms.p50",
            "connect_latency_ms.p99",
        ]);
        assert_eq!(charted(&m), [0, 2, 3, 5]);
        assert_eq!(sanitize("phases[0].during"), "phases_0__during");
        assert!(matches!(
            XAxis::of(&strings(&["128", "4096"])),
            XAxis::Numeric { log: true, .. }
        ));
        assert!(matches!(
            XAxis::of(&strings(&["1", "5"])),
            XAxis::Numeric { log: false, .. }
        ));
        assert!(matches!(XAxis::of(&strings(&["1", "x"])), XAxis::Labels));
        assert_eq!(heatmap::viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(heatmap::viridis(1.0), RGBColor(253, 231, 37));
    }
}
