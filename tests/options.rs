//! TCP options per profile, driven through whole simulations: what each stack offers and
//! agrees to, and what a SYN cookie keeps in the Linux and FreeBSD formats
//! (`crate::tcp::options`, `crate::tcp::cookie`).

mod common;

use common::*;
use serde_json::{Value, json};
use synsim::net::HostId;
use synsim::scenario;
use synsim::sim::Fate;
use synsim::tcp::listener::OptionStats;
use synsim::wire::{Flags, OptionLayout, TcpOptions};

/// One client host (`client_stack`, profile `client_profile`) connecting 20 times to a server
/// (`server_profile`, `server_stack`); 10 ms latency.
fn world(
    client_profile: &str,
    client_stack: Value,
    server_profile: &str,
    server_stack: Value,
) -> Value {
    json!({
        "duration_ms": 5000,
        "hosts": [
            {"name": "server", "addrs": ["10.8.0.1"], "profile": server_profile, "stack": server_stack},
            {"name": "client", "addrs": ["10.8.0.2"], "profile": client_profile, "stack": client_stack}
        ],
        "network": {"latency_ms": 10},
        "listeners": [{"host": "server", "port": 80, "backlog": 128}],
        "clients": [{"name": "c", "host": "client", "target": "10.8.0.1:80",
                     "arrivals": {"kind": "constant", "rate_per_s": 10, "start_ms": 0, "stop_ms": 1900},
                     "send": "HelloWorld"}]
    })
}

/// The options of the first SYN and SYN-ACK sent, and the listener's option counts.
fn run(v: &Value) -> (TcpOptions, TcpOptions, OptionStats) {
    let scn = scenario::parse(&v.to_string(), "t.json", "t").unwrap_or_else(|e| panic!("{e}"));
    let (log, _, sim) = run_logged(&scn);
    let first = |f: Flags| {
        log.packets
            .iter()
            .find(|p| p.fate == Fate::Send && p.pkt.seg.flags == f)
            .map(|p| p.pkt.seg.opts)
            .expect("sent")
    };
    let stats = sim.stack(HostId(0)).listener_stats()[0].options.clone();
    (first(Flags::SYN), first(Flags::SYN_ACK), stats)
}

#[test]
fn linux_to_linux_agrees_on_everything() {
    let (syn, synack, st) = run(&world("linux", json!({}), "linux", json!({})));
    assert_eq!(
        (
            syn.mss,
            syn.wscale,
            syn.sack_permitted,
            syn.timestamps.is_some()
        ),
        (Some(1460), Some(10), true, true)
    );
    assert_eq!(syn.layout, OptionLayout::Linux);
    assert_eq!(
        synack.timestamps.map(|t| t.1),
        syn.timestamps.map(|t| t.0),
        "TSecr echoes"
    );
    assert_eq!(
        (st.connections, st.wscale, st.sack, st.timestamps),
        (20, 20, 20, 20)
    );
    assert_eq!(st.cookie.connections, 0);
}

#[test]
fn each_sysctl_turns_its_option_off_on_both_sides() {
    for (knob, check) in [
        (
            "sack",
            (|o: &TcpOptions| o.sack_permitted) as fn(&TcpOptions) -> bool,
        ),
        ("window_scaling", |o| o.wscale.is_some()),
        ("timestamps", |o| o.timestamps.is_some()),
    ] {
        let (syn, synack, _) = run(&world("linux", json!({ knob: false }), "linux", json!({})));
        assert!(!check(&syn) && !check(&synack), "{knob}");
        // The listener's own sysctl: the SYN offers it, the SYN-ACK does not answer it.
        let (syn, synack, _) = run(&world("linux", json!({}), "linux", json!({ knob: false })));
        assert!(check(&syn) && !check(&synack), "{knob} off on the server");
    }
}

#[test]
fn rfc9293_offers_the_mss_only_and_ipv6_announces_20_bytes_less() {
    let (syn, synack, st) = run(&world("rfc9293", json!({}), "linux", json!({})));
    assert_eq!(
        syn,
        TcpOptions {
            mss: Some(1460),
            ..TcpOptions::NONE
        }
    );
    assert_eq!(
        (synack.mss, synack.wscale, synack.timestamps),
        (Some(1460), None, None)
    );
    assert_eq!(st.wscale + st.sack + st.timestamps, 0);
    let mut v = world("linux", json!({"mtu": 1400}), "freebsd", json!({}));
    v["hosts"][0]["addrs"] = json!(["fd00::1"]);
    v["hosts"][1]["addrs"] = json!(["fd00::2"]);
    v["clients"][0]["target"] = json!("[fd00::1]:80");
    let (syn, synack, _) = run(&v);
    assert_eq!((syn.mss, synack.mss), (Some(1340), Some(1440)));
    assert_eq!(
        (synack.layout, synack.wscale),
        (OptionLayout::Freebsd, Some(6))
    );
}

/// Every connection by cookie (`syncookies: always`); the client's stack has `client_stack`.
fn cookies(client_stack: Value, server_profile: &str) -> OptionStats {
    let v = world(
        "linux",
        client_stack,
        server_profile,
        json!({"syncookies": "always"}),
    );
    let (_, _, st) = run(&v);
    assert_eq!(st.cookie.connections, 20, "{st:?}");
    st
}

#[test]
fn linux_cookies_keep_wscale_and_sack_only_with_timestamps() {
    let st = cookies(json!({"mtu": 1492}), "linux");
    assert_eq!(
        (st.wscale, st.sack, st.cookie.no_wscale, st.cookie.no_sack),
        (20, 20, 0, 0)
    );
    assert_eq!(
        st.cookie.mss[0].mss, 1440,
        "1452 rounds down to msstab's 1440"
    );
    assert_eq!(st.cookie.mss_lowered, 20);
    let st = cookies(json!({"timestamps": false}), "linux");
    assert_eq!((st.wscale, st.sack, st.timestamps), (0, 0, 0));
    assert_eq!(
        (
            st.cookie.no_wscale,
            st.cookie.no_sack,
            st.cookie.mss_lowered
        ),
        (20, 20, 0)
    );
}

#[test]
fn freebsd_cookies_keep_wscale_and_sack_without_timestamps_but_round_them() {
    // FreeBSD's cookie holds MSS, window scale and SACK in the ISN: no timestamps needed, but
    // Linux's shift 10 comes back as tcp_sc_wstab's 8; MSS 1452 is in tcp_sc_msstab (PPPoE),
    // where Linux's msstab rounds it to 1440.
    let st = cookies(json!({"timestamps": false, "mtu": 1492}), "freebsd");
    assert_eq!((st.wscale, st.sack, st.timestamps), (20, 20, 0));
    assert_eq!(st.cookie.no_sack, 0);
    assert_eq!(st.cookie.no_wscale, 20, "shift rounded down from 10 to 8");
    assert_eq!((st.cookie.mss[0].mss, st.cookie.mss_lowered), (1452, 0));
    let st = cookies(json!({"window_scaling": false, "mtu": 1440}), "freebsd");
    assert_eq!(
        (st.wscale, st.cookie.no_wscale, st.cookie.mss_lowered),
        (0, 0, 0)
    );
    assert_eq!(
        st.cookie.mss[0].mss, 1400,
        "MSS 1400 is a FreeBSD table value"
    );
}
