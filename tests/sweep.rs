//! Sweeps: determinism across thread counts and shards, the store, merging an incomplete
//! store, bad sweep files, and the shipped sweeps.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_simulate")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tmp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("synsim-sweep-{}-{tag}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// A small sweep file next to the shipped scenarios: backlog x cookies on syn_flood, shortened,
/// 2 repetitions (8 runs).
fn small_sweep(dir: &Path) -> PathBuf {
    let base = root().join("scenarios/syn_flood.json");
    let f = dir.join("small.json");
    fs::write(
        &f,
        format!(
            r#"{{
  "scenario": {base:?},
  "set": {{"duration_ms": 15000, "attackers[0].start_ms": 2000, "attackers[0].stop_ms": 8000}},
  "vary": [
    {{"path": "listeners[0].backlog", "values": [64, 512]}},
    {{"name": "cookies", "cases": [{{"label": "off", "set": {{}}}},
                                  {{"label": "on", "set": {{"hosts[1].stack.syncookies": "on_overflow"}}}}]}}
  ],
  "repeat": 2,
  "run_charts": false
}}"#
        ),
    )
    .unwrap();
    f
}

fn simulate(args: &[&str]) -> std::process::Output {
    let out = Command::new(bin()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "simulate {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn results_do_not_depend_on_threads_or_shards() {
    let d = tmp("det");
    let f = small_sweep(&d);
    let (a, b, c) = (d.join("j1"), d.join("j2"), d.join("shards"));
    simulate(&["sweep", s(&f), "--out", s(&a), "-j", "1", "-q"]);
    simulate(&["sweep", s(&f), "--out", s(&b), "-j", "2", "-q"]);
    simulate(&["sweep", s(&f), "--out", s(&c), "--shard", "1/2", "-q"]);
    // Half the store: --merge builds tables from what is there and names what is missing.
    let m = simulate(&["sweep", s(&f), "--out", s(&c), "--merge"]);
    let text = String::from_utf8_lossy(&m.stdout);
    assert!(
        text.contains("4 of 8 runs missing from the store: 0, 2, 4, 6"),
        "{text}"
    );
    let partial = fs::read_to_string(c.join("results.csv")).unwrap();
    assert_eq!(partial.lines().count(), 1 + 4);
    simulate(&["sweep", s(&f), "--out", s(&c), "--shard", "0/2", "-q"]);
    simulate(&["sweep", s(&f), "--out", s(&c), "--merge", "-q"]);
    for name in ["results.csv", "aggregate.csv", "index.html"] {
        let x = fs::read(a.join(name)).unwrap();
        assert_eq!(x, fs::read(b.join(name)).unwrap(), "{name}: -j 1 vs -j 2");
        assert_eq!(
            x,
            fs::read(c.join(name)).unwrap(),
            "{name}: shards vs one run"
        );
    }
    let results = fs::read_to_string(a.join("results.csv")).unwrap();
    let head = results.lines().next().unwrap();
    assert!(
        head.starts_with(
            "run,listeners[0].backlog,cookies,seed,id,success_rate,phases[0].before.success_rate"
        ),
        "{head}"
    );
    assert_eq!(results.lines().count(), 1 + 8);
    // Repetitions get seeds base + r: syn_flood's seed is 42.
    let seeds: Vec<&str> = results
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap())
        .collect();
    assert_eq!(seeds, ["42", "43", "42", "43", "42", "43", "42", "43"]);
    let agg = fs::read_to_string(a.join("aggregate.csv")).unwrap();
    assert_eq!(agg.lines().count(), 1 + 4);
    assert!(
        agg.lines()
            .next()
            .unwrap()
            .contains("success_rate_mean,success_rate_ci95")
    );
    // Cookies on beat cookies off during the flood at backlog 64.
    let rows: Vec<Vec<&str>> = agg
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let col = agg
        .lines()
        .next()
        .unwrap()
        .split(',')
        .position(|c| c == "phases[0].during.success_rate_mean")
        .unwrap();
    let during = |r: &Vec<&str>| r[col].parse::<f64>().unwrap();
    assert_eq!((rows[0][2], rows[1][2]), ("off", "on"));
    assert!(during(&rows[1]) > during(&rows[0]) + 0.15, "{rows:?}");
    let _ = fs::remove_dir_all(d);
}

#[test]
fn a_rerun_reuses_the_store_and_force_reruns() {
    let d = tmp("store");
    let f = small_sweep(&d);
    let out = d.join("o");
    simulate(&["sweep", s(&f), "--out", s(&out), "-q"]);
    let again = simulate(&["sweep", s(&f), "--out", s(&out)]);
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(text.contains("8 already in the store, 0 run"), "{text}");
    let forced = simulate(&["sweep", s(&f), "--out", s(&out), "--force"]);
    let text = String::from_utf8_lossy(&forced.stdout);
    assert!(text.contains("0 already in the store, 8 run"), "{text}");
    // Every run directory is named by its id and holds a whole run; no temporaries remain.
    let list = simulate(&["sweep", s(&f), "--list-runs"]);
    let ids: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .map(|l| l.split('\t').nth(1).unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 8);
    let mut dirs: Vec<String> = fs::read_dir(out.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(dirs, want);
    for id in &ids {
        assert!(out.join("runs").join(id).join("attempts.csv").is_file());
    }
    let _ = fs::remove_dir_all(d);
}

#[test]
fn a_single_run_goes_into_the_same_store() {
    let d = tmp("one");
    let f = small_sweep(&d);
    let out = d.join("o");
    simulate(&["sweep", s(&f), "--out", s(&out), "--run", "5", "-q"]);
    let n = fs::read_dir(out.join("runs")).unwrap().count();
    assert_eq!(n, 1);
    let bad = Command::new(bin())
        .args(["sweep", s(&f), "--run", "8", "--out", s(&out)])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("runs 0 to 7"));
    let _ = fs::remove_dir_all(d);
}

/// Bad sweep files name the sweep file, the line and column and, for a rejected value, the point.
#[test]
fn bad_sweep_files_are_located() {
    let d = tmp("bad");
    let base = root().join("scenarios/syn_flood.json");
    let cases = [
        (
            r#"{"scenario": BASE, "vary": []}"#.to_string(),
            "at `vary` (line 1, column",
            "vary is empty",
        ),
        (
            r#"{"scenario": BASE,
 "vary": [{"path": "listeners[0].backlog", "values": [64, -1]}]}"#
                .to_string(),
            "at `vary[0].values[1]` (line 2, column",
            "point 1 (listeners[0].backlog=-1) is rejected",
        ),
        (
            r#"{"scenario": BASE,
 "vary": [{"path": "listeners[0].nonsense", "values": [1]}]}"#
                .to_string(),
            "at `vary[0].values[0]` (line 2, column",
            "nonsense",
        ),
        (
            r#"{"scenario": BASE, "vary": [{"path": "seed", "values": [1]}], "repaet": 2}"#
                .to_string(),
            "line 1, column",
            "unknown field `repaet`",
        ),
    ];
    for (i, (text, at, msg)) in cases.iter().enumerate() {
        let f = d.join(format!("bad{i}.json"));
        fs::write(&f, text.replace("BASE", &format!("{base:?}"))).unwrap();
        let out = Command::new(bin())
            .args(["sweep", s(&f), "--out", s(&d.join("o"))])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(s(&f)), "{err}");
        assert!(err.contains(at), "case {i}: {err}");
        assert!(err.contains(msg), "case {i}: {err}");
    }
    assert!(!d.join("o").exists(), "nothing written for a bad sweep");
    let _ = fs::remove_dir_all(d);
}

/// Every shipped sweep expands, and every scenario it expands to validates.
#[test]
fn shipped_sweeps_load() {
    let dir = root().join("scenarios/sweeps");
    let mut n = 0;
    for e in fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let v: serde_json::Value = serde_json::from_slice(&fs::read(&p).unwrap()).unwrap();
        if v.get("vary").is_none() {
            continue;
        }
        let plan = synsim::sweep::Plan::load(&p).unwrap_or_else(|e| panic!("{e}"));
        assert!(!plan.runs.is_empty());
        for r in &plan.runs {
            assert!(
                r.scenario.warnings.is_empty(),
                "{}: {:?}",
                p.display(),
                r.scenario.warnings
            );
        }
        n += 1;
    }
    assert_eq!(n, 3);
}

/// Ctrl-C stops a sweep cleanly: the finished runs stay whole in the store, no temporaries
/// remain, `--merge` builds tables from them, and a rerun does only the rest.
#[test]
fn an_interrupted_sweep_keeps_its_finished_runs() {
    let d = tmp("int");
    let f = d.join("long.json");
    let base = root().join("scenarios/syn_flood.json");
    fs::write(
        &f,
        format!(
            r#"{{"scenario": {base:?}, "vary": [{{"path": "listeners[0].backlog", "range": {{"from": 100, "to": 139, "step": 1}}}}]}}"#
        ),
    )
    .unwrap();
    let out = d.join("o");
    let child = Command::new(bin())
        .args(["sweep", s(&f), "--out", s(&out), "-j", "2"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let finished = |out: &Path| -> usize {
        fs::read_dir(out.join("runs"))
            .map(|rd| {
                rd.filter(|e| {
                    !e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .starts_with('.')
                })
                .count()
            })
            .unwrap_or(0)
    };
    let t0 = std::time::Instant::now();
    while finished(&out) == 0 {
        assert!(t0.elapsed().as_secs() < 30, "no run finished in 30 s");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("runs finished and kept in"), "{err}");
    let kept = finished(&out);
    assert!((1..40).contains(&kept), "{kept} of 40 runs kept");
    for e in fs::read_dir(out.join("runs")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "temporary left: {name}");
        assert!(
            p.join("summary.json").is_file() && p.join("index.html").is_file(),
            "{name}"
        );
    }
    let m = simulate(&["sweep", s(&f), "--out", s(&out), "--merge"]);
    let text = String::from_utf8_lossy(&m.stdout);
    assert!(
        text.contains(&format!("{} of 40 runs missing", 40 - kept)),
        "{text}"
    );
    let again = simulate(&["sweep", s(&f), "--out", s(&out)]);
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(
        text.contains(&format!("{kept} already in the store, {} run", 40 - kept)),
        "{text}"
    );
    let _ = fs::remove_dir_all(d);
}
