//! Arrival processes: when legitimate clients open connections and attackers send SYNs.

use crate::rng::{StreamRng, exponential};
use crate::spec::Arrivals;
use crate::time::{NS_PER_S, SimDuration, SimTime};

/// Yields arrival times one by one from its own random stream.
pub struct ArrivalProcess {
    spec: Arrivals,
    rng: StreamRng,
    idx: u64,
    last: SimTime,
}

impl ArrivalProcess {
    pub fn new(spec: Arrivals, rng: StreamRng) -> Self {
        ArrivalProcess {
            spec,
            rng,
            idx: 0,
            last: SimTime::ZERO,
        }
    }

    /// The next arrival time, or `None` when the process is over.
    pub fn next_time(&mut self) -> Option<SimTime> {
        let i = self.idx;
        let t = match &self.spec {
            Arrivals::Times(ts) => *ts.get(i as usize)?,
            Arrivals::Constant {
                interval,
                start,
                stop,
                max,
            } => {
                if i >= *max {
                    return None;
                }
                let t = *start + SimDuration(interval.as_ns().checked_mul(i)?);
                if t > *stop {
                    return None;
                }
                t
            }
            Arrivals::Poisson {
                rate_per_s,
                start,
                stop,
                max,
            } => {
                if i >= *max {
                    return None;
                }
                let base = if i == 0 { *start } else { self.last };
                let gap_ns = exponential(&mut self.rng, NS_PER_S as f64 / rate_per_s);
                let t = base + SimDuration(gap_ns.round().min(u64::MAX as f64) as u64);
                if t > *stop {
                    return None;
                }
                t
            }
        };
        self.idx += 1;
        self.last = t;
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::RngStreams;

    #[test]
    fn constant_rate_is_evenly_spaced_and_bounded() {
        let spec = Arrivals::Constant {
            interval: SimDuration::from_ms(100),
            start: SimTime::from_ms(50),
            stop: SimTime::from_ms(400),
            max: u64::MAX,
        };
        let mut p = ArrivalProcess::new(spec, RngStreams::new(1).stream("x"));
        let v: Vec<u64> = std::iter::from_fn(|| p.next_time())
            .map(|t| t.as_ns() / 1_000_000)
            .collect();
        assert_eq!(v, [50, 150, 250, 350]);
    }

    #[test]
    fn poisson_mean_rate() {
        let spec = Arrivals::Poisson {
            rate_per_s: 1000.0,
            start: SimTime::ZERO,
            stop: SimTime::from_ms(100_000),
            max: u64::MAX,
        };
        let mut p = ArrivalProcess::new(spec, RngStreams::new(3).stream("x"));
        let n = std::iter::from_fn(|| p.next_time()).count();
        assert!((99_000..101_000).contains(&n), "{n}");
    }
}
