//! TCP endpoints as sans-IO state machines.
//!
//! A [`Stack`] is one host's TCP: its connections (control blocks, [`tcb::Tcb`]), its listeners
//! with separate SYN and accept queues ([`listener`]), its counters and its knobs
//! ([`config::StackConfig`]). It never touches a clock, a file or a global RNG: every entry
//! point takes `now` and an [`Outbox`], and everything the stack wants done (send a segment,
//! wake it at some time) or wants known (a state change, a discarded segment and the rule that
//! discarded it, a socket event for the application) is pushed there for the engine to act on.
//! Applications are not here: they live in [`crate::sim::workload`] and use the socket calls.
//!
//! # Deliberate simplifications of real TCP
//! - No options (MSS, window scale, SACK, timestamps); the cookie MSS index is fixed.
//! - Stop-and-wait: at most one segment of data (<= [`crate::wire::MAX_PAYLOAD`] bytes, plus
//!   FIN) is in flight per connection; out-of-order data is not reassembled (it is ACKed and
//!   dropped, the peer retransmits). No congestion control, no delayed ACKs, no Nagle.
//! - RST acceptability uses the RFC 9293 window test, not RFC 5961's exact-match + challenge ACK.
//! - The data RTO follows RFC 6298 from the handshake's RTT sample; data retransmission gives
//!   up after `data_retries` expiries (count-based, where Linux uses a time budget).
//! - Counters survive a crash (a real reboot zeroes them) so summaries show run totals.

pub mod config;
pub mod cookie;
pub mod counters;
pub mod listener;
pub mod options;
mod ports;
mod process;
pub mod stack;
pub mod state;
pub mod tcb;
pub mod wheel;

pub use config::{Profile, StackConfig, SynCookies, SyncookieFormat};
pub use counters::Counters;
pub use stack::Stack;
pub use state::TcpState;

use crate::time::SimTime;
use crate::wire::{Endpoint, Segment};
use serde::Serialize;

/// Index of a connection slot in a host's stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u32);

/// Who a connection belongs to, for state counts and charts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Opened actively by a legitimate client.
    Client,
    /// Created by a listener (half-open entries, including attackers', and accepted children).
    Server,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Client, Role::Server];
    pub fn name(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Server => "server",
        }
    }
}

/// Why something happened: the rule behind every discard, abort and reset, and the counter it
/// bumped (if any). Appears in the trace as `"reason"` and `"counter"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    // -- listener admission (Linux tcp_conn_request) --
    SynQueueFull,
    AcceptQueueFull,
    QuarterRule,
    SynQueueRecycled,
    SyncacheBucketOverflow,
    SyncacheCacheOverflow,
    CookieInvalid,
    /// A final ACK ignored because the accept queue is full (tcp_check_req, abort_on_overflow 0).
    FinalAckIgnored,
    AcceptQueueFullAbort,
    // -- segment processing (RFC 9293 §3.10.7) --
    NoSocket,
    RstToListener,
    NoAckToListener,
    BadAck,
    UnacceptableSeq,
    RstIgnored,
    DuplicateSyn,
    /// A retransmitted SYN for a pending request within `invalid_ratelimit_ms` of the last
    /// SYN-ACK it drew (tcp_check_req: `tcp_oow_rate_limited`).
    SynRetransmitRateLimited,
    OutOfOrder,
    NoAck,
    // -- state changes --
    Connect,
    Listen,
    SynReceived,
    SynAckReceived,
    SimultaneousOpen,
    AckOfSyn,
    CookieAck,
    RstReceived,
    SynInWindow,
    IcmpUnreachable,
    /// An ICMP error that reached a connecting socket while `connect()` held it: a soft error
    /// (tcp_v4_err, `sock_owned_by_user`).
    IcmpWhileConnecting,
    SynRetriesExhausted,
    SynackRetriesExhausted,
    SynrecvTimeout,
    DataRetriesExhausted,
    AppClose,
    FinReceived,
    FinAcked,
    TimeWaitDone,
    FinWait2Timeout,
    TimeWaitReused,
    HostCrash,
    /// connect() found no free ephemeral port towards the destination (Linux
    /// `__inet_hash_connect` returns EADDRNOTAVAIL).
    EphemeralPortsExhausted,
    /// The client's own host was down when the attempt started.
    ClientHostDown,
}

impl Reason {
    pub fn name(self) -> &'static str {
        use Reason::*;
        match self {
            SynQueueFull => "syn_queue_full",
            AcceptQueueFull => "accept_queue_full",
            QuarterRule => "quarter_rule",
            SynQueueRecycled => "syn_queue_recycled",
            SyncacheBucketOverflow => "syncache_bucket_overflow",
            SyncacheCacheOverflow => "syncache_cache_overflow",
            CookieInvalid => "cookie_invalid",
            FinalAckIgnored => "final_ack_accept_queue_full",
            AcceptQueueFullAbort => "accept_queue_full_abort",
            NoSocket => "no_socket",
            RstToListener => "rst_to_listener",
            NoAckToListener => "no_syn_no_ack_to_listener",
            BadAck => "unacceptable_ack",
            UnacceptableSeq => "unacceptable_seq",
            RstIgnored => "rst_not_acceptable",
            DuplicateSyn => "duplicate_syn",
            SynRetransmitRateLimited => "syn_retransmit_rate_limited",
            OutOfOrder => "out_of_order",
            NoAck => "no_ack_flag",
            Connect => "connect",
            Listen => "listen",
            SynReceived => "syn_received",
            SynAckReceived => "syn_ack_received",
            SimultaneousOpen => "simultaneous_open",
            AckOfSyn => "ack_of_syn",
            CookieAck => "valid_cookie_ack",
            RstReceived => "rst_received",
            SynInWindow => "syn_in_window",
            IcmpUnreachable => "icmp_unreachable",
            IcmpWhileConnecting => "icmp_while_connecting",
            SynRetriesExhausted => "syn_retries_exhausted",
            SynackRetriesExhausted => "synack_retries_exhausted",
            SynrecvTimeout => "synrecv_timeout",
            DataRetriesExhausted => "data_retries_exhausted",
            AppClose => "app_close",
            FinReceived => "fin_received",
            FinAcked => "fin_acked",
            TimeWaitDone => "time_wait_done",
            FinWait2Timeout => "fin_wait2_timeout",
            TimeWaitReused => "time_wait_reused_by_syn",
            HostCrash => "host_crash",
            EphemeralPortsExhausted => "ephemeral_ports_exhausted",
            ClientHostDown => "client_host_down",
        }
    }

    /// The nstat counter this rule bumps when it discards, aborts or resets (if any).
    pub fn counter(self) -> Option<&'static str> {
        use Reason::*;
        Some(match self {
            SynQueueFull => "TCPReqQFullDrop",
            SynRetransmitRateLimited => "TCPACKSkippedSynRecv",
            AcceptQueueFull | FinalAckIgnored => "ListenOverflows",
            QuarterRule => "ListenDrops",
            SynQueueRecycled => "SynQueueRecycled",
            SyncacheBucketOverflow => "SyncacheBucketOverflow",
            SyncacheCacheOverflow => "SyncacheCacheOverflow",
            CookieInvalid => "SyncookiesFailed",
            AcceptQueueFullAbort => "ListenOverflows",
            NoSocket | BadAck => "OutRsts",
            SynRetriesExhausted | DataRetriesExhausted => "TCPAbortOnTimeout",
            IcmpWhileConnecting => "LockDroppedIcmps",
            SynackRetriesExhausted | SynrecvTimeout => "TCPTimeouts",
            _ => return None,
        })
    }
}

/// Something the engine must wake the stack for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// A connection's timer (slot and generation, so a reused slot ignores stale wake-ups).
    Conn(ConnId, u32),
    /// The timer-wheel batch of a jiffy ([`wheel`]): every timer whose bucket expires then.
    /// The engine runs it before any other event at the same nanosecond.
    Wheel(u64),
}

/// Observations for reports and the trace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Note {
    /// A connection changed state (the one place: [`Stack::set_state`]).
    State {
        serial: u64,
        role: Role,
        local: Endpoint,
        remote: Endpoint,
        from: TcpState,
        to: TcpState,
        reason: Reason,
    },
    /// A segment delivered to this host was thrown away, and why.
    Discard { seg: Segment, reason: Reason },
    /// A SYN cookie's ACK created a connection of `listener` with `opts`. The kernel cannot
    /// know what the cookie lost (it kept no state); the engine, which knows the client's
    /// stack, works it out and records it ([`Stack::record_cookie_loss`]).
    CookieConnection {
        listener: u16,
        remote: Endpoint,
        opts: options::ConnOptions,
    },
    /// A cookie SYN-ACK is being sent (`segment`: its index in [`Outbox::segments`]), and what
    /// its cookie keeps of the SYN's options.
    CookieSent {
        segment: u32,
        keeps: options::ConnOptions,
    },
    /// Something an application holding the socket must hear about (see [`SocketEvent`]).
    Socket {
        conn: ConnId,
        /// The connection's serial: an application keyed by slot checks it is the same one.
        serial: u64,
        event: SocketEvent,
    },
}

/// What a socket tells the application holding it, as `poll()` would: the stack emits these,
/// the workload ([`crate::sim::workload`]) acts on them through the socket calls
/// ([`Stack::connect`], [`Stack::accept`], [`Stack::recv`], [`Stack::write`], [`Stack::close`]).
/// Only sockets an application holds get them (active opens and accepted children), except
/// [`SocketEvent::Acceptable`], which is the listener's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketEvent {
    /// The handshake of an active open completed (connect() returns).
    Connected { syns_sent: u32 },
    /// A child entered listener `listener`'s accept queue: accept() would return it.
    Acceptable { listener: u16 },
    /// Bytes arrived in order and wait for recv().
    Readable,
    /// The peer's FIN arrived (recv() would return 0).
    PeerClosed,
    /// An ICMP error reached a connecting socket while `connect()` still held it: recorded as
    /// a soft error (`sk_err_soft`), the connection goes on. A non-blocking application sees it
    /// through `poll()` and `SO_ERROR`; a blocking `connect()` does not wake for it.
    SoftError { icmp: crate::wire::IcmpCode },
    /// The connection is gone (CLOSED), and the rule that ended it.
    Closed {
        reason: Reason,
        syns_sent: u32,
        /// The ICMP error the socket last recorded (the one that aborted it, or a soft error
        /// reported when it times out: Linux `tcp_write_err` reports `sk_err_soft`).
        icmp: Option<crate::wire::IcmpCode>,
    },
}

/// Where a [`Stack`] puts everything it wants done or known. Reused across calls: the engine
/// drains it after each call, so steady state allocates nothing.
#[derive(Default, Debug)]
pub struct Outbox {
    pub segments: Vec<Segment>,
    pub wakes: Vec<(Wake, SimTime)>,
    pub notes: Vec<Note>,
}

impl Outbox {
    pub fn clear(&mut self) {
        self.segments.clear();
        self.wakes.clear();
        self.notes.clear();
    }
}
