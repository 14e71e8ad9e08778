//! One host's TCP stack: connection table, listeners, timers, counters.
//!
//! The segment-processing rules of RFC 9293 §3.10.7 live in [`super::process`]; this file holds
//! the tables and the shared mechanisms they use: the connection slab, the single
//! [`Stack::set_state`] through which every state change passes, timers, the SYN queue (or SYN
//! cache) bookkeeping, active open, accept and crash.

use std::collections::VecDeque;

use rand::{Rng, RngExt};
use rustc_hash::{FxHashMap, FxHashSet};

use super::config::SynQueueOverflow;
use super::listener::{AcceptPolicy, ListenSpec, Listener, ListenerStats};
use super::ports::EphemeralPorts;
use super::tcb::{App, ClientApp, ServerApp, Tcb, TimerKind};
use super::{ConnId, Counters, Note, Outbox, Outcome, Reason, Role, StackConfig, TcpState, Wake};
use crate::rng::StreamRng;
use crate::time::{NS_PER_MS, SimDuration, SimTime};
use crate::wire::{AddrId, Endpoint, Flags, Payload, Segment, SeqNum};

struct Slot {
    generation: u32,
    tcb: Option<Tcb>,
}

/// A FreeBSD-style SYN cache shared by all listeners of a host (RFC 4987 §3.5).
pub(crate) struct Syncache {
    pub buckets: Vec<VecDeque<(ConnId, u32)>>,
    pub len: u64,
    /// Cookies-only until this time (FreeBSD `syncache_pause`).
    pub paused_until: SimTime,
    pub pause_backoff: u32,
}

/// The syncache bucket of a 4-tuple (keyed by the boot's secret, like FreeBSD's hash).
fn bucket_index(secret: u64, local: Endpoint, remote: Endpoint, buckets: usize) -> usize {
    let a = ((local.addr.0 as u64) << 32 | remote.addr.0 as u64) ^ secret;
    let b = ((local.port as u64) << 16 | remote.port as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let h = (a ^ b).wrapping_mul(0xff51_afd7_ed55_8ccd);
    ((h >> 32) as usize) % buckets
}

/// One host's TCP stack.
pub struct Stack {
    pub cfg: StackConfig,
    slots: Vec<Slot>,
    free: Vec<u32>,
    by_tuple: FxHashMap<(Endpoint, Endpoint), ConnId>,
    /// Ports taken by active opens (`connect()`'s choice in O(1) amortised).
    ports: EphemeralPorts,
    pub(crate) specs: Vec<ListenSpec>,
    /// Live listeners, by spec index; `None` while the host is down.
    pub(crate) listeners: Vec<Option<Listener>>,
    pub(crate) stats: Vec<ListenerStats>,
    pub counters: Counters,
    /// Source addresses that completed a connection with this host (Linux
    /// `tcp_peer_is_proven`: a cached RTT from an earlier connection).
    proven: FxHashSet<AddrId>,
    /// ISNs of passive opens and the cookie secret.
    rng: StreamRng,
    pub(crate) cookie_secret: u64,
    next_serial: u64,
    /// Live connections per role and state (CLOSED is never counted: the TCB is freed).
    state_counts: [[u64; 11]; 2],
    pub(crate) syncache: Option<Syncache>,
    /// Transitions RFC 9293 does not allow (must stay 0; checked by the property tests).
    pub illegal_transitions: u64,
    alive: bool,
}

impl Stack {
    pub fn new(cfg: StackConfig, rng: StreamRng) -> Stack {
        let mut s = Stack {
            cfg,
            slots: Vec::new(),
            free: Vec::new(),
            by_tuple: FxHashMap::default(),
            ports: EphemeralPorts::default(),
            specs: Vec::new(),
            listeners: Vec::new(),
            stats: Vec::new(),
            counters: Counters::default(),
            proven: FxHashSet::default(),
            rng,
            cookie_secret: 0,
            next_serial: 0,
            state_counts: [[0; 11]; 2],
            syncache: None,
            illegal_transitions: 0,
            alive: true,
        };
        s.boot();
        s
    }

    /// Fresh per-boot state: cookie secret and syncache.
    fn boot(&mut self) {
        self.cookie_secret = self.rng.next_u64();
        self.syncache = self.cfg.syncache.map(|c| Syncache {
            buckets: (0..c.buckets).map(|_| VecDeque::new()).collect(),
            len: 0,
            paused_until: SimTime::ZERO,
            pause_backoff: 0,
        });
    }

    pub fn is_alive(&self) -> bool {
        self.alive
    }

    // ------------------------------------------------------------------ listeners

    /// `listen(port, backlog)`; returns the listener's index. The backlog is capped by
    /// `somaxconn` (Linux `__sys_listen`).
    pub fn listen(&mut self, spec: ListenSpec) -> u16 {
        let idx = self.specs.len() as u16;
        self.specs.push(spec);
        let (_, syn_queue_capacity, accept_queue_capacity) = self.capacities(idx as usize);
        self.stats.push(ListenerStats {
            syn_queue_capacity,
            accept_queue_capacity,
            ..ListenerStats::default()
        });
        // A host that is down records what its application will listen on when it comes up,
        // but has no socket open until then.
        let l = self.alive.then(|| self.open_listener(idx as usize));
        self.listeners.push(l);
        idx
    }

    /// The host is down from the start of the run (a dead host, `alive: false`): no socket
    /// is open and every segment reaching it is lost. Call before [`Stack::listen`].
    pub fn start_down(&mut self) {
        self.alive = false;
    }

    /// Effective backlog and queue capacities of listener `idx`: min(backlog, somaxconn)
    /// (Linux `__sys_listen`) and the profile's queue rules.
    fn capacities(&self, idx: usize) -> (u64, u64, u64) {
        let backlog = self.specs[idx].backlog.min(self.cfg.somaxconn as u64);
        let syn_queue_cap = match self.cfg.syncache {
            Some(c) => c.cache_limit as u64,
            None => self.cfg.syn_queue_rule.capacity(backlog),
        };
        (
            backlog,
            syn_queue_cap,
            self.cfg.accept_queue_rule.capacity(backlog),
        )
    }

    fn open_listener(&mut self, idx: usize) -> Listener {
        let (backlog, syn_queue_cap, accept_queue_cap) = self.capacities(idx);
        self.state_counts[Role::Server as usize][TcpState::Listen.index()] += 1;
        Listener {
            backlog,
            syn_queue_cap,
            accept_queue_cap,
            ..Listener::default()
        }
    }

    pub fn listener_specs(&self) -> &[ListenSpec] {
        &self.specs
    }
    pub fn listener_stats(&self) -> &[ListenerStats] {
        &self.stats
    }
    /// (SYN queue length, accept queue length) of listener `idx` (0 while down).
    pub fn queue_lengths(&self, idx: usize) -> (u64, u64) {
        match &self.listeners[idx] {
            Some(l) => (l.syn_queue_len, l.accept_queue.len() as u64),
            None => (0, 0),
        }
    }
    pub fn listener_for_port(&self, port: u16) -> Option<usize> {
        self.specs
            .iter()
            .position(|s| s.port == port)
            .filter(|&i| self.listeners[i].is_some())
    }

    /// Live connections of `role` in `state`.
    pub fn count(&self, role: Role, state: TcpState) -> u64 {
        self.state_counts[role as usize][state.index()]
    }
    /// Live connection control blocks.
    pub fn live_connections(&self) -> usize {
        self.slots.len() - self.free.len()
    }
    pub fn is_proven(&self, a: AddrId) -> bool {
        self.proven.contains(&a)
    }

    // ------------------------------------------------------------------ connection slab

    pub(crate) fn tcb(&self, id: ConnId) -> &Tcb {
        self.slots[id.0 as usize]
            .tcb
            .as_ref()
            .expect("live connection slot")
    }
    pub(crate) fn tcb_mut(&mut self, id: ConnId) -> &mut Tcb {
        self.slots[id.0 as usize]
            .tcb
            .as_mut()
            .expect("live connection slot")
    }
    pub(crate) fn generation(&self, id: ConnId) -> u32 {
        self.slots[id.0 as usize].generation
    }
    pub(crate) fn is_live(&self, id: ConnId, generation: u32) -> bool {
        self.slots
            .get(id.0 as usize)
            .is_some_and(|s| s.generation == generation && s.tcb.is_some())
    }
    pub(crate) fn lookup(&self, local: Endpoint, remote: Endpoint) -> Option<ConnId> {
        self.by_tuple.get(&(local, remote)).copied()
    }

    /// Iterates live connections in slot order (deterministic).
    pub fn connections(&self) -> impl Iterator<Item = &Tcb> {
        self.slots.iter().filter_map(|s| s.tcb.as_ref())
    }

    pub(crate) fn insert(
        &mut self,
        role: Role,
        local: Endpoint,
        remote: Endpoint,
        app: App,
    ) -> ConnId {
        let serial = self.next_serial;
        self.next_serial += 1;
        let tcb = Tcb::new(serial, role, local, remote, app);
        let id = match self.free.pop() {
            Some(i) => {
                let s = &mut self.slots[i as usize];
                s.tcb = Some(tcb);
                ConnId(i)
            }
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    tcb: Some(tcb),
                });
                ConnId(self.slots.len() as u32 - 1)
            }
        };
        self.by_tuple.insert((local, remote), id);
        if role == Role::Client {
            self.ports.insert(local, remote);
        }
        id
    }

    /// Moves `id` to CLOSED (or, for a passive request, back to LISTEN) and frees it, keeping
    /// queue bookkeeping and the client's outcome consistent.
    pub(crate) fn close_and_free(
        &mut self,
        id: ConnId,
        to: TcpState,
        reason: Reason,
        _now: SimTime,
        out: &mut Outbox,
    ) {
        let (is_request, in_accept, listener) = {
            let t = self.tcb(id);
            (t.is_request, t.in_accept_queue, t.listener)
        };
        if is_request {
            self.unlink_request(id);
        }
        if in_accept {
            if let Some(Some(l)) = listener.map(|i| self.listeners[i as usize].as_mut()) {
                l.accept_queue.retain(|&(c, _, _)| c != id);
            }
        }
        let from = self.tcb(id).state;
        if reason != Reason::HostCrash && to == TcpState::Closed {
            // tcp_done: AttemptFails for SYN-SENT/SYN-RECV sockets (request sockets count it
            // in tcp_check_req instead); tcp_set_state: EstabResets from ESTABLISHED/CLOSE-WAIT.
            if !is_request && matches!(from, TcpState::SynSent | TcpState::SynReceived) {
                self.counters.attempt_fails += 1;
            }
            if matches!(from, TcpState::Established | TcpState::CloseWait) {
                self.counters.estab_resets += 1;
            }
        }
        self.set_state(id, to, reason, out);
        let outcome = match reason {
            Reason::RstReceived => {
                if self.tcb(id).app_connected() {
                    Outcome::Reset
                } else {
                    Outcome::Refused
                }
            }
            Reason::IcmpUnreachable => Outcome::Unreachable,
            Reason::SynRetriesExhausted | Reason::DataRetriesExhausted => Outcome::TimedOut,
            Reason::HostCrash => Outcome::Aborted,
            _ => Outcome::Reset,
        };
        self.finish_attempt(id, outcome, reason, out);
        let tcb = self.slots[id.0 as usize]
            .tcb
            .take()
            .expect("live connection slot");
        self.by_tuple.remove(&(tcb.local, tcb.remote));
        if tcb.role == Role::Client {
            self.ports.remove(tcb.local, tcb.remote);
        }
        let slot = &mut self.slots[id.0 as usize];
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(id.0);
    }

    // ------------------------------------------------------------------ the one place

    /// Every state change goes through here: counts per role/state, the legality check against
    /// RFC 9293's transitions, and the note for observers.
    pub(crate) fn set_state(&mut self, id: ConnId, to: TcpState, reason: Reason, out: &mut Outbox) {
        let tcb = self.slots[id.0 as usize]
            .tcb
            .as_mut()
            .expect("live connection slot");
        let from = tcb.state;
        if from == to {
            return;
        }
        if !from.can_move_to(to) {
            self.illegal_transitions += 1;
        }
        tcb.state = to;
        let role = tcb.role as usize;
        let serial = tcb.serial;
        let role_e = tcb.role;
        if from != TcpState::Closed && from != TcpState::Listen {
            self.state_counts[role][from.index()] -= 1;
        }
        if to != TcpState::Closed && to != TcpState::Listen {
            self.state_counts[role][to.index()] += 1;
        }
        out.notes.push(Note::State {
            serial,
            role: role_e,
            from,
            to,
            reason,
        });
    }

    // ------------------------------------------------------------------ counters

    /// The one way to bump a counter that belongs to listener `li`: it counts on the host and
    /// on the listener alike, so that on a host with one listener the two always agree.
    pub(crate) fn bump(&mut self, li: usize, f: fn(&mut Counters)) {
        f(&mut self.counters);
        f(&mut self.stats[li].counters);
    }

    // ------------------------------------------------------------------ sending

    pub(crate) fn emit(&mut self, seg: Segment, out: &mut Outbox) {
        self.counters.out_segs += 1;
        if seg.flags.rst() {
            self.counters.out_rsts += 1;
        }
        out.segments.push(seg);
    }

    /// A RST answering `seg` (RFC 9293 §3.10.7.1): `<SEQ=SEG.ACK><CTL=RST>` if it had an ACK,
    /// else `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`. Never answers a RST.
    pub(crate) fn send_reset_for(&mut self, seg: &Segment, out: &mut Outbox) {
        if seg.flags.rst() {
            return;
        }
        let rst = if seg.flags.ack() {
            Segment {
                src: seg.dst,
                dst: seg.src,
                seq: seg.ack,
                ack: SeqNum(0),
                flags: Flags::RST,
                payload: Payload::EMPTY,
            }
        } else {
            Segment {
                src: seg.dst,
                dst: seg.src,
                seq: SeqNum(0),
                ack: seg.seq.plus(seg.seg_len()),
                flags: Flags::RST_ACK,
                payload: Payload::EMPTY,
            }
        };
        self.emit(rst, out);
    }

    /// A bare control segment from connection `id` with its current SND.NXT / RCV.NXT.
    pub(crate) fn send_ctl(&mut self, id: ConnId, flags: Flags, seq: SeqNum, out: &mut Outbox) {
        let t = self.tcb(id);
        let seg = Segment {
            src: t.local,
            dst: t.remote,
            seq,
            ack: if flags.ack() { t.rcv_nxt } else { SeqNum(0) },
            flags,
            payload: Payload::EMPTY,
        };
        self.emit(seg, out);
    }

    /// Sends everything from SND.UNA: queued data and, if the application closed, the FIN.
    /// Stop-and-wait: called when nothing is in flight, or to retransmit.
    pub(crate) fn send_flight(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        let t = self.tcb_mut(id);
        let fin = t.fin_queued && !t.fin_acked();
        if t.tx.is_empty() && !fin {
            return;
        }
        let mut flags = Flags::ACK;
        if !t.tx.is_empty() {
            flags = flags.union(Flags::PSH);
        }
        if fin {
            flags = flags.union(Flags::FIN);
            t.fin_seq = Some(t.snd_una.plus(t.tx.len() as u32));
        }
        let seg = Segment {
            src: t.local,
            dst: t.remote,
            seq: t.snd_una,
            ack: t.rcv_nxt,
            flags,
            payload: t.tx,
        };
        let new_nxt = t.snd_una.plus(seg.seg_len());
        let first = !t.in_flight();
        if new_nxt.gt(t.snd_nxt) {
            t.snd_nxt = new_nxt;
        }
        if first {
            t.flight_sent_at = now;
            t.timeouts = 0;
        }
        let rto = SimDuration(t.rto_ns);
        self.emit(seg, out);
        self.arm(id, now + rto, TimerKind::Retransmit, out);
    }

    // ------------------------------------------------------------------ timers

    pub(crate) fn arm(&mut self, id: ConnId, at: SimTime, kind: TimerKind, out: &mut Outbox) {
        let generation = self.generation(id);
        let t = self.tcb_mut(id);
        t.timer = Some((at, kind));
        if t.wake_at.is_none_or(|w| at < w) {
            t.wake_at = Some(at);
            out.wakes.push((Wake::Conn(id, generation), at));
        }
    }

    /// The engine delivers a wake-up it was asked for.
    pub fn on_wake(&mut self, now: SimTime, wake: Wake, out: &mut Outbox) {
        if !self.alive {
            return;
        }
        match wake {
            Wake::Conn(id, generation) => {
                if !self.is_live(id, generation) {
                    return;
                }
                let t = self.tcb_mut(id);
                if t.wake_at != Some(now) {
                    return; // superseded by an earlier wake-up
                }
                t.wake_at = None;
                match t.timer {
                    Some((at, kind)) if at <= now => {
                        t.timer = None;
                        self.on_timer(id, kind, now, out);
                    }
                    Some((at, _)) => {
                        t.wake_at = Some(at);
                        out.wakes.push((Wake::Conn(id, generation), at));
                    }
                    None => {}
                }
            }
            Wake::Accept(li, generation) => self.on_accept_wake(li as usize, generation, now, out),
        }
    }

    fn on_timer(&mut self, id: ConnId, kind: TimerKind, now: SimTime, out: &mut Outbox) {
        match kind {
            TimerKind::Retransmit => self.on_retransmit_timer(id, now, out),
            TimerKind::AppSend => self.client_write(id, now, out),
            TimerKind::TimeWait => {
                self.close_and_free(id, TcpState::Closed, Reason::TimeWaitDone, now, out)
            }
            TimerKind::FinWait2 => {
                self.close_and_free(id, TcpState::Closed, Reason::FinWait2Timeout, now, out)
            }
        }
    }

    fn on_retransmit_timer(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        let state = self.tcb(id).state;
        let is_request = self.tcb(id).is_request;
        if is_request {
            self.on_synack_timer(id, now, out);
        } else if state == TcpState::SynSent {
            self.on_syn_timer(id, now, out);
        } else if state == TcpState::SynReceived {
            // Simultaneous open: retransmit our SYN,ACK with the SYN schedule.
            self.on_syn_timer(id, now, out);
        } else {
            self.on_data_timer(id, now, out);
        }
    }

    /// Active open: Linux `tcp_retransmit_timer` + `tcp_write_timeout` for a SYN.
    fn on_syn_timer(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        let cfg = &self.cfg;
        let max_retrans = cfg.effective_syn_max_retransmissions();
        let give_up = SimDuration::from_ms(cfg.effective_syn_give_up_ms());
        let (elapsed, timeouts, state, iss) = {
            let t = self.tcb(id);
            (now.since(t.opened_at), t.timeouts, t.state, t.iss)
        };
        // tcp_write_timeout: give up at the first firing where retransmissions >= limit or
        // elapsed >= the time budget (FreeBSD: keepinit is a timer of its own, same check).
        if timeouts >= max_retrans || elapsed >= give_up {
            self.counters.abort_on_timeout += 1; // tcp_write_err
            self.close_and_free(id, TcpState::Closed, Reason::SynRetriesExhausted, now, out);
            return;
        }
        if timeouts == 0 {
            self.counters.timeouts += 1; // TCPTimeouts: first expiry of a sequence
        }
        self.counters.syn_retrans += 1;
        self.counters.retrans_segs += 1;
        let (flags, seq) = if state == TcpState::SynSent {
            (Flags::SYN, iss)
        } else {
            (Flags::SYN_ACK, iss)
        };
        self.send_ctl(id, flags, seq, out);
        let t = self.tcb_mut(id);
        t.timeouts += 1;
        if let App::Client(a) = &mut t.app {
            a.syns_sent += 1;
        }
        let timeouts = t.timeouts;
        let opened = t.opened_at;
        let mut next = now + SimDuration::from_ms(self.cfg.syn_rto_after(timeouts));
        if self.cfg.syn_give_up_own_timer {
            next = next.min(opened + give_up);
        }
        self.arm(id, next, TimerKind::Retransmit, out);
    }

    /// Passive open: Linux `reqsk_timer_handler`, with young/old pruning.
    fn on_synack_timer(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        self.counters.timeouts += 1; // tcp_syn_ack_timeout: every firing
        let li = self.tcb(id).listener.expect("request has a listener") as usize;
        let l = self.listeners[li]
            .as_ref()
            .expect("request's listener is live");
        let qlen = l.syn_queue_len;
        let mut max_retries = self.cfg.synack_retries;
        // Pruning: if (qlen << 1) > max(8, backlog), old requests lose retries.
        if self.cfg.synack_pruning && (qlen << 1) > l.backlog.max(8) {
            let mut thresh = l.young << 1;
            while max_retries > 2 {
                if qlen < thresh {
                    break;
                }
                max_retries -= 1;
                thresh <<= 1;
            }
        }
        let t = self.tcb(id);
        let expired_by_cap = self
            .cfg
            .synrecv_timeout_ms
            .is_some_and(|ms| now.since(t.opened_at) >= SimDuration::from_ms(ms));
        if t.timeouts >= max_retries || expired_by_cap {
            let reason = if expired_by_cap && t.timeouts < max_retries {
                Reason::SynrecvTimeout
            } else {
                Reason::SynackRetriesExhausted
            };
            self.close_and_free(id, TcpState::Closed, reason, now, out);
            return;
        }
        self.retransmit_synack(id, now, out);
    }

    /// Re-sends a request's SYN-ACK and re-arms its timer (`inet_rtx_syn_ack`).
    pub(crate) fn retransmit_synack(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        self.counters.syn_retrans += 1;
        self.counters.retrans_segs += 1;
        let iss = self.tcb(id).iss;
        self.send_ctl(id, Flags::SYN_ACK, iss, out);
        let li = self.tcb(id).listener.expect("request has a listener") as usize;
        let t = self.tcb_mut(id);
        let was_young = t.timeouts == 0;
        t.timeouts += 1;
        let timeouts = t.timeouts;
        let opened = t.opened_at;
        if was_young {
            if let Some(l) = self.listeners[li].as_mut() {
                l.young -= 1;
            }
        }
        let mut next = now + SimDuration::from_ms(self.cfg.synack_rto_after(timeouts));
        if let Some(ms) = self.cfg.synrecv_timeout_ms {
            next = next.min(opened + SimDuration::from_ms(ms));
        }
        self.arm(id, next, TimerKind::Retransmit, out);
    }

    /// Data/FIN retransmission (RFC 6298 §5.4-5.6: back off, resend the earliest unacked).
    fn on_data_timer(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        let t = self.tcb(id);
        if !t.in_flight() {
            return;
        }
        if t.timeouts >= self.cfg.data_retries {
            self.counters.abort_on_timeout += 1;
            self.close_and_free(id, TcpState::Closed, Reason::DataRetriesExhausted, now, out);
            return;
        }
        if t.timeouts == 0 {
            self.counters.timeouts += 1;
        }
        self.counters.retrans_segs += 1;
        let max = self.cfg.rto_max_ms * NS_PER_MS;
        let t = self.tcb_mut(id);
        t.timeouts += 1;
        t.rto_ns = t.rto_ns.saturating_mul(2).min(max);
        self.send_flight(id, now, out);
    }

    // ------------------------------------------------------------------ SYN queue / cache

    /// Whether a new request would overflow listener `li`'s SYN queue (or the SYN cache).
    pub(crate) fn syn_queue_full(&self, li: usize) -> bool {
        let l = self.listeners[li].as_ref().expect("live listener");
        match (&self.syncache, self.cfg.syncache) {
            (Some(sc), Some(c)) => sc.len >= c.cache_limit as u64,
            _ => l.syn_queue_len >= l.syn_queue_cap,
        }
    }

    pub(crate) fn accept_queue_full(&self, li: usize) -> bool {
        let l = self.listeners[li].as_ref().expect("live listener");
        l.accept_queue.len() as u64 >= l.accept_queue_cap
    }

    fn bucket_of(&self, local: Endpoint, remote: Endpoint, buckets: usize) -> usize {
        bucket_index(self.cookie_secret, local, remote, buckets)
    }

    /// Makes room for a new request of listener `li` when policy says to evict (recycle-oldest,
    /// or a full syncache bucket). Returns the reason of the eviction, if one happened.
    pub(crate) fn make_room(
        &mut self,
        li: usize,
        local: Endpoint,
        remote: Endpoint,
        now: SimTime,
        out: &mut Outbox,
    ) -> Option<Reason> {
        if let Some(c) = self.cfg.syncache {
            let sc = self.syncache.as_ref().expect("syncache configured");
            let b = self.bucket_of(local, remote, sc.buckets.len());
            // syncache_insert: a full bucket drops its oldest entry.
            if sc.buckets[b].len() as u64 >= c.bucket_limit as u64 {
                let (victim, _) = *sc.buckets[b].front().expect("full bucket");
                self.bump(li, |c| c.syncache_bucket_overflow += 1);
                self.close_and_free(
                    victim,
                    TcpState::Closed,
                    Reason::SyncacheBucketOverflow,
                    now,
                    out,
                );
                return Some(Reason::SyncacheBucketOverflow);
            }
            return None;
        }
        if self.cfg.syn_queue_overflow == SynQueueOverflow::RecycleOldest && self.syn_queue_full(li)
        {
            let l = self.listeners[li].as_mut().expect("live listener");
            while let Some(&(victim, generation)) = l.half_open_fifo.front() {
                l.half_open_fifo.pop_front();
                let live = self.slots.get(victim.0 as usize).is_some_and(|s| {
                    s.generation == generation && s.tcb.as_ref().is_some_and(|t| t.is_request)
                });
                if live {
                    self.bump(li, |c| c.syn_queue_recycled += 1);
                    self.close_and_free(
                        victim,
                        TcpState::Closed,
                        Reason::SynQueueRecycled,
                        now,
                        out,
                    );
                    return Some(Reason::SynQueueRecycled);
                }
            }
        }
        None
    }

    /// Records a new request in its listener's SYN queue (and the syncache).
    pub(crate) fn link_request(&mut self, id: ConnId, li: usize) {
        let generation = self.generation(id);
        let (local, remote) = {
            let t = self.tcb(id);
            (t.local, t.remote)
        };
        let recycle = self.cfg.syn_queue_overflow == SynQueueOverflow::RecycleOldest;
        let l = self.listeners[li].as_mut().expect("live listener");
        l.syn_queue_len += 1;
        l.young += 1;
        if recycle && self.cfg.syncache.is_none() {
            l.half_open_fifo.push_back((id, generation));
            // Drop stale entries so the FIFO follows live requests, not history.
            if l.half_open_fifo.len() as u64 > 2 * l.syn_queue_len + 16 {
                let slots = &self.slots;
                l.half_open_fifo.retain(|&(c, g)| {
                    slots[c.0 as usize].generation == g
                        && slots[c.0 as usize]
                            .tcb
                            .as_ref()
                            .is_some_and(|t| t.is_request)
                });
            }
        }
        let peak = l.syn_queue_len;
        let st = &mut self.stats[li];
        st.syn_queue_peak = st.syn_queue_peak.max(peak);
        if let Some(sc) = &mut self.syncache {
            let b = bucket_index(self.cookie_secret, local, remote, sc.buckets.len());
            sc.buckets[b].push_back((id, generation));
            sc.len += 1;
        }
        self.tcb_mut(id).is_request = true;
    }

    /// Removes a request from its listener's SYN queue (and the syncache).
    pub(crate) fn unlink_request(&mut self, id: ConnId) {
        let (li, young, local, remote) = {
            let t = self.tcb(id);
            (
                t.listener.expect("request has a listener") as usize,
                t.timeouts == 0,
                t.local,
                t.remote,
            )
        };
        if let Some(l) = self.listeners[li].as_mut() {
            l.syn_queue_len -= 1;
            if young {
                l.young -= 1;
            }
        }
        if let Some(sc) = &mut self.syncache {
            let b = bucket_index(self.cookie_secret, local, remote, sc.buckets.len());
            if let Some(pos) = sc.buckets[b].iter().position(|&(c, _)| c == id) {
                sc.buckets[b].remove(pos);
                sc.len -= 1;
            }
        }
        self.tcb_mut(id).is_request = false;
    }

    // ------------------------------------------------------------------ accept

    /// A child entered the accept queue: let the application policy decide when to accept.
    pub(crate) fn enqueue_accept(&mut self, id: ConnId, li: usize, now: SimTime, out: &mut Outbox) {
        let generation = self.generation(id);
        self.tcb_mut(id).in_accept_queue = true;
        let l = self.listeners[li].as_mut().expect("live listener");
        l.accept_queue.push_back((id, generation, now));
        let len = l.accept_queue.len() as u64;
        let st = &mut self.stats[li];
        st.accept_queue_peak = st.accept_queue_peak.max(len);
        self.schedule_accept(li, now, out);
    }

    /// Accepts now if the policy allows, else asks for a wake-up when it will.
    fn schedule_accept(&mut self, li: usize, now: SimTime, out: &mut Outbox) {
        loop {
            let policy = self.specs[li].accept;
            let Some(l) = self.listeners[li].as_mut() else {
                return;
            };
            let Some(&(_, _, entered)) = l.accept_queue.front() else {
                return;
            };
            let at = match policy {
                AcceptPolicy::Never => return,
                AcceptPolicy::Immediate => now,
                AcceptPolicy::Delay(d) => entered + d,
                AcceptPolicy::Rate(_) => l.next_accept_at.max(now),
            };
            if at > now {
                if l.accept_wake.is_none_or(|w| at < w) {
                    l.accept_generation = l.accept_generation.wrapping_add(1);
                    l.accept_wake = Some(at);
                    out.wakes
                        .push((Wake::Accept(li as u16, l.accept_generation), at));
                }
                return;
            }
            let (id, _, _) = l.accept_queue.pop_front().expect("non-empty accept queue");
            if let AcceptPolicy::Rate(iv) = policy {
                l.next_accept_at = now + iv;
            }
            self.stats[li].accepted += 1;
            self.on_accepted(id, now, out);
        }
    }

    fn on_accept_wake(&mut self, li: usize, generation: u32, now: SimTime, out: &mut Outbox) {
        let Some(Some(l)) = self.listeners.get_mut(li) else {
            return;
        };
        if l.accept_generation != generation {
            return;
        }
        l.accept_wake = None;
        self.schedule_accept(li, now, out);
    }

    /// The server application takes the connection: read what arrived, reply, maybe close.
    fn on_accepted(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        let t = self.tcb_mut(id);
        t.in_accept_queue = false;
        if let App::Server { accepted, .. } = &mut t.app {
            *accepted = true;
        }
        self.server_app_step(id, now, out);
    }

    /// Runs the server application on whatever the connection has received.
    pub(crate) fn server_app_step(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        let t = self.tcb_mut(id);
        let App::Server {
            app,
            accepted: true,
        } = t.app
        else {
            return;
        };
        if !t.rx.is_empty() {
            let data = t.rx;
            t.rx = Payload::EMPTY;
            if app == ServerApp::EchoUpper {
                let mut up = data;
                let n = up.len();
                let mut buf = [0u8; crate::wire::MAX_PAYLOAD];
                buf[..n].copy_from_slice(up.as_slice());
                buf[..n].make_ascii_uppercase();
                up = Payload::from_slice(&buf[..n]);
                self.app_write(id, up, now, out);
            }
        }
        let t = self.tcb(id);
        let close = app == ServerApp::Close || (t.peer_fin && !t.fin_queued);
        if close && !t.fin_queued {
            self.app_close(id, now, out);
        }
    }

    // ------------------------------------------------------------------ active open

    /// connect(): picks an ephemeral port (random start, then linear probe, as Linux
    /// `__inet_hash_connect` does), draws the ISN from `rng`, sends the SYN.
    #[allow(clippy::too_many_arguments)]
    pub fn connect(
        &mut self,
        now: SimTime,
        local_addr: AddrId,
        remote: Endpoint,
        app: ClientApp,
        rng: &mut StreamRng,
        out: &mut Outbox,
    ) -> Option<ConnId> {
        let (lo, hi) = (self.cfg.ephemeral_port_min, self.cfg.ephemeral_port_max);
        let span = hi as u32 - lo as u32 + 1;
        let start = lo + rng.random_range(0..span) as u16;
        let port = self.ports.choose(local_addr, remote, lo, hi, start, |p| {
            self.listener_for_port(p).is_none()
        });
        let Some(local) = port.map(|port| Endpoint {
            addr: local_addr,
            port,
        }) else {
            out.notes.push(Note::Outcome {
                client: app.client,
                attempt: app.attempt,
                outcome: Outcome::Aborted,
                reason: Reason::EphemeralPortsExhausted,
                started: now,
                connected: None,
                syns_sent: 0,
            });
            return None;
        };
        let iss = SeqNum(rng.next_u32());
        let mut app = app;
        app.syns_sent = 1;
        let id = self.insert(Role::Client, local, remote, App::Client(app));
        let t = self.tcb_mut(id);
        t.iss = iss;
        t.snd_una = iss;
        t.snd_nxt = iss.plus(1);
        t.opened_at = now;
        t.flight_sent_at = now;
        self.counters.active_opens += 1; // tcp_connect
        self.set_state(id, TcpState::SynSent, Reason::Connect, out);
        self.send_ctl(id, Flags::SYN, iss, out);
        let mut next = now + SimDuration::from_ms(self.cfg.syn_rto_after(0));
        if self.cfg.syn_give_up_own_timer {
            next = next.min(now + SimDuration::from_ms(self.cfg.effective_syn_give_up_ms()));
        }
        self.arm(id, next, TimerKind::Retransmit, out);
        Some(id)
    }

    /// The client application after the handshake: write now, later, or not at all.
    pub(crate) fn client_on_connected(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        let t = self.tcb_mut(id);
        let App::Client(a) = &mut t.app else { return };
        a.connected.get_or_insert(now);
        if a.send.is_empty() {
            self.finish_attempt(id, Outcome::Established, Reason::SynAckReceived, out);
            self.client_maybe_close(id, now, out);
        } else if a.send_delay == SimDuration::ZERO {
            self.client_write(id, now, out);
        } else {
            let at = now + a.send_delay;
            self.arm(id, at, TimerKind::AppSend, out);
        }
    }

    fn client_write(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        let t = self.tcb_mut(id);
        let App::Client(a) = &mut t.app else { return };
        if a.sent {
            return;
        }
        a.sent = true;
        let data = a.send;
        self.app_write(id, data, now, out);
    }

    /// The client application after receiving data or a FIN.
    pub(crate) fn client_app_step(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        let t = self.tcb_mut(id);
        let peer_fin = t.peer_fin;
        let App::Client(a) = &mut t.app else { return };
        if a.done {
            t.rx = Payload::EMPTY;
            self.client_maybe_close(id, now, out);
            return;
        }
        let got_reply = a.sent && t.rx.len() >= a.expect_reply as usize;
        if got_reply || peer_fin {
            t.rx = Payload::EMPTY;
            self.finish_attempt(id, Outcome::Established, Reason::SynAckReceived, out);
            self.client_maybe_close(id, now, out);
        }
    }

    fn client_maybe_close(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        let t = self.tcb(id);
        let App::Client(a) = t.app else { return };
        if (a.close || t.peer_fin) && !t.fin_queued {
            self.app_close(id, now, out);
        }
    }

    /// Reports the attempt's outcome once.
    pub(crate) fn finish_attempt(
        &mut self,
        id: ConnId,
        outcome: Outcome,
        reason: Reason,
        out: &mut Outbox,
    ) {
        let t = self.tcb_mut(id);
        let App::Client(a) = &mut t.app else { return };
        if a.done {
            return;
        }
        a.done = true;
        out.notes.push(Note::Outcome {
            client: a.client,
            attempt: a.attempt,
            outcome,
            reason,
            started: a.started,
            connected: if outcome == Outcome::Established {
                a.connected
            } else {
                None
            },
            syns_sent: a.syns_sent,
        });
    }

    // ------------------------------------------------------------------ app calls

    /// write(): queue bytes; send at once if nothing is in flight.
    pub(crate) fn app_write(&mut self, id: ConnId, data: Payload, now: SimTime, out: &mut Outbox) {
        let t = self.tcb_mut(id);
        if t.fin_queued {
            return;
        }
        let mut tx = t.tx;
        tx.push(data.as_slice());
        t.tx = tx;
        if !t.in_flight() {
            self.send_flight(id, now, out);
        }
    }

    /// close(): queue a FIN (RFC 9293 §3.10.4).
    pub(crate) fn app_close(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        let t = self.tcb_mut(id);
        if t.fin_queued {
            return;
        }
        t.fin_queued = true;
        let next = match t.state {
            TcpState::Established | TcpState::SynReceived => TcpState::FinWait1,
            TcpState::CloseWait => TcpState::LastAck,
            _ => return,
        };
        let idle = !t.in_flight();
        self.set_state(id, next, Reason::AppClose, out);
        if idle {
            self.send_flight(id, now, out);
        }
    }

    // ------------------------------------------------------------------ crash

    /// The host crashes: every connection and listener vanishes without a segment. Clients'
    /// attempts in progress end as `aborted`.
    pub fn crash(&mut self, now: SimTime, out: &mut Outbox) {
        let ids: Vec<ConnId> = (0..self.slots.len() as u32)
            .map(ConnId)
            .filter(|c| self.slots[c.0 as usize].tcb.is_some())
            .collect();
        for id in ids {
            self.close_and_free(id, TcpState::Closed, Reason::HostCrash, now, out);
        }
        for l in self.listeners.iter_mut() {
            if l.take().is_some() {
                self.state_counts[Role::Server as usize][TcpState::Listen.index()] -= 1;
            }
        }
        self.by_tuple = FxHashMap::default();
        self.ports.clear();
        self.slots.clear();
        self.free.clear();
        self.alive = false;
    }

    /// The host is back: a new boot (new cookie secret), and its applications listen again.
    /// Connections it had are unknown to it now, so their segments draw RSTs (RFC 9293 §3.5.1).
    pub fn restart(&mut self) {
        self.alive = true;
        self.boot();
        for i in 0..self.specs.len() {
            let l = self.open_listener(i);
            self.listeners[i] = Some(l);
        }
    }

    pub(crate) fn next_isn(&mut self) -> SeqNum {
        SeqNum(self.rng.next_u32())
    }

    pub(crate) fn mark_proven(&mut self, a: AddrId) {
        self.proven.insert(a);
    }
}
