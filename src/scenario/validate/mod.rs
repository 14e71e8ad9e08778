//! Semantic checks, one section per file: each turns a raw section into its `crate::spec`
//! type or an error at the JSON path of the offending value.
//!
//! Duplicate checks use maps and sets (never a scan of what came before), so validation is
//! linear in the number of entities.

mod attackers;
mod capture;
pub(crate) use capture::capture_hosts;
mod charts;
mod clients;
mod hosts;
mod listeners;
mod network;
mod stack;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use serde_json::Value;

use super::raw::RawScenario;
use super::{ScenarioError, Seg, locate};
use crate::net::HostId;
use crate::spec::{HostSpec, Scenario};
use crate::time::{SimDuration, SimTime};

/// Longest name of a host, client, attacker or listener.
pub const MAX_NAME_CHARS: usize = 64;
/// Most addresses in a spoof range or a client pool (a /8 of IPv4).
pub const MAX_RANGE_COUNT: u64 = 1 << 24;
/// Longest scenario `name`.
pub const MAX_SCENARIO_NAME_CHARS: usize = 200;
/// Longest scenario `description`.
pub const MAX_DESCRIPTION_CHARS: usize = 4096;

/// Who set the event budget: the file (or its default), or the `--max-events` flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetSource {
    File,
    Flag,
}

pub(super) struct Validator<'a> {
    pub text: &'a str,
    pub file: &'a str,
    pub budget: BudgetSource,
}

pub(super) fn k(s: &str) -> Seg {
    Seg::Key(s.into())
}

/// `path` + one key.
pub(super) fn at(path: &[Seg], key: &str) -> Vec<Seg> {
    let mut p = path.to_vec();
    p.push(k(key));
    p
}

/// Host names to ids, for the sections that refer to hosts.
pub(super) struct HostIndex<'h> {
    hosts: &'h [HostSpec],
    by_name: HashMap<&'h str, HostId>,
}

impl<'h> HostIndex<'h> {
    fn new(hosts: &'h [HostSpec]) -> Self {
        let by_name = hosts
            .iter()
            .enumerate()
            .map(|(i, h)| (h.name.as_str(), HostId(i as u32)))
            .collect();
        HostIndex { hosts, by_name }
    }

    pub fn spec(&self, id: HostId) -> &'h HostSpec {
        &self.hosts[id.0 as usize]
    }
}

/// Shortens a user string for a message.
pub(super) fn shown(s: &str) -> String {
    if s.chars().count() <= 40 {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(40).collect();
        format!("{head:?}... ({} characters)", s.chars().count())
    }
}

impl Validator<'_> {
    pub fn err(&self, path: &[Seg], message: impl Into<String>) -> ScenarioError {
        let (line, column) = locate::line_col(self.text, path);
        ScenarioError {
            file: self.file.into(),
            path: locate::render(path),
            line,
            column,
            message: message.into(),
        }
    }

    pub fn ms(&self, path: &[Seg], v: f64) -> Result<SimDuration, ScenarioError> {
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

    pub fn prob(&self, path: &[Seg], p: f64) -> Result<f64, ScenarioError> {
        if !(0.0..=1.0).contains(&p) || p.is_nan() {
            return Err(self.err(path, format!("probability must be within [0, 1], got {p}")));
        }
        Ok(p)
    }

    pub fn rate(&self, path: &[Seg], r: f64) -> Result<f64, ScenarioError> {
        if !r.is_finite() || r <= 0.0 {
            return Err(self.err(path, format!("rate must be a finite number > 0, got {r}")));
        }
        Ok(r)
    }

    /// The name rule for hosts, clients and attackers: 1 to 64 ASCII letters, digits, `_`,
    /// `-` or `.`, starting with a letter or digit. Names appear in CSV headers, JSON lines,
    /// chart labels and random-stream names (`host/NAME/stack`): with no `/`, `,`, quote or
    /// space in them, none of those needs escaping and no two streams can share a name.
    pub fn name(&self, path: &[Seg], kind: &str, s: &str) -> Result<(), ScenarioError> {
        const RULE: &str = "names use only ASCII letters, digits, `_`, `-` and `.`, start with a letter or digit, and have at most 64 characters";
        if s.is_empty() {
            return Err(self.err(path, format!("{kind} name must not be empty")));
        }
        let n = s.chars().count();
        if n > MAX_NAME_CHARS {
            return Err(self.err(
                path,
                format!("{kind} name {} is {n} characters long: {RULE}", shown(s)),
            ));
        }
        for (i, c) in s.chars().enumerate() {
            let ok = c.is_ascii_alphanumeric() || (i > 0 && matches!(c, '_' | '-' | '.'));
            if !ok {
                return Err(self.err(
                    path,
                    format!(
                        "{kind} name {} has {c:?} at character {}: {RULE}",
                        shown(s),
                        i + 1
                    ),
                ));
            }
        }
        Ok(())
    }

    pub fn host_id(
        &self,
        path: &[Seg],
        hosts: &HostIndex,
        name: &str,
    ) -> Result<HostId, ScenarioError> {
        if let Some(&id) = hosts.by_name.get(name) {
            return Ok(id);
        }
        const SHOWN: usize = 10;
        let known: Vec<&str> = hosts
            .hosts
            .iter()
            .take(SHOWN)
            .map(|h| h.name.as_str())
            .collect();
        let more = hosts.hosts.len().saturating_sub(SHOWN);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        Err(self.err(
            path,
            format!(
                "no host named {} (hosts: {}{more})",
                shown(name),
                known.join(", ")
            ),
        ))
    }

    pub fn socket(&self, path: &[Seg], s: &str) -> Result<SocketAddr, ScenarioError> {
        let a: SocketAddr = s.parse().map_err(|_| {
            self.err(
                path,
                format!(
                    "{} is not an address:port (e.g. \"10.0.0.1:7000\" or \"[fd00::1]:7000\")",
                    shown(s)
                ),
            )
        })?;
        if a.port() == 0 {
            return Err(self.err(path, "port 0 is not a valid destination port"));
        }
        Ok(a)
    }

    /// A block of `count` consecutive addresses from `base` (a spoof range, a client pool)
    /// under `path`: of the target's family (`what` names the addresses in the message), 1 to
    /// [`MAX_RANGE_COUNT`] of them, the last one inside the address space (the engine adds an
    /// offset below `count` to the base, IPv4 and IPv6 alike).
    pub fn addr_range(
        &self,
        path: &[Seg],
        base: &str,
        count: u64,
        v4: bool,
        what: &str,
    ) -> Result<(IpAddr, u64), ScenarioError> {
        let ip: IpAddr = base.parse().map_err(|_| {
            self.err(
                &at(path, "base"),
                format!("{} is not an IP address", shown(base)),
            )
        })?;
        if count == 0 || count > MAX_RANGE_COUNT {
            return Err(self.err(&at(path, "count"), "count must be within 1..=16777216"));
        }
        if ip.is_ipv4() != v4 {
            return Err(self.err(
                &at(path, "base"),
                format!("{what} must be of the target's family"),
            ));
        }
        let (base_n, last, top) = match ip {
            IpAddr::V4(v4) => (
                u128::from(u32::from(v4)),
                u128::from(u32::MAX),
                "255.255.255.255",
            ),
            IpAddr::V6(v6) => (
                u128::from(v6),
                u128::MAX,
                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            ),
        };
        if last - base_n < u128::from(count - 1) {
            return Err(self.err(
                &at(path, "count"),
                format!(
                    "{count} addresses from {ip} run past {top}: lower count or base (at most {} from this base)",
                    last - base_n + 1
                ),
            ));
        }
        Ok((ip, count))
    }

    fn text_field(&self, key: &str, s: &str, max: usize) -> Result<(), ScenarioError> {
        let n = s.chars().count();
        if n > max {
            return Err(self.err(
                &[k(key)],
                format!("{key} is {n} characters long; at most {max}"),
            ));
        }
        Ok(())
    }

    /// Run length and sampling: (duration, sample interval).
    fn timing(&self, raw: &RawScenario) -> Result<(SimDuration, SimDuration), ScenarioError> {
        let duration = self.ms(&[k("duration_ms")], raw.duration_ms)?;
        if duration.as_ns() == 0 {
            return Err(self.err(&[k("duration_ms")], "must be > 0"));
        }
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
        Ok((duration, sample_interval))
    }

    /// Refuses up front what would blow the event budget.
    fn budget(&self, estimate: f64, max_events: u64) -> Result<(), ScenarioError> {
        if estimate <= max_events as f64 {
            return Ok(());
        }
        let about = format!("the traffic described would take about {estimate:.3e} events");
        let set_in_file = locate::find(self.text, &[k("max_events")]).is_some();
        match self.budget {
            BudgetSource::Flag => Err(ScenarioError {
                file: self.file.into(),
                path: "--max-events".into(),
                line: 0,
                column: 0,
                message: format!(
                    "{about}, above --max-events {max_events}; lower the rates or durations, or pass a larger --max-events"
                ),
            }),
            BudgetSource::File if set_in_file => Err(self.err(
                &[k("max_events")],
                format!(
                    "{about}, above max_events = {max_events}; lower the rates or durations, or raise max_events (or pass --max-events)"
                ),
            )),
            BudgetSource::File => Err(ScenarioError {
                file: self.file.into(),
                path: "max_events".into(),
                line: 0,
                column: 0,
                message: format!(
                    "{about}, above the default budget of {max_events} events (max_events); lower the rates or durations, or set max_events (or pass --max-events)"
                ),
            }),
        }
    }

    pub fn validate(
        &self,
        raw: RawScenario,
        default_name: &str,
    ) -> Result<Scenario, ScenarioError> {
        let (duration, sample_interval) = self.timing(&raw)?;
        let end = SimTime::ZERO + duration;
        if let Some(n) = &raw.name {
            self.text_field("name", n, MAX_SCENARIO_NAME_CHARS)?;
        }
        self.text_field("description", &raw.description, MAX_DESCRIPTION_CHARS)?;
        let hosts = self.hosts(&raw.hosts)?;
        let index = HostIndex::new(&hosts);
        let network = self.network(&raw.network, &index)?;
        let listeners = self.listeners(&raw.listeners, &index)?;
        let clients = self.clients(&raw.clients, &index, end)?;
        let attackers = self.attackers(&raw.attackers, &index, end)?;
        let charts = self.charts(&raw.charts, &clients, &attackers)?;
        let capture = match &raw.capture {
            Some(c) => Some(self.capture(c, &hosts, &listeners)?),
            None => None,
        };

        let estimate: f64 = clients
            .iter()
            .map(|c| c.arrivals.expected() * 12.0)
            .sum::<f64>()
            + attackers
                .iter()
                .map(|a| a.arrivals.expected() * 8.0)
                .sum::<f64>();
        self.budget(estimate, raw.max_events)?;

        let name = raw.name.clone().unwrap_or_else(|| {
            // A file stem longer than the cap is cut (the file system allows 255 bytes).
            default_name.chars().take(MAX_SCENARIO_NAME_CHARS).collect()
        });
        let success_within = self.deadlines(&raw.success_within_ms)?;
        let echo = echo(&raw, &hosts, &name);
        let mut scn = Scenario {
            name,
            description: raw.description,
            seed: raw.seed,
            duration,
            sample_interval,
            max_events: raw.max_events,
            hosts,
            network,
            listeners,
            clients,
            attackers,
            charts,
            capture,
            success_within,
            warnings: Vec::new(),
            echo,
        };
        scn.warnings = super::warnings::warnings(&scn);
        Ok(scn)
    }

    /// `success_within_ms`: up to 16 deadlines above 0, kept sorted and distinct.
    fn deadlines(&self, ms: &[f64]) -> Result<Vec<SimDuration>, ScenarioError> {
        const MAX: usize = 16;
        if ms.len() > MAX {
            return Err(self.err(
                &[k("success_within_ms")],
                format!("{} deadlines; at most {MAX}", ms.len()),
            ));
        }
        let mut v = Vec::with_capacity(ms.len());
        for (i, &d) in ms.iter().enumerate() {
            let p = [k("success_within_ms"), Seg::Index(i)];
            let d = self.ms(&p, d)?;
            if d.as_ns() == 0 {
                return Err(self.err(&p, "a deadline must be > 0"));
            }
            v.push(d);
        }
        v.sort_unstable();
        v.dedup();
        Ok(v)
    }
}

/// The scenario as understood, as compact JSON: the raw scenario with every default filled
/// in, each host's resolved stack (profile + overrides) and the final name.
fn echo(raw: &RawScenario, hosts: &[HostSpec], name: &str) -> String {
    let mut understood = serde_json::to_value(raw).expect("raw scenario serialises");
    if let Some(hs) = understood.get_mut("hosts").and_then(Value::as_array_mut) {
        for (h, spec) in hs.iter_mut().zip(hosts) {
            h["stack"] = serde_json::to_value(&spec.stack).expect("stack serialises");
        }
    }
    understood["name"] = Value::from(name);
    understood.to_string()
}
