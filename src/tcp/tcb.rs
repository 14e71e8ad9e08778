//! One connection's control block (RFC 9293 §3.3.1) plus the little application that drives it.

use crate::time::{SimDuration, SimTime};
use crate::wire::{Endpoint, Payload, SeqNum};

use super::{Role, TcpState};

/// What the connection's single timer means when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerKind {
    /// Retransmit the SYN, SYN-ACK or data/FIN in flight (or give up).
    Retransmit,
    /// The client application's delayed write.
    AppSend,
    /// 2 x MSL in TIME-WAIT is over.
    TimeWait,
    /// An orphaned FIN-WAIT-2 lived long enough.
    FinWait2,
}

/// The client side of a legitimate attempt: connect, optionally write a message and wait for
/// the reply, then optionally close.
#[derive(Clone, Copy, Debug)]
pub struct ClientApp {
    pub client: u32,
    pub attempt: u64,
    pub started: SimTime,
    pub connected: Option<SimTime>,
    /// Bytes to write once connected (empty = no exchange).
    pub send: Payload,
    pub send_delay: SimDuration,
    /// Bytes of reply to wait for before the attempt counts as established.
    pub expect_reply: u8,
    /// Close (FIN) once the exchange is over.
    pub close: bool,
    pub sent: bool,
    /// The outcome has been reported.
    pub done: bool,
    pub syns_sent: u32,
}

/// What a server application does with an accepted connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerApp {
    /// Reply to every message with its upper-case copy; close when the client closes.
    EchoUpper,
    /// Read and ignore; close when the client closes.
    Discard,
    /// Close right after accept (the server closes first and ends in TIME-WAIT).
    Close,
}

#[derive(Clone, Copy, Debug)]
pub enum App {
    Client(ClientApp),
    Server { app: ServerApp, accepted: bool },
}

/// A connection control block.
#[derive(Clone, Debug)]
pub struct Tcb {
    /// Unique per host for the whole run (slots are reused, serials are not).
    pub serial: u64,
    pub state: TcpState,
    pub role: Role,
    pub local: Endpoint,
    pub remote: Endpoint,
    /// Listen spec this connection came from (passive opens).
    pub listener: Option<u16>,
    /// Still a half-open entry of `listener`'s SYN queue (Linux request socket).
    pub is_request: bool,
    /// Request only: the final ACK arrived but the accept queue was full (`inet_rsk(req)->acked`).
    pub acked: bool,
    /// Child waiting in the accept queue.
    pub in_accept_queue: bool,

    pub iss: SeqNum,
    pub irs: SeqNum,
    pub snd_una: SeqNum,
    pub snd_nxt: SeqNum,
    pub rcv_nxt: SeqNum,
    /// Sequence number of our FIN once sent.
    pub fin_seq: Option<SeqNum>,

    /// Unacknowledged and unsent bytes, starting at `snd_una`.
    pub tx: Payload,
    /// The application closed: a FIN follows `tx`.
    pub fin_queued: bool,
    /// Received, not yet read by the application.
    pub rx: Payload,
    pub peer_fin: bool,

    /// Expiries of the retransmission timer for what is in flight now (`icsk_retransmits`;
    /// `num_timeout` for a request).
    pub timeouts: u32,
    /// When the first SYN (or SYN-ACK) was sent.
    pub opened_at: SimTime,
    /// When the current flight was first sent (RTT sampling, Karn: only if never retransmitted).
    pub flight_sent_at: SimTime,
    pub srtt_ns: u64,
    pub rttvar_ns: u64,
    pub rto_ns: u64,
    /// A soft ICMP error has been seen (FreeBSD `t_softerror`).
    pub soft_error: bool,
    /// When an ACK last answered an out-of-window segment (Linux `last_oow_ack_time`).
    pub last_oow_ack: Option<SimTime>,

    pub timer: Option<(SimTime, TimerKind)>,
    /// Time of the wake-up event the engine holds for this connection (engine bookkeeping).
    pub wake_at: Option<SimTime>,

    pub app: App,
}

impl Tcb {
    pub fn new(serial: u64, role: Role, local: Endpoint, remote: Endpoint, app: App) -> Tcb {
        Tcb {
            serial,
            state: TcpState::Closed,
            role,
            local,
            remote,
            listener: None,
            is_request: false,
            acked: false,
            in_accept_queue: false,
            iss: SeqNum(0),
            irs: SeqNum(0),
            snd_una: SeqNum(0),
            snd_nxt: SeqNum(0),
            rcv_nxt: SeqNum(0),
            fin_seq: None,
            tx: Payload::EMPTY,
            fin_queued: false,
            rx: Payload::EMPTY,
            peer_fin: false,
            timeouts: 0,
            opened_at: SimTime::ZERO,
            flight_sent_at: SimTime::ZERO,
            srtt_ns: 0,
            rttvar_ns: 0,
            rto_ns: 0,
            soft_error: false,
            last_oow_ack: None,
            timer: None,
            wake_at: None,
            app,
        }
    }

    /// Whether the connection got past the handshake (a RST then means "reset", not "refused").
    pub fn app_connected(&self) -> bool {
        matches!(self.app, App::Client(a) if a.connected.is_some()) || self.state.is_synchronized()
    }

    /// Whether our FIN has been sent and acknowledged.
    pub fn fin_acked(&self) -> bool {
        matches!(self.fin_seq, Some(f) if self.snd_una.gt(f))
    }

    /// Anything sent and not yet acknowledged.
    pub fn in_flight(&self) -> bool {
        self.snd_nxt != self.snd_una
    }

    /// Something queued that has not been sent yet.
    pub fn has_unsent(&self) -> bool {
        let queued = self.tx.len() as u32 + (self.fin_queued as u32);
        (self.snd_nxt.diff(self.snd_una) as u32) < queued
    }

    /// RFC 6298 §2.2/2.3: fold an RTT sample into SRTT/RTTVAR and recompute the RTO.
    pub fn rtt_sample(&mut self, r: SimDuration, min_rto_ns: u64, max_rto_ns: u64) {
        let r = r.as_ns().max(1);
        if self.srtt_ns == 0 {
            self.srtt_ns = r;
            self.rttvar_ns = r / 2;
        } else {
            let delta = self.srtt_ns.abs_diff(r);
            self.rttvar_ns = (3 * self.rttvar_ns + delta) / 4;
            self.srtt_ns = (7 * self.srtt_ns + r) / 8;
        }
        // RTO = SRTT + max(G, 4*RTTVAR), G = 1 ms clock granularity.
        let rto = self.srtt_ns + (4 * self.rttvar_ns).max(1_000_000);
        self.rto_ns = rto.clamp(min_rto_ns, max_rto_ns);
    }
}
