//! Listeners: `listen(port, backlog)` with a separate SYN queue (half-open entries) and accept
//! queue (established, not yet accepted), plus the application that accepts from it.

use std::collections::VecDeque;

use serde::Serialize;

use super::tcb::ServerApp;
use super::{ConnId, Counters};
use crate::time::{SimDuration, SimTime};

/// How the listening application calls accept().
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptPolicy {
    /// As soon as a connection is in the accept queue.
    Immediate,
    /// Each connection is accepted this long after it entered the queue.
    Delay(SimDuration),
    /// At most one accept per interval (an application that accepts at a fixed rate).
    Rate(SimDuration),
    /// Never: the accept queue only fills.
    Never,
}

/// What `listen()` was called with. Survives crashes: a restarted host listens again.
#[derive(Clone, Copy, Debug)]
pub struct ListenSpec {
    pub port: u16,
    /// The backlog argument as given.
    pub backlog: u64,
    pub accept: AcceptPolicy,
    pub app: ServerApp,
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
    /// Accept wake-up the engine holds, and its generation.
    pub accept_wake: Option<SimTime>,
    pub accept_generation: u32,
    /// Rate policy: earliest time of the next accept.
    pub next_accept_at: SimTime,
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
