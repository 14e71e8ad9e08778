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

#[derive(Default, Debug, Clone)]
pub struct HostPackets {
    pub sent: Vec<(&'static str, u64)>,
    pub received: Vec<(&'static str, u64)>,
}

fn bump(v: &mut Vec<(&'static str, u64)>, name: &'static str) {
    match v.iter_mut().find(|(n, _)| *n == name) {
        Some((_, c)) => *c += 1,
        None => v.push((name, 1)),
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
        let name = if pkt.icmp.is_some() {
            "ICMP"
        } else {
            pkt.seg.flags.name()
        };
        let h = &mut self.per_host[host.0 as usize];
        bump(
            if tap == Tap::Out {
                &mut h.sent
            } else {
                &mut h.received
            },
            name,
        );
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
