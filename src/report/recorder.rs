//! [`Recorder`]: the run's metrics folded while it runs, in constant memory (outcome counts,
//! per-client latencies, packet fates, drops by reason), read by the summary and the charts.

use std::collections::BTreeMap;

use super::histogram::Histogram;
use super::phases::Phases;
use crate::net::{HostId, Network};
use crate::sim::{ConnRef, Fate, Observer, Outcome, OutcomeRecord, PendingAttempt, Tap};
use crate::spec::Scenario;
use crate::tcp::{Reason, TcpState};
use crate::time::SimTime;
use crate::wire::Packet;

/// Metrics folded incrementally while the simulation runs (constant memory).
#[derive(Default, Debug, Clone)]
pub struct Recorder {
    pub outcomes: [u64; 6],
    pub per_client: Vec<[u64; 6]>,
    /// Attempts by phase of each attack window, established-within shares, and the run's
    /// connect latency (first SYN -> ESTABLISHED of established attempts: `phases.all.latency`).
    pub phases: Phases,
    /// Discards and aborts by rule, indexed by `Reason as usize` (see [`Recorder::drops`]).
    by_reason: Vec<Option<(Reason, u64)>>,
    /// Network drops by rule name (a handful of names: a short linear scan).
    net_drops: Vec<(&'static str, u64)>,
    pub packets_sent: u64,
    pub packets_delivered: u64,
    pub packets_dropped_network: u64,
    pub packets_discarded_hosts: u64,
    pub state_changes: u64,
    pub crashes: u64,
    /// Per host: packets it sent and packets that reached it while up, by TCP flags (`ICMP`
    /// for ICMP errors): what tcpdump on the host would count.
    pub per_host: Vec<HostPackets>,
}

/// Packets by kind at one host: slot 0 counts ICMP errors, slot 1 + the five low flag bits
/// (FIN, SYN, RST, PSH, ACK) a TCP segment with those flags; an array, so counting a packet
/// costs one add.
#[derive(Debug, Clone)]
pub struct HostPackets {
    pub sent: [u64; 33],
    pub received: [u64; 33],
}

impl Default for HostPackets {
    fn default() -> Self {
        HostPackets {
            sent: [0; 33],
            received: [0; 33],
        }
    }
}

impl HostPackets {
    fn slot(pkt: &Packet) -> usize {
        if pkt.icmp.is_some() {
            0
        } else {
            1 + (pkt.seg.flags.0 & 0x1f) as usize
        }
    }

    /// The non-zero counts of `slots` by name (`ICMP`, `SYN,ACK`, ...).
    pub fn named(slots: &[u64; 33]) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        slots
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, &n)| {
                let name = match i {
                    0 => "ICMP",
                    _ => crate::wire::Flags(i as u8 - 1).name(),
                };
                (name, n)
            })
    }
}

impl Recorder {
    pub fn new(scn: &Scenario) -> Self {
        Recorder {
            per_client: vec![[0; 6]; scn.clients.len()],
            phases: Phases::new(scn),
            per_host: vec![HostPackets::default(); scn.hosts.len()],
            ..Recorder::default()
        }
    }

    /// The connect latency of the run's established attempts.
    pub fn connect_latency(&self) -> &Histogram {
        &self.phases.all.latency
    }

    /// The attempts still in progress at the end (from [`Simulation::pending_attempts`]).
    pub fn finish(&mut self, pending: &[PendingAttempt]) {
        for p in pending {
            self.phases.unfinished(p.started);
        }
    }
    pub fn count(&self, o: Outcome) -> u64 {
        self.outcomes[o as usize]
    }

    /// Discards, network drops and aborts by rule name (names shared by a network rule and a
    /// host rule are summed).
    pub fn drops(&self) -> BTreeMap<&'static str, u64> {
        let mut m = BTreeMap::new();
        for &(why, n) in self.by_reason.iter().flatten() {
            *m.entry(why.name()).or_insert(0) += n;
        }
        for &(name, n) in &self.net_drops {
            *m.entry(name).or_insert(0) += n;
        }
        m
    }

    fn count_reason(&mut self, why: Reason) {
        let i = why as usize;
        if i >= self.by_reason.len() {
            self.by_reason.resize(i + 1, None);
        }
        self.by_reason[i].get_or_insert((why, 0)).1 += 1;
    }

    fn count_net_drop(&mut self, name: &'static str) {
        match self.net_drops.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => self.net_drops.push((name, 1)),
        }
    }
}

impl Observer for Recorder {
    fn tap(&mut self, _t: SimTime, host: HostId, tap: Tap, pkt: &Packet, _net: &Network) {
        let h = &mut self.per_host[host.0 as usize];
        let slots = if tap == Tap::Out {
            &mut h.sent
        } else {
            &mut h.received
        };
        slots[HostPackets::slot(pkt)] += 1;
    }
    fn packet(&mut self, _t: SimTime, fate: Fate, _p: &Packet, _n: &Network) {
        match fate {
            Fate::Send => self.packets_sent += 1,
            Fate::Deliver => self.packets_delivered += 1,
            Fate::NetDrop(r) => {
                self.packets_dropped_network += 1;
                self.count_net_drop(r.name());
            }
            Fate::HostDrop(r) => {
                self.packets_discarded_hosts += 1;
                self.count_reason(r);
            }
        }
    }
    fn state(&mut self, _t: SimTime, _cref: &ConnRef, _a: TcpState, to: TcpState, why: Reason) {
        self.state_changes += 1;
        // Aborts and evictions of half-open entries count as drops of their rule too.
        if matches!(to, TcpState::Closed | TcpState::Listen)
            && !matches!(
                why,
                Reason::TimeWaitDone
                    | Reason::FinAcked
                    | Reason::HostCrash
                    | Reason::TimeWaitReused
            )
        {
            self.count_reason(why);
        }
    }
    fn outcome(&mut self, _t: SimTime, o: &OutcomeRecord) {
        self.outcomes[o.outcome as usize] += 1;
        // An attempt aborted before its connection existed has no state change to count.
        if matches!(
            o.reason,
            Reason::EphemeralPortsExhausted | Reason::ClientHostDown
        ) {
            self.count_reason(o.reason);
        }
        if let Some(c) = self.per_client.get_mut(o.client as usize) {
            c[o.outcome as usize] += 1;
        }
        self.phases.finished(o.started, o.outcome, o.connected);
    }
    fn host(&mut self, _t: SimTime, _h: HostId, up: bool) {
        if !up {
            self.crashes += 1;
        }
    }
}
