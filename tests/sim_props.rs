//! Whole-simulation properties over generated scenarios: every scenario is built as JSON and
//! goes through `scenario::parse`, like a user's file. Checked: the invariants at every sample
//! and at the end, determinism of the output bytes, and independence of the random streams.
//!
//! Cases: `SYNSIM_PROPTEST_CASES` divided by 4 (default 24 here;
//! each case runs whole simulations).

mod common;
#[path = "sim_props/coverage.rs"]
mod coverage;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{Value, json};

use synsim::net::{HostId, Network};
use synsim::scenario;
use synsim::sim::{ConnRef, Fate, Observer, OutcomeRecord, Sample, Simulation};
use synsim::spec::Scenario;
use synsim::tcp::{Reason, Role, TcpState};
use synsim::time::SimTime;
use synsim::wire::{Flags, Packet};

fn cases(default: u32) -> u32 {
    std::env::var("SYNSIM_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(|n: u32| (n / 4).max(1))
        .unwrap_or(default)
}

// ---------------------------------------------------------------------------------- generator

#[derive(Clone, Debug)]
struct ClientGen {
    rate: f64,
    kind: u8,
    message: bool,
    close: bool,
    syn_retries: u32,
}

#[derive(Clone, Debug)]
struct AttackGen {
    rate: f64,
    spoof: u8,
    start_ms: f64,
    stop_ms: f64,
}

#[derive(Clone, Debug)]
struct ScnGen {
    seed: u64,
    duration_ms: f64,
    sample_ms: f64,
    profile: &'static str,
    syncookies: &'static str,
    backlog: u64,
    accept: Value,
    app: &'static str,
    latency_ms: f64,
    jitter_ms: f64,
    loss: Value,
    icmp: bool,
    clients: Vec<ClientGen>,
    attack: Option<AttackGen>,
    server_crash: Option<(f64, Option<f64>)>,
    client_crash: Option<(f64, Option<f64>)>,
    drop_first_synack: bool,
}

fn client_gen() -> impl Strategy<Value = ClientGen> {
    (1.0f64..40.0, 0u8..3, any::<bool>(), any::<bool>(), 1u32..7).prop_map(
        |(rate, kind, message, close, syn_retries)| ClientGen {
            rate,
            kind,
            message,
            close,
            syn_retries,
        },
    )
}

fn crash_gen(duration: f64) -> impl Strategy<Value = Option<(f64, Option<f64>)>> {
    proptest::option::weighted(
        0.3,
        (
            0.0..duration,
            proptest::option::weighted(0.7, 1.0f64..5000.0),
        )
            .prop_map(|(at, r)| (at, r.map(|d| at + d))),
    )
}

fn scn_gen() -> impl Strategy<Value = ScnGen> {
    (1000.0f64..10_000.0).prop_flat_map(|duration_ms| {
        (
            (
                any::<u64>(),
                Just(duration_ms),
                prop_oneof![Just(100.0), 7.5f64..1000.0],
                prop_oneof![
                    Just("linux"),
                    Just("linux5"),
                    Just("freebsd"),
                    Just("rfc9293")
                ],
                prop_oneof![Just("off"), Just("on_overflow"), Just("always")],
                1u64..64,
            ),
            (
                prop_oneof![
                    3 => Just(json!({"mode": "immediate"})),
                    1 => Just(json!({"mode": "never"})),
                    1 => (1.0f64..2000.0).prop_map(|d| json!({"mode": "delay", "delay_ms": d})),
                    1 => (0.5f64..100.0).prop_map(|r| json!({"mode": "rate", "rate_per_s": r})),
                ],
                prop_oneof![Just("echo_upper"), Just("discard"), Just("close")],
                0.0f64..30.0,
                prop_oneof![Just(0.0), 0.0f64..5.0],
                prop_oneof![
                    2 => Just(json!({"model": "none"})),
                    1 => (0.0f64..0.3).prop_map(|p| json!({"model": "bernoulli", "p": p})),
                    1 => (0.0f64..0.2, 0.1f64..0.9).prop_map(|(a, b)| json!({
                        "model": "gilbert_elliott", "p_good_bad": a, "p_bad_good": b})),
                ],
                any::<bool>(),
            ),
            (
                proptest::collection::vec(client_gen(), 1..4),
                proptest::option::weighted(
                    0.6,
                    (
                        10.0f64..600.0,
                        0u8..3,
                        0.0..duration_ms / 2.0,
                        duration_ms / 2.0..duration_ms,
                    )
                        .prop_map(|(rate, spoof, start_ms, stop_ms)| {
                            AttackGen {
                                rate,
                                spoof,
                                start_ms,
                                stop_ms,
                            }
                        }),
                ),
                crash_gen(duration_ms),
                crash_gen(duration_ms),
                any::<bool>(),
            ),
        )
            .prop_map(
                |(
                    (seed, duration_ms, sample_ms, profile, syncookies, backlog),
                    (accept, app, latency_ms, jitter_ms, loss, icmp),
                    (clients, attack, server_crash, client_crash, drop_first_synack),
                )| ScnGen {
                    seed,
                    duration_ms,
                    sample_ms,
                    profile,
                    syncookies,
                    backlog,
                    accept,
                    app,
                    latency_ms,
                    jitter_ms,
                    loss,
                    icmp,
                    clients,
                    attack,
                    server_crash,
                    client_crash,
                    drop_first_synack,
                },
            )
    })
}

fn crashes(c: &Option<(f64, Option<f64>)>) -> Value {
    match c {
        None => json!([]),
        Some((at, r)) => json!([{"at_ms": at, "restart_ms": r}]),
    }
}

/// The scenario as JSON: a server, one host per client (`c0`, `c1`...), an attacker, a live
/// decoy without listener.
fn build(g: &ScnGen) -> Value {
    let mut hosts = vec![
        json!({"name": "server", "addrs": ["10.0.0.1"], "profile": g.profile,
               "stack": {"syncookies": g.syncookies}, "crashes": crashes(&g.server_crash)}),
        json!({"name": "attacker", "addrs": ["10.0.0.66"]}),
        json!({"name": "decoy", "addrs": ["10.0.0.77"]}),
    ];
    let mut clients = Vec::new();
    for (i, c) in g.clients.iter().enumerate() {
        let mut h = json!({"name": format!("c{i}"), "addrs": [format!("10.0.1.{}", i + 1)],
                           "stack": {"syn_retries": c.syn_retries}});
        if i == 0 {
            h["crashes"] = crashes(&g.client_crash);
        }
        hosts.push(h);
        let arrivals = match c.kind {
            0 => json!({"kind": "poisson", "rate_per_s": c.rate}),
            1 => json!({"kind": "constant", "rate_per_s": c.rate, "start_ms": 3.5}),
            _ => json!({"kind": "times", "times_ms": (0..(c.rate as usize))
                .map(|k| k as f64 * 97.3).collect::<Vec<_>>()}),
        };
        clients.push(json!({
            "name": format!("client{i}"), "host": format!("c{i}"), "target": "10.0.0.1:80",
            "arrivals": arrivals, "send": if c.message { "HelloWorld" } else { "" },
            "close": c.close, "expect_reply": c.message,
        }));
    }
    let attackers = match &g.attack {
        None => json!([]),
        Some(a) => {
            let spoof = match a.spoof {
                0 => json!({"kind": "range", "base": "198.18.0.0", "count": 4096}),
                1 => json!({"kind": "hosts", "hosts": ["decoy"]}),
                _ => json!({"kind": "none"}),
            };
            json!([{"name": "flood", "host": "attacker", "target": "10.0.0.1:80",
                    "rate_per_s": a.rate, "start_ms": a.start_ms, "stop_ms": a.stop_ms,
                    "spoof": spoof}])
        }
    };
    let drop = if g.drop_first_synack {
        json!([{"from": "server", "flags": "SYN,ACK", "nth": [1, 3]}])
    } else {
        json!([])
    };
    json!({
        "seed": g.seed,
        "duration_ms": g.duration_ms,
        "sample_interval_ms": g.sample_ms,
        "hosts": hosts,
        "network": {"latency_ms": g.latency_ms, "jitter_ms": g.jitter_ms, "loss": g.loss,
                    "icmp_unreachable": g.icmp, "drop": drop},
        "listeners": [{"host": "server", "port": 80, "backlog": g.backlog,
                       "accept": g.accept, "app": g.app}],
        "clients": clients,
        "attackers": attackers,
    })
}

fn parse(v: &Value) -> Scenario {
    let text = serde_json::to_string_pretty(v).unwrap();
    scenario::parse(&text, "generated.json", "generated")
        .unwrap_or_else(|e| panic!("generated scenario refused: {e}\n{text}"))
}

// ---------------------------------------------------------------------------------- checker

/// Checks every observation as it arrives; the first violation is kept.
struct Checker {
    interval: u64,
    syn_caps: Vec<u64>,
    accept_caps: Vec<u64>,
    /// Listeners per host, and which hosts are up.
    listeners_on: Vec<u64>,
    up: Vec<bool>,
    last_t: SimTime,
    samples: u64,
    last_drops: Vec<u64>,
    last_cookies: Vec<u64>,
    sent: u64,
    delivered: u64,
    net_dropped: u64,
    host_dropped: u64,
    outcomes: BTreeSet<(u32, u64)>,
    violation: Option<String>,
}

impl Checker {
    fn new(scn: &Scenario, sim: &Simulation) -> Checker {
        let refs = sim.listener_refs();
        let mut listeners_on = vec![0; sim.host_count()];
        for &(h, _) in refs {
            listeners_on[h.0 as usize] += 1;
        }
        Checker {
            interval: scn.sample_interval.as_ns(),
            syn_caps: refs
                .iter()
                .map(|&(h, i)| sim.stack(h).listener_stats()[i].syn_queue_capacity)
                .collect(),
            accept_caps: refs
                .iter()
                .map(|&(h, i)| sim.stack(h).listener_stats()[i].accept_queue_capacity)
                .collect(),
            listeners_on,
            up: scn.hosts.iter().map(|h| h.alive).collect(),
            last_t: SimTime::ZERO,
            samples: 0,
            last_drops: vec![0; refs.len()],
            last_cookies: vec![0; refs.len()],
            sent: 0,
            delivered: 0,
            net_dropped: 0,
            host_dropped: 0,
            outcomes: BTreeSet::new(),
            violation: None,
        }
    }

    fn fail(&mut self, msg: String) {
        if self.violation.is_none() {
            self.violation = Some(msg);
        }
    }

    fn time(&mut self, t: SimTime, what: &str) {
        if t < self.last_t {
            self.fail(format!(
                "time went backwards at {what}: {} -> {t}",
                self.last_t
            ));
        }
        self.last_t = t;
    }
}

impl Observer for Checker {
    fn packet(&mut self, t: SimTime, fate: Fate, _pkt: &Packet, _net: &Network) {
        self.time(t, "packet");
        match fate {
            Fate::Send => self.sent += 1,
            Fate::Deliver => self.delivered += 1,
            Fate::NetDrop(_) => self.net_dropped += 1,
            Fate::HostDrop(_) => self.host_dropped += 1,
        }
    }
    fn state(&mut self, t: SimTime, cref: &ConnRef, from: TcpState, to: TcpState, reason: Reason) {
        let (host, role) = (cref.host, cref.role);
        self.time(t, "state");
        if !from.can_move_to(to) {
            self.fail(format!(
                "host {}: illegal {role:?} transition {from} -> {to} ({reason:?}) at {t}",
                host.0
            ));
        }
    }
    fn outcome(&mut self, t: SimTime, o: &OutcomeRecord) {
        self.time(t, "outcome");
        if !self.outcomes.insert((o.client, o.attempt)) {
            self.fail(format!(
                "client {} attempt {} has two outcomes",
                o.client, o.attempt
            ));
        }
        if o.ended < o.started || o.connected.is_some_and(|c| c < o.started || c > o.ended) {
            self.fail(format!("outcome times out of order: {o:?}"));
        }
    }
    fn sample(&mut self, t: SimTime, s: &Sample) {
        self.time(t, "sample");
        if t.as_ns() != self.samples * self.interval {
            self.fail(format!("sample {} at {t}, off the grid", self.samples));
        }
        self.samples += 1;
        for (i, l) in s.listeners.iter().enumerate() {
            if l.syn_queue > self.syn_caps[i] || l.accept_queue > self.accept_caps[i] {
                self.fail(format!(
                    "at {t}: listener {i} queues {}/{} and {}/{} (SYN/accept, length/capacity)",
                    l.syn_queue, self.syn_caps[i], l.accept_queue, self.accept_caps[i]
                ));
            }
            if l.drops < self.last_drops[i] || l.cookies < self.last_cookies[i] {
                self.fail(format!("at {t}: cumulative listener counters went down"));
            }
            self.last_drops[i] = l.drops;
            self.last_cookies[i] = l.cookies;
        }
        let want: u64 = (0..self.up.len())
            .filter(|&h| self.up[h])
            .map(|h| self.listeners_on[h])
            .sum();
        let got = s.counts[Role::Server as usize][TcpState::Listen.index()];
        if got != want {
            self.fail(format!(
                "at {t}: {got} sockets in LISTEN, {want} listeners on live hosts"
            ));
        }
        if s.counts.iter().any(|r| r[TcpState::Closed.index()] != 0) {
            self.fail(format!("at {t}: CLOSED connections counted as live"));
        }
    }
    fn host(&mut self, t: SimTime, host: HostId, up: bool) {
        self.time(t, "host");
        self.up[host.0 as usize] = up;
    }
}

fn check_run(scn: &Scenario) -> Result<(), String> {
    let mut sim = Simulation::new(scn);
    let mut chk = Checker::new(scn, &sim);
    let stats = sim.run(&mut chk).map_err(|e| e.to_string())?;
    if let Some(v) = chk.violation {
        return Err(v);
    }
    let expect_samples = scn.duration.as_ns() / scn.sample_interval.as_ns() + 1;
    let checks: [(bool, String); 7] = [
        (
            stats.past_pushes == 0,
            format!("{} events scheduled in the past", stats.past_pushes),
        ),
        (
            stats.illegal_transitions == 0,
            format!("{} illegal transitions", stats.illegal_transitions),
        ),
        (
            chk.outcomes.len() as u64 + stats.unfinished_attempts == stats.attempts_started,
            format!(
                "{} outcomes + {} unfinished != {} attempts",
                chk.outcomes.len(),
                stats.unfinished_attempts,
                stats.attempts_started
            ),
        ),
        (
            chk.sent == chk.delivered + chk.net_dropped + stats.packets_in_flight,
            format!(
                "packets: sent {} != delivered {} + dropped {} + in flight {}",
                chk.sent, chk.delivered, chk.net_dropped, stats.packets_in_flight
            ),
        ),
        (
            chk.host_dropped <= chk.delivered,
            format!(
                "{} host drops of {} delivered packets",
                chk.host_dropped, chk.delivered
            ),
        ),
        (
            chk.samples == expect_samples,
            format!("{} samples, want {expect_samples}", chk.samples),
        ),
        (
            sim.listener_refs().iter().all(|&(h, i)| {
                let st = &sim.stack(h).listener_stats()[i];
                st.syn_queue_peak <= st.syn_queue_capacity
                    && st.accept_queue_peak <= st.accept_queue_capacity
                    && st.counters.listen_drops >= st.counters.req_q_full_drop
            }),
            "a listener's peak exceeded its capacity or ListenDrops < TCPReqQFullDrop".into(),
        ),
    ];
    for (ok, msg) in checks {
        if !ok {
            return Err(msg);
        }
    }
    coverage::listener_counters_match_hosts(scn, &sim)
}

fn tmp_dir(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let d = std::env::temp_dir().join(format!(
        "synsim-props-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&d);
    d
}

fn outputs(scn: &Scenario, dir: &Path) -> Vec<(String, Vec<u8>)> {
    let files = common::run_outputs(scn, dir, false);
    let _ = fs::remove_dir_all(dir);
    files
}

fn same_files(a: &[(String, Vec<u8>)], b: &[(String, Vec<u8>)]) -> Result<(), String> {
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    if names(a) != names(b) {
        return Err(format!("files differ: {:?} vs {:?}", names(a), names(b)));
    }
    for ((n, x), (_, y)) in a.iter().zip(b) {
        if x != y {
            return Err(format!("{n} differs between the two runs"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------- stream ids

/// What a run shows of the attacker and of one client, for the independence property.
#[derive(Default)]
struct Streams {
    watched: Vec<u32>,
    own: Vec<u32>,
    /// (time, spoofed source address, port, ISN) of every attack SYN.
    attack: Vec<(u64, u32, u16, u32)>,
    /// (time, ISN) of the watched client's first SYN of each attempt.
    client: Vec<(u64, u32)>,
    seen: BTreeSet<(u16, u32)>,
}

impl Observer for Streams {
    fn packet(&mut self, t: SimTime, fate: Fate, pkt: &Packet, _net: &Network) {
        if fate != Fate::Send || pkt.icmp.is_some() || pkt.seg.flags != Flags::SYN {
            return;
        }
        let s = pkt.seg.src;
        if self.watched.contains(&s.addr.0) {
            if self.seen.insert((s.port, pkt.seg.seq.0)) {
                self.client.push((t.as_ns(), pkt.seg.seq.0));
            }
        } else if !self.own.contains(&s.addr.0) {
            self.attack
                .push((t.as_ns(), s.addr.0, s.port, pkt.seg.seq.0));
        }
    }
}

fn streams_of(scn: &Scenario, watched: &str) -> Streams {
    let mut sim = Simulation::new(scn);
    let id = |ip: &str| {
        sim.net
            .addrs
            .find(&ip.parse().unwrap())
            .map(|a| a.0)
            .unwrap()
    };
    let own: Vec<u32> = scn
        .clients
        .iter()
        .map(|c| id(&c.addr.to_string()))
        .collect();
    let mut s = Streams {
        watched: vec![id(watched)],
        own,
        ..Streams::default()
    };
    sim.run(&mut s).unwrap();
    s
}

// ---------------------------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(24),
        rng_seed: coverage::rng_seed(),
        max_shrink_iters: 200,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions"
        ))),
        ..ProptestConfig::default()
    })]

    /// The invariants hold at every sample and at the end of any generated scenario.
    #[test]
    fn invariants_hold_for_generated_scenarios(g in scn_gen(), x in coverage::extra_gen()) {
        let mut v = build(&g);
        coverage::extend(&mut v, &x);
        let scn = parse(&v);
        let r = check_run(&scn);
        prop_assert!(r.is_ok(), "seed {}: {}\n{}", g.seed, r.unwrap_err(),
            serde_json::to_string(&v).unwrap());
    }

    /// Same scenario and seed: byte-identical files; the scenario as understood (echoed in
    /// summary.json) parses back into the very same run.
    #[test]
    fn output_bytes_are_deterministic_and_the_echoed_scenario_reruns(g in scn_gen()) {
        let v = build(&g);
        let scn = parse(&v);
        let a = outputs(&scn, &tmp_dir("a"));
        let b = outputs(&scn, &tmp_dir("b"));
        let r = same_files(&a, &b);
        prop_assert!(r.is_ok(), "seed {}: {}", g.seed, r.unwrap_err());
        let echoed = parse(&serde_json::from_str(&scn.echo).unwrap());
        let c = outputs(&echoed, &tmp_dir("c"));
        let r = same_files(&a, &c);
        prop_assert!(r.is_ok(), "seed {}: rerun of the echoed scenario: {}", g.seed, r.unwrap_err());
    }

    /// Changing one client (rate, arrival kind, message, close) changes neither the attacker's
    /// SYNs (times, spoofed addresses, ports, ISNs) nor another client's arrivals and ISNs.
    #[test]
    fn one_client_does_not_shift_other_streams(
        g in scn_gen(),
        other in client_gen(),
    ) {
        let mut g = g;
        if g.clients.len() < 2 {
            g.clients.push(other.clone());
        }
        g.client_crash = None;
        let base = parse(&build(&g));
        let mut g2 = g.clone();
        g2.clients[0] = other;
        let changed = parse(&build(&g2));
        let (a, b) = (streams_of(&base, "10.0.1.2"), streams_of(&changed, "10.0.1.2"));
        prop_assert!(a.attack == b.attack, "seed {}: attack SYNs changed ({} vs {})",
            g.seed, a.attack.len(), b.attack.len());
        prop_assert!(a.client == b.client, "seed {}: client1's arrivals or ISNs changed", g.seed);
        // Not vacuous: a flood expected to send 20 SYNs or more sent some.
        if let Some(atk) = &g.attack {
            let window_ms = atk.stop_ms.min(g.duration_ms) - atk.start_ms;
            if atk.rate * window_ms / 1000.0 >= 20.0 {
                prop_assert!(!a.attack.is_empty(), "seed {}: no attack SYN seen", g.seed);
            }
        }
    }
}

/// The checker can fail: a listener capacity below the real queue, a sample grid and a wrong
/// LISTEN count are all reported.
#[test]
fn the_checker_catches_violations() {
    let text = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/syn_flood.json"
    ))
    .unwrap();
    let scn = scenario::parse(&text, "syn_flood.json", "syn_flood").unwrap();
    let mut sim = Simulation::new(&scn);
    let mut chk = Checker::new(&scn, &sim);
    chk.syn_caps[0] = 100; // the real capacity is 129
    sim.run(&mut chk).unwrap();
    assert!(chk.violation.unwrap().contains("129/100"));
    let mut sim = Simulation::new(&scn);
    let mut chk = Checker::new(&scn, &sim);
    chk.listeners_on[1] = 2;
    sim.run(&mut chk).unwrap();
    assert!(chk.violation.unwrap().contains("LISTEN"));
    check_run(&scn).unwrap();
}

/// The independence check can fail: changing the watched client itself changes what it shows.
#[test]
fn the_stream_check_sees_a_change_of_the_watched_client() {
    let g = ScnGen {
        seed: 5,
        duration_ms: 3000.0,
        sample_ms: 100.0,
        profile: "linux",
        syncookies: "on_overflow",
        backlog: 8,
        accept: json!({"mode": "immediate"}),
        app: "echo_upper",
        latency_ms: 5.0,
        jitter_ms: 0.0,
        loss: json!({"model": "none"}),
        icmp: false,
        clients: vec![
            ClientGen {
                rate: 5.0,
                kind: 0,
                message: true,
                close: true,
                syn_retries: 2,
            },
            ClientGen {
                rate: 5.0,
                kind: 0,
                message: true,
                close: true,
                syn_retries: 2,
            },
        ],
        attack: Some(AttackGen {
            rate: 200.0,
            spoof: 0,
            start_ms: 0.0,
            stop_ms: 2000.0,
        }),
        server_crash: None,
        client_crash: None,
        drop_first_synack: false,
    };
    let base = streams_of(&parse(&build(&g)), "10.0.1.2");
    assert!(base.attack.len() > 100 && base.client.len() > 3);
    let mut g2 = g.clone();
    g2.clients[1].rate = 7.0;
    let changed = streams_of(&parse(&build(&g2)), "10.0.1.2");
    assert!(changed.client != base.client);
    assert!(changed.attack == base.attack);
    let mut g3 = g;
    g3.seed = 6;
    assert!(streams_of(&parse(&build(&g3)), "10.0.1.2").attack != base.attack);
}
