//! `timeline.csv`: connection counts per role and TCP state, and each listener's queue lengths
//! and cumulative drops/cookies, on the scenario's sampling grid. Streamed: memory does not grow
//! with the number of rows.

use std::io::Write;

use crate::net::HostId;
use crate::sim::{Observer, Sample};
use crate::tcp::{Role, TcpState};
use crate::time::SimTime;

pub struct TimelineWriter<W: Write> {
    w: W,
    line: String,
    pub error: Option<std::io::Error>,
}

/// The states shown per role (CLOSED is never live).
pub fn shown_states() -> impl Iterator<Item = TcpState> {
    TcpState::ALL.into_iter().filter(|s| *s != TcpState::Closed)
}

/// Formats nanoseconds as milliseconds with exactly three decimals, without floats.
pub fn ms3(ns: u64) -> String {
    format!("{}.{:03}", ns / 1_000_000, (ns / 1_000) % 1_000)
}

impl<W: Write> TimelineWriter<W> {
    /// `listeners` names each listener as `host:port`.
    pub fn new(mut w: W, listeners: &[String]) -> Self {
        let mut header = String::from("t_ms");
        for role in Role::ALL {
            for st in shown_states() {
                header.push_str(&format!(",{}_{}", role.name(), st.name()));
            }
        }
        for l in listeners {
            for col in [
                "syn_queue",
                "accept_queue",
                "listen_drops_total",
                "cookies_sent_total",
            ] {
                header.push_str(&format!(",{l}_{col}"));
            }
        }
        header.push('\n');
        let error = w.write_all(header.as_bytes()).err();
        TimelineWriter {
            w,
            line: String::new(),
            error,
        }
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.w.flush()?;
        Ok(self.w)
    }
}

impl<W: Write> Observer for TimelineWriter<W> {
    fn sample(&mut self, t: SimTime, s: &Sample) {
        use std::fmt::Write as _;
        self.line.clear();
        self.line.push_str(&ms3(t.as_ns()));
        for role in Role::ALL {
            for st in shown_states() {
                let _ = write!(self.line, ",{}", s.counts[role as usize][st.index()]);
            }
        }
        for l in &s.listeners {
            let _ = write!(
                self.line,
                ",{},{},{},{}",
                l.syn_queue, l.accept_queue, l.drops, l.cookies
            );
        }
        self.line.push('\n');
        if self.error.is_none() {
            self.error = self.w.write_all(self.line.as_bytes()).err();
        }
    }

    fn host(&mut self, _t: SimTime, _h: HostId, _up: bool) {}
}
