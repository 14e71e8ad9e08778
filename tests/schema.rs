//! The scenario format's JSON Schema (`simulate schema`, docs/scenario.schema.json): current,
//! complete (descriptions, defaults, units), met by every shipped scenario, and in agreement
//! with the loader on what it accepts and refuses.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};
use synsim::scenario::{self, scenario_schema, scenario_schema_text};
use synsim::tcp::{Profile, StackConfig};

const SCHEMA_FILE: &str = "docs/scenario.schema.json";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped scenarios: `scenarios/*.json`, `scenarios/defences/*.json` and, where it
/// exists, `scenarios/lab/*.json` (sweep files, in `scenarios/sweeps/`, are another format).
fn shipped() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["scenarios", "scenarios/defences", "scenarios/lab"] {
        let dir = root().join(dir);
        if dir.ends_with("lab") && !dir.exists() {
            continue;
        }
        let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut here: Vec<PathBuf> = entries
            .map(|e| e.expect("directory entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        here.sort();
        assert!(!here.is_empty(), "no scenario in {}", dir.display());
        files.extend(here);
    }
    files
}

/// The schema file compiled by a JSON Schema validator (which checks it against the draft
/// 2020-12 meta-schema on the way).
struct Validator {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Validator {
    fn new() -> Validator {
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        let path = root().join(SCHEMA_FILE);
        let index = compiler
            .compile(path.to_str().expect("UTF-8 path"), &mut schemas)
            .unwrap_or_else(|e| panic!("{SCHEMA_FILE} does not compile: {e:#}"));
        Validator { schemas, index }
    }

    fn check(&self, scenario: &Value) -> Result<(), String> {
        self.schemas
            .validate(scenario, self.index)
            .map_err(|e| format!("{e}"))
    }
}

fn loader(scenario: &Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(scenario).expect("JSON serialises");
    scenario::parse(&text, "mutated.json", "mutated")
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn the_shipped_schema_is_current() {
    let shipped = fs::read_to_string(root().join(SCHEMA_FILE)).expect("read the schema file");
    assert!(
        shipped == scenario_schema_text(),
        "{SCHEMA_FILE} is stale: it is not what `simulate schema` prints (the scenario types or \
         their doc comments changed). Regenerate it with \
         `cargo run --release -- schema > {SCHEMA_FILE}` and commit it"
    );
}

#[test]
fn simulate_schema_prints_it_pretty_with_a_final_newline() {
    let out = Command::new(env!("CARGO_BIN_EXE_simulate"))
        .arg("schema")
        .output()
        .expect("run simulate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert_eq!(text, scenario_schema_text());
    assert!(text.ends_with("}\n") && text.contains("\n  \"$defs\": {\n"));
    let parsed: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(parsed, scenario_schema());
}

/// Every `properties` entry in the schema, as (path, name, schema, required).
fn properties<'a>(v: &'a Value, path: &str, out: &mut Vec<(String, String, &'a Value, bool)>) {
    match v {
        Value::Object(obj) => {
            if let Some(Value::Object(props)) = obj.get("properties") {
                let required = obj.get("required").and_then(Value::as_array);
                for (name, p) in props {
                    let req = required.is_some_and(|r| r.contains(&Value::from(name.as_str())));
                    out.push((path.to_string(), name.clone(), p, req));
                }
            }
            for (k, x) in obj {
                if !matches!(k.as_str(), "default" | "const" | "enum") {
                    properties(x, &format!("{path}/{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                properties(x, &format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_field_has_a_description_a_default_and_its_unit() {
    let schema = scenario_schema();
    let mut props = Vec::new();
    properties(&schema, "#", &mut props);
    // The top level, hosts, every stack knob, the network, listeners, clients, attackers...
    assert!(props.len() > 120, "only {} properties", props.len());
    for (path, name, p, required) in &props {
        let d = p["description"].as_str().unwrap_or("");
        assert!(!d.is_empty(), "{path}/{name}: no description");
        assert!(
            !d.contains('\n') && !d.contains("[`") && !d.contains("crate::"),
            "{path}/{name}: {d:?}"
        );
        // A field that is not required has a default.
        if !required {
            assert!(p.get("default").is_some(), "{path}/{name}: no default");
        }
        for (suffix, unit) in [("_ms", "milliseconds"), ("_us", "microseconds")] {
            if name.ends_with(suffix) {
                assert!(d.contains(&format!("Unit: {unit}.")), "{path}/{name}: {d}");
            }
        }
    }
    let top = &schema["properties"];
    assert_eq!(
        top["duration_ms"]["description"],
        "Simulated time. Unit: milliseconds."
    );
    assert_eq!(top["max_events"]["default"], 200_000_000);
    assert_eq!(top["success_within_ms"]["default"], json!([1000.0, 3000.0]));
    assert_eq!(schema["required"], json!(["duration_ms", "hosts"]));
    assert_eq!(schema["additionalProperties"], false);
    let defs = &schema["$defs"];
    for (name, def) in defs.as_object().unwrap() {
        assert!(
            def["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{name}"
        );
    }
    for def in [
        "Host", "Network", "Listener", "Client", "Attacker", "Capture", "Charts",
    ] {
        assert_eq!(defs[def]["additionalProperties"], false, "{def}");
    }
    // Enums list their values.
    let consts = |def: &str| -> Value {
        let alts = defs[def]["oneOf"].as_array().expect("oneOf");
        alts.iter().map(|a| a["const"].clone()).collect()
    };
    assert_eq!(
        consts("Profile"),
        json!(["linux", "linux5", "freebsd", "rfc9293"])
    );
    assert_eq!(
        consts("SynCookies"),
        json!(["off", "on_overflow", "always"])
    );
    assert_eq!(
        consts("ServerApp"),
        json!(["echo_upper", "discard", "close"])
    );
    assert_eq!(
        consts("QueueRule"),
        json!(["backlog_plus_one", "backlog", "three_halves_backlog"])
    );
}

#[test]
fn the_stack_schema_is_every_knob_of_stack_config_each_optional() {
    let schema = scenario_schema();
    let stack = &schema["$defs"]["Host"]["properties"]["stack"];
    assert_eq!(stack["additionalProperties"], false);
    assert_eq!(stack["default"], json!({}));
    assert!(
        stack.get("required").is_none(),
        "a knob override is never required"
    );
    let knobs = stack["properties"].as_object().expect("knobs");
    let linux = serde_json::to_value(StackConfig::linux()).unwrap();
    let linux = linux.as_object().unwrap();
    let mut a: Vec<&String> = knobs.keys().collect();
    let mut b: Vec<&String> = linux.keys().collect();
    a.sort();
    b.sort();
    assert_eq!(a, b, "the schema's knobs are StackConfig's fields");
    for (knob, value) in linux {
        assert_eq!(
            &knobs[knob]["default"], value,
            "{knob}: the linux profile's value"
        );
        let d = knobs[knob]["description"].as_str().unwrap();
        assert!(d.contains("Default: "), "{knob}: {d}");
    }
    // A knob whose value differs between profiles lists each.
    let d = knobs["rto_max_ms"]["description"].as_str().unwrap();
    for p in Profile::ALL {
        let v = serde_json::to_value(p.config()).unwrap()["rto_max_ms"].clone();
        assert!(d.contains(&format!("{} {v}", p.name())), "{d}");
    }
}

#[test]
fn every_shipped_scenario_follows_the_schema_and_loads() {
    let v = Validator::new();
    let files = shipped();
    assert!(files.len() >= 20, "only {} shipped scenarios", files.len());
    for f in &files {
        let text = fs::read_to_string(f).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        if let Err(e) = v.check(&value) {
            panic!("{} does not follow {SCHEMA_FILE}: {e}", f.display());
        }
        if let Err(e) = scenario::load(f) {
            panic!("{e}");
        }
        if f.parent().unwrap().ends_with("lab") {
            continue;
        }
        // The editor hint points at the schema file from where the scenario is.
        let hint = value["$schema"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no $schema", f.display()));
        let target = f.parent().unwrap().join(hint);
        assert_eq!(
            fs::canonicalize(&target).ok(),
            fs::canonicalize(root().join(SCHEMA_FILE)).ok(),
            "{}: $schema {hint}",
            f.display()
        );
    }
}

#[test]
fn the_schema_key_is_ignored_and_never_echoed() {
    let path = root().join("scenarios/syn_flood_cookies.json");
    let text = fs::read_to_string(&path).unwrap();
    let mut value: Value = serde_json::from_str(&text).unwrap();
    assert!(value.get("$schema").is_some());
    let with = scenario::parse(&text, "a.json", "a").unwrap();
    value.as_object_mut().unwrap().remove("$schema");
    let without = scenario::parse(&value.to_string(), "a.json", "a").unwrap();
    assert_eq!(with.echo, without.echo);
    assert!(
        !with.echo.contains("$schema"),
        "summary.json must not carry the editor hint"
    );
}

/// A change to a shipped scenario with hosts, a stack, a listener, clients and an attacker
/// (syn_flood_cookies.json): what it tests, the JSON pointer of a key, and its new value
/// (`None` removes the key).
type Mutation = (&'static str, &'static str, Option<Value>);

fn mutated((what, pointer, value): &Mutation) -> Value {
    let text = fs::read_to_string(root().join("scenarios/syn_flood_cookies.json")).unwrap();
    let mut s: Value = serde_json::from_str(&text).unwrap();
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    let obj = s.pointer_mut(parent).and_then(Value::as_object_mut);
    let obj = obj.unwrap_or_else(|| panic!("{what}: no object at {parent}"));
    match value {
        Some(v) => {
            obj.insert(key.to_string(), v.clone());
        }
        None => {
            obj.remove(key)
                .unwrap_or_else(|| panic!("{what}: no {pointer} to remove"));
        }
    }
    s
}

#[test]
fn the_schema_and_the_loader_refuse_the_same_mutations() {
    let v = Validator::new();
    let syncache = json!({"buckets": 8, "bucket_limit": 2, "cache_limit": 16, "ways": 2});
    let refused: Vec<Mutation> = vec![
        ("unknown top-level field", "/duration", Some(json!(1000))),
        (
            "unknown host field",
            "/hosts/0/adrs",
            Some(json!(["10.0.0.9"])),
        ),
        (
            "unknown listener field",
            "/listeners/0/queue",
            Some(json!(4)),
        ),
        (
            "unknown arrivals field",
            "/clients/0/arrivals/rate",
            Some(json!(3)),
        ),
        (
            "unknown syncache field",
            "/hosts/1/stack/syncache",
            Some(syncache),
        ),
        (
            "unknown stack knob",
            "/hosts/1/stack/syn_retriez",
            Some(json!(2)),
        ),
        (
            "wrong type: a string for ms",
            "/duration_ms",
            Some(json!("45 s")),
        ),
        ("wrong type: a negative seed", "/seed", Some(json!(-1))),
        (
            "wrong type: a port above 65535",
            "/listeners/0/port",
            Some(json!(70000)),
        ),
        (
            "wrong type: addrs not a list",
            "/hosts/0/addrs",
            Some(json!("10.0.4.2")),
        ),
        (
            "wrong type: a stack knob",
            "/hosts/1/stack/syn_retries",
            Some(json!("six")),
        ),
        ("wrong type: $schema", "/$schema", Some(json!(3))),
        (
            "bad enum: profile",
            "/hosts/1/profile",
            Some(json!("windows")),
        ),
        ("bad enum: app", "/listeners/0/app", Some(json!("echo"))),
        (
            "bad enum: loss model",
            "/network/loss",
            Some(json!({"model": "uniform"})),
        ),
        (
            "bad enum: flood arrivals",
            "/attackers/0/arrivals",
            Some(json!("burst")),
        ),
        (
            "bad enum: syncookies",
            "/hosts/1/stack/syncookies",
            Some(json!("sometimes")),
        ),
        (
            "bad enum: syncookies 3",
            "/hosts/1/stack/syncookies",
            Some(json!(3)),
        ),
        (
            "bad enum: capture hosts",
            "/capture",
            Some(json!({"hosts": "servers"})),
        ),
        ("missing duration_ms", "/duration_ms", None),
        ("missing hosts", "/hosts", None),
        ("missing host addrs", "/hosts/0/addrs", None),
        ("missing client target", "/clients/0/target", None),
        ("missing attacker spoof", "/attackers/0/spoof", None),
    ];
    for m in &refused {
        let s = mutated(m);
        assert!(v.check(&s).is_err(), "{}: the schema accepts it", m.0);
        assert!(loader(&s).is_err(), "{}: the loader accepts it", m.0);
    }
}

#[test]
fn what_the_schema_accepts_the_loader_accepts() {
    let v = Validator::new();
    let syncache = json!({"buckets": 512, "bucket_limit": 30, "cache_limit": 15360});
    let ge = json!({"model": "gilbert_elliott", "p_good_bad": 0.01, "p_bad_good": 0.5});
    let pool = json!({"kind": "range", "base": "10.9.0.0", "count": 16, "draw": "random"});
    let mut accepted: Vec<Mutation> = vec![
        ("no $schema", "/$schema", None),
        ("no description", "/description", None),
        ("no network", "/network", None),
        ("no sample_interval_ms", "/sample_interval_ms", None),
        (
            "profile freebsd",
            "/hosts/1/profile",
            Some(json!("freebsd")),
        ),
        ("a syncache", "/hosts/1/stack/syncache", Some(syncache)),
        (
            "a null knob",
            "/hosts/1/stack/synrecv_timeout_ms",
            Some(Value::Null),
        ),
        (
            "capture all",
            "/capture",
            Some(json!({"hosts": "all", "max_packets": 10})),
        ),
        (
            "capture by name",
            "/capture",
            Some(json!({"hosts": ["server"]})),
        ),
        ("bursty loss", "/network/loss", Some(ge)),
        (
            "accept delay",
            "/listeners/0/accept",
            Some(json!({"mode": "delay", "delay_ms": 5})),
        ),
        ("an address pool", "/clients/0/addrs", Some(pool)),
    ];
    for (i, name) in ["off", "on_overflow", "always"].into_iter().enumerate() {
        accepted.push(("syncookies", "/hosts/1/stack/syncookies", Some(json!(name))));
        accepted.push((
            "syncookies 0/1/2",
            "/hosts/1/stack/syncookies",
            Some(json!(i)),
        ));
    }
    for m in &accepted {
        let s = mutated(m);
        if let Err(e) = v.check(&s) {
            panic!("{}: the schema refuses it: {e}", m.0);
        }
        if let Err(e) = loader(&s) {
            panic!("{}: the schema accepts it, the loader does not: {e}", m.0);
        }
    }
}

#[test]
fn the_schema_file_names_its_draft() {
    let text = fs::read_to_string(root().join(SCHEMA_FILE)).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["title"], "Scenario");
}
