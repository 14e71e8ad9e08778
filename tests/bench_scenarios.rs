//! The benchmark scenarios do what their descriptions say. They are not in the determinism
//! test's `SHIPPED` list: that test runs each scenario twice with the full trace, and the
//! benchmark traces are hundreds of megabytes (bench_handshakes: about 7.8 M events). Here
//! bench_flood runs once without output and its timing rules are checked on every entry;
//! bench_handshakes is checked on its first two simulated seconds.

mod common;

use std::collections::HashMap;

use synsim::net::Network;
use synsim::report::Recorder;
use synsim::sim::Outcome;
use synsim::sim::{ConnRef, Fate, Observer, OutcomeRecord, Simulation};
use synsim::tcp::{Reason, Role, TcpState};
use synsim::time::{SimDuration, SimTime};
use synsim::wire::Packet;

/// Half-open lifetimes on the server and the outcomes of legitimate attempts.
#[derive(Default)]
struct Check {
    rec: Recorder,
    opened: HashMap<u64, SimTime>,
    half_open_lifetimes: Vec<SimDuration>,
    outcomes: Vec<OutcomeRecord>,
}

impl Observer for Check {
    fn packet(&mut self, t: SimTime, f: Fate, p: &Packet, n: &Network) {
        self.rec.packet(t, f, p, n);
    }
    fn state(&mut self, t: SimTime, cref: &ConnRef, from: TcpState, to: TcpState, why: Reason) {
        let (conn, role) = (cref.serial, cref.role);
        self.rec.state(t, cref, from, to, why);
        if role != Role::Server {
            return;
        }
        if to == TcpState::SynReceived {
            self.opened.insert(conn, t);
        }
        if why == Reason::SynackRetriesExhausted {
            let at = self.opened.remove(&conn).expect("entry was opened");
            self.half_open_lifetimes.push(t.since(at));
        }
    }
    fn outcome(&mut self, t: SimTime, o: &OutcomeRecord) {
        self.rec.outcome(t, o);
        self.outcomes.push(*o);
    }
}

#[test]
fn bench_flood_follows_its_description() {
    let scn = common::load("bench_flood");
    let mut sim = Simulation::new(&scn);
    let mut obs = Check {
        rec: Recorder::new(&scn),
        ..Check::default()
    };
    let stats = sim.run(&mut obs).expect("within budget");
    assert_eq!(stats.past_pushes, 0);
    assert_eq!(stats.illegal_transitions, 0);
    let (server, li) = sim.listener_refs()[0];
    let ls = &sim.stack(server).listener_stats()[li];
    assert_eq!(ls.syn_queue_capacity, 1024);
    assert_eq!(ls.syn_queue_peak, 1024);
    assert_eq!(sim.stack(server).counters.syncookies_sent, 0);
    // Every half-open entry nobody answers expires 15 s after the SYN (SYN-ACKs at 0, 1, 3, 7 s).
    assert!(obs.half_open_lifetimes.len() > 3000);
    assert!(
        obs.half_open_lifetimes
            .iter()
            .all(|&d| d == SimDuration::from_secs(15))
    );
    // Clients give up 15 s after the first SYN, after 4 SYNs (0, 1, 3, 7 s).
    let timed_out: Vec<_> = obs
        .outcomes
        .iter()
        .filter(|o| o.outcome == Outcome::TimedOut)
        .collect();
    assert!(timed_out.len() > 4000);
    assert!(
        timed_out
            .iter()
            .all(|o| o.syns_sent == 4 && o.ended.since(o.started) == SimDuration::from_secs(15))
    );
    let drops = obs.rec.drops();
    assert!(drops["syn_queue_full"] > 500_000, "{drops:?}");
}

#[test]
fn bench_handshakes_completes_every_handshake() {
    let mut scn = common::load("bench_handshakes");
    scn.duration = SimDuration::from_secs(2);
    let (log, stats, _) = common::run_logged(&scn);
    let est = log.rec.count(Outcome::Established);
    assert!(est > 19_000, "{est}");
    assert_eq!(est + stats.unfinished_attempts, stats.attempts_started);
    assert!(
        log.outcomes
            .iter()
            .all(|o| o.outcome == Outcome::Established
                && o.connected.unwrap().since(o.started) == SimDuration::from_ms(2))
    );
}
