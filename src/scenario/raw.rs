//! The scenario file format, as serde structs. Every field has a documented default (see the
//! README's "Scenario format"); unknown fields are errors. These structs are also serialised
//! back, with defaults filled in, as `summary.json`'s `scenario`, and they are the source of
//! the format's JSON Schema ([`super::schema`]): the doc comments of the fields are its
//! descriptions, the serde defaults its defaults.

use schemars::JsonSchema;
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

/// A synsim scenario: hosts and their TCP stacks, the network between them, listeners, clients
/// and attackers, run event by event for `duration_ms`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Scenario")]
pub struct RawScenario {
    /// The JSON Schema this file follows, for editors (e.g. `../docs/scenario.schema.json`).
    /// Ignored by the simulator, and left out of summary.json.
    #[serde(rename = "$schema", default, skip_serializing)]
    #[schemars(extend("default" = null))]
    pub schema: Option<String>,
    /// Scenario name (chart titles, summary); `null`: the file stem.
    #[serde(default)]
    pub name: Option<String>,
    /// What the scenario shows.
    #[serde(default)]
    pub description: String,
    /// Root of every random stream: the same seed gives the same run.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Simulated time.
    pub duration_ms: f64,
    /// The time grid of `timeline.csv`.
    #[serde(default = "default_sample_ms")]
    pub sample_interval_ms: f64,
    /// Event budget: a scenario whose traffic clearly exceeds it is refused before running, and
    /// a run that reaches it stops with an error (`--max-events` replaces it).
    #[serde(default = "default_max_events")]
    pub max_events: u64,
    /// The hosts: names, addresses and TCP stacks.
    pub hosts: Vec<RawHost>,
    /// Latency, loss, per-path overrides, scripted drops and ICMP.
    #[serde(default)]
    pub network: RawNetwork,
    /// Listening sockets.
    #[serde(default)]
    pub listeners: Vec<RawListener>,
    /// Client workloads: connection attempts, each with an optional exchange.
    #[serde(default)]
    pub clients: Vec<RawClient>,
    /// SYN floods.
    #[serde(default)]
    pub attackers: Vec<RawAttacker>,
    /// Chart sizes and the ladder diagram.
    #[serde(default)]
    pub charts: RawCharts,
    /// Packet captures (pcapng); absent: none unless `--pcap` asks.
    #[serde(default)]
    pub capture: Option<RawCapture>,
    /// Deadlines for the "established within" shares of the summary (up to 16, each > 0;
    /// sorted, duplicates dropped).
    #[serde(default = "default_deadlines")]
    pub success_within_ms: Vec<f64>,
}

fn default_deadlines() -> Vec<f64> {
    vec![1000.0, 3000.0]
}

/// A machine with one TCP stack.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Host")]
pub struct RawHost {
    /// Unique host name, as listeners, clients, attackers and paths refer to it.
    pub name: String,
    /// IPv4 and/or IPv6 addresses, unique across hosts.
    pub addrs: Vec<String>,
    /// Stack preset (rules and sources in docs/profiles.md).
    #[serde(default = "default_profile")]
    #[schemars(with = "crate::tcp::Profile")]
    pub profile: String,
    /// Knob overrides on top of the profile (see docs/profiles.md; `simulate --explain-profile
    /// P` prints every knob of profile P).
    #[serde(default)]
    #[schemars(schema_with = "super::schema::stack_overrides")]
    pub stack: Map<String, Value>,
    /// `false`: dead for the whole run (packets to it vanish; such a host cannot have
    /// `crashes`).
    #[serde(default = "default_true")]
    pub alive: bool,
    /// Crashes in time order, each after the previous restart.
    #[serde(default)]
    pub crashes: Vec<RawCrash>,
}

/// A crash: every connection and listener of the host is lost. After the restart, listeners
/// reopen, and segments of the lost connections draw RSTs.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Crash")]
pub struct RawCrash {
    /// When the host goes down (time since the start).
    pub at_ms: f64,
    /// When it comes back (time since the start, after `at_ms`); `null`: stays down.
    #[serde(default)]
    pub restart_ms: Option<f64>,
}

/// Random loss of a path's segments, chosen by `model`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default, JsonSchema)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "Loss")]
pub enum RawLoss {
    /// No random loss.
    #[default]
    None,
    /// Each segment is lost independently with probability `p`.
    Bernoulli {
        /// Loss probability, in [0, 1].
        p: f64,
    },
    /// Bursty loss: a two-state (good, bad) Markov chain stepped once per segment.
    GilbertElliott {
        /// Probability of going from the good state to the bad one, in [0, 1].
        p_good_bad: f64,
        /// Probability of going from the bad state back to the good one, in [0, 1].
        p_bad_good: f64,
        /// Loss probability in the good state, in [0, 1].
        #[serde(default)]
        loss_good: f64,
        /// Loss probability in the bad state, in [0, 1].
        #[serde(default = "one")]
        loss_bad: f64,
    },
}

fn one() -> f64 {
    1.0
}

/// The network between the hosts. Addresses owned by no host are black holes; a dead or
/// crashed host silently drops what reaches it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Network")]
pub struct RawNetwork {
    /// Default one-way latency of every path.
    #[serde(default = "default_latency")]
    pub latency_ms: f64,
    /// Extra delay, uniform in [0, jitter_ms]; a path never reorders.
    #[serde(default)]
    pub jitter_ms: f64,
    /// Default random loss of every path.
    #[serde(default)]
    pub loss: RawLoss,
    /// Overrides per directed host pair (each direction draws from its own stream).
    #[serde(default)]
    pub paths: Vec<RawPath>,
    /// Scripted drops.
    #[serde(default)]
    pub drop: Vec<RawDropRule>,
    /// A router answers packets for addresses nobody owns with an ICMP destination-unreachable.
    #[serde(default)]
    pub icmp_unreachable: bool,
    /// The router's rate limit per destination: one ICMP error per this interval (Linux 1 s).
    #[serde(default = "default_icmp_interval")]
    pub icmp_interval_ms: f64,
    /// ... with bursts of up to this many (Linux 5).
    #[serde(default = "default_icmp_burst")]
    pub icmp_burst: u32,
    /// The code it answers with: `host_unreachable` (1, default), `net_unreachable` (0) or
    /// `admin_prohibited` (13).
    #[serde(default)]
    pub icmp_code: RawIcmpCode,
}

/// The code of the router's ICMP destination-unreachable.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "IcmpCode")]
pub enum RawIcmpCode {
    /// 0: connect fails with ENETUNREACH.
    NetUnreachable,
    /// 1: connect fails with EHOSTUNREACH.
    #[default]
    HostUnreachable,
    /// 13, a filtering router: connect fails with EHOSTUNREACH.
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

/// The network's settings overridden for one directed pair of hosts.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Path")]
pub struct RawPath {
    /// Sending host.
    pub from: String,
    /// Receiving host.
    pub to: String,
    /// One-way latency; `null`: the network's `latency_ms`.
    #[serde(default)]
    pub latency_ms: Option<f64>,
    /// Jitter; `null`: the network's `jitter_ms`.
    #[serde(default)]
    pub jitter_ms: Option<f64>,
    /// Random loss; `null`: the network's `loss`.
    #[serde(default)]
    pub loss: Option<RawLoss>,
    /// Also applies to `to -> from` (with its own random stream).
    #[serde(default = "default_true")]
    pub both_ways: bool,
}

/// Scripted drops of the segments that match `from`, `to` and `flags`: `nth` picks some,
/// `window_ms` all in a window (at least one of the two is needed).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "DropRule")]
pub struct RawDropRule {
    /// Sending host; `null`: any.
    #[serde(default)]
    pub from: Option<String>,
    /// Receiving host; `null`: any.
    #[serde(default)]
    pub to: Option<String>,
    /// Exact flags, a comma list of SYN, ACK, FIN, RST, PSH (e.g. "SYN,ACK"); `null`: any.
    #[serde(default)]
    pub flags: Option<String>,
    /// 1-based indices among matching segments to drop.
    #[serde(default)]
    pub nth: Vec<u64>,
    /// Drop every matching segment sent in [start, end).
    #[serde(default)]
    pub window_ms: Option<[f64; 2]>,
}

/// When the listener's application calls accept(), chosen by `mode`.
#[derive(Clone, Debug, Serialize, Deserialize, Default, JsonSchema)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "Accept")]
pub enum RawAccept {
    /// As soon as a connection is in the accept queue.
    #[default]
    Immediate,
    /// This long after a connection enters the accept queue.
    Delay {
        /// Time from entering the accept queue to accept().
        delay_ms: f64,
    },
    /// At a fixed rate: at most one accept per 1/rate_per_s.
    Rate {
        /// Accepts per second at most.
        rate_per_s: f64,
    },
    /// Never: the accept queue only fills.
    Never,
}

/// A listening socket, unique per `host:port`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Listener")]
pub struct RawListener {
    /// The host it listens on.
    pub host: String,
    /// The port it listens on.
    pub port: u16,
    /// The listen() backlog, in connections (capped by the stack's `somaxconn`).
    #[serde(default = "default_backlog")]
    pub backlog: u64,
    /// When the application accepts.
    #[serde(default)]
    pub accept: RawAccept,
    /// What the application does with an accepted connection.
    #[serde(default = "default_app")]
    pub app: crate::spec::ServerApp,
}

fn default_app() -> crate::spec::ServerApp {
    crate::spec::ServerApp::EchoUpper
}

/// When a client starts its connection attempts, chosen by `kind`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "Arrivals")]
pub enum RawArrivals {
    /// At the listed times.
    Times {
        /// Start times of the attempts (time since the start).
        times_ms: Vec<f64>,
    },
    /// Evenly spaced, at `rate_per_s` from `start_ms` to `stop_ms`.
    Constant {
        /// Attempts per second.
        rate_per_s: f64,
        /// First attempt (time since the start).
        #[serde(default)]
        start_ms: f64,
        /// No attempt from then on; `null`: the end of the run.
        #[serde(default)]
        stop_ms: Option<f64>,
        /// At most this many attempts; `null`: no limit.
        #[serde(default)]
        max: Option<u64>,
    },
    /// A Poisson process of rate `rate_per_s` from `start_ms` to `stop_ms`.
    Poisson {
        /// Mean attempts per second.
        rate_per_s: f64,
        /// Start of the process (time since the start).
        #[serde(default)]
        start_ms: f64,
        /// No attempt from then on; `null`: the end of the run.
        #[serde(default)]
        stop_ms: Option<f64>,
        /// At most this many attempts; `null`: no limit.
        #[serde(default)]
        max: Option<u64>,
    },
}

/// A client workload: connection attempts from a host to `target`, each with an optional
/// exchange.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Client")]
pub struct RawClient {
    /// Unique client name.
    pub name: String,
    /// The host it runs on.
    pub host: String,
    /// Source address; `null`: the host's first address of the target's family.
    #[serde(default)]
    pub addr: Option<String>,
    /// A pool of source addresses instead of `addr`; the client's host owns them. Absent: `addr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = null))]
    pub addrs: Option<RawAddrPool>,
    /// The server's address and port: `"10.0.0.1:7000"` or `"[fd00::1]:7000"`.
    pub target: String,
    /// When attempts start.
    pub arrivals: RawArrivals,
    /// Message written after the handshake (<= 32 bytes); `null` = no exchange.
    #[serde(default)]
    pub send: Option<String>,
    /// Wait after the handshake before writing the message.
    #[serde(default)]
    pub send_delay_ms: f64,
    /// Wait for a reply as long as the message (the echo_upper server) before closing;
    /// `false`: established once the message is written.
    #[serde(default = "default_true")]
    pub expect_reply: bool,
    /// Close the connection once the exchange is over.
    #[serde(default = "default_true")]
    pub close: bool,
    /// How the program calls connect() (measured difference: see docs/profiles.md).
    #[serde(default)]
    pub connect_mode: crate::spec::ConnectMode,
}

/// A client's source addresses, chosen by `kind`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "AddrPool")]
pub enum RawAddrPool {
    /// `count` consecutive addresses from `base`, drawn per attempt by `draw`. No other host's
    /// address or pool may overlap it.
    Range {
        /// First address of the pool.
        base: String,
        /// Number of addresses, 1 to 2^24, ending inside the address space.
        count: u64,
        /// How each attempt picks its address.
        #[serde(default)]
        draw: crate::spec::PoolDraw,
    },
}

/// Where an attacker's SYNs claim to come from, chosen by `kind`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "Spoof")]
pub enum RawSpoof {
    /// No spoofing: the attacker's own address.
    None,
    /// Uniformly from `count` consecutive addresses starting at `base`: unowned addresses are
    /// black holes, owned ones answer the SYN-ACK with RST.
    Range {
        /// First address of the range.
        base: String,
        /// Number of addresses.
        count: u64,
    },
    /// From the addresses of these (live) hosts: they answer the SYN-ACK with RST.
    Hosts {
        /// Host names.
        hosts: Vec<String>,
    },
}

/// How an attacker spaces its SYNs.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "FloodArrivals")]
pub enum RawFloodArrivals {
    /// Evenly, at the rate.
    Constant,
    /// A Poisson process of the rate.
    Poisson,
}

/// A SYN flood: SYNs that never complete the handshake.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Attacker")]
pub struct RawAttacker {
    /// Unique attacker name.
    pub name: String,
    /// The host the SYNs leave from.
    pub host: String,
    /// The victim's address and port: `"10.0.0.1:7000"` or `"[fd00::1]:7000"`.
    pub target: String,
    /// SYNs per second.
    pub rate_per_s: f64,
    /// How the SYNs are spaced.
    #[serde(default = "default_flood_arrivals")]
    pub arrivals: RawFloodArrivals,
    /// Start of the attack (time since the start).
    #[serde(default)]
    pub start_ms: f64,
    /// End of the attack; `null`: the end of the run.
    #[serde(default)]
    pub stop_ms: Option<f64>,
    /// Source addresses the SYNs claim.
    pub spoof: RawSpoof,
}

fn default_flood_arrivals() -> RawFloodArrivals {
    RawFloodArrivals::Poisson
}

/// Packet captures: a `<host>.pcapng` for each capture point (as `--pcap` does; `--pcap=...`
/// overrides `hosts`).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Capture")]
pub struct RawCapture {
    /// Capture points: `"listeners"` (every host with a listener), `"all"`, or a list of host
    /// names; at most 256. `null`: `"listeners"`.
    #[serde(default)]
    pub hosts: Option<RawCaptureHosts>,
    /// Packets per capture at most; the rest is left out, and summary.json says so.
    #[serde(default = "default_capture_packets")]
    pub max_packets: u64,
    /// Bytes per capture at most; the rest is left out, and summary.json says so.
    #[serde(default = "default_capture_bytes")]
    pub max_bytes: u64,
    /// Keep 1 in this many spoofed flows (an endpoint no host owns), chosen by a hash of the
    /// 4-tuple; legitimate flows are always kept.
    #[serde(default = "default_one")]
    pub spoofed_one_in: u64,
}

/// The hosts a capture covers.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "CaptureHosts")]
pub enum RawCaptureHosts {
    /// `"listeners"` (every host with a listener) or `"all"`.
    #[schemars(schema_with = "super::schema::capture_word")]
    Word(String),
    /// These hosts, by name.
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

/// Chart sizes and the ladder diagram.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Charts")]
pub struct RawCharts {
    /// Width of every chart, 200 to 8000.
    #[serde(default = "default_width")]
    pub width_px: u32,
    /// Height of every chart, 200 to 8000.
    #[serde(default = "default_height")]
    pub height_px: u32,
    /// Panels in the ladder diagram at most (0: none); a panel needs 380 px of `width_px`, so
    /// a narrow chart draws fewer.
    #[serde(default = "default_ladder")]
    pub ladder_connections: u32,
    /// Segments drawn at most, shared evenly by the ladder's connections (at most 500).
    #[serde(default = "default_ladder_segments")]
    pub ladder_max_segments: u32,
    /// Which connections the ladder draws: `"first"`, `"first_retransmitted"`,
    /// `"first_<outcome>"` (`first_timed_out`, `first_refused`, `first_reset`,
    /// `first_unreachable`, `first_established`), `"first_during:<attacker>"`,
    /// `"<client>:<attempt>"`, or an attempt number of the first client. Absent: the first
    /// connection, the first of each way of failing and the first retransmission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = ["first", "first_timed_out", "first_retransmitted",
        "first_refused", "first_reset", "first_unreachable"]))]
    pub ladder: Option<Vec<RawLadderPick>>,
}

/// One entry of `charts.ladder`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[schemars(rename = "LadderPick")]
#[serde(untagged)]
pub enum RawLadderPick {
    /// Attempt number (from 0, as in attempts.csv) of the first client.
    Attempt(u64),
    /// A rule: `first`, `first_retransmitted`, `first_<outcome>`, `first_during:<attacker>` or
    /// `<client>:<attempt>`.
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
