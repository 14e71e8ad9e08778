//! Endpoint and listener properties: generated action sequences drive three TCP stacks directly
//! (a client host, a server host with one listener, a live decoy host without listener) plus
//! spoofed sources, and named invariants are checked after every step.
//!
//! The harness is the network: it holds the segments in flight and the wake-ups the stacks asked
//! for, and an action delivers, drops or duplicates any in-flight packet (delivering any one of
//! them is a reordering), fires the earliest wake-up (time jumps to exactly the requested
//! instant), crashes or restarts a host, opens a connection, or injects a burst of spoofed SYNs
//! or forged ACKs. After the actions the world is run to quiescence and liveness is checked.
//!
//! A failure shrinks to a short action list; the printed input starts with the seed that keyed
//! the stacks' random streams. Cases: `SYNSIM_PROPTEST_CASES` (default 256).

#[path = "endpoint_props/coverage.rs"]
mod coverage;

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use rand::{Rng, RngExt, SeedableRng};

use synsim::net::HostId;
use synsim::rng::StreamRng;
use synsim::sim::workload::{AppTimer, Attempt, Exchange, HostApps};
use synsim::sim::{Outcome, OutcomeRecord};
use synsim::spec::{AcceptPolicy, ListenerSpec, ServerApp};
use synsim::tcp::config::SyncacheConfig;
use synsim::tcp::{
    Note, Outbox, Profile, Reason, Role, Stack, StackConfig, SynCookies, TcpState, Wake, wheel,
};
use synsim::time::{SimDuration, SimTime};
use synsim::wire::{AddrId, Endpoint, Flags, IcmpCode, Packet, Payload, Segment, SeqNum};

const CLIENT: usize = 0;
const SERVER: usize = 1;
const DECOY: usize = 2;
const HOST_NAMES: [&str; 3] = ["client", "server", "decoy"];
const PORT: u16 = 80;
/// Addresses 100..150 belong to nobody and never send anything themselves (spoofed SYNs only).
const SILENT_BASE: u32 = 100;
/// Addresses 200..210 belong to nobody; forged ACKs claim to come from them.
const FORGER_BASE: u32 = 200;

fn addr_of(host: usize) -> AddrId {
    AddrId(host as u32 + 1)
}
fn owner(a: AddrId) -> Option<usize> {
    match a.0 {
        1..=3 => Some(a.0 as usize - 1),
        _ => None,
    }
}
fn is_silent(a: AddrId) -> bool {
    (SILENT_BASE..SILENT_BASE + 50).contains(&a.0)
}
fn server_ep() -> Endpoint {
    Endpoint {
        addr: addr_of(SERVER),
        port: PORT,
    }
}

pub fn cases(default: u32) -> u32 {
    std::env::var("SYNSIM_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---------------------------------------------------------------------------------- inputs

#[derive(Clone, Debug)]
struct Knobs {
    server_profile: Profile,
    client_profile: Profile,
    backlog: u64,
    syncookies: SynCookies,
    abort_on_overflow: bool,
    synack_pruning: bool,
    recycle_oldest: bool,
    /// FreeBSD-style SYN cache (buckets, bucket limit, cache limit), small.
    syncache: Option<(u32, u32, u32)>,
    /// Small max_syn_backlog so Linux's quarter rule can bite.
    max_syn_backlog: Option<u32>,
    accept: AcceptPolicy,
    app: ServerApp,
    /// A router answers packets to unowned addresses with ICMP host-unreachable.
    icmp_router: bool,
}

#[derive(Clone, Copy, Debug)]
enum Target {
    Server,
    Decoy,
    Nowhere,
}

#[derive(Clone, Copy, Debug)]
enum Spoof {
    Silent,
    Decoy,
}

#[derive(Clone, Debug)]
enum Action {
    /// Deliver in-flight packet `pick % n` after `delay_ms` (capped at the next wake-up).
    Deliver {
        pick: usize,
        delay_ms: u16,
    },
    Drop {
        pick: usize,
    },
    Duplicate {
        pick: usize,
    },
    FireWake,
    Connect {
        target: Target,
        message: bool,
        close: bool,
    },
    Crash {
        host: usize,
    },
    Restart {
        host: usize,
    },
    SpoofBurst {
        n: u8,
        from: Spoof,
    },
    ForgeAck {
        n: u8,
    },
}

fn profile() -> impl Strategy<Value = Profile> {
    prop_oneof![
        Just(Profile::Linux),
        Just(Profile::Freebsd),
        Just(Profile::Rfc9293)
    ]
}

fn knobs() -> impl Strategy<Value = Knobs> {
    (
        (profile(), profile(), 1u64..=8),
        prop_oneof![
            Just(SynCookies::Off),
            Just(SynCookies::OnOverflow),
            Just(SynCookies::Always)
        ],
        (any::<bool>(), any::<bool>(), any::<bool>()),
        proptest::option::weighted(0.3, (1u32..=4, 1u32..=4, 1u32..=8)),
        proptest::option::weighted(0.3, 4u32..=16),
        prop_oneof![
            Just(AcceptPolicy::Immediate),
            Just(AcceptPolicy::Never),
            (1u64..3000).prop_map(|ms| AcceptPolicy::Delay(SimDuration::from_ms(ms))),
            (1u64..3000).prop_map(|ms| AcceptPolicy::Rate(SimDuration::from_ms(ms))),
        ],
        prop_oneof![
            Just(ServerApp::EchoUpper),
            Just(ServerApp::Discard),
            Just(ServerApp::Close)
        ],
        any::<bool>(),
    )
        .prop_map(
            |(
                (server_profile, client_profile, backlog),
                syncookies,
                (abort_on_overflow, synack_pruning, recycle_oldest),
                syncache,
                max_syn_backlog,
                accept,
                app,
                icmp_router,
            )| Knobs {
                server_profile,
                client_profile,
                backlog,
                syncookies,
                abort_on_overflow,
                synack_pruning,
                recycle_oldest,
                syncache,
                max_syn_backlog,
                accept,
                app,
                icmp_router,
            },
        )
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        8 => (any::<usize>(), prop_oneof![Just(0u16), 0u16..2000])
            .prop_map(|(pick, delay_ms)| Action::Deliver { pick, delay_ms }),
        2 => any::<usize>().prop_map(|pick| Action::Drop { pick }),
        1 => any::<usize>().prop_map(|pick| Action::Duplicate { pick }),
        5 => Just(Action::FireWake),
        3 => (
            prop_oneof![4 => Just(Target::Server), 1 => Just(Target::Decoy), 1 => Just(Target::Nowhere)],
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(target, message, close)| Action::Connect { target, message, close }),
        1 => (0usize..3).prop_map(|host| Action::Crash { host }),
        1 => (0usize..3).prop_map(|host| Action::Restart { host }),
        2 => (1u8..=16, prop_oneof![Just(Spoof::Silent), Just(Spoof::Decoy)])
            .prop_map(|(n, from)| Action::SpoofBurst { n, from }),
        1 => (1u8..=4).prop_map(|n| Action::ForgeAck { n }),
    ]
}

fn stack_config(profile: Profile, k: &Knobs, server: bool) -> StackConfig {
    let mut c = profile.config();
    if server {
        c.syncookies = k.syncookies;
        c.abort_on_overflow = k.abort_on_overflow;
        c.synack_pruning = k.synack_pruning;
        if k.recycle_oldest {
            c.syn_queue_overflow = synsim::tcp::config::SynQueueOverflow::RecycleOldest;
        }
        match (profile, k.syncache) {
            (Profile::Freebsd, Some((buckets, bucket_limit, cache_limit))) => {
                c.syncache = Some(SyncacheConfig {
                    buckets,
                    bucket_limit,
                    cache_limit,
                })
            }
            (Profile::Freebsd, None) => {}
            _ => c.syncache = None,
        }
        if let Some(m) = k.max_syn_backlog {
            c.max_syn_backlog = m;
        }
    }
    c.validate().expect("generated knobs are valid");
    c
}

// ---------------------------------------------------------------------------------- harness

/// What caused a stack call, to judge the state changes it reported.
#[derive(Clone, Copy, Debug)]
enum Trigger {
    Segment(Segment),
    Icmp,
    Wake,
    Connect,
    Crash,
}

/// One legitimate attempt as the harness saw it.
#[derive(Debug)]
struct AttemptRec {
    port: u16,
    iss: SeqNum,
    started: SimTime,
    /// Times of the SYNs sent for this attempt.
    syns: Vec<SimTime>,
    /// Something was delivered to this attempt's endpoint: its timer schedule may change.
    touched: bool,
    finished: bool,
}

/// One half-open entry of the server.
#[derive(Debug)]
struct RequestRec {
    remote: Endpoint,
    iss: SeqNum,
    synacks: Vec<SimTime>,
    touched: bool,
}

/// A wake-up the harness holds: a stack's or an application's.
#[derive(Clone, Copy, Debug)]
enum W {
    Stack(Wake),
    App(AppTimer),
}

struct World {
    knobs: Knobs,
    cfg: [StackConfig; 3],
    stacks: Vec<Stack>,
    /// The applications of each host (the client's attempts, the server's accept and echo).
    apps: Vec<HostApps>,
    alive: [bool; 3],
    now: SimTime,
    flights: Vec<Packet>,
    /// Wake-ups asked for: the stacks' and their applications' timers.
    wakes: Vec<(usize, W, SimTime, u64)>,
    wake_seq: u64,
    conn_rng: StreamRng,
    spoof_rng: StreamRng,
    out: Outbox,
    // conservation
    sent: u64,
    delivered: u64,
    dropped: u64,
    emitted: [u64; 3],
    tcp_delivered_alive: [u64; 3],
    icmp_delivered_alive: [u64; 3],
    // attempts and outcomes
    attempts: Vec<AttemptRec>,
    outcomes: BTreeMap<u64, Outcome>,
    active_opens: u64,
    // listener bookkeeping
    /// Every SYN-ACK the server sent: (local, remote, seq, ack).
    synacks_sent: BTreeSet<(Endpoint, Endpoint, u32, u32)>,
    requests: BTreeMap<u64, RequestRec>,
    passive_established: u64,
    syns_to_listener: u64,
    requests_created: u64,
    cookies_for_syns: u64,
    drops_for_syns: u64,
    log: Vec<String>,
    /// The last packets delivered (for failure messages).
    recent: std::collections::VecDeque<String>,
}

type Check = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err(format!($($arg)+));
        }
    };
}

impl World {
    fn new(seed: u64, knobs: Knobs) -> World {
        let cfg = [
            stack_config(knobs.client_profile, &knobs, false),
            stack_config(knobs.server_profile, &knobs, true),
            StackConfig::linux(),
        ];
        let stream = |n: u64| {
            let mut r = StreamRng::seed_from_u64(seed);
            r.set_stream(n);
            r
        };
        let mut stacks: Vec<Stack> = (0..3)
            .map(|i| Stack::new(cfg[i].clone(), stream(i as u64)))
            .collect();
        let mut apps: Vec<HostApps> = (0..3).map(|h| HostApps::new(HostId(h))).collect();
        apps[SERVER].listen(
            &mut stacks[SERVER],
            &ListenerSpec {
                host: HostId(SERVER as u32),
                port: PORT,
                backlog: knobs.backlog,
                accept: knobs.accept,
                app: knobs.app,
            },
        );
        World {
            knobs,
            cfg,
            stacks,
            apps,
            alive: [true; 3],
            now: SimTime::ZERO,
            flights: Vec::new(),
            wakes: Vec::new(),
            wake_seq: 0,
            conn_rng: stream(10),
            spoof_rng: stream(11),
            out: Outbox::default(),
            sent: 0,
            delivered: 0,
            dropped: 0,
            emitted: [0; 3],
            tcp_delivered_alive: [0; 3],
            icmp_delivered_alive: [0; 3],
            attempts: Vec::new(),
            outcomes: BTreeMap::new(),
            active_opens: 0,
            synacks_sent: BTreeSet::new(),
            requests: BTreeMap::new(),
            passive_established: 0,
            syns_to_listener: 0,
            requests_created: 0,
            cookies_for_syns: 0,
            drops_for_syns: 0,
            log: Vec::new(),
            recent: std::collections::VecDeque::new(),
        }
    }

    fn earliest_wake(&self) -> Option<usize> {
        (0..self.wakes.len()).min_by_key(|&i| (self.wakes[i].2, self.wakes[i].3))
    }

    /// Moves time forward (never back) to `t`.
    fn advance(&mut self, t: SimTime) -> Check {
        ensure!(t >= self.now, "time went backwards: {} -> {}", self.now, t);
        self.now = t;
        Ok(())
    }

    /// A packet enters the network.
    fn inject(&mut self, p: Packet) {
        self.sent += 1;
        match owner(p.dst_addr()) {
            Some(_) => self.flights.push(p),
            None => {
                self.dropped += 1; // black hole
                if self.knobs.icmp_router && p.icmp.is_none() && owner(p.seg.src.addr).is_some() {
                    self.sent += 1;
                    self.flights.push(Packet {
                        seg: p.seg,
                        icmp: Some(IcmpCode::HostUnreachable),
                    });
                }
            }
        }
    }

    fn step(&mut self, a: &Action) -> Check {
        match *a {
            Action::Deliver { pick, delay_ms } => {
                if self.flights.is_empty() {
                    return Ok(());
                }
                let mut t = self.now + SimDuration::from_ms(delay_ms as u64);
                if let Some(w) = self.earliest_wake() {
                    t = t.min(self.wakes[w].2);
                }
                self.advance(t)?;
                let p = self.flights.remove(pick % self.flights.len());
                self.deliver(p)?;
            }
            Action::Drop { pick } => {
                if !self.flights.is_empty() {
                    self.flights.remove(pick % self.flights.len());
                    self.dropped += 1;
                }
            }
            Action::Duplicate { pick } => {
                if !self.flights.is_empty() {
                    let p = self.flights[pick % self.flights.len()];
                    self.sent += 1;
                    self.flights.push(p);
                }
            }
            Action::FireWake => self.fire_wake()?,
            Action::Connect {
                target,
                message,
                close,
            } => {
                if !self.alive[CLIENT] {
                    return Ok(());
                }
                let remote = match target {
                    Target::Server => server_ep(),
                    Target::Decoy => Endpoint {
                        addr: addr_of(DECOY),
                        port: PORT,
                    },
                    Target::Nowhere => Endpoint {
                        addr: AddrId(SILENT_BASE + 49),
                        port: PORT,
                    },
                };
                let attempt = self.attempts.len() as u64;
                let send = if message {
                    Payload::from_slice(b"HelloWorld")
                } else {
                    Payload::EMPTY
                };
                let app = Attempt {
                    client: 0,
                    attempt,
                    exchange: Exchange {
                        send,
                        send_delay: SimDuration::ZERO,
                        expect_reply: send.len() as u8,
                        close,
                        // Both connect() styles, alternating.
                        nonblocking: attempt % 2 == 1,
                    },
                };
                self.attempts.push(AttemptRec {
                    port: 0,
                    iss: SeqNum(0),
                    started: self.now,
                    syns: Vec::new(),
                    touched: false,
                    finished: false,
                });
                let mut out = std::mem::take(&mut self.out);
                let id = self.apps[CLIENT].connect(
                    &mut self.stacks[CLIENT],
                    self.now,
                    addr_of(CLIENT),
                    remote,
                    app,
                    &mut self.conn_rng,
                    &mut out,
                );
                if id.is_some() {
                    self.active_opens += 1;
                    let syn = out
                        .segments
                        .iter()
                        .find(|s| s.flags == Flags::SYN)
                        .copied()
                        .ok_or("connect sent no SYN")?;
                    let rec = self.attempts.last_mut().expect("just pushed");
                    rec.port = syn.src.port;
                    rec.iss = syn.seq;
                }
                self.out = out;
                self.process(CLIENT, Trigger::Connect)?;
            }
            Action::Crash { host } => {
                if self.alive[host] {
                    self.alive[host] = false;
                    let mut out = std::mem::take(&mut self.out);
                    self.stacks[host].crash(self.now, &mut out);
                    self.out = out;
                    self.process(host, Trigger::Crash)?;
                    self.apps[host].on_crash();
                    if host == SERVER {
                        // Requests died with the host.
                        self.requests.clear();
                    }
                }
            }
            Action::Restart { host } => {
                if !self.alive[host] {
                    self.alive[host] = true;
                    self.stacks[host].restart();
                }
            }
            Action::SpoofBurst { n, from } => {
                for _ in 0..n {
                    let addr = match from {
                        Spoof::Silent => AddrId(SILENT_BASE + self.spoof_rng.random_range(0..49)),
                        Spoof::Decoy => addr_of(DECOY),
                    };
                    let seg = Segment {
                        src: Endpoint {
                            addr,
                            port: self.spoof_rng.random_range(1024..=65535u16),
                        },
                        dst: server_ep(),
                        seq: SeqNum(self.spoof_rng.next_u32()),
                        ack: SeqNum(0),
                        flags: Flags::SYN,
                        window: 0,
                        opts: synsim::wire::TcpOptions::NONE,
                        payload: Payload::EMPTY,
                    };
                    self.inject(Packet::tcp(seg));
                }
            }
            Action::ForgeAck { n } => {
                for _ in 0..n {
                    let seg = Segment {
                        src: Endpoint {
                            addr: AddrId(FORGER_BASE + self.spoof_rng.random_range(0..10)),
                            port: self.spoof_rng.random_range(1024..=65535u16),
                        },
                        dst: server_ep(),
                        seq: SeqNum(self.spoof_rng.next_u32()),
                        ack: SeqNum(self.spoof_rng.next_u32()),
                        flags: Flags::ACK,
                        window: 0,
                        opts: synsim::wire::TcpOptions::NONE,
                        payload: Payload::EMPTY,
                    };
                    self.inject(Packet::tcp(seg));
                }
            }
        }
        Ok(())
    }

    fn fire_wake(&mut self) -> Check {
        let Some(i) = self.earliest_wake() else {
            return Ok(());
        };
        let (host, wake, at, _) = self.wakes.remove(i);
        self.advance(at)?;
        if self.alive[host] {
            let mut out = std::mem::take(&mut self.out);
            match wake {
                W::Stack(w) => self.stacks[host].on_wake(self.now, w, &mut out),
                W::App(timer) => {
                    self.apps[host].on_timer(&mut self.stacks[host], timer, self.now, &mut out)
                }
            }
            self.out = out;
            self.process(host, Trigger::Wake)?;
        }
        Ok(())
    }

    fn deliver(&mut self, p: Packet) -> Check {
        let host = owner(p.dst_addr()).expect("only owned destinations are in flight");
        if !self.alive[host] {
            self.dropped += 1;
            return Ok(());
        }
        self.delivered += 1;
        if self.recent.len() == 8 {
            self.recent.pop_front();
        }
        self.recent.push_back(format!(
            "{} {} {:?}:{} -> {:?}:{} seq {} ack {} len {}",
            self.now,
            if p.icmp.is_some() {
                "ICMP".to_string()
            } else {
                p.seg.flags.name().to_string()
            },
            p.seg.src.addr.0,
            p.seg.src.port,
            p.seg.dst.addr.0,
            p.seg.dst.port,
            p.seg.seq.0,
            p.seg.ack.0,
            p.seg.payload.len()
        ));
        // Which attempt or request this touches (their timer schedules may change).
        if host == CLIENT {
            let port = if p.icmp.is_some() {
                p.seg.src.port
            } else {
                p.seg.dst.port
            };
            for a in self.attempts.iter_mut().filter(|a| a.port == port) {
                a.touched = true;
            }
        }
        if host == SERVER {
            let remote = if p.icmp.is_some() {
                p.seg.dst
            } else {
                p.seg.src
            };
            for r in self.requests.values_mut().filter(|r| r.remote == remote) {
                r.touched = true;
            }
        }
        let mut out = std::mem::take(&mut self.out);
        match p.icmp {
            Some(code) => {
                self.icmp_delivered_alive[host] += 1;
                self.stacks[host].on_icmp(self.now, p.seg, code, &mut out);
                self.out = out;
                self.process(host, Trigger::Icmp)
            }
            None => {
                self.tcp_delivered_alive[host] += 1;
                let seg = p.seg;
                // A SYN that reaches the listener (no connection owns its 4-tuple).
                let to_listener = host == SERVER
                    && seg.flags == Flags::SYN
                    && seg.dst.port == PORT
                    && !self.stacks[SERVER]
                        .connections()
                        .any(|t| t.local() == seg.dst && t.remote() == seg.src);
                let before = self.stacks[SERVER].listener_stats()[0].counters.clone();
                self.stacks[host].on_segment(self.now, seg, &mut out);
                let created = out
                    .notes
                    .iter()
                    .filter(|n| {
                        matches!(
                            n,
                            Note::State {
                                to: TcpState::SynReceived,
                                reason: Reason::SynReceived,
                                ..
                            }
                        )
                    })
                    .count() as u64;
                if to_listener {
                    let after = &self.stacks[SERVER].listener_stats()[0].counters;
                    let cookies = after.syncookies_sent - before.syncookies_sent;
                    let drops = after.listen_drops - before.listen_drops;
                    ensure!(
                        created + cookies + drops == 1,
                        "SYN {seg:?} reaching the listener gave {created} requests, {cookies} cookies, {drops} drops (want exactly one)"
                    );
                    self.syns_to_listener += 1;
                    self.requests_created += created;
                    self.cookies_for_syns += cookies;
                    self.drops_for_syns += drops;
                } else {
                    ensure!(
                        created == 0 || host == SERVER,
                        "a request was created by {seg:?} on {}",
                        HOST_NAMES[host]
                    );
                }
                self.out = out;
                self.process(host, Trigger::Segment(seg))
            }
        }
    }

    /// One outcome per attempt, with the SYN count and (for a timeout) the schedule the
    /// profile promises.
    fn check_outcome(&mut self, o: &OutcomeRecord) -> Check {
        let OutcomeRecord {
            client,
            attempt,
            outcome,
            started,
            syns_sent,
            ..
        } = *o;
        ensure!(client == 0, "outcome for unknown client {client}");
        ensure!(
            (attempt as usize) < self.attempts.len(),
            "outcome for attempt {attempt} never started"
        );
        if let Some(prev) = self.outcomes.insert(attempt, outcome) {
            return Err(format!(
                "attempt {attempt} got a second outcome {outcome:?} after {prev:?}"
            ));
        }
        let rec = &mut self.attempts[attempt as usize];
        rec.finished = true;
        ensure!(
            started == rec.started,
            "attempt {attempt}: start time changed"
        );
        if !rec.touched && outcome != Outcome::Aborted {
            ensure!(
                syns_sent as usize == rec.syns.len(),
                "attempt {attempt}: outcome says {syns_sent} SYNs, {} were sent",
                rec.syns.len()
            );
        }
        if outcome == Outcome::TimedOut && !rec.touched {
            let (sends, give_up) = self.cfg[CLIENT].syn_schedule_ms();
            let rel: Vec<u64> = rec
                .syns
                .iter()
                .map(|t| t.since(rec.started).as_ns())
                .collect();
            let cfg = &self.cfg[CLIENT];
            let mut nominal = sends.clone();
            nominal.push(give_up);
            ensure!(
                rel.len() == sends.len()
                    && rel.iter().enumerate().all(|(k, &ns)| on_schedule(
                        cfg,
                        &nominal,
                        k,
                        SimDuration(ns)
                    )),
                "attempt {attempt} timed out after SYNs at {rel:?} ns, schedule is {sends:?} ms"
            );
            ensure!(
                on_schedule(cfg, &nominal, sends.len(), self.now.since(rec.started)),
                "attempt {attempt} timed out after {}, schedule says {give_up} ms",
                self.now.since(rec.started)
            );
        }
        Ok(())
    }

    /// Acts on and checks everything a stack call put in the outbox.
    fn process(&mut self, host: usize, trig: Trigger) -> Check {
        let mut out = std::mem::take(&mut self.out);
        let r = self.process_inner(host, trig, &mut out);
        out.clear();
        self.out = out;
        r
    }

    fn process_inner(&mut self, host: usize, trig: Trigger, out: &mut Outbox) -> Check {
        let name = HOST_NAMES[host];
        let done: Vec<OutcomeRecord> = self.apps[host].fx.outcomes.drain(..).collect();
        for o in &done {
            self.check_outcome(o)?;
        }
        let mut i = 0;
        while let Some(&note) = out.notes.get(i) {
            i += 1;
            match note {
                Note::State {
                    serial,
                    role,
                    from,
                    to,
                    reason,
                    ..
                } => {
                    ensure!(
                        from.can_move_to(to),
                        "{name}: illegal transition {from} -> {to} ({reason:?})"
                    );
                    if to == TcpState::SynReceived && reason == Reason::SynReceived {
                        let t = self.stacks[host]
                            .connections()
                            .find(|t| t.serial() == serial)
                            .ok_or("new request vanished in the call that created it")?;
                        self.requests.insert(
                            serial,
                            RequestRec {
                                remote: t.remote(),
                                iss: t.iss(),
                                synacks: Vec::new(),
                                touched: false,
                            },
                        );
                    }
                    if to == TcpState::Established {
                        self.check_established(host, serial, role, from, reason, trig)?;
                    }
                    if host == SERVER && from == TcpState::SynReceived {
                        if let Some(r) = self.requests.remove(&serial) {
                            if reason == Reason::SynackRetriesExhausted && !r.touched {
                                self.check_request_expiry(&r)?;
                            }
                        }
                    }
                }
                Note::Discard { .. } | Note::CookieSent { .. } | Note::CookieConnection { .. } => {}
                Note::Socket {
                    conn,
                    serial,
                    event,
                } => {
                    let apps = &mut self.apps[host];
                    apps.on_socket(&mut self.stacks[host], conn, serial, event, self.now, out);
                    let done: Vec<OutcomeRecord> = apps.fx.outcomes.drain(..).collect();
                    for o in &done {
                        self.check_outcome(o)?;
                    }
                }
            }
        }
        let timers: Vec<(AppTimer, SimTime)> = self.apps[host].fx.timers.drain(..).collect();
        let stack_wakes = out.wakes.iter().map(|&(w, at)| (W::Stack(w), at));
        let app_wakes = timers.iter().map(|&(w, at)| (W::App(w), at));
        for (wake, at) in stack_wakes.chain(app_wakes).collect::<Vec<_>>() {
            ensure!(
                at >= self.now,
                "{name} asked for a wake-up in the past: {at} < {}",
                self.now
            );
            // As the engine does: a timer-wheel batch runs before other events at its instant.
            let seq = match wake {
                W::Stack(Wake::Wheel(_)) => self.wake_seq,
                _ => self.wake_seq | 1 << 63,
            };
            self.wakes.push((host, wake, at, seq));
            self.wake_seq += 1;
        }
        let max_retrans = self.cfg[CLIENT].effective_syn_max_retransmissions() as usize;
        let (syn_sched, _) = self.cfg[CLIENT].syn_schedule_ms();
        let (synack_sched, _) = self.cfg[SERVER].synack_schedule_ms();
        let synack_retries = self.cfg[SERVER].synack_retries as usize;
        for &seg in &out.segments {
            self.emitted[host] += 1;
            if host == CLIENT && seg.flags == Flags::SYN {
                let now = self.now;
                if let Some((i, rec)) = self
                    .attempts
                    .iter_mut()
                    .enumerate()
                    .find(|(_, a)| !a.finished && a.port == seg.src.port && a.iss == seg.seq)
                {
                    rec.syns.push(now);
                    ensure!(
                        rec.syns.len() <= max_retrans + 1,
                        "attempt {i}: {} SYNs sent, limit is 1 + {max_retrans} retransmissions",
                        rec.syns.len()
                    );
                    if !rec.touched {
                        let k = rec.syns.len() - 1;
                        ensure!(
                            on_schedule(&self.cfg[CLIENT], &syn_sched, k, now.since(rec.started)),
                            "attempt {i}: SYN #{k} at +{}, schedule says {:?} ms",
                            now.since(rec.started),
                            syn_sched.get(k)
                        );
                    }
                }
            }
            if host == SERVER && seg.flags == Flags::SYN_ACK {
                self.synacks_sent
                    .insert((seg.src, seg.dst, seg.seq.0, seg.ack.0));
                let now = self.now;
                if let Some(r) = self
                    .requests
                    .values_mut()
                    .find(|r| r.remote == seg.dst && r.iss == seg.seq)
                {
                    r.synacks.push(now);
                    if !r.touched {
                        let k = r.synacks.len() - 1;
                        ensure!(
                            k <= synack_retries,
                            "request from {:?}: {} SYN-ACKs, limit is 1 + {synack_retries}",
                            r.remote,
                            k + 1
                        );
                        let first = r.synacks[0];
                        let want = synack_sched.get(k);
                        ensure!(
                            on_schedule(&self.cfg[SERVER], &synack_sched, k, now.since(first)),
                            "request from {:?}: SYN-ACK #{k} at +{}, schedule says {want:?}",
                            r.remote,
                            now.since(first)
                        );
                    }
                }
            }
            self.inject(Packet::tcp(seg));
        }
        Ok(())
    }

    fn check_established(
        &mut self,
        host: usize,
        serial: u64,
        role: Role,
        from: TcpState,
        reason: Reason,
        trig: Trigger,
    ) -> Check {
        let t = self.stacks[host]
            .connections()
            .find(|t| t.serial() == serial)
            .ok_or_else(|| format!("{}: established connection vanished", HOST_NAMES[host]))?;
        let Trigger::Segment(seg) = trig else {
            return Err(format!(
                "{}: {role:?} connection reached ESTABLISHED without a segment ({trig:?})",
                HOST_NAMES[host]
            ));
        };
        ensure!(
            seg.src == t.remote() && seg.dst == t.local(),
            "ESTABLISHED by a segment of another connection: {seg:?}"
        );
        ensure!(
            seg.flags.ack() && seg.ack == t.iss().plus(1),
            "{role:?} reached ESTABLISHED on {seg:?}, which does not acknowledge ISN+1 ({:?})",
            t.iss().plus(1)
        );
        match (host, role) {
            (CLIENT, Role::Client) => {
                if from == TcpState::SynSent {
                    ensure!(
                        seg.flags.syn(),
                        "client ESTABLISHED from SYN-SENT without a SYN-ACK: {seg:?}"
                    );
                }
            }
            (SERVER, Role::Server) => {
                if reason == Reason::CookieAck {
                    // A valid cookie: the ACK's (ack - seq) is within the MSS-index slack of
                    // (cookie - client ISN) of a cookie SYN-ACK sent on this very 4-tuple. Like
                    // Linux's, the check cannot tell a late segment of an earlier connection
                    // on the same tuple from the handshake's ACK (see the README).
                    let d_seg = seg.ack.0.wrapping_sub(seg.seq.0);
                    let valid = self.synacks_sent.iter().any(|&(l, r, c, a)| {
                        l == t.local() && r == t.remote() && {
                            let d = d_seg.wrapping_sub(c.wrapping_sub(a.wrapping_sub(1))) as i32;
                            (-3..=0).contains(&d)
                        }
                    });
                    ensure!(
                        valid,
                        "server ESTABLISHED from a cookie ACK {seg:?} that matches no cookie SYN-ACK sent to {:?}",
                        t.remote()
                    );
                } else {
                    ensure!(
                        self.synacks_sent.iter().any(|&(l, r, c, _)| l == t.local()
                            && r == t.remote()
                            && c == t.iss().0),
                        "server ESTABLISHED ({from} -> ESTABLISHED, {reason:?}) with ISN {:?} towards {:?} on {seg:?}, but never sent that SYN-ACK",
                        t.iss(),
                        t.remote()
                    );
                }
                ensure!(
                    !is_silent(t.remote().addr) && t.remote().addr != addr_of(DECOY),
                    "a spoofed source that never answers established: {:?}",
                    t.remote()
                );
                self.passive_established += 1;
            }
            _ => {
                return Err(format!(
                    "{role:?} connection established on {}",
                    HOST_NAMES[host]
                ));
            }
        }
        Ok(())
    }

    fn check_request_expiry(&self, r: &RequestRec) -> Check {
        let (sends, expiry) = self.cfg[SERVER].synack_schedule_ms();
        let mut nominal = sends;
        nominal.push(expiry);
        let last = nominal.len() - 1;
        let first = *r
            .synacks
            .first()
            .ok_or("request expired without a SYN-ACK")?;
        let lived = self.now.since(first);
        if self.cfg[SERVER].synack_pruning {
            let latest = match self.cfg[SERVER].timer_hz {
                0 => SimDuration::from_ms(expiry),
                hz => wheel::schedule(hz, &nominal)[last].1,
            };
            ensure!(
                lived <= latest,
                "request from {:?} lived {lived}, longer than the {expiry} ms schedule",
                r.remote
            );
        } else {
            ensure!(
                on_schedule(&self.cfg[SERVER], &nominal, last, lived),
                "request from {:?} expired after {lived}, schedule says {expiry} ms",
                r.remote
            );
        }
        Ok(())
    }

    /// Invariants that hold between any two steps.
    fn check(&self) -> Check {
        for (h, s) in self.stacks.iter().enumerate() {
            ensure!(
                s.illegal_transitions == 0,
                "{}: {} illegal transitions",
                HOST_NAMES[h],
                s.illegal_transitions
            );
            let c = &s.counters;
            ensure!(
                c.listen_drops >= c.req_q_full_drop,
                "{}: ListenDrops {} < TCPReqQFullDrop {}",
                HOST_NAMES[h],
                c.listen_drops,
                c.req_q_full_drop
            );
            ensure!(
                c.req_q_full_do_cookies >= c.syncookies_sent,
                "{}: TCPReqQFullDoCookies {} < SyncookiesSent {}",
                HOST_NAMES[h],
                c.req_q_full_do_cookies,
                c.syncookies_sent
            );
            // OutSegs leaves out a full socket's retransmissions (Linux __tcp_transmit_skb),
            // which RetransSegs counts; a request's SYN-ACK resends are in both.
            ensure!(
                c.out_segs <= self.emitted[h] && self.emitted[h] <= c.out_segs + c.retrans_segs,
                "{}: OutSegs {} and RetransSegs {} but {} segments came out",
                HOST_NAMES[h],
                c.out_segs,
                c.retrans_segs,
                self.emitted[h]
            );
            ensure!(
                c.in_segs == self.tcp_delivered_alive[h],
                "{}: InSegs {} but {} segments were delivered",
                HOST_NAMES[h],
                c.in_segs,
                self.tcp_delivered_alive[h]
            );
            ensure!(
                c.in_errs_icmp == self.icmp_delivered_alive[h],
                "{}: InIcmpErrors {} but {} ICMP errors were delivered",
                HOST_NAMES[h],
                c.in_errs_icmp,
                self.icmp_delivered_alive[h]
            );
            for role in Role::ALL {
                for st in TcpState::ALL {
                    if st == TcpState::Listen || st == TcpState::Closed {
                        continue;
                    }
                    let live = s
                        .connections()
                        .filter(|t| t.role() == role && t.state() == st)
                        .count() as u64;
                    ensure!(
                        s.count(role, st) == live,
                        "{}: count({role:?}, {st}) = {} but {live} live",
                        HOST_NAMES[h],
                        s.count(role, st)
                    );
                }
            }
            ensure!(
                s.count(Role::Server, TcpState::Listen) == (h == SERVER && self.alive[h]) as u64,
                "{}: {} listeners counted",
                HOST_NAMES[h],
                s.count(Role::Server, TcpState::Listen)
            );
        }
        // Listener queues.
        let srv = &self.stacks[SERVER];
        let st = &srv.listener_stats()[0];
        let (syn, acc) = srv.queue_lengths(0);
        ensure!(
            syn <= st.syn_queue_capacity,
            "SYN queue {syn} above its capacity {}",
            st.syn_queue_capacity
        );
        ensure!(
            acc <= st.accept_queue_capacity,
            "accept queue {acc} above its capacity {}",
            st.accept_queue_capacity
        );
        let requests = srv.connections().filter(|t| t.is_request()).count() as u64;
        let waiting = srv.connections().filter(|t| t.in_accept_queue()).count() as u64;
        ensure!(
            syn == requests,
            "SYN queue length {syn} but {requests} half-open entries"
        );
        ensure!(
            acc == waiting,
            "accept queue length {acc} but {waiting} connections wait for accept"
        );
        if !self.alive[SERVER] {
            ensure!(
                srv.live_connections() == 0,
                "a crashed host has connections"
            );
        }
        // Listener counter identities.
        let lc = &st.counters;
        ensure!(
            lc.listen_drops >= lc.req_q_full_drop,
            "listener: ListenDrops {} < TCPReqQFullDrop {}",
            lc.listen_drops,
            lc.req_q_full_drop
        );
        ensure!(
            self.syns_to_listener
                == self.requests_created + self.cookies_for_syns + self.drops_for_syns,
            "SYNs reaching the listener {} != requests {} + cookies {} + drops {}",
            self.syns_to_listener,
            self.requests_created,
            self.cookies_for_syns,
            self.drops_for_syns
        );
        ensure!(
            lc.syncookies_sent == self.cookies_for_syns,
            "SyncookiesSent {} but {} SYNs were answered with a cookie",
            lc.syncookies_sent,
            self.cookies_for_syns
        );
        ensure!(
            lc.listen_drops >= self.drops_for_syns,
            "ListenDrops {} below the {} SYNs dropped",
            lc.listen_drops,
            self.drops_for_syns
        );
        // One listener: each listener-scoped counter equals the host's (every such bump goes
        // through one helper that counts both).
        let listener_scoped = |c: &synsim::tcp::Counters| {
            [
                c.passive_opens,
                c.listen_overflows,
                c.listen_drops,
                c.req_q_full_drop,
                c.req_q_full_do_cookies,
                c.syncookies_sent,
                c.syncookies_recv,
                c.syncookies_failed,
                c.embryonic_rsts,
                c.syn_queue_recycled,
                c.syncache_bucket_overflow,
                c.syncache_cache_overflow,
            ]
        };
        ensure!(
            listener_scoped(lc) == listener_scoped(&srv.counters),
            "listener counters {:?} differ from the host's {:?}",
            listener_scoped(lc),
            listener_scoped(&srv.counters)
        );
        ensure!(
            srv.counters.passive_opens == self.passive_established,
            "PassiveOpens {} but {} server connections reached ESTABLISHED",
            srv.counters.passive_opens,
            self.passive_established
        );
        ensure!(
            self.stacks[CLIENT].counters.active_opens == self.active_opens,
            "ActiveOpens {} but {} connects",
            self.stacks[CLIENT].counters.active_opens,
            self.active_opens
        );
        // Conservation of packets.
        ensure!(
            self.sent == self.delivered + self.dropped + self.flights.len() as u64,
            "sent {} != delivered {} + dropped {} + in flight {}",
            self.sent,
            self.delivered,
            self.dropped,
            self.flights.len()
        );
        // Every attempt: exactly one outcome, or still in progress.
        let in_progress = self.apps[CLIENT].unfinished() as usize;
        ensure!(
            self.outcomes.len() + in_progress == self.attempts.len(),
            "{} outcomes + {in_progress} in progress != {} attempts",
            self.outcomes.len(),
            self.attempts.len()
        );
        Ok(())
    }

    /// Delivers everything and fires every wake-up until nothing is left, then checks that no
    /// handshake was left without a timer.
    fn settle(&mut self) -> Check {
        // Packets take 10 ms; a wake-up due earlier fires first. (Delivering at zero delay would
        // never let time pass: two endpoints whose sequence spaces disagree answer each other's
        // ACKs with ACKs, RFC 9293 §3.10.7.4, until a timer ends one of them.)
        for _ in 0..200_000 {
            let wake_at = self.earliest_wake().map(|i| self.wakes[i].2);
            let deliver_at =
                (!self.flights.is_empty()).then(|| self.now + SimDuration::from_ms(10));
            if let Some(d) = deliver_at.filter(|d| wake_at.is_none_or(|w| *d < w)) {
                self.advance(d)?;
                let p = self.flights.remove(0);
                self.deliver(p)?;
            } else if wake_at.is_some() {
                self.fire_wake()?;
            } else {
                for (h, s) in self.stacks.iter().enumerate() {
                    if let Some(t) = s
                        .connections()
                        .find(|t| matches!(t.state(), TcpState::SynSent | TcpState::SynReceived))
                    {
                        return Err(format!(
                            "{}: {} connection to {:?} stuck in {} with no timer",
                            HOST_NAMES[h],
                            t.role().name(),
                            t.remote(),
                            t.state()
                        ));
                    }
                }
                for (i, a) in self.attempts.iter().enumerate() {
                    if self.outcomes.contains_key(&(i as u64)) {
                        continue;
                    }
                    let live = self.stacks[CLIENT].connections().any(|t| {
                        t.local().port == a.port && t.iss() == a.iss && t.state().is_synchronized()
                    });
                    ensure!(
                        live,
                        "attempt {i} has no outcome and no connection (started {})",
                        a.started
                    );
                }
                return Ok(());
            }
            self.check()?;
        }
        Err(format!(
            "no quiescence after 200 000 steps; last deliveries: {:#?}",
            self.recent
        ))
    }
}

fn run_case(seed: u64, knobs: Knobs, actions: &[Action]) -> Check {
    let mut w = World::new(seed, knobs);
    w.check()?;
    for (i, a) in actions.iter().enumerate() {
        w.log.push(format!("{i}: {a:?}"));
        w.step(a)
            .and_then(|_| w.check())
            .map_err(|e| format!("step {i} {a:?} at t = {}: {e}", w.now))?;
    }
    w.settle()
        .map_err(|e| format!("settling after the actions, t = {}: {e}", w.now))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(256),
        rng_seed: coverage::rng_seed(),
        max_shrink_iters: 20_000,
        // Failures are saved beside this file and replayed first by every later run.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions"
        ))),
        ..ProptestConfig::default()
    })]

    /// Every named invariant holds after every step of any action sequence, and the world always
    /// settles with every attempt accounted for.
    #[test]
    fn endpoint_invariants_hold_after_every_step(
        seed in any::<u64>(),
        knobs in knobs(),
        actions in proptest::collection::vec(action(), 1..150),
    ) {
        let r = run_case(seed, knobs.clone(), &actions);
        prop_assert!(r.is_ok(), "seed {seed}: {}", r.unwrap_err());
    }
}

// ---------------------------------------------------------------------------------- sanity

/// The properties can fail: a harness that checked nothing would pass these too, so each
/// deliberately broken world below must be caught.
#[test]
fn the_invariants_catch_broken_worlds() {
    let k = Knobs {
        server_profile: Profile::Linux,
        client_profile: Profile::Linux,
        backlog: 2,
        syncookies: SynCookies::Off,
        abort_on_overflow: false,
        synack_pruning: true,
        recycle_oldest: false,
        syncache: None,
        max_syn_backlog: None,
        accept: AcceptPolicy::Immediate,
        app: ServerApp::EchoUpper,
        icmp_router: false,
    };
    // A packet that vanishes without being counted breaks conservation.
    let mut w = World::new(1, k.clone());
    w.step(&Action::SpoofBurst {
        n: 3,
        from: Spoof::Silent,
    })
    .unwrap();
    w.check().unwrap();
    w.flights.pop();
    assert!(w.check().unwrap_err().contains("sent"));
    // A forged ACK acknowledging an ISN the server never sent must not establish: pretend the
    // server accepted one by recording a passive open that never happened.
    let mut w = World::new(1, k.clone());
    w.passive_established += 1;
    assert!(w.check().unwrap_err().contains("PassiveOpens"));
    // A timed-out attempt whose SYNs do not follow the schedule is reported.
    let mut w = World::new(1, k.clone());
    w.step(&Action::Connect {
        target: Target::Nowhere,
        message: false,
        close: true,
    })
    .unwrap();
    w.attempts[0].syns.push(SimTime::from_ms(5));
    let mut err = None;
    for _ in 0..100 {
        if let Err(e) = w.fire_wake() {
            err = Some(e);
            break;
        }
    }
    assert!(err.expect("schedule violation caught").contains("SYN"));
    // A full run with a clean world passes, and a timed-out attempt is seen.
    let mut w = World::new(1, k);
    w.step(&Action::Connect {
        target: Target::Nowhere,
        message: false,
        close: true,
    })
    .unwrap();
    w.settle().unwrap();
    assert_eq!(w.outcomes.get(&0), Some(&Outcome::TimedOut));
    assert_eq!(w.attempts[0].syns.len(), 11);
}

/// A hand-written run through the main paths: handshake with data, a flood that fills the SYN
/// queue, and a forged ACK; the counters must show each.
#[test]
fn a_flood_fills_the_queue_and_a_client_still_gets_through_with_cookies() {
    let k = Knobs {
        server_profile: Profile::Linux,
        client_profile: Profile::Linux,
        backlog: 4,
        syncookies: SynCookies::OnOverflow,
        abort_on_overflow: false,
        synack_pruning: true,
        recycle_oldest: false,
        syncache: None,
        max_syn_backlog: None,
        accept: AcceptPolicy::Immediate,
        app: ServerApp::EchoUpper,
        icmp_router: false,
    };
    let mut w = World::new(7, k);
    let mut acts = vec![Action::SpoofBurst {
        n: 10,
        from: Spoof::Silent,
    }];
    acts.extend((0..10).map(|_| Action::Deliver {
        pick: 0,
        delay_ms: 0,
    }));
    acts.push(Action::ForgeAck { n: 1 });
    acts.push(Action::Deliver {
        pick: 0,
        delay_ms: 0,
    });
    acts.push(Action::Connect {
        target: Target::Server,
        message: true,
        close: true,
    });
    for a in &acts {
        w.step(a).unwrap();
        w.check().unwrap();
    }
    let (syn, _) = w.stacks[SERVER].queue_lengths(0);
    assert_eq!(syn, 5, "backlog 4: the SYN queue holds 5");
    let c = &w.stacks[SERVER].listener_stats()[0].counters;
    assert_eq!(c.syncookies_sent, 5);
    assert_eq!(
        c.syncookies_failed, 1,
        "the forged ACK is an invalid cookie"
    );
    w.settle().unwrap();
    assert_eq!(w.outcomes.get(&0), Some(&Outcome::Established));
    assert_eq!(w.syns_to_listener, 11);
    assert_eq!(w.requests_created, 5);
}

/// Whether event `k` of a timer schedule (nominal times `nominal_ms` from the first event, each
/// timer armed when the previous one fired) happening `elapsed` after the first is on time:
/// exactly on the nominal time with exact timers, inside the window the kernel's timer wheel
/// allows (later by at most each level's granularity, never early) with `timer_hz` > 0.
fn on_schedule(cfg: &StackConfig, nominal_ms: &[u64], k: usize, elapsed: SimDuration) -> bool {
    if k >= nominal_ms.len() {
        return false;
    }
    if cfg.timer_hz == 0 {
        return elapsed == SimDuration::from_ms(nominal_ms[k]);
    }
    let (lo, hi, _) = wheel::schedule(cfg.timer_hz, &nominal_ms[..=k])[k];
    if k == 0 {
        return elapsed == SimDuration::ZERO;
    }
    elapsed > lo && elapsed <= hi
}
