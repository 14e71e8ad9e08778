//! Scenario files: JSON in, validated once into the [`crate::spec`] types the engine runs.
//!
//! [`load`] reads a file, [`parse`] a string; [`load_with`] and [`parse_with`] take
//! [`LoadOptions`] (the CLI's overrides and the file-size cap). All return a [`ScenarioError`]
//! naming the JSON path of the problem and its line and column: syntax errors, invalid UTF-8,
//! duplicate keys at any depth, serde's type errors (in words, never Rust type names), unknown
//! fields (`deny_unknown_fields`) and the semantic checks of [`validate`] (nonsense values,
//! names that break the name rule or refer to nothing, budgets exceeded) alike.
//! [`scenario_schema`] is the format's JSON Schema, derived from the serde types of [`raw`].

mod jsonscan;
mod locate;
mod messages;
mod overrides;
pub mod raw;
mod read;
pub mod schema;
mod validate;
mod warnings;

use std::fmt;
use std::path::Path;

pub use locate::Seg;

/// A path in the error-message syntax (`listeners[0].counters.ListenDrops`) as segments.
pub fn parse_metric_path(path: &str) -> Vec<Seg> {
    locate::parse_path(path)
}

/// Line and column (1-based) of the value at `path` (as in error messages, `vary[0].values[2]`)
/// in JSON `text`, or of its deepest existing ancestor.
pub fn locate_path(text: &str, path: &str) -> (usize, usize) {
    locate::line_col(text, &locate::parse_path(path))
}
pub use messages::has_rust_type_name;
pub use overrides::Override;
use raw::RawScenario;
pub use read::DEFAULT_MAX_FILE_BYTES;
pub use schema::{scenario_schema, scenario_schema_text};
use validate::{BudgetSource, Validator};
pub use validate::{MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, MAX_SCENARIO_NAME_CHARS};

use crate::spec::Scenario;

/// A scenario problem, located in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// File (or `<input>`).
    pub file: String,
    /// JSON path, e.g. `hosts[1].stack.syn_retries`.
    pub path: String,
    /// 1-based; 0 when the problem has no place in the file (unreadable file, a flag).
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

/// Overrides and limits applied while loading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadOptions {
    /// Replaces the file's `max_events` (the CLI's `--max-events`), before validation: the
    /// pre-run estimate is checked against it. Default: none (the file's value, or 200 000 000).
    pub max_events: Option<u64>,
    /// Replaces the file's `seed` (the CLI's `--seed`), before validation, so the echo in
    /// summary.json carries it. Default: none.
    pub seed: Option<u64>,
    /// Largest scenario file accepted, in bytes (checked before the file is read). Default
    /// [`DEFAULT_MAX_FILE_BYTES`] (16 MiB).
    pub max_file_bytes: u64,
    /// `--set PATH=VALUE` overrides, applied in order to the text before validation.
    pub sets: Vec<Override>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            max_events: None,
            seed: None,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            sets: Vec::new(),
        }
    }
}

/// Reads and validates a scenario file. `name` defaults to the file stem.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    load_with(path, &LoadOptions::default())
}

/// [`load`], with the event budget overridden (the CLI's `--max-events`): the override applies
/// to the pre-run estimate too, so raising it lets a large scenario through validation.
pub fn load_with_max_events(
    path: &Path,
    max_events: Option<u64>,
) -> Result<Scenario, ScenarioError> {
    load_with(
        path,
        &LoadOptions {
            max_events,
            ..LoadOptions::default()
        },
    )
}

/// [`load`] with overrides and limits.
pub fn load_with(path: &Path, opts: &LoadOptions) -> Result<Scenario, ScenarioError> {
    let stdin = path == Path::new(read::STDIN);
    let file = if stdin {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    };
    let text = read::scenario_text(path, &file, opts.max_file_bytes)?;
    let stem = match path.file_stem() {
        _ if stdin => "stdin".into(),
        Some(s) => s.to_string_lossy().into_owned(),
        None => "scenario".into(),
    };
    parse_with(&text, &file, &stem, opts)
}

/// Parses and validates scenario text.
pub fn parse(text: &str, file: &str, default_name: &str) -> Result<Scenario, ScenarioError> {
    parse_with(text, file, default_name, &LoadOptions::default())
}

/// [`parse`], with the event budget overridden (see [`load_with_max_events`]).
pub fn parse_with_max_events(
    text: &str,
    file: &str,
    default_name: &str,
    max_events: Option<u64>,
) -> Result<Scenario, ScenarioError> {
    let opts = LoadOptions {
        max_events,
        ..LoadOptions::default()
    };
    parse_with(text, file, default_name, &opts)
}

/// [`parse`] with overrides (`max_file_bytes` applies to `text` too).
pub fn parse_with(
    text: &str,
    file: &str,
    default_name: &str,
    opts: &LoadOptions,
) -> Result<Scenario, ScenarioError> {
    if text.len() as u64 > opts.max_file_bytes {
        return Err(read::too_large(
            file,
            text.len() as u64,
            opts.max_file_bytes,
        ));
    }
    // A UTF-8 byte order mark is not JSON, but editors write it: skip it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if opts.sets.is_empty() {
        return check(text, file, default_name, opts);
    }
    let text = overrides::apply(text, file, &opts.sets)?;
    check(&text, file, default_name, opts).map_err(|e| overrides::attribute(e, &opts.sets))
}

/// Duplicate keys, serde's pass, then validation.
fn check(
    text: &str,
    file: &str,
    default_name: &str,
    opts: &LoadOptions,
) -> Result<Scenario, ScenarioError> {
    if let Some(d) = jsonscan::first_duplicate(text) {
        let (fl, fc) = locate::line_col_at(text, d.first);
        let (line, column) = locate::line_col_at(text, d.second);
        let key = match d.path.last() {
            Some(Seg::Key(key)) => key.clone(),
            _ => String::new(),
        };
        return Err(ScenarioError {
            file: file.into(),
            path: locate::render(&d.path),
            line,
            column,
            message: format!("duplicate field `{key}` (first given at line {fl}, column {fc})"),
        });
    }
    let mut raw = deserialize(text, file)?;
    if let Some(n) = opts.max_events {
        raw.max_events = n;
    }
    if let Some(s) = opts.seed {
        raw.seed = s;
    }
    let budget = match opts.max_events {
        Some(_) => BudgetSource::Flag,
        None => BudgetSource::File,
    };
    Validator { text, file, budget }.validate(raw, default_name)
}

/// serde's pass, its errors located and put in words.
fn deserialize(text: &str, file: &str) -> Result<RawScenario, ScenarioError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let msg = inner.to_string();
        // serde_json appends " at line L column C": keep the message, report the position.
        let msg = match msg.rfind(" at line ") {
            Some(i) => msg[..i].to_string(),
            None => msg,
        };
        let offset = locate::offset_of(text, inner.line(), inner.column());
        // Where serde cannot name the path (syntax errors, map keys), the scan can.
        let (segs, shown) = if inner.is_syntax() || inner.is_eof() || path.contains('?') {
            let segs = jsonscan::path_at(text.as_bytes(), offset);
            let shown = locate::render(&segs);
            (segs, shown)
        } else if path == "." {
            (Vec::new(), "(root)".to_string())
        } else {
            (locate::parse_path(&path), path)
        };
        ScenarioError {
            file: file.into(),
            path: shown,
            line: inner.line(),
            column: inner.column(),
            message: messages::rewrite(&msg, &segs),
        }
    })
}

/// Turns captures on for `which` (`listeners`, `all`, or host names separated by commas),
/// keeping the scenario's caps if it has a `capture` section (the `--pcap` flag).
pub fn set_capture_hosts(scn: &mut crate::spec::Scenario, which: &str) -> Result<(), String> {
    use raw::RawCaptureHosts;
    let which = match which {
        "listeners" | "all" => RawCaptureHosts::Word(which.to_string()),
        names => RawCaptureHosts::Names(names.split(',').map(|n| n.trim().to_string()).collect()),
    };
    let hosts = validate::capture_hosts(&scn.hosts, &scn.listeners, &which).map_err(|e| e.1)?;
    let spec = scn.capture.get_or_insert(crate::spec::CaptureSpec {
        hosts: Vec::new(),
        max_packets: crate::spec::CaptureSpec::DEFAULT_MAX_PACKETS,
        max_bytes: crate::spec::CaptureSpec::DEFAULT_MAX_BYTES,
        spoofed_one_in: 1,
    });
    spec.hosts = hosts;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::StackConfig;
    use crate::time::SimDuration;

    const MIN: &str = r#"{"duration_ms": 1000, "hosts": [{"name": "a", "addrs": ["10.0.0.1"]}]}"#;

    #[test]
    fn minimal_scenario_gets_defaults() {
        let s = parse(MIN, "t.json", "t").unwrap();
        assert_eq!(s.name, "t");
        assert_eq!(s.seed, 1);
        assert_eq!(s.sample_interval, SimDuration::from_ms(100));
        assert_eq!(s.hosts[0].stack, StackConfig::linux());
        let echo: serde_json::Value = serde_json::from_str(&s.echo).unwrap();
        assert_eq!(echo["hosts"][0]["stack"]["syn_retries"], 6);
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
