//! `simulate --compare A B`: one page with two finished runs side by side, read back from
//! their output directories (summary.json, timeline.csv, attempts.csv): the key numbers with
//! the difference, the setup with every differing setting marked, the per-phase shares, and
//! charts of both runs drawn on the same axes.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::charts::compare::{OutcomesCompare, QueuesCompare, RunSeries};
use super::charts::html::{STYLE, esc, table};
use super::charts::render;
use super::output::OutputDir;
use super::setup::SetupSection;
use crate::sim::Outcome;

/// Files the comparison writes.
pub const COMPARE_FILES: [&str; 5] = [
    "index.html",
    "compare_queues.svg",
    "compare_queues.png",
    "compare_outcomes.svg",
    "compare_outcomes.png",
];

/// Attempts drawn per run at most (evenly sampled beyond).
const MAX_POINTS: usize = 20_000;

/// One run as read back from its directory.
struct Run {
    dir: PathBuf,
    summary: Value,
    setup: Vec<SetupSection>,
    series: RunSeries,
}

fn read(dir: &Path, file: &str) -> Result<String, String> {
    let p = dir.join(file);
    fs::read_to_string(&p).map_err(|e| {
        format!(
            "{}: {e} (is {} the output directory of a finished run?)",
            p.display(),
            dir.display()
        )
    })
}

/// (seconds, value) points.
type Line = Vec<(f64, f64)>;

/// Reads one number of a run's summary.json.
type Pick = fn(&Value) -> &Value;

/// The first listener's queue columns of timeline.csv, in seconds.
fn queues(dir: &Path, listener: Option<&str>) -> Result<(Line, Line), String> {
    let Some(l) = listener else {
        return Ok((Vec::new(), Vec::new()));
    };
    let text = read(dir, "timeline.csv")?;
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let bad = |e: String| format!("{}: {e}", dir.join("timeline.csv").display());
    let head = rd.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |name: &str| head.iter().position(|h| h == name);
    let (Some(t), Some(s), Some(a)) = (
        col("t_ms"),
        col(&format!("{l}_syn_queue")),
        col(&format!("{l}_accept_queue")),
    ) else {
        return Err(bad(format!(
            "no t_ms, {l}_syn_queue or {l}_accept_queue column"
        )));
    };
    let (mut syn, mut acc) = (Vec::new(), Vec::new());
    for rec in rd.records() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let num = |i: usize| rec.get(i).and_then(|v| v.parse::<f64>().ok());
        let (Some(tv), Some(sv), Some(av)) = (num(t), num(s), num(a)) else {
            return Err(bad(format!(
                "row {}: not numbers",
                rec.position().map_or(0, |p| p.line())
            )));
        };
        syn.push((tv / 1000.0, sv));
        acc.push((tv / 1000.0, av));
    }
    Ok((syn, acc))
}

/// (start s, time to outcome s, outcome) of the finished attempts in attempts.csv.
fn attempts(dir: &Path) -> Result<Vec<(f64, f64, Outcome)>, String> {
    let Ok(text) = fs::read_to_string(dir.join("attempts.csv")) else {
        return Ok(Vec::new());
    };
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let head = rd
        .headers()
        .map_err(|e| format!("{}: {e}", dir.join("attempts.csv").display()))?
        .clone();
    let col = |name: &str| head.iter().position(|h| h == name);
    let (Some(s), Some(o), Some(e)) = (col("start_ms"), col("outcome"), col("end_ms")) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for rec in rd.records().flatten() {
        let f = |i: usize| rec.get(i).and_then(|v| v.parse::<f64>().ok());
        let outcome = rec
            .get(o)
            .and_then(|n| Outcome::ALL.iter().copied().find(|x| x.name() == n));
        if let (Some(start), Some(end), Some(oc)) = (f(s), f(e), outcome) {
            out.push((start / 1000.0, (end - start) / 1000.0, oc));
        }
    }
    if out.len() > MAX_POINTS {
        let step = out.len().div_ceil(MAX_POINTS);
        out = out.into_iter().step_by(step).collect();
    }
    Ok(out)
}

fn load(dir: &Path, tag: &str) -> Result<Run, String> {
    let text = read(dir, "summary.json")?;
    let summary: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}: {e}", dir.join("summary.json").display()))?;
    let setup: Vec<SetupSection> =
        serde_json::from_value(summary["setup"].clone()).map_err(|_| {
            format!(
                "{}: no setup section (written by an older synsim? rerun it)",
                dir.join("summary.json").display()
            )
        })?;
    let l0 = &summary["listeners"][0];
    let listener = l0["host"]
        .as_str()
        .map(|h| format!("{h}:{}", l0["port"].as_u64().unwrap_or(0)));
    let (syn, accept) = queues(dir, listener.as_deref())?;
    let capacity = l0["syn_queue_capacity"]
        .as_u64()
        .zip(l0["accept_queue_capacity"].as_u64());
    let name = summary["scenario_name"].as_str().unwrap_or("?").to_string();
    let series = RunSeries {
        label: format!("{tag}: {name} ({})", dir.display()),
        syn,
        accept,
        capacity,
        attempts: attempts(dir)?,
        duration_s: summary["duration_ms"].as_f64().unwrap_or(0.0) / 1000.0,
    };
    Ok(Run {
        dir: dir.to_path_buf(),
        summary,
        setup,
        series,
    })
}

/// A number of summary.json as the page shows it.
fn num(v: &Value) -> String {
    match v.as_f64() {
        None => "-".into(),
        Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
        Some(f) => format!("{f:.3}"),
    }
}

fn pct(v: &Value) -> String {
    v.as_f64()
        .map_or("-".into(), |r| format!("{:.1} %", r * 100.0))
}

/// The key numbers of both runs and B - A.
fn key_numbers(o: &mut String, a: &Value, b: &Value) {
    let rows: [(&str, Pick, bool); 9] = [
        ("attempts", |s| &s["attempts"], false),
        ("established", |s| &s["outcomes"]["established"], false),
        ("timed out", |s| &s["outcomes"]["timed_out"], false),
        ("refused", |s| &s["outcomes"]["refused"], false),
        ("success rate", |s| &s["success_rate"], true),
        (
            "connect latency p50 (ms)",
            |s| &s["connect_latency_ms"]["p50"],
            false,
        ),
        (
            "connect latency p99 (ms)",
            |s| &s["connect_latency_ms"]["p99"],
            false,
        ),
        (
            "SYN queue peak",
            |s| &s["listeners"][0]["syn_queue_peak"],
            false,
        ),
        (
            "SYN queue capacity",
            |s| &s["listeners"][0]["syn_queue_capacity"],
            false,
        ),
    ];
    let mut out = Vec::new();
    for (name, get, share) in rows {
        let (va, vb) = (get(a), get(b));
        let diff = match (va.as_f64(), vb.as_f64()) {
            (Some(x), Some(y)) if share => format!("{:+.1} points", (y - x) * 100.0),
            (Some(x), Some(y)) => num(&Value::from(y - x)),
            _ => "-".into(),
        };
        let show = |v: &Value| if share { pct(v) } else { num(v) };
        out.push(vec![name.to_string(), show(va), show(vb), diff]);
    }
    table(o, &["", "A", "B", "B - A"], &out);
}

/// Every setting of either run; a row whose values differ is marked (`≠`, highlighted).
fn setup(o: &mut String, a: &[SetupSection], b: &[SetupSection]) -> usize {
    let mut titles: Vec<&str> = a.iter().map(|s| s.title.as_str()).collect();
    for s in b {
        if !titles.contains(&s.title.as_str()) {
            titles.push(&s.title);
        }
    }
    let value = |v: &[SetupSection], t: &str, n: &str| {
        v.iter()
            .find(|s| s.title == t)
            .and_then(|s| s.items.iter().find(|i| i.name == n))
            .map_or("(none)".to_string(), |i| i.value.clone())
    };
    let mut differ = 0;
    o.push_str(
        "<table><thead><tr><th></th><th>setting</th><th>A</th><th>B</th></tr></thead><tbody>",
    );
    for t in titles {
        let mut names: Vec<&str> = Vec::new();
        for s in a.iter().chain(b).filter(|s| s.title == t) {
            for i in &s.items {
                if !names.contains(&i.name.as_str()) {
                    names.push(&i.name);
                }
            }
        }
        for n in names {
            let (va, vb) = (value(a, t, n), value(b, t, n));
            let diff = va != vb;
            differ += diff as usize;
            let _ = write!(
                o,
                "<tr{}><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td></tr>",
                if diff { " class=\"diff\"" } else { "" },
                if diff { "&ne;" } else { "" },
                esc(t),
                esc(n),
                esc(&va),
                esc(&vb)
            );
        }
    }
    o.push_str("</tbody></table>\n");
    differ
}

/// Per attack window and phase: attempts and the share established, A next to B.
fn phases(o: &mut String, a: &Value, b: &Value) {
    let empty = Vec::new();
    let (pa, pb) = (
        a["phases"].as_array().unwrap_or(&empty),
        b["phases"].as_array().unwrap_or(&empty),
    );
    let mut rows = Vec::new();
    for i in 0..pa.len().max(pb.len()) {
        for ph in ["before", "during", "after"] {
            let cell = |v: &[Value]| {
                v.get(i).map_or("-".to_string(), |w| {
                    format!(
                        "{} of {}",
                        pct(&w[ph]["success_rate"]),
                        num(&w[ph]["attempts"])
                    )
                })
            };
            let name = pa
                .get(i)
                .or(pb.get(i))
                .and_then(|w| w["attacker"].as_str())
                .unwrap_or("?");
            rows.push(vec![format!("{name} {ph}"), cell(pa), cell(pb)]);
        }
    }
    if rows.is_empty() {
        o.push_str("<p>No attack in either run.</p>\n");
    } else {
        table(
            o,
            &[
                "phase",
                "A: established of attempts",
                "B: established of attempts",
            ],
            &rows,
        );
    }
}

/// A path to `to` as seen from the directory `from` (absolute when they share nothing).
fn relative(from: &Path, to: &Path) -> String {
    let (Ok(f), Ok(t)) = (from.canonicalize(), to.canonicalize()) else {
        return to.display().to_string();
    };
    let (fc, tc): (Vec<_>, Vec<_>) = (f.components().collect(), t.components().collect());
    let common = fc.iter().zip(&tc).take_while(|(x, y)| x == y).count();
    if common <= 1 {
        return t.display().to_string();
    }
    let mut p = PathBuf::new();
    for _ in common..fc.len() {
        p.push("..");
    }
    for c in &tc[common..] {
        p.push(c);
    }
    p.display().to_string()
}

/// Reads the runs in `a` and `b` and writes the comparison into `out`; returns the files.
pub fn compare(a: &Path, b: &Path, out: &Path, size: (u32, u32)) -> Result<Vec<PathBuf>, String> {
    let (ra, rb) = (load(a, "A")?, load(b, "B")?);
    let mut dir = OutputDir::create(out, &COMPARE_FILES).map_err(|e| e.to_string())?;
    let runs = [&ra.series, &rb.series];
    let (w, h) = size;
    let charts = [
        (
            "compare_queues",
            "Listen queues",
            render(&QueuesCompare { runs }, w, h),
        ),
        (
            "compare_outcomes",
            "Outcomes",
            render(&OutcomesCompare { runs }, w, h),
        ),
    ];
    let mut o = String::new();
    let name = |r: &Run| {
        r.summary["scenario_name"]
            .as_str()
            .unwrap_or("?")
            .to_string()
    };
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>synsim: {a} vs {b}</title>\n<style>{STYLE}tr.diff td{{background:#fff1b8;\
         font-weight:bold}}</style>\n</head>\n<body>\n<h1>A: {a} vs B: {b}</h1>\n\
         <p class=\"meta\">A: <a href=\"{la}/index.html\">{da}</a> &middot; B: \
         <a href=\"{lb}/index.html\">{db}</a></p>\n<h2>Key numbers</h2>\n",
        a = esc(&name(&ra)),
        b = esc(&name(&rb)),
        la = esc(&relative(out, &ra.dir)),
        lb = esc(&relative(out, &rb.dir)),
        da = esc(&ra.dir.display().to_string()),
        db = esc(&rb.dir.display().to_string()),
    );
    key_numbers(&mut o, &ra.summary, &rb.summary);
    o.push_str("<h2>Setup</h2>\n");
    let mut body = String::new();
    let differ = setup(&mut body, &ra.setup, &rb.setup);
    let _ = writeln!(
        o,
        "<p>{differ} setting{} differ (marked &ne; and highlighted).</p>",
        if differ == 1 { "" } else { "s" }
    );
    o.push_str(&body);
    o.push_str("<h2>Before, during and after each attack</h2>\n");
    phases(&mut o, &ra.summary, &rb.summary);
    for (chart, heading, r) in charts {
        let (svg, png) = r.map_err(|e| format!("{chart}: {e}"))?;
        let inline = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
        let _ = write!(
            o,
            "<h2>{heading}</h2>\n<figure>{inline}\n<figcaption>(also as <a href=\"{chart}.png\">PNG\
             </a> and <a href=\"{chart}.svg\">SVG</a>)</figcaption></figure>\n"
        );
        dir.write(&format!("{chart}.svg"), svg.as_bytes())
            .map_err(|e| e.to_string())?;
        dir.write(&format!("{chart}.png"), &png)
            .map_err(|e| e.to_string())?;
    }
    o.push_str("</body>\n</html>\n");
    dir.write("index.html", o.as_bytes())
        .map_err(|e| e.to_string())?;
    dir.commit(&COMPARE_FILES).map_err(|e| e.to_string())
}
