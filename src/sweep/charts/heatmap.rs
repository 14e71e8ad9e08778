//! `<metric>_heatmap.svg`: the mean per (first, second) variable value on the viridis scale.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Area, Grid, HEIGHT, MAX_TEXT_GRID, NO_VALUE, Res, WIDTH, fit, font, text_w};
use crate::report::charts::{tick, title};

/// Viridis at nine evenly spaced stops.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 45, 123),
    (59, 82, 139),
    (44, 114, 142),
    (33, 145, 140),
    (40, 174, 128),
    (94, 201, 98),
    (173, 220, 48),
    (253, 231, 37),
];

/// Viridis at `t` in [0, 1].
pub(super) fn viridis(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let f = t * (VIRIDIS.len() - 1) as f64;
    let i = (f.floor() as usize).min(VIRIDIS.len() - 2);
    let u = f - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * u).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Pixel layout of the heatmap: the grid's box and whether x labels stand vertically.
struct HeatLayout {
    left: i32,
    right: i32,
    top: i32,
    bottom: i32,
    vertical: bool,
    label_h: i32,
}

impl HeatLayout {
    fn x(&self, i: usize, n: usize) -> i32 {
        self.left + ((self.right - self.left) as f64 * i as f64 / n.max(1) as f64) as i32
    }
    fn y(&self, j: usize, n: usize) -> i32 {
        self.bottom - ((self.bottom - self.top) as f64 * j as f64 / n.max(1) as f64) as i32
    }
}

/// The heatmap of one metric (two variables).
pub(super) fn draw_heatmap(root: &Area, g: &Grid) -> Res {
    let top = title(
        root,
        g.metric,
        Some(&g.subtitle("95 % CI in the line chart")),
    )?;
    let style = font(14);
    let ylab = g
        .series
        .iter()
        .map(|s| text_w(root, s, &style))
        .max()
        .unwrap_or(0)
        .min(160);
    let (left, right) = (30 + ylab + 10, WIDTH as i32 - 110);
    let slot = (right - left) / g.xs.len().max(1) as i32;
    let widest =
        g.xs.iter()
            .map(|s| text_w(root, s, &style))
            .max()
            .unwrap_or(0);
    let vertical = widest + 8 > slot;
    let label_h = if vertical { widest.min(140) + 10 } else { 22 };
    let l = HeatLayout {
        left,
        right,
        top: top + 6,
        bottom: HEIGHT as i32 - 30 - label_h,
        vertical,
        label_h,
    };
    let (lo, hi) = heat_range(g);
    heat_cells(root, g, &l, (lo, hi))?;
    heat_axes(root, g, &l, ylab)?;
    colour_bar(root, &l, (lo, hi))
}

/// Colour scale: [0, 1] for rates, else from min(0, lowest) to the highest mean.
fn heat_range(g: &Grid) -> (f64, f64) {
    if g.is_rate() {
        return (0.0, 1.0);
    }
    let lo = g.values().map(|v| v.0).fold(0.0, f64::min);
    let hi = g.values().map(|v| v.0).fold(lo, f64::max);
    (lo, if hi > lo { hi } else { lo + 1.0 })
}

fn heat_cells(root: &Area, g: &Grid, l: &HeatLayout, (lo, hi): (f64, f64)) -> Res {
    let (nx, ny) = (g.xs.len(), g.series.len());
    let text = nx <= MAX_TEXT_GRID && ny <= MAX_TEXT_GRID;
    for (j, row) in g.cells.iter().enumerate() {
        for (i, v) in row.iter().enumerate() {
            let (xa, xb) = (l.x(i, nx), l.x(i + 1, nx));
            let (ya, yb) = (l.y(j + 1, ny), l.y(j, ny));
            let fill = v.map_or(NO_VALUE, |(m, _)| viridis((m - lo) / (hi - lo)));
            root.draw(&Rectangle::new([(xa, ya), (xb, yb)], fill.filled()))?;
            root.draw(&Rectangle::new([(xa, ya), (xb, yb)], WHITE.stroke_width(1)))?;
            let Some((m, _)) = v else { continue };
            if !text {
                continue;
            }
            let dark = 0.299 * fill.0 as f64 + 0.587 * fill.1 as f64 + 0.114 * fill.2 as f64;
            let ink = if dark < 140.0 { WHITE } else { BLACK };
            let label = tick(*m);
            let size = ((yb - ya) as f64 * 0.4).clamp(8.0, 14.0) as u32;
            let s = font(size)
                .color(&ink)
                .pos(Pos::new(HPos::Center, VPos::Center));
            let label = fit(root, &label, xb - xa - 4, &s);
            root.draw(&Text::new(label, ((xa + xb) / 2, (ya + yb) / 2), s))?;
        }
    }
    Ok(())
}

/// Labels of both variables and their names.
fn heat_axes(root: &Area, g: &Grid, l: &HeatLayout, ylab: i32) -> Res {
    let style = font(14);
    let (nx, ny) = (g.xs.len(), g.series.len());
    for (i, x) in g.xs.iter().enumerate() {
        let px = (l.x(i, nx) + l.x(i + 1, nx)) / 2;
        if l.vertical {
            let s = style
                .transform(FontTransform::Rotate270)
                .pos(Pos::new(HPos::Right, VPos::Center));
            let t = fit(root, x, l.label_h - 10, &style);
            root.draw(&Text::new(t, (px, l.bottom + 6), s))?;
        } else {
            let s = style.pos(Pos::new(HPos::Center, VPos::Top));
            root.draw(&Text::new(x.clone(), (px, l.bottom + 6), s))?;
        }
    }
    for (j, y) in g.series.iter().enumerate() {
        let py = (l.y(j, ny) + l.y(j + 1, ny)) / 2;
        let s = style.pos(Pos::new(HPos::Right, VPos::Center));
        root.draw(&Text::new(fit(root, y, ylab, &style), (l.left - 6, py), s))?;
    }
    let desc = font(14);
    let s = desc.pos(Pos::new(HPos::Center, VPos::Bottom));
    let name = fit(root, &g.columns[0], l.right - l.left, &desc);
    root.draw(&Text::new(
        name,
        ((l.left + l.right) / 2, HEIGHT as i32 - 6),
        s,
    ))?;
    let s = desc
        .transform(FontTransform::Rotate270)
        .pos(Pos::new(HPos::Center, VPos::Top));
    let name = fit(root, &g.columns[1], l.bottom - l.top, &desc);
    root.draw(&Text::new(name, (6, (l.top + l.bottom) / 2), s))?;
    Ok(())
}

/// The colour scale right of the grid, with its ends and middle labelled.
fn colour_bar(root: &Area, l: &HeatLayout, (lo, hi): (f64, f64)) -> Res {
    const STEPS: i32 = 64;
    let (xa, xb) = (l.right + 24, l.right + 40);
    let h = l.bottom - l.top;
    for k in 0..STEPS {
        let ya = l.bottom - h * (k + 1) / STEPS;
        let yb = l.bottom - h * k / STEPS;
        let c = viridis((k as f64 + 0.5) / STEPS as f64);
        root.draw(&Rectangle::new([(xa, ya), (xb, yb)], c.filled()))?;
    }
    root.draw(&Rectangle::new(
        [(xa, l.top), (xb, l.bottom)],
        BLACK.mix(0.4),
    ))?;
    let s = font(14).pos(Pos::new(HPos::Left, VPos::Center));
    for (f, v) in [(0.0, lo), (0.5, (lo + hi) / 2.0), (1.0, hi)] {
        let y = l.bottom - (h as f64 * f) as i32;
        root.draw(&PathElement::new([(xb, y), (xb + 4, y)], BLACK))?;
        root.draw(&Text::new(tick(v), (xb + 7, y), s.clone()))?;
    }
    Ok(())
}
