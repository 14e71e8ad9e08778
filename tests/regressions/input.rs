//! Regressions: scenario input, validation and error locations.

use std::io::Write;
use std::path::PathBuf;

use synsim::scenario::{self, LoadOptions, ScenarioError};

const ONE_HOST: &str = r#"{"duration_ms": 1000, "hosts": [{"name": "a", "addrs": ["10.0.0.1"]}]}"#;

fn refused(text: &str) -> ScenarioError {
    match scenario::parse(text, "t.json", "t") {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e,
    }
}

/// A scenario with hosts `a` (10.0.0.1) and `b` (10.0.0.2, listening on 80) and the given
/// extra top-level fields.
fn two_hosts(extra: &str) -> String {
    format!(
        r#"{{"duration_ms": 1000,
  "hosts": [{{"name": "a", "addrs": ["10.0.0.1", "fd00::1"]}},
            {{"name": "b", "addrs": ["10.0.0.2", "fd00::2"]}}],
  "listeners": [{{"host": "b", "port": 80}}]{extra}}}"#
    )
}

fn tmp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("synsim-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
    p
}

/// A host named `web,1` used to give a timeline header of more columns than its rows, and
/// `cli"ent` invalid JSON lines; `a/b` could make two random streams share a name.
#[test]
fn names_outside_the_safe_set_are_refused() {
    for bad in ["web,1", "cli\\\"ent", "a/b", "a b", "-a", ".a", "é", ""] {
        let text = ONE_HOST.replace("\"name\": \"a\"", &format!("\"name\": \"{bad}\""));
        let e = refused(&text);
        assert_eq!(e.path, "hosts[0].name", "{bad}: {e}");
        assert!(
            e.message.contains("ASCII letters") || e.message.contains("must not be empty"),
            "{bad}: {e}"
        );
    }
    let e = refused(&ONE_HOST.replace("\"a\"", &format!("\"{}\"", "x".repeat(65))));
    assert!(e.message.contains("65 characters"), "{e}");
    // Clients and attackers follow the same rule.
    let e = refused(&two_hosts(
        r#", "clients": [{"name": "w/x", "host": "a", "target": "10.0.0.2:80",
              "arrivals": {"kind": "times", "times_ms": [0]}}]"#,
    ));
    assert_eq!(e.path, "clients[0].name", "{e}");
    assert!(e.message.contains("'/'"), "{e}");
    let e = refused(&two_hosts(
        r#", "attackers": [{"name": "x,y", "host": "a", "target": "10.0.0.2:80",
              "rate_per_s": 10, "spoof": {"kind": "none"}}]"#,
    ));
    assert_eq!(e.path, "attackers[0].name", "{e}");
    // Every name the shipped scenarios use is fine, and so are the allowed characters.
    let ok = ONE_HOST.replace("\"name\": \"a\"", "\"name\": \"Web-1.example_A\"");
    scenario::parse(&ok, "t.json", "t").unwrap();
}

#[test]
fn scenario_name_and_description_are_capped() {
    let long = |field: &str, n: usize| {
        ONE_HOST.replacen('{', &format!("{{\"{field}\": \"{}\", ", "x".repeat(n)), 1)
    };
    scenario::parse(&long("name", 200), "t.json", "t").unwrap();
    scenario::parse(&long("description", 4096), "t.json", "t").unwrap();
    let e = refused(&long("name", 201));
    assert_eq!((e.path.as_str(), e.line), ("name", 1), "{e}");
    assert!(e.message.contains("at most 200"), "{e}");
    let e = refused(&long("description", 3 << 20));
    assert!(e.message.contains("at most 4096"), "{e}");
}

/// Two attackers named `a` were accepted and sent bit-identical SYN streams.
#[test]
fn attacker_names_are_unique() {
    let e = refused(&two_hosts(
        r#", "attackers": [
    {"name": "x", "host": "a", "target": "10.0.0.2:80", "rate_per_s": 10, "spoof": {"kind": "none"}},
    {"name": "x", "host": "a", "target": "10.0.0.2:80", "rate_per_s": 10, "spoof": {"kind": "none"}}]"#,
    ));
    assert_eq!(e.path, "attackers[1].name", "{e}");
    assert_eq!(e.line, 6, "{e}");
    assert!(e.message.contains("duplicate attacker name"), "{e}");
}

/// `"stack": {"syn_retries": 2, "syn_retries": 9}` was accepted, the last one winning.
#[test]
fn duplicate_keys_are_refused_at_any_depth() {
    let stack = ONE_HOST.replace(
        "\"addrs\"",
        "\"stack\": {\"syn_retries\": 2,\n \"syn_retries\": 9}, \"addrs\"",
    );
    let e = refused(&stack);
    assert_eq!(e.path, "hosts[0].stack.syn_retries", "{e}");
    assert_eq!((e.line, e.column), (2, 2), "{e}");
    assert!(e.message.contains("duplicate field `syn_retries`"), "{e}");
    assert!(e.message.contains("line 1"), "{e}");
    for (extra, path) in [
        (
            r#", "network": {"latency_ms": 1, "latency_ms": 2}"#,
            "network.latency_ms",
        ),
        (
            r#", "network": {"loss": {"model": "bernoulli", "p": 0.1, "p": 0.2}}"#,
            "network.loss.p",
        ),
        (
            r#", "network": {"paths": [{"from": "a", "to": "b", "to": "a"}]}"#,
            "network.paths[0].to",
        ),
        (
            r#", "charts": {"width_px": 300, "width_px": 400}"#,
            "charts.width_px",
        ),
        (
            r#", "clients": [{"name": "w", "host": "a", "target": "10.0.0.2:80",
              "arrivals": {"kind": "times", "times_ms": [0], "kind": "poisson"}}]"#,
            "clients[0].arrivals.kind",
        ),
        (
            r#", "attackers": [{"name": "x", "host": "a", "target": "10.0.0.2:80",
              "rate_per_s": 10, "spoof": {"kind": "range", "base": "10.9.0.0", "count": 4, "count": 5}}]"#,
            "attackers[0].spoof.count",
        ),
    ] {
        let e = refused(&two_hosts(extra));
        assert_eq!(e.path, path, "{e}");
        assert!(e.message.starts_with("duplicate field"), "{e}");
    }
}

/// Base `ffff:...:ffff` with count 3 wrapped to `::` and `::1` (and the debug build panicked
/// with an add overflow).
#[test]
fn ipv6_spoof_ranges_stay_in_the_address_space() {
    let flood = |base: &str, count: u64| {
        two_hosts(&format!(
            r#", "attackers": [{{"name": "x", "host": "a", "target": "[fd00::2]:80",
              "rate_per_s": 10, "spoof": {{"kind": "range", "base": "{base}", "count": {count}}}}}]"#
        ))
    };
    let top = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    let e = refused(&flood(top, 3));
    assert_eq!(e.path, "attackers[0].spoof.count", "{e}");
    assert!(e.message.contains("run past"), "{e}");
    scenario::parse(&flood(top, 1), "t.json", "t").unwrap();
    scenario::parse(
        &flood("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffd", 3),
        "t.json",
        "t",
    )
    .unwrap();
}

#[test]
fn invalid_utf8_is_located() {
    let mut bytes = ONE_HOST.replacen(", ", ",\n  ", 1).into_bytes();
    let at = bytes.windows(3).position(|w| w == b"\"a\"").unwrap() + 1; // in "name": "a"
    bytes[at] = 0xff;
    let p = tmp_file("bad_utf8.json", &bytes);
    let e = scenario::load(&p).unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    assert!(e.column > 1, "{e}");
    assert!(e.message.contains("invalid UTF-8"), "{e}");
    assert!(e.message.contains(&format!("byte offset {at}")), "{e}");
    assert_eq!(e.path, "hosts[0].name", "{e}");
}

/// A syntax error used to name the path `?` (`hosts[0].?`).
#[test]
fn syntax_errors_name_a_real_path() {
    for (text, path) in [
        (
            r#"{"duration_ms": 1000, "hosts": [{"name": "a" "addrs": []}]}"#,
            "hosts[0].name",
        ),
        (
            r#"{"duration_ms": 1000, "hosts": [{"name": "a", }]}"#,
            "hosts[0].name",
        ),
        (r#"{"duration_ms": 1000 "hosts": []}"#, "duration_ms"),
        ("{", "(root)"),
        ("", "(root)"),
    ] {
        let e = refused(text);
        assert_eq!(e.path, path, "{text}: {e}");
        assert!(!e.path.contains('?'), "{e}");
    }
}

#[test]
fn a_utf8_bom_is_accepted() {
    let text = format!("\u{feff}{ONE_HOST}");
    scenario::parse(&text, "t.json", "t").unwrap();
    let p = tmp_file("bom.json", text.as_bytes());
    scenario::load(&p).unwrap();
    // Positions are those of the text after the mark: the same as without it.
    let bad = ONE_HOST.replace("1000", "-1");
    let plain = refused(&bad);
    let e = refused(&format!("\u{feff}{bad}"));
    assert_eq!(
        (e.path.as_str(), e.line, e.column),
        ("duration_ms", 1, plain.column),
        "{e}"
    );
    assert_eq!(e.message, plain.message);
}

/// The budget refusal pointed at `max_events` (line 1, column 1) when `--max-events` set it.
#[test]
fn budget_refusal_names_who_set_the_budget() {
    let flood = two_hosts(
        r#", "attackers": [{"name": "x", "host": "a", "target": "10.0.0.2:80",
              "rate_per_s": 1e6, "spoof": {"kind": "none"}}]"#,
    );
    let e = scenario::parse_with_max_events(&flood, "t.json", "t", Some(1000)).unwrap_err();
    assert_eq!(e.line, 0, "{e}");
    assert!(e.message.contains("--max-events 1000"), "{e}");
    assert!(!e.to_string().contains("line"), "{e}");
    // Set in the file: located at the field.
    let in_file = flood.replacen('{', "{\"max_events\": 1000,\n", 1);
    let e = refused(&in_file);
    assert_eq!(
        (e.path.as_str(), e.line, e.column),
        ("max_events", 1, 2),
        "{e}"
    );
    // Neither: the default budget, no file location.
    let slow = flood.replace("1e6", "1e8").replace("1000,", "60000,");
    let e = refused(&slow);
    assert_eq!(e.line, 0, "{e}");
    assert!(e.message.contains("default budget"), "{e}");
}

/// `"syncookies": false` said "expected string or map".
#[test]
fn enum_knobs_list_their_values() {
    let with_stack = |s: &str| ONE_HOST.replace("\"addrs\"", &format!("\"stack\": {s}, \"addrs\""));
    let e = refused(&with_stack(r#"{"syncookies": false}"#));
    assert_eq!(e.path, "hosts[0].stack.syncookies");
    for v in ["`off`", "`on_overflow`", "`always`", "0, 1, 2"] {
        assert!(e.message.contains(v), "{e}");
    }
    for (knob, value) in [
        ("syn_queue_rule", "`backlog`"),
        ("accept_queue_rule", "`backlog_plus_one`"),
        ("syn_queue_overflow", "`recycle_oldest`"),
    ] {
        let e = refused(&with_stack(&format!(r#"{{"{knob}": 7}}"#)));
        assert!(e.message.contains(value), "{knob}: {e}");
    }
    for (extra, value) in [
        (
            r#", "network": {"loss": {"model": 5}}"#,
            "`gilbert_elliott`",
        ),
        (r#", "network": {"loss": 5}"#, "`bernoulli`"),
        (
            r#", "listeners": [{"host": "b", "port": 81, "accept": {"mode": true}}]"#,
            "`never`",
        ),
        (
            r#", "listeners": [{"host": "b", "port": 81, "app": 3}]"#,
            "`discard`",
        ),
        (
            r#", "clients": [{"name": "w", "host": "a", "target": "10.0.0.2:80", "arrivals": {"kind": 1}}]"#,
            "`poisson`",
        ),
        (
            r#", "attackers": [{"name": "x", "host": "a", "target": "10.0.0.2:80", "rate_per_s": 1, "spoof": {"kind": []}}]"#,
            "`range`",
        ),
        (
            r#", "attackers": [{"name": "x", "host": "a", "target": "10.0.0.2:80", "rate_per_s": 1, "arrivals": 2, "spoof": {"kind": "none"}}]"#,
            "`constant`",
        ),
    ] {
        let text = two_hosts(extra).replace(r#"[{"host": "b", "port": 80}], "listeners": "#, "");
        let e = refused(&text);
        assert!(e.message.contains(value), "{extra}: {e}");
    }
    let e = refused(&ONE_HOST.replace("\"addrs\"", "\"profile\": \"bsd\", \"addrs\""));
    assert!(e.message.contains("freebsd"), "{e}");
}

/// serde's messages showed Rust type names (`expected u64`, `struct RawHost`...).
#[test]
fn messages_never_show_rust_type_names() {
    let mut bad: Vec<String> = Vec::new();
    let values = [
        "\"x\"",
        "-1",
        "1.5",
        "true",
        "null",
        "{}",
        "[]",
        "[1, 2, 3]",
        "1e400",
        "70000",
        "18446744073709551616",
        "{\"a\": 1}",
    ];
    let fields = [
        ("", "seed"),
        ("", "duration_ms"),
        ("", "max_events"),
        ("", "hosts"),
        ("", "network"),
        ("", "listeners"),
        ("", "clients"),
        ("", "attackers"),
        ("", "charts"),
        ("", "description"),
        ("network", "latency_ms"),
        ("network", "loss"),
        ("network", "paths"),
        ("network", "drop"),
        ("network", "icmp_burst"),
        ("charts", "width_px"),
        ("host", "name"),
        ("host", "addrs"),
        ("host", "alive"),
        ("host", "crashes"),
        ("host", "stack"),
        ("stack", "syn_retries"),
        ("stack", "syncookies"),
        ("stack", "syn_backoff_multipliers"),
        ("stack", "ephemeral_port_min"),
        ("stack", "quarter_rule"),
        ("listener", "port"),
        ("listener", "backlog"),
        ("listener", "accept"),
        ("listener", "app"),
        ("client", "arrivals"),
        ("client", "send"),
        ("attacker", "rate_per_s"),
        ("attacker", "spoof"),
        ("attacker", "arrivals"),
    ];
    for v in values {
        for (section, f) in fields {
            let text = match section {
                "" => format!(
                    r#"{{"{f}": {v}, "duration_ms": 1000, "hosts": [{{"name": "a", "addrs": ["10.0.0.1"]}}]}}"#
                )
                .replace(r#""duration_ms": 1000, "duration_ms""#, r#""duration_ms""#),
                "network" | "charts" => two_hosts(&format!(r#", "{section}": {{"{f}": {v}}}"#)),
                "host" => two_hosts("").replacen(r#""name": "a","#, &format!(r#""name": "a", "{f}": {v},"#), 1),
                "stack" => two_hosts("").replacen(r#""name": "a","#, &format!(r#""name": "a", "stack": {{"{f}": {v}}},"#), 1),
                "listener" => two_hosts("").replace(r#""port": 80}"#, &format!(r#""port": 80, "{f}": {v}}}"#)),
                "client" => two_hosts(&format!(
                    r#", "clients": [{{"name": "w", "host": "a", "target": "10.0.0.2:80", "arrivals": {{"kind": "times", "times_ms": [0]}}, "{f}": {v}}}]"#
                )),
                _ => two_hosts(&format!(
                    r#", "attackers": [{{"name": "x", "host": "a", "target": "10.0.0.2:80", "rate_per_s": 1, "spoof": {{"kind": "none"}}, "{f}": {v}}}]"#
                )),
            };
            // Duplicate keys are refused by their own check first: drop them from this test.
            let text = text.replace(&format!(r#""{f}": {v}, "{f}""#), &format!(r#""{f}""#));
            if let Err(e) = scenario::parse(&text, "t.json", "t") {
                if scenario::has_rust_type_name(&e.message) {
                    bad.push(format!("{section}.{f} = {v}: {}", e.message));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} messages with Rust type names:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// A 200 MB description took 1.65 GB of memory; the file is now refused unread above a cap.
#[test]
fn large_files_are_refused_before_reading() {
    let p = tmp_file("huge.json", b"");
    // A sparse file: its size is 17 MiB without writing it.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(17 << 20)
        .unwrap();
    let e = scenario::load(&p).unwrap_err();
    assert!(e.message.contains(&format!("{} bytes", 17u64 << 20)), "{e}");
    assert!(e.message.contains(&format!("{} bytes", 16u64 << 20)), "{e}");
    assert!(e.to_string().contains("huge.json"), "{e}");
    // The cap can be set; the file under it loads.
    let small = tmp_file("small.json", ONE_HOST.as_bytes());
    let opts = |max_file_bytes| LoadOptions {
        max_file_bytes,
        ..LoadOptions::default()
    };
    scenario::load_with(&small, &opts(ONE_HOST.len() as u64)).unwrap();
    let e = scenario::load_with(&small, &opts(ONE_HOST.len() as u64 - 1)).unwrap_err();
    assert!(e.message.contains("limit"), "{e}");
}

/// 100 000 hosts did not validate in 300 s (40 000 took 12.9 s and 1 GB): duplicate checks
/// scanned everything before.
#[test]
fn a_hundred_thousand_hosts_validate() {
    let n = 100_000u32;
    let mut text = String::from(r#"{"duration_ms": 1000, "hosts": ["#);
    for i in 0..n {
        if i > 0 {
            text.push(',');
        }
        let a = std::net::Ipv4Addr::from(0x0a00_0000 + i);
        text.push_str(&format!(r#"{{"name": "h{i}", "addrs": ["{a}"]}}"#));
    }
    text.push_str(r#"], "listeners": [{"host": "h99999", "port": 80}]}"#);
    let scn = scenario::parse(&text, "many.json", "many").unwrap();
    assert_eq!(scn.hosts.len(), n as usize);
    // A duplicate at the very end is still found, at its place.
    let dup = text.replace(r#""h99998""#, r#""h5""#);
    let e = refused(&dup);
    assert_eq!(e.path, "hosts[99998].name", "{e}");
}

/// `--seed` was patched into the scenario after loading, echo included, by hand; the loader
/// now takes it, before validation.
#[test]
fn seed_override_reaches_the_echo() {
    let p = tmp_file("seeded.json", ONE_HOST.as_bytes());
    let opts = LoadOptions {
        seed: Some(77),
        ..LoadOptions::default()
    };
    let scn = scenario::load_with(&p, &opts).unwrap();
    assert_eq!(scn.seed, 77);
    let echo: serde_json::Value = serde_json::from_str(&scn.echo).unwrap();
    assert_eq!(echo["seed"], 77);
}

/// The echo is parsed back by the report: floats must come back bit for bit, or summary.json
/// would change in the last digit.
#[test]
fn the_echo_round_trips_exactly() {
    let text = ONE_HOST.replace("1000", "1000.0013673446459493421");
    let scn = scenario::parse(&text, "t.json", "t").unwrap();
    let v: serde_json::Value = serde_json::from_str(&scn.echo).unwrap();
    assert_eq!(v.to_string(), scn.echo);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..10_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let f = (x >> 11) as f64 / (1u64 << 53) as f64;
        let s = serde_json::Value::from(f).to_string();
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back.to_string(), s);
    }
}

/// `--set PATH=VALUE` (issue 10's overrides): the value is validated like the file's, an error
/// about it names the flag, and errors elsewhere keep their place in the file.
#[test]
fn set_overrides_are_validated_like_the_file() {
    use synsim::scenario::{LoadOptions, Override};
    let text = "{\"duration_ms\": 1000,\n \"hosts\": [{\"name\": \"s\", \"addrs\": [\"10.0.0.2\"]}],\n \"listeners\": [{\"host\": \"s\", \"port\": 80, \"backlog\": 8}]}";
    let with = |sets: &[&str]| {
        let opts = LoadOptions {
            sets: sets.iter().map(|s| Override::parse(s).unwrap()).collect(),
            ..LoadOptions::default()
        };
        scenario::parse_with(text, "t.json", "t", &opts)
    };
    let scn = with(&[
        "listeners[0].backlog=1024",
        "hosts[0].stack.syncookies=always",
    ])
    .unwrap();
    assert_eq!(scn.listeners[0].backlog, 1024);
    assert_eq!(
        scn.hosts[0].stack.syncookies,
        synsim::tcp::SynCookies::Always
    );
    assert!(scn.echo.contains("\"backlog\":1024"), "{}", scn.echo);
    let e = with(&["listeners[0].backlog=0"]).unwrap_err();
    assert_eq!(e.path, "listeners[0].backlog");
    assert!(
        e.message.contains("from --set listeners[0].backlog=0"),
        "{e}"
    );
    assert!(e.message.contains("backlog must be >= 1"), "{e}");
    let e = with(&["hosts[0].stack.syncookies=maybe"]).unwrap_err();
    assert!(e.message.contains("`off`, `on_overflow`, `always`"), "{e}");
    // An error the override did not cause still points into the file, at the same place.
    let bad = text.replace("\"port\": 80", "\"port\": \"x\"");
    let opts = LoadOptions {
        sets: vec![Override::parse("hosts[0].stack.syn_retries=3").unwrap()],
        ..LoadOptions::default()
    };
    let e = scenario::parse_with(&bad, "t.json", "t", &opts).unwrap_err();
    let plain = scenario::parse(&bad, "t.json", "t").unwrap_err();
    assert_eq!(
        (e.line, e.column, &e.path),
        (plain.line, plain.column, &plain.path)
    );
    assert_eq!(e.line, 3);
    assert!(!e.message.contains("--set"), "{e}");
    let e = with(&["listeners[0].colour=1"]).unwrap_err();
    assert!(e.message.contains("from --set"), "{e}");
    let e = with(&["listeners[2].backlog=1"]).unwrap_err();
    assert!(e.message.contains("no `listeners[2].backlog`"), "{e}");
    assert!(Override::parse("no equals sign").is_err());
}
