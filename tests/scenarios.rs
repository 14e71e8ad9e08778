//! One test per shipped scenario, asserting the outcome its README entry documents.

mod common;

use common::*;
use synsim::net::HostId;
use synsim::sim::Fate;
use synsim::sim::Outcome;
use synsim::tcp::{Reason, TcpState, wheel};
use synsim::time::{NS_PER_MS, NS_PER_S, SimTime};
use synsim::wire::Flags;

fn sent<'a>(log: &'a Log, src_prefix: &str, flags: Flags) -> Vec<&'a PacketEv> {
    log.packets
        .iter()
        .filter(|p| {
            p.fate == Fate::Send
                && p.src.starts_with(src_prefix)
                && p.pkt.seg.flags == flags
                && p.pkt.icmp.is_none()
        })
        .collect()
}

#[test]
fn handshake_exchanges_helloworld_with_real_numbers() {
    let scn = load("handshake");
    let (log, stats, _) = run_logged(&scn);
    assert_eq!(log.outcomes.len(), 1);
    let o = log.outcomes[0];
    assert_eq!(o.outcome, Outcome::Established);
    // 10 ms each way: SYN at 100 ms, SYN-ACK back at 120 ms.
    assert_eq!(
        o.connected.unwrap().as_ns() - o.started.as_ns(),
        20 * NS_PER_MS
    );
    assert_eq!(stats.unfinished_attempts, 0);

    let syn = sent(&log, "10.0.0.2", Flags::SYN)[0];
    let port: u16 = syn.src.rsplit(':').next().unwrap().parse().unwrap();
    assert!((32768..=60999).contains(&port), "ephemeral port {port}");
    assert_eq!(syn.dst, "10.0.0.1:7000");
    let synack = sent(&log, "10.0.0.1", Flags::SYN_ACK)[0];
    assert_eq!(
        synack.pkt.seg.ack,
        syn.pkt.seg.seq.plus(1),
        "SYN-ACK acknowledges ISN+1"
    );
    let ack = sent(&log, "10.0.0.2", Flags::ACK)[0];
    assert_eq!(ack.pkt.seg.seq, syn.pkt.seg.seq.plus(1));
    assert_eq!(ack.pkt.seg.ack, synack.pkt.seg.seq.plus(1));

    let data: Vec<&PacketEv> = log
        .packets
        .iter()
        .filter(|p| p.fate == Fate::Deliver && !p.pkt.seg.payload.is_empty())
        .collect();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0].pkt.seg.payload.as_slice(), b"HelloWorld");
    assert!(data[0].dst.ends_with(":7000"));
    assert_eq!(data[1].pkt.seg.payload.as_slice(), b"HELLOWORLD");

    // Client closes first and ends in TIME-WAIT (60 s, longer than the run); the server
    // passes through CLOSE-WAIT and LAST-ACK to CLOSED.
    let client: Vec<TcpState> = log
        .states
        .iter()
        .filter(|s| s.host == HostId(0))
        .map(|s| s.to)
        .collect();
    assert_eq!(
        client,
        [
            TcpState::SynSent,
            TcpState::Established,
            TcpState::FinWait1,
            TcpState::FinWait2,
            TcpState::TimeWait
        ]
    );
    let server: Vec<TcpState> = log
        .states
        .iter()
        .filter(|s| s.host == HostId(1))
        .map(|s| s.to)
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

#[test]
fn dead_host_client_gives_up_at_131_s_after_11_syns() {
    let scn = load("dead_host");
    let (log, _, sim) = run_logged(&scn);
    let syn_times: Vec<u64> = sent(&log, "10.0.2.2", Flags::SYN)
        .iter()
        .map(|p| p.t.as_ns())
        .collect();
    // The nominal schedule, each firing later by up to its timer-wheel bucket (HZ=250).
    let nominal = [0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67, 131].map(|s| s * 1000);
    let windows = wheel::schedule(250, &nominal);
    assert_eq!(syn_times.len(), 11);
    assert_eq!(syn_times[0], 0);
    for (k, &t) in syn_times.iter().enumerate().skip(1) {
        let (lo, hi, _) = windows[k];
        assert!(t > lo.as_ns() && t <= hi.as_ns(), "SYN {k} at {t} ns");
    }
    assert_eq!(log.outcomes.len(), 1);
    assert_eq!(log.outcomes[0].outcome, Outcome::TimedOut);
    let end = log
        .states
        .iter()
        .find(|s| s.to == TcpState::Closed)
        .unwrap();
    let (lo, hi, _) = windows[11];
    assert!(end.t.as_ns() > lo.as_ns() && end.t.as_ns() <= hi.as_ns());
    assert!(end.t > SimTime(131 * NS_PER_S));
    assert_eq!(end.reason, Reason::SynRetriesExhausted);
    let c = &sim.stack(HostId(0)).counters;
    // TCPTimeouts: every firing of the retransmission timer, the one that gives up included
    // (tcp_retransmit_timer); OutSegs: the first SYN only (retransmissions are RetransSegs).
    assert_eq!(
        (
            c.syn_retrans,
            c.abort_on_timeout,
            c.attempt_fails,
            c.timeouts,
            c.out_segs,
            c.retrans_segs
        ),
        (10, 1, 1, 11, 1, 10)
    );
    assert!(
        log.packets
            .iter()
            .filter(|p| p.fate == Fate::NetDrop(synsim::net::NetDrop::HostDown))
            .count()
            == 11
    );
}

#[test]
fn refused_connects_fail_after_one_round_trip() {
    let scn = load("refused");
    let (log, _, sim) = run_logged(&scn);
    assert_eq!(log.outcomes.len(), 5);
    for o in &log.outcomes {
        assert_eq!(o.outcome, Outcome::Refused);
        assert_eq!(o.ended.as_ns() - o.started.as_ns(), 30 * NS_PER_MS);
    }
    let rsts = sent(&log, "10.0.3.1", Flags::RST_ACK);
    let syns = sent(&log, "10.0.3.2", Flags::SYN);
    assert_eq!(rsts.len(), 5);
    for (r, s) in rsts.iter().zip(&syns) {
        assert_eq!(r.pkt.seg.seq.0, 0);
        assert_eq!(
            r.pkt.seg.ack,
            s.pkt.seg.seq.plus(1),
            "RST,ACK acknowledges SEG.SEQ+SEG.LEN"
        );
    }
    assert_eq!(sim.stack(HostId(1)).counters.out_rsts, 5);
}

#[test]
fn lossy_link_recovers_every_exchange_by_retransmission() {
    let scn = load("lossy_link");
    let (log, stats, sim) = run_logged(&scn);
    assert_eq!(log.rec.count(Outcome::Established), 40);
    assert_eq!(stats.unfinished_attempts, 0);
    // The scripted rule dropped the first SYN-ACK: the first attempt needed a retransmission.
    assert!(
        log.packets
            .iter()
            .any(|p| p.fate == Fate::NetDrop(synsim::net::NetDrop::Scripted)
                && p.pkt.seg.flags == Flags::SYN_ACK)
    );
    let first = log.outcomes.iter().find(|o| o.attempt == 0).unwrap();
    assert!(first.connected.unwrap().since(first.started).as_ns() >= NS_PER_S);
    assert!(log.rec.drops()["burst_loss"] > 10);
    assert!(
        sim.stack(HostId(0)).counters.syn_retrans + sim.stack(HostId(1)).counters.syn_retrans > 5
    );
    // Some attempts were quick (no loss), some took at least one RTO.
    let lat = &log.rec.connect_latency();
    assert!(lat.min_ns().unwrap() < 60 * NS_PER_MS && lat.max_ns().unwrap() > NS_PER_S);
}

/// Outcomes of attempts started in [from, to) seconds.
fn success_between(log: &Log, from: f64, to: f64) -> (usize, usize) {
    let v: Vec<_> = log
        .outcomes
        .iter()
        .filter(|o| secs(o.started) >= from && secs(o.started) < to)
        .collect();
    (
        v.iter()
            .filter(|o| o.outcome == Outcome::Established)
            .count(),
        v.len(),
    )
}

#[test]
fn syn_flood_fills_the_queue_and_starves_clients() {
    let scn = load("syn_flood");
    let (log, stats, sim) = run_logged(&scn);
    let st = &sim.stack(HostId(1)).listener_stats()[0];
    assert_eq!(st.syn_queue_capacity, 129);
    assert_eq!(st.syn_queue_peak, 129, "SYN queue reaches backlog+1");
    let (ok, n) = success_between(&log, 11.0, 29.0);
    assert!(n > 300);
    assert!(
        (ok as f64) < 0.35 * n as f64,
        "during the flood {ok}/{n} succeeded"
    );
    let (ok, n) = success_between(&log, 0.0, 10.0);
    assert_eq!(ok, n, "before the flood everyone connects");
    let (ok, n) = success_between(&log, 38.0, 40.0);
    assert_eq!(ok, n, "after the flood everyone connects");
    let c = &sim.stack(HostId(1)).counters;
    assert!(c.req_q_full_drop > 10_000);
    assert_eq!(c.listen_drops, c.req_q_full_drop);
    assert_eq!(c.syncookies_sent, 0);
    assert_eq!(stats.unfinished_attempts, 0);
}

#[test]
fn syn_flood_with_cookies_serves_everyone_on_the_first_syn() {
    let scn = load("syn_flood_cookies");
    let (log, _, sim) = run_logged(&scn);
    assert!(!log.outcomes.is_empty());
    for o in &log.outcomes {
        assert_eq!(o.outcome, Outcome::Established);
        assert_eq!(o.syns_sent, 1);
        assert_eq!(
            o.connected.unwrap().since(o.started).as_ns(),
            20 * NS_PER_MS
        );
    }
    let c = &sim.stack(HostId(1)).counters;
    assert!(c.syncookies_sent > 10_000);
    assert!(c.syncookies_recv > 100);
    assert_eq!(c.req_q_full_drop, 0);
    assert_eq!(sim.stack(HostId(1)).listener_stats()[0].syn_queue_peak, 129);
    // A cookie SYN-ACK is never retransmitted: every SYN-ACK to a legitimate client is unique.
    let mut seen = std::collections::BTreeSet::new();
    for p in sent(&log, "10.0.4.1", Flags::SYN_ACK)
        .iter()
        .filter(|p| p.dst.starts_with("10.0.4.2"))
    {
        assert!(
            seen.insert((p.dst.clone(), p.pkt.seg.seq.0)),
            "SYN-ACK to {} sent twice",
            p.dst
        );
    }
}

#[test]
fn crash_restart_discovers_the_half_open_connection_by_rst() {
    let scn = load("crash_restart");
    let (log, stats, sim) = run_logged(&scn);
    let chatty: Vec<_> = log.outcomes.iter().filter(|o| o.client == 0).collect();
    assert_eq!(chatty.len(), 1);
    assert_eq!(chatty[0].outcome, Outcome::Reset);
    assert!(secs(chatty[0].ended) > 6.0, "reset only after the restart");
    // The restarted server answered the stale data with RST.
    assert!(sim.stack(HostId(1)).counters.out_rsts >= 1);
    let steady: Vec<_> = log.outcomes.iter().filter(|o| o.client == 1).collect();
    assert_eq!(steady.len(), 11);
    assert!(steady.iter().all(|o| o.outcome == Outcome::Established));
    // Attempts during the outage (2 s..6 s) connect only after the restart.
    for o in steady
        .iter()
        .filter(|o| secs(o.started) > 2.0 && secs(o.started) < 6.0)
    {
        assert!(secs(o.connected.unwrap()) >= 6.0);
    }
    assert_eq!(stats.unfinished_attempts, 0);
}
