//! Same scenario + same seed = byte-identical output files; a different seed changes them.

mod common;

use std::fs;
use std::path::Path;

use common::*;

fn run_into(name: &str, dir: &Path, seed: Option<u64>) -> Vec<(String, Vec<u8>)> {
    let mut scn = load(name);
    if let Some(s) = seed {
        scn.seed = s;
    }
    run_outputs(&scn, dir, true)
}

#[test]
fn every_shipped_scenario_is_byte_identical_on_rerun() {
    let tmp = std::env::temp_dir().join(format!("synsim-det-{}", std::process::id()));
    for name in SHIPPED {
        let a = run_into(name, &tmp.join(format!("{name}-a")), None);
        let b = run_into(name, &tmp.join(format!("{name}-b")), None);
        let names: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
        for must in [
            "summary.json",
            "timeline.csv",
            "attempts.csv",
            "events.jsonl",
        ] {
            assert!(names.contains(&must), "{name}: {must} missing ({names:?})");
        }
        assert!(
            !names.iter().any(|n| n.ends_with(".tmp")),
            "{name}: temporary files left"
        );
        assert_eq!(a.len(), b.len());
        for ((na, ba), (nb, bb)) in a.iter().zip(&b) {
            assert_eq!(na, nb);
            assert!(ba == bb, "{name}/{na} differs between two runs");
        }
    }
    let _ = fs::remove_dir_all(&tmp);
}

#[test]
fn defence_scenarios_are_byte_identical_on_rerun() {
    let tmp = std::env::temp_dir().join(format!("synsim-det-def-{}", std::process::id()));
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/defences");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| format!("defences/{}", p.file_stem().unwrap().to_string_lossy()))
        .collect();
    names.sort();
    assert!(names.len() >= 8);
    for name in &names {
        let flat = name.replace('/', "-");
        let a = run_into(name, &tmp.join(format!("{flat}-a")), None);
        let b = run_into(name, &tmp.join(format!("{flat}-b")), None);
        assert!(a == b, "{name} differs between two runs");
    }
    let _ = fs::remove_dir_all(&tmp);
}

#[test]
fn another_seed_gives_another_run() {
    let tmp = std::env::temp_dir().join(format!("synsim-seed-{}", std::process::id()));
    let a = run_into("syn_flood", &tmp.join("a"), Some(1));
    let b = run_into("syn_flood", &tmp.join("b"), Some(2));
    let ev = |v: &Vec<(String, Vec<u8>)>| {
        v.iter()
            .find(|(n, _)| n == "events.jsonl")
            .unwrap()
            .1
            .clone()
    };
    assert_ne!(ev(&a), ev(&b));
    let _ = fs::remove_dir_all(&tmp);
}

#[test]
fn a_progress_callback_sees_time_advance_and_changes_no_output() {
    use std::sync::{Arc, Mutex};
    use synsim::report::{Progress, RunOptions, run_to_dir};
    let tmp = std::env::temp_dir().join(format!("synsim-progress-{}", std::process::id()));
    let scn = load("syn_flood");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let opts = RunOptions {
        out_dir: tmp.join("with"),
        charts: false,
        progress: Some(Progress(Arc::new(move |t, n| {
            log.lock().unwrap().push((t, n))
        }))),
        ..Default::default()
    };
    run_to_dir(&scn, &opts).unwrap();
    let calls = seen.lock().unwrap().clone();
    assert!(calls.len() > 10, "{} calls", calls.len());
    assert!(
        calls
            .windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].1 < w[1].1)
    );
    assert!(
        calls
            .iter()
            .all(|&(_, n)| n % synsim::report::CANCEL_POLL_EVENTS == 0)
    );
    let without = RunOptions {
        out_dir: tmp.join("without"),
        charts: false,
        ..Default::default()
    };
    run_to_dir(&scn, &without).unwrap();
    for f in ["summary.json", "timeline.csv", "attempts.csv"] {
        assert_eq!(
            fs::read(tmp.join("with").join(f)).unwrap(),
            fs::read(tmp.join("without").join(f)).unwrap(),
            "{f}"
        );
    }
    let _ = fs::remove_dir_all(&tmp);
}

#[test]
fn charts_are_the_same_bytes_on_one_thread_and_on_four() {
    // The four charts are drawn in parallel on rayon's pool; the files must not depend on how
    // many threads it has or which chart finishes first.
    let tmp = std::env::temp_dir().join(format!("synsim-threads-{}", std::process::id()));
    let scn = load("lossy_link");
    let mut outputs = Vec::new();
    for threads in [1, 4] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let dir = tmp.join(format!("t{threads}"));
        outputs.push(pool.install(|| run_outputs(&scn, &dir, true)));
    }
    let names: Vec<&str> = outputs[0].iter().map(|(n, _)| n.as_str()).collect();
    for chart in [
        "states.png",
        "queues.svg",
        "outcomes.png",
        "ladder.png",
        "index.html",
    ] {
        assert!(names.contains(&chart), "{chart} not written: {names:?}");
    }
    assert_eq!(outputs[0], outputs[1]);
    let _ = fs::remove_dir_all(&tmp);
}
