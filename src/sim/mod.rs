//! The engine: a discrete-event loop over one [`EventQueue`], driving the hosts' TCP stacks,
//! the network, the applications above the stacks ([`workload`]: clients, servers,
//! attackers), and host crashes.
//!
//! The hot path is `pop event -> hand it to a stack or the network -> drain the stack's
//! outbox into new events`. Packets in flight live in a slab (reused slots), the outbox is
//! reused, and observers are monomorphised: steady state allocates nothing per event.
//! Timeline samples are taken on a fixed grid as simulated time passes them: a sample at `t`
//! shows the state after every event at or before `t`.

pub mod observer;
pub mod queue;
pub mod traffic;
pub mod workload;

use crate::net::{AddrTable, HostId, NetDrop, Network, Route};
use rand::RngExt;

use crate::rng::RngStreams;
use crate::spec::Scenario;
use crate::tcp::options::{self, ConnOptions};
use crate::tcp::{Note, Outbox, Role, Stack, TcpState, Wake};
use crate::time::{SimDuration, SimTime};
use crate::wire::{Endpoint, Packet};

pub use observer::{
    ConnRef, Fate, ListenerSample, NoObserver, Observer, OutcomeRecord, PendingAttempt, Sample, Tap,
};
pub use queue::EventQueue;
pub use workload::Outcome;
use workload::{AppTimer, Workload};

/// Packets the network holds in flight at most (each about 100 bytes with its queue entry, so
/// about 100 MB at the limit). A packet sent while the limit is reached is dropped with
/// [`NetDrop::InFlightLimit`], as a router with a full queue would: a huge flood over a path
/// with an enormous latency cannot exhaust memory.
pub const MAX_PACKETS_IN_FLIGHT: u64 = 1_000_000;

#[derive(Clone, Copy, Debug)]
enum Event {
    Deliver { slot: u32, to: HostId },
    Wake { host: HostId, wake: Wake },
    App { host: HostId, timer: AppTimer },
    ClientArrival(u32),
    AttackSyn(u32),
    Crash(HostId),
    Restart(HostId),
}

/// A host as the engine drives it. Whether it is up is its stack's to say
/// ([`Stack::is_alive`]): the one source of truth for liveness.
struct HostRt {
    stack: Stack,
}

/// The run's totals that are not observations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    pub events: u64,
    pub end: SimTime,
    pub attempts_started: u64,
    /// Attempts still in progress when the run ended (no outcome yet).
    pub unfinished_attempts: u64,
    pub packets_in_flight: u64,
    pub peak_live_connections: u64,
    pub peak_packets_in_flight: u64,
    pub peak_queued_events: u64,
    /// Events that asked to run in the past (an internal error; must be 0).
    pub past_pushes: u64,
    /// Illegal RFC 9293 transitions seen (an internal error; must be 0).
    pub illegal_transitions: u64,
}

/// The run stopped early.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SimError {
    #[error(
        "event budget exhausted: {events} events processed by t = {at} of simulated time; raise max_events in the scenario or pass --max-events"
    )]
    Budget { events: u64, at: SimTime },
}

pub struct Simulation {
    queue: EventQueue<Event>,
    hosts: Vec<HostRt>,
    pub net: Network,
    packets: Vec<Packet>,
    free_packets: Vec<u32>,
    workload: Workload,
    out: Outbox,
    end: SimTime,
    sample_interval: SimDuration,
    next_sample: SimTime,
    /// The time of the last event processed.
    now: SimTime,
    sample: Sample,
    /// Listeners in scenario order: (host, index in its stack).
    listener_refs: Vec<(HostId, usize)>,
    stats: RunStats,
    max_events: u64,
    max_in_flight: u64,
}

/// The hosts' addresses (each owned by its host) and their stacks. Host names cannot contain
/// `/` (the loader's name rule), so stream names such as `host/NAME/stack` are unambiguous.
fn hosts_of(scn: &Scenario, streams: &RngStreams) -> (AddrTable, Vec<HostRt>) {
    let mut addrs = AddrTable::default();
    // Spoofed ranges first: an address inside one is that block's id, whoever interns it.
    for a in &scn.attackers {
        if let crate::spec::Spoof::Range { base, count } = a.spoof {
            addrs.add_block(base, count);
        }
    }
    for (i, h) in scn.hosts.iter().enumerate() {
        for &a in &h.addrs {
            let id = addrs.intern(a);
            addrs.set_owner(id, HostId(i as u32));
        }
    }
    let hosts = scn
        .hosts
        .iter()
        .map(|h| {
            let mut stack = Stack::new(
                h.stack.clone(),
                streams.stream(&format!("host/{}/stack", h.name)),
            );
            stack.set_ipv6(h.addrs.first().is_some_and(|a| a.is_ipv6()));
            if !h.alive {
                stack.start_down();
            }
            // Where the host's jiffies stand at time 0: a count (sets the wheel's bucket
            // alignment) and a fraction of a jiffy, from its own stream.
            if h.stack.timer_hz > 0 {
                let mut clock = streams.stream(&format!("host/{}/jiffies", h.name));
                let (base, phase) = (
                    clock.random_range(0..1u64 << 32),
                    clock.random_range(0..1_000_000_000),
                );
                stack.set_jiffies(base, phase);
            }
            HostRt { stack }
        })
        .collect();
    (addrs, hosts)
}

impl Simulation {
    pub fn new(scn: &Scenario) -> Simulation {
        let streams = RngStreams::new(scn.seed);
        let (mut addrs, mut hosts) = hosts_of(scn, &streams);
        let mut workload = Workload::new(scn, &mut addrs, &streams);
        let listener_refs = scn
            .listeners
            .iter()
            .map(|l| {
                let h = l.host.0 as usize;
                let idx = workload.hosts[h].listen(&mut hosts[h].stack, l);
                (l.host, idx as usize)
            })
            .collect::<Vec<_>>();
        let mut queue = EventQueue::new();
        for (i, c) in workload.clients.iter_mut().enumerate() {
            if let Some(t) = c.arrivals.next_time() {
                queue.push(t, Event::ClientArrival(i as u32));
            }
        }
        for (i, a) in workload.attackers.iter_mut().enumerate() {
            if let Some(t) = a.arrivals.next_time() {
                queue.push(t, Event::AttackSyn(i as u32));
            }
        }
        for (i, h) in scn.hosts.iter().enumerate() {
            for &(at, restart) in &h.crashes {
                queue.push(at, Event::Crash(HostId(i as u32)));
                if let Some(r) = restart {
                    queue.push(r, Event::Restart(HostId(i as u32)));
                }
            }
        }
        let net = Network::new(
            addrs,
            scn.hosts.iter().map(|h| h.name.clone()).collect(),
            scn.network.default_path.clone(),
            scn.network.paths.clone(),
            scn.network.rules.clone(),
            scn.network.icmp,
            streams,
        );
        let n_listeners = listener_refs.len();
        Simulation {
            queue,
            hosts,
            net,
            packets: Vec::new(),
            free_packets: Vec::new(),
            workload,
            out: Outbox::default(),
            end: SimTime::ZERO + scn.duration,
            sample_interval: scn.sample_interval,
            next_sample: SimTime::ZERO,
            now: SimTime::ZERO,
            sample: Sample {
                counts: [[0; 11]; 2],
                listeners: vec![ListenerSample::default(); n_listeners],
            },
            listener_refs,
            stats: RunStats::default(),
            max_events: scn.max_events,
            max_in_flight: MAX_PACKETS_IN_FLIGHT,
        }
    }

    /// Overrides the scenario's event budget.
    pub fn set_max_events(&mut self, n: u64) {
        self.max_events = n;
    }

    /// Lowers (or raises) the limit of packets in flight ([`MAX_PACKETS_IN_FLIGHT`]).
    pub fn set_max_in_flight(&mut self, n: u64) {
        self.max_in_flight = n;
    }

    /// Client attempts still in progress, by client and attempt number (at the end of a run:
    /// the ones with no outcome).
    pub fn pending_attempts(&self) -> Vec<PendingAttempt> {
        let mut v = Vec::new();
        for (apps, h) in self.workload.hosts.iter().zip(&self.hosts) {
            apps.pending(&h.stack, &mut v);
        }
        v.sort_unstable_by_key(|p| (p.client, p.attempt));
        v
    }

    /// The network (addresses, paths), as the observers see it.
    pub fn network(&self) -> &Network {
        &self.net
    }
    /// The TCP stack of host `h`.
    pub fn stack(&self, h: HostId) -> &Stack {
        &self.hosts[h.0 as usize].stack
    }
    pub fn host_count(&self) -> usize {
        self.hosts.len()
    }
    /// Listeners in scenario order: (host, index in its stack).
    pub fn listener_refs(&self) -> &[(HostId, usize)] {
        &self.listener_refs
    }

    /// Runs to the scenario's end.
    pub fn run<O: Observer>(&mut self, obs: &mut O) -> Result<RunStats, SimError> {
        while self.step(obs)? {}
        while self.next_sample <= self.end {
            self.take_sample(obs);
        }
        Ok(self.finish())
    }

    /// Processes the next event, if there is one at or before the scenario's end (taking the
    /// timeline samples due before it). Returns false when there is none: the run is over
    /// apart from the final samples, which [`Simulation::run`] takes.
    #[inline]
    pub fn step<O: Observer>(&mut self, obs: &mut O) -> Result<bool, SimError> {
        let Some(t) = self.queue.peek_time() else {
            return Ok(false);
        };
        if t > self.end {
            return Ok(false);
        }
        while self.next_sample < t {
            self.take_sample(obs);
        }
        let (t, ev) = self.queue.pop().expect("peeked");
        self.now = t;
        self.stats.events += 1;
        if self.stats.events > self.max_events {
            return Err(SimError::Budget {
                events: self.stats.events - 1,
                at: t,
            });
        }
        self.handle(t, ev, obs);
        let q = self.queue.len() as u64;
        if q > self.stats.peak_queued_events {
            self.stats.peak_queued_events = q;
        }
        Ok(true)
    }

    /// The simulated time of the last event processed.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Events processed so far.
    pub fn events(&self) -> u64 {
        self.stats.events
    }

    fn finish(&mut self) -> RunStats {
        let mut s = self.stats.clone();
        s.end = self.end;
        s.past_pushes = self.queue.past_pushes;
        s.packets_in_flight = (self.packets.len() - self.free_packets.len()) as u64;
        s.attempts_started = self.workload.attempts_started();
        s.unfinished_attempts = self.workload.unfinished();
        s.illegal_transitions = self.hosts.iter().map(|h| h.stack.illegal_transitions).sum();
        s
    }

    fn take_sample<O: Observer>(&mut self, obs: &mut O) {
        let t = self.next_sample;
        let mut live = 0u64;
        self.sample.counts = [[0; 11]; 2];
        for h in &self.hosts {
            for role in Role::ALL {
                for st in TcpState::ALL {
                    self.sample.counts[role as usize][st.index()] += h.stack.count(role, st);
                }
            }
            live += h.stack.live_connections() as u64;
        }
        for (i, &(h, li)) in self.listener_refs.iter().enumerate() {
            let stack = &self.hosts[h.0 as usize].stack;
            let (syn, acc) = stack.queue_lengths(li);
            let c = &stack.listener_stats()[li].counters;
            self.sample.listeners[i] = ListenerSample {
                syn_queue: syn,
                accept_queue: acc,
                drops: c.listen_drops,
                cookies: c.syncookies_sent,
                evicted: c.syn_queue_recycled + c.syncache_bucket_overflow,
            };
        }
        self.stats.peak_live_connections = self.stats.peak_live_connections.max(live);
        obs.sample(t, &self.sample);
        self.next_sample = t + self.sample_interval;
    }

    fn handle<O: Observer>(&mut self, t: SimTime, ev: Event, obs: &mut O) {
        match ev {
            Event::Deliver { slot, to } => {
                let pkt = self.packets[slot as usize];
                self.free_packets.push(slot);
                let host = &mut self.hosts[to.0 as usize];
                if !host.stack.is_alive() {
                    obs.packet(t, Fate::NetDrop(NetDrop::HostDown), &pkt, &self.net);
                    return;
                }
                obs.tap(t, to, Tap::In, &pkt, &self.net);
                obs.packet(t, Fate::Deliver, &pkt, &self.net);
                match pkt.icmp {
                    Some(code) => host.stack.on_icmp(t, pkt.seg, code, &mut self.out),
                    None => host.stack.on_segment(t, pkt.seg, &mut self.out),
                }
                self.drain(to, t, obs);
            }
            Event::Wake { host, wake } => {
                let h = &mut self.hosts[host.0 as usize];
                if h.stack.is_alive() {
                    h.stack.on_wake(t, wake, &mut self.out);
                    self.drain(host, t, obs);
                }
            }
            Event::App { host, timer } => {
                let h = &mut self.hosts[host.0 as usize];
                if h.stack.is_alive() {
                    self.workload.hosts[host.0 as usize].on_timer(
                        &mut h.stack,
                        timer,
                        t,
                        &mut self.out,
                    );
                    self.drain(host, t, obs);
                }
            }
            Event::ClientArrival(ci) => {
                let h = self.workload.clients[ci as usize].host;
                let stack = &mut self.hosts[h.0 as usize].stack;
                let addrs = &mut self.net.addrs;
                self.workload
                    .start_attempt(ci as usize, t, stack, addrs, &mut self.out);
                self.drain(h, t, obs);
                if let Some(next) = self.workload.clients[ci as usize].arrivals.next_time() {
                    self.queue.push(next, Event::ClientArrival(ci));
                }
            }
            Event::AttackSyn(ai) => {
                let a = &mut self.workload.attackers[ai as usize];
                if self.hosts[a.host.0 as usize].stack.is_alive() {
                    let (h, seg) = (a.host, a.next_syn(&mut self.net.addrs));
                    self.send(h, Packet::tcp(seg), t, obs);
                }
                if let Some(next) = self.workload.attackers[ai as usize].arrivals.next_time() {
                    self.queue.push(next, Event::AttackSyn(ai));
                }
            }
            Event::Crash(h) => {
                let host = &mut self.hosts[h.0 as usize];
                if host.stack.is_alive() {
                    host.stack.crash(t, &mut self.out);
                    self.drain(h, t, obs);
                    self.workload.hosts[h.0 as usize].on_crash();
                    obs.host(t, h, false);
                }
            }
            Event::Restart(h) => {
                let host = &mut self.hosts[h.0 as usize];
                host.stack.restart();
                obs.host(t, h, true);
            }
        }
    }

    /// Acts on everything a stack put in the outbox: observations in order (socket events go
    /// to the host's applications, whose calls may append more), then wake-ups (the stack's,
    /// then the applications' timers), then the segments.
    fn drain<O: Observer>(&mut self, host: HostId, t: SimTime, obs: &mut O) {
        let mut out = std::mem::take(&mut self.out);
        let h = host.0 as usize;
        let apps = &mut self.workload.hosts[h];
        for o in apps.fx.outcomes.drain(..) {
            obs.outcome(t, &o);
        }
        let mut i = 0;
        while let Some(&note) = out.notes.get(i) {
            i += 1;
            match note {
                Note::State {
                    serial,
                    role,
                    local,
                    remote,
                    from,
                    to,
                    reason,
                } => {
                    let conn = ConnRef {
                        host,
                        serial,
                        role,
                        local,
                        remote,
                    };
                    obs.state(t, &conn, from, to, reason)
                }
                Note::Discard { seg, reason } => {
                    obs.packet(t, Fate::HostDrop(reason), &Packet::tcp(seg), &self.net)
                }
                Note::CookieSent { segment, keeps } => {
                    obs.cookie_sent(t, host, &out.segments[segment as usize], &keeps)
                }
                Note::CookieConnection {
                    listener,
                    remote,
                    opts,
                } => record_cookie_loss(&mut self.hosts, &self.net, h, listener, remote, &opts),
                Note::Socket {
                    conn,
                    serial,
                    event,
                } => {
                    let stack = &mut self.hosts[h].stack;
                    apps.on_socket(stack, conn, serial, event, t, &mut out);
                    for o in apps.fx.outcomes.drain(..) {
                        obs.outcome(t, &o);
                    }
                }
            }
        }
        out.notes.clear();
        for (wake, at) in out.wakes.drain(..) {
            match wake {
                // A timer-wheel batch runs at its tick before anything else at that instant
                // (TIMER_SOFTIRQ before NET_RX_SOFTIRQ; see crate::tcp::wheel).
                Wake::Wheel(_) => self.queue.push_first(at, Event::Wake { host, wake }),
                Wake::Conn(..) => self.queue.push(at, Event::Wake { host, wake }),
            }
        }
        for (timer, at) in apps.fx.timers.drain(..) {
            self.queue.push(at, Event::App { host, timer });
        }
        for seg in out.segments.drain(..) {
            self.send(host, Packet::tcp(seg), t, obs);
        }
        self.out = out;
    }

    fn in_flight(&self) -> u64 {
        (self.packets.len() - self.free_packets.len()) as u64
    }

    fn alloc_packet(&mut self, p: Packet) -> u32 {
        match self.free_packets.pop() {
            Some(i) => {
                self.packets[i as usize] = p;
                i
            }
            None => {
                self.packets.push(p);
                let n = self.packets.len() as u64;
                self.stats.peak_packets_in_flight = self.stats.peak_packets_in_flight.max(n);
                n as u32 - 1
            }
        }
    }

    fn send<O: Observer>(&mut self, from: HostId, pkt: Packet, t: SimTime, obs: &mut O) {
        obs.tap(t, from, Tap::Out, &pkt, &self.net);
        obs.packet(t, Fate::Send, &pkt, &self.net);
        let (route, icmp) = self.net.route(t, from, &pkt);
        match route {
            Route::Deliver { .. } if self.in_flight() >= self.max_in_flight => {
                let why = NetDrop::InFlightLimit;
                obs.packet(t, Fate::NetDrop(why), &pkt, &self.net);
            }
            Route::Deliver { to, at } => {
                let slot = self.alloc_packet(pkt);
                self.queue.push(at, Event::Deliver { slot, to });
            }
            Route::Drop(d) => obs.packet(t, Fate::NetDrop(d), &pkt, &self.net),
        }
        if let Some(r) = icmp {
            obs.packet(t, Fate::Send, &r.packet, &self.net);
            let limit = if r.rate_limited {
                Some(NetDrop::IcmpRateLimited)
            } else if self.in_flight() >= self.max_in_flight {
                Some(NetDrop::InFlightLimit)
            } else {
                None
            };
            if let Some(why) = limit {
                obs.packet(t, Fate::NetDrop(why), &r.packet, &self.net);
            } else {
                let slot = self.alloc_packet(r.packet);
                self.queue.push(r.at, Event::Deliver { slot, to: r.to });
            }
        }
    }
}

/// What a cookie connection of listener `li` on host `h` lost: the simulator knows what the
/// client's stack offered (a SYN's options follow from its knobs alone); the server's kernel,
/// which kept no state, does not.
fn record_cookie_loss(
    hosts: &mut [HostRt],
    net: &Network,
    h: usize,
    li: u16,
    remote: Endpoint,
    got: &ConnOptions,
) {
    let lost = net.addrs.owner(remote.addr).map(|c| {
        let client = &hosts[c.0 as usize].stack;
        let offer = options::syn_offer(&client.cfg, client.ipv6, 0);
        let full = options::agree(&hosts[h].stack.cfg, &offer, 0);
        crate::tcp::stack::cookie_loss(got, &full)
    });
    hosts[h].stack.record_cookie_loss(li as usize, got, lost);
}
