//! Hostile input: the scenario loader, the engine and the CLI must never panic, whatever the
//! file says. Inputs come from three generators: arbitrary JSON built from the scenario's own
//! vocabulary, byte-level mutations of the shipped scenarios (flips, truncation, insertion,
//! splicing) and structural mutations of them (one value replaced by a wrong type, a huge or
//! tiny number, a NaN-like string, deep nesting, unicode). Inputs that validate are also run
//! with a small event budget, and every tenth through the report code.
//!
//! Inputs per generator: `SYNSIM_FUZZ_CASES` (default 1500); each test prints how many inputs
//! ran, how many validated and how many were simulated. The huge values of the issue are
//! pinned one by one at the end.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};

use synsim::report::{self, Recorder};
use synsim::scenario;
use synsim::sim::{SimError, Simulation};
use synsim::spec::Scenario;

const SHIPPED: [&str; 7] = [
    "handshake",
    "lossy_link",
    "dead_host",
    "refused",
    "syn_flood",
    "syn_flood_cookies",
    "crash_restart",
];

fn shipped_texts() -> Vec<String> {
    SHIPPED
        .iter()
        .map(|n| {
            std::fs::read_to_string(format!("{}/scenarios/{n}.json", env!("CARGO_MANIFEST_DIR")))
                .unwrap()
        })
        .collect()
}

fn fuzz_cases() -> u32 {
    std::env::var("SYNSIM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500)
}

#[derive(Default)]
struct Tally {
    inputs: AtomicU64,
    valid: AtomicU64,
    simulated: AtomicU64,
    budget_stops: AtomicU64,
    reported: AtomicU64,
}

impl Tally {
    fn print(&self, what: &str) {
        eprintln!(
            "{what}: {} inputs, {} validated, {} simulated ({} stopped by the event budget), {} through the report",
            self.inputs.load(Ordering::Relaxed),
            self.valid.load(Ordering::Relaxed),
            self.simulated.load(Ordering::Relaxed),
            self.budget_stops.load(Ordering::Relaxed),
            self.reported.load(Ordering::Relaxed),
        );
    }
}

/// Parses `text`; if it validates, runs it with a small budget. Any panic is a failure.
fn exercise(text: &str, tally: &Tally) -> Result<(), TestCaseError> {
    let n = tally.inputs.fetch_add(1, Ordering::Relaxed);
    let r = catch_unwind(AssertUnwindSafe(|| {
        let scn = match scenario::parse(text, "fuzz.json", "fuzz") {
            Ok(s) => s,
            Err(e) => {
                // A refusal must say something and point somewhere sensible.
                assert!(!e.message.is_empty(), "empty error message");
                assert!(e.line <= text.lines().count() + 1, "line out of range: {e}");
                return;
            }
        };
        tally.valid.fetch_add(1, Ordering::Relaxed);
        run_small(scn, n % 10 == 0, tally);
    }));
    match r {
        Ok(()) => Ok(()),
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(TestCaseError::fail(format!(
                "panic: {msg}\ninput: {text:?}"
            )))
        }
    }
}

fn run_small(mut scn: Scenario, with_report: bool, tally: &Tally) {
    // Keep each run short: at most 20 000 events and 200 000 timeline samples.
    let samples = scn.duration.as_ns() / scn.sample_interval.as_ns().max(1);
    if samples > 200_000 {
        return;
    }
    scn.max_events = scn.max_events.min(20_000);
    let mut sim = Simulation::new(&scn);
    let mut rec = Recorder::new(&scn);
    tally.simulated.fetch_add(1, Ordering::Relaxed);
    match sim.run(&mut rec) {
        Ok(stats) => {
            assert_eq!(stats.past_pushes, 0);
            assert_eq!(stats.illegal_transitions, 0);
            if with_report {
                let s = report::Summary::new(&scn, &sim, &rec, &stats);
                serde_json::from_str::<Value>(&s.to_json()).unwrap();
                tally.reported.fetch_add(1, Ordering::Relaxed);
            }
        }
        Err(SimError::Budget { .. }) => {
            tally.budget_stops.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn run_campaign<S: Strategy>(name: &str, strategy: S, to_text: impl Fn(&S::Value) -> String)
where
    S::Value: std::fmt::Debug,
{
    let tally = Tally::default();
    let mut runner = TestRunner::new(Config {
        cases: fuzz_cases(),
        max_shrink_iters: 2000,
        failure_persistence: None,
        ..Config::default()
    });
    let started = std::time::Instant::now();
    let result = runner.run(&strategy, |v| exercise(&to_text(&v), &tally));
    tally.print(name);
    eprintln!("{name}: {:.1} s", started.elapsed().as_secs_f64());
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    assert!(tally.inputs.load(Ordering::Relaxed) >= fuzz_cases() as u64);
}

// ---------------------------------------------------------------------------------- values

const KEYS: &[&str] = &[
    "name",
    "description",
    "seed",
    "duration_ms",
    "sample_interval_ms",
    "max_events",
    "hosts",
    "network",
    "listeners",
    "clients",
    "attackers",
    "charts",
    "addrs",
    "profile",
    "stack",
    "alive",
    "crashes",
    "at_ms",
    "restart_ms",
    "latency_ms",
    "jitter_ms",
    "loss",
    "model",
    "p",
    "paths",
    "drop",
    "from",
    "to",
    "flags",
    "nth",
    "window_ms",
    "icmp_unreachable",
    "host",
    "port",
    "backlog",
    "accept",
    "mode",
    "delay_ms",
    "rate_per_s",
    "app",
    "target",
    "arrivals",
    "kind",
    "times_ms",
    "start_ms",
    "stop_ms",
    "max",
    "send",
    "spoof",
    "base",
    "count",
    "syncookies",
    "syn_retries",
    "syncache",
    "buckets",
    "min_rto_ms",
    "rto_max_ms",
];

fn weird_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(1)),
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(1u64 << 40)),
        Just(json!((1u64 << 40) + 1)),
        Just(json!(1e12)),
        Just(json!(1e15)),
        Just(json!(1e300)),
        Just(json!(-1e300)),
        Just(json!(1e-300)),
        Just(json!(3.2e12)),
        Just(json!(0.5)),
        Just(json!(4294967296u64)),
        Just(json!(65536)),
        any::<i64>().prop_map(|v| json!(v)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|v| json!(v)),
    ]
}

fn weird_string() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("NaN")),
        Just(json!("Infinity")),
        Just(json!("-inf")),
        Just(json!("1e999")),
        Just(json!("")),
        Just(json!("10.0.0.1")),
        Just(json!("10.0.0.1:80")),
        Just(json!("[::1]:0")),
        Just(json!("::ffff:1.2.3.4")),
        Just(json!("255.255.255.255")),
        Just(json!("linux")),
        Just(json!("SYN,ACK")),
        Just(json!("poisson")),
        Just(json!("\u{0}\u{7f}\u{ffff}ü漢字🙂")),
        Just(json!("a".repeat(5000))),
        "\\PC{0,40}".prop_map(Value::from),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        weird_number(),
        weird_string(),
    ];
    leaf.prop_recursive(6, 96, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        4 => proptest::sample::select(KEYS).prop_map(String::from),
                        1 => "\\PC{0,12}",
                    ],
                    inner
                ),
                0..8
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A minimal valid skeleton whose parts are replaced by generated JSON: most inputs get past
/// the syntax and reach the semantic checks.
fn skeleton_with(v: &[Value]) -> Value {
    let mut s = json!({
        "duration_ms": 2000,
        "hosts": [{"name": "a", "addrs": ["10.0.0.1"]}, {"name": "b", "addrs": ["10.0.0.2"]}],
        "listeners": [{"host": "b", "port": 80}],
        "clients": [{"name": "c", "host": "a", "target": "10.0.0.2:80",
                     "arrivals": {"kind": "poisson", "rate_per_s": 10}}],
        "attackers": [{"name": "x", "host": "a", "target": "10.0.0.2:80", "rate_per_s": 100,
                       "spoof": {"kind": "range", "base": "198.18.0.0", "count": 100}}],
    });
    let slots: [&[&str]; 10] = [
        &["duration_ms"],
        &["hosts", "0", "stack"],
        &["hosts", "1", "crashes"],
        &["network"],
        &["listeners", "0", "backlog"],
        &["listeners", "0", "accept"],
        &["clients", "0", "arrivals"],
        &["attackers", "0", "spoof"],
        &["attackers", "0", "rate_per_s"],
        &["sample_interval_ms"],
    ];
    for (i, val) in v.iter().enumerate() {
        let path = slots[i % slots.len()];
        set_path(&mut s, path, val.clone());
    }
    s
}

fn set_path(v: &mut Value, path: &[&str], new: Value) {
    let mut cur = v;
    for (i, p) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        let next = match cur {
            Value::Object(m) => {
                if last {
                    m.insert(p.to_string(), new);
                    return;
                }
                m.entry(p.to_string()).or_insert(json!({}))
            }
            Value::Array(a) => {
                let idx: usize = p.parse().unwrap_or(0);
                if idx >= a.len() {
                    return;
                }
                if last {
                    a[idx] = new;
                    return;
                }
                &mut a[idx]
            }
            _ => return,
        };
        cur = next;
    }
}

/// Every value in a JSON tree, by index in a pre-order walk, replaced by `new`.
fn replace_nth(v: &mut Value, n: &mut usize, new: &Value) -> bool {
    if *n == 0 {
        *v = new.clone();
        return true;
    }
    *n -= 1;
    match v {
        Value::Array(a) => a.iter_mut().any(|x| replace_nth(x, n, new)),
        Value::Object(m) => m.values_mut().any(|x| replace_nth(x, n, new)),
        _ => false,
    }
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count_nodes).sum(),
        Value::Object(m) => m.values().map(count_nodes).sum(),
        _ => 0,
    }
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Truncate { at: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Delete { at: usize, len: usize },
    Splice { from: usize, len: usize, at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        1 => any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        3 => (
            any::<usize>(),
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 1..8),
                proptest::sample::select(vec![
                    b"1e999".to_vec(), b"-".to_vec(), b"\"".to_vec(), b"[".to_vec(),
                    b"{".to_vec(), b",".to_vec(), b"null".to_vec(), b"18446744073709551616".to_vec(),
                    b"NaN".to_vec(), b"\\u0000".to_vec(), "漢".as_bytes().to_vec(),
                ]),
            ]
        )
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        2 => (any::<usize>(), 1usize..20).prop_map(|(at, len)| Mutation::Delete { at, len }),
        1 => (any::<usize>(), 1usize..200, any::<usize>())
            .prop_map(|(from, len, at)| Mutation::Splice { from, len, at }),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    let n = bytes.len();
    match m {
        Mutation::Flip { at, bit } => bytes[at % n] ^= 1 << bit,
        Mutation::Truncate { at } => bytes.truncate(at % n),
        Mutation::Insert { at, bytes: b } => {
            let at = at % (n + 1);
            bytes.splice(at..at, b.iter().copied());
        }
        Mutation::Delete { at, len } => {
            let at = at % n;
            let end = (at + len).min(n);
            bytes.drain(at..end);
        }
        Mutation::Splice { from, len, at } => {
            let from = from % n;
            let piece: Vec<u8> = bytes[from..(from + len).min(n)].to_vec();
            let at = at % (n + 1);
            bytes.splice(at..at, piece);
        }
    }
}

// ---------------------------------------------------------------------------------- campaigns

#[test]
fn loader_survives_arbitrary_json() {
    run_campaign("arbitrary JSON", arb_json(), |v| v.to_string());
}

#[test]
fn loader_survives_arbitrary_json_in_a_valid_skeleton() {
    run_campaign(
        "JSON in a skeleton",
        proptest::collection::vec(arb_json(), 1..4),
        |v| skeleton_with(v).to_string(),
    );
}

#[test]
fn loader_survives_byte_mutations_of_shipped_scenarios() {
    let texts = shipped_texts();
    run_campaign(
        "byte mutations",
        (0..texts.len(), proptest::collection::vec(mutation(), 1..6)),
        move |(i, ms)| {
            let mut b = texts[*i].clone().into_bytes();
            for m in ms {
                apply(&mut b, m);
            }
            String::from_utf8_lossy(&b).into_owned()
        },
    );
}

#[test]
fn loader_survives_structural_mutations_of_shipped_scenarios() {
    let values: Vec<Value> = shipped_texts()
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect();
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        weird_number(),
        weird_string(),
        Just(json!([])),
        Just(json!({})),
    ];
    run_campaign(
        "structural mutations",
        (
            0..values.len(),
            proptest::collection::vec((any::<usize>(), leaf), 1..4),
        ),
        move |(i, edits)| {
            let mut v = values[*i].clone();
            for (at, new) in edits {
                let mut n = at % count_nodes(&v);
                replace_nth(&mut v, &mut n, new);
            }
            v.to_string()
        },
    );
}

// ---------------------------------------------------------------------------------- explicit

fn refused(text: &str) -> scenario::ScenarioError {
    match scenario::parse(text, "huge.json", "huge") {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e,
    }
}

const HOSTS: &str = r#""hosts": [{"name": "a", "addrs": ["10.0.0.1"]}, {"name": "s", "addrs": ["10.0.0.2"], "profile": "rfc9293"}]"#;

#[test]
fn deep_nesting_and_huge_documents_are_errors() {
    for depth in [200, 100_000] {
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let e = refused(&text);
        assert!(
            e.message.contains("recursion") || e.message.contains("invalid type"),
            "{e}"
        );
        let text = format!(
            r#"{{"duration_ms": 1, "hosts": [], "description": {}0{}}}"#,
            "{\"a\":".repeat(depth),
            "}".repeat(depth)
        );
        refused(&text);
    }
    let e = refused(&format!(r#"{{"duration_ms": 1{}}}"#, " ".repeat(1 << 20)));
    assert!(e.message.contains("hosts"), "{e}");
}

#[test]
fn a_trillion_clients_via_max_are_refused_by_the_event_budget() {
    let text = format!(
        r#"{{"duration_ms": 1e13, "sample_interval_ms": 1e9, {HOSTS},
            "clients": [{{"name": "c", "host": "a", "target": "10.0.0.2:80",
                          "arrivals": {{"kind": "constant", "rate_per_s": 1e6, "max": 1000000000000}}}}]}}"#
    );
    let e = refused(&text);
    assert_eq!(e.path, "max_events");
    assert!(
        e.message.contains("1.200e13 events") && e.message.contains("--max-events"),
        "{e}"
    );
    // Within the budget the same `max` caps the run: 1e12 allowed, 3 happen.
    let text = text.replace("1e13, \"sample_interval_ms\": 1e9", "2000");
    let text = text.replace("1e6", "1");
    let scn = scenario::parse(&text, "t", "t").unwrap();
    let stats = Simulation::new(&scn)
        .run(&mut synsim::sim::NoObserver)
        .unwrap();
    assert_eq!(stats.attempts_started, 3);
}

#[test]
fn rates_of_1e15_per_second_are_refused() {
    for kind in ["constant", "poisson"] {
        let text = format!(
            r#"{{"duration_ms": 1000, {HOSTS},
                "clients": [{{"name": "c", "host": "a", "target": "10.0.0.2:80",
                              "arrivals": {{"kind": "{kind}", "rate_per_s": 1e15}}}}]}}"#
        );
        let e = refused(&text);
        assert!(
            e.message.contains("1e9 per second") || e.message.contains("max_events"),
            "{kind}: {e}"
        );
    }
    for arrivals in ["constant", "poisson"] {
        let text = format!(
            r#"{{"duration_ms": 1000, {HOSTS},
                "attackers": [{{"name": "x", "host": "a", "target": "10.0.0.2:80", "rate_per_s": 1e15,
                                "arrivals": "{arrivals}", "stop_ms": 0.000001, "spoof": {{"kind": "none"}}}}]}}"#
        );
        let e = refused(&text);
        assert_eq!(e.path, "attackers[0].rate_per_s", "{e}");
        assert!(e.message.contains("1e9 per second"), "{e}");
    }
    // The highest accepted rate runs, within the budget its estimate promised.
    let text = format!(
        r#"{{"duration_ms": 1000, {HOSTS},
            "attackers": [{{"name": "x", "host": "a", "target": "10.0.0.2:80", "rate_per_s": 1e9,
                            "stop_ms": 0.001, "spoof": {{"kind": "none"}}}}]}}"#
    );
    let scn = scenario::parse(&text, "t", "t").unwrap();
    let stats = Simulation::new(&scn)
        .run(&mut synsim::sim::NoObserver)
        .unwrap();
    assert!(stats.events < 20_000, "{}", stats.events);
}

#[test]
fn durations_of_centuries_are_refused_or_cheap() {
    // 300 years at the default 100 ms grid: 9.5e10 samples.
    let e = refused(&format!(r#"{{"duration_ms": 9.5e12, {HOSTS}}}"#));
    assert_eq!(e.path, "sample_interval_ms");
    assert!(e.message.contains("10 000 000 limit"), "{e}");
    // 3 000 years: beyond the supported range.
    let e = refused(&format!(r#"{{"duration_ms": 1e14, {HOSTS}}}"#));
    assert!(e.message.contains("317 years"), "{e}");
    // A century with a coarse grid and nothing happening runs at once.
    let scn = scenario::parse(
        &format!(r#"{{"duration_ms": 3.2e12, "sample_interval_ms": 1e9, {HOSTS}}}"#),
        "t",
        "t",
    )
    .unwrap();
    let started = std::time::Instant::now();
    Simulation::new(&scn)
        .run(&mut synsim::sim::NoObserver)
        .unwrap();
    assert!(started.elapsed().as_secs() < 5);
    // A client connecting once a second for a century: refused by the event budget.
    let e = refused(&format!(
        r#"{{"duration_ms": 3.2e12, "sample_interval_ms": 1e9, {HOSTS},
            "clients": [{{"name": "c", "host": "a", "target": "10.0.0.2:80",
                          "arrivals": {{"kind": "poisson", "rate_per_s": 1}}}}]}}"#
    ));
    assert_eq!(e.path, "max_events");
    // Crash times and stack timers of centuries are bounded too.
    let e = refused(
        r#"{"duration_ms": 1000, "hosts": [{"name": "a", "addrs": ["10.0.0.1"],
            "crashes": [{"at_ms": 1e20}]}]}"#,
    );
    assert!(e.message.contains("317 years"), "{e}");
}

#[test]
fn a_backlog_of_2_pow_40_is_handled_and_above_is_refused() {
    let flood = |backlog: u64| {
        format!(
            r#"{{"duration_ms": 2000, {HOSTS},
                "listeners": [{{"host": "s", "port": 80, "backlog": {backlog}}}],
                "attackers": [{{"name": "x", "host": "a", "target": "10.0.0.2:80", "rate_per_s": 2000,
                                "spoof": {{"kind": "range", "base": "198.18.0.0", "count": 65536}}}}]}}"#
        )
    };
    let scn = scenario::parse(&flood(1 << 40), "t", "t").unwrap();
    let mut sim = Simulation::new(&scn);
    sim.run(&mut synsim::sim::NoObserver).unwrap();
    let st = &sim.stack(synsim::net::HostId(1)).listener_stats()[0];
    // rfc9293's somaxconn (2^32 - 1) caps it; either way the queue is a counter, not an
    // allocation, and the flood fills it without trouble.
    assert_eq!(st.syn_queue_capacity, u32::MAX as u64);
    assert!(
        st.syn_queue_peak > 3000 && st.syn_queue_peak < 5000,
        "{}",
        st.syn_queue_peak
    );
    let e = refused(&flood((1 << 40) + 1));
    assert_eq!(e.path, "listeners[0].backlog");
    assert!(e.message.contains("2^40"), "{e}");
}

// ---------------------------------------------------------------------------------- CLI

fn simulate(args: &[&std::ffi::OsStr]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap()
}

/// The binary on mutated files and arbitrary arguments: exit 0, 1 (bad input) or 2 (usage),
/// never a panic (101) or a signal. Inputs: `SYNSIM_FUZZ_CASES / 10` (default 150).
#[test]
fn cli_never_panics() {
    let dir = std::env::temp_dir().join(format!("synsim-cli-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let texts = shipped_texts();
    let runs = AtomicU64::new(0);
    let mut runner = TestRunner::new(Config {
        cases: (fuzz_cases() / 10).max(20),
        max_shrink_iters: 200,
        failure_persistence: None,
        ..Config::default()
    });
    let arg = prop_oneof![
        Just("--seed".to_string()),
        Just("--max-events".to_string()),
        Just("--trace".to_string()),
        Just("-q".to_string()),
        Just("--stats".to_string()),
        Just("--no-charts".to_string()),
        Just("--explain-profile".to_string()),
        Just("18446744073709551616".to_string()),
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("freebsd".to_string()),
        "\\PC{0,10}",
    ];
    let strategy = (
        0..texts.len(),
        proptest::collection::vec(mutation(), 0..4),
        proptest::collection::vec(arg, 0..4),
    );
    let result = runner.run(&strategy, |(i, ms, args)| {
        let n = runs.fetch_add(1, Ordering::Relaxed);
        let mut b = texts[i].clone().into_bytes();
        for m in &ms {
            apply(&mut b, m);
        }
        let file = dir.join(format!("s{n}.json"));
        std::fs::write(&file, &b).unwrap();
        let out = dir.join(format!("out{n}"));
        let mut argv: Vec<&std::ffi::OsStr> = vec![file.as_os_str()];
        argv.extend(args.iter().map(|a| std::ffi::OsStr::new(a.as_str())));
        // Always last, so a generated flag never takes it as its value.
        argv.extend([
            std::ffi::OsStr::new("--no-charts"),
            std::ffi::OsStr::new("--max-events"),
            std::ffi::OsStr::new("50000"),
            std::ffi::OsStr::new("--out"),
            out.as_os_str(),
        ]);
        let o = simulate(&argv);
        let err = String::from_utf8_lossy(&o.stderr);
        prop_assert!(
            matches!(o.status.code(), Some(0..=2)),
            "exit {:?} for {argv:?}: {err}",
            o.status.code()
        );
        prop_assert!(!err.contains("panicked"), "{err}");
        let _ = std::fs::remove_dir_all(&out);
        let _ = std::fs::remove_file(&file);
        Ok(())
    });
    eprintln!("CLI: {} invocations", runs.load(Ordering::Relaxed));
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = result {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------------------------- outputs

// Every output file of fuzzed runs re-parsed.
#[path = "hostile_input/outputs.rs"]
mod outputs;
