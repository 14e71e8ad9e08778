//! `attempts.csv`: one row per legitimate connection attempt, streamed as attempts finish
//! (so in order of their end), then the attempts still in progress at the end, by client and
//! attempt number. Columns:
//!
//! | column | meaning |
//! |---|---|
//! | `client` | the client's name |
//! | `attempt` | its attempt number, from 0 |
//! | `phase` | `before`, `during`, `between` or `after` the attack windows ([`Phases::label`]); `none` without attackers |
//! | `start_ms` | the attempt's start (its first SYN) |
//! | `outcome` | `established`, `refused`, `unreachable`, `timed_out`, `reset`, `aborted`, or `unfinished` |
//! | `end_ms` | when the outcome was decided (empty while unfinished) |
//! | `connect_ms` | first SYN -> ESTABLISHED (empty unless the handshake completed) |
//! | `syns_sent` | SYNs sent: the first and its retransmissions |
//!
//! Bounded: at most `max_rows` rows ([`DEFAULT_MAX_ATTEMPT_ROWS`], about 60 MB; the CLI's
//! `--max-attempt-rows`). Past the cap rows are counted, not written, and the summary says
//! how many were left out.

use std::io::Write;

use super::phases::Phases;
use super::timeline::Ms3;
use crate::sim::{Observer, OutcomeRecord, PendingAttempt};
use crate::time::SimTime;

/// Rows `attempts.csv` holds at most by default.
pub const DEFAULT_MAX_ATTEMPT_ROWS: u64 = 1_000_000;

/// Bytes of a row, at least (for the output budget): `c,0,none,0.000,aborted,0.000,,0,\n`.
pub const MIN_ROW_BYTES: u64 = 32;

const HEADER: [&str; 9] = [
    "client",
    "attempt",
    "phase",
    "start_ms",
    "outcome",
    "end_ms",
    "connect_ms",
    "syns_sent",
    "error",
];

/// Streams `attempts.csv` (see the module doc).
pub struct AttemptsWriter<W: Write> {
    w: csv::Writer<W>,
    clients: Vec<String>,
    /// For the phase labels only.
    phases: Phases,
    max_rows: u64,
    pub rows: u64,
    /// Rows past the cap, not written.
    pub rows_left_out: u64,
    /// Scratch for one numeric field.
    field: String,
    pub error: Option<std::io::Error>,
}

impl<W: Write> AttemptsWriter<W> {
    pub fn new(w: W, clients: Vec<String>, phases: Phases, max_rows: u64) -> Self {
        let mut w = csv::WriterBuilder::new().flexible(false).from_writer(w);
        let error = w.write_record(HEADER).err().map(std::io::Error::from);
        AttemptsWriter {
            w,
            clients,
            phases,
            max_rows,
            rows: 0,
            rows_left_out: 0,
            field: String::new(),
            error,
        }
    }

    fn num(&mut self, v: impl std::fmt::Display) -> csv::Result<()> {
        use std::fmt::Write as _;
        self.field.clear();
        let _ = write!(self.field, "{v}");
        self.w.write_field(self.field.as_bytes())
    }

    fn opt_ms(&mut self, ns: Option<u64>) -> csv::Result<()> {
        match ns {
            Some(ns) => self.num(Ms3(ns)),
            None => self.w.write_field(b""),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn row(
        &mut self,
        client: u32,
        attempt: u64,
        started: SimTime,
        (outcome, error): (&str, &str),
        ended: Option<SimTime>,
        connected: Option<SimTime>,
        syns_sent: u32,
    ) {
        if self.error.is_some() {
            return;
        }
        if self.rows >= self.max_rows {
            self.rows_left_out += 1;
            return;
        }
        self.rows += 1;
        let r = (|| {
            self.w
                .write_field(self.clients[client as usize].as_bytes())?;
            self.num(attempt)?;
            self.w.write_field(self.phases.label(started))?;
            self.num(Ms3(started.as_ns()))?;
            self.w.write_field(outcome)?;
            self.opt_ms(ended.map(SimTime::as_ns))?;
            self.opt_ms(connected.map(|c| c.since(started).as_ns()))?;
            self.num(syns_sent)?;
            self.w.write_field(error)?;
            self.w.write_record(None::<&[u8]>)
        })();
        self.error = r.err().map(std::io::Error::from);
    }

    /// Appends the attempts still in progress and flushes.
    pub fn finish(mut self, pending: &[PendingAttempt]) -> std::io::Result<(u64, u64)> {
        for p in pending {
            self.row(
                p.client,
                p.attempt,
                p.started,
                ("unfinished", ""),
                None,
                None,
                p.syns_sent,
            );
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let (rows, left_out) = (self.rows, self.rows_left_out);
        let mut w = self.w.into_inner().map_err(|e| e.into_error())?;
        w.flush()?;
        Ok((rows, left_out))
    }
}

impl<W: Write> Observer for AttemptsWriter<W> {
    fn outcome(&mut self, _t: SimTime, o: &OutcomeRecord) {
        self.row(
            o.client,
            o.attempt,
            o.started,
            (o.outcome.name(), o.error.unwrap_or("")),
            Some(o.ended),
            o.connected,
            o.syns_sent,
        );
    }
}
