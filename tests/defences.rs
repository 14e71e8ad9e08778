//! The defence scenarios (scenarios/defences/): every one faces the same flood; each test pins
//! what its README entry claims.

mod common;

use common::*;
use synsim::net::HostId;
use synsim::scenario;
use synsim::sim::Outcome;
use synsim::sim::RunStats;

fn run(name: &str) -> (Log, RunStats, synsim::sim::Simulation) {
    let path = scenario_path(&format!("defences/{name}"));
    let scn = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    run_logged(&scn)
}

/// (established, finished) among attempts started during the flood (5..25 s).
fn during_flood(log: &Log) -> (usize, usize) {
    let v: Vec<_> = log
        .outcomes
        .iter()
        .filter(|o| secs(o.started) >= 6.0 && secs(o.started) < 25.0)
        .collect();
    (
        v.iter()
            .filter(|o| o.outcome == Outcome::Established)
            .count(),
        v.len(),
    )
}

fn rate(log: &Log) -> f64 {
    let (ok, n) = during_flood(log);
    ok as f64 / n as f64
}

#[test]
fn no_defence_starves_legitimate_clients() {
    let (log, _, sim) = run("none");
    assert!(rate(&log) < 0.15, "{}", rate(&log));
    let st = &sim.stack(HostId(1)).listener_stats()[0];
    assert_eq!((st.syn_queue_peak, st.syn_queue_capacity), (128, 128));
}

#[test]
fn partial_defences_help_but_do_not_suffice() {
    let none = rate(&run("none").0);
    for name in [
        "larger_backlog",
        "reduced_synrecv_timer",
        "profile_linux_nocookies",
    ] {
        let r = rate(&run(name).0);
        assert!(r > none && r < 0.8, "{name}: {r} (none: {none})");
    }
}

#[test]
fn full_defences_serve_every_legitimate_client() {
    for name in [
        "recycle_oldest",
        "syn_cache",
        "syncookies_on_overflow",
        "syncookies_always",
        "hybrid_cache_then_cookies",
        "profile_linux",
        "profile_freebsd",
    ] {
        let (log, stats, _) = run(name);
        let (ok, n) = during_flood(&log);
        assert_eq!(ok, n, "{name}");
        assert_eq!(
            log.rec.count(Outcome::Established),
            stats.attempts_started,
            "{name}"
        );
    }
}

#[test]
fn each_defence_leaves_its_own_fingerprint() {
    let c = |name: &str| {
        let (_, _, sim) = run(name);
        (
            sim.stack(HostId(1)).counters.clone(),
            sim.stack(HostId(1)).listener_stats()[0].clone(),
        )
    };
    let (k, st) = c("recycle_oldest");
    assert!(k.syn_queue_recycled > 10_000 && k.req_q_full_drop == 0 && st.syn_queue_peak == 128);
    let (k, st) = c("syn_cache");
    assert!(
        k.syncache_bucket_overflow > 1000 && k.syncookies_sent == 0 && st.syn_queue_peak > 15_000
    );
    let (k, st) = c("syncookies_always");
    assert!(k.syncookies_sent > 10_000 && st.syn_queue_peak == 0 && k.syn_retrans == 0);
    let (k, st) = c("syncookies_on_overflow");
    assert!(k.syncookies_sent > 10_000 && st.syn_queue_peak == 128);
    let (k, _) = c("hybrid_cache_then_cookies");
    assert!(k.syncache_bucket_overflow > 0 && k.syncookies_sent > 0);
    let (k, _) = c("larger_backlog");
    assert!(k.req_q_full_drop > 0);
    let (k, _) = c("reduced_synrecv_timer");
    assert!(k.req_q_full_drop > 0);
}
