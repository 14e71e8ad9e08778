//! The page's knobs and the `--set` overrides they stand for.
//!
//! Each knob the student fills in becomes one `PATH=VALUE` string, parsed by
//! [`crate::scenario::Override::parse`] exactly like a `--set` on the command line, so a bad
//! value fails with the CLI's message. A knob left empty overrides nothing. The server host is
//! the host of `listeners[0]`, the client host that of `clients[0]`, the attack that of
//! `attackers[0]`:
//!
//! | knob | override |
//! | --- | --- |
//! | `backlog` | `listeners[0].backlog` |
//! | `syncookies`, `synack_retries` | `hosts[S].stack.…` (S: the server host) |
//! | `profile` | `hosts[S].profile` |
//! | `syn_retries` | `hosts[C].stack.syn_retries` (C: the client host) |
//! | `rate`, `start`, `stop` | `attackers[0].rate_per_s`, `.start_ms`, `.stop_ms` |
//! | `spoof` | `attackers[0].spoof` (`none`, `range`, `hosts`) |
//! | `latency` | `network.latency_ms` |
//! | `loss` | `network.loss` (a Bernoulli loss with that probability; 0: none) |

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The range a `range` spoof draws from when the scenario has none (RFC 2544's benchmark
/// network: nobody owns it, so the SYN-ACKs go unanswered).
const SPOOF_BASE: &str = "198.18.0.0";
const SPOOF_COUNT: u64 = 65536;

/// A knob's value as typed: a string, or a JSON number or boolean taken as its text.
fn typed<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => Some(v.to_string()),
        Some(_) => {
            return Err(serde::de::Error::custom(
                "a knob's value is a string or a number",
            ));
        }
    })
}

/// The knob values sent by the page, as typed (empty or absent: not overridden).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Knobs {
    #[serde(default, deserialize_with = "typed")]
    pub backlog: Option<String>,
    #[serde(default, deserialize_with = "typed")]
    pub syncookies: Option<String>,
    #[serde(default, deserialize_with = "typed")]
    pub syn_retries: Option<String>,
    #[serde(default, deserialize_with = "typed")]
    pub synack_retries: Option<String>,
    #[serde(default, deserialize_with = "typed")]
    pub rate: Option<String>,
    #[serde(default, deserialize_with = "typed")]
    pub start: Option<String>,
    #[serde(default, deserialize_with = "typed")]
    pub stop: Option<String>,
    #[serde(default, deserialize_with = "typed")]
    pub spoof: Option<String>,
    #[serde(default, deserialize_with = "typed")]
    pub latency: Option<String>,
    #[serde(default, deserialize_with = "typed")]
    pub loss: Option<String>,
    #[serde(default, deserialize_with = "typed")]
    pub profile: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Index in `hosts` of the host named by `section[0].host`.
fn host_of(doc: &Value, section: &str) -> Option<usize> {
    let name = doc.get(section)?.get(0)?.get("host")?.as_str()?;
    doc.get("hosts")?
        .as_array()?
        .iter()
        .position(|h| h.get("name").and_then(Value::as_str) == Some(name))
}

/// `hosts[i].PATH=V` for the host `host` (`None`: none to be found, an error unless the
/// text did not parse, which the load then reports).
fn host_set(
    sets: &mut Vec<String>,
    doc: &Value,
    host: Option<usize>,
    what: &str,
    path: &str,
    v: &str,
) -> Result<(), String> {
    match host {
        Some(i) => {
            sets.push(format!("hosts[{i}].{path}={v}"));
            Ok(())
        }
        None if doc.is_null() => Ok(()),
        None => Err(format!(
            "{what}: the scenario has no {} on one of its hosts",
            if what == "syn_retries" {
                "clients[0]"
            } else {
                "listeners[0]"
            }
        )),
    }
}

/// The `PATH=VALUE` overrides for the knobs that are filled in, in a fixed order.
pub fn overrides(text: &str, k: &Knobs) -> Result<Vec<String>, String> {
    // Unparsable text: the host knobs cannot be placed, and the load reports the syntax error.
    let doc: Value =
        serde_json::from_str(text.strip_prefix('\u{feff}').unwrap_or(text)).unwrap_or(Value::Null);
    let mut sets = Vec::new();
    let server = host_of(&doc, "listeners");
    if let Some(v) = given(&k.backlog) {
        sets.push(format!("listeners[0].backlog={v}"));
    }
    if let Some(v) = given(&k.profile) {
        host_set(&mut sets, &doc, server, "profile", "profile", v)?;
    }
    if let Some(v) = given(&k.syncookies) {
        host_set(&mut sets, &doc, server, "syncookies", "stack.syncookies", v)?;
    }
    if let Some(v) = given(&k.synack_retries) {
        host_set(
            &mut sets,
            &doc,
            server,
            "synack_retries",
            "stack.synack_retries",
            v,
        )?;
    }
    if let Some(v) = given(&k.syn_retries) {
        let client = host_of(&doc, "clients");
        host_set(
            &mut sets,
            &doc,
            client,
            "syn_retries",
            "stack.syn_retries",
            v,
        )?;
    }
    for (v, key) in [
        (&k.rate, "rate_per_s"),
        (&k.start, "start_ms"),
        (&k.stop, "stop_ms"),
    ] {
        if let Some(v) = given(v) {
            sets.push(format!("attackers[0].{key}={v}"));
        }
    }
    if let Some(v) = given(&k.spoof) {
        if let Some(s) = spoof(&doc, v)? {
            sets.push(format!("attackers[0].spoof={s}"));
        }
    }
    if let Some(v) = given(&k.latency) {
        sets.push(format!("network.latency_ms={v}"));
    }
    if let Some(v) = given(&k.loss) {
        sets.push(format!("network.loss={}", loss(v)));
    }
    Ok(sets)
}

/// `network.loss` for a loss probability as typed: none for 0, Bernoulli otherwise (a value
/// that is not a number goes through as a string, for the validator to refuse).
fn loss(v: &str) -> Value {
    match serde_json::from_str::<Value>(v) {
        Ok(Value::Number(n)) if n.as_f64() == Some(0.0) => json!({"model": "none"}),
        Ok(p @ Value::Number(_)) => json!({"model": "bernoulli", "p": p}),
        _ => json!({"model": "bernoulli", "p": v}),
    }
}

/// `attackers[0].spoof` for a kind, `None` when the scenario already spoofs that way.
fn spoof(doc: &Value, kind: &str) -> Result<Option<Value>, String> {
    let attacker = doc.get("attackers").and_then(|a| a.get(0));
    let current = attacker.and_then(|a| a.get("spoof"));
    if current.and_then(|s| s.get("kind")).and_then(Value::as_str) == Some(kind) {
        return Ok(None);
    }
    Ok(Some(match kind {
        "none" => json!({"kind": "none"}),
        "range" => json!({"kind": "range", "base": SPOOF_BASE, "count": SPOOF_COUNT}),
        "hosts" => {
            // Spoof the live bystanders: every host but the server and the attacker.
            let skip = [host_of(doc, "listeners"), host_of(doc, "attackers")];
            let names: Vec<&str> = doc
                .get("hosts")
                .and_then(Value::as_array)
                .map(|hs| {
                    hs.iter()
                        .enumerate()
                        .filter(|(i, h)| {
                            !skip.contains(&Some(*i))
                                && h.get("alive").and_then(Value::as_bool) != Some(false)
                        })
                        .filter_map(|(_, h)| h.get("name").and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default();
            if names.is_empty() {
                return Err("spoof hosts: the scenario has no live host besides the server and the attacker to spoof".into());
            }
            json!({"kind": "hosts", "hosts": names})
        }
        other => return Err(format!("spoof {other:?}: expected none, range or hosts")),
    }))
}

/// The knobs' values in a validated scenario (its echo, every default filled in): what a run
/// used, shown next to the knob and compared between runs.
pub fn effective(echo: &Value) -> Value {
    let host = |section: &str| host_of(echo, section).map(|i| &echo["hosts"][i]);
    let server = host("listeners");
    let client = host("clients");
    let attacker = echo.get("attackers").and_then(|a| a.get(0));
    let pick = |v: Option<&Value>| v.cloned().unwrap_or(Value::Null);
    let loss = &echo["network"]["loss"];
    let loss = match loss["model"].as_str() {
        Some("none") => json!(0),
        Some("bernoulli") => loss["p"].clone(),
        Some(m) => json!(m),
        None => Value::Null,
    };
    json!({
        "backlog": pick(echo.get("listeners").and_then(|l| l.get(0)).and_then(|l| l.get("backlog"))),
        "profile": pick(server.and_then(|h| h.get("profile"))),
        "syncookies": pick(server.and_then(|h| h["stack"].get("syncookies"))),
        "synack_retries": pick(server.and_then(|h| h["stack"].get("synack_retries"))),
        "syn_retries": pick(client.and_then(|h| h["stack"].get("syn_retries"))),
        "rate": pick(attacker.and_then(|a| a.get("rate_per_s"))),
        "start": pick(attacker.and_then(|a| a.get("start_ms"))),
        "stop": pick(attacker.and_then(|a| a.get("stop_ms"))),
        "spoof": pick(attacker.and_then(|a| a["spoof"].get("kind"))),
        "latency": pick(echo["network"].get("latency_ms")),
        "loss": loss,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCN: &str = r#"{"duration_ms": 1000,
        "hosts": [{"name": "c", "addrs": ["10.0.0.1"]}, {"name": "s", "addrs": ["10.0.0.2"]},
                  {"name": "x", "addrs": ["10.0.0.3"]}],
        "listeners": [{"host": "s", "port": 80}],
        "clients": [{"name": "w", "host": "c", "target": "10.0.0.2:80",
                     "arrivals": {"kind": "times", "times_ms": [0]}}],
        "attackers": [{"name": "f", "host": "x", "target": "10.0.0.2:80", "rate_per_s": 10,
                       "spoof": {"kind": "none"}}]}"#;

    fn k(f: impl FnOnce(&mut Knobs)) -> Knobs {
        let mut k = Knobs::default();
        f(&mut k);
        k
    }

    #[test]
    fn knobs_become_sets_on_the_right_hosts() {
        let sets = overrides(
            SCN,
            &k(|k| {
                k.backlog = Some(" 256 ".into());
                k.syncookies = Some("always".into());
                k.syn_retries = Some("3".into());
                k.rate = Some(String::new());
                k.spoof = Some("hosts".into());
                k.loss = Some("0.05".into());
            }),
        )
        .unwrap();
        assert_eq!(
            sets,
            [
                "listeners[0].backlog=256",
                "hosts[1].stack.syncookies=always",
                "hosts[0].stack.syn_retries=3",
                r#"attackers[0].spoof={"hosts":["c"],"kind":"hosts"}"#,
                r#"network.loss={"model":"bernoulli","p":0.05}"#,
            ]
        );
        let same = overrides(SCN, &k(|k| k.spoof = Some("none".into()))).unwrap();
        assert!(same.is_empty(), "already spoofing none: {same:?}");
        assert!(overrides(SCN, &k(|k| k.spoof = Some("odd".into()))).is_err());
        let zero = overrides(SCN, &k(|k| k.loss = Some("0".into()))).unwrap();
        assert_eq!(zero, [r#"network.loss={"model":"none"}"#]);
    }

    #[test]
    fn knob_values_may_be_numbers() {
        let k: Knobs =
            serde_json::from_str(r#"{"backlog": 256, "loss": "0.1", "rate": null}"#).unwrap();
        assert_eq!(
            (k.backlog.as_deref(), k.loss.as_deref(), k.rate),
            (Some("256"), Some("0.1"), None)
        );
        assert!(serde_json::from_str::<Knobs>(r#"{"backlog": [1]}"#).is_err());
        assert!(serde_json::from_str::<Knobs>(r#"{"backlogg": 1}"#).is_err());
    }

    #[test]
    fn effective_values_come_from_the_echo() {
        let scn = crate::scenario::parse(SCN, "t.json", "t").unwrap();
        let echo: Value = serde_json::from_str(&scn.echo).unwrap();
        let e = effective(&echo);
        assert_eq!(e["backlog"], 128);
        assert_eq!(e["syncookies"], "on_overflow");
        assert_eq!(e["syn_retries"], 6);
        assert_eq!(e["spoof"], "none");
        assert_eq!(e["loss"], 0);
        assert_eq!(e["profile"], "linux");
    }
}
