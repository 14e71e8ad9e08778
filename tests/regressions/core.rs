//! Regressions: the simulation core (stack, network, workloads, counters).

use synsim::scenario;
use synsim::sim::{NoObserver, Simulation};
use synsim::tcp::TcpState;

fn load(name: &str) -> synsim::scenario::Scenario {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    scenario::load(&p).unwrap()
}

/// A connection made by a valid cookie ACK counted PassiveOpens on the host only: in
/// syn_flood_cookies the host said 782 and its only listener 389. Every listener-scoped counter
/// now goes through one helper that bumps both.
#[test]
fn cookie_connections_count_as_passive_opens_on_the_listener() {
    let scn = load("syn_flood_cookies.json");
    let mut sim = Simulation::new(&scn);
    sim.run(&mut NoObserver).unwrap();
    let (h, li) = sim.listener_refs()[0];
    let host = &sim.stack(h).counters;
    let listener = &sim.stack(h).listener_stats()[li].counters;
    assert!(host.syncookies_recv > 300, "{host:?}");
    assert_eq!(host.passive_opens, 782);
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
