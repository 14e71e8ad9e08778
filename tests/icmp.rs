//! The router's ICMP destination-unreachable codes and the error each gives `connect()`, as
//! Linux maps them (`icmp_err_convert`), measured on 6.18 in network namespaces (a route of
//! type `unreachable`, `prohibit` and `throw` on the router): host unreachable (1) and
//! administratively prohibited (13) fail the connect with EHOSTUNREACH, net unreachable (0)
//! with ENETUNREACH. A connect that times out after a soft ICMP error reports that error
//! (`tcp_write_err`: `sk_err_soft`, else ETIMEDOUT).

mod common;

use common::*;
use serde_json::{Value, json};
use synsim::net::HostId;
use synsim::scenario;
use synsim::sim::{Outcome, OutcomeRecord};
use synsim::tcp::Counters;

/// One client on host `host` (a JSON host object without name and addresses) connecting at
/// 0 ms to an address nobody owns, over `network`, with `client` merged into its entry.
/// Returns its outcome record (which, like attempts.csv's `error` column, carries the errno)
/// and the client host's counters.
fn connect_once(host: Value, network: Value, client: Value) -> (OutcomeRecord, Counters) {
    let mut h = json!({"name": "c", "addrs": ["10.1.0.2"]});
    h.as_object_mut()
        .unwrap()
        .extend(host.as_object().unwrap().clone());
    let mut c = json!({"name": "x", "host": "c", "target": "10.1.9.9:80",
                       "arrivals": {"kind": "times", "times_ms": [0]}});
    c.as_object_mut()
        .unwrap()
        .extend(client.as_object().unwrap().clone());
    let v = json!({"seed": 1, "duration_ms": 200_000, "hosts": [h], "network": network,
                   "clients": [c]});
    let scn = scenario::parse(&v.to_string(), "t.json", "t").unwrap_or_else(|e| panic!("{e}"));
    let (log, _, sim) = run_logged(&scn);
    (log.outcomes[0], sim.stack(HostId(0)).counters.clone())
}

/// A client on `profile` 5 ms from a router answering with `code`, rate-limited to `burst`
/// answers refilled one per `interval_ms`.
fn through_router(
    profile: &str,
    code: &str,
    burst: u32,
    interval_ms: u64,
) -> (Outcome, Option<&'static str>, u32) {
    let network = json!({"latency_ms": 5, "icmp_unreachable": true, "icmp_code": code,
                         "icmp_burst": burst, "icmp_interval_ms": interval_ms});
    let (o, _) = connect_once(json!({"profile": profile}), network, json!({}));
    (o.outcome, o.error, o.syns_sent)
}

#[test]
fn each_icmp_code_fails_a_linux_connect_with_its_errno() {
    for (code, errno) in [
        ("host_unreachable", "EHOSTUNREACH"),
        ("admin_prohibited", "EHOSTUNREACH"),
        ("net_unreachable", "ENETUNREACH"),
    ] {
        assert_eq!(
            through_router("linux", code, 5, 1000),
            (Outcome::Unreachable, Some(errno), 1),
            "{code}"
        );
    }
}

/// FreeBSD aborts a connect on an ICMP error only after 3 retransmissions and an earlier
/// error (`tcp_notify`). When the router answers often enough that happens (ENETUNREACH);
/// when its rate limit lets only the first SYN's error through, the connect times out and
/// reports that soft error, not ETIMEDOUT.
#[test]
fn a_timed_out_connect_reports_the_soft_icmp_error() {
    let (outcome, error, _) = through_router("freebsd", "net_unreachable", 1, 1000);
    assert_eq!(
        (outcome, error),
        (Outcome::Unreachable, Some("ENETUNREACH"))
    );
    let (outcome, error, syns) = through_router("freebsd", "net_unreachable", 1, 1_000_000);
    assert_eq!((outcome, error), (Outcome::TimedOut, Some("ENETUNREACH")));
    assert!(syns > 4);
    // No router at all: a plain ETIMEDOUT.
    let (o, _) = connect_once(
        json!({"stack": {"syn_retries": 2}}),
        json!({"latency_ms": 5}),
        json!({}),
    );
    assert_eq!((o.outcome, o.error), (Outcome::TimedOut, Some("ETIMEDOUT")));
}

/// A client 1 µs from the router (as on a veth pair, where the router's answer is processed
/// inside the sending call), `tcp_syn_retries` 2, in `mode`.
fn connect_mode(mode: &str) -> (OutcomeRecord, Counters) {
    connect_once(
        json!({"stack": {"syn_retries": 2}}),
        json!({"latency_ms": 0.001, "icmp_unreachable": true}),
        json!({"connect_mode": mode}),
    )
}

/// As measured on 6.18: the ICMP answering the first SYN arrives while connect() holds the
/// socket (LockDroppedIcmps) and is only a soft error. A blocking connect() sleeps on and fails
/// on the ICMP answering the retransmission 1 s later; a non-blocking one sees the soft error
/// through SO_ERROR at once and closes the socket (no AttemptFails: tcp_close, not tcp_done).
#[test]
fn blocking_connect_fails_on_the_second_icmp_nonblocking_on_the_first() {
    let (o, c) = connect_mode("blocking");
    assert_eq!(
        (o.outcome, o.error, o.syns_sent),
        (Outcome::Unreachable, Some("EHOSTUNREACH"), 2)
    );
    let t = o.ended.since(o.started).as_ms_f64();
    assert!((1000.0..1033.0).contains(&t), "{t} ms");
    assert_eq!(
        (
            c.lock_dropped_icmps,
            c.attempt_fails,
            c.timeouts,
            c.syn_retrans
        ),
        (1, 1, 1, 1)
    );
    let (o, c) = connect_mode("nonblocking");
    assert_eq!(
        (o.outcome, o.error, o.syns_sent),
        (Outcome::Unreachable, Some("EHOSTUNREACH"), 1)
    );
    assert!(o.ended.since(o.started).as_ms_f64() < 0.01);
    assert_eq!(
        (c.lock_dropped_icmps, c.attempt_fails, c.syn_retrans),
        (1, 0, 0)
    );
}
