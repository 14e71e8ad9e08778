//! The JSON Schema (draft 2020-12) of the scenario file format, as `simulate schema` prints it
//! and `docs/scenario.schema.json` ships it: generated from the serde types the loader reads
//! ([`super::raw`], and [`StackConfig`] for `hosts[].stack`), so it follows the code.
//!
//! What the derive gives (descriptions from the doc comments, defaults from the serde
//! defaults, `additionalProperties: false` from `deny_unknown_fields`, enum values) is completed
//! here: `hosts[].stack` is every knob of [`StackConfig`], each optional, with every profile's
//! value; `syncookies` also takes Linux's 0/1/2; a field whose name carries a unit (`_ms`,
//! `_us`, `_px`, `_per_s`, `_hz`, `_bytes`) says it; a variant's tag field is described.
//!
//! The schema checks shapes and types, not every rule: names that refer to nothing, ranges and
//! budgets are the loader's (`validate`).

use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings, json_schema};
use serde_json::{Map, Value};

use super::raw::RawScenario;
use crate::tcp::{Profile, StackConfig};

/// The schema, as a JSON value.
pub fn scenario_schema() -> Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let mut schema = generator.into_root_schema_for::<RawScenario>().to_value();
    complete(&mut schema);
    schema
}

/// The schema as `simulate schema` prints it: pretty JSON and a final newline.
pub fn scenario_schema_text() -> String {
    let mut text =
        serde_json::to_string_pretty(&scenario_schema()).expect("a JSON value serialises");
    text.push('\n');
    text
}

/// The unit a field's name carries (the format's rule: the unit is in the name).
fn unit_of(field: &str) -> Option<&'static str> {
    const UNITS: [(&str, &str); 6] = [
        ("_ms", "milliseconds"),
        ("_us", "microseconds"),
        ("_px", "pixels"),
        ("_per_s", "per second"),
        ("_hz", "hertz (ticks per second)"),
        ("_bytes", "bytes"),
    ];
    UNITS
        .iter()
        .find(|(suffix, _)| field.ends_with(suffix))
        .map(|&(_, unit)| unit)
}

/// Appends `sentence` to the description of `schema` (creating it).
fn describe(schema: &mut Map<String, Value>, sentence: &str) {
    let text = match schema.get("description").and_then(Value::as_str) {
        Some(d) if !d.is_empty() => format!("{d} {sentence}"),
        _ => sentence.to_string(),
    };
    schema.insert("description".into(), Value::from(text));
}

/// A doc comment as a description: its lines joined (paragraphs kept), rustdoc links as plain
/// code, and references to the code for Rust readers (`` (see [`crate::tcp::cookie`]) ``) left
/// out.
fn plain(doc: &str) -> String {
    let paragraphs: Vec<String> = doc
        .split("\n\n")
        .map(|p| p.lines().map(str::trim).collect::<Vec<_>>().join(" "))
        .collect();
    let mut text = paragraphs.join("\n\n");
    for open in [" (see [`crate::", " ([`crate::"] {
        while let Some(start) = text.find(open) {
            let Some(len) = text[start..].find("`])") else {
                break;
            };
            text.replace_range(start..start + len + 3, "");
        }
    }
    text.replace("[`", "`").replace("`]", "`")
}

/// Descriptions in plain text, units and tag descriptions, everywhere in the schema (values
/// under `default`, `const` and `enum` are data, left alone).
fn complete(schema: &mut Value) {
    match schema {
        Value::Object(obj) => {
            if let Some(Value::String(d)) = obj.get_mut("description") {
                *d = plain(d);
            }
            let variant = obj
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if let Some(Value::Object(props)) = obj.get_mut("properties") {
                for (name, prop) in props.iter_mut() {
                    let Value::Object(p) = prop else { continue };
                    let described = p.get("description").and_then(Value::as_str);
                    if let Some(unit) = unit_of(name) {
                        if !described.is_some_and(|d| d.contains("Unit:")) {
                            describe(p, &format!("Unit: {unit}."));
                        }
                    }
                    // The tag of an internally tagged enum's variant: `{"const": "bernoulli"}`.
                    if let (Some(tag), None) = (p.get("const").cloned(), p.get("description")) {
                        let text = match &variant {
                            Some(v) => format!("{tag}: {v}"),
                            None => format!("{tag}."),
                        };
                        describe(p, &text);
                    }
                }
            }
            obj.iter_mut()
                .filter(|(k, _)| !matches!(k.as_str(), "default" | "const" | "enum"))
                .for_each(|(_, v)| complete(v));
        }
        Value::Array(items) => items.iter_mut().for_each(complete),
        _ => {}
    }
}

/// `"listeners"` or `"all"` (the loader refuses any other word).
pub(super) fn capture_word(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "enum": ["listeners", "all"] })
}

/// `hosts[].stack`: [`StackConfig`]'s knobs, each optional (an override of the host's profile),
/// with the value of every profile in its description and the default profile's (`linux`) as
/// its default.
pub(super) fn stack_overrides(generator: &mut SchemaGenerator) -> Schema {
    let mut schema = StackConfig::json_schema(generator);
    let obj = schema.ensure_object();
    obj.remove("required");
    let values: Vec<(Profile, Value)> = Profile::ALL
        .iter()
        .map(|&p| {
            (
                p,
                serde_json::to_value(p.config()).expect("StackConfig serialises"),
            )
        })
        .collect();
    let Some(Value::Object(props)) = obj.get_mut("properties") else {
        panic!("StackConfig's schema has properties");
    };
    for (knob, prop) in props.iter_mut() {
        let Value::Object(p) = prop else { continue };
        if let Some(unit) = unit_of(knob) {
            describe(p, &format!("Unit: {unit}."));
        }
        let (_, base) = values
            .iter()
            .find(|(p, _)| *p == Profile::default())
            .unwrap();
        let base = &base[knob];
        let default = if values.iter().all(|(_, v)| &v[knob] == base) {
            format!("Default: {base} in every profile.")
        } else {
            let each: Vec<String> = values
                .iter()
                .map(|(profile, v)| format!("{} {}", profile.name(), v[knob]))
                .collect();
            format!("Default: the host profile's value: {}.", each.join(", "))
        };
        describe(p, &default);
        p.insert("default".into(), base.clone());
        if knob == "syncookies" {
            let any_of = syncookies_values(p);
            p.insert("anyOf".into(), any_of);
        }
    }
    schema
}

/// The `syncookies` knob's values: the names, or Linux's numbers (moves everything but the
/// description and the default of `knob` into the first alternative).
fn syncookies_values(knob: &mut Map<String, Value>) -> Value {
    let mut names = knob.clone();
    names.retain(|k, _| k != "description" && k != "default");
    knob.retain(|k, _| k == "description" || k == "default");
    let numbers = json_schema!({
        "description": "Linux's `net.ipv4.tcp_syncookies`: 0 off, 1 on_overflow, 2 always.",
        "type": "integer",
        "enum": [0, 1, 2]
    });
    Value::from(vec![Value::Object(names), numbers.to_value()])
}
