//! One host's TCP stack: connection table, listeners, timers, counters.
//!
//! The segment-processing rules of RFC 9293 §3.10.7 live in [`super::process`]; this file holds
//! the tables and the shared mechanisms they use: the connection slab, the single
//! [`Stack::set_state`] through which every state change passes, timers, the SYN queue (or SYN
//! cache) bookkeeping and crash. The socket calls are in `socket`.

mod buffers;
mod cookies;
mod send;
mod socket;
mod synqueue;
mod timers;

pub use cookies::cookie_loss;
pub(crate) use synqueue::Syncache;

use std::collections::VecDeque;

use rand::Rng;
use rustc_hash::{FxHashMap, FxHashSet};

use super::listener::{ListenSpec, Listener, ListenerStats};
use super::ports::EphemeralPorts;
use super::tcb::Tcb;
use super::wheel::{Jiffies, TimerWheel};
use super::{ConnId, Counters, Note, Outbox, Reason, Role, SocketEvent, StackConfig, TcpState};
use crate::rng::StreamRng;
use crate::time::SimTime;
use crate::wire::{AddrId, Endpoint, SeqNum};
use buffers::BufferSlab;
pub(crate) use buffers::NO_BUFFERS;

struct Slot {
    generation: u32,
    tcb: Option<Tcb>,
}

/// One host's TCP stack.
pub struct Stack {
    pub cfg: StackConfig,
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Send and receive buffers of the connections that carry data ([`buffers`]).
    buffers: BufferSlab,
    by_tuple: FxHashMap<(Endpoint, Endpoint), ConnId>,
    /// Ports taken by active opens (`connect()`'s choice in O(1) amortised).
    ports: EphemeralPorts,
    pub(crate) specs: Vec<ListenSpec>,
    /// Live listeners, by spec index; `None` while the host is down.
    pub(crate) listeners: Vec<Option<Listener>>,
    pub(crate) stats: Vec<ListenerStats>,
    pub counters: Counters,
    /// Peers with an RTT in this host's `tcp_metrics` (Linux `tcp_peer_is_proven`): written
    /// when a connection with an RTT sample closes cleanly ([`Stack::set_state`]).
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
    /// Kernel timers (`timer_hz` > 0): jiffies and the timer wheel; `None`: exact timers.
    pub(crate) wheel: Option<TimerWheel>,
    /// Scratch for one wheel batch (reused: no allocation per batch).
    batch: Vec<(ConnId, u32, u64)>,
    /// The time of the call being served (the timestamp option's clock).
    pub(crate) clock: SimTime,
    /// The host's addresses are IPv6 (the MSS it announces is 20 bytes smaller).
    pub(crate) ipv6: bool,
}

impl Stack {
    pub fn new(cfg: StackConfig, rng: StreamRng) -> Stack {
        let wheel = (cfg.timer_hz > 0).then(|| {
            TimerWheel::new(Jiffies {
                hz: cfg.timer_hz,
                base: 0,
                phase: 0,
            })
        });
        let mut s = Stack {
            cfg,
            slots: Vec::new(),
            free: Vec::new(),
            buffers: BufferSlab::default(),
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
            wheel,
            batch: Vec::new(),
            clock: SimTime::ZERO,
            ipv6: false,
        };
        s.boot();
        s
    }

    /// Whether the host's addresses are IPv6 (the family of its first address: a host with
    /// both families announces the MSS of that one on every connection).
    pub fn set_ipv6(&mut self, ipv6: bool) {
        self.ipv6 = ipv6;
    }

    /// A connection's timestamp offset (Linux `secure_tcp_ts_off`: a keyed hash per boot;
    /// synsim hashes the 4-tuple, as FreeBSD's `tcp_new_ts_offset` does).
    pub(crate) fn ts_offset(&self, local: Endpoint, remote: Endpoint) -> u32 {
        crate::tcp::cookie::tuple_hash(self.cookie_secret, 3, local, remote, 0)
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

    /// Sets where this host's jiffies stand at time 0 (see [`Jiffies`]): the engine draws
    /// `base` and `phase` from the host's own stream. No effect with exact timers.
    pub fn set_jiffies(&mut self, base: u64, phase: u64) {
        if let Some(w) = self.wheel.as_mut() {
            w.clock.base = base;
            w.clock.phase = phase % 1_000_000_000;
        }
    }

    /// This host's jiffies, if its timers run on the kernel's wheel.
    pub fn jiffies(&self) -> Option<Jiffies> {
        self.wheel.as_ref().map(|w| w.clock)
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
    fn slot_tcb(&self, id: ConnId) -> Option<&Tcb> {
        self.slots.get(id.0 as usize)?.tcb.as_ref()
    }
    /// The control block of live connection `id` (read-only).
    pub fn conn(&self, id: ConnId) -> &Tcb {
        self.tcb(id)
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

    pub(crate) fn insert(&mut self, role: Role, local: Endpoint, remote: Endpoint) -> ConnId {
        let serial = self.next_serial;
        self.next_serial += 1;
        let tcb = Tcb::new(serial, role, local, remote);
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
    /// queue bookkeeping consistent; an application holding the socket hears
    /// [`SocketEvent::Closed`] with the reason.
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
            // (close() of a connecting socket goes through tcp_close, not tcp_done.)
            if !is_request
                && reason != Reason::AppClose
                && matches!(from, TcpState::SynSent | TcpState::SynReceived)
            {
                self.counters.attempt_fails += 1;
            }
            if matches!(from, TcpState::Established | TcpState::CloseWait) {
                self.counters.estab_resets += 1;
            }
        }
        self.set_state(id, to, reason, out);
        let t = self.tcb(id);
        if t.user {
            let (syns_sent, icmp) = (t.syns_sent, t.soft_error);
            let ev = SocketEvent::Closed {
                reason,
                syns_sent,
                icmp,
            };
            self.socket_event(id, ev, out);
        }
        let tcb = self.slots[id.0 as usize]
            .tcb
            .take()
            .expect("live connection slot");
        self.by_tuple.remove(&(tcb.local, tcb.remote));
        self.buffers.try_remove(tcb.bufs as usize);
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
        // tcp_update_metrics, called from tcp_time_wait and from the LAST-ACK close in
        // tcp_rcv_state_process: a connection that ends cleanly stores its RTT in tcp_metrics,
        // which is what makes its peer proven (tcp_peer_is_proven). A RST close stores nothing.
        if (to == TcpState::TimeWait || (from == TcpState::LastAck && reason == Reason::FinAcked))
            && tcb.srtt_ns > 0
        {
            self.proven.insert(tcb.remote.addr);
        }
        let role = tcb.role as usize;
        let serial = tcb.serial;
        let role_e = tcb.role;
        let (local, remote) = (tcb.local, tcb.remote);
        if from != TcpState::Closed && from != TcpState::Listen {
            self.state_counts[role][from.index()] -= 1;
        }
        if to != TcpState::Closed && to != TcpState::Listen {
            self.state_counts[role][to.index()] += 1;
        }
        out.notes.push(Note::State {
            serial,
            role: role_e,
            local,
            remote,
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

    // ------------------------------------------------------------------ crash

    /// The host crashes: every connection and listener vanishes without a segment (the
    /// applications hear [`SocketEvent::Closed`] with [`Reason::HostCrash`]).
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
        if let Some(w) = self.wheel.as_mut() {
            w.clear();
        }
        self.ports.clear();
        self.slots.clear();
        self.free.clear();
        self.buffers.clear();
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
}
