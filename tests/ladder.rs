//! The ladder diagram's choice of connections (`charts.ladder`): the defaults pick the
//! connections that tell a run's story, each rule picks what it names, and a bad rule is an
//! error naming its path.

mod common;

use std::fs;
use std::path::PathBuf;

use common::*;
use synsim::report::{RunOptions, run_to_dir};
use synsim::scenario::{self, LoadOptions, Override};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("synsim-ladder-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    d
}

/// The ladder's SVG and the run's attempts.csv for `name` with `sets` applied.
fn ladder(name: &str, sets: &[&str]) -> (String, String) {
    let load = LoadOptions {
        sets: sets.iter().map(|s| Override::parse(s).unwrap()).collect(),
        ..LoadOptions::default()
    };
    let scn = scenario::load_with(&scenario_path(name), &load).unwrap();
    let dir = tmp(&format!("{name}-{}", sets.len()));
    let opts = RunOptions {
        out_dir: dir.clone(),
        ..Default::default()
    };
    run_to_dir(&scn, &opts).unwrap();
    let svg = fs::read_to_string(dir.join("ladder.svg")).unwrap();
    let csv = fs::read_to_string(dir.join("attempts.csv")).unwrap();
    let _ = fs::remove_dir_all(&dir);
    (svg, csv)
}

/// attempts.csv rows as (client, attempt, phase, outcome, syns_sent).
fn rows(csv: &str) -> Vec<(String, u64, String, String, u32)> {
    csv.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].to_string(),
                f[1].parse().unwrap(),
                f[2].to_string(),
                f[4].to_string(),
                f[7].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn by_default_a_flood_shows_the_first_connection_and_the_first_timeout() {
    let (svg, csv) = ladder("syn_flood", &[]);
    let rows = rows(&csv);
    let first_timeout = rows.iter().find(|r| r.3 == "timed_out").unwrap();
    assert!(svg.contains("attempt 0 of legit: established"), "{svg}");
    assert!(
        svg.contains(&format!("attempt {} of legit: timed out", first_timeout.1)),
        "the first timed-out attempt ({}) is not drawn",
        first_timeout.1
    );
    assert!(svg.contains("first timed out") && svg.contains("first connection"));
    assert!(svg.contains("ladder diagrams of 2 connections"));
}

#[test]
fn an_attempt_number_and_a_client_attempt_pick_those_attempts() {
    let (svg, csv) = ladder("syn_flood", &[r#"charts.ladder=["legit:120", 3]"#]);
    assert!(svg.contains("attempt 120 of legit"), "{svg}");
    assert!(svg.contains("attempt 3 of legit"));
    let outcome = |n: u64| {
        rows(&csv)
            .into_iter()
            .find(|r| r.1 == n)
            .map(|r| r.3.replace('_', " "))
            .unwrap()
    };
    assert!(svg.contains(&format!("attempt 120 of legit: {}", outcome(120))));
    assert!(
        !svg.contains("attempt 0 of legit"),
        "only the picks are drawn"
    );
}

#[test]
fn first_during_picks_the_first_connection_inside_the_attack_window() {
    let (svg, csv) = ladder("syn_flood", &[r#"charts.ladder=["first_during:flood"]"#]);
    let during = rows(&csv).into_iter().find(|r| r.2 == "during").unwrap();
    assert!(
        svg.contains(&format!("attempt {} of legit", during.1)),
        "attempt {} (the first during the flood) is not drawn",
        during.1
    );
    assert!(svg.contains("first during flood"));
}

#[test]
fn first_retransmitted_picks_a_connection_that_retransmitted() {
    let (svg, csv) = ladder("lossy_link", &[r#"charts.ladder=["first_retransmitted"]"#]);
    assert!(svg.contains("first retransmission"), "{svg}");
    assert!(
        svg.contains("(retx)"),
        "the drawn connection shows a retransmission"
    );
    assert!(!rows(&csv).is_empty());
}

#[test]
fn bad_rules_are_errors_naming_their_path() {
    let cases = [
        (
            r#"charts.ladder=["first_during:nobody"]"#,
            "no attacker named `nobody`",
        ),
        (
            r#"charts.ladder=["first", "sometimes"]"#,
            "unknown ladder choice",
        ),
        (r#"charts.ladder=["ghost:3"]"#, "no client named `ghost`"),
        (r#"charts.ladder=["legit:x"]"#, "not an attempt number"),
    ];
    for (set, want) in cases {
        let load = LoadOptions {
            sets: vec![Override::parse(set).unwrap()],
            ..LoadOptions::default()
        };
        let e = scenario::load_with(&scenario_path("syn_flood"), &load)
            .err()
            .unwrap_or_else(|| panic!("{set} was accepted"))
            .to_string();
        assert!(e.contains("charts.ladder["), "{set}: {e}");
        assert!(e.contains(want), "{set}: {e}");
    }
}

#[test]
fn a_narrow_chart_draws_fewer_panels_and_says_so() {
    let (svg, _) = ladder(
        "crash_restart",
        &["charts.width_px=800", "charts.height_px=450"],
    );
    assert!(svg.contains("ladder diagrams of 2 connections"), "{svg}");
    assert!(svg.contains("1 more chosen connections not drawn"));
}
