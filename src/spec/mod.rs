//! Validated scenario types: what the engine and the reports run on.
//!
//! The loader (`crate::scenario`) turns a file into a [`Scenario`] and checks every rule once;
//! these types carry no trace of the file format (no JSON values, no raw serde structs), so
//! `sim` and `report` depend on this module and never on the loader.

mod arrivals;
mod entities;

pub use arrivals::Arrivals;
pub use entities::{
    AcceptPolicy, AddrPool, AttackerSpec, ClientSpec, ConnectMode, HostSpec, ListenerSpec,
    PoolDraw, ServerApp, Spoof,
};

use crate::net::{DropRule, HostId, IcmpSpec, PathSpec};
use crate::sim::Outcome;
use crate::time::{SimDuration, SimTime};

/// The network between the hosts.
#[derive(Clone, Debug)]
pub struct NetworkSpec {
    /// Every path not listed in `paths`.
    pub default_path: PathSpec,
    /// Per-direction paths (`both_ways` already expanded into two entries).
    pub paths: Vec<((HostId, HostId), PathSpec)>,
    pub rules: Vec<DropRule>,
    /// ICMP host-unreachable for addresses nobody owns, if enabled.
    pub icmp: Option<IcmpSpec>,
}

/// Chart settings (sizes in pixels, ladder diagram limits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartSpec {
    pub width_px: u32,
    pub height_px: u32,
    /// Connections drawn in the ladder diagram at most.
    pub ladder_connections: u32,
    /// Segments drawn in the ladder diagram at most, shared evenly by its connections.
    pub ladder_max_segments: u32,
    /// Which connections the ladder diagram draws, in order of priority.
    pub ladder: Vec<LadderPick>,
}

/// A rule choosing a connection for the ladder diagram (`charts.ladder`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LadderPick {
    /// The first connection a client opened.
    First,
    /// The first attempt to end with this outcome.
    FirstOutcome(Outcome),
    /// The first connection that retransmitted a segment (either side).
    FirstRetransmitted,
    /// The first connection opened inside an attacker's arrival window.
    FirstDuring {
        attacker: String,
        start: SimTime,
        stop: SimTime,
    },
    /// One attempt of one client (`clients[client]`, attempt number from 0 as in attempts.csv).
    Attempt { client: u32, attempt: u64 },
}

impl LadderPick {
    /// The default choice: the first connection, the first of each way of failing, the first
    /// that needed a retransmission.
    pub fn defaults() -> Vec<LadderPick> {
        vec![
            LadderPick::First,
            LadderPick::FirstOutcome(Outcome::TimedOut),
            LadderPick::FirstRetransmitted,
            LadderPick::FirstOutcome(Outcome::Refused),
            LadderPick::FirstOutcome(Outcome::Reset),
            LadderPick::FirstOutcome(Outcome::Unreachable),
        ]
    }

    /// How a panel names the rule (`first timed out`, `first during flood`).
    pub fn label(&self, clients: &[ClientSpec]) -> String {
        match self {
            LadderPick::First => "first connection".into(),
            LadderPick::FirstOutcome(o) => format!("first {}", o.name().replace('_', " ")),
            LadderPick::FirstRetransmitted => "first retransmission".into(),
            LadderPick::FirstDuring { attacker, .. } => format!("first during {attacker}"),
            LadderPick::Attempt { client, attempt } => {
                let name = clients
                    .get(*client as usize)
                    .map_or("?", |c| c.name.as_str());
                format!("attempt {attempt} of {name}")
            }
        }
    }
}

/// Packet captures (see [`crate::report::capture`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureSpec {
    /// Capture points, in scenario host order.
    pub hosts: Vec<HostId>,
    /// Packets one capture writes at most.
    pub max_packets: u64,
    /// Bytes of packet data one capture writes at most.
    pub max_bytes: u64,
    /// Keep 1 in this many spoofed flows (1: all).
    pub spoofed_one_in: u64,
}

impl CaptureSpec {
    pub const DEFAULT_MAX_PACKETS: u64 = 1_000_000;
    pub const DEFAULT_MAX_BYTES: u64 = 256 << 20;
}

/// A scenario ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub duration: SimDuration,
    pub sample_interval: SimDuration,
    pub max_events: u64,
    pub hosts: Vec<HostSpec>,
    pub network: NetworkSpec,
    pub listeners: Vec<ListenerSpec>,
    pub clients: Vec<ClientSpec>,
    pub attackers: Vec<AttackerSpec>,
    pub charts: ChartSpec,
    /// Packet captures to write (`None`: none, unless `--pcap` asks).
    pub capture: Option<CaptureSpec>,
    /// Deadlines of the summary's "established within" shares, ascending, distinct.
    pub success_within: Vec<SimDuration>,
    /// Likely mistakes found while loading (printed on stderr, listed in summary.json).
    pub warnings: Vec<String>,
    /// The scenario as understood, every default filled in, as compact JSON text: an opaque
    /// echo for the reports (summary.json's `scenario`), never read by the model. It is the
    /// loader's output, so it already carries overrides such as a `--seed` given to the loader.
    pub echo: String,
}
