//! What the engine reports while it runs. Reports, traces, charts and tests implement
//! [`Observer`]; every method has a no-op default.

use crate::net::{HostId, NetDrop, Network};
use crate::sim::Outcome;
use crate::tcp::options::ConnOptions;
use crate::tcp::{Reason, Role, TcpState};
use crate::time::SimTime;
use crate::wire::{Endpoint, Packet, Segment};

/// A connection as observers see it: which host holds it, its serial there (unique for the
/// run, even when slots are reused), and its 4-tuple from that host's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnRef {
    pub host: HostId,
    pub serial: u64,
    pub role: Role,
    pub local: Endpoint,
    pub remote: Endpoint,
}

/// Where a packet's life reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Handed to the network by `from`.
    Send,
    /// Arrived at a live host.
    Deliver,
    /// Lost in the network, and the rule that lost it.
    NetDrop(NetDrop),
    /// Delivered, then discarded by the receiving TCP (`reason` and the counter bumped).
    HostDrop(Reason),
}

/// One sample of the timeline grid.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    /// Live connections per role and state (index: `Role as usize`, `TcpState::index()`).
    pub counts: [[u64; 11]; 2],
    /// Per listener (in scenario order): SYN queue length, accept queue length, cumulative
    /// SYN drops (ListenDrops) and cookies sent.
    pub listeners: Vec<ListenerSample>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListenerSample {
    pub syn_queue: u64,
    pub accept_queue: u64,
    pub drops: u64,
    pub cookies: u64,
    /// Cumulative half-open entries evicted to make room for a new SYN (SynQueueRecycled,
    /// SyncacheBucketOverflow): the drops of a queue that never refuses a SYN.
    pub evicted: u64,
}

/// The end of one legitimate attempt.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OutcomeRecord {
    pub client: u32,
    pub attempt: u64,
    pub outcome: Outcome,
    /// The rule that ended the attempt (for aborts, the reason counted in `drops_by_reason`).
    pub reason: Reason,
    pub started: SimTime,
    pub ended: SimTime,
    /// When the handshake completed (established attempts only).
    pub connected: Option<SimTime>,
    pub syns_sent: u32,
    /// The attempt's connection (`None` if it never got one: no free port, host down).
    pub conn: Option<ConnRef>,
    /// The errno the application saw (`ETIMEDOUT`, `ECONNREFUSED`, `EHOSTUNREACH`,
    /// `ENETUNREACH`, `ECONNRESET`, `EADDRNOTAVAIL`); `None` when it succeeded or its host went
    /// down.
    pub error: Option<&'static str>,
}

/// An attempt still in progress when the run ended (no outcome was recorded for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingAttempt {
    pub client: u32,
    pub attempt: u64,
    pub started: SimTime,
    pub syns_sent: u32,
}

pub trait Observer {
    fn packet(&mut self, _t: SimTime, _fate: Fate, _pkt: &Packet, _net: &Network) {}
    fn state(
        &mut self,
        _t: SimTime,
        _cref: &ConnRef,
        _from: TcpState,
        _to: TcpState,
        _reason: Reason,
    ) {
    }
    fn outcome(&mut self, _t: SimTime, _o: &OutcomeRecord) {}
    fn sample(&mut self, _t: SimTime, _s: &Sample) {}
    fn host(&mut self, _t: SimTime, _host: HostId, _up: bool) {}
    /// What tcpdump on `host`'s interface sees: every packet the host sends ([`Tap::Out`])
    /// and every packet that reaches it while it is up ([`Tap::In`]), before its stack looks
    /// at it. Followed at once by [`Observer::packet`] with the fate that decides a lost or
    /// discarded packet's verdict.
    fn tap(&mut self, _t: SimTime, _host: HostId, _tap: Tap, _pkt: &Packet, _net: &Network) {}
    /// A cookie SYN-ACK from `host` is about to be sent, and what its cookie keeps.
    fn cookie_sent(&mut self, _t: SimTime, _host: HostId, _synack: &Segment, _keeps: &ConnOptions) {
    }
}

/// Which way a tapped packet crosses a host's interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tap {
    Out,
    In,
}

/// Observes nothing.
pub struct NoObserver;
impl Observer for NoObserver {}

/// Two observers in one.
impl<A: Observer, B: Observer> Observer for (A, B) {
    fn packet(&mut self, t: SimTime, f: Fate, p: &Packet, n: &Network) {
        self.0.packet(t, f, p, n);
        self.1.packet(t, f, p, n);
    }
    fn state(&mut self, t: SimTime, cref: &ConnRef, a: TcpState, b: TcpState, why: Reason) {
        self.0.state(t, cref, a, b, why);
        self.1.state(t, cref, a, b, why);
    }
    fn outcome(&mut self, t: SimTime, o: &OutcomeRecord) {
        self.0.outcome(t, o);
        self.1.outcome(t, o);
    }
    fn sample(&mut self, t: SimTime, s: &Sample) {
        self.0.sample(t, s);
        self.1.sample(t, s);
    }
    fn host(&mut self, t: SimTime, h: HostId, up: bool) {
        self.0.host(t, h, up);
        self.1.host(t, h, up);
    }
    fn tap(&mut self, t: SimTime, h: HostId, tap: Tap, p: &Packet, n: &Network) {
        self.0.tap(t, h, tap, p, n);
        self.1.tap(t, h, tap, p, n);
    }
    fn cookie_sent(&mut self, t: SimTime, h: HostId, s: &Segment, k: &ConnOptions) {
        self.0.cookie_sent(t, h, s, k);
        self.1.cookie_sent(t, h, s, k);
    }
}

impl<O: Observer + ?Sized> Observer for &mut O {
    fn packet(&mut self, t: SimTime, f: Fate, p: &Packet, n: &Network) {
        (**self).packet(t, f, p, n);
    }
    fn state(&mut self, t: SimTime, cref: &ConnRef, a: TcpState, b: TcpState, why: Reason) {
        (**self).state(t, cref, a, b, why);
    }
    fn outcome(&mut self, t: SimTime, o: &OutcomeRecord) {
        (**self).outcome(t, o);
    }
    fn sample(&mut self, t: SimTime, s: &Sample) {
        (**self).sample(t, s);
    }
    fn host(&mut self, t: SimTime, h: HostId, up: bool) {
        (**self).host(t, h, up);
    }
    fn tap(&mut self, t: SimTime, h: HostId, tap: Tap, p: &Packet, n: &Network) {
        (**self).tap(t, h, tap, p, n);
    }
    fn cookie_sent(&mut self, t: SimTime, h: HostId, s: &Segment, k: &ConnOptions) {
        (**self).cookie_sent(t, h, s, k);
    }
}
