//! Attempts grouped by when they started relative to each attack window (before, during,
//! after), and the share established within each deadline of `success_within_ms`: the
//! figures that make runs comparable ("100 % before, 18 % during, 100 % after").
//!
//! An attempt belongs to the phase its **start** (first SYN, or the abort of an attempt that
//! never sent one) falls in: `before` is `[0, start)`, `during` is `[start, stop)` and `after`
//! is `[stop, end]` of the attacker's arrival window. Attempts still in progress at the end
//! count in their phase's `unfinished` and as not established.

use super::histogram::Histogram;
use crate::sim::Outcome;
use crate::spec::Scenario;
use crate::time::{SimDuration, SimTime};

/// The three phases of one attack window.
pub const PHASE_NAMES: [&str; 3] = ["before", "during", "after"];

/// What is folded for one group of attempts (a phase, or the whole run's deadlines).
#[derive(Clone, Debug, Default)]
pub struct Group {
    pub outcomes: [u64; 6],
    pub unfinished: u64,
    /// First SYN -> ESTABLISHED of the established attempts.
    pub latency: Histogram,
    /// Established within each deadline (same order as [`Phases::deadlines`]).
    pub within: Vec<u64>,
}

impl Group {
    fn new(deadlines: usize) -> Group {
        Group {
            within: vec![0; deadlines],
            ..Group::default()
        }
    }

    /// Attempts started in the group: finished ones plus those still in progress.
    pub fn attempts(&self) -> u64 {
        self.outcomes.iter().sum::<u64>() + self.unfinished
    }

    fn record(
        &mut self,
        outcome: Outcome,
        connect: Option<SimDuration>,
        deadlines: &[SimDuration],
    ) {
        self.outcomes[outcome as usize] += 1;
        if let (Outcome::Established, Some(c)) = (outcome, connect) {
            self.latency.record_ns(c.as_ns());
            for (n, d) in self.within.iter_mut().zip(deadlines) {
                if c <= *d {
                    *n += 1;
                }
            }
        }
    }
}

/// One attacker's window and the attempts of its three phases.
#[derive(Clone, Debug)]
pub struct Window {
    pub attacker: String,
    pub start: SimTime,
    pub stop: SimTime,
    /// Indexed like [`PHASE_NAMES`].
    pub groups: [Group; 3],
}

impl Window {
    /// Index into [`PHASE_NAMES`] of an attempt started at `t`.
    pub fn phase_of(&self, t: SimTime) -> usize {
        if t < self.start {
            0
        } else if t < self.stop {
            1
        } else {
            2
        }
    }
}

/// Per-phase and per-deadline folding for a run.
#[derive(Clone, Debug, Default)]
pub struct Phases {
    pub deadlines: Vec<SimDuration>,
    pub end: SimTime,
    /// Every attempt of the run, for the deadline shares.
    pub all: Group,
    pub windows: Vec<Window>,
}

impl Phases {
    pub fn new(scn: &Scenario) -> Phases {
        let n = scn.success_within.len();
        Phases {
            deadlines: scn.success_within.clone(),
            end: SimTime::ZERO + scn.duration,
            all: Group::new(n),
            windows: scn
                .attackers
                .iter()
                .map(|a| {
                    let (start, stop) = a.arrivals.window();
                    Window {
                        attacker: a.name.clone(),
                        start,
                        stop,
                        groups: [Group::new(n), Group::new(n), Group::new(n)],
                    }
                })
                .collect(),
        }
    }

    /// A finished attempt.
    pub fn finished(&mut self, started: SimTime, outcome: Outcome, connected: Option<SimTime>) {
        let c = connected.map(|t| t.since(started));
        self.all.record(outcome, c, &self.deadlines);
        for w in &mut self.windows {
            let p = w.phase_of(started);
            w.groups[p].record(outcome, c, &self.deadlines);
        }
    }

    /// An attempt still in progress when the run ended.
    pub fn unfinished(&mut self, started: SimTime) {
        self.all.unfinished += 1;
        for w in &mut self.windows {
            let p = w.phase_of(started);
            w.groups[p].unfinished += 1;
        }
    }

    /// The label of an attempt started at `t` in `attempts.csv`: `before` (every window is
    /// still to come), `during` (inside at least one), `between`, `after` (every window is
    /// over), or `none` in a run without attackers.
    pub fn label(&self, t: SimTime) -> &'static str {
        if self.windows.is_empty() {
            return "none";
        }
        if self.windows.iter().any(|w| w.phase_of(t) == 1) {
            "during"
        } else if self.windows.iter().all(|w| w.phase_of(t) == 0) {
            "before"
        } else if self.windows.iter().all(|w| w.phase_of(t) == 2) {
            "after"
        } else {
            "between"
        }
    }
}
