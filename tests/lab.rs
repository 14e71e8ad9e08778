//! The SYN-flood lab (`docs/lab.md`, `scenarios/lab/`).
//!
//! The guide is the source of the expected figures: every table headed
//! `| run | what | read from | measured |` is read back, each run it names (a `simulate`
//! command of the guide marked `# run LABEL`) is played through the library with the same
//! `--set`s, and every figure is measured again from the files that run writes. A figure that
//! drifts fails here with the value the run now gives. The tests after that assert each step's
//! story (who gets in, what the queue does) directly, without the guide.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use synsim::report::{self, RunOptions};
use synsim::scenario::{self, LoadOptions, Override};

const TABLE_HEADER: &str = "| run | what | read from | measured |";
const SYN_QUEUE: &str = "victim:80_syn_queue";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn guide() -> String {
    fs::read_to_string(root().join("docs/lab.md")).expect("docs/lab.md")
}

/// The stems of `scenarios/lab/*.json`, sorted.
fn lab_scenarios() -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(root().join("scenarios/lab"))
        .expect("scenarios/lab")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

// ---- one run of a lab scenario, and what it wrote ----

/// The files of one run, parsed.
struct Run {
    summary: Value,
    timeline_cols: Vec<String>,
    timeline: Vec<Vec<f64>>,
    attempts: Vec<BTreeMap<String, String>>,
    /// Seconds each half-open entry that expired (`synack_retries_exhausted`) lived, from the
    /// trace; `None` without `--trace`.
    expired_lifetimes_s: Option<Vec<f64>>,
    warnings: Vec<String>,
}

impl Run {
    fn col(&self, name: &str) -> Vec<f64> {
        let i = self
            .timeline_cols
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no timeline column {name}"));
        self.timeline.iter().map(|r| r[i]).collect()
    }

    /// Timeline values of `name` in `[from_s, to_s]`.
    fn col_between(&self, name: &str, from_s: f64, to_s: f64) -> Vec<f64> {
        let t = self.col("t_ms");
        let v = self.col(name);
        t.iter()
            .zip(v)
            .filter(|(t, _)| **t >= from_s * 1000.0 && **t <= to_s * 1000.0)
            .map(|(_, v)| v)
            .collect()
    }

    fn at(&self, name: &str, t_s: f64) -> f64 {
        let v = self.col_between(name, t_s, t_s);
        assert_eq!(v.len(), 1, "no timeline row at {t_s} s");
        v[0]
    }

    fn num(&self, path: &str) -> f64 {
        lookup(&self.summary, path).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Established share of the attempts (of `client`, or all) started in `[from_s, to_s)`.
    fn share_started(&self, client: Option<&str>, from_s: f64, to_s: f64) -> f64 {
        let v: Vec<_> = self
            .attempts
            .iter()
            .filter(|r| client.is_none_or(|c| r["client"] == c))
            .filter(|r| {
                let t: f64 = r["start_ms"].parse().unwrap();
                t >= from_s * 1000.0 && t < to_s * 1000.0
            })
            .collect();
        assert!(!v.is_empty(), "no attempt started in {from_s}-{to_s} s");
        let ok = v.iter().filter(|r| r["outcome"] == "established").count();
        ok as f64 / v.len() as f64
    }

    fn lifetimes(&self) -> &[f64] {
        self.expired_lifetimes_s
            .as_deref()
            .expect("the run had no --trace")
    }
}

/// Runs `scenarios/lab/<stem>.json` with `--set`s, as `simulate` would, without charts.
fn run(stem: &str, sets: &[String], trace: bool) -> Run {
    let opts = LoadOptions {
        sets: sets.iter().map(|s| Override::parse(s).unwrap()).collect(),
        ..LoadOptions::default()
    };
    let path = root().join(format!("scenarios/lab/{stem}.json"));
    let scn = scenario::load_with(&path, &opts).unwrap_or_else(|e| panic!("{e}"));
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let tag = format!("{stem}-{}", RUNS.fetch_add(1, Ordering::Relaxed));
    let dir = std::env::temp_dir().join(format!("synsim-lab-{}-{tag}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let ro = RunOptions {
        out_dir: dir.clone(),
        trace,
        charts: false,
        ..RunOptions::default()
    };
    report::run_to_dir(&scn, &ro).unwrap();
    let summary: Value =
        serde_json::from_slice(&fs::read(dir.join("summary.json")).unwrap()).unwrap();
    let mut tl = csv::Reader::from_path(dir.join("timeline.csv")).unwrap();
    let timeline_cols = tl.headers().unwrap().iter().map(String::from).collect();
    let timeline = tl
        .records()
        .map(|r| r.unwrap().iter().map(|x| x.parse().unwrap()).collect())
        .collect();
    let mut at = csv::Reader::from_path(dir.join("attempts.csv")).unwrap();
    let attempts = at.deserialize().map(|r| r.unwrap()).collect();
    let expired_lifetimes_s = trace.then(|| expired_lifetimes(&dir.join("events.jsonl")));
    let warnings = summary["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect();
    let _ = fs::remove_dir_all(&dir);
    Run {
        summary,
        timeline_cols,
        timeline,
        attempts,
        expired_lifetimes_s,
        warnings,
    }
}

/// From the trace: how long each server-side SYN-RECEIVED entry that expired lived.
fn expired_lifetimes(path: &std::path::Path) -> Vec<f64> {
    let text = fs::read_to_string(path).unwrap();
    let mut born: HashMap<(String, u64), u64> = HashMap::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        if e["event"] != "state" || e["role"] != "server" {
            continue;
        }
        let key = (
            e["host"].as_str().unwrap().to_string(),
            e["conn"].as_u64().unwrap(),
        );
        let t = e["t_ns"].as_u64().unwrap();
        if e["to"] == "SYN-RECEIVED" {
            born.insert(key, t);
        } else if e["from"] == "SYN-RECEIVED" && e["reason"] == "synack_retries_exhausted" {
            out.push((t - born[&key]) as f64 / 1e9);
        }
    }
    out
}

/// A number at `path` (`phases[0].during.success_rate`, `clients.regular.outcomes.established`).
fn lookup(v: &Value, path: &str) -> Result<f64, String> {
    let mut cur = v;
    for part in path.split('.') {
        let (key, idx) = match part.split_once('[') {
            Some((k, rest)) => (k, Some(rest.trim_end_matches(']'))),
            None => (part, None),
        };
        cur = cur
            .get(key)
            .ok_or_else(|| format!("summary.json has no `{path}` (at `{key}`)"))?;
        if let Some(i) = idx {
            let i: usize = i.parse().map_err(|_| format!("bad index in `{path}`"))?;
            cur = cur
                .get(i)
                .ok_or_else(|| format!("summary.json has no `{path}` (index {i})"))?;
        }
    }
    cur.as_f64()
        .ok_or_else(|| format!("summary.json `{path}` is not a number: {cur}"))
}

// ---- the guide: its commands and its tables ----

/// A `simulate` command of the guide, named by a `# run LABEL` comment.
#[derive(Debug)]
struct Command {
    stem: String,
    sets: Vec<String>,
    trace: bool,
}

/// Splits a command line into words, honouring single and double quotes.
fn shell_words(s: &str) -> Vec<String> {
    let (mut words, mut cur, mut quote, mut any) = (Vec::new(), String::new(), None, false);
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        words.push(cur);
    }
    words
}

fn commands(doc: &str) -> BTreeMap<String, Command> {
    let mut out = BTreeMap::new();
    for line in doc.lines() {
        let Some((cmd, label)) = line.split_once("# run ") else {
            continue;
        };
        let words = shell_words(cmd);
        let stem = words
            .iter()
            .find_map(|w| w.strip_prefix("scenarios/lab/")?.strip_suffix(".json"))
            .unwrap_or_else(|| panic!("a `# run` line runs no lab scenario: {line}"));
        let mut sets = Vec::new();
        for (i, w) in words.iter().enumerate() {
            if w == "--set" {
                sets.push(words[i + 1].clone());
            }
        }
        let c = Command {
            stem: stem.to_string(),
            sets,
            trace: words.iter().any(|w| w == "--trace"),
        };
        let prev = out.insert(label.trim().to_string(), c);
        assert!(
            prev.is_none(),
            "run {label} is defined twice in docs/lab.md"
        );
    }
    out
}

/// One row of an expected-result table.
#[derive(Debug)]
struct Row {
    line: usize,
    run: String,
    what: String,
    source: String,
    measured: String,
}

fn rows(doc: &str) -> Vec<Row> {
    let mut out = Vec::new();
    let mut in_table = false;
    for (i, line) in doc.lines().enumerate() {
        if line.trim() == TABLE_HEADER {
            in_table = true;
            continue;
        }
        if !in_table || line.starts_with("|---") {
            continue;
        }
        if !line.starts_with('|') {
            in_table = false;
            continue;
        }
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').collect();
        assert_eq!(cells.len(), 4, "docs/lab.md line {}: 4 cells", i + 1);
        out.push(Row {
            line: i + 1,
            run: cells[0].trim().to_string(),
            what: cells[1].trim().to_string(),
            source: cells[2].trim().to_string(),
            measured: cells[3].trim().to_string(),
        });
    }
    out
}

/// The numbers written in `s` (`5-18 s` gives 5 and 18).
fn numbers(s: &str) -> Vec<f64> {
    s.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|w| !w.is_empty() && w != &".")
        .map(|w| w.parse().unwrap())
        .collect()
}

/// Measures what a "read from" cell names, in the unit the guide quotes it in.
fn measure(r: &Run, source: &str) -> Result<f64, String> {
    let parts: Vec<&str> = source.split('`').collect();
    let code: Vec<&str> = parts.iter().skip(1).step_by(2).copied().collect();
    let plain: String = parts
        .iter()
        .step_by(2)
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let n = numbers(&plain);
    let of = |v: Vec<f64>, f: fn(f64, f64) -> f64| v.into_iter().reduce(f).ok_or("no value");
    match (code.first().copied(), code.get(1).copied()) {
        (Some("summary.json"), Some(path)) => lookup(&r.summary, path),
        (Some("timeline.csv"), Some(col)) if plain.contains("max over") => {
            Ok(of(r.col_between(col, n[0], n[1]), f64::max)?)
        }
        (Some("timeline.csv"), Some(col)) if plain.contains("min over") => {
            Ok(of(r.col_between(col, n[0], n[1]), f64::min)?)
        }
        (Some("timeline.csv"), Some(col)) if plain.contains(" at ") => Ok(r.at(col, n[0])),
        (Some("attempts.csv"), client) if plain.contains("started") => {
            Ok(r.share_started(client, n[0], n[1]))
        }
        (Some("events.jsonl"), Some("synack_retries_exhausted")) => {
            let l = r.lifetimes().to_vec();
            if plain.contains("shortest") {
                Ok(of(l, f64::min)?)
            } else if plain.contains("longest") {
                Ok(of(l, f64::max)?)
            } else {
                Err(format!("say shortest or longest: {source}"))
            }
        }
        _ => Err(format!("cannot read `{source}`")),
    }
}

/// `Ok` if `cell` (`129`, `20.1 %`, `3.02 s`, `20.0 ms`) is `v` written the way the cell is.
fn check(cell: &str, v: f64) -> Result<(), String> {
    let (text, scale) = match cell.strip_suffix('%') {
        Some(t) => (t, 100.0),
        None => (
            cell.strip_suffix("ms")
                .or_else(|| cell.strip_suffix('s'))
                .unwrap_or(cell),
            1.0,
        ),
    };
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let decimals = text.split_once('.').map_or(0, |(_, d)| d.len());
    let got = format!("{:.*}", decimals, v * scale);
    if decimals == 0 && (v * scale).fract() != 0.0 && scale == 1.0 {
        return Err(format!("{v} is not a whole number"));
    }
    if got == text { Ok(()) } else { Err(got) }
}

#[test]
fn every_figure_the_guide_quotes_is_what_the_run_gives() {
    let doc = guide();
    let cmds = commands(&doc);
    let rows = rows(&doc);
    assert!(
        rows.len() >= 40,
        "only {} figures found in docs/lab.md",
        rows.len()
    );
    let mut runs: HashMap<&str, Run> = HashMap::new();
    let mut wrong = Vec::new();
    for row in &rows {
        let Some(cmd) = cmds.get(&row.run) else {
            panic!(
                "line {}: no `# run {}` command in docs/lab.md",
                row.line, row.run
            );
        };
        if row.source.starts_with("`events.jsonl`") {
            assert!(
                cmd.trace,
                "line {}: run {} needs --trace",
                row.line, row.run
            );
        }
        let r = runs
            .entry(row.run.as_str())
            .or_insert_with(|| run(&cmd.stem, &cmd.sets, cmd.trace));
        match measure(r, &row.source).and_then(|v| check(&row.measured, v)) {
            Ok(()) => {}
            Err(got) => wrong.push(format!(
                "line {} (run {}, {}): the guide says {}, the run gives {got}",
                row.line, row.run, row.what, row.measured
            )),
        }
    }
    assert!(
        wrong.is_empty(),
        "docs/lab.md is stale:\n{}",
        wrong.join("\n")
    );
    // Every command the guide names is measured, and every step has figures of its own run.
    let used: BTreeSet<&str> = rows.iter().map(|r| r.run.as_str()).collect();
    for (label, c) in &cmds {
        assert!(used.contains(label.as_str()), "run {label} has no figures");
        assert!(
            c.sets.iter().all(|s| Override::parse(s).is_ok()),
            "run {label}: bad --set"
        );
    }
    for stem in lab_scenarios() {
        let plain = cmds
            .iter()
            .filter(|(_, c)| c.stem == stem && c.sets.is_empty())
            .count();
        assert!(plain >= 1, "{stem}: no run of the file as shipped");
    }
}

#[test]
fn every_lab_scenario_is_in_the_guide_and_says_what_it_shows() {
    let doc = guide();
    let stems = lab_scenarios();
    assert!(stems.len() >= 7, "{stems:?}");
    for (i, stem) in stems.iter().enumerate() {
        assert!(
            stem.starts_with(&format!("{}_", i + 1)),
            "{stem}: lab files are numbered 1_, 2_, ... in order"
        );
        assert!(
            doc.contains(&format!("scenarios/lab/{stem}.json")),
            "docs/lab.md never mentions scenarios/lab/{stem}.json"
        );
        let text = fs::read_to_string(root().join(format!("scenarios/lab/{stem}.json"))).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        let d = v["description"].as_str().unwrap_or("");
        assert!(
            d.len() > 100,
            "{stem}: a description that says what it shows"
        );
        assert!(d.starts_with(&format!("Step {} ", i + 1)), "{stem}: {d}");
    }
    // And the guide names no lab file that does not exist.
    for part in doc.split("scenarios/lab/").skip(1) {
        let name: String = part
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if part[name.len()..].starts_with(".json") {
            assert!(stems.contains(&name), "docs/lab.md names {name}.json");
        }
    }
}

// ---- each step's story ----

fn plain(stem: &str) -> Run {
    run(stem, &[], false)
}

fn set(stem: &str, sets: &[&str]) -> Run {
    run(
        stem,
        &sets.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        false,
    )
}

fn during(r: &Run) -> f64 {
    r.num("phases[0].during.success_rate")
}

/// Share of the attempts whose whole 7 s of retrying lies inside the 5-25 s flood.
fn whole_window(r: &Run) -> f64 {
    r.share_started(None, 5.0, 18.0)
}

#[test]
fn the_syn_recv_count_is_the_syn_queue_in_every_step() {
    // What `netstat -tna | grep SYN_RECV | wc -l` counts on the victim is the request sockets:
    // the server-side SYN-RECEIVED column and the listener's SYN queue column agree sample by
    // sample, in every step (the decoy of step 7 and the users hold no server connections).
    for stem in lab_scenarios() {
        let r = plain(&stem);
        assert_eq!(r.col("server_SYN-RECEIVED"), r.col(SYN_QUEUE), "{stem}");
        let peak = r.num("listeners[0].syn_queue_peak");
        let seen = r.col(SYN_QUEUE).into_iter().fold(0.0, f64::max);
        assert!(seen <= peak, "{stem}: a sample above the exact peak");
    }
}

#[test]
fn baseline_every_user_connects_in_one_round_trip() {
    let r = plain("1_baseline");
    assert_eq!(r.num("success_rate"), 1.0);
    assert_eq!(r.num("connect_latency_ms.max"), 20.0);
    assert!(r.num("listeners[0].syn_queue_peak") < 10.0);
    assert_eq!(r.num("counters.ListenDrops"), 0.0);
}

#[test]
fn flood_without_cookies_starves_users_and_cookies_let_them_in() {
    let off = plain("2_flood");
    let cap = off.num("listeners[0].syn_queue_capacity");
    assert_eq!(cap, 129.0);
    assert_eq!(
        off.col_between(SYN_QUEUE, 6.0, 25.0)
            .iter()
            .fold(0.0, |a, b| b.max(a)),
        cap
    );
    assert!(during(&off) < 0.3, "during {}", during(&off));
    assert!(whole_window(&off) < 0.1, "{}", whole_window(&off));
    assert_eq!(off.num("phases[0].before.success_rate"), 1.0);
    assert_eq!(off.num("phases[0].after.success_rate"), 1.0);
    assert!(off.num("counters.TCPReqQFullDrop") > 10_000.0);

    let on = plain("3_syncookies");
    assert_eq!(on.num("success_rate"), 1.0);
    assert_eq!(
        on.num("listeners[0].syn_queue_peak"),
        cap,
        "the attacker still fills it"
    );
    assert!(on.num("counters.SyncookiesSent") > 10_000.0);
    assert_eq!(on.num("counters.TCPReqQFullDrop"), 0.0);
    assert_eq!(
        on.num("connect_latency_ms.max"),
        20.0,
        "all on the first SYN"
    );

    let always = set("3_syncookies", &["hosts[1].stack.syncookies=2"]);
    assert_eq!(always.num("success_rate"), 1.0);
    assert_eq!(
        always.num("listeners[0].syn_queue_peak"),
        0.0,
        "no state at all"
    );

    // A 5.x lab VM holds one entry fewer: backlog, not backlog + 1.
    let five = set("2_flood", &["hosts[1].profile=linux5"]);
    assert_eq!(five.num("listeners[0].syn_queue_peak"), 128.0);
    assert!(during(&five) < 0.3);
}

#[test]
fn a_bigger_queue_helps_only_when_all_three_limits_are_raised() {
    let flood = plain("2_flood");
    let big = plain("4_backlog");
    assert_eq!(big.num("listeners[0].syn_queue_capacity"), 16385.0);
    assert!(
        big.num("listeners[0].syn_queue_peak") < 16385.0,
        "never full"
    );
    assert_eq!(during(&big), 1.0);
    assert!(big.warnings.is_empty());

    // somaxconn caps listen(): 4097 slots, and the run says so.
    let capped = set("4_backlog", &["hosts[1].stack.somaxconn=4096"]);
    assert_eq!(capped.num("listeners[0].syn_queue_capacity"), 4097.0);
    assert!(
        capped
            .warnings
            .iter()
            .any(|w| w.contains("capped to somaxconn = 4096"))
    );

    // tcp_max_syn_backlog left at 2048: the quarter rule stops unproven entries at 1537, far
    // below the half-full mark where pruning starts, so they live 63 s: worse than step 2,
    // even after the flood.
    let trap = set("4_backlog", &["hosts[1].stack.max_syn_backlog=2048"]);
    assert_eq!(
        trap.num("listeners[0].syn_queue_peak"),
        2048.0 - 512.0 + 1.0
    );
    assert!(during(&trap) < during(&flood));
    assert!(trap.num("phases[0].after.success_rate") < 0.1);
    assert!(trap.num("counters.TCPReqQFullDrop") == 0.0 && trap.num("counters.ListenDrops") > 0.0);

    // Only the listen backlog raised a little: better than 128, not enough.
    let small = set("4_backlog", &["listeners[0].backlog=1024"]);
    assert_eq!(small.num("listeners[0].syn_queue_capacity"), 1025.0);
    assert!(during(&small) > during(&flood) && during(&small) < 0.8);
}

#[test]
fn the_quarter_rule_keeps_slots_for_a_proven_peer_only() {
    let r = plain("5_quarter_rule");
    // 128 - 128/4 + 1 = 97 entries for peers the victim has no RTT for.
    assert_eq!(
        r.col_between(SYN_QUEUE, 6.0, 25.0)
            .iter()
            .fold(0.0, |a, b| b.max(a)),
        97.0
    );
    let est = |r: &Run, c: &str| r.num(&format!("clients.{c}.outcomes.established"));
    let all = |r: &Run, c: &str| r.num(&format!("clients.{c}.finished_attempts"));
    assert_eq!(
        est(&r, "regular"),
        all(&r, "regular"),
        "the proven peer always gets in"
    );
    assert!(est(&r, "newcomers") < 0.1 * all(&r, "newcomers"));
    assert_eq!(
        r.num("counters.TCPReqQFullDrop"),
        0.0,
        "no SYN met a full queue"
    );

    // Proof comes from history: with the flood from 0 s, 'regular' never closes a connection
    // first and fares like everyone else.
    let early = set("5_quarter_rule", &["attackers[0].start_ms=0"]);
    assert!(est(&early, "regular") < 0.5 * all(&early, "regular"));
    // With the rule out of reach (max_syn_backlog 2048), the queue fills to 129 and being
    // proven is worth nothing.
    let wide = set("5_quarter_rule", &["hosts[1].stack.max_syn_backlog=2048"]);
    assert_eq!(wide.num("listeners[0].syn_queue_peak"), 129.0);
    assert!(est(&wide, "regular") < 0.5 * all(&wide, "regular"));
}

#[test]
fn fewer_synack_retries_shorten_each_spoofed_entry() {
    let tr = |n: u32| {
        let s = format!("hosts[1].stack.synack_retries={n}");
        run("6_synack_retries", &[s], true)
    };
    let runs: Vec<(u32, Run)> = [5, 2, 1, 0].into_iter().map(|n| (n, tr(n))).collect();
    let longest = |r: &Run| r.lifetimes().iter().copied().fold(0.0, f64::max);
    for w in runs.windows(2) {
        let ((a, ra), (b, rb)) = (&w[0], &w[1]);
        assert!(longest(rb) < longest(ra), "retries {b} vs {a}");
        assert!(during(rb) >= during(ra), "retries {b} vs {a}");
        assert!(
            rb.num("drops_by_reason.synack_retries_exhausted")
                > ra.num("drops_by_reason.synack_retries_exhausted"),
            "more entries cycle through the queue with {b}"
        );
    }
    // The default keeps half a queue of entries for a minute after the flood; 1 empties it.
    assert_eq!(runs[0].1.at(SYN_QUEUE, 60.0), 64.0);
    assert_eq!(runs[2].1.at(SYN_QUEUE, 35.0), 0.0);
    // synack_retries 1: SYN-ACKs at 0 and 1 s, dropped at 3 s (plus the timer wheel's slack).
    let one = runs[2].1.lifetimes();
    assert!(one.iter().all(|l| (3.0..3.1).contains(l)), "{one:?}");
    // The file as shipped is the synack_retries 1 run.
    assert_eq!(
        plain("6_synack_retries").summary["outcomes"],
        runs[2].1.summary["outcomes"]
    );
}

#[test]
fn spoofing_a_live_host_frees_each_entry_after_one_round_trip() {
    let r = plain("7_live_spoof");
    assert_eq!(r.num("success_rate"), 1.0);
    assert!(r.num("listeners[0].syn_queue_peak") < 0.5 * 129.0);
    // The decoy resets every SYN-ACK it gets; each RST kills a request (EmbryonicRsts).
    let rsts = r.num("hosts.decoy.counters.OutRsts");
    let freed = r.num("hosts.victim.counters.EmbryonicRsts");
    assert!(rsts > 10_000.0 && freed > 0.99 * rsts, "{rsts} {freed}");
    assert_eq!(r.num("counters.TCPReqQFullDrop"), 0.0);
    // A decoy 100 ms away keeps each entry 200 ms: at 1000 SYN/s that is more than 129.
    let far = set(
        "7_live_spoof",
        &[r#"network.paths=[{"from":"victim","to":"decoy","latency_ms":100}]"#],
    );
    assert_eq!(far.num("listeners[0].syn_queue_peak"), 129.0);
    assert!(far.num("counters.TCPReqQFullDrop") > 1000.0);
}

#[test]
fn the_guide_parser_reads_what_it_should() {
    assert_eq!(
        shell_words(r#"simulate a.json --set 'x=[{"a": 1}]' --out o  # run 2"#),
        [
            "simulate",
            "a.json",
            "--set",
            r#"x=[{"a": 1}]"#,
            "--out",
            "o",
            "#",
            "run",
            "2"
        ]
    );
    assert_eq!(numbers("max over 6-25 s"), [6.0, 25.0]);
    assert!(check("20.1 %", 0.2009).is_ok());
    assert!(check("20.1 %", 0.2019).is_err());
    assert!(check("129", 129.0).is_ok());
    assert!(check("129", 129.4).is_err());
    assert!(check("22 098", 22098.0).is_ok());
    assert!(check("3.02 s", 3.016).is_ok());
    assert!(check("20.0 ms", 20.0).is_ok());
}
