//! `timeline.csv`: connection counts per role and TCP state, and each listener's queue lengths
//! and cumulative drops/cookies, on the scenario's sampling grid. Streamed: memory does not grow
//! with the number of rows.

use std::io::Write;

use crate::net::HostId;
use crate::sim::{Observer, Sample};
use crate::tcp::{Role, TcpState};
use crate::time::SimTime;

/// Rows are written by the `csv` crate: a field holding the delimiter, a quote or a line break
/// (a host named `web,1`) is quoted as RFC 4180 §2 says, so every row has the header's column
/// count. Simplification: records end in `\n`, not RFC 4180's CRLF (every CSV reader accepts
/// both, and it keeps the file as it always was).
pub struct TimelineWriter<W: Write> {
    w: csv::Writer<W>,
    /// Scratch for one numeric field (reused: no allocation per row).
    line: String,
    pub error: Option<std::io::Error>,
}

/// The states shown per role (CLOSED is never live).
pub fn shown_states() -> impl Iterator<Item = TcpState> {
    TcpState::ALL.into_iter().filter(|s| *s != TcpState::Closed)
}

/// Formats nanoseconds as milliseconds with exactly three decimals, without floats.
pub fn ms3(ns: u64) -> String {
    Ms3(ns).to_string()
}

/// Nanoseconds shown as milliseconds with three decimals (see [`ms3`]), without allocating.
pub(crate) struct Ms3(pub u64);

impl std::fmt::Display for Ms3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1_000_000, (self.0 / 1_000) % 1_000)
    }
}

impl<W: Write> TimelineWriter<W> {
    /// `listeners` names each listener as `host:port`.
    pub fn new(w: W, listeners: &[String]) -> Self {
        let mut header = vec!["t_ms".to_string()];
        for role in Role::ALL {
            for st in shown_states() {
                header.push(format!("{}_{}", role.name(), st.name()));
            }
        }
        for l in listeners {
            for col in [
                "syn_queue",
                "accept_queue",
                "listen_drops_total",
                "cookies_sent_total",
            ] {
                header.push(format!("{l}_{col}"));
            }
        }
        // Not flexible: a row whose length differs from the header's is an error, not a file
        // with ragged rows.
        let mut w = csv::WriterBuilder::new().flexible(false).from_writer(w);
        let error = w.write_record(&header).err().map(std::io::Error::from);
        TimelineWriter {
            w,
            line: String::new(),
            error,
        }
    }

    /// Writes one numeric field through the scratch string.
    fn field(&mut self, value: impl std::fmt::Display) -> csv::Result<()> {
        use std::fmt::Write as _;
        self.line.clear();
        let _ = write!(self.line, "{value}");
        self.w.write_field(self.line.as_bytes())
    }

    fn row(&mut self, t: SimTime, s: &Sample) -> csv::Result<()> {
        self.field(Ms3(t.as_ns()))?;
        for role in Role::ALL {
            for st in shown_states() {
                self.field(s.counts[role as usize][st.index()])?;
            }
        }
        for l in &s.listeners {
            for v in [l.syn_queue, l.accept_queue, l.drops, l.cookies] {
                self.field(v)?;
            }
        }
        self.w.write_record(None::<&[u8]>)
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let mut w = self.w.into_inner().map_err(|e| e.into_error())?;
        w.flush()?;
        Ok(w)
    }
}

impl<W: Write> Observer for TimelineWriter<W> {
    fn sample(&mut self, t: SimTime, s: &Sample) {
        if self.error.is_none() {
            self.error = self.row(t, s).err().map(std::io::Error::from);
        }
    }

    fn host(&mut self, _t: SimTime, _h: HostId, _up: bool) {}
}
