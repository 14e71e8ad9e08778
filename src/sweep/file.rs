//! The sweep file: a base scenario, the variables to vary, repetitions and extra metrics.
//!
//! ```json
//! { "scenario": "../syn_flood.json",
//!   "set": {"hosts[1].stack.somaxconn": 65535},
//!   "vary": [ {"path": "listeners[0].backlog", "values": [128, 1024]},
//!             {"path": "attackers[0].rate_per_s", "range": {"from": 1000, "to": 5000, "step": 2000}},
//!             {"path": "listeners[0].backlog", "range": {"from": 128, "to": 32768, "factor": 4}},
//!             {"name": "defence", "cases": [{"label": "none", "set": {}},
//!                                           {"label": "cookies", "set": {"hosts[1].stack.syncookies": "on_overflow"}}]} ],
//!   "zip": [["hosts[1].stack.syncookies", "listeners[0].backlog"]],
//!   "repeat": 10,
//!   "metrics": ["listeners[0].counters.SyncookiesSent"] }
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// Most runs a sweep may expand to.
pub const MAX_RUNS: usize = 100_000;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepFile {
    /// The base scenario, relative to the sweep file.
    pub scenario: String,
    /// Values set in every run, before the varied ones (`{"path": value}`).
    #[serde(default)]
    pub set: BTreeMap<String, Value>,
    pub vary: Vec<Vary>,
    /// Groups of `vary` paths (or case names) that vary together, value by value.
    #[serde(default)]
    pub zip: Vec<Vec<String>>,
    /// Repetitions per point, with seeds derived from the base seed and the index.
    #[serde(default = "one")]
    pub repeat: u32,
    /// summary.json paths added to the default metrics.
    #[serde(default)]
    pub metrics: Vec<String>,
    /// Draw each run's charts and index.html (linked from the sweep page).
    #[serde(default = "yes")]
    pub run_charts: bool,
}

fn one() -> u32 {
    1
}
fn yes() -> bool {
    true
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vary {
    /// The scenario path set by this variable (absent for `cases`).
    #[serde(default)]
    pub path: Option<String>,
    /// A categorical variable's column name (with `cases`).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub values: Option<Vec<Value>>,
    #[serde(default)]
    pub range: Option<Range>,
    #[serde(default)]
    pub cases: Option<Vec<Case>>,
}

/// `from`, `from + step`, ... up to `to` inclusive; or `from`, `from * factor`, ... (log-spaced).
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    pub from: f64,
    pub to: f64,
    #[serde(default)]
    pub step: Option<f64>,
    #[serde(default)]
    pub factor: Option<f64>,
}

/// One value of a categorical variable: a label and the scenario values it sets.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub label: String,
    #[serde(default)]
    pub set: BTreeMap<String, Value>,
}

/// A number as JSON: an integer when it is one (so integer fields such as a backlog accept it).
pub fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Value::from(v as i64)
    } else {
        Value::from(v)
    }
}

impl Range {
    /// The values, or what is wrong with the range.
    pub fn values(&self) -> Result<Vec<Value>, String> {
        let Range {
            from,
            to,
            step,
            factor,
        } = *self;
        if !(from.is_finite() && to.is_finite()) || to < from {
            return Err("range needs finite from <= to".into());
        }
        let mut v = Vec::new();
        match (step, factor) {
            (Some(s), None) if s.is_finite() && s > 0.0 => {
                let n = ((to - from) / s + 1e-9).floor() as usize + 1;
                if n > MAX_RUNS {
                    return Err(format!("range has {n} values; at most {MAX_RUNS}"));
                }
                for i in 0..n {
                    v.push(number(from + s * i as f64));
                }
            }
            (None, Some(f)) if f.is_finite() && f > 1.0 && from > 0.0 => {
                let mut x = from;
                while x <= to * (1.0 + 1e-9) {
                    v.push(number(x));
                    x *= f;
                    if v.len() > MAX_RUNS {
                        return Err(format!("range has over {MAX_RUNS} values"));
                    }
                }
            }
            _ => {
                return Err(
                    "range needs exactly one of step (> 0) or factor (> 1, with from > 0)".into(),
                );
            }
        }
        Ok(v)
    }
}
