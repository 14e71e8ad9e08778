//! The CLI as a user meets it: help, version, good runs, and every kind of bad input giving a
//! clear error, a non-zero exit and no output files.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn simulate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("synsim-cli-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn scenario(name: &str) -> String {
    format!("{}/scenarios/{name}.json", env!("CARGO_MANIFEST_DIR"))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn help_and_version() {
    let o = simulate(&["--help"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    for flag in [
        "--out",
        "--seed",
        "--trace",
        "--pcap",
        "--no-charts",
        "--explain-profile",
        "--max-output-bytes",
        "summary.json",
        "pcapng",
    ] {
        assert!(out.contains(flag), "help lacks {flag}");
    }
    let o = simulate(&["--version"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn good_run_writes_outputs_and_prints_a_summary() {
    let d = tmp("good");
    let out = d.join("hs");
    let o = simulate(&[
        &scenario("handshake"),
        "--out",
        out.to_str().unwrap(),
        "--trace",
        "--seed",
        "99",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("established 1"), "{text}");
    for f in ["summary.json", "timeline.csv", "events.jsonl"] {
        assert!(out.join(f).exists(), "{f}");
    }
    let s: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["seed"], 99);
    assert_eq!(s["scenario"]["seed"], 99);
    assert_eq!(s["outcomes"]["established"], 1);
    let _ = fs::remove_dir_all(&d);
}

fn assert_bad(args: &[&str], out: &Path, needles: &[&str]) {
    let o = simulate(args);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
    let e = stderr(&o);
    assert!(e.starts_with("error: "), "{e}");
    assert!(
        !e.contains("panicked") && !e.contains("stack backtrace"),
        "{e}"
    );
    for n in needles {
        assert!(e.contains(n), "{args:?}: error lacks {n:?}: {e}");
    }
    let leftovers: Vec<_> = fs::read_dir(out)
        .map(|r| r.flatten().collect())
        .unwrap_or_default();
    assert!(
        leftovers.is_empty(),
        "output written on error: {leftovers:?}"
    );
}

#[test]
fn bad_scenarios_name_path_and_position() {
    let d = tmp("bad");
    let out = d.join("out");
    let cases: &[(&str, &[&str])] = &[
        (
            "{\"duration_ms\": 1000, \"hosts\": [{\"name\": \"a\", \"addrs\": [\"10.0.0.1\"], \"bogus\": 1}]}",
            &["hosts[0]", "bogus", "line 1"],
        ),
        (
            "{\"duration_ms\": \"soon\", \"hosts\": []}",
            &["duration_ms", "line 1"],
        ),
        (
            "{\"duration_ms\": -5, \"hosts\": [{\"name\": \"a\", \"addrs\": [\"10.0.0.1\"]}]}",
            &["duration_ms", ">= 0"],
        ),
        (
            "{\"duration_ms\": 1000,\n\"hosts\": [{\"name\": \"a\", \"addrs\": [\"10.0.0.1\"]}],\n\"listeners\": [{\"host\": \"nope\", \"port\": 80}]}",
            &["listeners[0].host", "line 3", "nope"],
        ),
        (
            "{\"duration_ms\": 1000, \"hosts\": [{\"name\": \"a\", \"addrs\": [\"10.0.0.1\"]}], \"network\": {\"loss\": {\"model\": \"bernoulli\", \"p\": 2}}}",
            &["network.loss.p", "[0, 1]"],
        ),
        (
            "{\"duration_ms\": 1000, \"hosts\": [{\"name\": \"a\", \"addrs\": [\"10.0.0.1\"]}], \"attackers\": [{\"name\": \"x\", \"host\": \"a\", \"target\": \"10.0.0.9:80\", \"rate_per_s\": -3, \"spoof\": {\"kind\": \"none\"}}]}",
            &["attackers[0].rate_per_s", "> 0"],
        ),
        (
            "{\"duration_ms\": 1000, \"hosts\": [{\"name\": \"a\", \"addrs\": [\"10.0.0.1\"], \"stack\": {\"syn_retries\": \"many\"}}]}",
            &["hosts[0].stack.syn_retries"],
        ),
        ("{not json", &["line 1"]),
        ("", &["EOF"]),
    ];
    for (i, (text, needles)) in cases.iter().enumerate() {
        let f = d.join(format!("bad{i}.json"));
        fs::write(&f, text).unwrap();
        assert_bad(
            &[f.to_str().unwrap(), "--out", out.to_str().unwrap()],
            &out,
            needles,
        );
    }
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn missing_file_and_unwritable_output() {
    let d = tmp("io");
    let out = d.join("out");
    assert_bad(
        &["/nonexistent/scenario.json", "--out", out.to_str().unwrap()],
        &out,
        &["/nonexistent/scenario.json", "cannot read"],
    );
    // A regular file where the output directory should be.
    let blocker = d.join("file");
    fs::write(&blocker, "x").unwrap();
    let o = simulate(&[
        &scenario("handshake"),
        "--out",
        blocker.join("sub").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("cannot create output directory"),
        "{}",
        stderr(&o)
    );
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn a_rerun_without_trace_or_charts_removes_the_stale_files() {
    let d = tmp("stale");
    let out = d.join("o");
    let o = out.to_str().unwrap();
    assert!(
        simulate(&[&scenario("handshake"), "--out", o, "--trace", "-q"])
            .status
            .success()
    );
    assert!(out.join("events.jsonl").exists() && out.join("ladder.png").exists());
    fs::write(out.join("notes.txt"), "mine").unwrap();
    assert!(
        simulate(&[&scenario("handshake"), "--out", o, "--no-charts", "-q"])
            .status
            .success()
    );
    assert!(!out.join("events.jsonl").exists() && !out.join("ladder.png").exists());
    assert!(
        out.join("summary.json").exists() && out.join("notes.txt").exists(),
        "only synsim's own files go"
    );
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn event_budget_stops_cleanly_without_output() {
    let d = tmp("budget");
    let out = d.join("out");
    // dead_host is estimated at 12 events and takes 23: it passes the up-front estimate and
    // stops at run time.
    assert_bad(
        &[
            &scenario("dead_host"),
            "--out",
            out.to_str().unwrap(),
            "--max-events",
            "15",
        ],
        &out,
        &["event budget exhausted", "--max-events"],
    );
    // The flag applies to the up-front estimate too.
    assert_bad(
        &[
            &scenario("syn_flood"),
            "--out",
            out.to_str().unwrap(),
            "--max-events",
            "1000",
        ],
        &out,
        &["above --max-events 1000", "--max-events"],
    );
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn explain_profile_prints_knobs() {
    let o = simulate(&["--explain-profile", "linux"]);
    assert!(o.status.success());
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(
        s.contains("syn_retries")
            && s.contains("SYNs at 0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s; ETIMEDOUT at 131 s"),
        "{s}"
    );
    // The wheel-rounded schedule beside the nominal one (HZ=250: 1 s on level 1, 32 ms).
    assert!(s.contains("timer_hz 250, 1 jiffy = 4 ms"), "{s}");
    assert!(
        s.lines()
            .any(|l| l.contains("SYN 2") && l.contains("1.000-1.032") && l.contains("32 ms")),
        "{s}"
    );
    let o = simulate(&["--explain-profile", "freebsd"]);
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(
        !s.contains("timer wheel"),
        "exact timers: no wheel schedule\n{s}"
    );
    let o = simulate(&["--explain-profile", "solaris"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn a_scenario_on_standard_input_runs_like_a_file_and_errors_name_stdin() {
    use std::io::Write;
    let run = |text: &[u8], out: &Path| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_simulate"))
            .args(["-", "--no-charts", "-q", "--out"])
            .arg(out)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(text).unwrap();
        child.wait_with_output().unwrap()
    };
    let dir = tmp("stdin");
    let text = fs::read(scenario("handshake")).unwrap();
    let o = run(&text, &dir.join("a"));
    assert!(o.status.success(), "{}", stderr(&o));
    let from_file = tmp("stdin-file");
    let f = simulate(&[
        &scenario("handshake"),
        "--no-charts",
        "-q",
        "--out",
        from_file.to_str().unwrap(),
    ]);
    assert!(f.status.success());
    // The same scenario, the same files; only the default name differs (`stdin` vs the stem),
    // and the scenario sets none, so compare what does not carry it.
    for name in ["timeline.csv", "attempts.csv"] {
        assert_eq!(
            fs::read(dir.join("a").join(name)).unwrap(),
            fs::read(from_file.join(name)).unwrap(),
            "{name}"
        );
    }
    let summary = fs::read_to_string(dir.join("a/summary.json")).unwrap();
    assert!(
        summary.contains("\"scenario_name\": \"stdin\""),
        "{summary}"
    );
    let o = run(b"{\"duration_ms\": 10, \"hosts\": []}", &dir.join("b"));
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("<stdin>") && e.contains("hosts"), "{e}");
    assert!(!dir.join("b").exists(), "no output for a bad scenario");
}
