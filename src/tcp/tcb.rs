//! One connection's control block (RFC 9293 §3.3.1).

use crate::time::{SimDuration, SimTime};
use crate::wire::{Endpoint, SeqNum};

use super::options::ConnOptions;
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
    pub(crate) serial: u64,
    pub(crate) state: TcpState,
    pub(crate) role: Role,
    pub(crate) local: Endpoint,
    pub(crate) remote: Endpoint,
    /// Listen spec this connection came from (passive opens).
    pub(crate) listener: Option<u16>,
    /// Still a half-open entry of `listener`'s SYN queue (Linux request socket).
    pub(crate) is_request: bool,
    /// Child waiting in the accept queue.
    pub(crate) in_accept_queue: bool,
    /// An application holds this socket (an active open, or a child it accepted): the stack
    /// reports socket events for it ([`super::SocketEvent`]).
    pub(crate) user: bool,
    /// SYNs sent by an active open, the first included (what the outcome record reports).
    pub(crate) syns_sent: u32,

    pub(crate) iss: SeqNum,
    pub(crate) irs: SeqNum,
    pub(crate) snd_una: SeqNum,
    pub(crate) snd_nxt: SeqNum,
    pub(crate) rcv_nxt: SeqNum,
    /// Sequence number of our FIN once sent.
    pub(crate) fin_seq: Option<SeqNum>,

    /// This connection's send and receive buffers in the stack's slab
    /// ([`crate::tcp::stack`]'s `buffers`), or none yet: a request never has any.
    pub(crate) bufs: u32,
    /// The application closed: a FIN follows the queued bytes.
    pub(crate) fin_queued: bool,
    pub(crate) peer_fin: bool,

    /// Expiries of the retransmission timer for what is in flight now (`icsk_retransmits`;
    /// `num_timeout` for a request).
    pub(crate) timeouts: u32,
    /// When the first SYN (or SYN-ACK) was sent.
    pub(crate) opened_at: SimTime,
    /// When the current flight was first sent (RTT sampling, Karn: only if never retransmitted).
    pub(crate) flight_sent_at: SimTime,
    pub(crate) srtt_ns: u64,
    pub(crate) rttvar_ns: u64,
    pub(crate) rto_ns: u64,
    /// The last ICMP error seen that did not abort the connection (Linux `sk_err_soft`,
    /// FreeBSD `t_softerror`): reported if the connect then times out.
    pub(crate) soft_error: Option<crate::wire::IcmpCode>,
    /// When an ACK last answered an out-of-window segment (Linux `last_oow_ack_time`).
    pub(crate) last_oow_ack: Option<SimTime>,

    pub(crate) timer: Option<(SimTime, TimerKind)>,
    /// Time of the wake-up event the engine holds for this connection (exact timers).
    pub(crate) wake_at: Option<SimTime>,
    /// The timer-wheel bucket this connection's timer was last queued in (0: none), see
    /// [`crate::tcp::wheel`].
    pub(crate) wheel_key: u64,
    /// The options this connection agreed on (see [`crate::tcp::options`]).
    pub(crate) opt: ConnOptions,
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
            bufs: super::stack::NO_BUFFERS,
            fin_queued: false,
            peer_fin: false,
            timeouts: 0,
            opened_at: SimTime::ZERO,
            flight_sent_at: SimTime::ZERO,
            srtt_ns: 0,
            rttvar_ns: 0,
            rto_ns: 0,
            soft_error: None,
            last_oow_ack: None,
            timer: None,
            wake_at: None,
            wheel_key: 0,
            opt: ConnOptions::default(),
        }
    }

    /// Unique per host for the run (slots are reused, serials are not).
    /// SYNs sent so far on an active open (the first and its retransmissions).
    pub fn syns_sent(&self) -> u32 {
        self.syns_sent
    }
    pub fn serial(&self) -> u64 {
        self.serial
    }
    pub fn state(&self) -> TcpState {
        self.state
    }
    pub fn role(&self) -> Role {
        self.role
    }
    pub fn local(&self) -> Endpoint {
        self.local
    }
    pub fn remote(&self) -> Endpoint {
        self.remote
    }
    /// The listener a passive open came from.
    pub fn listener(&self) -> Option<u16> {
        self.listener
    }
    /// Still a half-open entry of its listener's SYN queue.
    pub fn is_request(&self) -> bool {
        self.is_request
    }
    /// A child waiting in the accept queue.
    pub fn in_accept_queue(&self) -> bool {
        self.in_accept_queue
    }
    pub fn iss(&self) -> SeqNum {
        self.iss
    }
    pub fn snd_una(&self) -> SeqNum {
        self.snd_una
    }
    pub fn rcv_nxt(&self) -> SeqNum {
        self.rcv_nxt
    }
    /// The options the connection agreed on.
    pub fn options(&self) -> &ConnOptions {
        &self.opt
    }
    /// Expiries of the retransmission timer for what is in flight now.
    pub fn timeouts(&self) -> u32 {
        self.timeouts
    }

    /// Whether our FIN has been sent and acknowledged.
    pub fn fin_acked(&self) -> bool {
        matches!(self.fin_seq, Some(f) if self.snd_una.gt(f))
    }

    /// Anything sent and not yet acknowledged.
    pub fn in_flight(&self) -> bool {
        self.snd_nxt != self.snd_una
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
