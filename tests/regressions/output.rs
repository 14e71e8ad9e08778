//! Regressions: output files, atomic commits, the CLI under faults.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_simulate"));
    c.env("RUST_BACKTRACE", "1");
    c
}

fn simulate(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("synsim-regr-out-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn shipped(name: &str) -> String {
    format!("{}/scenarios/{name}.json", env!("CARGO_MANIFEST_DIR"))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Names in `dir` that look like temporaries (of this version or an older one).
fn temporaries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".synsim") || n.ends_with(".tmp"))
                .collect()
        })
        .unwrap_or_default()
}

/// A flood that runs for minutes unless stopped (10^8 SYNs; no trace, so the output is small).
fn long_scenario(dir: &Path) -> PathBuf {
    let f = dir.join("long.json");
    fs::write(
        &f,
        r#"{"duration_ms": 1000000, "sample_interval_ms": 1000, "max_events": 10000000000,
 "hosts": [{"name": "server", "addrs": ["10.0.8.1"]}, {"name": "attacker", "addrs": ["10.0.8.66"]}],
 "listeners": [{"host": "server", "port": 80}],
 "attackers": [{"name": "flood", "host": "attacker", "target": "10.0.8.1:80",
   "rate_per_s": 100000, "arrivals": "constant", "start_ms": 0, "stop_ms": 1000000,
   "spoof": {"kind": "range", "base": "198.18.0.0", "count": 65536}}]}"#,
    )
    .unwrap();
    f
}

/// Starts the long scenario into `out` and waits until it is running (its private temporary
/// directory exists).
fn start_long(scn: &Path, out: &Path) -> Child {
    let mut child = bin()
        .args([scn.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !temporaries(out)
        .iter()
        .any(|n| n.starts_with(".synsim-run-"))
    {
        if t0.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run did not start");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// Sends `sig` (e.g. "-TERM") to `child` and waits for it (at most 20 s).
fn signal_and_wait(mut child: Child, sig: &str) -> (Option<i32>, String) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("the run did not stop within 20 s of {sig}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.code(), err)
}

/// `summary.json` being a directory used to fail the run only after `timeline.csv` had been
/// renamed into place, leaving one new file among old ones and ten `.tmp` files.
#[test]
fn a_commit_that_cannot_finish_changes_nothing_and_leaves_no_temporaries() {
    let d = tmp("blocked");
    let out = d.join("o");
    let o = out.to_str().unwrap();
    assert!(
        simulate(&[&shipped("handshake"), "--out", o, "-q"])
            .status
            .success()
    );
    fs::write(out.join("timeline.csv"), "previous run\n").unwrap();
    fs::remove_file(out.join("summary.json")).unwrap();
    fs::create_dir(out.join("summary.json")).unwrap();
    let r = simulate(&[&shipped("handshake"), "--out", o, "--trace"]);
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert!(stderr(&r).contains("summary.json"), "{}", stderr(&r));
    assert_eq!(
        fs::read_to_string(out.join("timeline.csv")).unwrap(),
        "previous run\n",
        "a file was replaced by a failed run"
    );
    assert!(!out.join("events.jsonl").exists());
    assert!(out.join("summary.json").is_dir());
    assert_eq!(temporaries(&out), Vec::<String>::new());
    let _ = fs::remove_dir_all(&d);
}

/// A killed run leaves temporaries; the next run into the directory removes them.
#[test]
fn stale_temporaries_of_a_killed_run_are_removed() {
    let d = tmp("stale");
    let out = d.join("o");
    fs::create_dir_all(out.join(".synsim-run-4000000-0")).unwrap();
    fs::write(out.join(".synsim-run-4000000-0/timeline.csv"), "half").unwrap();
    fs::write(out.join(".timeline.csv.tmp"), "half").unwrap();
    let r = simulate(&[&shipped("handshake"), "--out", out.to_str().unwrap(), "-q"]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(temporaries(&out), Vec::<String>::new());
    assert!(out.join("summary.json").is_file());
    let _ = fs::remove_dir_all(&d);
}

/// Temporaries used to be opened with `File::create`, through any symlink planted at their
/// name: a link at `.summary.json.tmp` had its target overwritten.
#[test]
fn a_symlink_planted_at_a_temporary_name_is_not_followed() {
    let d = tmp("symlink");
    let out = d.join("o");
    fs::create_dir_all(&out).unwrap();
    let victim = d.join("victim.txt");
    fs::write(&victim, "precious").unwrap();
    for name in [
        ".summary.json.tmp",
        ".timeline.csv.tmp",
        ".synsim-write-probe.tmp",
    ] {
        std::os::unix::fs::symlink(&victim, out.join(name)).unwrap();
    }
    let r = simulate(&[&shipped("handshake"), "--out", out.to_str().unwrap(), "-q"]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    assert!(
        !fs::symlink_metadata(out.join("summary.json"))
            .unwrap()
            .is_symlink()
    );
    assert_eq!(temporaries(&out), Vec::<String>::new());
    let _ = fs::remove_dir_all(&d);
}

/// Two runs into one directory used to interleave their files. The second now fails at once,
/// naming the directory; SIGTERM then stops the first, which writes nothing and exits 143.
#[test]
fn a_second_run_into_a_busy_directory_fails_at_once_and_sigterm_stops_the_first() {
    let d = tmp("lock");
    let out = d.join("o");
    let scn = long_scenario(&d);
    let first = start_long(&scn, &out);
    let t0 = Instant::now();
    let second = simulate(&[&shipped("handshake"), "--out", out.to_str().unwrap()]);
    let took = t0.elapsed();
    // Stop the first run before any assertion can fail and leave it running.
    let (code, err) = signal_and_wait(first, "-TERM");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(second.status.code(), Some(1));
    let e = stderr(&second);
    assert!(
        e.contains("in use by another run") && e.contains(out.to_str().unwrap()),
        "{e}"
    );
    assert_eq!(code, Some(143), "{err}");
    assert!(
        err.contains("interrupted: run of long into")
            && err.contains("stopped at t = ")
            && err.contains("of simulated time; no files written"),
        "{err}"
    );
    assert_eq!(temporaries(&out), Vec::<String>::new());
    assert_eq!(fs::read_dir(&out).unwrap().count(), 0, "files were written");
    let _ = fs::remove_dir_all(&d);
}

/// SIGINT used to kill the run and leave its `.tmp` files; now it stops cleanly with exit 130
/// and the previous run's files stay as they were.
#[test]
fn sigint_stops_the_run_and_keeps_the_previous_files() {
    let d = tmp("sigint");
    let out = d.join("o");
    let o = out.to_str().unwrap();
    assert!(
        simulate(&[&shipped("handshake"), "--out", o, "-q"])
            .status
            .success()
    );
    let before = fs::read(out.join("summary.json")).unwrap();
    let scn = long_scenario(&d);
    let (code, err) = signal_and_wait(start_long(&scn, &out), "-INT");
    assert_eq!(code, Some(130), "{err}");
    assert!(err.contains("interrupted: run of long"), "{err}");
    assert_eq!(fs::read(out.join("summary.json")).unwrap(), before);
    assert_eq!(temporaries(&out), Vec::<String>::new());
    let _ = fs::remove_dir_all(&d);
}

/// `simulate x.json | head -1` used to panic ("failed printing to stdout", exit 101).
#[test]
fn a_closed_stdout_is_a_normal_exit() {
    let d = tmp("pipe");
    let mut child = bin()
        .args([
            &shipped("handshake"),
            "--out",
            d.join("o").to_str().unwrap(),
        ])
        .args(["--stats"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    let _ = fs::remove_dir_all(&d);
}

/// 1000 listeners sampled 10^7 times would write an 80 GB timeline.csv: the run used to
/// start anyway. It is now refused before anything is created, naming the file and the flag.
#[test]
fn an_output_above_the_budget_is_refused_before_running() {
    let d = tmp("budget");
    let listeners: Vec<String> = (0..1000)
        .map(|i| format!(r#"{{"host": "s", "port": {}}}"#, 1000 + i))
        .collect();
    let text = format!(
        r#"{{"duration_ms": 10000000, "sample_interval_ms": 1,
  "hosts": [{{"name": "s", "addrs": ["10.0.0.2"]}}],
  "listeners": [{}]}}"#,
        listeners.join(",")
    );
    let f = d.join("wide.json");
    fs::write(&f, text).unwrap();
    let out = d.join("o");
    let mut child = bin()
        .args([f.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            let _ = fs::remove_dir_all(&d);
            panic!("not refused: still running after 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("timeline.csv")
            && e.contains("10000001 rows x 4021 columns")
            && e.contains("--max-output-bytes")
            && e.contains("2.0 GiB"),
        "{e}"
    );
    assert!(!out.exists(), "the output directory was created");
    // The budget is the flag's to raise: a small scenario under a tiny budget is refused too.
    let r = simulate(&[
        &shipped("handshake"),
        "--out",
        out.to_str().unwrap(),
        "--max-output-bytes",
        "1000",
    ]);
    assert_eq!(r.status.code(), Some(1));
    assert!(stderr(&r).contains("above the output budget of 1000 bytes"));
    let _ = fs::remove_dir_all(&d);
}
