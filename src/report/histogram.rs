//! Latency percentiles with bounded memory: the first [`EXACT_LIMIT`] samples are kept as they
//! are (percentiles exact to the nanosecond); past that, all samples move into a log-linear
//! histogram in microseconds (exact below 2.048 ms, then 1024 buckets per power of two:
//! relative error below 0.1 %), reported as the bucket midpoint clamped to the exact observed
//! min and max. Either way memory is bounded, however long the run.

/// Samples kept exactly before switching to buckets (800 KB).
pub const EXACT_LIMIT: usize = 100_000;

#[derive(Clone, Debug, Default)]
pub struct Histogram {
    /// Exact samples in ns while `buckets` is empty.
    exact: Vec<u64>,
    buckets: Vec<u64>,
    count: u64,
    min_ns: u64,
    max_ns: u64,
    sum_ns: u128,
}

const LINEAR: u64 = 2048;
const SUB_BITS: u32 = 10;

fn index(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let e = 63 - v.leading_zeros(); // >= 11
    let sub = (v >> (e - SUB_BITS)) & ((1 << SUB_BITS) - 1);
    (LINEAR + (e as u64 - 11) * (1 << SUB_BITS) + sub) as usize
}

/// (lower bound, width) of bucket `i`.
fn bounds(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < LINEAR {
        return (i, 1);
    }
    let j = i - LINEAR;
    let e = 11 + (j >> SUB_BITS) as u32;
    let sub = j & ((1 << SUB_BITS) - 1);
    let width = 1u64 << (e - SUB_BITS);
    (((1 << SUB_BITS) + sub) * width, width)
}

impl Histogram {
    fn bucket(&mut self, ns: u64) {
        let i = index(ns / 1_000);
        if i >= self.buckets.len() {
            self.buckets.resize(i + 1, 0);
        }
        self.buckets[i] += 1;
    }

    pub fn record_ns(&mut self, v: u64) {
        if self.buckets.is_empty() && self.exact.len() < EXACT_LIMIT {
            self.exact.push(v);
        } else {
            if self.buckets.is_empty() {
                for x in std::mem::take(&mut self.exact) {
                    self.bucket(x);
                }
            }
            self.bucket(v);
        }
        if self.count == 0 || v < self.min_ns {
            self.min_ns = v;
        }
        self.max_ns = self.max_ns.max(v);
        self.count += 1;
        self.sum_ns += v as u128;
    }

    pub fn count(&self) -> u64 {
        self.count
    }
    pub fn min_ns(&self) -> Option<u64> {
        (self.count > 0).then_some(self.min_ns)
    }
    pub fn max_ns(&self) -> Option<u64> {
        (self.count > 0).then_some(self.max_ns)
    }
    pub fn mean_ns(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum_ns as f64 / self.count as f64)
    }
    /// Whether quantiles are exact (fewer than [`EXACT_LIMIT`] samples so far).
    pub fn is_exact(&self) -> bool {
        self.buckets.is_empty()
    }

    /// The empirical CDF as `(value ns, fraction <= value)` points, at most `max_points` of
    /// them (evenly spaced in rank when there are more distinct values), for drawing.
    pub fn cdf_ns(&self, max_points: usize) -> Vec<(u64, f64)> {
        let n = self.count as f64;
        let mut steps: Vec<(u64, u64)> = Vec::new(); // (value, samples <= value)
        if self.is_exact() {
            let mut v = self.exact.clone();
            v.sort_unstable();
            for (i, &x) in v.iter().enumerate() {
                match steps.last_mut() {
                    Some(last) if last.0 == x => last.1 = i as u64 + 1,
                    _ => steps.push((x, i as u64 + 1)),
                }
            }
        } else {
            let mut seen = 0;
            for (i, &c) in self.buckets.iter().enumerate() {
                if c > 0 {
                    seen += c;
                    let (lo, w) = bounds(i);
                    steps.push((((lo + w / 2) * 1_000).clamp(self.min_ns, self.max_ns), seen));
                }
            }
        }
        // Thinned to about `max_points`: every `stride`-th step, and always the first one and
        // every step that alone holds 1/max_points of the samples (thinning must not erase
        // the jump of a large group of equal values, such as every unhindered handshake).
        let stride = steps.len().div_ceil(max_points.max(1)).max(1);
        let big = (n / max_points.max(1) as f64).max(1.0);
        let mut out: Vec<(u64, f64)> = steps
            .iter()
            .enumerate()
            .filter(|&(i, &(_, c))| {
                let jump = c - if i > 0 { steps[i - 1].1 } else { 0 };
                i == 0 || (i + 1) % stride == 0 || jump as f64 >= big
            })
            .map(|(_, &(v, c))| (v, c as f64 / n))
            .collect();
        if let Some(&(v, c)) = steps.last() {
            if out.last().map(|p| p.0) != Some(v) {
                out.push((v, c as f64 / n));
            }
        }
        out
    }

    /// The `q`-quantile (0 < q <= 1) by the nearest-rank method, in ns.
    pub fn quantile_ns(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        if self.is_exact() {
            let mut v = self.exact.clone();
            let (_, nth, _) = v.select_nth_unstable((rank - 1) as usize);
            return Some(*nth);
        }
        let mut seen = 0;
        for (i, &c) in self.buckets.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (lo, w) = bounds(i);
                return Some(((lo + w / 2) * 1_000).clamp(self.min_ns, self.max_ns));
            }
        }
        Some(self.max_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_round_trip() {
        for v in [
            0,
            1,
            2047,
            2048,
            2049,
            20_000,
            1_020_000,
            131_000_000,
            u64::MAX / 4,
        ] {
            let (lo, w) = bounds(index(v));
            assert!(lo <= v && v < lo + w, "{v}: [{lo}, {})", lo + w);
            assert!(w as f64 / lo.max(1) as f64 <= 1.0 / 1024.0 || v < 2048);
        }
    }

    #[test]
    fn small_runs_are_exact() {
        let mut h = Histogram::default();
        for v in [20_000_000, 20_000_000, 2_020_000_000, 20_000_123] {
            h.record_ns(v);
        }
        assert!(h.is_exact());
        assert_eq!(h.quantile_ns(0.5), Some(20_000_000));
        assert_eq!(h.quantile_ns(0.75), Some(20_000_123));
        assert_eq!(h.quantile_ns(0.99), Some(2_020_000_000));
    }

    #[test]
    fn a_thinned_cdf_keeps_the_jump_of_a_large_group() {
        // 12 000 unhindered handshakes at 20 ms, then 6 000 distinct slow ones: thinned to 100
        // points, the CDF must still rise to 2/3 at 20 ms (it used to start at a later step).
        let mut h = Histogram::default();
        for _ in 0..12_000 {
            h.record_ns(20_000_000);
        }
        for i in 0..6_000u64 {
            h.record_ns(1_000_000_000 + i * 1_000_000);
        }
        let cdf = h.cdf_ns(100);
        assert_eq!(cdf[0].0, 20_000_000);
        assert!((cdf[0].1 - 2.0 / 3.0).abs() < 1e-9, "{:?}", cdf[0]);
        assert!(cdf.len() <= 202, "{}", cdf.len());
        assert_eq!(cdf.last().unwrap().1, 1.0);
    }

    #[test]
    fn cdf_steps_at_each_distinct_value() {
        let mut h = Histogram::default();
        assert!(h.cdf_ns(100).is_empty());
        for v in [20_000_000, 20_000_000, 1_020_000_000, 2_020_000_000] {
            h.record_ns(v);
        }
        assert_eq!(
            h.cdf_ns(100),
            vec![
                (20_000_000, 0.5),
                (1_020_000_000, 0.75),
                (2_020_000_000, 1.0)
            ]
        );
        // Bounded number of points, still ending at 1.
        let mut h = Histogram::default();
        for v in 0..10_000u64 {
            h.record_ns(v);
        }
        let c = h.cdf_ns(100);
        assert!(c.len() <= 101);
        assert_eq!(c.last(), Some(&(9_999, 1.0)));
    }

    #[test]
    fn large_runs_switch_to_buckets_within_a_thousandth() {
        let mut h = Histogram::default();
        for v in 1..=(2 * EXACT_LIMIT as u64) {
            h.record_ns(v * 10_000);
        }
        assert!(!h.is_exact());
        let p50 = h.quantile_ns(0.5).unwrap() as f64;
        let want = EXACT_LIMIT as f64 * 10_000.0;
        assert!((p50 - want).abs() / want < 0.001, "{p50}");
        assert_eq!(h.quantile_ns(1.0), Some(2 * EXACT_LIMIT as u64 * 10_000));
        assert_eq!(h.min_ns(), Some(10_000));
    }
}
