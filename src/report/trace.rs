//! `events.jsonl` (with `--trace`): one JSON object per line for every packet sent, delivered
//! and dropped, every state change, every attempt outcome and every crash/restart. Streamed to
//! disk through one reused line buffer.
//!
//! Each line is a `#[derive(Serialize)]` struct written by `serde_json`, so any name (a host
//! called `cli"ent`) is escaped as JSON requires (RFC 8259 §7). The field order of the structs
//! is the order of the keys in the file; absent optional keys are left out, not `null`.

use std::io::Write;

use serde::Serialize;

use crate::net::{HostId, Network};
use crate::sim::{ConnRef, Fate, Observer, OutcomeRecord};
use crate::tcp::{Reason, TcpState};
use crate::time::SimTime;
use crate::wire::Packet;

pub struct TraceWriter<W: Write> {
    w: W,
    /// The line being built (reused: no allocation per event once it has grown).
    line: Vec<u8>,
    /// Both endpoints of the packet being written, source then destination (reused).
    endpoints: String,
    hosts: Vec<String>,
    clients: Vec<String>,
    pub lines: u64,
    pub error: Option<std::io::Error>,
}

/// A packet sent, delivered or dropped.
#[derive(Serialize)]
struct PacketLine<'a> {
    t_ns: u64,
    event: &'static str,
    src: &'a str,
    dst: &'a str,
    flags: &'static str,
    seq: u32,
    ack: u32,
    /// The window field as sent.
    win: u16,
    /// The TCP options, as tcpdump prints them (none: no key).
    #[serde(skip_serializing_if = "Option::is_none")]
    opts: Option<&'a str>,
    len: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    icmp: Option<&'static str>,
    /// `network` or `host`, for drops.
    #[serde(skip_serializing_if = "Option::is_none")]
    at: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    counter: Option<&'static str>,
}

/// A state change of one connection.
#[derive(Serialize)]
struct StateLine<'a> {
    t_ns: u64,
    event: &'static str,
    host: &'a str,
    conn: u64,
    role: &'static str,
    from: &'static str,
    to: &'static str,
    reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    counter: Option<&'static str>,
}

/// The end of one legitimate attempt.
#[derive(Serialize)]
struct OutcomeLine<'a> {
    t_ns: u64,
    event: &'static str,
    client: &'a str,
    attempt: u64,
    outcome: &'static str,
    start_ns: u64,
    syns_sent: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    connected_ns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
}

/// A host crashed or restarted.
#[derive(Serialize)]
struct HostLine<'a> {
    t_ns: u64,
    event: &'static str,
    host: &'a str,
}

impl<W: Write> TraceWriter<W> {
    pub fn new(w: W, hosts: Vec<String>, clients: Vec<String>) -> Self {
        TraceWriter {
            w,
            line: Vec::with_capacity(256),
            endpoints: String::with_capacity(96),
            hosts,
            clients,
            lines: 0,
            error: None,
        }
    }

    /// Serialises one line into the buffer and writes it (after the first error, nothing is
    /// written; the error is returned by `finish`).
    fn write_line(
        line: &mut Vec<u8>,
        w: &mut W,
        error: &mut Option<std::io::Error>,
        v: &impl Serialize,
    ) {
        line.clear();
        // Serialising these structs into memory cannot fail: every field is a string or an
        // integer.
        serde_json::to_writer(&mut *line, v).expect("a trace line serialises");
        line.push(b'\n');
        if error.is_none() {
            *error = w.write_all(line).err();
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

impl<W: Write> Observer for TraceWriter<W> {
    fn packet(&mut self, t: SimTime, fate: Fate, pkt: &Packet, net: &Network) {
        let event = match fate {
            Fate::Send => "send",
            Fate::Deliver => "deliver",
            Fate::NetDrop(_) | Fate::HostDrop(_) => "drop",
        };
        let (at, reason, counter) = match fate {
            Fate::NetDrop(reason) => (Some("network"), Some(reason.name()), None),
            Fate::HostDrop(reason) => (Some("host"), Some(reason.name()), reason.counter()),
            Fate::Send | Fate::Deliver => (None, None, None),
        };
        self.endpoints.clear();
        net.addrs.write_endpoint(&mut self.endpoints, pkt.seg.src);
        let split = self.endpoints.len();
        net.addrs.write_endpoint(&mut self.endpoints, pkt.seg.dst);
        let split2 = self.endpoints.len();
        pkt.seg.opts.write_to(&mut self.endpoints);
        let (addrs, opts) = self.endpoints.split_at(split2);
        let (src, dst) = addrs.split_at(split);
        let line = PacketLine {
            t_ns: t.as_ns(),
            event,
            src,
            dst,
            flags: pkt.seg.flags.name(),
            seq: pkt.seg.seq.0,
            ack: pkt.seg.ack.0,
            win: pkt.seg.window,
            opts: (!opts.is_empty()).then_some(opts),
            len: pkt.seg.payload.len(),
            icmp: pkt.icmp.map(|code| code.name()),
            at,
            reason,
            counter,
        };
        Self::write_line(&mut self.line, &mut self.w, &mut self.error, &line);
        self.lines += 1;
    }

    fn state(&mut self, t: SimTime, cref: &ConnRef, from: TcpState, to: TcpState, reason: Reason) {
        let (host, conn, role) = (cref.host, cref.serial, cref.role);
        // The counter is named where the connection ends (or returns to the listener).
        let counter = reason
            .counter()
            .filter(|_| to == TcpState::Closed || to == TcpState::Listen);
        let line = StateLine {
            t_ns: t.as_ns(),
            event: "state",
            host: &self.hosts[host.0 as usize],
            conn,
            role: role.name(),
            from: from.name(),
            to: to.name(),
            reason: reason.name(),
            counter,
        };
        Self::write_line(&mut self.line, &mut self.w, &mut self.error, &line);
        self.lines += 1;
    }

    fn outcome(&mut self, t: SimTime, o: &OutcomeRecord) {
        let line = OutcomeLine {
            t_ns: t.as_ns(),
            event: "outcome",
            client: &self.clients[o.client as usize],
            attempt: o.attempt,
            outcome: o.outcome.name(),
            start_ns: o.started.as_ns(),
            syns_sent: o.syns_sent,
            connected_ns: o.connected.map(|c| c.as_ns()),
            error: o.error,
        };
        Self::write_line(&mut self.line, &mut self.w, &mut self.error, &line);
        self.lines += 1;
    }

    fn host(&mut self, t: SimTime, host: HostId, up: bool) {
        let line = HostLine {
            t_ns: t.as_ns(),
            event: if up { "restart" } else { "crash" },
            host: &self.hosts[host.0 as usize],
        };
        Self::write_line(&mut self.line, &mut self.w, &mut self.error, &line);
        self.lines += 1;
    }
}
