//! Charts and the HTML report: produced for every shipped scenario, well-formed, sized as
//! configured, deterministic, skipped by `--no-charts`, drawn without system font libraries,
//! and readable in a real browser (headless Chromium, when installed).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use synsim::report::{RunOptions, run_to_dir};

const CHARTS: [&str; 4] = ["states", "queues", "outcomes", "ladder"];

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("synsim-charts-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    d
}

fn run(scn: &synsim::spec::Scenario, dir: &Path, charts: bool) {
    let opts = RunOptions {
        out_dir: dir.to_path_buf(),
        trace: false,
        charts,
        max_events: None,
        ..Default::default()
    };
    run_to_dir(scn, &opts).unwrap_or_else(|e| panic!("{}: {e}", scn.name));
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

#[test]
fn every_shipped_scenario_gets_every_chart_as_valid_svg_and_sized_png() {
    for name in SHIPPED {
        let scn = load(name);
        let dir = tmp(name);
        run(&scn, &dir, true);
        for chart in CHARTS {
            let svg = fs::read_to_string(dir.join(format!("{chart}.svg")))
                .unwrap_or_else(|e| panic!("{name}/{chart}.svg: {e}"));
            let doc = roxmltree::Document::parse(&svg)
                .unwrap_or_else(|e| panic!("{name}/{chart}.svg is not XML: {e}"));
            assert_eq!(doc.root_element().tag_name().name(), "svg");
            assert!(
                svg.contains(&scn.name),
                "{name}/{chart}.svg: title does not name the scenario"
            );
            let png = fs::read(dir.join(format!("{chart}.png"))).unwrap();
            assert_eq!(
                png_size(&png),
                (scn.charts.width_px, scn.charts.height_px),
                "{name}/{chart}.png"
            );
        }
        let html = fs::read_to_string(dir.join("index.html")).unwrap();
        assert!(html.contains(&format!("<h1>{}</h1>", scn.name)));
        assert_eq!(
            html.matches("<svg").count(),
            CHARTS.len(),
            "{name}: inline SVGs"
        );
        for external in ["http://", "https://", "<script", "<link", "@import", "url("] {
            let outside_svg_ns = html.replace("http://www.w3.org/2000/svg", "");
            assert!(
                !outside_svg_ns.contains(external),
                "{name}/index.html refers to something outside: {external}"
            );
        }
        let _ = fs::remove_dir_all(&dir);
    }
}

#[test]
fn png_size_follows_the_scenario() {
    let mut scn = load("handshake");
    scn.charts.width_px = 640;
    scn.charts.height_px = 480;
    let dir = tmp("size");
    run(&scn, &dir, true);
    for chart in CHARTS {
        let png = fs::read(dir.join(format!("{chart}.png"))).unwrap();
        assert_eq!(png_size(&png), (640, 480), "{chart}");
    }
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn charts_are_byte_identical_on_rerun() {
    let scn = load("lossy_link");
    let (a, b) = (tmp("rerun-a"), tmp("rerun-b"));
    run(&scn, &a, true);
    run(&scn, &b, true);
    for chart in CHARTS {
        for ext in ["svg", "png"] {
            let f = format!("{chart}.{ext}");
            assert!(
                fs::read(a.join(&f)).unwrap() == fs::read(b.join(&f)).unwrap(),
                "{f}"
            );
        }
    }
    assert_eq!(
        fs::read(a.join("index.html")).unwrap(),
        fs::read(b.join("index.html")).unwrap()
    );
    let _ = fs::remove_dir_all(&a);
    let _ = fs::remove_dir_all(&b);
}

#[test]
fn no_charts_writes_no_chart_files() {
    let scn = load("handshake");
    let dir = tmp("none");
    run(&scn, &dir, false);
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["attempts.csv", "summary.json", "timeline.csv"]);
    let _ = fs::remove_dir_all(&dir);
}

/// 10 000 listeners used to draw a 194 MB queues.svg: the chart draws the first 8 and names
/// the rest as left out.
#[test]
fn many_listeners_draw_a_bounded_queues_chart() {
    let listeners: Vec<String> = (0..10_000)
        .map(|i| format!(r#"{{"host": "s", "port": {}}}"#, 1000 + i))
        .collect();
    let text = format!(
        r#"{{"duration_ms": 1000, "sample_interval_ms": 100,
  "hosts": [{{"name": "c", "addrs": ["10.0.0.1"]}}, {{"name": "s", "addrs": ["10.0.0.2"]}}],
  "listeners": [{}],
  "clients": [{{"name": "w", "host": "c", "target": "10.0.0.2:1000",
               "arrivals": {{"kind": "times", "times_ms": [0]}}}}]}}"#,
        listeners.join(",")
    );
    let scn = synsim::scenario::parse(&text, "<test>", "wide").unwrap();
    let dir = tmp("wide");
    let t0 = std::time::Instant::now();
    run(&scn, &dir, true);
    let svg = fs::read_to_string(dir.join("queues.svg")).unwrap();
    assert!(svg.len() < 2_000_000, "queues.svg is {} bytes", svg.len());
    assert!(svg.contains("+ 9992 more listeners not drawn"));
    assert!(svg.contains("s:1007 SYN queue") && !svg.contains("s:1008 SYN queue"));
    roxmltree::Document::parse(&svg).unwrap();
    assert!(t0.elapsed().as_secs() < 60, "took {:?}", t0.elapsed());
    let _ = fs::remove_dir_all(&dir);
}

/// A 3 MB scenario name took 103 s to draw: titles now cut it at 80 characters; the page
/// shows it whole.
#[test]
fn a_huge_scenario_name_is_cut_in_titles_and_costs_nothing() {
    let mut scn = load("handshake");
    scn.name = "n".repeat(3_000_000);
    let dir = tmp("longname");
    let t0 = std::time::Instant::now();
    run(&scn, &dir, true);
    assert!(t0.elapsed().as_secs() < 20, "took {:?}", t0.elapsed());
    let cut = format!("{}\u{2026}", "n".repeat(80));
    for chart in CHARTS {
        let svg = fs::read_to_string(dir.join(format!("{chart}.svg"))).unwrap();
        assert!(svg.contains(&cut), "{chart}");
        assert!(!svg.contains(&"n".repeat(81)), "{chart}");
    }
    let page = fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(page.contains(&scn.name));
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn empty_runs_draw_without_panicking() {
    // No clients, no attackers, no listeners: no packets at all.
    let text = r#"{
        "duration_ms": 500,
        "hosts": [ { "name": "lonely", "addrs": ["10.9.0.1"] } ]
    }"#;
    let scn = synsim::scenario::parse(text, "<test>", "empty").unwrap();
    let dir = tmp("empty");
    run(&scn, &dir, true);
    for chart in CHARTS {
        assert!(dir.join(format!("{chart}.png")).exists(), "{chart}");
    }
    // Clients but zero attempts, and a ladder of zero connections.
    let text = r#"{
        "duration_ms": 500,
        "hosts": [ { "name": "c", "addrs": ["10.9.0.2"] }, { "name": "s", "addrs": ["10.9.0.1"] } ],
        "listeners": [ { "host": "s", "port": 80 } ],
        "clients": [ { "name": "late", "host": "c", "target": "10.9.0.1:80",
                       "arrivals": { "kind": "times", "times_ms": [] } } ],
        "charts": { "ladder_connections": 0 }
    }"#;
    let scn = synsim::scenario::parse(text, "<test>", "idle").unwrap();
    run(&scn, &dir, true);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn the_build_uses_no_system_font_library() {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--edges",
            "normal,build",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.contains("plotters"), "unexpected cargo tree output");
    for line in tree.lines() {
        let krate = line.split_whitespace().next().unwrap_or("");
        for banned in [
            "font-kit",
            "freetype",
            "freetype-rs",
            "freetype-sys",
            "fontconfig",
            "servo-fontconfig",
            "servo-fontconfig-sys",
            "yeslogic-fontconfig",
            "yeslogic-fontconfig-sys",
        ] {
            assert_ne!(krate, banned, "{banned} is in the dependency tree");
        }
    }
}

/// Renders `index.html` the way a user sees it. Skipped (with a message) without Chromium.
#[test]
fn index_html_renders_in_headless_chromium() {
    let Some(browser) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
    else {
        skipped(
            "index_html_renders_in_headless_chromium",
            "no chromium on PATH (apt-get install chromium to run this check)",
        );
        return;
    };
    let scn = load("syn_flood_cookies");
    let dir = tmp("chromium");
    run(&scn, &dir, true);
    let profile = dir.join("profile");
    let shot = dir.join("screenshot.png");
    let page = fs::canonicalize(dir.join("index.html")).unwrap();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1400,3000")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let png = fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}); chromium said: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(png_size(&png), (1400, 3000));
    // A blank page compresses to a few kB; the report with its charts is far larger.
    assert!(
        png.len() > 100_000,
        "screenshot looks empty: {} bytes",
        png.len()
    );
    let _ = fs::remove_dir_all(&dir);
}

/// Odd text sizes put periods a pixel above the digits in the PNGs (see `FONT` in
/// src/report/charts/mod.rs): every size literal in the chart code must be even.
#[test]
fn every_chart_text_size_is_even() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![root.join("sweep/charts.rs")];
    for dir in ["report/charts", "sweep/charts"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            files.push(e.unwrap().path());
        }
    }
    let mut checked = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for pat in ["FONT, ", "font(", "compact { "] {
            for (i, _) in text.match_indices(pat) {
                let rest = &text[i + pat.len()..];
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if let Ok(n) = digits.parse::<u32>() {
                    if pat == "compact { " && !rest[digits.len()..].starts_with(" } else { ") {
                        continue;
                    }
                    checked += 1;
                    assert!(n % 2 == 0, "{}: text size {n} is odd", f.display());
                }
            }
        }
    }
    assert!(checked > 30, "only {checked} sizes found");
}

/// The queues chart says where the SYN queue settles after the flood and why: half the
/// backlog under Linux's SYN-ACK pruning, for a backlog of 128 (64) and of 256 (where the
/// level ends one entry under the line, 127).
#[test]
fn the_queues_chart_explains_where_the_syn_queue_settles() {
    use synsim::scenario::{self, LoadOptions, Override};
    for (backlog, level) in [(128, 64), (256, 127)] {
        let opts = LoadOptions {
            sets: vec![Override::parse(&format!("listeners[0].backlog={backlog}")).unwrap()],
            ..LoadOptions::default()
        };
        let scn = scenario::load_with(&scenario_path("syn_flood"), &opts).unwrap();
        let dir = tmp(&format!("settle-{backlog}"));
        run(&scn, &dir, true);
        let svg = fs::read_to_string(dir.join("queues.svg")).unwrap();
        let _ = fs::remove_dir_all(&dir);
        let want = format!("settles at {level}");
        assert!(
            svg.contains(&want) && svg.contains(&format!("backlog of {backlog}")),
            "backlog {backlog}: the queues chart should say {want:?} and name the backlog"
        );
        assert!(
            svg.contains("reqsk_timer_handler"),
            "backlog {backlog}: the rule is named"
        );
    }
}
