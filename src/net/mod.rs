//! The simulated network: who owns which address, how long a packet takes from one host to
//! another, and whether it arrives.
//!
//! Routing is by destination address ([`AddrTable`]): an address owned by a host is delivered
//! to it after the path's latency (plus jitter), unless a scripted rule or the path's loss model
//! drops it; an address owned by nobody is a black hole, optionally answered by a router's ICMP
//! host-unreachable (rate-limited like Linux `icmp_ratelimit`). Whether the destination host is
//! up is checked at delivery time, by the engine.
//!
//! Simplifications: no queueing delay or bandwidth; the ICMP router sits halfway along the
//! sender's default path, so its error arrives one one-way latency after the packet left.

mod addr;
mod loss;

pub use addr::{AddrTable, HostId, offset_addr};
pub use loss::LossModel;

use crate::rng::{RngStreams, StreamRng};
use crate::time::{SimDuration, SimTime};
use crate::wire::{Flags, IcmpCode, Packet};
use rand::RngExt;
use rustc_hash::FxHashMap;

/// Latency, jitter and loss of one direction between two hosts.
#[derive(Clone, Debug, PartialEq)]
pub struct PathSpec {
    pub latency: SimDuration,
    /// Each packet gets an extra delay uniform in [0, jitter]; a path never reorders: a packet
    /// is never delivered before one sent earlier on the same path (like a single link).
    pub jitter: SimDuration,
    pub loss: LossModel,
}

struct Path {
    spec: PathSpec,
    rng: StreamRng,
    /// Latest delivery time scheduled on this path: jitter never reorders a path (FIFO).
    last_at: SimTime,
}

/// Drop packets matching a pattern: the n-th ones, or all within a time window.
#[derive(Clone, Debug)]
pub struct DropRule {
    pub from: Option<HostId>,
    pub to: Option<HostId>,
    /// Exact flag set to match (e.g. SYN,ACK); `None` matches every TCP segment.
    pub flags: Option<Flags>,
    /// 1-based indices among matching packets to drop (sorted).
    pub nth: Vec<u64>,
    /// Drop every matching packet sent in `[from, until)`.
    pub window: Option<(SimTime, SimTime)>,
    seen: u64,
}

impl DropRule {
    pub fn new(
        from: Option<HostId>,
        to: Option<HostId>,
        flags: Option<Flags>,
        mut nth: Vec<u64>,
        window: Option<(SimTime, SimTime)>,
    ) -> DropRule {
        nth.sort_unstable();
        DropRule {
            from,
            to,
            flags,
            nth,
            window,
            seen: 0,
        }
    }
}

/// Why the network lost a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NetDrop {
    /// Independent (Bernoulli) loss.
    Loss,
    /// Gilbert-Elliott loss (in the good or bad state).
    BurstLoss,
    /// A scripted drop rule.
    Scripted,
    /// Destination address owned by no host.
    BlackHole,
    /// Destination host is down (dead or crashed) when the packet arrives.
    HostDown,
    /// An ICMP error suppressed by the router's rate limit.
    IcmpRateLimited,
    /// The network already holds its limit of packets in flight (see
    /// [`crate::sim::MAX_PACKETS_IN_FLIGHT`]): like a router whose queue is full, it drops the
    /// new packet.
    InFlightLimit,
}

impl NetDrop {
    pub fn name(self) -> &'static str {
        match self {
            NetDrop::Loss => "loss",
            NetDrop::BurstLoss => "burst_loss",
            NetDrop::Scripted => "scripted",
            NetDrop::BlackHole => "black_hole",
            NetDrop::HostDown => "host_down",
            NetDrop::IcmpRateLimited => "icmp_rate_limited",
            NetDrop::InFlightLimit => "in_flight_limit",
        }
    }
}

/// The router answering for unreachable destinations.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IcmpSpec {
    /// Tokens: one ICMP per `interval`, bursts up to `burst` (Linux: 1 per second, burst 5).
    pub interval: SimDuration,
    pub burst: u32,
    /// The destination-unreachable code it answers with.
    pub code: IcmpCode,
}

/// What happens to a packet handed to the network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Route {
    Deliver { to: HostId, at: SimTime },
    Drop(NetDrop),
}

/// An ICMP error the router sends back, and when it arrives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IcmpReply {
    pub packet: Packet,
    pub to: HostId,
    pub at: SimTime,
    /// The router's rate limit suppressed it (Linux `icmpv4_xrlim_allow`): it is reported as
    /// sent and then dropped with [`NetDrop::IcmpRateLimited`], never delivered.
    pub rate_limited: bool,
}

pub struct Network {
    pub addrs: AddrTable,
    host_names: Vec<String>,
    /// Explicit path specs by (from, to); everything else uses `default_path`.
    explicit: FxHashMap<(HostId, HostId), PathSpec>,
    default_path: PathSpec,
    /// Paths created on first use, one per (from, to) that carried a packet; `to` is `None` for
    /// "unowned". Not an H x (H+1) table, so memory follows the paths actually used, not the
    /// square of the number of hosts (a scenario with thousands of hosts must not need
    /// gigabytes).
    paths: Vec<Path>,
    /// Index in `paths` by (from, to).
    path_index: FxHashMap<(HostId, Option<HostId>), u32>,
    /// By sending host: the receiver and path index of the last path it used. Most hosts talk
    /// to one peer (a client to its server, an attacker to its target), so this answers most
    /// lookups without hashing.
    last_path: Vec<(Option<HostId>, u32)>,
    rules: Vec<DropRule>,
    icmp: Option<IcmpSpec>,
    /// Per-destination token buckets (token time in ns), Linux `inet_peer_xrlim_allow`.
    icmp_tokens: FxHashMap<crate::wire::AddrId, (u64, SimTime)>,
    streams: RngStreams,
}

impl Network {
    pub fn new(
        addrs: AddrTable,
        host_names: Vec<String>,
        default_path: PathSpec,
        explicit: Vec<((HostId, HostId), PathSpec)>,
        rules: Vec<DropRule>,
        icmp: Option<IcmpSpec>,
        streams: RngStreams,
    ) -> Network {
        Network {
            addrs,
            explicit: explicit.into_iter().collect(),
            default_path,
            paths: Vec::new(),
            path_index: FxHashMap::default(),
            last_path: Vec::new(),
            host_names,
            rules,
            icmp,
            icmp_tokens: FxHashMap::default(),
            streams,
        }
    }

    pub fn host_name(&self, h: HostId) -> &str {
        &self.host_names[h.0 as usize]
    }

    fn path(&mut self, from: HostId, to: Option<HostId>) -> &mut Path {
        let f = from.0 as usize;
        if let Some(&(last_to, i)) = self.last_path.get(f) {
            if last_to == to && i != u32::MAX {
                return &mut self.paths[i as usize];
            }
        }
        let i = match self.path_index.get(&(from, to)) {
            Some(&i) => i,
            None => {
                let spec = to
                    .and_then(|t| self.explicit.get(&(from, t)).cloned())
                    .unwrap_or_else(|| self.default_path.clone());
                let names = &self.host_names;
                let to_name = to.map_or("*", |t| names[t.0 as usize].as_str());
                let name = format!("path/{}/{}", names[f], to_name);
                self.paths.push(Path {
                    spec,
                    rng: self.streams.stream(&name),
                    last_at: SimTime::ZERO,
                });
                let i = (self.paths.len() - 1) as u32;
                self.path_index.insert((from, to), i);
                i
            }
        };
        if self.last_path.len() <= f {
            self.last_path.resize(f + 1, (None, u32::MAX));
        }
        self.last_path[f] = (to, i);
        &mut self.paths[i as usize]
    }

    /// Routes a packet sent by host `from` at `now`. Returns the route and, for a black hole
    /// with the ICMP router on, the error the router sends back.
    pub fn route(
        &mut self,
        now: SimTime,
        from: HostId,
        pkt: &Packet,
    ) -> (Route, Option<IcmpReply>) {
        let dst = pkt.dst_addr();
        let to = self.addrs.owner(dst);
        // Scripted rules see every TCP segment entering the network.
        if pkt.icmp.is_none() && self.scripted_drop(now, from, to, pkt.seg.flags) {
            return (Route::Drop(NetDrop::Scripted), None);
        }
        let Some(to) = to else {
            let icmp = self.icmp_reply(now, from, pkt);
            return (Route::Drop(NetDrop::BlackHole), icmp);
        };
        let path = self.path(from, Some(to));
        if let Some(drop) = path.spec.loss.lose(&mut path.rng) {
            return (Route::Drop(drop), None);
        }
        let mut delay = path.spec.latency;
        if path.spec.jitter.as_ns() > 0 {
            delay = delay + SimDuration(path.rng.random_range(0..=path.spec.jitter.as_ns()));
        }
        let at = (now + delay).max(path.last_at);
        path.last_at = at;
        (Route::Deliver { to, at }, None)
    }

    fn scripted_drop(
        &mut self,
        now: SimTime,
        from: HostId,
        to: Option<HostId>,
        flags: Flags,
    ) -> bool {
        let mut drop = false;
        for r in &mut self.rules {
            if r.from.is_some_and(|f| f != from)
                || r.to.is_some_and(|t| Some(t) != to)
                || r.flags.is_some_and(|f| f != flags)
            {
                continue;
            }
            r.seen += 1;
            if r.nth.binary_search(&r.seen).is_ok() {
                drop = true;
            }
            if r.window.is_some_and(|(a, b)| now >= a && now < b) {
                drop = true;
            }
        }
        drop
    }

    fn icmp_reply(&mut self, now: SimTime, from: HostId, pkt: &Packet) -> Option<IcmpReply> {
        let spec = self.icmp?;
        if pkt.icmp.is_some() {
            return None; // never an ICMP error about an ICMP error
        }
        // The error goes to the packet's source address, if someone owns it.
        let src = pkt.seg.src.addr;
        let back_to = self.addrs.owner(src)?;
        let cap = spec.interval.as_ns().saturating_mul(spec.burst as u64);
        let (tokens, last) = self.icmp_tokens.entry(src).or_insert((cap, now));
        *tokens = tokens.saturating_add(now.since(*last).as_ns()).min(cap);
        *last = now;
        let rate_limited = *tokens < spec.interval.as_ns();
        if !rate_limited {
            *tokens -= spec.interval.as_ns();
        }
        let latency = self.path(from, None).spec.latency;
        Some(IcmpReply {
            packet: Packet {
                seg: pkt.seg,
                icmp: Some(spec.code),
            },
            to: back_to,
            at: now + latency,
            rate_limited,
        })
    }
}
