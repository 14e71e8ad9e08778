//! Bounded copies of the timeline and of the outcomes, kept while the simulation runs.

use crate::sim::Outcome;
use crate::sim::{ListenerSample, OutcomeRecord, Sample};
use crate::time::SimTime;

/// Timeline points kept at most (between half and all of this once the run is long).
pub const TIMELINE_POINTS: usize = 2000;
/// Outcome points kept (the first attempts to finish).
pub const OUTCOME_POINTS: usize = 20_000;
/// Listeners whose queues the charts draw (the first ones, in scenario order); the others are
/// named as left out in the legend (timeline.csv has them all). Keeps the charts' size and
/// drawing time, and the memory of the points kept, independent of the number of listeners.
pub const MAX_LISTENER_SERIES: usize = 8;

/// One (possibly merged) timeline point.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Point {
    /// Time of the last sample merged in, in seconds.
    pub t: f64,
    /// Connections per role and state at that last sample.
    pub counts: [[u64; 11]; 2],
    /// Per listener (the first [`MAX_LISTENER_SERIES`]): queue lengths are the maximum over the merged samples (peaks survive),
    /// drops and cookies the cumulative values at the last sample.
    pub listeners: Vec<ListenerSample>,
}

impl Point {
    fn of(t: SimTime, s: &Sample) -> Point {
        Point {
            t: t.as_secs_f64(),
            counts: s.counts,
            listeners: s.listeners[..s.listeners.len().min(MAX_LISTENER_SERIES)].to_vec(),
        }
    }

    /// Folds the later point `p` into `self`.
    fn merge(&mut self, p: &Point) {
        self.t = p.t;
        self.counts = p.counts;
        for (a, b) in self.listeners.iter_mut().zip(&p.listeners) {
            a.syn_queue = a.syn_queue.max(b.syn_queue);
            a.accept_queue = a.accept_queue.max(b.accept_queue);
            a.drops = b.drops;
            a.cookies = b.cookies;
        }
    }
}

/// The timeline, downsampled by stride doubling: every `stride` samples make one point; when
/// the buffer is full, neighbouring points are merged pairwise and the stride doubles.
#[derive(Clone, Debug)]
pub struct SampleBuffer {
    cap: usize,
    stride: u64,
    points: Vec<Point>,
    pending: Option<Point>,
    pending_n: u64,
}

impl SampleBuffer {
    pub fn new(cap: usize) -> Self {
        SampleBuffer {
            cap: cap.max(2),
            stride: 1,
            points: Vec::new(),
            pending: None,
            pending_n: 0,
        }
    }

    pub fn push(&mut self, t: SimTime, s: &Sample) {
        let p = Point::of(t, s);
        match &mut self.pending {
            Some(acc) => acc.merge(&p),
            None => self.pending = Some(p),
        }
        self.pending_n += 1;
        if self.pending_n < self.stride {
            return;
        }
        self.points.extend(self.pending.take());
        self.pending_n = 0;
        if self.points.len() >= self.cap {
            let old = std::mem::take(&mut self.points);
            let mut it = old.into_iter();
            while let Some(mut a) = it.next() {
                if let Some(b) = it.next() {
                    a.merge(&b);
                }
                self.points.push(a);
            }
            self.stride *= 2;
        }
    }

    /// Every point, including a partly filled last one.
    pub fn points(&self) -> Vec<Point> {
        let mut v = self.points.clone();
        v.extend(self.pending.clone());
        v
    }
}

/// One finished attempt: start and time to outcome in seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OutcomePoint {
    pub start_s: f64,
    pub took_s: f64,
    pub outcome: Outcome,
}

/// The first finished attempts (at most `cap`), and how many finished in all.
#[derive(Clone, Debug)]
pub struct OutcomePoints {
    cap: usize,
    pub points: Vec<OutcomePoint>,
    pub total: u64,
}

impl OutcomePoints {
    pub fn new(cap: usize) -> Self {
        OutcomePoints {
            cap,
            points: Vec::new(),
            total: 0,
        }
    }
    pub fn push(&mut self, o: &OutcomeRecord) {
        self.total += 1;
        if self.points.len() < self.cap {
            self.points.push(OutcomePoint {
                start_s: o.started.as_secs_f64(),
                took_s: o.ended.since(o.started).as_secs_f64(),
                outcome: o.outcome,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(q: u64, drops: u64) -> Sample {
        Sample {
            counts: [[q; 11]; 2],
            listeners: vec![ListenerSample {
                syn_queue: q,
                accept_queue: 0,
                drops,
                cookies: 0,
            }],
        }
    }

    #[test]
    fn stays_bounded_and_keeps_peaks() {
        let mut b = SampleBuffer::new(100);
        for i in 0..100_000u64 {
            let q = if i == 54_321 { 999 } else { i % 7 };
            b.push(SimTime(i * 1_000_000), &sample(q, i));
        }
        let p = b.points();
        assert!(p.len() <= 101, "{}", p.len());
        assert!(p.len() >= 50);
        assert_eq!(p.iter().map(|p| p.listeners[0].syn_queue).max(), Some(999));
        let last = p.last().unwrap();
        assert_eq!(last.listeners[0].drops, 99_999);
        assert!((last.t - 99.999).abs() < 1e-9);
        assert!(p.windows(2).all(|w| w[0].t < w[1].t));
    }

    #[test]
    fn short_runs_keep_every_sample() {
        let mut b = SampleBuffer::new(100);
        for i in 0..10u64 {
            b.push(SimTime(i), &sample(i, 0));
        }
        assert_eq!(b.points().len(), 10);
    }
}
