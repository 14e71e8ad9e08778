//! Per-run results fit for comparison: phases, success within deadlines, attempts.csv, the
//! load-time warnings and client address pools.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use serde_json::Value;
use synsim::report::{self, RunOptions};
use synsim::scenario::{self, LoadOptions, Override};
use synsim::spec::Scenario;

fn tmp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("synsim-results-{}-{tag}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    d
}

/// A shipped scenario with `--set` overrides.
fn load_set(name: &str, sets: &[&str]) -> Scenario {
    let opts = LoadOptions {
        sets: sets.iter().map(|s| Override::parse(s).unwrap()).collect(),
        ..LoadOptions::default()
    };
    scenario::load_with(&common::scenario_path(name), &opts).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs into a fresh directory: (summary.json as a value, attempts.csv rows, the directory).
fn run(
    scn: &Scenario,
    tag: &str,
    max_rows: u64,
) -> (Value, Vec<BTreeMap<String, String>>, PathBuf) {
    let dir = tmp(tag);
    let opts = RunOptions {
        out_dir: dir.clone(),
        charts: false,
        max_attempt_rows: max_rows,
        ..RunOptions::default()
    };
    report::run_to_dir(scn, &opts).unwrap();
    let summary: Value =
        serde_json::from_slice(&fs::read(dir.join("summary.json")).unwrap()).unwrap();
    let mut rd = csv::Reader::from_path(dir.join("attempts.csv")).unwrap();
    let rows = rd.deserialize().map(|r| r.unwrap()).collect();
    (summary, rows, dir)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn syn_flood_headline_reads_from_summary_json_alone() {
    let (s, rows, dir) = run(&common::load("syn_flood"), "headline", 1_000_000);
    let p = &s["phases"][0];
    assert_eq!(p["attacker"], "flood");
    assert_eq!(p["window_ms"], serde_json::json!([10000.0, 30000.0]));
    assert_eq!(
        (f(&p["before"]["from_ms"]), f(&p["before"]["to_ms"])),
        (0.0, 10000.0)
    );
    assert_eq!(
        (f(&p["during"]["from_ms"]), f(&p["during"]["to_ms"])),
        (10000.0, 30000.0)
    );
    assert_eq!(
        (f(&p["after"]["from_ms"]), f(&p["after"]["to_ms"])),
        (30000.0, 45000.0)
    );
    let rate = |ph: &str| f(&p[ph]["success_rate"]);
    assert_eq!(rate("before"), 1.0);
    assert!(rate("during") < 0.3, "during {}", rate("during"));
    assert_eq!(rate("after"), 1.0);
    // The phases partition the attempts, and each agrees with attempts.csv.
    let n = |ph: &str| p[ph]["attempts"].as_u64().unwrap();
    assert_eq!(
        n("before") + n("during") + n("after"),
        s["attempts"].as_u64().unwrap()
    );
    for ph in ["before", "during", "after"] {
        let in_csv: Vec<_> = rows.iter().filter(|r| r["phase"] == ph).collect();
        assert_eq!(in_csv.len() as u64, n(ph), "{ph}");
        let est = in_csv
            .iter()
            .filter(|r| r["outcome"] == "established")
            .count() as u64;
        assert_eq!(
            est,
            p[ph]["outcomes"]["established"].as_u64().unwrap(),
            "{ph}"
        );
    }
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn attempts_csv_has_a_row_per_attempt_matching_the_summary() {
    let (s, rows, dir) = run(&common::load("lossy_link"), "rows", 1_000_000);
    assert_eq!(rows.len() as u64, s["attempts"].as_u64().unwrap());
    assert_eq!(s["attempts_csv"]["rows"], s["attempts"]);
    assert_eq!(s["attempts_csv"]["rows_left_out"], 0);
    let text = fs::read_to_string(dir.join("attempts.csv")).unwrap();
    assert!(
        text.starts_with(
            "client,attempt,phase,start_ms,outcome,end_ms,connect_ms,syns_sent,error\n"
        )
    );
    let mut by_outcome = BTreeMap::<String, u64>::new();
    for r in &rows {
        *by_outcome.entry(r["outcome"].clone()).or_default() += 1;
        assert_eq!(r["phase"], "none", "no attackers in lossy_link");
        let syns: u32 = r["syns_sent"].parse().unwrap();
        assert!(syns >= 1);
        let start: f64 = r["start_ms"].parse().unwrap();
        let end: f64 = r["end_ms"].parse().unwrap();
        assert!(end >= start);
        if r["outcome"] == "established" {
            let c: f64 = r["connect_ms"].parse().unwrap();
            assert!(c > 0.0 && start + c <= end + 1e-9);
        } else {
            assert_eq!(r["connect_ms"], "");
        }
    }
    for (k, v) in s["outcomes"].as_object().unwrap() {
        let want = v.as_u64().unwrap();
        assert_eq!(by_outcome.get(k).copied().unwrap_or(0), want, "{k}");
    }
    // Retransmitted SYNs show: lossy_link loses some.
    assert!(rows.iter().any(|r| r["syns_sent"] != "1"));
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn attempts_csv_is_capped_and_the_summary_says_so() {
    let (s, rows, dir) = run(&common::load("syn_flood"), "cap", 10);
    let attempts = s["attempts"].as_u64().unwrap();
    assert_eq!(rows.len(), 10);
    assert_eq!(s["attempts_csv"]["rows"], 10);
    assert_eq!(
        s["attempts_csv"]["rows_left_out"].as_u64().unwrap(),
        attempts - 10
    );
    let w = s["warnings"].as_array().unwrap();
    assert!(w.iter().any(|w| {
        w.as_str()
            .unwrap()
            .contains("attempts.csv holds the first 10")
    }));
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn attempts_in_progress_at_the_end_are_listed_as_unfinished() {
    // The last attempts start 100 ms before the end; the server is dead, so SYNs go unanswered.
    let scn = load_set("dead_host", &["duration_ms=3000"]);
    let (s, rows, dir) = run(&scn, "unfinished", 1_000_000);
    let unfinished = s["outcomes"]["unfinished"].as_u64().unwrap();
    assert!(unfinished > 0);
    let listed: Vec<_> = rows
        .iter()
        .filter(|r| r["outcome"] == "unfinished")
        .collect();
    assert_eq!(listed.len() as u64, unfinished);
    for r in listed {
        assert_eq!((r["end_ms"].as_str(), r["connect_ms"].as_str()), ("", ""));
    }
    assert_eq!(rows.len() as u64, s["attempts"].as_u64().unwrap());
    let _ = fs::remove_dir_all(dir);
}

/// With the default Linux client (retrying for 131 s) cookies off and on both reach nearly
/// every connection; the deadlines tell them apart.
#[test]
fn success_within_deadlines_separates_cookies_off_from_on() {
    let base = ["hosts[0].stack.syn_retries=6", "duration_ms=200000"];
    let off = load_set("syn_flood", &base);
    let on = load_set(
        "syn_flood",
        &[base[0], base[1], "hosts[1].stack.syncookies=on_overflow"],
    );
    let (a, _, da) = run(&off, "off", 1_000_000);
    let (b, _, db) = run(&on, "on", 1_000_000);
    let total = |s: &Value| f(&s["success_rate"]);
    assert!(
        total(&a) > 0.99 && total(&b) > 0.99,
        "{} {}",
        total(&a),
        total(&b)
    );
    let within = |s: &Value, i: usize| f(&s["success_within"][i]["rate"]);
    assert_eq!(f(&a["success_within"][0]["deadline_ms"]), 1000.0);
    assert_eq!(f(&a["success_within"][1]["deadline_ms"]), 3000.0);
    assert!(
        within(&b, 0) > within(&a, 0) + 0.2,
        "{} vs {}",
        within(&b, 0),
        within(&a, 0)
    );
    assert!(within(&a, 0) <= within(&a, 1) && within(&a, 1) <= total(&a));
    let _ = (fs::remove_dir_all(da), fs::remove_dir_all(db));
}

#[test]
fn deadlines_are_settable_sorted_and_checked() {
    let scn = load_set("handshake", &["success_within_ms=[50, 10, 50]"]);
    let (s, _, dir) = run(&scn, "deadlines", 1_000_000);
    let d: Vec<f64> = s["success_within"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| f(&w["deadline_ms"]))
        .collect();
    assert_eq!(d, [10.0, 50.0]);
    let _ = fs::remove_dir_all(dir);
    let opts = LoadOptions {
        sets: vec![Override::parse("success_within_ms=[100, 0]").unwrap()],
        ..LoadOptions::default()
    };
    let e = scenario::load_with(&common::scenario_path("handshake"), &opts).unwrap_err();
    assert_eq!(e.path, "success_within_ms[1]");
    assert!(e.message.contains("> 0"), "{}", e.message);
}

fn warnings(scn: &Scenario) -> Vec<String> {
    scn.warnings.clone()
}

#[test]
fn likely_mistakes_are_warned_about() {
    let capped = load_set("handshake", &["listeners[0].backlog=10000"]);
    let w = warnings(&capped);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("capped to somaxconn = 4096"), "{w:?}");

    let w = warnings(&common::load("refused"));
    assert!(
        w.iter()
            .any(|w| w.contains("no listener serves its target 10.0.3.1:8080")),
        "{w:?}"
    );
    assert!(warnings(&common::load("handshake")).is_empty());

    // Backlog 2048 = max_syn_backlog with cookies off: the quarter rule bites, and one
    // client address is proven after its first cleanly closed connection.
    let big = ["listeners[0].backlog=2048", "attackers[0].rate_per_s=5000"];
    let w = warnings(&load_set("syn_flood", &big));
    assert!(w.iter().any(|w| w.contains("proven peer")), "{w:?}");
    let pooled = load_set(
        "syn_flood",
        &[
            big[0],
            big[1],
            r#"clients[0].addrs={"kind":"range","base":"10.9.0.0","count":4096}"#,
        ],
    );
    assert!(warnings(&pooled).is_empty(), "{:?}", warnings(&pooled));
    // At backlog 128 the queue is full long before the last quarter: no warning.
    assert!(warnings(&common::load("syn_flood")).is_empty());
}

/// The measurement the pool was built for: one client address is proven after its first
/// connection and passes the quarter rule; distinct sources do not.
#[test]
fn a_pool_of_sources_is_not_proven_and_meets_the_quarter_rule() {
    let big = [
        "listeners[0].backlog=2048",
        "attackers[0].rate_per_s=5000",
        "attackers[0].spoof.count=16777216",
        "attackers[0].spoof.base=100.0.0.0",
    ];
    let (one, _, d1) = run(&load_set("syn_flood", &big), "one", 1_000_000);
    let mut sets = big.to_vec();
    sets.push(r#"clients[0].addrs={"kind":"range","base":"10.9.0.0","count":4096}"#);
    let (pool, _, d2) = run(&load_set("syn_flood", &sets), "pool", 1_000_000);
    let during = |s: &Value| f(&s["phases"][0]["during"]["success_rate"]);
    assert_eq!(during(&one), 1.0);
    assert!(during(&pool) < 0.5, "{}", during(&pool));
    assert!(f(&pool["drops_by_reason"]["quarter_rule"]) > 0.0);
    let _ = (fs::remove_dir_all(d1), fs::remove_dir_all(d2));
}

/// Sequential draw: attempt i uses base + i mod count (seen on the wire, in the trace).
#[test]
fn pool_addresses_are_drawn_as_documented() {
    for (draw, want_distinct) in [("sequential", 3usize), ("random", 0)] {
        let pool = format!(
            r#"clients[0].addrs={{"kind":"range","base":"10.0.0.100","count":3,"draw":"{draw}"}}"#
        );
        let times = "clients[0].arrivals.times_ms=[100, 200, 300, 400, 500, 600]";
        let scn = load_set("handshake", &[&pool, times]);
        let dir = tmp(draw);
        let opts = RunOptions {
            out_dir: dir.clone(),
            charts: false,
            trace: true,
            ..RunOptions::default()
        };
        report::run_to_dir(&scn, &opts).unwrap();
        let trace = fs::read_to_string(dir.join("events.jsonl")).unwrap();
        let mut srcs = Vec::new();
        for line in trace.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            if v["event"] == "send" && v["flags"] == "SYN" {
                srcs.push(
                    v["src"]
                        .as_str()
                        .unwrap()
                        .split(':')
                        .next()
                        .unwrap()
                        .to_string(),
                );
            }
        }
        assert!(!srcs.is_empty());
        for s in &srcs {
            assert!(
                ["10.0.0.100", "10.0.0.101", "10.0.0.102"].contains(&s.as_str()),
                "{s}"
            );
        }
        if draw == "sequential" {
            let first: Vec<&str> = srcs
                .iter()
                .take(want_distinct)
                .map(|s| s.as_str())
                .collect();
            assert_eq!(first, ["10.0.0.100", "10.0.0.101", "10.0.0.102"]);
        }
        // Every attempt still succeeds: replies reach the pool addresses.
        let s: Value =
            serde_json::from_slice(&fs::read(dir.join("summary.json")).unwrap()).unwrap();
        assert_eq!(s["success_rate"], 1.0);
        let _ = fs::remove_dir_all(dir);
    }
}

#[test]
fn bad_pools_name_their_field() {
    let cases = [
        (
            r#"{"kind":"range","base":"10.0.0.100","count":0}"#,
            "clients[0].addrs.count",
            "count must be",
        ),
        (
            r#"{"kind":"range","base":"fd00::1","count":4}"#,
            "clients[0].addrs.base",
            "family",
        ),
        (
            r#"{"kind":"range","base":"10.0.0.0","count":16}"#,
            "clients[0].addrs",
            "an address of host",
        ),
        (
            r#"{"kind":"range","base":"255.255.255.250","count":16}"#,
            "clients[0].addrs.count",
            "run past",
        ),
        (
            r#"{"kind":"list","base":"10.0.0.100","count":1}"#,
            "clients[0].addrs.kind",
            "expected `range`",
        ),
    ];
    for (pool, path, msg) in cases {
        let opts = LoadOptions {
            sets: vec![Override::parse(&format!("clients[0].addrs={pool}")).unwrap()],
            ..LoadOptions::default()
        };
        let e = scenario::load_with(&common::scenario_path("handshake"), &opts).unwrap_err();
        assert_eq!(e.path, path, "{pool}: {e}");
        assert!(e.message.contains(msg), "{pool}: {e}");
    }
    let opts = LoadOptions {
        sets: vec![
            Override::parse(r#"clients[0].addrs={"kind":"range","base":"10.0.0.100","count":2}"#)
                .unwrap(),
            Override::parse(r#"clients[0].addr="10.0.0.1""#).unwrap(),
        ],
        ..LoadOptions::default()
    };
    let e = scenario::load_with(&common::scenario_path("handshake"), &opts).unwrap_err();
    assert!(e.message.contains("not both"), "{e}");
}
