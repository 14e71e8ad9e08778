//! When a client or an attacker opens connections.

use crate::time::{SimDuration, SimTime};

/// Arrival times of connection attempts (client connects, attack SYNs).
#[derive(Clone, Debug, PartialEq)]
pub enum Arrivals {
    /// Exactly these instants, sorted.
    Times(Vec<SimTime>),
    /// Every `interval` from `start` until `stop`, at most `max`.
    Constant {
        interval: SimDuration,
        start: SimTime,
        stop: SimTime,
        max: u64,
    },
    /// A Poisson process of `rate_per_s` from `start` until `stop`, at most `max`.
    Poisson {
        rate_per_s: f64,
        start: SimTime,
        stop: SimTime,
        max: u64,
    },
}

impl Arrivals {
    /// The window `[start, stop)` arrivals may fall in (for listed times: first to last).
    pub fn window(&self) -> (SimTime, SimTime) {
        match self {
            Arrivals::Times(t) => (
                t.first().copied().unwrap_or(SimTime::ZERO),
                t.last().copied().unwrap_or(SimTime::ZERO),
            ),
            Arrivals::Constant { start, stop, .. } | Arrivals::Poisson { start, stop, .. } => {
                (*start, *stop)
            }
        }
    }

    /// Expected number of arrivals (for the event budget).
    pub fn expected(&self) -> f64 {
        match self {
            Arrivals::Times(t) => t.len() as f64,
            Arrivals::Constant {
                interval,
                start,
                stop,
                max,
            } => ((stop.since(*start).as_ns() as f64 / interval.as_ns().max(1) as f64) + 1.0)
                .min(*max as f64),
            Arrivals::Poisson {
                rate_per_s,
                start,
                stop,
                max,
            } => (stop.since(*start).as_secs_f64() * rate_per_s).min(*max as f64),
        }
    }
}
