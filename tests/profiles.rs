//! Each stack rule pinned with exact numbers: the Linux, FreeBSD and RFC 9293 profiles and the
//! RFC 4987 defences, driven through whole simulations built from small scenarios.
//!
//! The rules are pinned on exact timers (`timer_hz` 0 on every host, set by [`build`] unless a
//! test sets it): the kernel's timer wheel moves each firing by up to a level's granularity, and
//! the tests of the wheel itself (the `wheel_` ones) check those windows.

mod common;

use common::*;
use serde_json::{Value, json};
use synsim::net::HostId;
use synsim::scenario;
use synsim::sim::Fate;
use synsim::sim::Outcome;
use synsim::spec::Scenario;
use synsim::tcp::{Reason, TcpState, wheel};
use synsim::time::{NS_PER_MS, NS_PER_S, SimTime};
use synsim::wire::Flags;

const SERVER: &str = "10.9.0.1";
const CLIENT: &str = "10.9.0.2";
const CLIENT2: &str = "10.9.0.3";

/// A server (`server_stack` knobs on `profile`), two client hosts, an attacker; 10 ms latency.
fn world(profile: &str, server_stack: Value, backlog: u64, duration_ms: u64) -> Value {
    json!({
        "seed": 1,
        "duration_ms": duration_ms,
        "sample_interval_ms": 10,
        "hosts": [
            {"name": "server", "addrs": [SERVER], "profile": profile, "stack": server_stack},
            {"name": "client", "addrs": [CLIENT], "profile": profile},
            {"name": "client2", "addrs": [CLIENT2], "profile": profile},
            {"name": "attacker", "addrs": ["10.9.0.66"]}
        ],
        "network": {"latency_ms": 10},
        "listeners": [{"host": "server", "port": 80, "backlog": backlog}],
        "clients": [],
        "attackers": []
    })
}

fn client(name: &str, host: &str, times_ms: &[f64], send: Option<&str>) -> Value {
    json!({"name": name, "host": host, "target": format!("{SERVER}:80"),
           "arrivals": {"kind": "times", "times_ms": times_ms}, "send": send})
}

/// `n` spoofed SYNs from black-hole addresses, spread over the first `n` µs after `at_ms`.
fn burst(name: &str, at_ms: f64, n: u64) -> Value {
    json!({"name": name, "host": "attacker", "target": format!("{SERVER}:80"),
           "rate_per_s": 1e6, "arrivals": "constant", "start_ms": at_ms,
           "stop_ms": at_ms + (n as f64 - 1.0) * 0.001,
           "spoof": {"kind": "range", "base": "198.18.0.0", "count": 60000}})
}

fn flood(rate: f64, start_ms: f64, stop_ms: f64) -> Value {
    json!({"name": "flood", "host": "attacker", "target": format!("{SERVER}:80"),
           "rate_per_s": rate, "arrivals": "poisson", "start_ms": start_ms, "stop_ms": stop_ms,
           "spoof": {"kind": "range", "base": "198.18.0.0", "count": 60000}})
}

fn build(v: &Value) -> Scenario {
    let mut v = v.clone();
    for h in v["hosts"].as_array_mut().expect("hosts") {
        if !h["stack"].is_object() {
            h["stack"] = json!({});
        }
        let stack = h["stack"].as_object_mut().expect("stack object");
        stack.entry("timer_hz").or_insert(json!(0));
    }
    let v = &v;
    scenario::parse(&v.to_string(), "test.json", "test").unwrap_or_else(|e| panic!("{e}"))
}

fn server(sim: &synsim::sim::Simulation) -> &synsim::tcp::Stack {
    sim.stack(HostId(0))
}

/// Send times (ns) of segments with `flags` from `src` (address prefix).
fn send_times(log: &Log, src: &str, flags: Flags) -> Vec<u64> {
    log.packets
        .iter()
        .filter(|p| p.fate == Fate::Send && p.src.starts_with(src) && p.pkt.seg.flags == flags)
        .map(|p| p.t.as_ns())
        .collect()
}

/// The first connection to reach CLOSED: (time ns, reason).
fn first_close(log: &Log) -> (u64, Reason) {
    let e = log
        .states
        .iter()
        .find(|s| s.to == TcpState::Closed)
        .expect("a connection closed");
    (e.t.as_ns(), e.reason)
}

/// Whole seconds at which connections reached CLOSED, in order.
fn close_secs(log: &Log) -> Vec<u64> {
    log.states
        .iter()
        .filter(|s| s.to == TcpState::Closed)
        .map(|s| s.t.as_ns() / NS_PER_S)
        .collect()
}

fn s(v: &[u64]) -> Vec<u64> {
    v.iter().map(|x| x * NS_PER_S).collect()
}

// ------------------------------------------------------------------ Linux: active open

/// A connect to a dead server with the given client knobs: (SYN times, give-up time).
fn dead_host_schedule(profile: &str, client_stack: Value) -> (Vec<u64>, u64) {
    let mut w = world(profile, json!({}), 16, 200_000);
    w["hosts"][0]["alive"] = json!(false);
    w["hosts"][1]["stack"] = client_stack;
    w["clients"] = json!([client("c", "client", &[0.0], None)]);
    let (log, _, _) = run_logged(&build(&w));
    let (end, reason) = first_close(&log);
    assert_eq!(reason, Reason::SynRetriesExhausted);
    assert_eq!(log.outcomes[0].outcome, Outcome::TimedOut);
    (send_times(&log, CLIENT, Flags::SYN), end)
}

#[test]
fn linux_syn_schedule_defaults_and_variants() {
    let (t, end) = dead_host_schedule("linux", json!({}));
    assert_eq!(t, s(&[0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67]));
    assert_eq!(end, 131 * NS_PER_S);
    let (t, end) = dead_host_schedule("linux", json!({"syn_retries": 2}));
    assert_eq!(t, s(&[0, 1, 2, 3, 4, 5]));
    assert_eq!(end, 7 * NS_PER_S);
    let (t, end) = dead_host_schedule("linux", json!({"syn_retries": 3}));
    assert_eq!(t, s(&[0, 1, 2, 3, 4, 5, 7, 11]));
    assert_eq!(end, 19 * NS_PER_S);
    let (t, end) = dead_host_schedule("linux", json!({"syn_linear_timeouts": 0}));
    assert_eq!(t, s(&[0, 1, 3, 7, 15, 31, 63]));
    assert_eq!(end, 127 * NS_PER_S);
}

// ------------------------------------------------------------------ Linux: listener

#[test]
fn linux_synack_schedule_and_expiry_at_63_s() {
    let mut w = world("linux", json!({"syncookies": "off"}), 16, 100_000);
    w["attackers"] = json!([burst("one", 0.0, 1)]);
    let (log, _, sim) = run_logged(&build(&w));
    // The SYN arrives at 10 ms; SYN-ACKs at 0, 1, 3, 7, 15, 31 s after it.
    let base = 10 * NS_PER_MS;
    let want: Vec<u64> = s(&[0, 1, 3, 7, 15, 31]).iter().map(|t| t + base).collect();
    assert_eq!(send_times(&log, SERVER, Flags::SYN_ACK), want);
    assert_eq!(
        first_close(&log),
        (63 * NS_PER_S + base, Reason::SynackRetriesExhausted)
    );
    let c = &server(&sim).counters;
    assert_eq!(
        (c.syn_retrans, c.timeouts),
        (5, 6),
        "TCPSynRetrans per resend, TCPTimeouts per firing"
    );
}

fn flood_peak(profile: &str, stack: Value, backlog: u64) -> (u64, u64, synsim::tcp::Counters) {
    let mut w = world(profile, stack, backlog, 3_000);
    w["attackers"] = json!([flood(2000.0, 0.0, 2000.0)]);
    let (_, _, sim) = run_logged(&build(&w));
    let st = &server(&sim).listener_stats()[0];
    (
        st.syn_queue_peak,
        st.syn_queue_capacity,
        server(&sim).counters.clone(),
    )
}

#[test]
fn linux_syn_queue_plateau_is_backlog_plus_one() {
    for (backlog, plateau) in [(16, 17), (128, 129)] {
        let (peak, cap, c) = flood_peak("linux", json!({"syncookies": "off"}), backlog);
        assert_eq!((peak, cap), (plateau, plateau), "backlog {backlog}");
        assert!(c.req_q_full_drop > 0);
        assert_eq!(c.listen_drops, c.req_q_full_drop);
    }
    // somaxconn caps the backlog.
    let (peak, _, _) = flood_peak("linux", json!({"syncookies": "off", "somaxconn": 8}), 128);
    assert_eq!(peak, 9);
}

#[test]
fn linux_quarter_rule_reserves_the_last_quarter_for_proven_peers() {
    // max_syn_backlog 64 < backlog: unproven SYNs stop at 64 - 64/4 + 1 = 49 entries.
    let mut w = world(
        "linux",
        json!({"syncookies": "off", "max_syn_backlog": 64}),
        128,
        4_000,
    );
    w["attackers"] = json!([flood(2000.0, 500.0, 4000.0)]);
    // `client` connects before the flood (becomes proven), then again during it;
    // `client2` has never connected.
    w["clients"] = json!([
        client("proven", "client", &[0.0, 2000.0], None),
        client("stranger", "client2", &[2000.0], None)
    ]);
    let (log, _, sim) = run_logged(&build(&w));
    let st = &server(&sim).listener_stats()[0];
    assert_eq!(
        st.syn_queue_peak, 50,
        "49 unproven entries + the proven client's"
    );
    let c = &server(&sim).counters;
    assert_eq!(c.req_q_full_drop, 0, "the queue itself never filled");
    assert!(c.listen_drops > 1000);
    assert!(log.rec.drops()["quarter_rule"] > 1000);
    let proven = log
        .outcomes
        .iter()
        .find(|o| o.client == 0 && o.attempt == 1)
        .unwrap();
    assert_eq!(
        (proven.outcome, proven.syns_sent),
        (Outcome::Established, 1)
    );
    let stranger = log.outcomes.iter().find(|o| o.client == 1);
    assert!(
        stranger.is_none_or(|o| o.syns_sent > 1),
        "the stranger's first SYN was dropped"
    );
}

#[test]
fn linux_pruning_shortens_old_requests_only_when_more_than_half_full() {
    let expiry = |n: u64| {
        let mut w = world("linux", json!({"syncookies": "off"}), 16, 100_000);
        w["attackers"] = json!([burst("b", 0.0, n)]);
        let (log, _, _) = run_logged(&build(&w));
        (
            close_secs(&log),
            send_times(&log, SERVER, Flags::SYN_ACK).len() as u64,
        )
    };
    // 8 entries: 2 x 8 = 16 is not > max(8, 16): full schedule, expiry at 63 s.
    let (ends, synacks) = expiry(8);
    assert_eq!(ends, vec![63; 8]);
    assert_eq!(synacks, 8 * 6);
    // 17 entries (full): once none is young, old ones keep 2 retries: SYN-ACKs at 0, 1, 3 s,
    // expiry at 7 s; the rule is evaluated at each firing, so after 9 expiries the queue is
    // exactly half full (8) and the remaining 8 keep the full schedule to 63 s.
    let (ends, synacks) = expiry(17);
    let mut want = vec![7; 9];
    want.extend([63; 8]);
    assert_eq!(ends, want);
    assert_eq!(synacks, 9 * 3 + 8 * 6);
}

/// Three clients connect to a listener whose application never accepts (backlog 1: the
/// accept queue holds 2, and so does the SYN queue). The first completes at 30 ms; the other
/// two SYNs arrive at 31 and 32 ms, while the accept queue still has room (a SYN that found it
/// full would be dropped at admission, step 2 of tcp_conn_request); the second's final ACK
/// fills it and the third's finds it full.
fn accept_overflow(abort: bool) -> (Log, synsim::sim::RunStats, synsim::tcp::Counters) {
    let mut w = world(
        "linux",
        json!({"syncookies": "off", "abort_on_overflow": abort}),
        1,
        10_000,
    );
    w["listeners"][0]["accept"] = json!({"mode": "never"});
    w["clients"] = json!([client("c", "client", &[0.0, 21.0, 22.0], Some("hi"))]);
    let (log, stats, sim) = run_logged(&build(&w));
    (log, stats, server(&sim).counters.clone())
}

#[test]
fn linux_accept_queue_overflow_ignores_the_final_ack() {
    let (log, stats, c) = accept_overflow(false);
    assert_eq!(
        stats.unfinished_attempts, 3,
        "nobody gets a reply from a server that never accepts"
    );
    // The third client's ACKs are ignored; its request keeps sending SYN-ACKs (1, 3 s...).
    let to_third: Vec<_> = log
        .packets
        .iter()
        .filter(|p| {
            p.fate == Fate::Send
                && p.pkt.seg.flags == Flags::SYN_ACK
                && p.t.as_ns() > 100 * NS_PER_MS
        })
        .collect();
    assert_eq!(to_third.len(), 3, "SYN-ACKs at 1, 3 and 7 s");
    // Each retransmitted SYN-ACK draws a duplicate ACK from the client, and every ACK (and
    // data segment) that reaches the full accept queue counts ListenOverflows + ListenDrops.
    let acks_after = log
        .packets
        .iter()
        .filter(|p| {
            p.fate == Fate::Send
                && p.src.starts_with(CLIENT)
                && p.pkt.seg.flags == Flags::ACK
                && p.t.as_ns() > NS_PER_S
        })
        .count();
    assert_eq!(acks_after, 3);
    assert!(c.listen_overflows >= 5 && c.listen_drops == c.listen_overflows);
    assert_eq!(c.embryonic_rsts, 0);
    assert!(log.rec.drops()["final_ack_accept_queue_full"] >= 3);
}

#[test]
fn linux_accept_queue_overflow_with_abort_sends_rst() {
    let (log, _, c) = accept_overflow(true);
    let third = log.outcomes.iter().find(|o| o.attempt == 2).unwrap();
    assert_eq!(third.outcome, Outcome::Reset);
    assert_eq!((c.listen_overflows, c.embryonic_rsts), (1, 1));
    // One RST aborts the request; the data segment right behind the ACK then meets only the
    // listener, which answers an ACK with RST too (RFC 9293 §3.10.7.2).
    assert_eq!(send_times(&log, SERVER, Flags::RST).len(), 2);
}

#[test]
fn linux_icmp_unreachable_frees_the_request_and_aborts_a_connect() {
    let mut w = world("linux", json!({"syncookies": "off"}), 16, 3_000);
    w["network"]["icmp_unreachable"] = json!(true);
    w["attackers"] = json!([burst("one", 0.0, 1)]);
    // A client connecting to an address nobody owns.
    w["clients"] = json!([{"name": "lost", "host": "client", "target": "10.9.9.9:80",
        "arrivals": {"kind": "times", "times_ms": [0]}}]);
    let (log, _, _) = run_logged(&build(&w));
    let freed = log
        .states
        .iter()
        .find(|s| s.reason == Reason::IcmpUnreachable && s.to == TcpState::Listen)
        .unwrap();
    // SYN at 0 arrives at 10 ms; the SYN-ACK hits the router, whose error arrives 10 ms later.
    assert_eq!(freed.t.as_ns(), 20 * NS_PER_MS);
    let o = &log.outcomes[0];
    assert_eq!(
        (o.outcome, o.ended.as_ns()),
        (Outcome::Unreachable, 10 * NS_PER_MS)
    );
}

#[test]
fn syncookies_always_keeps_no_state() {
    let (peak, _, c) = flood_peak("linux", json!({"syncookies": "always"}), 16);
    assert_eq!(peak, 0);
    assert!(c.syncookies_sent > 1000);
    assert_eq!(c.req_q_full_do_cookies, c.syncookies_sent);
    assert_eq!(c.syn_retrans, 0, "cookie SYN-ACKs are never retransmitted");
}

#[test]
fn syncookies_on_overflow_only_after_the_queue_is_full() {
    let (peak, _, c) = flood_peak("linux", json!({"syncookies": "on_overflow"}), 16);
    assert_eq!(peak, 17);
    assert!(c.syncookies_sent > 1000);
    assert_eq!(c.req_q_full_drop, 0);
    assert_eq!(c.listen_drops, 0);
}

// ------------------------------------------------------------------ FreeBSD

#[test]
fn freebsd_client_backoff_and_75_s_connect_limit() {
    let (t, end) = dead_host_schedule("freebsd", json!({}));
    assert_eq!(t, s(&[0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67]));
    assert_eq!(end, 75 * NS_PER_S);
}

#[test]
fn freebsd_synack_schedule_and_expiry_near_15_s() {
    let mut w = world("freebsd", json!({}), 16, 30_000);
    w["attackers"] = json!([burst("one", 0.0, 1)]);
    let (log, _, _) = run_logged(&build(&w));
    let base = 10 * NS_PER_MS;
    let want: Vec<u64> = s(&[0, 1, 3, 7]).iter().map(|t| t + base).collect();
    assert_eq!(send_times(&log, SERVER, Flags::SYN_ACK), want);
    assert_eq!(first_close(&log).0, 15 * NS_PER_S + base);
}

#[test]
fn freebsd_full_bucket_drops_its_oldest_entry() {
    let cache = json!({"syncookies": "off", "syncache": {"buckets": 1, "bucket_limit": 4, "cache_limit": 100}});
    let mut w = world("freebsd", cache, 16, 500);
    w["attackers"] = json!([burst("b", 0.0, 6)]);
    let (log, _, sim) = run_logged(&build(&w));
    let evicted: Vec<_> = log
        .states
        .iter()
        .filter(|s| s.reason == Reason::SyncacheBucketOverflow)
        .collect();
    assert_eq!(evicted.len(), 2);
    // The two oldest entries (serials 0 and 1) were the ones dropped.
    assert_eq!(
        evicted.iter().map(|s| s.conn).collect::<Vec<_>>(),
        vec![0, 1]
    );
    assert_eq!(server(&sim).counters.syncache_bucket_overflow, 2);
    assert_eq!(server(&sim).queue_lengths(0).0, 4);
}

#[test]
fn freebsd_cache_overflow_switches_to_cookies_for_a_pause() {
    let cache = json!({"syncache": {"buckets": 4, "bucket_limit": 100, "cache_limit": 8}});
    let mut w = world("freebsd", cache, 16, 2_000);
    w["attackers"] = json!([flood(1000.0, 0.0, 1000.0)]);
    w["clients"] = json!([client("c", "client", &[500.0], Some("hi"))]);
    let (log, _, sim) = run_logged(&build(&w));
    let c = &server(&sim).counters;
    assert_eq!(server(&sim).listener_stats()[0].syn_queue_peak, 8);
    assert!(c.syncookies_sent > 400);
    let o = &log.outcomes[0];
    assert_eq!((o.outcome, o.syns_sent), (Outcome::Established, 1));
    assert_eq!(c.syncookies_recv, 1);
}

#[test]
fn freebsd_accept_queue_overflows_at_one_and_a_half_times_its_limit() {
    // backlog 2: overflow when qlen > 3, so 4 children fit; the 5th gets a RST.
    let mut w = world("freebsd", json!({"syncookies": "off"}), 2, 3_000);
    w["listeners"][0]["accept"] = json!({"mode": "never"});
    w["clients"] = json!([client(
        "c",
        "client",
        &[0.0, 100.0, 200.0, 300.0, 400.0],
        Some("hi")
    )]);
    let (log, _, sim) = run_logged(&build(&w));
    assert_eq!(server(&sim).listener_stats()[0].accept_queue_peak, 4);
    let fifth = log.outcomes.iter().find(|o| o.attempt == 4).unwrap();
    assert_eq!(fifth.outcome, Outcome::Reset);
    assert_eq!(
        log.outcomes.len(),
        1,
        "the other four wait forever for a reply"
    );
}

#[test]
fn freebsd_icmp_aborts_a_connect_only_after_three_retransmissions_and_a_second_error() {
    let mut w = world("freebsd", json!({}), 16, 20_000);
    w["network"]["icmp_unreachable"] = json!(true);
    w["network"]["icmp_burst"] = json!(100);
    w["clients"] = json!([{"name": "lost", "host": "client", "target": "10.9.9.9:80",
        "arrivals": {"kind": "times", "times_ms": [0]}}]);
    let (log, _, _) = run_logged(&build(&w));
    let o = &log.outcomes[0];
    assert_eq!(o.outcome, Outcome::Unreachable);
    // SYNs at 0, 1, 2, 3 s; the error about the SYN at 3 s (4th SYN, 3 retransmissions) aborts.
    assert_eq!(o.ended.as_ns(), 3 * NS_PER_S + 10 * NS_PER_MS);
}

// ------------------------------------------------------------------ RFC 9293

#[test]
fn rfc9293_holds_exactly_backlog_entries() {
    let (peak, cap, c) = flood_peak("rfc9293", json!({}), 16);
    assert_eq!((peak, cap), (16, 16));
    assert!(c.req_q_full_drop > 0);
    assert_eq!(c.syncookies_sent, 0);
    let ends = {
        let mut w = world("rfc9293", json!({}), 16, 100_000);
        w["attackers"] = json!([burst("b", 0.0, 16)]);
        close_secs(&run_logged(&build(&w)).0)
    };
    assert_eq!(
        ends,
        vec![63; 16],
        "no pruning: the full schedule even when full"
    );
}

// ------------------------------------------------------------------ RFC 4987 defences

#[test]
fn recycle_oldest_evicts_the_oldest_half_open_entry() {
    let mut w = world(
        "rfc9293",
        json!({"syn_queue_overflow": "recycle_oldest"}),
        4,
        500,
    );
    w["attackers"] = json!([burst("b", 0.0, 6)]);
    let (log, _, sim) = run_logged(&build(&w));
    let evicted: Vec<u64> = log
        .states
        .iter()
        .filter(|s| s.reason == Reason::SynQueueRecycled)
        .map(|s| s.conn)
        .collect();
    assert_eq!(evicted, vec![0, 1]);
    assert_eq!(server(&sim).counters.syn_queue_recycled, 2);
    assert_eq!(server(&sim).listener_stats()[0].syn_queue_peak, 4);
    assert_eq!(server(&sim).counters.req_q_full_drop, 0);
}

#[test]
fn reduced_synrecv_timer_expires_half_open_entries_early() {
    let mut w = world("rfc9293", json!({"synrecv_timeout_ms": 3000}), 16, 10_000);
    w["attackers"] = json!([burst("one", 0.0, 1)]);
    let (log, _, _) = run_logged(&build(&w));
    let base = 10 * NS_PER_MS;
    let want: Vec<u64> = s(&[0, 1]).iter().map(|t| t + base).collect();
    assert_eq!(send_times(&log, SERVER, Flags::SYN_ACK), want);
    assert_eq!(
        first_close(&log),
        (3 * NS_PER_S + base, Reason::SynrecvTimeout)
    );
}

#[test]
fn every_drop_in_the_trace_names_its_rule() {
    let mut w = world("linux", json!({"syncookies": "off"}), 16, 2_000);
    w["attackers"] = json!([flood(1000.0, 0.0, 1500.0)]);
    w["clients"] = json!([client("c", "client", &[1000.0], Some("hi"))]);
    let (log, _, _) = run_logged(&build(&w));
    let drops: Vec<_> = log
        .packets
        .iter()
        .filter(|p| matches!(p.fate, Fate::HostDrop(_)))
        .collect();
    assert!(!drops.is_empty());
    for p in drops {
        if let Fate::HostDrop(r) = p.fate {
            assert_ne!(r.name(), "");
            if r == Reason::SynQueueFull {
                assert_eq!(r.counter(), Some("TCPReqQFullDrop"));
            }
        }
    }
    assert_eq!(
        log.rec.drops()["syn_queue_full"],
        log.packets
            .iter()
            .filter(|p| p.fate == Fate::HostDrop(Reason::SynQueueFull))
            .count() as u64
    );
}

// ------------------------------------------------------------------ Linux: the timer wheel

/// The linux profile's default `timer_hz` (250) with the host's jiffies drawn from its stream.
fn on_wheel(mut stack: Value) -> Value {
    stack["timer_hz"] = json!(250);
    stack
}

#[test]
fn wheel_syn_schedule_stays_inside_the_kernel_windows() {
    let (t, end) = dead_host_schedule("linux", on_wheel(json!({"syn_retries": 3})));
    let nominal = [0, 1000, 2000, 3000, 4000, 5000, 7000, 11000, 19000];
    let windows = wheel::schedule(250, &nominal);
    assert_eq!(t.len(), 8, "the same 8 SYNs as on exact timers");
    for (k, (&at, &(lo, hi, _))) in t.iter().chain([&end]).zip(&windows).enumerate() {
        if k == 0 {
            assert_eq!(at, 0);
        } else {
            assert!(at > lo.as_ns() && at <= hi.as_ns(), "event {k} at {at} ns");
        }
    }
    // Lateness adds up: the give-up comes after the nominal 19 s.
    assert!(end > 19 * NS_PER_S);
}

/// At HZ=250 a SYN-ACK armed for 1 s (250 jiffies, wheel level 1) fires at the tick of the next
/// 8-jiffy bucket after its expiry: 0-32 ms late.
#[test]
fn wheel_synack_fires_at_the_tick_of_the_next_8_jiffy_bucket() {
    let mut w = world("linux", on_wheel(json!({"syncookies": "off"})), 16, 5_000);
    w["attackers"] = json!([burst("one", 0.0, 1)]);
    let (log, _, sim) = run_logged(&build(&w));
    let sends = send_times(&log, SERVER, Flags::SYN_ACK);
    let (first, second) = (SimTime(sends[0]), SimTime(sends[1]));
    let jiffies = server(&sim)
        .jiffies()
        .expect("the server runs on the wheel");
    let expiry = jiffies.at(first) + 250;
    let j = jiffies.at(second);
    assert_eq!(j % 8, 0, "a level-1 bucket");
    assert!(j > expiry && j <= expiry + 8, "jiffy {j}, expiry {expiry}");
    assert_eq!(jiffies.start_of(j), second, "at the tick");
    let late = second.since(first).as_ns() - NS_PER_S;
    assert!(late > 0 && late <= 32 * NS_PER_MS, "{late} ns late");
}

/// 129 old requests (a full queue, backlog 128) reach their third firing in one bucket: the
/// batch drops them while the queue is more than half full (`reqsk_timer_handler` reads qlen as
/// it drains) and the queue is at exactly max(8, 128)/2 = 64 the instant the batch is over.
#[test]
fn wheel_batch_prunes_a_full_queue_to_exactly_half_at_once() {
    // (time, reason) of every connection that reached CLOSED, a burst of 129 at B=128.
    let closes = |stack: Value| {
        let mut w = world("linux", stack, 128, 100_000);
        w["attackers"] = json!([burst("b", 0.0, 129)]);
        let (log, _, _) = run_logged(&build(&w));
        log.states
            .iter()
            .filter(|s| s.to == TcpState::Closed)
            .map(|s| (s.t, s.reason))
            .collect::<Vec<_>>()
    };
    let wheel = closes(on_wheel(json!({"syncookies": "off"})));
    assert_eq!(wheel.len(), 129);
    let t0 = wheel[0].0;
    let batch = wheel.iter().filter(|c| c.0 == t0).count();
    assert_eq!(batch, 65, "129 - 64 dropped at one instant");
    assert!(
        wheel[..65]
            .iter()
            .all(|c| c.1 == Reason::SynackRetriesExhausted)
    );
    assert!(
        t0 > SimTime(7 * NS_PER_S) && t0 < SimTime(8 * NS_PER_S),
        "{t0}"
    );
    // The other 64 keep the full schedule (expiry after 63 s).
    assert!(wheel[65..].iter().all(|c| c.0 > SimTime(63 * NS_PER_S)));
    // On exact timers the same 65 go, but one at a time, at 65 different instants.
    let exact: std::collections::BTreeSet<_> = closes(json!({"syncookies": "off"}))
        .into_iter()
        .filter(|c| c.0 < SimTime(60 * NS_PER_S))
        .map(|c| c.0)
        .collect();
    assert_eq!(exact.len(), 65);
}

// ------------------------------------------------------------------ Linux: counters and rules

/// tcp_check_req: a retransmitted SYN for a pending request draws a SYN-ACK at most once per
/// `invalid_ratelimit_ms` (500 ms); the others count TCPACKSkippedSynRecv. SYNs at 0, 100, 200
/// and 300 ms (the server's SYN-ACKs never arrive): SYN-ACKs for the first two only.
#[test]
fn linux_retransmitted_syn_to_a_request_is_rate_limited() {
    let mut w = world("linux", json!({}), 16, 350);
    w["hosts"][1]["stack"] = json!({"syn_rto_initial_ms": 100, "syn_linear_timeouts": 10});
    w["network"] = json!({"latency_ms": 0.05, "drop": [
        {"from": "server", "to": "client", "flags": "SYN,ACK", "window_ms": [0, 1000]}]});
    w["clients"] = json!([client("c", "client", &[0.0], None)]);
    let (log, _, sim) = run_logged(&build(&w));
    assert_eq!(send_times(&log, CLIENT, Flags::SYN).len(), 4);
    assert_eq!(send_times(&log, SERVER, Flags::SYN_ACK).len(), 2);
    let c = &server(&sim).counters;
    assert_eq!(c.ack_skipped_syn_recv, 2);
    assert_eq!(log.rec.drops()["syn_retransmit_rate_limited"], 2);
}

/// cookie_v4_check counts SyncookiesRecv when the cookie validates, before the accept queue
/// (holding 2 at backlog 1) turns the third connection's ACK away (ListenOverflows). The
/// clients do not close: a FIN would carry the same cookie and count again.
#[test]
fn linux_syncookies_recv_counts_a_cookie_ack_that_then_overflows() {
    let mut w = world("linux", json!({"syncookies": "always"}), 1, 100);
    w["listeners"][0]["accept"] = json!({"mode": "never"});
    w["network"] = json!({"latency_ms": 1});
    let mut c = client("c", "client", &[0.0, 0.1, 0.2], None);
    c["close"] = json!(false);
    w["clients"] = json!([c]);
    let (_, _, sim) = run_logged(&build(&w));
    let c = &server(&sim).counters;
    assert_eq!(
        (
            c.syncookies_sent,
            c.syncookies_recv,
            c.passive_opens,
            c.listen_overflows
        ),
        (3, 3, 2, 1)
    );
}

/// tcp_peer_is_proven needs an RTT in tcp_metrics, written when a connection closes cleanly
/// (LAST-ACK or TIME-WAIT), not at handshake completion. With the SYN queue at the quarter-rule
/// cap (49 spoofed requests, max_syn_backlog 64), only the source whose first connection was
/// closed gets in again; the one whose connection is still open is dropped until it times out.
#[test]
fn linux_only_a_cleanly_closed_peer_is_proven() {
    let mut w = world(
        "linux",
        json!({"syncookies": "off", "max_syn_backlog": 64}),
        128,
        6000,
    );
    w["network"] = json!({"latency_ms": 0.05});
    w["hosts"][1]["stack"] = json!({"syn_retries": 1});
    w["hosts"][2]["stack"] = json!({"syn_retries": 1});
    let mut open = client("open", "client2", &[0.0, 1000.0], None);
    open["close"] = json!(false);
    w["clients"] = json!([client("clean", "client", &[0.0, 1000.0], None), open]);
    w["attackers"] = json!([{"name": "f", "host": "attacker", "target": format!("{SERVER}:80"),
        "rate_per_s": 2000, "arrivals": "constant", "start_ms": 600, "stop_ms": 700,
        "spoof": {"kind": "range", "base": "198.18.0.0", "count": 60000}}]);
    let (log, _, _) = run_logged(&build(&w));
    let second = |c: u32| {
        let o = log
            .outcomes
            .iter()
            .find(|o| o.client == c && o.attempt == 1)
            .expect("second attempt finished");
        (o.outcome, o.syns_sent)
    };
    assert_eq!(second(0), (Outcome::Established, 1));
    assert_eq!(second(1).0, Outcome::TimedOut);
    assert!(log.rec.drops()["quarter_rule"] >= 3);
}

// ------------------------------------------------------------------ Linux 5.x LTS

/// linux5: the SYN RTO doubles from the first timeout (no `tcp_syn_linear_timeouts` before
/// 6.5), and the SYN queue holds exactly `backlog` requests (`qlen >= backlog` is full before
/// commit 3479c7549fb1); the accept queue still holds backlog+1.
#[test]
fn linux5_classic_syn_schedule_and_a_syn_queue_of_backlog() {
    let (t, end) = dead_host_schedule("linux5", json!({}));
    assert_eq!(t, s(&[0, 1, 3, 7, 15, 31, 63]));
    assert_eq!(end, 127 * NS_PER_S);
    for backlog in [16, 128] {
        let (peak, cap, c) = flood_peak("linux5", json!({"syncookies": "off"}), backlog);
        assert_eq!((peak, cap), (backlog, backlog), "backlog {backlog}");
        assert!(c.req_q_full_drop > 0);
    }
}
