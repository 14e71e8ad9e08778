//! The setup of a run in a reader's terms: per listener its profile, backlog, the queue
//! capacities the stack derived from it, SYN cookies and SYN-ACK retries; per client its
//! arrivals and SYN retries; per attacker its rate, window and spoofing; the network's
//! latency and loss. summary.json carries it as `setup`, so index.html, the printed summary
//! and `simulate --compare` (which reads only output directories) show the same table.

use serde::{Deserialize, Serialize};

use super::summary::ListenerSummary;
use crate::net::LossModel;
use crate::spec::{Arrivals, Scenario, Spoof};
use crate::tcp::config::SynCookies;

/// One titled group of settings (`listener server:80`, `attacker flood`, `network`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupSection {
    // Fields in name order: summary.json's keys are sorted at every level.
    pub items: Vec<SetupItem>,
    pub title: String,
}

/// One setting, as text (`"10 ms each way"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupItem {
    pub name: String,
    pub value: String,
}

fn item(name: &str, value: impl Into<String>) -> SetupItem {
    SetupItem {
        name: name.to_string(),
        value: value.into(),
    }
}

/// A time as a short decimal: ms below a second (`10 ms`, `0.5 ms`), else s (`30 s`).
fn secs(ns: f64) -> String {
    let trim = |s: String| s.trim_end_matches('0').trim_end_matches('.').to_string();
    if ns != 0.0 && ns < 1e9 {
        format!("{} ms", trim(format!("{:.3}", ns / 1e6)))
    } else {
        format!("{} s", trim(format!("{:.3}", ns / 1e9)))
    }
}

/// A rate as written in the scenario (`20/s`).
fn per_s(r: f64) -> String {
    let s = format!("{r:.3}");
    format!("{}/s", s.trim_end_matches('0').trim_end_matches('.'))
}

fn arrivals(a: &Arrivals) -> String {
    match a {
        Arrivals::Times(t) => format!("{} listed times", t.len()),
        Arrivals::Constant {
            interval,
            start,
            stop,
            ..
        } => format!(
            "every {} from {} to {}",
            secs(interval.as_ns() as f64),
            secs(start.as_ns() as f64),
            secs(stop.as_ns() as f64)
        ),
        Arrivals::Poisson {
            rate_per_s,
            start,
            stop,
            ..
        } => format!(
            "Poisson {} from {} to {}",
            per_s(*rate_per_s),
            secs(start.as_ns() as f64),
            secs(stop.as_ns() as f64)
        ),
    }
}

fn loss(l: &LossModel) -> String {
    match l {
        LossModel::None => "none".into(),
        LossModel::Bernoulli { p } => format!("Bernoulli p = {p}"),
        LossModel::GilbertElliott {
            p_good_bad,
            p_bad_good,
            loss_good,
            loss_bad,
            ..
        } => format!(
            "Gilbert-Elliott good->bad {p_good_bad}, bad->good {p_bad_good}, loss {loss_good} / \
             {loss_bad}"
        ),
    }
}

/// The setup of `scn`, with the queue capacities the run's listeners reported.
pub fn setup(scn: &Scenario, listeners: &[ListenerSummary]) -> Vec<SetupSection> {
    let mut out = Vec::new();
    for (l, ls) in scn.listeners.iter().zip(listeners) {
        let h = &scn.hosts[l.host.0 as usize];
        let cfg = &h.stack;
        let mut items = vec![
            item("profile", h.profile.name()),
            item("listen backlog", l.backlog.to_string()),
            item("SYN queue capacity", ls.syn_queue_capacity.to_string()),
            item(
                "accept queue capacity",
                ls.accept_queue_capacity.to_string(),
            ),
            item(
                "syncookies",
                match cfg.syncookies {
                    SynCookies::Off => "off (0)",
                    SynCookies::OnOverflow => "on overflow (1)",
                    SynCookies::Always => "always (2)",
                },
            ),
            item("synack_retries", cfg.synack_retries.to_string()),
        ];
        if let Some(c) = &cfg.syncache {
            items.push(item(
                "SYN cache",
                format!("{} buckets x {}", c.buckets, c.bucket_limit),
            ));
        }
        if !h.alive || !h.crashes.is_empty() {
            let state = if h.alive { "crashes" } else { "down" };
            items.push(item("host", state));
        }
        out.push(SetupSection {
            title: format!("listener {}:{}", ls.host, ls.port),
            items,
        });
    }
    for c in &scn.clients {
        let cfg = &scn.hosts[c.host.0 as usize].stack;
        out.push(SetupSection {
            title: format!("client {}", c.name),
            items: vec![
                item("arrivals", arrivals(&c.arrivals)),
                item("syn_retries", cfg.syn_retries.to_string()),
                item("target", c.target.to_string()),
            ],
        });
    }
    for a in &scn.attackers {
        let spoof = match &a.spoof {
            Spoof::Own => "none (its own address)".to_string(),
            Spoof::Range { base, count } => format!("{count} addresses from {base}"),
            Spoof::Hosts(h) => {
                let names: Vec<&str> = h
                    .iter()
                    .map(|id| scn.hosts[id.0 as usize].name.as_str())
                    .collect();
                format!("addresses of {}", names.join(", "))
            }
        };
        out.push(SetupSection {
            title: format!("attacker {}", a.name),
            items: vec![
                item("SYNs", arrivals(&a.arrivals)),
                item("spoofed sources", spoof),
                item("target", a.target.to_string()),
            ],
        });
    }
    let p = &scn.network.default_path;
    let mut items = vec![
        item(
            "latency",
            format!("{} each way", secs(p.latency.as_ns() as f64)),
        ),
        item("loss", loss(&p.loss)),
    ];
    if p.jitter.as_ns() > 0 {
        items.push(item(
            "jitter",
            format!("up to {}", secs(p.jitter.as_ns() as f64)),
        ));
    }
    if !scn.network.paths.is_empty() {
        items.push(item(
            "paths",
            format!("{} set per direction", scn.network.paths.len()),
        ));
    }
    if !scn.network.rules.is_empty() {
        items.push(item("drop rules", scn.network.rules.len().to_string()));
    }
    out.push(SetupSection {
        title: "network".into(),
        items,
    });
    out
}
