//! Listeners: `listen(port, backlog)` with a separate SYN queue (half-open entries) and accept
//! queue (established, not yet accepted). When the application calls accept() is the
//! workload's choice ([`crate::sim::workload`]).

use std::collections::VecDeque;

use serde::Serialize;

use super::options::{ConnOptions, CookieLoss};
use super::{ConnId, Counters};
use crate::time::SimTime;

/// What `listen()` was called with. Survives crashes: a restarted host listens again.
#[derive(Clone, Copy, Debug)]
pub struct ListenSpec {
    pub port: u16,
    /// The backlog argument as given.
    pub backlog: u64,
}

/// Live state of a listening socket (lost on a crash).
#[derive(Debug, Default)]
pub struct Listener {
    /// Effective backlog: min(backlog, somaxconn).
    pub backlog: u64,
    pub syn_queue_cap: u64,
    pub accept_queue_cap: u64,
    /// Half-open entries (SYN-RECEIVED requests) of this listener.
    pub syn_queue_len: u64,
    /// Requests whose SYN-ACK was never retransmitted (Linux `queue->young`).
    pub young: u64,
    /// Requests in arrival order (only kept when the oldest must be found: recycle-oldest).
    pub half_open_fifo: VecDeque<(ConnId, u32)>,
    /// Established children waiting for accept(), with the time they entered.
    pub accept_queue: VecDeque<(ConnId, u32, SimTime)>,
    /// Last time the SYN queue overflowed into cookies (Linux `tcp_synq_overflow`).
    pub last_overflow: Option<SimTime>,
}

/// Per-listener statistics for the summary; survive crashes.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ListenerStats {
    pub syn_queue_capacity: u64,
    pub syn_queue_peak: u64,
    pub accept_queue_capacity: u64,
    pub accept_queue_peak: u64,
    pub accepted: u64,
    pub counters: Counters,
    /// The options of the connections this listener established.
    pub options: OptionStats,
}

/// What the established passive connections of a listener agreed on (counted when the
/// handshake completes: a full one, or a SYN cookie's ACK). Fields in key order (summary.json).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct OptionStats {
    pub connections: u64,
    /// The connections made from a SYN cookie, and what they have less than a full handshake
    /// between the same two stacks would give them.
    pub cookie: CookieStats,
    /// Connections by the peer MSS they use, ascending.
    pub mss: Vec<MssCount>,
    pub sack: u64,
    pub timestamps: u64,
    pub wscale: u64,
}

#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct MssCount {
    pub connections: u64,
    pub mss: u16,
}

fn count_mss(v: &mut Vec<MssCount>, mss: u16) {
    match v.binary_search_by_key(&mss, |m| m.mss) {
        Ok(i) => v[i].connections += 1,
        Err(i) => v.insert(
            i,
            MssCount {
                connections: 1,
                mss,
            },
        ),
    }
}

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct CookieStats {
    pub connections: u64,
    /// Cookie connections by the table MSS they got.
    pub mss: Vec<MssCount>,
    /// The MSS the cookie restored is below what a full handshake would use (the table
    /// rounds the client's down; see [`crate::tcp::cookie`]).
    pub mss_lowered: u64,
    /// Without SACK although both ends offered it.
    pub no_sack: u64,
    /// Without window scaling (or with the peer's shift rounded down) although both ends
    /// offered it.
    pub no_wscale: u64,
}

impl OptionStats {
    /// Counts an established connection.
    pub fn count(&mut self, c: &ConnOptions) {
        self.connections += 1;
        count_mss(&mut self.mss, c.peer_mss);
        self.wscale += c.wscale.is_some() as u64;
        self.sack += c.sack as u64;
        self.timestamps += c.timestamps as u64;
    }
}

impl CookieStats {
    /// Counts a cookie connection; `lost` is what it lost against a full handshake (`None`
    /// when the simulator cannot tell: the ACK came from an address no host owns).
    pub fn count(&mut self, c: &ConnOptions, lost: Option<CookieLoss>) {
        self.connections += 1;
        count_mss(&mut self.mss, c.peer_mss);
        if let Some(l) = lost {
            self.mss_lowered += l.mss_lowered as u64;
            self.no_wscale += l.wscale as u64;
            self.no_sack += l.sack as u64;
        }
    }
}
