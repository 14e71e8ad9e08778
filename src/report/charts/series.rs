//! Bounded copies of the timeline and of the outcomes, kept while the simulation runs.

use crate::sim::Outcome;
use crate::sim::{ListenerSample, OutcomeRecord, Sample};
use crate::time::SimTime;

/// Timeline points kept at most (between half and all of this once the run is long).
pub const TIMELINE_POINTS: usize = 2000;
/// Outcome points kept at most (sampled evenly over the run, see [`OutcomePoints`]).
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
            a.evicted = b.evicted;
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

/// Finished attempts, sampled evenly over the run: every `stride`-th attempt to finish is
/// kept; when `cap` points are held, every other one is dropped and the stride doubles, so the
/// points always span the whole run (a one-hour flood is drawn to its end) in bounded memory.
#[derive(Clone, Debug)]
pub struct OutcomePoints {
    cap: usize,
    pub points: Vec<OutcomePoint>,
    pub total: u64,
    /// One attempt in `stride` is kept.
    pub stride: u64,
    /// Every finished attempt by outcome (indexed by `Outcome as usize`), kept or not.
    pub counts: [u64; 6],
}

impl OutcomePoints {
    pub fn new(cap: usize) -> Self {
        OutcomePoints {
            cap: cap.max(2),
            points: Vec::new(),
            total: 0,
            stride: 1,
            counts: [0; 6],
        }
    }
    pub fn push(&mut self, o: &OutcomeRecord) {
        let n = self.total;
        self.total += 1;
        self.counts[o.outcome as usize] += 1;
        if n % self.stride != 0 {
            return;
        }
        if self.points.len() == self.cap {
            let mut i = 0;
            self.points.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            self.stride *= 2;
            if n % self.stride != 0 {
                return;
            }
        }
        self.points.push(OutcomePoint {
            start_s: o.started.as_secs_f64(),
            took_s: o.ended.since(o.started).as_secs_f64(),
            outcome: o.outcome,
        });
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
                evicted: 0,
            }],
        }
    }

    #[test]
    fn outcome_points_cover_the_whole_run_in_bounded_memory() {
        let mut p = OutcomePoints::new(1000);
        let rec = |i: u64| OutcomeRecord {
            client: 0,
            attempt: i,
            outcome: if i % 3 == 0 {
                Outcome::TimedOut
            } else {
                Outcome::Established
            },
            reason: crate::tcp::Reason::Connect,
            started: SimTime(i * 1_000_000),
            ended: SimTime(i * 1_000_000 + 5),
            connected: None,
            syns_sent: 1,
            conn: None,
            error: None,
        };
        for i in 0..100_000 {
            p.push(&rec(i));
        }
        assert!(
            p.points.len() <= 1000 && p.points.len() > 500,
            "{}",
            p.points.len()
        );
        assert_eq!(p.stride, 128);
        let (first, last) = (p.points[0].start_s, p.points.last().unwrap().start_s);
        assert_eq!(first, 0.0);
        assert!(last > 99.0, "the points reach the end of the run: {last}");
        assert!(
            p.points
                .windows(2)
                .all(|w| (w[1].start_s - w[0].start_s - 0.128).abs() < 1e-9)
        );
        assert_eq!(p.counts.iter().sum::<u64>(), 100_000);
        assert_eq!(p.counts[Outcome::TimedOut as usize], 33_334);
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
