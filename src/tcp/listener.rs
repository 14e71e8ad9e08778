//! Listeners: `listen(port, backlog)` with a separate SYN queue (half-open entries) and accept
//! queue (established, not yet accepted). When the application calls accept() is the
//! workload's choice ([`crate::sim::workload`]).

use std::collections::VecDeque;

use serde::Serialize;

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
}
