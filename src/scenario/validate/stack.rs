//! `hosts[i].stack`: knob overrides on top of the host's profile.

use serde_json::{Map, Value};

use super::{Validator, at, k};
use crate::scenario::messages;
use crate::scenario::{ScenarioError, Seg};
use crate::tcp::{Profile, StackConfig};

/// Linux's numeric `net.ipv4.tcp_syncookies` values, accepted as well as the names.
fn numeric_syncookies(val: &Value) -> Option<Value> {
    match val.as_u64()? {
        0 => Some(Value::from("off")),
        1 => Some(Value::from("on_overflow")),
        2 => Some(Value::from("always")),
        _ => None,
    }
}

/// The valid values of an enum-valued knob, as serde lists them for an unknown name (so the
/// list always follows the code); `None` for a knob that is not an enum.
fn knob_values(base: &Value, key: &str) -> Option<String> {
    let mut probe = base.clone();
    probe[key] = Value::from("\u{1}");
    let e = serde_json::from_value::<StackConfig>(probe)
        .err()?
        .to_string();
    let list = e.strip_prefix("unknown variant `\u{1}`, expected ")?;
    let list = list.strip_prefix("one of ").unwrap_or(list);
    Some(list.to_string())
}

impl Validator<'_> {
    pub(super) fn stack(
        &self,
        path: &[Seg],
        profile: Profile,
        overrides: &Map<String, Value>,
    ) -> Result<StackConfig, ScenarioError> {
        let base = serde_json::to_value(profile.config()).expect("StackConfig serialises");
        let mut v = base.clone();
        let obj = v.as_object_mut().expect("StackConfig is an object");
        for (key, val) in overrides {
            if !obj.contains_key(key) {
                let mut known: Vec<&String> = obj.keys().collect();
                known.sort();
                let list: Vec<&str> = known.iter().map(|s| s.as_str()).collect();
                return Err(self.err(
                    &at(path, key),
                    format!("unknown stack knob `{key}` (knobs: {})", list.join(", ")),
                ));
            }
            let val = match key.as_str() {
                "syncookies" => numeric_syncookies(val).unwrap_or_else(|| val.clone()),
                _ => val.clone(),
            };
            obj.insert(key.clone(), val);
        }
        let cfg: StackConfig = serde_path_to_error::deserialize(v).map_err(|e| {
            let p = e.path().to_string();
            let first = p.split(['.', '[']).next().unwrap_or("").to_string();
            let mut full = path.to_vec();
            if !first.is_empty() && first != "?" {
                full.push(k(&first));
            }
            let msg = e.into_inner().to_string();
            let msg = match knob_values(&base, &first) {
                Some(list) => {
                    let num = if first == "syncookies" {
                        " (or Linux's 0, 1, 2)"
                    } else {
                        ""
                    };
                    let got = overrides
                        .get(&first)
                        .map(|v| v.to_string())
                        .unwrap_or_default();
                    format!("{got} is not a valid value: expected one of {list}{num}")
                }
                None => messages::rewrite(&msg, &full),
            };
            self.err(&full, msg)
        })?;
        if let Err((field, msg)) = cfg.validate() {
            return Err(self.err(&at(path, field), msg));
        }
        Ok(cfg)
    }
}
