//! Simulated time: integer nanoseconds, never the wall clock.
//!
//! [`SimTime`] is an instant since the start of the run; [`SimDuration`] a span. Both are plain
//! `u64` nanoseconds, so arithmetic is exact and ordering is total. Scenario files speak in
//! milliseconds (possibly fractional); they are converted once, at load time, by
//! [`SimDuration::from_ms_f64`].

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Nanoseconds per millisecond.
pub const NS_PER_MS: u64 = 1_000_000;
/// Nanoseconds per second.
pub const NS_PER_S: u64 = 1_000_000_000;

/// An instant of simulated time, in nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub fn from_ms(ms: u64) -> Self {
        SimTime(ms.saturating_mul(NS_PER_MS))
    }
    pub fn as_ns(self) -> u64 {
        self.0
    }
    /// Milliseconds as a float, for display and charts only.
    pub fn as_ms_f64(self) -> f64 {
        self.0 as f64 / NS_PER_MS as f64
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }
    /// Time elapsed since `earlier` (zero if `earlier` is later).
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub fn from_ms(ms: u64) -> Self {
        SimDuration(ms.saturating_mul(NS_PER_MS))
    }
    pub fn from_secs(s: u64) -> Self {
        SimDuration(s.saturating_mul(NS_PER_S))
    }
    /// Converts a (validated, finite, non-negative) millisecond value, rounding to the nearest
    /// nanosecond and saturating at `u64::MAX`.
    pub fn from_ms_f64(ms: f64) -> Self {
        let ns = (ms * NS_PER_MS as f64).round();
        if ns.is_nan() || ns <= 0.0 {
            SimDuration(0)
        } else if ns >= u64::MAX as f64 {
            SimDuration(u64::MAX)
        } else {
            SimDuration(ns as u64)
        }
    }
    pub fn as_ns(self) -> u64 {
        self.0
    }
    pub fn as_ms_f64(self) -> f64 {
        self.0 as f64 / NS_PER_MS as f64
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }
    pub fn saturating_mul(self, k: u64) -> Self {
        SimDuration(self.0.saturating_mul(k))
    }
    /// `self << shift`, saturating instead of overflowing.
    pub fn shl_saturating(self, shift: u32) -> Self {
        if shift >= 64 || self.0.leading_zeros() < shift {
            SimDuration(u64::MAX)
        } else {
            SimDuration(self.0 << shift)
        }
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}
impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}
impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, o: SimTime) -> SimDuration {
        self.since(o)
    }
}
impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, o: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(o.0))
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3} ms", self.as_ms_f64())
    }
}
impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3} ms", self.as_ms_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ms_conversion_rounds_and_saturates() {
        assert_eq!(SimDuration::from_ms_f64(1.5).as_ns(), 1_500_000);
        assert_eq!(SimDuration::from_ms_f64(0.0000004).as_ns(), 0);
        assert_eq!(SimDuration::from_ms_f64(1e30).as_ns(), u64::MAX);
        assert_eq!(SimDuration::from_ms_f64(-3.0).as_ns(), 0);
    }

    #[test]
    fn shifts_saturate() {
        assert_eq!(
            SimDuration::from_secs(1).shl_saturating(3),
            SimDuration::from_secs(8)
        );
        assert_eq!(SimDuration(1).shl_saturating(70), SimDuration(u64::MAX));
        assert_eq!(
            SimDuration(u64::MAX / 2 + 1).shl_saturating(1),
            SimDuration(u64::MAX)
        );
    }
}
