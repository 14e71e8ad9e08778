//! Scenario files: JSON in, validated once into the domain types the engine runs.
//!
//! [`load`] reads a file, [`parse`] a string. Both return a [`ScenarioError`] naming the JSON
//! path of the problem and its line and column: serde's own errors (type errors, unknown fields
//! thanks to `deny_unknown_fields`) and the semantic checks done here (nonsense values, names
//! that refer to nothing, budgets exceeded) alike.

mod locate;
pub mod raw;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use serde_json::Value;

pub use locate::Seg;
use raw::*;

use crate::net::{DropRule, HostId, IcmpSpec, LossModel, PathSpec};
use crate::tcp::listener::AcceptPolicy;
use crate::tcp::tcb::ServerApp;
use crate::tcp::{Profile, StackConfig};
use crate::time::{SimDuration, SimTime};
use crate::wire::{Flags, MAX_PAYLOAD};

/// A scenario problem, located in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// File (or `<input>`).
    pub file: String,
    /// JSON path, e.g. `hosts[1].stack.syn_retries`.
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "invalid scenario {} at `{}` (line {}, column {}): {}",
                self.file, self.path, self.line, self.column, self.message
            )
        }
    }
}

impl std::error::Error for ScenarioError {}

/// A validated host.
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

#[derive(Clone, Debug)]
pub struct ListenerSpec {
    pub host: HostId,
    pub port: u16,
    pub backlog: u64,
    pub accept: AcceptPolicy,
    pub app: ServerApp,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Arrivals {
    Times(Vec<SimTime>),
    Constant {
        interval: SimDuration,
        start: SimTime,
        stop: SimTime,
        max: u64,
    },
    Poisson {
        rate_per_s: f64,
        start: SimTime,
        stop: SimTime,
        max: u64,
    },
}

impl Arrivals {
    /// Expected number of arrivals (for the event budget).
    pub fn expected(&self) -> f64 {
        match self {
            Arrivals::Times(t) => t.len() as f64,
            Arrivals::Constant {
                interval,
                start,
                stop,
                max,
            } => ((stop.since(*start).as_ns() as f64 / interval.as_ns().max(1) as f64) + 1.0)
                .min(*max as f64),
            Arrivals::Poisson {
                rate_per_s,
                start,
                stop,
                max,
            } => (stop.since(*start).as_secs_f64() * rate_per_s).min(*max as f64),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ClientSpec {
    pub name: String,
    pub host: HostId,
    pub addr: IpAddr,
    pub target: SocketAddr,
    pub arrivals: Arrivals,
    pub send: Vec<u8>,
    pub send_delay: SimDuration,
    pub expect_reply: bool,
    pub close: bool,
}

#[derive(Clone, Debug)]
pub enum Spoof {
    Own,
    Range { base: IpAddr, count: u64 },
    Hosts(Vec<HostId>),
}

#[derive(Clone, Debug)]
pub struct AttackerSpec {
    pub name: String,
    pub host: HostId,
    pub target: SocketAddr,
    pub arrivals: Arrivals,
    pub spoof: Spoof,
}

#[derive(Clone, Debug)]
pub struct NetworkSpec {
    pub default_path: PathSpec,
    pub paths: Vec<((HostId, HostId), PathSpec)>,
    pub rules: Vec<DropRule>,
    pub icmp: Option<IcmpSpec>,
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
    pub charts: RawCharts,
    /// The scenario as understood: every default filled in (echoed in summary.json).
    pub understood: Value,
}

/// Reads and validates a scenario file. `name` defaults to the file stem.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    load_with_max_events(path, None)
}

/// [`load`], with the event budget overridden (the CLI's `--max-events`): the override applies
/// to the pre-run estimate too, so raising it lets a large scenario through validation.
pub fn load_with_max_events(
    path: &Path,
    max_events: Option<u64>,
) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: file.clone(),
        path: String::new(),
        line: 0,
        column: 0,
        message: format!("cannot read scenario file: {e}"),
    })?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into());
    parse_with_max_events(&text, &file, &stem, max_events)
}

/// Parses and validates scenario text.
pub fn parse(text: &str, file: &str, default_name: &str) -> Result<Scenario, ScenarioError> {
    parse_with_max_events(text, file, default_name, None)
}

/// [`parse`], with the event budget overridden (see [`load_with_max_events`]).
pub fn parse_with_max_events(
    text: &str,
    file: &str,
    default_name: &str,
    max_events: Option<u64>,
) -> Result<Scenario, ScenarioError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let mut raw: RawScenario = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let msg = inner.to_string();
        // serde_json appends " at line L column C": keep the message, report the position.
        let msg = match msg.rfind(" at line ") {
            Some(i) => msg[..i].to_string(),
            None => msg,
        };
        ScenarioError {
            file: file.into(),
            path: if path == "." { "(root)".into() } else { path },
            line: inner.line(),
            column: inner.column(),
            message: msg,
        }
    })?;
    if let Some(n) = max_events {
        raw.max_events = n;
    }
    Validator { text, file }.validate(raw, default_name)
}

struct Validator<'a> {
    text: &'a str,
    file: &'a str,
}

fn k(s: &str) -> Seg {
    Seg::Key(s.into())
}

impl Validator<'_> {
    fn err(&self, path: &[Seg], message: impl Into<String>) -> ScenarioError {
        let (line, column) = locate::line_col(self.text, path);
        ScenarioError {
            file: self.file.into(),
            path: locate::render(path),
            line,
            column,
            message: message.into(),
        }
    }

    fn ms(&self, path: &[Seg], v: f64) -> Result<SimDuration, ScenarioError> {
        if !v.is_finite() || v < 0.0 {
            return Err(self.err(path, format!("must be a finite number >= 0, got {v}")));
        }
        // 1e13 ms is about 317 years.
        if v > 1e13 {
            return Err(self.err(
                path,
                format!("{v} ms is beyond the supported 1e13 ms (~317 years)"),
            ));
        }
        Ok(SimDuration::from_ms_f64(v))
    }

    fn prob(&self, path: &[Seg], p: f64) -> Result<f64, ScenarioError> {
        if !(0.0..=1.0).contains(&p) || p.is_nan() {
            return Err(self.err(path, format!("probability must be within [0, 1], got {p}")));
        }
        Ok(p)
    }

    fn rate(&self, path: &[Seg], r: f64) -> Result<f64, ScenarioError> {
        if !r.is_finite() || r <= 0.0 {
            return Err(self.err(path, format!("rate must be a finite number > 0, got {r}")));
        }
        Ok(r)
    }

    fn loss(&self, path: &[Seg], l: &RawLoss) -> Result<LossModel, ScenarioError> {
        let sub = |f: &str| [path, &[k(f)]].concat();
        Ok(match l {
            RawLoss::None => LossModel::None,
            RawLoss::Bernoulli { p } => LossModel::Bernoulli {
                p: self.prob(&sub("p"), *p)?,
            },
            RawLoss::GilbertElliott {
                p_good_bad,
                p_bad_good,
                loss_good,
                loss_bad,
            } => LossModel::GilbertElliott {
                p_good_bad: self.prob(&sub("p_good_bad"), *p_good_bad)?,
                p_bad_good: self.prob(&sub("p_bad_good"), *p_bad_good)?,
                loss_good: self.prob(&sub("loss_good"), *loss_good)?,
                loss_bad: self.prob(&sub("loss_bad"), *loss_bad)?,
                bad: false,
            },
        })
    }

    fn host_id(
        &self,
        path: &[Seg],
        hosts: &[HostSpec],
        name: &str,
    ) -> Result<HostId, ScenarioError> {
        hosts
            .iter()
            .position(|h| h.name == name)
            .map(|i| HostId(i as u32))
            .ok_or_else(|| {
                let known: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
                self.err(
                    path,
                    format!("no host named {name:?} (hosts: {})", known.join(", ")),
                )
            })
    }

    fn socket(&self, path: &[Seg], s: &str) -> Result<SocketAddr, ScenarioError> {
        let a: SocketAddr = s.parse().map_err(|_| {
            self.err(
                path,
                format!(
                    "{s:?} is not an address:port (e.g. \"10.0.0.1:7000\" or \"[fd00::1]:7000\")"
                ),
            )
        })?;
        if a.port() == 0 {
            return Err(self.err(path, "port 0 is not a valid destination port"));
        }
        Ok(a)
    }

    fn arrivals(
        &self,
        path: &[Seg],
        a: &RawArrivals,
        end: SimTime,
    ) -> Result<Arrivals, ScenarioError> {
        let sub = |f: &str| [path, &[k(f)]].concat();
        let window = |start: f64, stop: Option<f64>| -> Result<(SimTime, SimTime), ScenarioError> {
            let s = SimTime::ZERO + self.ms(&sub("start_ms"), start)?;
            let e = match stop {
                Some(v) => SimTime::ZERO + self.ms(&sub("stop_ms"), v)?,
                None => end,
            };
            if e < s {
                return Err(self.err(&sub("stop_ms"), "stop_ms must not be before start_ms"));
            }
            Ok((s, e.min(end)))
        };
        Ok(match a {
            RawArrivals::Times { times_ms } => {
                let mut v = Vec::with_capacity(times_ms.len());
                for (i, t) in times_ms.iter().enumerate() {
                    let p = [path, &[k("times_ms"), Seg::Index(i)]].concat();
                    v.push(SimTime::ZERO + self.ms(&p, *t)?);
                }
                v.sort();
                Arrivals::Times(v)
            }
            RawArrivals::Constant {
                rate_per_s,
                start_ms,
                stop_ms,
                max,
            } => {
                let r = self.rate(&sub("rate_per_s"), *rate_per_s)?;
                let (start, stop) = window(*start_ms, *stop_ms)?;
                let interval = SimDuration::from_ms_f64(1000.0 / r);
                if interval.as_ns() == 0 {
                    return Err(self.err(
                        &sub("rate_per_s"),
                        "rate above 1e9 per second (interval below 1 ns)",
                    ));
                }
                Arrivals::Constant {
                    interval,
                    start,
                    stop,
                    max: max.unwrap_or(u64::MAX),
                }
            }
            RawArrivals::Poisson {
                rate_per_s,
                start_ms,
                stop_ms,
                max,
            } => {
                let r = self.rate(&sub("rate_per_s"), *rate_per_s)?;
                // Gaps are whole nanoseconds: with a mean gap below 1 ns most round to 0 and
                // arrivals pile up at one instant without end.
                if r > 1e9 {
                    return Err(self.err(
                        &sub("rate_per_s"),
                        "rate above 1e9 per second (mean interval below 1 ns)",
                    ));
                }
                let (start, stop) = window(*start_ms, *stop_ms)?;
                Arrivals::Poisson {
                    rate_per_s: r,
                    start,
                    stop,
                    max: max.unwrap_or(u64::MAX),
                }
            }
        })
    }

    fn stack(
        &self,
        path: &[Seg],
        profile: Profile,
        overrides: &serde_json::Map<String, Value>,
    ) -> Result<StackConfig, ScenarioError> {
        let mut v = serde_json::to_value(profile.config()).expect("StackConfig serialises");
        let obj = v.as_object_mut().expect("StackConfig is an object");
        for (key, val) in overrides {
            if !obj.contains_key(key) {
                let mut known: Vec<&String> = obj.keys().collect();
                known.sort();
                let list: Vec<&str> = known.iter().map(|s| s.as_str()).collect();
                return Err(self.err(
                    &[path, &[k(key)]].concat(),
                    format!("unknown stack knob `{key}` (knobs: {})", list.join(", ")),
                ));
            }
            // Accept Linux's numeric syncookies values too.
            let val = match (key.as_str(), val) {
                ("syncookies", Value::Number(n)) => match n.as_u64() {
                    Some(0) => Value::from("off"),
                    Some(1) => Value::from("on_overflow"),
                    Some(2) => Value::from("always"),
                    _ => val.clone(),
                },
                _ => val.clone(),
            };
            obj.insert(key.clone(), val);
        }
        let cfg: StackConfig = serde_path_to_error::deserialize(v).map_err(|e| {
            let p = e.path().to_string();
            let mut full = path.to_vec();
            let first = p.split(['.', '[']).next().unwrap_or("").to_string();
            if !first.is_empty() && first != "?" {
                full.push(k(&first));
            }
            self.err(&full, e.into_inner().to_string())
        })?;
        if let Err((field, msg)) = cfg.validate() {
            return Err(self.err(&[path, &[k(field)]].concat(), msg));
        }
        Ok(cfg)
    }

    fn validate(&self, raw: RawScenario, default_name: &str) -> Result<Scenario, ScenarioError> {
        let duration = self.ms(&[k("duration_ms")], raw.duration_ms)?;
        if duration.as_ns() == 0 {
            return Err(self.err(&[k("duration_ms")], "must be > 0"));
        }
        let end = SimTime::ZERO + duration;
        let sample_interval = self.ms(&[k("sample_interval_ms")], raw.sample_interval_ms)?;
        if sample_interval.as_ns() < 1_000 {
            return Err(self.err(&[k("sample_interval_ms")], "must be at least 0.001 ms"));
        }
        let samples = duration.as_ns() / sample_interval.as_ns();
        if samples > 10_000_000 {
            return Err(self.err(
                &[k("sample_interval_ms")],
                format!("{samples} timeline samples (duration / interval) is above the 10 000 000 limit: raise sample_interval_ms"),
            ));
        }
        if raw.hosts.is_empty() {
            return Err(self.err(&[k("hosts")], "at least one host is required"));
        }

        // ---- hosts
        let mut hosts: Vec<HostSpec> = Vec::new();
        let mut all_addrs: Vec<(IpAddr, usize)> = Vec::new();
        for (i, h) in raw.hosts.iter().enumerate() {
            let p = [k("hosts"), Seg::Index(i)];
            if h.name.is_empty() {
                return Err(self.err(
                    &[&p[..], &[k("name")]].concat(),
                    "host name must not be empty",
                ));
            }
            if hosts.iter().any(|o| o.name == h.name) {
                return Err(self.err(
                    &[&p[..], &[k("name")]].concat(),
                    format!("duplicate host name {:?}", h.name),
                ));
            }
            if h.addrs.is_empty() {
                return Err(self.err(
                    &[&p[..], &[k("addrs")]].concat(),
                    "a host needs at least one address",
                ));
            }
            let mut addrs = Vec::new();
            for (j, a) in h.addrs.iter().enumerate() {
                let ap = [&p[..], &[k("addrs"), Seg::Index(j)]].concat();
                let ip: IpAddr = a
                    .parse()
                    .map_err(|_| self.err(&ap, format!("{a:?} is not an IPv4 or IPv6 address")))?;
                if let Some((_, other)) = all_addrs.iter().find(|(x, _)| *x == ip) {
                    return Err(self.err(
                        &ap,
                        format!(
                            "address {ip} already belongs to host {:?}",
                            raw.hosts[*other].name
                        ),
                    ));
                }
                all_addrs.push((ip, i));
                addrs.push(ip);
            }
            let profile = Profile::parse(&h.profile).ok_or_else(|| {
                self.err(
                    &[&p[..], &[k("profile")]].concat(),
                    format!("unknown profile {:?} (linux, freebsd, rfc9293)", h.profile),
                )
            })?;
            let stack = self.stack(&[&p[..], &[k("stack")]].concat(), profile, &h.stack)?;
            if !h.alive && !h.crashes.is_empty() {
                // A restart would bring up a host that never booted (its listeners opened twice).
                return Err(self.err(
                    &[&p[..], &[k("crashes")]].concat(),
                    "a host with alive: false is dead for the whole run and cannot crash or restart; remove its crashes or set alive: true",
                ));
            }
            let mut crashes = Vec::new();
            let mut last = SimTime::ZERO;
            for (j, c) in h.crashes.iter().enumerate() {
                let cp = [&p[..], &[k("crashes"), Seg::Index(j)]].concat();
                let at = SimTime::ZERO + self.ms(&[&cp[..], &[k("at_ms")]].concat(), c.at_ms)?;
                if at < last
                    || (j > 0
                        && crashes
                            .last()
                            .is_some_and(|&(_, r): &(SimTime, Option<SimTime>)| r.is_none()))
                {
                    return Err(self.err(
                        &cp,
                        "crashes must be in time order, each after the previous restart",
                    ));
                }
                let restart = match c.restart_ms {
                    Some(r) => {
                        let r =
                            SimTime::ZERO + self.ms(&[&cp[..], &[k("restart_ms")]].concat(), r)?;
                        if r <= at {
                            return Err(self.err(
                                &[&cp[..], &[k("restart_ms")]].concat(),
                                "restart_ms must be after at_ms",
                            ));
                        }
                        last = r;
                        Some(r)
                    }
                    None => None,
                };
                crashes.push((at, restart));
            }
            hosts.push(HostSpec {
                name: h.name.clone(),
                addrs,
                profile,
                stack,
                alive: h.alive,
                crashes,
            });
        }

        // ---- network
        let n = &raw.network;
        let np = [k("network")];
        let default_path = PathSpec {
            latency: self.ms(&[&np[..], &[k("latency_ms")]].concat(), n.latency_ms)?,
            jitter: self.ms(&[&np[..], &[k("jitter_ms")]].concat(), n.jitter_ms)?,
            loss: self.loss(&[&np[..], &[k("loss")]].concat(), &n.loss)?,
        };
        let mut paths = Vec::new();
        for (i, p) in n.paths.iter().enumerate() {
            let pp = [&np[..], &[k("paths"), Seg::Index(i)]].concat();
            let from = self.host_id(&[&pp[..], &[k("from")]].concat(), &hosts, &p.from)?;
            let to = self.host_id(&[&pp[..], &[k("to")]].concat(), &hosts, &p.to)?;
            let spec = PathSpec {
                latency: match p.latency_ms {
                    Some(v) => self.ms(&[&pp[..], &[k("latency_ms")]].concat(), v)?,
                    None => default_path.latency,
                },
                jitter: match p.jitter_ms {
                    Some(v) => self.ms(&[&pp[..], &[k("jitter_ms")]].concat(), v)?,
                    None => default_path.jitter,
                },
                loss: match &p.loss {
                    Some(l) => self.loss(&[&pp[..], &[k("loss")]].concat(), l)?,
                    None => default_path.loss.clone(),
                },
            };
            if p.both_ways {
                paths.push(((to, from), spec.clone()));
            }
            paths.push(((from, to), spec));
        }
        let mut rules = Vec::new();
        for (i, r) in n.drop.iter().enumerate() {
            let rp = [&np[..], &[k("drop"), Seg::Index(i)]].concat();
            let from = match &r.from {
                Some(h) => Some(self.host_id(&[&rp[..], &[k("from")]].concat(), &hosts, h)?),
                None => None,
            };
            let to = match &r.to {
                Some(h) => Some(self.host_id(&[&rp[..], &[k("to")]].concat(), &hosts, h)?),
                None => None,
            };
            let flags = match &r.flags {
                Some(f) => Some(Flags::parse(f).ok_or_else(|| {
                    self.err(
                        &[&rp[..], &[k("flags")]].concat(),
                        format!("{f:?}: flags are a comma list of SYN, ACK, FIN, RST, PSH"),
                    )
                })?),
                None => None,
            };
            if r.nth.contains(&0) {
                return Err(self.err(&[&rp[..], &[k("nth")]].concat(), "nth counts from 1"));
            }
            let window = match r.window_ms {
                Some([a, b]) => {
                    let wp = [&rp[..], &[k("window_ms")]].concat();
                    let (a, b) = (self.ms(&wp, a)?, self.ms(&wp, b)?);
                    if b < a {
                        return Err(self.err(&wp, "window end before start"));
                    }
                    Some((SimTime::ZERO + a, SimTime::ZERO + b))
                }
                None => None,
            };
            if r.nth.is_empty() && window.is_none() {
                return Err(self.err(&rp, "a drop rule needs `nth` or `window_ms`"));
            }
            rules.push(DropRule::new(from, to, flags, r.nth.clone(), window));
        }
        let icmp = if n.icmp_unreachable {
            let interval = self.ms(
                &[&np[..], &[k("icmp_interval_ms")]].concat(),
                n.icmp_interval_ms,
            )?;
            if n.icmp_burst == 0 {
                return Err(self.err(&[&np[..], &[k("icmp_burst")]].concat(), "must be >= 1"));
            }
            Some(IcmpSpec {
                interval,
                burst: n.icmp_burst,
            })
        } else {
            None
        };

        // ---- listeners
        let mut listeners: Vec<ListenerSpec> = Vec::new();
        for (i, l) in raw.listeners.iter().enumerate() {
            let lp = [k("listeners"), Seg::Index(i)];
            let host = self.host_id(&[&lp[..], &[k("host")]].concat(), &hosts, &l.host)?;
            if l.port == 0 {
                return Err(self.err(&[&lp[..], &[k("port")]].concat(), "port must be 1..65535"));
            }
            if listeners.iter().any(|o| o.host == host && o.port == l.port) {
                return Err(self.err(
                    &[&lp[..], &[k("port")]].concat(),
                    format!("host {:?} already listens on port {}", l.host, l.port),
                ));
            }
            if l.backlog == 0 {
                return Err(self.err(&[&lp[..], &[k("backlog")]].concat(), "backlog must be >= 1"));
            }
            if l.backlog > 1 << 40 {
                return Err(self.err(
                    &[&lp[..], &[k("backlog")]].concat(),
                    "backlog above 2^40 is not supported",
                ));
            }
            let ap = [&lp[..], &[k("accept")]].concat();
            let accept = match &l.accept {
                RawAccept::Immediate => AcceptPolicy::Immediate,
                RawAccept::Never => AcceptPolicy::Never,
                RawAccept::Delay { delay_ms } => {
                    AcceptPolicy::Delay(self.ms(&[&ap[..], &[k("delay_ms")]].concat(), *delay_ms)?)
                }
                RawAccept::Rate { rate_per_s } => {
                    let r = self.rate(&[&ap[..], &[k("rate_per_s")]].concat(), *rate_per_s)?;
                    AcceptPolicy::Rate(SimDuration::from_ms_f64(1000.0 / r).max(SimDuration(1)))
                }
            };
            listeners.push(ListenerSpec {
                host,
                port: l.port,
                backlog: l.backlog,
                accept,
                app: l.app,
            });
        }

        // ---- clients
        let mut clients = Vec::new();
        for (i, c) in raw.clients.iter().enumerate() {
            let cp = [k("clients"), Seg::Index(i)];
            if clients.iter().any(|o: &ClientSpec| o.name == c.name) {
                return Err(self.err(
                    &[&cp[..], &[k("name")]].concat(),
                    format!("duplicate client name {:?}", c.name),
                ));
            }
            let host = self.host_id(&[&cp[..], &[k("host")]].concat(), &hosts, &c.host)?;
            let target = self.socket(&[&cp[..], &[k("target")]].concat(), &c.target)?;
            let hs = &hosts[host.0 as usize];
            let addr = match &c.addr {
                Some(a) => {
                    let ap = [&cp[..], &[k("addr")]].concat();
                    let ip: IpAddr = a
                        .parse()
                        .map_err(|_| self.err(&ap, format!("{a:?} is not an IP address")))?;
                    if !hs.addrs.contains(&ip) {
                        return Err(
                            self.err(&ap, format!("{ip} is not an address of host {:?}", hs.name))
                        );
                    }
                    ip
                }
                None => *hs
                    .addrs
                    .iter()
                    .find(|a| a.is_ipv4() == target.is_ipv4())
                    .ok_or_else(|| {
                        self.err(
                            &[&cp[..], &[k("target")]].concat(),
                            format!("host {:?} has no address of the target's family", hs.name),
                        )
                    })?,
            };
            if addr.is_ipv4() != target.is_ipv4() {
                return Err(self.err(
                    &[&cp[..], &[k("addr")]].concat(),
                    "source and target address families differ",
                ));
            }
            let arrivals =
                self.arrivals(&[&cp[..], &[k("arrivals")]].concat(), &c.arrivals, end)?;
            let send = c.send.clone().unwrap_or_default().into_bytes();
            if send.len() > MAX_PAYLOAD {
                return Err(self.err(
                    &[&cp[..], &[k("send")]].concat(),
                    format!("message is {} bytes; at most {MAX_PAYLOAD}", send.len()),
                ));
            }
            clients.push(ClientSpec {
                name: c.name.clone(),
                host,
                addr,
                target,
                arrivals,
                send,
                send_delay: self.ms(&[&cp[..], &[k("send_delay_ms")]].concat(), c.send_delay_ms)?,
                expect_reply: c.expect_reply,
                close: c.close,
            });
        }

        // ---- attackers
        let mut attackers = Vec::new();
        for (i, a) in raw.attackers.iter().enumerate() {
            let ap = [k("attackers"), Seg::Index(i)];
            let host = self.host_id(&[&ap[..], &[k("host")]].concat(), &hosts, &a.host)?;
            let target = self.socket(&[&ap[..], &[k("target")]].concat(), &a.target)?;
            let rate = self.rate(&[&ap[..], &[k("rate_per_s")]].concat(), a.rate_per_s)?;
            let raw_arr = match a.arrivals {
                RawFloodArrivals::Constant => RawArrivals::Constant {
                    rate_per_s: rate,
                    start_ms: a.start_ms,
                    stop_ms: a.stop_ms,
                    max: None,
                },
                RawFloodArrivals::Poisson => RawArrivals::Poisson {
                    rate_per_s: rate,
                    start_ms: a.start_ms,
                    stop_ms: a.stop_ms,
                    max: None,
                },
            };
            let arrivals = self.arrivals(&ap, &raw_arr, end)?;
            let sp = [&ap[..], &[k("spoof")]].concat();
            let spoof = match &a.spoof {
                RawSpoof::None => Spoof::Own,
                RawSpoof::Range { base, count } => {
                    let ip: IpAddr = base.parse().map_err(|_| {
                        self.err(
                            &[&sp[..], &[k("base")]].concat(),
                            format!("{base:?} is not an IP address"),
                        )
                    })?;
                    if *count == 0 || *count > 1 << 24 {
                        return Err(self.err(
                            &[&sp[..], &[k("count")]].concat(),
                            "count must be within 1..=16777216",
                        ));
                    }
                    if ip.is_ipv4() != target.is_ipv4() {
                        return Err(self.err(
                            &[&sp[..], &[k("base")]].concat(),
                            "spoofed addresses must be of the target's family",
                        ));
                    }
                    if let IpAddr::V4(v4) = ip {
                        if u32::from(v4) as u64 + count - 1 > u32::MAX as u64 {
                            return Err(self.err(
                                &[&sp[..], &[k("count")]].concat(),
                                "range runs past 255.255.255.255",
                            ));
                        }
                    }
                    Spoof::Range {
                        base: ip,
                        count: *count,
                    }
                }
                RawSpoof::Hosts { hosts: names } => {
                    if names.is_empty() {
                        return Err(
                            self.err(&[&sp[..], &[k("hosts")]].concat(), "at least one host")
                        );
                    }
                    let mut ids = Vec::new();
                    for (j, nm) in names.iter().enumerate() {
                        ids.push(self.host_id(
                            &[&sp[..], &[k("hosts"), Seg::Index(j)]].concat(),
                            &hosts,
                            nm,
                        )?);
                    }
                    Spoof::Hosts(ids)
                }
            };
            attackers.push(AttackerSpec {
                name: a.name.clone(),
                host,
                target,
                arrivals,
                spoof,
            });
        }

        // ---- charts
        let ch = &raw.charts;
        for (f, v) in [("width_px", ch.width_px), ("height_px", ch.height_px)] {
            if !(200..=8000).contains(&v) {
                return Err(self.err(
                    &[k("charts"), k(f)],
                    format!("{v}: must be within 200..=8000"),
                ));
            }
        }
        if ch.ladder_max_segments > 500 {
            return Err(self.err(&[k("charts"), k("ladder_max_segments")], "at most 500"));
        }

        // ---- budget: refuse up front what would blow the event budget.
        let arrivals: f64 = clients
            .iter()
            .map(|c| c.arrivals.expected() * 12.0)
            .sum::<f64>()
            + attackers
                .iter()
                .map(|a| a.arrivals.expected() * 8.0)
                .sum::<f64>();
        if arrivals > raw.max_events as f64 {
            return Err(self.err(
                &[k("max_events")],
                format!(
                    "the traffic described would take about {arrivals:.3e} events, above max_events = {}; lower the rates or durations, or raise max_events (or pass --max-events)",
                    raw.max_events
                ),
            ));
        }

        let name = raw.name.clone().unwrap_or_else(|| default_name.to_string());
        let mut understood = serde_json::to_value(&raw).expect("raw scenario serialises");
        // Fill the resolved stack of every host (profile + overrides).
        if let Some(hs) = understood.get_mut("hosts").and_then(Value::as_array_mut) {
            for (h, spec) in hs.iter_mut().zip(&hosts) {
                h["stack"] = serde_json::to_value(&spec.stack).expect("stack serialises");
            }
        }
        understood["name"] = Value::from(name.clone());
        Ok(Scenario {
            name,
            description: raw.description,
            seed: raw.seed,
            duration,
            sample_interval,
            max_events: raw.max_events,
            hosts,
            network: NetworkSpec {
                default_path,
                paths,
                rules,
                icmp,
            },
            listeners,
            clients,
            attackers,
            charts: raw.charts,
            understood,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = r#"{"duration_ms": 1000, "hosts": [{"name": "a", "addrs": ["10.0.0.1"]}]}"#;

    #[test]
    fn minimal_scenario_gets_defaults() {
        let s = parse(MIN, "t.json", "t").unwrap();
        assert_eq!(s.name, "t");
        assert_eq!(s.seed, 1);
        assert_eq!(s.sample_interval, SimDuration::from_ms(100));
        assert_eq!(s.hosts[0].stack, StackConfig::linux());
        assert_eq!(s.understood["hosts"][0]["stack"]["syn_retries"], 6);
    }

    #[test]
    fn unknown_field_names_path_and_position() {
        let src = "{\"duration_ms\": 1000,\n \"hosts\": [{\"name\": \"a\", \"addrs\": [\"10.0.0.1\"], \"syn_backlogg\": 3}]}";
        let e = parse(src, "t.json", "t").unwrap_err();
        assert!(e.path.starts_with("hosts[0]"), "{e}");
        assert!(e.message.contains("syn_backlogg"), "{e}");
        assert_eq!(e.line, 2);
    }

    #[test]
    fn nonsense_values_are_located() {
        let src = "{\"duration_ms\": 1000,\n \"hosts\": [{\"name\": \"a\", \"addrs\": [\"10.0.0.1\"]}],\n \"network\": {\"loss\": {\"model\": \"bernoulli\", \"p\": 1.5}}}";
        let e = parse(src, "t.json", "t").unwrap_err();
        assert_eq!(e.path, "network.loss.p");
        assert_eq!((e.line, e.column), (3, 45));
        assert!(e.message.contains("[0, 1]"));
    }

    #[test]
    fn listener_on_missing_host() {
        let src = r#"{"duration_ms": 1000, "hosts": [{"name": "a", "addrs": ["10.0.0.1"]}],
            "listeners": [{"host": "b", "port": 80}]}"#;
        let e = parse(src, "t.json", "t").unwrap_err();
        assert_eq!(e.path, "listeners[0].host");
        assert!(e.message.contains("no host named \"b\""), "{e}");
    }

    #[test]
    fn unknown_stack_knob_and_numeric_syncookies() {
        let src = r#"{"duration_ms": 1000, "hosts": [{"name": "a", "addrs": ["10.0.0.1"], "stack": {"syncookies": 0}}]}"#;
        let s = parse(src, "t.json", "t").unwrap();
        assert_eq!(s.hosts[0].stack.syncookies, crate::tcp::SynCookies::Off);
        let src = r#"{"duration_ms": 1000, "hosts": [{"name": "a", "addrs": ["10.0.0.1"], "stack": {"syn_retriez": 2}}]}"#;
        let e = parse(src, "t.json", "t").unwrap_err();
        assert_eq!(e.path, "hosts[0].stack.syn_retriez");
    }

    #[test]
    fn huge_rates_are_refused_by_the_budget() {
        let src = r#"{"duration_ms": 60000, "hosts": [{"name": "a", "addrs": ["10.0.0.1"]}],
            "attackers": [{"name": "x", "host": "a", "target": "10.0.0.2:80", "rate_per_s": 1e8, "spoof": {"kind": "none"}}]}"#;
        let e = parse(src, "t.json", "t").unwrap_err();
        assert_eq!(e.path, "max_events");
        // Above 1e9/s a rate is refused as such (gaps would be below 1 ns).
        let e = parse(&src.replace("1e8", "1e15"), "t.json", "t").unwrap_err();
        assert_eq!(e.path, "attackers[0].rate_per_s");
    }
}
