//! Unit tests per TCP state (RFC 9293 §3.10.7), driving one sans-IO `Stack` with hand-made
//! segments: a fixture per state, then the segments that state must accept, answer or refuse.

use synsim::net::HostId;
use synsim::rng::RngStreams;
use synsim::sim::Outcome;
use synsim::sim::workload::{AppTimer, Attempt, Exchange, HostApps};
use synsim::spec::{AcceptPolicy, ListenerSpec, ServerApp};
use synsim::tcp::{Note, Outbox, Reason, Stack, StackConfig, TcpState, Wake, wheel};
use synsim::time::{SimDuration, SimTime};
use synsim::wire::{AddrId, Endpoint, Flags, Payload, Segment, SeqNum};

const ME: AddrId = AddrId(0);
const PEER: AddrId = AddrId(1);

fn ep(addr: AddrId, port: u16) -> Endpoint {
    Endpoint { addr, port }
}

/// A wake-up the harness holds: the stack's or its application's.
#[derive(Clone, Copy, Debug)]
enum W {
    Stack(Wake),
    App(AppTimer),
}

struct H {
    st: Stack,
    /// The applications above the stack (the client attempt, the listener's accept and echo).
    apps: HostApps,
    out: Outbox,
    now: SimTime,
    /// Wake-ups requested so far and not yet delivered (what the engine's queue would hold).
    pending: Vec<(W, SimTime)>,
    /// Outcomes of the last call.
    outcomes: Vec<Outcome>,
}

impl H {
    fn new() -> H {
        H::with(StackConfig::linux())
    }
    fn with(cfg: StackConfig) -> H {
        H {
            st: Stack::new(cfg, RngStreams::new(1).stream("h")),
            apps: HostApps::new(HostId(0)),
            out: Outbox::default(),
            now: SimTime::ZERO,
            pending: Vec::new(),
            outcomes: Vec::new(),
        }
    }
    /// What the engine does after a call: socket events to the applications (whose calls
    /// may add notes), then the wake-ups and timers to hold.
    fn settle(&mut self) {
        self.outcomes = self.apps.fx.outcomes.drain(..).map(|o| o.outcome).collect();
        let mut i = 0;
        while let Some(&n) = self.out.notes.get(i) {
            i += 1;
            if let Note::Socket {
                conn,
                serial,
                event,
            } = n
            {
                let now = self.now;
                self.apps
                    .on_socket(&mut self.st, conn, serial, event, now, &mut self.out);
                let done = self.apps.fx.outcomes.drain(..).map(|o| o.outcome);
                self.outcomes.extend(done);
            }
        }
        let wakes = self.out.wakes.iter().map(|&(w, at)| (W::Stack(w), at));
        self.pending.extend(wakes);
        let timers = self.apps.fx.timers.drain(..).map(|(w, at)| (W::App(w), at));
        self.pending.extend(timers);
    }
    fn listen(&mut self, accept: AcceptPolicy) {
        let spec = ListenerSpec {
            host: HostId(0),
            port: 80,
            backlog: 8,
            accept,
            app: ServerApp::EchoUpper,
        };
        self.apps.listen(&mut self.st, &spec);
    }
    /// Delivers a segment; returns what the stack sent back.
    fn rx(&mut self, seg: Segment) -> Vec<Segment> {
        self.out.clear();
        self.st.on_segment(self.now, seg, &mut self.out);
        self.settle();
        self.out.segments.clone()
    }
    /// Advances to the earliest pending wake-up and delivers it (stale ones do nothing, as
    /// in the engine); returns what the stack sent.
    fn fire(&mut self) -> Vec<Segment> {
        let i = (0..self.pending.len())
            .min_by_key(|&i| self.pending[i].1)
            .expect("a wake-up");
        let (w, at) = self.pending.remove(i);
        self.now = at;
        self.out.clear();
        match w {
            W::Stack(w) => self.st.on_wake(self.now, w, &mut self.out),
            W::App(t) => self.apps.on_timer(&mut self.st, t, self.now, &mut self.out),
        }
        self.settle();
        self.out.segments.clone()
    }
    fn state(&self) -> Option<TcpState> {
        self.st.connections().next().map(|t| t.state())
    }
    fn tcb(&self) -> &synsim::tcp::tcb::Tcb {
        self.st.connections().next().expect("a connection")
    }
    fn outcomes(&self) -> Vec<Outcome> {
        self.outcomes.clone()
    }
    fn discards(&self) -> Vec<Reason> {
        self.out
            .notes
            .iter()
            .filter_map(|n| match n {
                Note::Discard { reason, .. } => Some(*reason),
                _ => None,
            })
            .collect()
    }
}

fn seg(src: Endpoint, dst: Endpoint, seq: u32, ack: u32, flags: Flags, data: &[u8]) -> Segment {
    Segment {
        src,
        dst,
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        flags,
        window: 0,
        opts: synsim::wire::TcpOptions::NONE,
        payload: Payload::from_slice(data),
    }
}

fn app(send: &[u8], close: bool) -> Attempt {
    Attempt {
        client: 0,
        attempt: 0,
        exchange: Exchange {
            send: Payload::from_slice(send),
            send_delay: SimDuration::ZERO,
            expect_reply: send.len() as u8,
            close,
            nonblocking: false,
        },
    }
}

/// A client in SYN-SENT towards PEER:80; returns (harness, local endpoint, ISS).
fn syn_sent(a: Attempt) -> (H, Endpoint, u32) {
    syn_sent_with(StackConfig::linux(), a)
}

fn syn_sent_with(cfg: StackConfig, a: Attempt) -> (H, Endpoint, u32) {
    let mut h = H::with(cfg);
    let mut rng = RngStreams::new(2).stream("c");
    let (now, remote) = (h.now, ep(PEER, 80));
    h.apps
        .connect(&mut h.st, now, ME, remote, a, &mut rng, &mut h.out)
        .unwrap();
    h.settle();
    let syn = h.out.segments[0];
    assert_eq!(syn.flags, Flags::SYN);
    (h, syn.src, syn.seq.0)
}

const IRS: u32 = 5000;

/// A client that completed the handshake (peer ISN = IRS).
fn established(a: Attempt) -> (H, Endpoint, u32) {
    let (mut h, me, iss) = syn_sent(a);
    h.now = SimTime(20_000_000);
    let out = h.rx(seg(ep(PEER, 80), me, IRS, iss + 1, Flags::SYN_ACK, b""));
    assert_eq!(out[0].flags, Flags::ACK);
    (h, me, iss)
}

// ---------------------------------------------------------------- CLOSED

#[test]
fn closed_port_answers_with_rst() {
    let mut h = H::new();
    // No ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
    let out = h.rx(seg(ep(PEER, 999), ep(ME, 81), 100, 0, Flags::SYN, b""));
    assert_eq!(
        (out[0].flags, out[0].seq.0, out[0].ack.0),
        (Flags::RST_ACK, 0, 101)
    );
    // With ACK: <SEQ=SEG.ACK><CTL=RST>
    let out = h.rx(seg(ep(PEER, 999), ep(ME, 81), 100, 777, Flags::ACK, b"xyz"));
    assert_eq!((out[0].flags, out[0].seq.0), (Flags::RST, 777));
    // Never a RST to a RST.
    assert!(
        h.rx(seg(ep(PEER, 999), ep(ME, 81), 100, 0, Flags::RST, b""))
            .is_empty()
    );
    assert_eq!(h.st.counters.out_rsts, 2);
}

// ---------------------------------------------------------------- LISTEN

#[test]
fn listen_ignores_rst_resets_acks_and_answers_syn() {
    let mut h = H::new();
    h.listen(AcceptPolicy::Immediate);
    assert!(
        h.rx(seg(ep(PEER, 5), ep(ME, 80), 1, 0, Flags::RST, b""))
            .is_empty()
    );
    assert_eq!(h.discards(), [Reason::RstToListener]);
    let out = h.rx(seg(ep(PEER, 5), ep(ME, 80), 1, 42, Flags::ACK, b""));
    assert_eq!((out[0].flags, out[0].seq.0), (Flags::RST, 42));
    let out = h.rx(seg(ep(PEER, 5), ep(ME, 80), 1000, 0, Flags::SYN, b""));
    assert_eq!(out[0].flags, Flags::SYN_ACK);
    assert_eq!(out[0].ack.0, 1001);
    assert_eq!(h.state(), Some(TcpState::SynReceived));
    assert_eq!(h.st.queue_lengths(0), (1, 0));
}

// ---------------------------------------------------------------- SYN-SENT

#[test]
fn syn_sent_rejects_bad_acks_and_is_refused_by_rst() {
    let (mut h, me, iss) = syn_sent(app(b"", true));
    // An ACK outside (ISS, SND.NXT] draws a RST and changes nothing.
    let out = h.rx(seg(ep(PEER, 80), me, 9, iss + 7, Flags::SYN_ACK, b""));
    assert_eq!((out[0].flags, out[0].seq.0), (Flags::RST, iss + 7));
    assert_eq!(h.state(), Some(TcpState::SynSent));
    // A RST without ACK is ignored.
    assert!(
        h.rx(seg(ep(PEER, 80), me, 0, 0, Flags::RST, b""))
            .is_empty()
    );
    assert_eq!(h.state(), Some(TcpState::SynSent));
    // A RST with an acceptable ACK: connection refused.
    h.rx(seg(ep(PEER, 80), me, 0, iss + 1, Flags::RST_ACK, b""));
    assert_eq!(h.state(), None);
    assert_eq!(h.outcomes(), [Outcome::Refused]);
}

#[test]
fn syn_sent_to_established_on_syn_ack() {
    let (h, _, iss) = established(app(b"", false));
    let t = h.tcb();
    assert_eq!(t.state(), TcpState::Established);
    assert_eq!((t.snd_una().0, t.rcv_nxt().0), (iss + 1, IRS + 1));
    assert_eq!(h.outcomes(), [Outcome::Established]);
}

#[test]
fn simultaneous_open_goes_through_syn_received() {
    let (mut h, me, iss) = syn_sent(app(b"", false));
    // The peer's own SYN crosses ours.
    let out = h.rx(seg(ep(PEER, 80), me, IRS, 0, Flags::SYN, b""));
    assert_eq!(h.state(), Some(TcpState::SynReceived));
    assert_eq!(
        (out[0].flags, out[0].seq.0, out[0].ack.0),
        (Flags::SYN_ACK, iss, IRS + 1)
    );
    // Its SYN,ACK (repeating its SYN) completes the handshake (RFC 9293 Figure 8).
    h.rx(seg(ep(PEER, 80), me, IRS, iss + 1, Flags::SYN_ACK, b""));
    assert_eq!(h.state(), Some(TcpState::Established));
}

#[test]
fn simultaneous_open_refused_by_rst_in_syn_received() {
    let (mut h, me, _) = syn_sent(app(b"", false));
    h.rx(seg(ep(PEER, 80), me, IRS, 0, Flags::SYN, b""));
    h.rx(seg(ep(PEER, 80), me, IRS + 1, 0, Flags::RST, b""));
    assert_eq!(h.state(), None);
    assert_eq!(h.outcomes(), [Outcome::Refused]);
}

// ---------------------------------------------------------------- SYN-RECEIVED (passive)

/// A listener (with `accept` policy) holding one half-open entry from PEER:5 (IRS 1000);
/// returns the harness and the entry's ISS.
fn half_open_with(accept: AcceptPolicy) -> (H, u32) {
    let mut h = H::new();
    h.listen(accept);
    let out = h.rx(seg(ep(PEER, 5), ep(ME, 80), 1000, 0, Flags::SYN, b""));
    (h, out[0].seq.0)
}

fn half_open() -> (H, u32) {
    half_open_with(AcceptPolicy::Never)
}

/// The same entry after the final ACK: an ESTABLISHED child.
fn passive_established(accept: AcceptPolicy) -> (H, u32) {
    let (mut h, iss) = half_open_with(accept);
    h.rx(seg(ep(PEER, 5), ep(ME, 80), 1001, iss + 1, Flags::ACK, b""));
    (h, iss)
}

#[test]
fn syn_received_returns_to_listen_on_rst() {
    let (mut h, _) = half_open();
    h.rx(seg(ep(PEER, 5), ep(ME, 80), 1001, 0, Flags::RST, b""));
    assert_eq!(h.state(), None);
    assert_eq!(h.st.queue_lengths(0), (0, 0));
    assert_eq!(h.st.counters.embryonic_rsts, 1);
    assert!(h.out.notes.iter().any(|n| matches!(
        n,
        Note::State {
            to: TcpState::Listen,
            ..
        }
    )));
}

#[test]
fn syn_received_resets_a_bad_ack_and_accepts_a_good_one() {
    let (mut h, iss) = half_open();
    let out = h.rx(seg(ep(PEER, 5), ep(ME, 80), 1001, iss + 9, Flags::ACK, b""));
    assert_eq!((out[0].flags, out[0].seq.0), (Flags::RST, iss + 9));
    assert_eq!(h.state(), Some(TcpState::SynReceived));
    // A retransmitted SYN re-sends the SYN-ACK.
    let out = h.rx(seg(ep(PEER, 5), ep(ME, 80), 1000, 0, Flags::SYN, b""));
    assert_eq!((out[0].flags, out[0].seq.0), (Flags::SYN_ACK, iss));
    h.rx(seg(ep(PEER, 5), ep(ME, 80), 1001, iss + 1, Flags::ACK, b""));
    assert_eq!(h.state(), Some(TcpState::Established));
    assert_eq!(
        h.st.queue_lengths(0),
        (0, 1),
        "left the SYN queue for the accept queue"
    );
    assert_eq!(h.st.counters.passive_opens, 1);
}

// ---------------------------------------------------------------- ESTABLISHED

#[test]
fn established_checks_sequence_numbers_rst_and_syn() {
    let (mut h, me, iss) = established(app(b"", false));
    // Out of window: ACK and drop.
    let out = h.rx(seg(
        ep(PEER, 80),
        me,
        IRS + 100_000,
        iss + 1,
        Flags::ACK,
        b"x",
    ));
    assert_eq!(out[0].flags, Flags::ACK);
    assert_eq!(h.discards(), [Reason::UnacceptableSeq]);
    // A SYN in window: challenge ACK, connection kept (500 ms later: ACKs answering invalid
    // segments are rate-limited, see below).
    h.now += SimDuration::from_ms(500);
    let out = h.rx(seg(ep(PEER, 80), me, IRS + 1, 0, Flags::SYN, b""));
    assert_eq!(out[0].flags, Flags::ACK);
    assert_eq!(h.state(), Some(TcpState::Established));
    // A retransmitted SYN-ACK is old: duplicate ACK.
    h.now += SimDuration::from_ms(500);
    let out = h.rx(seg(ep(PEER, 80), me, IRS, iss + 1, Flags::SYN_ACK, b""));
    assert_eq!((out[0].flags, out[0].ack.0), (Flags::ACK, IRS + 1));
    // An out-of-window RST is ignored; an in-window one resets.
    h.rx(seg(ep(PEER, 80), me, IRS + 200_000, 0, Flags::RST, b""));
    assert_eq!(h.state(), Some(TcpState::Established));
    h.rx(seg(ep(PEER, 80), me, IRS + 1, 0, Flags::RST, b""));
    assert_eq!(h.state(), None);
    assert_eq!(h.st.counters.estab_resets, 1);
}

#[test]
fn acks_to_invalid_segments_are_rate_limited() {
    // Linux tcp_invalid_ratelimit: at most one such ACK per 500 ms per connection.
    let (mut h, me, iss) = established(app(b"", false));
    let bogus = seg(ep(PEER, 80), me, IRS + 100_000, iss + 1, Flags::ACK, b"x");
    assert_eq!(h.rx(bogus).len(), 1);
    assert!(h.rx(bogus).is_empty(), "second one within 500 ms: skipped");
    assert!(
        h.rx(seg(ep(PEER, 80), me, IRS + 1, 0, Flags::SYN, b""))
            .is_empty(),
        "challenge ACK shares the limit"
    );
    assert_eq!(
        (
            h.st.counters.ack_skipped_seq,
            h.st.counters.ack_skipped_challenge
        ),
        (1, 1)
    );
    h.now += SimDuration::from_ms(499);
    assert!(h.rx(bogus).is_empty());
    h.now += SimDuration::from_ms(1);
    assert_eq!(h.rx(bogus).len(), 1, "500 ms after the last one");
}

#[test]
fn established_exchanges_data_and_retransmits() {
    let (mut h, me, iss) = established(app(b"HelloWorld", false));
    let data = h.out.segments[1];
    assert_eq!(
        (data.flags, data.seq.0, data.payload.as_slice()),
        (Flags::PSH.union(Flags::ACK), iss + 1, &b"HelloWorld"[..])
    );
    // No ACK: the RTO (from the 20 ms RTT, floored at min_rto 200 ms) fires and resends, on
    // the timer wheel: 50 jiffies at HZ=250, level 0, so in the jiffy after 200 ms.
    let out = h.fire();
    let (lo, hi, lvl) = wheel::delay_range(250, SimDuration::from_ms(200));
    assert_eq!(
        (lo, hi, lvl),
        (SimDuration::from_ms(200), SimDuration::from_ms(204), 0)
    );
    assert!(h.now > SimTime(20_000_000) + lo && h.now <= SimTime(20_000_000) + hi);
    assert_eq!(out[0].payload.as_slice(), b"HelloWorld");
    // The reply acknowledges it and carries HELLOWORLD: acked, ACKed, attempt established.
    let out = h.rx(seg(
        ep(PEER, 80),
        me,
        IRS + 1,
        iss + 11,
        Flags::PSH.union(Flags::ACK),
        b"HELLOWORLD",
    ));
    assert_eq!((out[0].flags, out[0].ack.0), (Flags::ACK, IRS + 11));
    assert_eq!(h.outcomes(), [Outcome::Established]);
    assert!(!h.tcb().in_flight());
}

#[test]
fn established_to_close_wait_on_fin() {
    let (mut h, iss) = passive_established(AcceptPolicy::Never);
    let out = h.rx(seg(
        ep(PEER, 5),
        ep(ME, 80),
        1001,
        iss + 1,
        Flags::FIN_ACK,
        b"",
    ));
    assert_eq!((out[0].flags, out[0].ack.0), (Flags::ACK, 1002));
    assert_eq!(
        h.state(),
        Some(TcpState::CloseWait),
        "not accepted yet: the app has not closed"
    );
}

// ---------------------------------------------------------------- closing states

#[test]
fn active_close_fin_wait_1_2_time_wait_closed() {
    let (mut h, me, iss) = established(app(b"", true));
    assert_eq!(h.state(), Some(TcpState::FinWait1));
    let fin = h.out.segments[1];
    assert_eq!((fin.flags, fin.seq.0), (Flags::FIN_ACK, iss + 1));
    h.rx(seg(ep(PEER, 80), me, IRS + 1, iss + 2, Flags::ACK, b""));
    assert_eq!(h.state(), Some(TcpState::FinWait2));
    h.rx(seg(ep(PEER, 80), me, IRS + 1, iss + 2, Flags::FIN_ACK, b""));
    assert_eq!(h.state(), Some(TcpState::TimeWait));
    // A retransmitted FIN in TIME-WAIT is ACKed again.
    let out = h.rx(seg(ep(PEER, 80), me, IRS + 1, iss + 2, Flags::FIN_ACK, b""));
    assert_eq!((out[0].flags, out[0].ack.0), (Flags::ACK, IRS + 2));
    // 2 x MSL after the last FIN the connection is gone (earlier wake-ups are superseded),
    // rounded up by the timer wheel: 15000 jiffies go to level 3, buckets of 512 jiffies.
    let t0 = h.now;
    while h.state().is_some() {
        h.fire();
    }
    let (lo, hi, lvl) = wheel::delay_range(250, SimDuration::from_secs(60));
    assert_eq!(lvl, 3);
    let waited = h.now.since(t0);
    assert!(waited > lo && waited <= hi, "{waited:?}");
}

#[test]
fn simultaneous_close_goes_through_closing() {
    let (mut h, me, iss) = established(app(b"", true));
    // The peer's FIN arrives before it acknowledged ours.
    h.rx(seg(ep(PEER, 80), me, IRS + 1, iss + 1, Flags::FIN_ACK, b""));
    assert_eq!(h.state(), Some(TcpState::Closing));
    h.rx(seg(ep(PEER, 80), me, IRS + 2, iss + 2, Flags::ACK, b""));
    assert_eq!(h.state(), Some(TcpState::TimeWait));
}

#[test]
fn fin_and_ack_together_go_straight_to_time_wait() {
    let (mut h, me, iss) = established(app(b"", true));
    h.rx(seg(ep(PEER, 80), me, IRS + 1, iss + 2, Flags::FIN_ACK, b""));
    assert_eq!(h.state(), Some(TcpState::TimeWait));
}

#[test]
fn passive_close_close_wait_last_ack_closed() {
    let (mut h, iss) = passive_established(AcceptPolicy::Immediate);
    // The client closes; the echo application closes too: CLOSE-WAIT -> LAST-ACK.
    let out = h.rx(seg(
        ep(PEER, 5),
        ep(ME, 80),
        1001,
        iss + 1,
        Flags::FIN_ACK,
        b"",
    ));
    assert!(
        out.iter()
            .any(|s| s.flags == Flags::FIN_ACK && s.seq.0 == iss + 1)
    );
    assert_eq!(h.state(), Some(TcpState::LastAck));
    h.rx(seg(ep(PEER, 5), ep(ME, 80), 1002, iss + 2, Flags::ACK, b""));
    assert_eq!(h.state(), None);
}

#[test]
fn time_wait_reopens_for_a_new_syn() {
    let (mut h, me, iss) = established(app(b"", true));
    h.rx(seg(ep(PEER, 80), me, IRS + 1, iss + 2, Flags::FIN_ACK, b""));
    assert_eq!(h.state(), Some(TcpState::TimeWait));
    // A client-side TIME-WAIT has no listener behind it: the new SYN ends TIME-WAIT and the
    // closed port answers with RST (Linux would only do this for a listener's port).
    let out = h.rx(seg(ep(PEER, 80), me, IRS + 100, 0, Flags::SYN, b""));
    assert_eq!(h.state(), None);
    assert_eq!(out[0].flags, Flags::RST_ACK);
    assert_eq!(h.st.counters.time_wait_recycled, 1);
}

#[test]
fn stale_wakeups_are_ignored() {
    let exact = StackConfig {
        timer_hz: 0,
        ..StackConfig::linux()
    };
    let (mut h, _, _) = syn_sent_with(exact, app(b"", true));
    let (w, at) = h.out.wakes[0];
    h.now = at;
    h.out.clear();
    // A wake-up for a generation that no longer exists does nothing.
    let Wake::Conn(id, g) = w else {
        panic!("exact timers wake connections, got {w:?}");
    };
    h.st.on_wake(at, Wake::Conn(id, g.wrapping_add(1)), &mut h.out);
    assert!(h.out.segments.is_empty());
    h.st.on_wake(at, w, &mut h.out);
    assert_eq!(
        h.out.segments[0].flags,
        Flags::SYN,
        "the real one retransmits"
    );
}
