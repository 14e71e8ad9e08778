//! `ladder`: a sequence diagram of the first few legitimate connections.
//!
//! [`LadderRecorder`] follows the first `ladder_connections` connections a client opens,
//! identified by their 4-tuple, and keeps at most `ladder_max_segments` segments in all, with
//! how each one ended (delivered, lost in the network, discarded by the receiver). State
//! changes carry their connection's identity ([`ConnRef`]: host, serial, 4-tuple): a client
//! connection is followed from its CLOSED -> SYN-SENT, and the server's side is the connection
//! on the server's host whose tuple mirrors it (each entry the server creates for it, if a
//! retransmitted SYN makes a new one). State changes are then matched by (host, serial).
//!
//! The drawing is in `ladder_draw.rs`.

use std::collections::VecDeque;

use crate::net::{HostId, Network};
use crate::sim::{ConnRef, Fate};
use crate::tcp::{Role, TcpState};
use crate::time::SimTime;
use crate::wire::{Endpoint, Flags, IcmpCode, Packet};

/// One end of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

impl Side {
    pub(crate) fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

/// How a segment's trip ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Still travelling when the run ended.
    InFlight,
    Delivered,
    /// Lost in the network when sent (the rule's name).
    Lost(&'static str),
    /// Reached a host that was down.
    HostDown,
    /// Delivered, then discarded by the receiving TCP (the rule's name).
    Discarded(&'static str),
}

/// One segment of a followed connection.
#[derive(Clone, Debug)]
pub struct LadderSeg {
    pub from: Side,
    pub sent: SimTime,
    /// Arrival (or discard at a down host) time.
    pub arrived: Option<SimTime>,
    pub end: End,
    pub flags: Flags,
    pub seq: u32,
    pub ack: u32,
    pub len: u32,
    /// The same seq and flags were sent before in this direction.
    pub retx: bool,
    pub icmp: Option<IcmpCode>,
}

/// Something written beside a time line: a state entered, or the host going down or up.
#[derive(Clone, Debug)]
pub struct Mark {
    pub t: SimTime,
    pub side: Side,
    pub state: Option<TcpState>,
    pub text: &'static str,
}

/// A followed connection.
#[derive(Clone, Debug)]
pub struct LadderConn {
    pub client: Endpoint,
    pub server: Endpoint,
    pub client_text: String,
    pub server_text: String,
    pub client_host: HostId,
    pub server_host: Option<HostId>,
    client_isn: Option<u32>,
    server_isn: Option<u32>,
    pub segs: Vec<LadderSeg>,
    pub marks: Vec<Mark>,
    in_flight: [VecDeque<usize>; 2],
}

impl LadderConn {
    /// The side that sent a packet from `src` to `dst`, if it belongs to this connection.
    fn side_of(&self, src: Endpoint, dst: Endpoint) -> Option<Side> {
        if src == self.client && dst == self.server {
            Some(Side::Client)
        } else if src == self.server && dst == self.client {
            Some(Side::Server)
        } else {
            None
        }
    }

    /// Relative (seq, ack) of a segment: each side's numbers count from its ISN.
    pub fn relative(&self, s: &LadderSeg) -> (u32, u32) {
        let (own, peer) = match s.from {
            Side::Client => (self.client_isn, self.server_isn),
            Side::Server => (self.server_isn, self.client_isn),
        };
        (
            s.seq.wrapping_sub(own.unwrap_or(0)),
            s.ack.wrapping_sub(peer.unwrap_or(0)),
        )
    }
}

/// Follows the first connections (bounded in connections, segments and marks).
#[derive(Clone, Debug)]
pub struct LadderRecorder {
    max_conns: usize,
    max_segs: usize,
    pub conns: Vec<LadderConn>,
    segs: usize,
    marks: usize,
    /// Segments not kept because the budget was used up.
    pub segments_left_out: u64,
    /// (host, serial) of each followed side, with its connection and side.
    bindings: Vec<(HostId, u64, usize, Side)>,
    /// The client connection that just entered SYN-SENT, waiting for its first SYN.
    pending_client: Option<ConnRef>,
}

impl LadderRecorder {
    pub fn new(max_conns: usize, max_segs: usize) -> Self {
        LadderRecorder {
            max_conns,
            max_segs,
            conns: Vec::new(),
            segs: 0,
            marks: 0,
            segments_left_out: 0,
            bindings: Vec::new(),
            pending_client: None,
        }
    }

    fn find(&self, src: Endpoint, dst: Endpoint) -> Option<(usize, Side)> {
        self.conns
            .iter()
            .enumerate()
            .find_map(|(i, c)| c.side_of(src, dst).map(|s| (i, s)))
    }

    pub fn packet(&mut self, t: SimTime, fate: Fate, pkt: &Packet, net: &Network) {
        if self.max_conns == 0 {
            return;
        }
        let seg = &pkt.seg;
        // An ICMP error travels back towards the quoted segment's source.
        let (src, dst) = match pkt.icmp {
            Some(_) => (seg.dst, seg.src),
            None => (seg.src, seg.dst),
        };
        let found = self.find(src, dst);
        match fate {
            Fate::Send => {
                let (ci, side) = match found {
                    Some(f) => f,
                    None => match self.open(t, pkt, net) {
                        Some(ci) => (ci, Side::Client),
                        None => return,
                    },
                };
                if self.segs >= self.max_segs {
                    self.segments_left_out += 1;
                    return;
                }
                self.segs += 1;
                let c = &mut self.conns[ci];
                let retx = pkt.icmp.is_none()
                    && c.segs.iter().any(|s| {
                        s.from == side
                            && s.icmp.is_none()
                            && s.seq == seg.seq.0
                            && s.flags == seg.flags
                            && s.len == seg.payload.len() as u32
                    });
                if seg.flags.syn() && pkt.icmp.is_none() {
                    match side {
                        Side::Client => *c.client_isn.get_or_insert(seg.seq.0),
                        Side::Server => *c.server_isn.get_or_insert(seg.seq.0),
                    };
                }
                c.in_flight[side as usize].push_back(c.segs.len());
                c.segs.push(LadderSeg {
                    from: side,
                    sent: t,
                    arrived: None,
                    end: End::InFlight,
                    flags: seg.flags,
                    seq: seg.seq.0,
                    ack: seg.ack.0,
                    len: seg.payload.len() as u32,
                    retx,
                    icmp: pkt.icmp,
                });
            }
            Fate::NetDrop(reason) => {
                let Some((ci, side)) = found else { return };
                let c = &mut self.conns[ci];
                let q = &mut c.in_flight[side as usize];
                // Dropped as it was sent (the newest in flight), or on arrival at a down host
                // (the oldest: paths never reorder).
                let newest = q.back().copied().filter(|&i| c.segs[i].sent == t);
                if let Some(i) = newest {
                    q.pop_back();
                    c.segs[i].end = End::Lost(reason.name());
                } else if let Some(i) = q.pop_front() {
                    c.segs[i].end = End::HostDown;
                    c.segs[i].arrived = Some(t);
                }
            }
            Fate::Deliver => {
                let Some((ci, side)) = found else { return };
                let c = &mut self.conns[ci];
                if let Some(i) = c.in_flight[side as usize].pop_front() {
                    c.segs[i].end = End::Delivered;
                    c.segs[i].arrived = Some(t);
                }
            }
            Fate::HostDrop(reason) => {
                let Some((ci, side)) = found else { return };
                let c = &mut self.conns[ci];
                if let Some(s) = c
                    .segs
                    .iter_mut()
                    .rev()
                    .find(|s| s.from == side && s.arrived == Some(t) && s.end == End::Delivered)
                {
                    s.end = End::Discarded(reason.name());
                }
            }
        }
    }

    /// Starts following a connection if `pkt` is the first SYN of the client connection that
    /// entered SYN-SENT (same 4-tuple, sent by its host).
    fn open(&mut self, t: SimTime, pkt: &Packet, net: &Network) -> Option<usize> {
        let seg = &pkt.seg;
        let c = self.pending_client?;
        if pkt.icmp.is_some()
            || seg.flags != Flags::SYN
            || (seg.src, seg.dst) != (c.local, c.remote)
            || net.addrs.owner(seg.src.addr) != Some(c.host)
        {
            return None;
        }
        self.pending_client = None;
        let (host, serial) = (c.host, c.serial);
        if self.conns.len() >= self.max_conns {
            return None;
        }
        let ci = self.conns.len();
        self.conns.push(LadderConn {
            client: seg.src,
            server: seg.dst,
            client_text: net.addrs.endpoint_string(seg.src),
            server_text: net.addrs.endpoint_string(seg.dst),
            client_host: host,
            server_host: net.addrs.owner(seg.dst.addr),
            client_isn: None,
            server_isn: None,
            segs: Vec::new(),
            marks: Vec::new(),
            in_flight: [VecDeque::new(), VecDeque::new()],
        });
        self.bindings.push((host, serial, ci, Side::Client));
        self.mark(ci, t, Side::Client, Some(TcpState::SynSent), "");
        Some(ci)
    }

    fn mark(
        &mut self,
        ci: usize,
        t: SimTime,
        side: Side,
        state: Option<TcpState>,
        text: &'static str,
    ) {
        if self.marks >= 4 * self.max_segs + 16 {
            return;
        }
        self.marks += 1;
        self.conns[ci].marks.push(Mark {
            t,
            side,
            state,
            text,
        });
    }

    pub fn state(&mut self, t: SimTime, conn: &ConnRef, from: TcpState, to: TcpState) {
        if self.max_conns == 0 {
            return;
        }
        let (host, serial) = (conn.host, conn.serial);
        if let Some(&(_, _, ci, side)) = self.bindings.iter().find(|b| b.0 == host && b.1 == serial)
        {
            self.mark(ci, t, side, Some(to), "");
            return;
        }
        if !matches!(from, TcpState::Closed | TcpState::Listen) {
            return;
        }
        match conn.role {
            Role::Client if to == TcpState::SynSent => {
                if self.conns.len() < self.max_conns {
                    self.pending_client = Some(*conn);
                }
            }
            Role::Server => {
                // The server side of a followed connection: its tuple mirrors the client's (a
                // retransmitted SYN may create a new entry after the first expired).
                let Some(ci) = self.conns.iter().position(|c| {
                    c.server == conn.local && c.client == conn.remote && c.server_host == Some(host)
                }) else {
                    return;
                };
                if self.bindings.len() < 4 * self.max_conns + 8 {
                    self.bindings.push((host, serial, ci, Side::Server));
                    self.mark(ci, t, Side::Server, Some(to), "");
                }
            }
            Role::Client => {}
        }
    }

    pub fn host(&mut self, t: SimTime, host: HostId, up: bool) {
        let text = if up { "host restarted" } else { "host crashed" };
        for ci in 0..self.conns.len() {
            let c = &self.conns[ci];
            let first = c.segs.first().map_or(t, |s| s.sent);
            if t < first {
                continue;
            }
            // Only while that side of the connection still exists.
            let closed = |side: Side| {
                c.marks
                    .iter()
                    .any(|m| m.side == side && m.state == Some(TcpState::Closed) && m.t < t)
            };
            let server = c.server_host == Some(host) && !closed(Side::Server);
            let client = c.client_host == host && !closed(Side::Client);
            if server {
                self.mark(ci, t, Side::Server, None, text);
            }
            if client {
                self.mark(ci, t, Side::Client, None, text);
            }
        }
    }
}
