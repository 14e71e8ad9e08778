//! `events.jsonl` (with `--trace`): one JSON object per line for every packet sent, delivered
//! and dropped, every state change, every attempt outcome and every crash/restart. Streamed to
//! disk through one reused line buffer.

use std::fmt::Write as _;
use std::io::Write;

use crate::net::{HostId, Network};
use crate::sim::{Fate, Observer, OutcomeRecord};
use crate::tcp::{Reason, Role, TcpState};
use crate::time::SimTime;
use crate::wire::Packet;

pub struct TraceWriter<W: Write> {
    w: W,
    line: String,
    hosts: Vec<String>,
    clients: Vec<String>,
    pub lines: u64,
    pub error: Option<std::io::Error>,
}

impl<W: Write> TraceWriter<W> {
    pub fn new(w: W, hosts: Vec<String>, clients: Vec<String>) -> Self {
        TraceWriter {
            w,
            line: String::with_capacity(256),
            hosts,
            clients,
            lines: 0,
            error: None,
        }
    }

    fn flush_line(&mut self) {
        self.line.push_str("}\n");
        if self.error.is_none() {
            self.error = self.w.write_all(self.line.as_bytes()).err();
        }
        self.lines += 1;
        self.line.clear();
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
        let _ = write!(
            self.line,
            "{{\"t_ns\":{},\"event\":\"{event}\",\"src\":\"",
            t.as_ns()
        );
        net.addrs.write_endpoint(&mut self.line, pkt.seg.src);
        self.line.push_str("\",\"dst\":\"");
        net.addrs.write_endpoint(&mut self.line, pkt.seg.dst);
        let _ = write!(
            self.line,
            "\",\"flags\":\"{}\",\"seq\":{},\"ack\":{},\"len\":{}",
            pkt.seg.flags.name(),
            pkt.seg.seq.0,
            pkt.seg.ack.0,
            pkt.seg.payload.len()
        );
        if let Some(code) = pkt.icmp {
            let _ = write!(self.line, ",\"icmp\":\"{}\"", code.name());
        }
        match fate {
            Fate::NetDrop(reason) => {
                let _ = write!(self.line, ",\"at\":\"network\",\"reason\":\"{reason}\"");
            }
            Fate::HostDrop(reason) => {
                let _ = write!(
                    self.line,
                    ",\"at\":\"host\",\"reason\":\"{}\"",
                    reason.name()
                );
                if let Some(c) = reason.counter() {
                    let _ = write!(self.line, ",\"counter\":\"{c}\"");
                }
            }
            _ => {}
        }
        self.flush_line();
    }

    fn state(
        &mut self,
        t: SimTime,
        host: HostId,
        conn: u64,
        role: Role,
        from: TcpState,
        to: TcpState,
        reason: Reason,
    ) {
        let _ = write!(
            self.line,
            "{{\"t_ns\":{},\"event\":\"state\",\"host\":\"{}\",\"conn\":{conn},\"role\":\"{}\",\"from\":\"{from}\",\"to\":\"{to}\",\"reason\":\"{}\"",
            t.as_ns(),
            self.hosts[host.0 as usize],
            role.name(),
            reason.name()
        );
        if let Some(c) = reason.counter() {
            if to == TcpState::Closed || to == TcpState::Listen {
                let _ = write!(self.line, ",\"counter\":\"{c}\"");
            }
        }
        self.flush_line();
    }

    fn outcome(&mut self, t: SimTime, o: &OutcomeRecord) {
        let _ = write!(
            self.line,
            "{{\"t_ns\":{},\"event\":\"outcome\",\"client\":\"{}\",\"attempt\":{},\"outcome\":\"{}\",\"start_ns\":{},\"syns_sent\":{}",
            t.as_ns(),
            self.clients[o.client as usize],
            o.attempt,
            o.outcome.name(),
            o.started.as_ns(),
            o.syns_sent
        );
        if let Some(c) = o.connected {
            let _ = write!(self.line, ",\"connected_ns\":{}", c.as_ns());
        }
        self.flush_line();
    }

    fn host(&mut self, t: SimTime, host: HostId, up: bool) {
        let _ = write!(
            self.line,
            "{{\"t_ns\":{},\"event\":\"{}\",\"host\":\"{}\"",
            t.as_ns(),
            if up { "restart" } else { "crash" },
            self.hosts[host.0 as usize]
        );
        self.flush_line();
    }
}
