//! Regression tests for bugs found by the property tests and the input fuzzer. Each test names
//! the input that used to panic or misbehave.

use synsim::scenario;
use synsim::sim::{NoObserver, Simulation};

// Regressions grouped by area: scenario input and validation, output files and the CLI, and
// the simulation core.
#[path = "regressions/core.rs"]
mod core_rules;
#[path = "regressions/formats.rs"]
mod formats;
#[path = "regressions/input.rs"]
mod input;
#[path = "regressions/output.rs"]
mod output;

const TWO_HOSTS: &str = r#"{"duration_ms": 5000,
  "hosts": [{"name": "c", "addrs": ["10.0.0.1"], "stack": KNOBS},
            {"name": "s", "addrs": ["10.0.0.2"], "stack": KNOBS}],
  "listeners": [{"host": "s", "port": 80}],
  "clients": [{"name": "w", "host": "c", "target": "10.0.0.2:80",
               "arrivals": {"kind": "times", "times_ms": [0, 100]}, "send": "hi"}]}"#;

fn with_knobs(knobs: &str) -> String {
    TWO_HOSTS.replace("KNOBS", knobs)
}

/// `min_rto_ms` above `rto_max_ms` used to reach `u64::clamp(min, max)` with min > max when the
/// first RTT sample was taken, and panic in the middle of a run.
#[test]
fn min_rto_above_rto_max_is_refused_not_a_panic() {
    for knobs in [
        r#"{"min_rto_ms": 5000, "rto_max_ms": 1000}"#,
        r#"{"min_rto_ms": 18446744073709551615}"#,
    ] {
        let e = scenario::parse(&with_knobs(knobs), "t.json", "t").unwrap_err();
        assert_eq!(e.path, "hosts[0].stack.min_rto_ms", "{e}");
    }
    // Equal bounds are fine and run.
    let scn = scenario::parse(
        &with_knobs(r#"{"min_rto_ms": 1000, "rto_max_ms": 1000}"#),
        "t.json",
        "t",
    )
    .unwrap();
    Simulation::new(&scn).run(&mut NoObserver).unwrap();
}

/// Millisecond knobs are turned into nanoseconds by multiplication: values above 2^40 ms used
/// to overflow (a panic with overflow checks, silently wrapped timers without).
#[test]
fn huge_millisecond_knobs_are_refused() {
    for field in [
        "syn_rto_initial_ms",
        "rto_max_ms",
        "syn_give_up_ms",
        "synack_rto_initial_ms",
        "synrecv_timeout_ms",
        "syncookies_only_pause_ms",
        "syncookie_check_window_ms",
        "fin_wait2_timeout_ms",
        "msl_ms",
    ] {
        let knobs = format!(r#"{{"{field}": 18446744073709551615}}"#);
        let e = scenario::parse(&with_knobs(&knobs), "t.json", "t").unwrap_err();
        assert_eq!(e.path, format!("hosts[0].stack.{field}"), "{e}");
        assert!(e.message.contains("2^40"), "{e}");
    }
    // 2^40 ms itself is accepted and runs without overflow.
    let knobs = format!(
        r#"{{"rto_max_ms": {0}, "syn_rto_initial_ms": {0}}}"#,
        1u64 << 40
    );
    let scn = scenario::parse(&with_knobs(&knobs), "t.json", "t").unwrap();
    Simulation::new(&scn).run(&mut NoObserver).unwrap();
}

/// A host with `alive: false` and a crash/restart used to be "restarted" while its stack still
/// had its listeners open: every listener was opened a second time (two LISTEN sockets counted
/// in the timeline) and a host meant to be dead came to life. Such a scenario is now refused.
#[test]
fn dead_host_with_crashes_is_refused() {
    let src = r#"{"duration_ms": 5000,
      "hosts": [{"name": "s", "addrs": ["10.0.0.2"], "alive": false,
                 "crashes": [{"at_ms": 100, "restart_ms": 200}]}],
      "listeners": [{"host": "s", "port": 80}]}"#;
    let e = scenario::parse(src, "t.json", "t").unwrap_err();
    assert_eq!(e.path, "hosts[0].crashes", "{e}");
    assert!(e.message.contains("alive: false"), "{e}");
}

/// The network used to allocate a path slot (about 380 bytes) for every ordered pair of hosts up
/// front: 3 000 hosts took 3.2 GB and 9 s before the first event, 10 000 hosts could not be
/// allocated at all. Paths are now created when first used.
#[test]
fn thousands_of_hosts_do_not_allocate_the_square() {
    let n = 10_000;
    let hosts: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"name":"h{i}","addrs":["10.{}.{}.1"]}}"#,
                i / 256,
                i % 256
            )
        })
        .collect();
    let src = format!(
        r#"{{"duration_ms": 1000, "hosts": [{}],
          "listeners": [{{"host": "h0", "port": 80}}],
          "clients": [{{"name": "w", "host": "h9999", "target": "10.0.0.1:80",
                       "arrivals": {{"kind": "times", "times_ms": [0]}}}}]}}"#,
        hosts.join(",")
    );
    let scn = scenario::parse(&src, "t.json", "t").unwrap();
    let started = std::time::Instant::now();
    let mut sim = Simulation::new(&scn);
    let stats = sim.run(&mut NoObserver).unwrap();
    assert_eq!(stats.attempts_started, 1);
    assert_eq!(stats.unfinished_attempts, 0);
    // Generous: the quadratic table took tens of seconds (or failed to allocate).
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
}

/// The pre-run budget estimate told users to "pass --max-events", but the flag was applied only
/// after validation had already refused the scenario. The flag now raises both guards.
#[test]
fn max_events_flag_raises_the_pre_run_estimate_too() {
    let dir = std::env::temp_dir().join(format!("synsim-reg-maxev-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("big.json");
    // 1000 SYNs: about 8000 events estimated, above the file's budget of 1000.
    std::fs::write(
        &file,
        r#"{"duration_ms": 1000, "max_events": 1000, "hosts": [{"name": "a", "addrs": ["10.0.0.1"]}],
           "attackers": [{"name": "x", "host": "a", "target": "10.0.0.2:80", "rate_per_s": 1000,
                          "arrivals": "constant", "spoof": {"kind": "none"}}]}"#,
    )
    .unwrap();
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_simulate"))
            .arg(&file)
            .args(["--no-charts", "-q", "--out"])
            .arg(dir.join("out"))
            .args(extra)
            .output()
            .unwrap()
    };
    // Without the flag: refused up front, naming the flag.
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--max-events"));
    // Without a fix the library refused it too.
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(scenario::parse(&text, "big.json", "big").is_err());
    let scn = scenario::parse_with_max_events(&text, "big.json", "big", Some(100_000)).unwrap();
    assert_eq!(scn.max_events, 100_000);
    // With the flag raised: accepted and run.
    let o = run(&["--max-events", "100000"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A Poisson process faster than 1e9/s drew gaps that rounded to 0 ns: time never advanced and
/// a "1 ns" flood estimated at 8e6 events ran into the 2e8 event budget after a minute at t = 0.
/// Such rates are now refused like constant ones.
#[test]
fn poisson_rates_above_1e9_are_refused() {
    let src = r#"{"duration_ms": 1000, "hosts": [{"name": "a", "addrs": ["10.0.0.1"]}],
        "attackers": [{"name": "x", "host": "a", "target": "10.0.0.2:80", "rate_per_s": 1e15,
                       "stop_ms": 0.000001, "spoof": {"kind": "none"}}]}"#;
    let e = scenario::parse(src, "t.json", "t").unwrap_err();
    assert_eq!(e.path, "attackers[0].rate_per_s", "{e}");
    assert!(e.message.contains("1e9 per second"), "{e}");
}
