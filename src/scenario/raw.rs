//! The scenario file format, as serde structs. Every field has a documented default (see the
//! README's "Scenario format"); unknown fields are errors. These structs are also serialised
//! back, with defaults filled in, as `summary.json`'s `scenario`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

fn default_seed() -> u64 {
    1
}
fn default_sample_ms() -> f64 {
    100.0
}
fn default_max_events() -> u64 {
    200_000_000
}
fn default_true() -> bool {
    true
}
fn default_icmp_interval() -> f64 {
    1000.0
}
fn default_icmp_burst() -> u32 {
    5
}
fn default_backlog() -> u64 {
    128
}
fn default_profile() -> String {
    "linux".into()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// Defaults to the file stem.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_seed")]
    pub seed: u64,
    pub duration_ms: f64,
    #[serde(default = "default_sample_ms")]
    pub sample_interval_ms: f64,
    #[serde(default = "default_max_events")]
    pub max_events: u64,
    pub hosts: Vec<RawHost>,
    #[serde(default)]
    pub network: RawNetwork,
    #[serde(default)]
    pub listeners: Vec<RawListener>,
    #[serde(default)]
    pub clients: Vec<RawClient>,
    #[serde(default)]
    pub attackers: Vec<RawAttacker>,
    #[serde(default)]
    pub charts: RawCharts,
    /// Packet captures (pcapng); absent: none unless `--pcap` asks.
    #[serde(default)]
    pub capture: Option<RawCapture>,
    /// Deadlines for the "established within" shares of the summary, in ms.
    #[serde(default = "default_deadlines")]
    pub success_within_ms: Vec<f64>,
}

fn default_deadlines() -> Vec<f64> {
    vec![1000.0, 3000.0]
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHost {
    pub name: String,
    pub addrs: Vec<String>,
    #[serde(default = "default_profile")]
    pub profile: String,
    /// Knob overrides on top of the profile (see docs/profiles.md).
    #[serde(default)]
    pub stack: Map<String, Value>,
    #[serde(default = "default_true")]
    pub alive: bool,
    #[serde(default)]
    pub crashes: Vec<RawCrash>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCrash {
    pub at_ms: f64,
    /// `null`: stays down.
    #[serde(default)]
    pub restart_ms: Option<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawLoss {
    #[default]
    None,
    Bernoulli {
        p: f64,
    },
    GilbertElliott {
        p_good_bad: f64,
        p_bad_good: f64,
        #[serde(default)]
        loss_good: f64,
        #[serde(default = "one")]
        loss_bad: f64,
    },
}

fn one() -> f64 {
    1.0
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNetwork {
    /// Default one-way latency of every path.
    #[serde(default = "default_latency")]
    pub latency_ms: f64,
    #[serde(default)]
    pub jitter_ms: f64,
    #[serde(default)]
    pub loss: RawLoss,
    #[serde(default)]
    pub paths: Vec<RawPath>,
    #[serde(default)]
    pub drop: Vec<RawDropRule>,
    /// A router answers packets for addresses nobody owns with ICMP host-unreachable.
    #[serde(default)]
    pub icmp_unreachable: bool,
    #[serde(default = "default_icmp_interval")]
    pub icmp_interval_ms: f64,
    #[serde(default = "default_icmp_burst")]
    pub icmp_burst: u32,
    /// The code it answers with: `host_unreachable` (1, default), `net_unreachable` (0) or
    /// `admin_prohibited` (13).
    #[serde(default)]
    pub icmp_code: RawIcmpCode,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawIcmpCode {
    NetUnreachable,
    #[default]
    HostUnreachable,
    AdminProhibited,
}

fn default_latency() -> f64 {
    10.0
}

impl Default for RawNetwork {
    fn default() -> Self {
        RawNetwork {
            latency_ms: default_latency(),
            jitter_ms: 0.0,
            loss: RawLoss::None,
            paths: Vec::new(),
            drop: Vec::new(),
            icmp_unreachable: false,
            icmp_interval_ms: default_icmp_interval(),
            icmp_burst: default_icmp_burst(),
            icmp_code: RawIcmpCode::HostUnreachable,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPath {
    pub from: String,
    pub to: String,
    /// Defaults to the network's latency_ms.
    #[serde(default)]
    pub latency_ms: Option<f64>,
    #[serde(default)]
    pub jitter_ms: Option<f64>,
    #[serde(default)]
    pub loss: Option<RawLoss>,
    /// Also applies to `to -> from` (with its own random stream).
    #[serde(default = "default_true")]
    pub both_ways: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDropRule {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    /// Exact flags, e.g. "SYN,ACK".
    #[serde(default)]
    pub flags: Option<String>,
    /// 1-based indices among matching segments to drop.
    #[serde(default)]
    pub nth: Vec<u64>,
    /// Drop every matching segment sent in [start, end).
    #[serde(default)]
    pub window_ms: Option<[f64; 2]>,
}

#[derive(Clone, Debug, Serialize, Deserialize, Default)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawAccept {
    #[default]
    Immediate,
    Delay {
        delay_ms: f64,
    },
    Rate {
        rate_per_s: f64,
    },
    Never,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawListener {
    pub host: String,
    pub port: u16,
    #[serde(default = "default_backlog")]
    pub backlog: u64,
    #[serde(default)]
    pub accept: RawAccept,
    #[serde(default = "default_app")]
    pub app: crate::spec::ServerApp,
}

fn default_app() -> crate::spec::ServerApp {
    crate::spec::ServerApp::EchoUpper
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawArrivals {
    Times {
        times_ms: Vec<f64>,
    },
    Constant {
        rate_per_s: f64,
        #[serde(default)]
        start_ms: f64,
        #[serde(default)]
        stop_ms: Option<f64>,
        #[serde(default)]
        max: Option<u64>,
    },
    Poisson {
        rate_per_s: f64,
        #[serde(default)]
        start_ms: f64,
        #[serde(default)]
        stop_ms: Option<f64>,
        #[serde(default)]
        max: Option<u64>,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClient {
    pub name: String,
    pub host: String,
    /// Source address; defaults to the host's first address of the target's family.
    #[serde(default)]
    pub addr: Option<String>,
    /// A pool of source addresses instead of `addr`; the client's host owns them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addrs: Option<RawAddrPool>,
    /// "10.0.0.1:7000" or "[fd00::1]:7000".
    pub target: String,
    pub arrivals: RawArrivals,
    /// Message written after the handshake (<= 32 bytes); `null` = no exchange.
    #[serde(default)]
    pub send: Option<String>,
    #[serde(default)]
    pub send_delay_ms: f64,
    /// Wait for a reply as long as the message (the echo_upper server) before closing;
    /// `false`: established once the message is written.
    #[serde(default = "default_true")]
    pub expect_reply: bool,
    /// Close the connection once the exchange is over.
    #[serde(default = "default_true")]
    pub close: bool,
    /// `blocking` (default) or `nonblocking` connect().
    #[serde(default)]
    pub connect_mode: crate::spec::ConnectMode,
}

/// A client's source addresses.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawAddrPool {
    /// `count` consecutive addresses from `base`, drawn per attempt by `draw`.
    Range {
        base: String,
        count: u64,
        #[serde(default)]
        draw: crate::spec::PoolDraw,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawSpoof {
    /// No spoofing: the attacker's own address.
    None,
    /// Uniformly from `count` consecutive addresses starting at `base`.
    Range { base: String, count: u64 },
    /// From the addresses of these (live) hosts: they answer the SYN-ACK with RST.
    Hosts { hosts: Vec<String> },
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawFloodArrivals {
    Constant,
    Poisson,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAttacker {
    pub name: String,
    pub host: String,
    pub target: String,
    pub rate_per_s: f64,
    #[serde(default = "default_flood_arrivals")]
    pub arrivals: RawFloodArrivals,
    #[serde(default)]
    pub start_ms: f64,
    #[serde(default)]
    pub stop_ms: Option<f64>,
    pub spoof: RawSpoof,
}

fn default_flood_arrivals() -> RawFloodArrivals {
    RawFloodArrivals::Poisson
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCapture {
    /// `"listeners"` (every host with a listener), `"all"`, or a list of host names.
    #[serde(default)]
    pub hosts: Option<RawCaptureHosts>,
    #[serde(default = "default_capture_packets")]
    pub max_packets: u64,
    #[serde(default = "default_capture_bytes")]
    pub max_bytes: u64,
    /// Keep 1 in this many spoofed flows.
    #[serde(default = "default_one")]
    pub spoofed_one_in: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RawCaptureHosts {
    Word(String),
    Names(Vec<String>),
}

fn default_capture_packets() -> u64 {
    crate::spec::CaptureSpec::DEFAULT_MAX_PACKETS
}
fn default_capture_bytes() -> u64 {
    crate::spec::CaptureSpec::DEFAULT_MAX_BYTES
}
fn default_one() -> u64 {
    1
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCharts {
    #[serde(default = "default_width")]
    pub width_px: u32,
    #[serde(default = "default_height")]
    pub height_px: u32,
    /// Connections drawn in the ladder diagram.
    #[serde(default = "default_ladder")]
    pub ladder_connections: u32,
    /// Segments drawn in the ladder diagram at most.
    #[serde(default = "default_ladder_segments")]
    pub ladder_max_segments: u32,
    /// Which connections the ladder draws: `"first"`, `"first_retransmitted"`,
    /// `"first_<outcome>"` (`first_timed_out`, `first_refused`, `first_reset`,
    /// `first_unreachable`, `first_established`), `"first_during:<attacker>"`,
    /// `"<client>:<attempt>"`, or an attempt number of the first client. Absent: the first
    /// connection, the first of each way of failing and the first retransmission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ladder: Option<Vec<RawLadderPick>>,
}

/// One entry of `charts.ladder`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum RawLadderPick {
    Attempt(u64),
    Rule(String),
}

fn default_width() -> u32 {
    1200
}
fn default_height() -> u32 {
    700
}
fn default_ladder() -> u32 {
    3
}
fn default_ladder_segments() -> u32 {
    60
}

impl Default for RawCharts {
    fn default() -> Self {
        RawCharts {
            width_px: default_width(),
            height_px: default_height(),
            ladder_connections: default_ladder(),
            ladder_max_segments: default_ladder_segments(),
            ladder: None,
        }
    }
}
