//! Network and host behaviours: IPv6, live decoys answering SYN-ACKs with RST, client crashes,
//! Bernoulli loss on one path only.

mod common;

use common::*;
use serde_json::json;
use synsim::net::HostId;
use synsim::scenario;
use synsim::sim::Fate;
use synsim::sim::Outcome;
use synsim::tcp::{Reason, TcpState};
use synsim::time::NS_PER_MS;

fn build(v: serde_json::Value) -> synsim::spec::Scenario {
    scenario::parse(&v.to_string(), "t.json", "t").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn ipv6_handshake_and_exchange() {
    let scn = build(json!({
        "duration_ms": 500,
        "hosts": [{"name": "c", "addrs": ["10.1.0.2", "fd00::2"]}, {"name": "s", "addrs": ["fd00::1"]}],
        "network": {"latency_ms": 5},
        "listeners": [{"host": "s", "port": 7000}],
        "clients": [{"name": "v6", "host": "c", "target": "[fd00::1]:7000",
                     "arrivals": {"kind": "times", "times_ms": [0]}, "send": "HelloWorld"}]
    }));
    let (log, _, _) = run_logged(&scn);
    assert_eq!(log.outcomes[0].outcome, Outcome::Established);
    let syn = log.packets.iter().find(|p| p.fate == Fate::Send).unwrap();
    assert!(syn.src.starts_with("[fd00::2]:"), "{}", syn.src);
    assert_eq!(syn.dst, "[fd00::1]:7000");
}

#[test]
fn live_decoys_reset_spoofed_entries_and_free_the_queue() {
    let scn = build(json!({
        "duration_ms": 3000,
        "hosts": [
            {"name": "s", "addrs": ["10.2.0.1"], "stack": {"syncookies": "off"}},
            {"name": "decoy", "addrs": ["10.2.0.50"]},
            {"name": "x", "addrs": ["10.2.0.66"]}
        ],
        "network": {"latency_ms": 10},
        "listeners": [{"host": "s", "port": 80, "backlog": 16}],
        "attackers": [{"name": "f", "host": "x", "target": "10.2.0.1:80", "rate_per_s": 500,
                       "arrivals": "constant", "start_ms": 0, "stop_ms": 2000,
                       "spoof": {"kind": "hosts", "hosts": ["decoy"]}}]
    }));
    let (log, _, sim) = run_logged(&scn);
    let server = sim.stack(HostId(0));
    let decoy = sim.stack(HostId(1));
    // Each SYN-ACK reaches the decoy, which has no connection: RST (RFC 9293 §3.10.7.1).
    assert!(decoy.counters.out_rsts > 900);
    // (Random source ports from one decoy address collide now and then: a SYN meeting an
    // existing request does not produce a request of its own, so allow a little slack.)
    let (rsts, embryonic) = (decoy.counters.out_rsts, server.counters.embryonic_rsts);
    assert!(
        embryonic <= rsts && embryonic * 100 >= rsts * 99,
        "{embryonic} of {rsts}"
    );
    // A SYN every 2 ms, each entry freed 20 ms later: about 10 live, never 17.
    assert!(server.listener_stats()[0].syn_queue_peak <= 11);
    assert_eq!(server.counters.req_q_full_drop, 0);
    assert!(
        log.states
            .iter()
            .any(|s| s.to == TcpState::Listen && s.reason == Reason::RstReceived)
    );
}

#[test]
fn a_crashing_client_host_aborts_its_attempts() {
    let scn = build(json!({
        "duration_ms": 5000,
        "hosts": [
            {"name": "c", "addrs": ["10.3.0.2"], "crashes": [{"at_ms": 500, "restart_ms": 1500}]},
            {"name": "s", "addrs": ["10.3.0.1"], "alive": false}
        ],
        "network": {"latency_ms": 10},
        "clients": [{"name": "k", "host": "c", "target": "10.3.0.1:80",
                     "arrivals": {"kind": "times", "times_ms": [0, 1000, 2000]}}]
    }));
    let (log, stats, _) = run_logged(&scn);
    let by_attempt = |a: u64| {
        log.outcomes
            .iter()
            .find(|o| o.attempt == a)
            .map(|o| (o.outcome, o.ended.as_ns() / NS_PER_MS))
    };
    assert_eq!(
        by_attempt(0),
        Some((Outcome::Aborted, 500)),
        "in progress at the crash"
    );
    assert_eq!(
        by_attempt(1),
        Some((Outcome::Aborted, 1000)),
        "started while the host was down"
    );
    assert_eq!(by_attempt(2), None, "still retrying at the end");
    assert_eq!(stats.unfinished_attempts, 1);
    assert_eq!(stats.attempts_started, 3);
}

#[test]
fn a_path_override_applies_only_to_its_pair() {
    let scn = build(json!({
        "duration_ms": 20000,
        "hosts": [{"name": "a", "addrs": ["10.4.0.2"]}, {"name": "b", "addrs": ["10.4.0.3"]},
                  {"name": "s", "addrs": ["10.4.0.1"]}],
        "network": {"latency_ms": 10,
                    "paths": [{"from": "a", "to": "s", "latency_ms": 50, "loss": {"model": "bernoulli", "p": 0.3}}]},
        "listeners": [{"host": "s", "port": 80}],
        "clients": [
            {"name": "slow", "host": "a", "target": "10.4.0.1:80", "arrivals": {"kind": "constant", "rate_per_s": 10, "max": 50}},
            {"name": "fast", "host": "b", "target": "10.4.0.1:80", "arrivals": {"kind": "constant", "rate_per_s": 10, "max": 50}}
        ]
    }));
    let (log, _, _) = run_logged(&scn);
    let lat = |c: u32| -> Vec<u64> {
        log.outcomes
            .iter()
            .filter(|o| o.client == c && o.outcome == Outcome::Established)
            .map(|o| o.connected.unwrap().since(o.started).as_ns() / NS_PER_MS)
            .collect()
    };
    assert!(lat(1).iter().all(|&l| l == 20), "fast: 2 x 10 ms");
    assert!(
        lat(0).iter().filter(|&&l| l == 100).count() > 10,
        "slow: 2 x 50 ms when nothing is lost"
    );
    assert!(
        lat(0).iter().any(|&l| l > 1000),
        "slow: some SYN or SYN-ACK lost"
    );
    let lost = log
        .packets
        .iter()
        .filter(|p| p.fate == Fate::NetDrop(synsim::net::NetDrop::Loss))
        .count();
    assert!(lost > 5);
}
