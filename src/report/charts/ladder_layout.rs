//! Where things go on a ladder panel: the vertical layout of a connection's moments, how
//! many segments fit before rows get too tight, and free places for labels.

use super::ladder::{LadderConn, Side};
use crate::time::SimTime;

/// The two ends of a drawn arrow.
pub(super) type Arrow = ((i32, i32), (i32, i32));

// ---------------------------------------------------------------------------------- layout

/// A moment on a panel's time axis: a time and, for several events of one side at the same
/// instant, which one.
pub(super) type Key = (SimTime, u32);

/// Vertical layout of one connection's panel, in "units" (one typical hop is one unit).
pub(super) struct Layout {
    pub keys: Vec<Key>,
    pub y: Vec<f64>,
    /// (y in units where the break is drawn, the time skipped).
    pub breaks: Vec<(f64, f64)>,
    /// Per segment: (send key, arrival key if it arrived somewhere).
    pub seg_keys: Vec<(Key, Option<Key>)>,
    pub mark_keys: Vec<Key>,
    pub total: f64,
}

fn median_hop(c: &LadderConn) -> f64 {
    let mut d: Vec<u64> = c
        .segs
        .iter()
        .filter_map(|s| s.arrived.map(|a| a.since(s.sent).as_ns()))
        .collect();
    d.sort_unstable();
    d.get(d.len() / 2).map_or(10e6, |&v| (v as f64).max(1000.0))
}

impl Layout {
    pub fn of(c: &LadderConn) -> Layout {
        let mut sends: Vec<(SimTime, Side)> = Vec::new();
        let mut arrivals: Vec<(SimTime, Side)> = Vec::new();
        let mut seg_keys = Vec::new();
        let mut keys = Vec::new();
        for s in &c.segs {
            let k = sends.iter().filter(|&&e| e == (s.sent, s.from)).count() as u32;
            sends.push((s.sent, s.from));
            let send = (s.sent, k);
            keys.push(send);
            let arr = s.arrived.map(|a| {
                let to = s.from.other();
                let k = arrivals.iter().filter(|&&e| e == (a, to)).count() as u32;
                arrivals.push((a, to));
                (a, k)
            });
            keys.extend(arr);
            seg_keys.push((send, arr));
        }
        let mark_keys: Vec<Key> = c.marks.iter().map(|m| (m.t, 0)).collect();
        keys.extend(&mark_keys);
        keys.sort();
        keys.dedup();
        let hop = median_hop(c);
        let mut y = Vec::with_capacity(keys.len());
        let mut breaks = Vec::new();
        let mut cur = 0.0;
        for (i, k) in keys.iter().enumerate() {
            if i > 0 {
                let prev = keys[i - 1].0;
                if k.0 == prev {
                    cur += 1.0;
                } else {
                    let gap = k.0.since(prev).as_ns() as f64;
                    if gap > 4.0 * hop {
                        breaks.push((cur + 0.8, gap / 1e9));
                        cur += 1.6;
                    } else {
                        cur += (gap / hop).clamp(1.0, 2.5);
                    }
                }
            }
            y.push(cur);
        }
        Layout {
            keys,
            y,
            breaks,
            seg_keys,
            mark_keys,
            total: cur + 1.0,
        }
    }

    pub fn y_of(&self, k: Key) -> f64 {
        match self.keys.binary_search(&k) {
            Ok(i) => self.y[i],
            Err(_) => 0.0,
        }
    }
}

/// Whether the segment from `a` to `b` passes through the box `r` (x0, y0, x1, y1).
pub(super) fn crosses(((ax, ay), (bx, by)): Arrow, r: &[i32; 4]) -> bool {
    // Sample the segment: arrows are short and boxes small, 24 steps are exact enough.
    (0..=24).any(|k| {
        let f = k as f64 / 24.0;
        let x = ax as f64 + (bx - ax) as f64 * f;
        let y = ay as f64 + (by - ay) as f64 * f;
        x > r[0] as f64 && x < r[2] as f64 && y > r[1] as f64 && y < r[3] as f64
    })
}

/// The first free place for a `w` x `h` label of arrow `i`: along it, then just above or
/// below it; free means no overlap with a placed label and no other arrow through it.
pub(super) fn label_spot(
    arrows: &[Arrow],
    i: usize,
    placed: &[[i32; 4]],
    (w, h): (i32, i32),
) -> Option<[i32; 4]> {
    let ((ax, ay), (bx, by)) = arrows[i];
    let free = |b: &[i32; 4]| {
        placed
            .iter()
            .all(|p| b[2] <= p[0] || p[2] <= b[0] || b[3] <= p[1] || p[3] <= b[1])
            && arrows
                .iter()
                .enumerate()
                .all(|(j, &a)| j == i || !crosses(a, b))
    };
    for dy in [0, -(h / 2 + 3), h / 2 + 3] {
        for f in [0.5, 0.38, 0.62, 0.28, 0.72, 0.2, 0.8] {
            let mx = ax + ((bx - ax) as f64 * f) as i32;
            let my = ay + ((by - ay) as f64 * f) as i32 + dy;
            let b = [mx - w / 2, my - h / 2, mx - w / 2 + w, my - h / 2 + h];
            if free(&b) {
                return Some(b);
            }
        }
    }
    None
}

/// The first segments of `c` that fit in `units` layout units, and how many were left out.
pub(super) fn fit(c: &LadderConn, units: f64) -> (LadderConn, u64) {
    if Layout::of(c).total <= units {
        return (c.clone(), 0);
    }
    let (mut lo, mut hi) = (1, c.segs.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if Layout::of(&cut(c, mid)).total <= units {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    (cut(c, lo), (c.segs.len() - lo) as u64)
}

/// `c` with only its first `n` segments and the marks up to the last of their moments.
fn cut(c: &LadderConn, n: usize) -> LadderConn {
    let mut v = c.clone();
    v.segs.truncate(n);
    let last = v
        .segs
        .iter()
        .map(|s| s.arrived.unwrap_or(s.sent))
        .max()
        .unwrap_or(SimTime::ZERO);
    v.marks.retain(|m| m.t <= last);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overlaps(a: &[i32; 4], b: &[i32; 4]) -> bool {
        !(a[2] <= b[0] || b[2] <= a[0] || a[3] <= b[1] || b[3] <= a[1])
    }

    #[test]
    fn a_label_spot_covers_no_placed_label_and_no_other_arrow() {
        // Three crossing arrows between lines at x = 100 and x = 400, labels placed in turn.
        let arrows: Vec<Arrow> = vec![
            ((100, 100), (400, 130)),
            ((400, 110), (100, 140)),
            ((100, 120), (400, 150)),
        ];
        let mut placed = vec![[230, 100, 270, 115]];
        for i in 0..arrows.len() {
            let Some(b) = label_spot(&arrows, i, &placed, (90, 14)) else {
                continue;
            };
            assert!(
                placed.iter().all(|p| !overlaps(p, &b)),
                "{b:?} over {placed:?}"
            );
            for (j, &a) in arrows.iter().enumerate() {
                assert!(
                    j == i || !crosses(a, &b),
                    "label {i} {b:?} covers arrow {j}"
                );
            }
            placed.push(b);
        }
        assert!(placed.len() >= 3, "some labels found a place: {placed:?}");
    }

    #[test]
    fn with_no_free_place_there_is_no_spot() {
        let arrows: Vec<Arrow> = vec![((100, 100), (400, 130))];
        let placed = vec![[0, 0, 1000, 1000]];
        assert_eq!(label_spot(&arrows, 0, &placed, (50, 14)), None);
    }
}
