//! The x axis of the line charts: numeric (linear or logarithmic) or evenly spaced labels.

use super::MAX_TEXT_GRID;
use crate::report::charts::tick;

/// How the first column maps to x.
pub(super) enum XAxis {
    /// Evenly spaced labels at 0, 1, 2, …
    Labels,
    /// Per x value its position (the value, or its log10).
    Numeric { pos: Vec<f64>, log: bool },
}

impl XAxis {
    pub(super) fn of(xs: &[String]) -> XAxis {
        let v: Option<Vec<f64>> = xs
            .iter()
            .map(|s| s.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
            .collect();
        match v {
            Some(v) if !v.is_empty() => {
                let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let log = lo > 0.0 && hi / lo >= 16.0;
                let pos = if log {
                    v.iter().map(|x| x.log10()).collect()
                } else {
                    v
                };
                XAxis::Numeric { pos, log }
            }
            _ => XAxis::Labels,
        }
    }

    pub(super) fn pos(&self, i: usize) -> f64 {
        match self {
            XAxis::Labels => i as f64,
            XAxis::Numeric { pos, .. } => pos[i],
        }
    }

    pub(super) fn range(&self, n: usize) -> (f64, f64) {
        match self {
            XAxis::Labels => (-0.5, n.max(1) as f64 - 0.5),
            XAxis::Numeric { pos, .. } => {
                let lo = pos.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = pos.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let pad = if hi > lo {
                    (hi - lo) * 0.05
                } else {
                    (lo.abs() * 0.5).max(0.5)
                };
                (lo - pad, hi + pad)
            }
        }
    }

    /// Tick positions and labels.
    pub(super) fn ticks(&self, xs: &[String], lo: f64, hi: f64) -> Vec<(f64, String)> {
        match self {
            XAxis::Labels => xs
                .iter()
                .enumerate()
                .map(|(i, l)| (i as f64, l.clone()))
                .collect(),
            XAxis::Numeric { pos, log: true } if xs.len() <= MAX_TEXT_GRID => {
                pos.iter().copied().zip(xs.iter().cloned()).collect()
            }
            XAxis::Numeric { log: true, .. } => (lo.ceil() as i32..=hi.floor() as i32)
                .map(|k| (k as f64, tick(10f64.powi(k))))
                .collect(),
            XAxis::Numeric { log: false, .. } => nice_ticks(lo, hi, 6),
        }
    }
}

/// About `n` round tick values in `[lo, hi]`.
fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<(f64, String)> {
    let raw = (hi - lo) / n.max(1) as f64;
    if !(raw > 0.0 && raw.is_finite()) {
        return Vec::new();
    }
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|f| f * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    (0..=4 * n as i64)
        .map(|k| (first + k) as f64 * step)
        .take_while(|v| *v <= hi + step * 1e-9)
        .map(|v| (v, tick(v)))
        .collect()
}
