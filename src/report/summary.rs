//! `summary.json` as a typed value: [`Summary`] is built once from the [`Recorder`], the
//! [`RunStats`] and the finished [`Simulation`], then serialised, drawn (the charts and
//! `index.html`) and printed (the CLI) from the same struct.
//!
//! Field order: a struct serialises in declaration order while maps serialise sorted (the
//! `preserve_order` feature of serde_json is off), so every struct here declares its fields in
//! alphabetical order; the file is then sorted at every level, as it always was.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::Recorder;
use super::histogram::Histogram;
use super::phases::{Group, Phases};
use super::recorder::HostPackets;
use crate::net::HostId;
use crate::sim::Outcome;
use crate::sim::{RunStats, Simulation};
use crate::spec::Scenario;
use crate::tcp::Counters;
use crate::time::{SimDuration, SimTime};

/// Counters by nstat name.
pub type CounterMap = BTreeMap<String, u64>;

/// Attempts by outcome; `unfinished` (still in progress at the end) only in the run's total.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Outcomes {
    pub aborted: u64,
    pub established: u64,
    pub refused: u64,
    pub reset: u64,
    pub timed_out: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unfinished: Option<u64>,
    pub unreachable: u64,
}

impl Outcomes {
    /// From counts indexed by `Outcome as usize`.
    pub fn of(counts: &[u64; 6]) -> Outcomes {
        let n = |o: Outcome| counts[o as usize];
        Outcomes {
            aborted: n(Outcome::Aborted),
            established: n(Outcome::Established),
            refused: n(Outcome::Refused),
            reset: n(Outcome::Reset),
            timed_out: n(Outcome::TimedOut),
            unfinished: None,
            unreachable: n(Outcome::Unreachable),
        }
    }

    /// (name, count) in key order, `unfinished` included when present.
    pub fn entries(&self) -> Vec<(&'static str, u64)> {
        let mut v = vec![
            ("aborted", self.aborted),
            ("established", self.established),
            ("refused", self.refused),
            ("reset", self.reset),
            ("timed_out", self.timed_out),
        ];
        if let Some(u) = self.unfinished {
            v.push(("unfinished", u));
        }
        v.push(("unreachable", self.unreachable));
        v
    }
}

/// Connect latency (SYN sent -> ESTABLISHED) of the established attempts, in ms.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Latency {
    pub count: u64,
    /// Whether the quantiles are exact (every sample kept) rather than from histogram buckets.
    pub exact: bool,
    pub max: Option<f64>,
    pub min: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
}

impl Latency {
    pub fn of(h: &Histogram) -> Latency {
        Latency {
            count: h.count(),
            exact: h.is_exact(),
            max: ns_to_ms(h.max_ns()),
            min: ns_to_ms(h.min_ns()),
            p50: ns_to_ms(h.quantile_ns(0.50)),
            p90: ns_to_ms(h.quantile_ns(0.90)),
            p99: ns_to_ms(h.quantile_ns(0.99)),
        }
    }
}

/// Attempts established within a deadline (first SYN -> ESTABLISHED), out of all attempts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Within {
    pub deadline_ms: f64,
    pub established: u64,
    /// established / attempts (none without attempts).
    pub rate: Option<f64>,
}

/// The attempts that started in one phase of an attack window.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhaseSummary {
    pub attempts: u64,
    pub connect_latency_ms: Latency,
    /// The phase's start, inclusive.
    pub from_ms: f64,
    pub outcomes: Outcomes,
    pub success_rate: Option<f64>,
    pub success_within: Vec<Within>,
    /// The phase's end, exclusive (the run's end for `after`).
    pub to_ms: f64,
}

impl PhaseSummary {
    fn of(g: &Group, deadlines: &[SimDuration], from: SimTime, to: SimTime) -> PhaseSummary {
        let mut outcomes = Outcomes::of(&g.outcomes);
        outcomes.unfinished = Some(g.unfinished);
        let attempts = g.attempts();
        PhaseSummary {
            attempts,
            connect_latency_ms: Latency::of(&g.latency),
            from_ms: from.as_ms_f64(),
            outcomes,
            success_rate: rate(g.outcomes[Outcome::Established as usize], attempts),
            success_within: within(g, deadlines, attempts),
            to_ms: to.as_ms_f64(),
        }
    }
}

/// One attacker's window and the attempts started before, during and after it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WindowSummary {
    pub after: PhaseSummary,
    pub attacker: String,
    pub before: PhaseSummary,
    pub during: PhaseSummary,
    /// [start, stop) of the attacker's SYNs.
    pub window_ms: [f64; 2],
}

/// `attempts.csv`: rows written, and rows left out past the cap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttemptsFile {
    pub max_rows: u64,
    pub rows: u64,
    pub rows_left_out: u64,
}

fn rate(n: u64, of: u64) -> Option<f64> {
    (of > 0).then(|| n as f64 / of as f64)
}

fn within(g: &Group, deadlines: &[SimDuration], attempts: u64) -> Vec<Within> {
    deadlines
        .iter()
        .zip(&g.within)
        .map(|(d, &n)| Within {
            deadline_ms: d.as_ms_f64(),
            established: n,
            rate: rate(n, attempts),
        })
        .collect()
}

fn windows(p: &Phases) -> Vec<WindowSummary> {
    p.windows
        .iter()
        .map(|w| {
            let d = &p.deadlines;
            WindowSummary {
                after: PhaseSummary::of(&w.groups[2], d, w.stop, p.end),
                attacker: w.attacker.clone(),
                before: PhaseSummary::of(&w.groups[0], d, SimTime::ZERO, w.start),
                during: PhaseSummary::of(&w.groups[1], d, w.start, w.stop),
                window_ms: [w.start.as_ms_f64(), w.stop.as_ms_f64()],
            }
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClientSummary {
    pub finished_attempts: u64,
    pub outcomes: Outcomes,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListenerSummary {
    pub accept_queue_capacity: u64,
    pub accept_queue_peak: u64,
    pub accepted: u64,
    pub backlog: u64,
    /// The counters that describe a listener ([`LISTENER_COUNTERS`]).
    pub counters: CounterMap,
    pub host: String,
    /// The options the listener's established connections agreed on.
    pub options: crate::tcp::listener::OptionStats,
    pub port: u16,
    pub syn_queue_capacity: u64,
    pub syn_queue_peak: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostSummary {
    pub counters: CounterMap,
    pub profile: &'static str,
    /// Packets that reached the host while it was up, by TCP flags (`ICMP`: ICMP errors),
    /// discarded ones included: what its capture holds.
    pub received: BTreeMap<&'static str, u64>,
    /// Packets the host sent, by TCP flags.
    pub sent: BTreeMap<&'static str, u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Packets {
    pub delivered: u64,
    pub discarded_by_hosts: u64,
    pub dropped_in_network: u64,
    pub in_flight_at_end: u64,
    pub sent: u64,
}

impl Packets {
    /// (name, count) in the order the page shows them.
    pub fn entries(&self) -> [(&'static str, u64); 5] {
        [
            ("sent", self.sent),
            ("delivered", self.delivered),
            ("dropped_in_network", self.dropped_in_network),
            ("discarded_by_hosts", self.discarded_by_hosts),
            ("in_flight_at_end", self.in_flight_at_end),
        ]
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Engine {
    pub peak_live_connections: u64,
    pub peak_packets_in_flight: u64,
    pub peak_queued_events: u64,
    pub state_changes: u64,
}

/// Everything `summary.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Attempts started by the clients.
    pub attempts: u64,
    /// Set by [`super::run_to_dir`], which writes the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_csv: Option<AttemptsFile>,
    /// The packet captures written (set by [`super::run_to_dir`]; empty without captures).
    pub captures: Vec<super::capture::CaptureStats>,
    /// Per client, by name.
    pub clients: BTreeMap<String, ClientSummary>,
    pub connect_latency_ms: Latency,
    /// Every host's counters summed.
    pub counters: CounterMap,
    pub description: String,
    /// Discards, network drops and aborts by rule name.
    pub drops_by_reason: BTreeMap<String, u64>,
    pub duration_ms: f64,
    pub engine: Engine,
    pub events: u64,
    /// Per host, by name.
    pub hosts: BTreeMap<String, HostSummary>,
    /// In scenario order.
    pub listeners: Vec<ListenerSummary>,
    pub outcomes: Outcomes,
    pub packets: Packets,
    /// Per attacker: the attempts started before, during and after its window.
    pub phases: Vec<WindowSummary>,
    /// The scenario as understood, every default filled in.
    pub scenario: Value,
    pub scenario_name: String,
    pub seed: u64,
    /// The settings a reader needs, in words (see [`super::setup`]).
    pub setup: Vec<super::setup::SetupSection>,
    /// Established / attempts (none without attempts).
    pub success_rate: Option<f64>,
    /// Shares established within each deadline of `success_within_ms`.
    pub success_within: Vec<Within>,
    pub synsim_version: &'static str,
    /// Likely mistakes in the scenario, and outputs cut short.
    pub warnings: Vec<String>,
}

/// Counters that describe a listener (the rest are host-wide).
pub const LISTENER_COUNTERS: [&str; 13] = [
    "PassiveOpens",
    "AttemptFails",
    "ListenOverflows",
    "ListenDrops",
    "TCPReqQFullDrop",
    "TCPReqQFullDoCookies",
    "SyncookiesSent",
    "SyncookiesRecv",
    "SyncookiesFailed",
    "EmbryonicRsts",
    "SynQueueRecycled",
    "SyncacheBucketOverflow",
    "SyncacheCacheOverflow",
];

fn counter_map(c: &Counters) -> CounterMap {
    c.entries()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

fn ns_to_ms(v: Option<u64>) -> Option<f64> {
    v.map(|ns| ns as f64 / 1e6)
}

impl Summary {
    /// Builds the summary of a finished run.
    pub fn new(scn: &Scenario, sim: &Simulation, rec: &Recorder, stats: &RunStats) -> Summary {
        let mut outcomes = Outcomes::of(&rec.outcomes);
        outcomes.unfinished = Some(stats.unfinished_attempts);
        let attempts = stats.attempts_started;
        let clients = scn
            .clients
            .iter()
            .zip(&rec.per_client)
            .map(|(c, counts)| {
                let s = ClientSummary {
                    finished_attempts: counts.iter().sum(),
                    outcomes: Outcomes::of(counts),
                };
                (c.name.clone(), s)
            })
            .collect();
        let mut total = Counters::default();
        let mut hosts = BTreeMap::new();
        for (i, hs) in scn.hosts.iter().enumerate() {
            let c = &sim.stack(HostId(i as u32)).counters;
            total.add(c);
            let p = &rec.per_host[i];
            let s = HostSummary {
                counters: counter_map(c),
                profile: hs.profile.name(),
                received: HostPackets::named(&p.received).collect(),
                sent: HostPackets::named(&p.sent).collect(),
            };
            hosts.insert(hs.name.clone(), s);
        }
        let listeners = listeners(scn, sim);
        Summary {
            setup: super::setup::setup(scn, &listeners),
            attempts,
            attempts_csv: None,
            captures: Vec::new(),
            clients,
            connect_latency_ms: Latency::of(rec.connect_latency()),
            counters: counter_map(&total),
            description: scn.description.clone(),
            drops_by_reason: rec
                .drops()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            duration_ms: scn.duration.as_ms_f64(),
            engine: Engine {
                peak_live_connections: stats.peak_live_connections,
                peak_packets_in_flight: stats.peak_packets_in_flight,
                peak_queued_events: stats.peak_queued_events,
                state_changes: rec.state_changes,
            },
            events: stats.events,
            hosts,
            listeners,
            outcomes,
            phases: windows(&rec.phases),
            packets: Packets {
                delivered: rec.packets_delivered,
                discarded_by_hosts: rec.packets_discarded_hosts,
                dropped_in_network: rec.packets_dropped_network,
                in_flight_at_end: stats.packets_in_flight,
                sent: rec.packets_sent,
            },
            // The loader's echo is compact JSON text; serde_json parses its own output back into
            // the very same value (float_roundtrip), so the bytes written are unchanged.
            scenario: serde_json::from_str(&scn.echo).expect("the scenario echo is JSON"),
            scenario_name: scn.name.clone(),
            seed: scn.seed,
            success_rate: rate(rec.count(Outcome::Established), attempts),
            success_within: within(&rec.phases.all, &rec.phases.deadlines, attempts),
            synsim_version: env!("CARGO_PKG_VERSION"),
            warnings: scn.warnings.clone(),
        }
    }

    /// `summary.json`'s text: pretty-printed, newline-terminated.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("summary serialises");
        text.push('\n');
        text
    }
}

fn listeners(scn: &Scenario, sim: &Simulation) -> Vec<ListenerSummary> {
    sim.listener_refs()
        .iter()
        .zip(&scn.listeners)
        .map(|(&(host, li), spec)| {
            let st = &sim.stack(host).listener_stats()[li];
            let all = st.counters.entries();
            let counters = LISTENER_COUNTERS
                .iter()
                .map(|k| {
                    let v = all.iter().find(|(n, _)| n == k).map_or(0, |e| e.1);
                    ((*k).to_string(), v)
                })
                .collect();
            ListenerSummary {
                accept_queue_capacity: st.accept_queue_capacity,
                accept_queue_peak: st.accept_queue_peak,
                accepted: st.accepted,
                backlog: spec.backlog,
                counters,
                host: scn.hosts[host.0 as usize].name.clone(),
                options: st.options.clone(),
                port: spec.port,
                syn_queue_capacity: st.syn_queue_capacity,
                syn_queue_peak: st.syn_queue_peak,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every struct must declare its fields sorted, as a map would write them: the bytes of
    /// `summary.json` depend on it. Going through `Value` (a sorted map) must change nothing.
    #[test]
    fn keys_serialise_sorted_at_every_level() {
        let text = r#"{"duration_ms": 3000,
          "hosts": [{"name": "c", "addrs": ["10.0.0.1"]}, {"name": "s", "addrs": ["10.0.0.2"]}],
          "listeners": [{"host": "s", "port": 80}],
          "clients": [{"name": "w", "host": "c", "target": "10.0.0.2:80",
                       "arrivals": {"kind": "times", "times_ms": [0, 100]}}]}"#;
        let scn = crate::scenario::parse(text, "t.json", "t").unwrap();
        let mut sim = Simulation::new(&scn);
        let mut rec = Recorder::new(&scn);
        let stats = sim.run(&mut rec).unwrap();
        let s = Summary::new(&scn, &sim, &rec, &stats);
        assert_eq!(s.outcomes.established, 2);
        let direct = serde_json::to_string_pretty(&s).unwrap();
        let via_map = serde_json::to_string_pretty(&serde_json::to_value(&s).unwrap()).unwrap();
        assert_eq!(direct, via_map);
        let names: Vec<&str> = s.outcomes.entries().iter().map(|e| e.0).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!((names.len(), &names), (7, &sorted));
    }
}
