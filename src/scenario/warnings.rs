//! Likely mistakes in a valid scenario: settings that run, but answer a different question
//! than the one the author probably asked. The CLI prints them on stderr and `summary.json`
//! lists them under `warnings`; they never stop a run.

use std::collections::BTreeSet;
use std::net::IpAddr;

use crate::spec::{ListenerSpec, Scenario};
use crate::tcp::SynCookies;

/// Every warning for `scn`, in a fixed order (listeners, then clients, then the flood).
pub fn warnings(scn: &Scenario) -> Vec<String> {
    let mut v = Vec::new();
    somaxconn_caps(scn, &mut v);
    unserved_targets(scn, &mut v);
    single_proven_source(scn, &mut v);
    v
}

/// `listen()` caps the backlog at `net.core.somaxconn` (Linux `__sys_listen`): a larger
/// backlog in the file is not the one the queues get.
fn somaxconn_caps(scn: &Scenario, v: &mut Vec<String>) {
    for l in &scn.listeners {
        let h = &scn.hosts[l.host.0 as usize];
        let cap = u64::from(h.stack.somaxconn);
        if l.backlog > cap {
            v.push(format!(
                "listener {}:{}: backlog {} is capped to somaxconn = {cap} (set hosts[{}].stack.somaxconn to raise it)",
                h.name, l.port, l.backlog, l.host.0
            ));
        }
    }
}

/// The listener serving `ip:port`, if any.
fn served_by(scn: &Scenario, ip: IpAddr, port: u16) -> Option<&ListenerSpec> {
    scn.listeners
        .iter()
        .find(|l| l.port == port && scn.hosts[l.host.0 as usize].addrs.contains(&ip))
}

fn unserved_targets(scn: &Scenario, v: &mut Vec<String>) {
    for c in &scn.clients {
        if served_by(scn, c.target.ip(), c.target.port()).is_none() {
            v.push(format!(
                "client {:?}: no listener serves its target {}; every attempt will be refused or time out",
                c.name, c.target
            ));
        }
    }
}

/// Linux `tcp_conn_request`, with cookies off, keeps the last quarter of the SYN queue for
/// peers with a cached RTT (`tcp_peer_is_proven`). Legitimate clients sending from one
/// address are proven once their first connection closed cleanly, and pass a flood that stops
/// every other new source: the result is optimistic for a real population of clients.
fn single_proven_source(scn: &Scenario, v: &mut Vec<String>) {
    if scn.attackers.is_empty() || scn.clients.is_empty() {
        return;
    }
    let pooled = scn
        .clients
        .iter()
        .any(|c| c.pool.is_some_and(|p| p.count > 1));
    let sources: BTreeSet<IpAddr> = scn.clients.iter().map(|c| c.addr).collect();
    if pooled || sources.len() != 1 {
        return;
    }
    // The rule bites only where the SYN queue can hold more than three quarters of
    // max_syn_backlog (`tcp_conn_request`: fewer than max_syn_backlog/4 slots left).
    let quarter = scn.clients.iter().any(|c| {
        served_by(scn, c.target.ip(), c.target.port()).is_some_and(|l| {
            let st = &scn.hosts[l.host.0 as usize].stack;
            let backlog = l.backlog.min(u64::from(st.somaxconn));
            let msb = u64::from(st.max_syn_backlog);
            st.quarter_rule
                && st.syncookies == SynCookies::Off
                && st.syncache.is_none()
                && st.syn_queue_rule.capacity(backlog) > msb - (msb >> 2)
        })
    });
    let flooded = scn
        .attackers
        .iter()
        .any(|a| scn.clients.iter().any(|c| c.target == a.target));
    if quarter && flooded {
        let ip = sources.first().expect("one source");
        v.push(format!(
            "every legitimate client sends from {ip}: after its first cleanly closed connection that address is a proven peer and passes the quarter rule (cookies off), which drops SYNs from unproven sources once the SYN queue is three-quarters full; the flood's effect on a population of clients is understated; give clients an address pool (clients[].addrs)"
        ));
    }
}
