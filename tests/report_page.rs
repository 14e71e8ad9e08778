//! What index.html, summary.json and the printed summary say about a run's setup: the
//! effective queue capacities, cookies, retries, attack and network, the per-phase table, and
//! links to the data files.

mod common;

use std::fs;
use std::process::Command;

use common::*;
use serde_json::Value;

fn run(name: &str, extra: &[&str]) -> (String, Value, String) {
    let dir = scratch_dir("page", name);
    let out = Command::new(env!("CARGO_BIN_EXE_simulate"))
        .arg(scenario_path(name))
        .arg("--out")
        .arg(&dir)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = fs::read_to_string(dir.join("index.html")).unwrap();
    let summary: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let _ = fs::remove_dir_all(&dir);
    (page, summary, String::from_utf8(out.stdout).unwrap())
}

fn setting<'a>(s: &'a Value, section: &str, name: &str) -> &'a str {
    let sec = s["setup"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["title"] == section)
        .unwrap_or_else(|| panic!("no setup section {section}: {}", s["setup"]));
    sec["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {section}"))["value"]
        .as_str()
        .unwrap()
}

#[test]
fn the_setup_names_the_effective_capacities_and_the_attack() {
    let (page, s, printed) = run("syn_flood", &[]);
    let cap = s["listeners"][0]["syn_queue_capacity"].as_u64().unwrap();
    assert_eq!(
        setting(&s, "listener server:80", "SYN queue capacity"),
        cap.to_string()
    );
    assert_eq!(setting(&s, "listener server:80", "syncookies"), "off (0)");
    assert_eq!(setting(&s, "listener server:80", "listen backlog"), "128");
    assert_eq!(setting(&s, "client legit", "syn_retries"), "2");
    assert_eq!(
        setting(&s, "attacker flood", "SYNs"),
        "Poisson 1000/s from 10 s to 30 s"
    );
    assert_eq!(setting(&s, "network", "latency"), "10 ms each way");
    for text in [
        "<h2>Setup</h2>",
        "SYN queue capacity",
        "off (0)",
        "Poisson 1000/s",
    ] {
        assert!(page.contains(text), "index.html lacks {text}");
    }
    assert!(
        printed.contains(
            "listener server:80: profile linux, listen backlog 128, SYN queue capacity 129"
        )
    );
}

#[test]
fn the_setup_follows_overrides() {
    let (_, s, _) = run(
        "syn_flood",
        &[
            "--set",
            "listeners[0].backlog=1024",
            "--set",
            "hosts[1].stack.syncookies=1",
        ],
    );
    assert_eq!(setting(&s, "listener server:80", "listen backlog"), "1024");
    assert_eq!(
        setting(&s, "listener server:80", "SYN queue capacity"),
        s["listeners"][0]["syn_queue_capacity"]
            .as_u64()
            .unwrap()
            .to_string()
    );
    assert_ne!(
        setting(&s, "listener server:80", "SYN queue capacity"),
        "129"
    );
    assert_eq!(
        setting(&s, "listener server:80", "syncookies"),
        "on overflow (1)"
    );
}

#[test]
fn the_page_has_the_phase_table_and_links_to_every_data_file() {
    let (page, s, _) = run("syn_flood_cookies", &["--pcap"]);
    assert!(page.contains("Before, during and after each attack"));
    let during = &s["phases"][0]["during"];
    let row = format!(
        "<td class=\"n\">{}</td>",
        during["outcomes"]["established"].as_u64().unwrap()
    );
    assert!(
        page.contains(&row),
        "the during row shows its established count"
    );
    for f in [
        "summary.json",
        "timeline.csv",
        "attempts.csv",
        "server.pcapng",
    ] {
        assert!(
            page.contains(&format!("<a href=\"{f}\">")),
            "no link to {f}"
        );
    }
}

#[test]
fn compare_puts_two_runs_side_by_side_with_the_differences_marked() {
    let base = std::env::temp_dir().join(format!("synsim-compare-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    let sim = |out: &str, sets: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_simulate"));
        c.arg(scenario_path("syn_flood"))
            .arg("-q")
            .arg("--out")
            .arg(base.join(out));
        for s in sets {
            c.args(["--set", s]);
        }
        assert!(c.status().unwrap().success());
    };
    sim("a", &[]);
    sim("b", &["listeners[0].backlog=1024"]);
    let out = Command::new(env!("CARGO_BIN_EXE_simulate"))
        .arg("--compare")
        .arg(base.join("a"))
        .arg(base.join("b"))
        .arg("--out")
        .arg(base.join("cmp"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = fs::read_to_string(base.join("cmp/index.html")).unwrap();
    // The backlog and the capacities derived from it differ; cookies and the attack do not.
    assert!(page.contains("3 settings differ"), "{page}");
    assert!(page.contains(
        "<tr class=\"diff\"><td>&ne;</td><td>listener server:80 listen backlog</td><td>128</td><td>1024</td></tr>"
    ));
    assert!(page.contains(
        "<tr><td></td><td>listener server:80 syncookies</td><td>off (0)</td><td>off (0)</td></tr>"
    ));
    for f in [
        "compare_queues.png",
        "compare_queues.svg",
        "compare_outcomes.png",
    ] {
        assert!(base.join("cmp").join(f).exists(), "{f}");
    }
    // The two panels share one y axis: the larger capacity's tick appears in both.
    let svg = fs::read_to_string(base.join("cmp/compare_queues.svg")).unwrap();
    let ticks = svg.lines().filter(|l| l.trim() == "1000").count();
    assert_eq!(ticks, 2, "both panels have the tick of 1000 entries");
    // A directory that is not a run is an error naming the file it lacks.
    let bad = Command::new(env!("CARGO_BIN_EXE_simulate"))
        .arg("--compare")
        .arg(base.join("a"))
        .arg(base.join("nothing"))
        .arg("--out")
        .arg(base.join("cmp2"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("nothing/summary.json") && err.contains("finished run"),
        "{err}"
    );
    let _ = fs::remove_dir_all(&base);
}
