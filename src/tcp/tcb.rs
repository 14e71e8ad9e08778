//! One connection's control block (RFC 9293 §3.3.1).

use crate::time::{SimDuration, SimTime};
use crate::wire::{Endpoint, Payload, SeqNum};

use super::{Role, TcpState};

/// What the connection's single timer means when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerKind {
    /// Retransmit the SYN, SYN-ACK or data/FIN in flight (or give up).
    Retransmit,
    /// 2 x MSL in TIME-WAIT is over.
    TimeWait,
    /// An orphaned FIN-WAIT-2 lived long enough.
    FinWait2,
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
    /// Child waiting in the accept queue.
    pub in_accept_queue: bool,
    /// An application holds this socket (an active open, or a child it accepted): the stack
    /// reports socket events for it ([`super::SocketEvent`]).
    pub user: bool,
    /// SYNs sent by an active open, the first included (what the outcome record reports).
    pub syns_sent: u32,

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
}

impl Tcb {
    pub fn new(serial: u64, role: Role, local: Endpoint, remote: Endpoint) -> Tcb {
        Tcb {
            serial,
            state: TcpState::Closed,
            role,
            local,
            remote,
            listener: None,
            is_request: false,
            in_accept_queue: false,
            user: false,
            syns_sent: 0,
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
        }
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
