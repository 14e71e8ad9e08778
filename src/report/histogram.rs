//! A log-linear latency histogram in microseconds: exact below 2.048 ms, then 1024 buckets per
//! power of two (relative error below 0.1 %). Fixed memory however many samples it takes.
//! Percentiles report the bucket midpoint clamped to the exact observed min and max, so a run
//! where every value is equal reports that value exactly.

#[derive(Clone, Debug, Default)]
pub struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    min_us: u64,
    max_us: u64,
    sum_us: u128,
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
    pub fn record_us(&mut self, v: u64) {
        let i = index(v);
        if i >= self.buckets.len() {
            self.buckets.resize(i + 1, 0);
        }
        self.buckets[i] += 1;
        if self.count == 0 || v < self.min_us {
            self.min_us = v;
        }
        self.max_us = self.max_us.max(v);
        self.count += 1;
        self.sum_us += v as u128;
    }

    pub fn count(&self) -> u64 {
        self.count
    }
    pub fn min_us(&self) -> Option<u64> {
        (self.count > 0).then_some(self.min_us)
    }
    pub fn max_us(&self) -> Option<u64> {
        (self.count > 0).then_some(self.max_us)
    }
    pub fn mean_us(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum_us as f64 / self.count as f64)
    }

    /// The distribution as `(bucket midpoint clamped to [min, max], fraction of samples at or
    /// below this bucket)` for every non-empty bucket, in increasing order.
    pub fn cdf_us(&self) -> Vec<(u64, f64)> {
        let mut seen = 0;
        let mut out = Vec::new();
        for (i, &c) in self.buckets.iter().enumerate() {
            if c == 0 {
                continue;
            }
            seen += c;
            let (lo, w) = bounds(i);
            let v = (lo + w / 2).clamp(self.min_us, self.max_us);
            out.push((v, seen as f64 / self.count as f64));
        }
        out
    }

    /// The `q`-quantile (0 < q <= 1) by the nearest-rank method.
    pub fn quantile_us(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (i, &c) in self.buckets.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (lo, w) = bounds(i);
                return Some((lo + w / 2).clamp(self.min_us, self.max_us));
            }
        }
        Some(self.max_us)
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
    fn equal_values_are_exact() {
        let mut h = Histogram::default();
        for _ in 0..100 {
            h.record_us(20_000);
        }
        assert_eq!(h.quantile_us(0.5), Some(20_000));
        assert_eq!(h.quantile_us(0.99), Some(20_000));
    }

    #[test]
    fn cdf_ends_at_one() {
        let mut h = Histogram::default();
        assert!(h.cdf_us().is_empty());
        for v in [20_000, 20_000, 1_020_000, 2_020_000] {
            h.record_us(v);
        }
        let c = h.cdf_us();
        assert_eq!(c.len(), 3);
        assert!(c[0].0.abs_diff(20_000) <= 20, "{:?}", c[0]);
        assert_eq!(c[0].1, 0.5);
        assert_eq!(c[2].1, 1.0);
        assert!(c[2].0.abs_diff(2_020_000) < 2_020);
    }

    #[test]
    fn quantiles_are_close() {
        let mut h = Histogram::default();
        for v in 1..=100_000u64 {
            h.record_us(v * 10);
        }
        let p50 = h.quantile_us(0.5).unwrap() as f64;
        assert!((p50 - 500_000.0).abs() / 500_000.0 < 0.001, "{p50}");
        assert_eq!(h.quantile_us(1.0), Some(1_000_000));
        assert_eq!(h.min_us(), Some(10));
    }
}
