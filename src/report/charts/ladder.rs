//! `ladder`: a sequence diagram of a few chosen legitimate connections.
//!
//! Which connections is `charts.ladder`'s list of [`LadderPick`]s (the first connection, the
//! first attempt that timed out, the first that retransmitted, the first during an attack, an
//! attempt by number). Most of them are only known once a connection has ended, so
//! [`LadderRecorder`] follows connections as *candidates* from their first SYN (at most
//! [`MAX_CANDIDATES`] at a time, each with at most its share of `ladder_max_segments`
//! segments), and at each connection's outcome keeps it if it satisfies a pick still open, or
//! forgets it. Once every pick is satisfied (or can no longer be) it follows nothing new.
//!
//! A connection is identified by its 4-tuple; state changes carry their connection's identity
//! ([`ConnRef`]: host, serial, 4-tuple): a client connection is followed from its CLOSED ->
//! SYN-SENT, and the server's side is the connection on the server's host whose tuple mirrors
//! it (each entry the server creates for it, if a retransmitted SYN makes a new one). Packets
//! and state changes are matched through two hash maps, so watching every packet of a flood
//! costs one lookup per packet.
//!
//! The drawing is in `ladder_draw.rs`.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use crate::net::{HostId, Network};
use crate::sim::{ConnRef, Fate, Outcome, OutcomeRecord};
use crate::spec::LadderPick;
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

/// Connections followed at once while their outcome is not known yet.
pub const MAX_CANDIDATES: usize = 64;

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
    /// `(client index, attempt number)` and how the attempt ended, once known.
    pub attempt: Option<(u32, u64)>,
    pub outcome: Option<Outcome>,
    /// Indices of the picks this connection satisfies.
    pub picked_by: Vec<usize>,
    /// Segments of this connection not kept (over its share of the budget).
    pub left_out: u64,
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

/// Follows candidate connections and keeps those the picks choose (bounded in connections,
/// segments and marks).
#[derive(Clone, Debug)]
pub struct LadderRecorder {
    picks: Vec<LadderPick>,
    /// Per pick: the slot of the connection that satisfied it.
    chosen: Vec<Option<usize>>,
    max_conns: usize,
    /// Segments kept per connection.
    max_segs: usize,
    slots: Vec<Option<LadderConn>>,
    free: Vec<usize>,
    /// Followed connections no pick has chosen yet.
    candidates: usize,
    /// (source, destination) of either direction -> slot.
    tuples: FxHashMap<(Endpoint, Endpoint), usize>,
    /// (host, serial) of each followed side -> slot and side.
    bindings: FxHashMap<(HostId, u64), (usize, Side)>,
    /// The client connection that just entered SYN-SENT, waiting for its first SYN.
    pending_client: Option<ConnRef>,
    /// A client connection has been opened (the `first` pick is decided).
    opened_any: bool,
}

impl LadderRecorder {
    /// `max_conns` connections drawn at most, sharing `max_segs` segments.
    pub fn new(picks: Vec<LadderPick>, max_conns: usize, max_segs: usize) -> Self {
        let per = max_segs.checked_div(max_conns).map_or(0, |p| p.max(1));
        LadderRecorder {
            chosen: vec![None; picks.len()],
            picks: if max_conns == 0 { Vec::new() } else { picks },
            max_conns,
            max_segs: per,
            slots: Vec::new(),
            free: Vec::new(),
            candidates: 0,
            tuples: FxHashMap::default(),
            bindings: FxHashMap::default(),
            pending_client: None,
            opened_any: false,
        }
    }

    /// The connections to draw, in the order of the picks that chose them (each once), at
    /// most `max_conns`; and how many more the picks chose.
    pub fn drawn(&self) -> (Vec<&LadderConn>, usize) {
        let mut order: Vec<usize> = Vec::new();
        for &slot in self.chosen.iter().flatten() {
            if !order.contains(&slot) {
                order.push(slot);
            }
        }
        let more = order.len().saturating_sub(self.max_conns);
        order.truncate(self.max_conns);
        let conns = order
            .iter()
            .filter_map(|&s| self.slots[s].as_ref())
            .collect();
        (conns, more)
    }

    /// The picks, as the scenario listed them.
    pub fn picks(&self) -> &[LadderPick] {
        &self.picks
    }

    /// Whether a connection opened at `t` could still satisfy an open pick.
    fn wants(&self, t: SimTime) -> bool {
        self.picks.iter().zip(&self.chosen).any(|(p, c)| {
            c.is_none()
                && match p {
                    LadderPick::First => !self.opened_any,
                    LadderPick::FirstDuring { stop, .. } => t < *stop,
                    _ => true,
                }
        })
    }

    /// Records that `slot` satisfies every open pick `test` accepts.
    fn choose(&mut self, slot: usize, test: impl Fn(&LadderPick) -> bool) {
        let mut newly = false;
        for (i, p) in self.picks.iter().enumerate() {
            if self.chosen[i].is_none() && test(p) {
                self.chosen[i] = Some(slot);
                let c = self.slots[slot].as_mut().expect("chosen slot is live");
                if c.picked_by.is_empty() {
                    newly = true;
                }
                c.picked_by.push(i);
            }
        }
        if newly {
            self.candidates -= 1;
        }
    }

    /// Forgets a connection no pick chose.
    fn release(&mut self, slot: usize) {
        let Some(c) = self.slots[slot].take() else {
            return;
        };
        self.tuples.remove(&(c.client, c.server));
        self.tuples.remove(&(c.server, c.client));
        self.bindings.retain(|_, b| b.0 != slot);
        self.free.push(slot);
        self.candidates -= 1;
    }

    fn conn_mut(&mut self, slot: usize) -> &mut LadderConn {
        self.slots[slot].as_mut().expect("mapped slot is live")
    }

    fn find(&self, src: Endpoint, dst: Endpoint) -> Option<(usize, Side)> {
        let &slot = self.tuples.get(&(src, dst))?;
        let side = self.slots[slot].as_ref()?.side_of(src, dst)?;
        Some((slot, side))
    }

    pub fn packet(&mut self, t: SimTime, fate: Fate, pkt: &Packet, net: &Network) {
        if self.picks.is_empty() {
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
                let max_segs = self.max_segs;
                let c = self.conn_mut(ci);
                if c.segs.len() >= max_segs {
                    c.left_out += 1;
                    return;
                }
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
                if retx {
                    self.choose(ci, |p| *p == LadderPick::FirstRetransmitted);
                }
            }
            Fate::NetDrop(reason) => {
                let Some((ci, side)) = found else { return };
                let c = self.conn_mut(ci);
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
                let c = self.conn_mut(ci);
                if let Some(i) = c.in_flight[side as usize].pop_front() {
                    c.segs[i].end = End::Delivered;
                    c.segs[i].arrived = Some(t);
                }
            }
            Fate::HostDrop(reason) => {
                let Some((ci, side)) = found else { return };
                let c = self.conn_mut(ci);
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
    /// entered SYN-SENT (same 4-tuple, sent by its host) and an open pick could want it.
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
        let first = !self.opened_any;
        self.opened_any = true;
        if self.candidates >= MAX_CANDIDATES || self.tuples.contains_key(&(seg.src, seg.dst)) {
            return None;
        }
        let conn = LadderConn {
            client: seg.src,
            server: seg.dst,
            client_text: net.addrs.endpoint_string(seg.src),
            server_text: net.addrs.endpoint_string(seg.dst),
            client_host: c.host,
            server_host: net.addrs.owner(seg.dst.addr),
            client_isn: None,
            server_isn: None,
            segs: Vec::new(),
            marks: Vec::new(),
            in_flight: [VecDeque::new(), VecDeque::new()],
            attempt: None,
            outcome: None,
            picked_by: Vec::new(),
            left_out: 0,
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s] = Some(conn);
                s
            }
            None => {
                self.slots.push(Some(conn));
                self.slots.len() - 1
            }
        };
        self.candidates += 1;
        self.tuples.insert((seg.src, seg.dst), slot);
        self.tuples.insert((seg.dst, seg.src), slot);
        self.bindings
            .insert((c.host, c.serial), (slot, Side::Client));
        self.mark(slot, t, Side::Client, Some(TcpState::SynSent), "");
        self.choose(slot, |p| match p {
            LadderPick::First => first,
            LadderPick::FirstDuring { start, stop, .. } => *start <= t && t < *stop,
            _ => false,
        });
        Some(slot)
    }

    fn mark(
        &mut self,
        ci: usize,
        t: SimTime,
        side: Side,
        state: Option<TcpState>,
        text: &'static str,
    ) {
        let cap = 4 * self.max_segs + 16;
        let c = self.conn_mut(ci);
        if c.marks.len() >= cap {
            return;
        }
        c.marks.push(Mark {
            t,
            side,
            state,
            text,
        });
    }

    pub fn state(&mut self, t: SimTime, conn: &ConnRef, from: TcpState, to: TcpState) {
        if self.picks.is_empty() {
            return;
        }
        let (host, serial) = (conn.host, conn.serial);
        if let Some(&(ci, side)) = self.bindings.get(&(host, serial)) {
            self.mark(ci, t, side, Some(to), "");
            return;
        }
        if !matches!(from, TcpState::Closed | TcpState::Listen) {
            return;
        }
        match conn.role {
            Role::Client if to == TcpState::SynSent => {
                self.pending_client = self.wants(t).then_some(*conn);
            }
            Role::Server => {
                // The server side of a followed connection: its tuple mirrors the client's (a
                // retransmitted SYN may create a new entry after the first expired).
                let Some(&ci) = self.tuples.get(&(conn.remote, conn.local)) else {
                    return;
                };
                let c = self.conn_mut(ci);
                if c.client != conn.remote || c.server_host != Some(host) {
                    return;
                }
                let sides = self.bindings.values().filter(|b| b.0 == ci).count();
                if sides < 8 {
                    self.bindings.insert((host, serial), (ci, Side::Server));
                    self.mark(ci, t, Side::Server, Some(to), "");
                }
            }
            Role::Client => {}
        }
    }

    /// The end of an attempt: the connection is kept if it satisfies an open pick.
    pub fn outcome(&mut self, o: &OutcomeRecord) {
        let Some(cref) = o.conn else { return };
        let Some(&(slot, Side::Client)) = self.bindings.get(&(cref.host, cref.serial)) else {
            return;
        };
        let c = self.conn_mut(slot);
        c.attempt = Some((o.client, o.attempt));
        c.outcome = Some(o.outcome);
        let (client, attempt, outcome) = (o.client, o.attempt, o.outcome);
        self.choose(slot, |p| match p {
            LadderPick::FirstOutcome(x) => *x == outcome,
            LadderPick::Attempt {
                client: c,
                attempt: a,
            } => *c == client && *a == attempt,
            _ => false,
        });
        if self.conn_mut(slot).picked_by.is_empty() {
            self.release(slot);
        }
    }

    pub fn host(&mut self, t: SimTime, host: HostId, up: bool) {
        let text = if up { "host restarted" } else { "host crashed" };
        for ci in 0..self.slots.len() {
            let Some(c) = &self.slots[ci] else { continue };
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
