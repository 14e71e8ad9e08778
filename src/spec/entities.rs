//! The named entities of a scenario: hosts, listeners, clients and attackers.

use std::net::{IpAddr, SocketAddr};

use schemars::JsonSchema;

use super::Arrivals;
use crate::net::HostId;
use crate::tcp::{Profile, StackConfig};
use crate::time::{SimDuration, SimTime};

/// A validated host. Its name follows the scenario name rule (ASCII letters, digits, `_`, `-`,
/// `.`; no `/`), so names built from it, such as random-stream names, are unambiguous.
#[derive(Clone, Debug)]
pub struct HostSpec {
    pub name: String,
    pub addrs: Vec<IpAddr>,
    pub profile: Profile,
    pub stack: StackConfig,
    pub alive: bool,
    /// (crash time, restart time).
    pub crashes: Vec<(SimTime, Option<SimTime>)>,
}

/// How the listening application calls accept().
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptPolicy {
    /// As soon as a connection is in the accept queue.
    Immediate,
    /// Each connection is accepted this long after it entered the queue.
    Delay(SimDuration),
    /// At most one accept per interval (an application that accepts at a fixed rate).
    Rate(SimDuration),
    /// Never: the accept queue only fills.
    Never,
}

/// What a server application does with an accepted connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServerApp {
    /// Reply to every message with its upper-case copy; close when the client closes.
    EchoUpper,
    /// Read and ignore; close when the client closes.
    Discard,
    /// Close right after accept (the server closes first and ends in TIME-WAIT).
    Close,
}

/// A listening socket; identified by `host:port` (unique per scenario).
#[derive(Clone, Debug)]
pub struct ListenerSpec {
    pub host: HostId,
    pub port: u16,
    pub backlog: u64,
    pub accept: AcceptPolicy,
    pub app: ServerApp,
}

/// How a client picks the source address of each attempt from its pool.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PoolDraw {
    /// Attempt `i` (from 0) uses `base + i mod count`: every address once before any twice.
    #[default]
    Sequential,
    /// Uniformly at random, from the client's own stream `client/NAME/addrs`.
    Random,
}

/// `count` consecutive source addresses from `base`, all owned by the client's host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddrPool {
    pub base: IpAddr,
    pub count: u64,
    pub draw: PoolDraw,
}

/// A client workload: connection attempts to `target`, each with an optional exchange.
#[derive(Clone, Debug)]
pub struct ClientSpec {
    pub name: String,
    pub host: HostId,
    /// The source address (with a pool: its first address).
    pub addr: IpAddr,
    /// Source addresses drawn per attempt, instead of `addr`.
    pub pool: Option<AddrPool>,
    pub target: SocketAddr,
    pub arrivals: Arrivals,
    pub send: Vec<u8>,
    pub send_delay: SimDuration,
    pub expect_reply: bool,
    pub close: bool,
    pub connect_mode: ConnectMode,
}

/// How the client's program calls `connect()`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ConnectMode {
    /// A blocking `connect()`: returns when the connection is established or fails hard.
    #[default]
    Blocking,
    /// `O_NONBLOCK`, then `poll()` and `getsockopt(SO_ERROR)`, which also reports soft errors.
    Nonblocking,
}

/// Where an attacker's SYNs claim to come from.
#[derive(Clone, Debug)]
pub enum Spoof {
    /// The attacker's own address.
    Own,
    /// `count` consecutive addresses from `base`; the range ends within the address space.
    Range { base: IpAddr, count: u64 },
    /// The addresses of these hosts.
    Hosts(Vec<HostId>),
}

/// A SYN flood.
#[derive(Clone, Debug)]
pub struct AttackerSpec {
    pub name: String,
    pub host: HostId,
    pub target: SocketAddr,
    pub arrivals: Arrivals,
    pub spoof: Spoof,
}
