//! Regressions: the simulation core (stack, network, workloads, counters).

use synsim::scenario;
use synsim::sim::{NoObserver, Simulation};
use synsim::tcp::TcpState;

fn load(name: &str) -> synsim::spec::Scenario {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    scenario::load(&p).unwrap()
}

/// A connection made by a valid cookie ACK counted PassiveOpens on the host only: in
/// syn_flood_cookies the host said 782 and its only listener 389. Every listener-scoped counter
/// now goes through one helper that bumps both. (The scenario has since gained a second client
/// host, the PPPoE clients: 969 connections.)
#[test]
fn cookie_connections_count_as_passive_opens_on_the_listener() {
    let scn = load("syn_flood_cookies.json");
    let mut sim = Simulation::new(&scn);
    sim.run(&mut NoObserver).unwrap();
    let (h, li) = sim.listener_refs()[0];
    let host = &sim.stack(h).counters;
    let listener = &sim.stack(h).listener_stats()[li].counters;
    assert!(host.syncookies_recv > 300, "{host:?}");
    assert_eq!(host.passive_opens, 969);
    assert_eq!(listener.passive_opens, host.passive_opens);
    assert_eq!(listener.syncookies_recv, host.syncookies_recv);
}

/// A host with `alive: false` still opened its listener: dead_host's timeline showed
/// `server_LISTEN` 1 for the whole run. A host that is down has no socket open; its listener's
/// capacities are still reported.
#[test]
fn a_dead_host_does_not_listen() {
    let scn = load("dead_host.json");
    let mut sim = Simulation::new(&scn);
    let (h, li) = sim.listener_refs()[0];
    assert!(!sim.stack(h).is_alive());
    assert_eq!(
        sim.stack(h)
            .count(synsim::tcp::Role::Server, TcpState::Listen),
        0
    );
    assert_eq!(sim.stack(h).listener_for_port(80), None);
    sim.run(&mut NoObserver).unwrap();
    assert_eq!(
        sim.stack(h)
            .count(synsim::tcp::Role::Server, TcpState::Listen),
        0
    );
    assert!(sim.stack(h).listener_stats()[li].syn_queue_capacity > 0);
}

fn dead_server_flood(rate: u32, ports: Option<(u16, u16)>) -> String {
    let stack = match ports {
        Some((lo, hi)) => format!(r#"{{"ephemeral_port_min": {lo}, "ephemeral_port_max": {hi}}}"#),
        None => "{}".into(),
    };
    format!(
        r#"{{"duration_ms": 10000,
        "hosts": [{{"name": "c", "addrs": ["10.0.0.1"], "stack": {stack}}},
                  {{"name": "s", "addrs": ["10.0.0.2"], "alive": false}}],
        "clients": [{{"name": "w", "host": "c", "target": "10.0.0.2:80",
                     "arrivals": {{"kind": "constant", "rate_per_s": {rate}}}}}]}}"#
    )
}

/// Every connect scanned the whole ephemeral range for a free port: 10 000 connects/s to a
/// dead host for 10 s (28 232 ports busy at once) took 18 s of wall time for 0.47 M events.
/// The choice is now a bitset search; exhaustion is an abort with its own reason.
#[test]
fn ephemeral_port_exhaustion_is_an_abort_with_a_reason() {
    let scn = scenario::parse(&dead_server_flood(10_000, None), "t.json", "t").unwrap();
    let mut rec = synsim::report::Recorder::new(&scn);
    let mut sim = Simulation::new(&scn);
    let stats = sim.run(&mut rec).unwrap();
    // Linux range 32768-60999: 28 232 ports, all busy with SYN-SENT attempts by 2.8 s.
    assert_eq!(stats.peak_live_connections, 28_232);
    let drops = rec.drops();
    let aborted = rec.count(synsim::sim::Outcome::Aborted);
    assert!(aborted > 70_000, "{aborted}");
    assert_eq!(drops.get("ephemeral_ports_exhausted"), Some(&aborted));
    // Packets reaching the dead host are dropped with a typed reason, not a free-form string.
    assert!(
        drops.get("host_down").is_some_and(|&n| n > 100_000),
        "{drops:?}"
    );
}

/// With a 4-port range, exactly 4 connects are in flight at once and the rest abort.
#[test]
fn a_tiny_port_range_is_exhausted_exactly() {
    let src = dead_server_flood(10, Some((40_000, 40_003)));
    let scn = scenario::parse(&src, "t.json", "t").unwrap();
    let mut rec = synsim::report::Recorder::new(&scn);
    let mut sim = Simulation::new(&scn);
    let stats = sim.run(&mut rec).unwrap();
    assert_eq!(stats.peak_live_connections, 4);
    assert_eq!(stats.attempts_started, 101);
    assert_eq!(stats.unfinished_attempts, 4);
    assert_eq!(rec.count(synsim::sim::Outcome::Aborted), 97);
    assert_eq!(rec.drops().get("ephemeral_ports_exhausted"), Some(&97));
}

/// An ICMP error suppressed by the router's rate limit used to vanish without a record. It is
/// now reported as sent and dropped (`icmp_rate_limited`), so packets still add up.
#[test]
fn rate_limited_icmp_errors_are_recorded() {
    let src = r#"{"duration_ms": 2000, "network": {"icmp_unreachable": true},
        "hosts": [{"name": "c", "addrs": ["10.0.0.1"]}],
        "clients": [{"name": "w", "host": "c", "target": "10.0.9.9:80",
                     "arrivals": {"kind": "constant", "rate_per_s": 100, "stop_ms": 1000}}]}"#;
    let scn = scenario::parse(src, "t.json", "t").unwrap();
    let mut rec = synsim::report::Recorder::new(&scn);
    let mut sim = Simulation::new(&scn);
    let stats = sim.run(&mut rec).unwrap();
    let drops = rec.drops();
    let limited = drops.get("icmp_rate_limited").copied().unwrap_or(0);
    // Burst 5, then one per second: 6 ICMP errors answer the 100 SYNs of the first second.
    assert_eq!(rec.count(synsim::sim::Outcome::Unreachable), 6, "{drops:?}");
    assert!(limited >= 94, "{drops:?}");
    assert_eq!(
        rec.packets_sent,
        rec.packets_delivered + rec.packets_dropped_network + stats.packets_in_flight
    );
}

/// A 25 000 SYN/s flood over a path with an enormous latency kept every SYN in flight: 4 GB of
/// RSS. The network now holds at most a fixed number of packets in flight and drops the rest
/// with `in_flight_limit`, as a router with a full queue does.
#[test]
fn packets_in_flight_are_bounded() {
    let src = r#"{"duration_ms": 10000, "network": {"latency_ms": 1e9},
        "hosts": [{"name": "a", "addrs": ["10.0.0.1"]}, {"name": "s", "addrs": ["10.0.0.2"]}],
        "listeners": [{"host": "s", "port": 80}],
        "attackers": [{"name": "x", "host": "a", "target": "10.0.0.2:80", "rate_per_s": 25000,
                       "arrivals": "constant", "spoof": {"kind": "none"}}]}"#;
    let scn = scenario::parse(src, "t.json", "t").unwrap();
    assert_eq!(synsim::sim::MAX_PACKETS_IN_FLIGHT, 1_000_000);
    let mut rec = synsim::report::Recorder::new(&scn);
    let mut sim = Simulation::new(&scn);
    sim.set_max_in_flight(50_000);
    let stats = sim.run(&mut rec).unwrap();
    assert_eq!(stats.peak_packets_in_flight, 50_000);
    assert_eq!(stats.packets_in_flight, 50_000);
    // About 250 000 SYNs sent, 50 000 of them still on the path, the rest dropped by the limit.
    assert!(rec.packets_sent > 250_000, "{}", rec.packets_sent);
    assert_eq!(
        rec.drops().get("in_flight_limit"),
        Some(&(rec.packets_sent - 50_000))
    );
    assert_eq!(
        rec.packets_sent,
        rec.packets_delivered + rec.packets_dropped_network + stats.packets_in_flight
    );
}

/// Records state changes with their connection identity, and outcomes.
#[derive(Default)]
struct Identity {
    states: Vec<(synsim::sim::ConnRef, TcpState)>,
    syns: Vec<synsim::wire::Endpoint>,
    outcomes: Vec<synsim::sim::OutcomeRecord>,
}

impl synsim::sim::Observer for Identity {
    fn packet(
        &mut self,
        _t: synsim::time::SimTime,
        fate: synsim::sim::Fate,
        pkt: &synsim::wire::Packet,
        _net: &synsim::net::Network,
    ) {
        if fate == synsim::sim::Fate::Send && pkt.seg.flags == synsim::wire::Flags::SYN {
            self.syns.push(pkt.seg.src);
        }
    }
    fn state(
        &mut self,
        _t: synsim::time::SimTime,
        conn: &synsim::sim::ConnRef,
        _from: TcpState,
        to: TcpState,
        _why: synsim::tcp::Reason,
    ) {
        self.states.push((*conn, to));
    }
    fn outcome(&mut self, _t: synsim::time::SimTime, o: &synsim::sim::OutcomeRecord) {
        self.outcomes.push(*o);
    }
}

/// Observers were told a connection's host, serial and role only, so the ladder had to guess
/// which connection a packet belonged to from the order of callbacks. State changes now carry
/// the 4-tuple, and an outcome names its connection: both sides of the handshake are found by
/// tuple, and the attempt's connection is the one that sent the client's SYN.
#[test]
fn state_changes_and_outcomes_carry_the_connection() {
    let scn = load("handshake.json");
    let mut obs = Identity::default();
    Simulation::new(&scn).run(&mut obs).unwrap();
    let [o] = obs.outcomes[..] else {
        panic!("one attempt: {:?}", obs.outcomes)
    };
    let conn = o.conn.expect("the attempt had a connection");
    assert_eq!(
        obs.syns,
        [conn.local],
        "the client's only SYN came from its connection"
    );
    let client: Vec<TcpState> = obs
        .states
        .iter()
        .filter(|(c, _)| *c == conn)
        .map(|&(_, s)| s)
        .collect();
    assert_eq!(client.first(), Some(&TcpState::SynSent));
    assert_eq!(client.last(), Some(&TcpState::TimeWait));
    let server: Vec<TcpState> = obs
        .states
        .iter()
        .filter(|(c, _)| c.local == conn.remote && c.remote == conn.local)
        .map(|&(_, s)| s)
        .collect();
    assert_eq!(
        server,
        [
            TcpState::SynReceived,
            TcpState::Established,
            TcpState::CloseWait,
            TcpState::LastAck,
            TcpState::Closed
        ]
    );
}

/// `expect_reply: false` used to end the attempt at whatever segment arrived after the write.
/// The client now writes and closes, as `write(); close();` would: established once written.
#[test]
fn a_client_that_expects_no_reply_is_established_once_it_has_written() {
    let src = r#"{"duration_ms": 2000,
        "hosts": [{"name": "c", "addrs": ["10.0.0.1"]}, {"name": "s", "addrs": ["10.0.0.2"]}],
        "network": {"latency_ms": 10},
        "listeners": [{"host": "s", "port": 80, "app": "discard"}],
        "clients": [{"name": "w", "host": "c", "target": "10.0.0.2:80",
                     "arrivals": {"kind": "times", "times_ms": [0]},
                     "send": "Hi", "expect_reply": false}]}"#;
    let scn = scenario::parse(src, "t.json", "t").unwrap();
    let mut obs = Identity::default();
    Simulation::new(&scn).run(&mut obs).unwrap();
    let [o] = obs.outcomes[..] else {
        panic!("one attempt: {:?}", obs.outcomes)
    };
    assert_eq!(o.outcome, synsim::sim::Outcome::Established);
    let ms = synsim::time::SimTime::from_ms;
    assert_eq!((o.connected, o.ended), (Some(ms(20)), ms(20)));
    // The client closed after its write: it went through FIN-WAIT-1 on its own.
    let conn = o.conn.unwrap();
    assert!(obs.states.contains(&(conn, TcpState::FinWait1)));
}
