//! `simulate serve`, from the outside: the binary started on a free loopback port, spoken to
//! over plain HTTP (a few lines of `TcpStream`, so odd request targets go out exactly as
//! written), and driven in headless Chromium through WebDriver (`chromedriver`).
//!
//! The HTTP tests check the token on every route, paths that try to leave the served
//! directories, the busy answer when the run slots are full, the wall-time cap, the body and
//! event caps, that errors carry the CLI's text and that a run's numbers are the CLI's. The
//! browser test changes the backlog of a flood scenario on the page, runs it twice and reads
//! the A/B comparison, the URL's state and its restoration after a reload; it saves
//! screenshots under `target/serve-screens/`. Without Chromium or chromedriver it says SKIPPED
//! on stderr, unless `SYNSIM_REQUIRE_BROWSER` is set (as `.ci/run` does where it can install
//! them), which makes it fail instead.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("synsim-serve-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// An HTTP answer.
struct Resp {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Resp {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text()))
    }
    fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// One HTTP/1.0 request (the server closes the connection after answering), the target sent
/// exactly as given.
fn request(addr: &str, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect to the server");
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut head = format!("{method} {target} HTTP/1.0\r\nHost: {addr}\r\n");
    if !body.is_empty() {
        head += &format!(
            "Content-Length: {}\r\nContent-Type: application/json\r\n",
            body.len()
        );
    }
    for (k, v) in headers {
        head += &format!("{k}: {v}\r\n");
    }
    head += "\r\n";
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("read the answer");
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(&buf)));
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    Resp {
        status,
        head,
        body: buf[split + 4..].to_vec(),
    }
}

/// The server binary, stopped with SIGTERM (then killed) when dropped.
struct Served {
    child: Option<Child>,
    url: String,
    addr: String,
    token: String,
    stderr: Arc<Mutex<String>>,
}

impl Served {
    /// `simulate serve --port 0 ARGS...`, run from the repository root.
    fn start(args: &[&str]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_simulate"))
            .current_dir(root())
            .args(["serve", "--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("simulate serve starts");
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let err = child.stderr.take().unwrap();
        let keep = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                keep.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let mut served = Served {
            child: Some(child),
            url: String::new(),
            addr: String::new(),
            token: String::new(),
            stderr,
        };
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                panic!(
                    "no URL on stdout; stderr: {}",
                    served.stderr.lock().unwrap()
                )
            });
        let rest = url.strip_prefix("http://").expect("an http URL");
        let (addr, query) = rest.split_once("/?token=").expect("URL with ?token=");
        served.addr = addr.to_string();
        served.token = query.to_string();
        served.url = url;
        served
    }

    fn get(&self, target: &str) -> Resp {
        request(
            &self.addr,
            "GET",
            target,
            &[("X-Synsim-Token", &self.token)],
            b"",
        )
    }

    fn post(&self, path: &str, body: &Value) -> Resp {
        let body = body.to_string();
        request(
            &self.addr,
            "POST",
            path,
            &[("X-Synsim-Token", &self.token)],
            body.as_bytes(),
        )
    }

    /// The runs' directory, as the server announced it on stderr.
    fn runs_dir(&self) -> PathBuf {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let err = self.stderr.lock().unwrap().clone();
            if let Some(at) = err.find("runs in ") {
                let at = at + "runs in ".len();
                let end = err[at..].find(" (removed").expect("end of the path") + at;
                return PathBuf::from(&err[at..end]);
            }
            assert!(Instant::now() < until, "no runs directory announced: {err}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then waits for the end (killing it after 10 s).
    fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Ok(Some(st)) = child.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        child.wait().ok()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The CLI on a shipped scenario with `--set`s, from the repository root.
fn cli(scenario: &str, sets: &[&str], out: &Path) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_simulate"));
    c.current_dir(root())
        .arg(format!("scenarios/{scenario}"))
        .args(["--out", out.to_str().unwrap(), "-q"]);
    for s in sets {
        c.args(["--set", s]);
    }
    c.output().expect("simulate runs")
}

/// What the CLI prints after `error: ` for this scenario and these sets.
fn cli_error(scenario: &str, sets: &[&str]) -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let out = tmp(&format!(
        "clierr-{}",
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let o = cli(scenario, sets, &out);
    let _ = std::fs::remove_dir_all(&out);
    assert!(!o.status.success(), "the CLI accepted {sets:?}");
    let err = String::from_utf8(o.stderr).unwrap();
    err.trim_end()
        .strip_prefix("error: ")
        .unwrap_or_else(|| panic!("no `error: ` in {err:?}"))
        .to_string()
}

/// summary.json of the CLI's run, without the scenario echo.
fn cli_summary(scenario: &str, sets: &[&str], name: &str) -> Value {
    let out = tmp(&format!("cli-{name}"));
    let o = cli(scenario, sets, &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("scenario");
    let _ = std::fs::remove_dir_all(out);
    v
}

#[test]
fn every_request_needs_the_token() {
    let s = Served::start(&[]);
    assert!(s.url.starts_with("http://127.0.0.1:"), "{}", s.url);
    assert!(
        s.token.len() >= 32 && s.token.bytes().all(|b| b.is_ascii_hexdigit()),
        "{}",
        s.token
    );
    let wrong = "0".repeat(s.token.len());
    for target in [
        "/",
        "/index.html",
        "/assets/app.js",
        "/api/scenarios",
        "/scenarios/syn_flood.json",
        "/runs/r1/queues.png",
        "/no/such/page",
    ] {
        let none = request(&s.addr, "GET", target, &[], b"");
        assert_eq!(none.status, 403, "{target} without a token");
        let bad = request(&s.addr, "GET", &format!("{target}?token={wrong}"), &[], b"");
        assert_eq!(bad.status, 403, "{target} with a wrong token");
        let bad = request(&s.addr, "GET", target, &[("X-Synsim-Token", "nope")], b"");
        assert_eq!(bad.status, 403, "{target} with a wrong header");
        assert!(!none.text().contains("<html") && !none.text().contains("duration_ms"));
    }
    let run = json!({"scenario": "handshake.json"}).to_string();
    let r = request(&s.addr, "POST", "/api/run", &[], run.as_bytes());
    assert_eq!(r.status, 403, "a run without the token");
    // With it: in the query (the page, its assets) or in the header (the script's calls).
    let page = request(&s.addr, "GET", &format!("/?token={}", s.token), &[], b"");
    assert_eq!(page.status, 200);
    assert!(
        page.text()
            .contains(&format!("/assets/app.js?token={}", s.token))
    );
    assert!(
        page.head.contains("Content-Security-Policy"),
        "{}",
        page.head
    );
    assert_eq!(s.get("/assets/style.css").status, 200);
    assert_eq!(s.get("/api/scenarios").status, 200);
}

/// A scenario directory with a subdirectory, a sweep file, and symlinks that lead out of it.
fn hostile_dir() -> PathBuf {
    let d = tmp("hostile");
    let inside = d.join("inside");
    std::fs::create_dir_all(inside.join("lab")).unwrap();
    std::fs::create_dir_all(d.join("outside")).unwrap();
    let flood = std::fs::read_to_string(root().join("scenarios/syn_flood.json")).unwrap();
    std::fs::write(inside.join("syn_flood.json"), &flood).unwrap();
    std::fs::write(
        inside.join("lab/handshake.json"),
        std::fs::read(root().join("scenarios/handshake.json")).unwrap(),
    )
    .unwrap();
    std::fs::write(
        inside.join("sweep.json"),
        r#"{"scenario": "x.json", "vary": []}"#,
    )
    .unwrap();
    let secret = flood.replacen(
        "\"description\": \"",
        "\"description\": \"SECRET-OUTSIDE ",
        1,
    );
    std::fs::write(d.join("outside/secret.json"), secret).unwrap();
    std::os::unix::fs::symlink(d.join("outside/secret.json"), inside.join("escape.json")).unwrap();
    std::os::unix::fs::symlink(d.join("outside"), inside.join("linked")).unwrap();
    d
}

#[test]
fn paths_outside_the_served_directories_are_refused() {
    let d = hostile_dir();
    let dir = d.join("inside");
    let s = Served::start(&[dir.to_str().unwrap()]);
    let list = s.get("/api/scenarios").json();
    let paths: Vec<&str> = list["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["syn_flood.json", "lab/handshake.json"], "{list}");
    assert!(!list.to_string().contains("SECRET"));
    let r = s.post("/api/run", &json!({"scenario": "handshake.json"}));
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(
        s.post("/api/run", &json!({"scenario": "lab/handshake.json"}))
            .status,
        200
    );
    let secret_file = d.join("outside/secret.json").display().to_string();
    for target in [
        "/../Cargo.toml",
        "/scenarios/../Cargo.toml",
        "/scenarios/../../etc/passwd",
        "/scenarios/%2e%2e/%2e%2e/etc/passwd",
        "/scenarios/%2E%2E/Cargo.toml",
        "/scenarios/..%2f..%2fCargo.toml",
        "/scenarios/lab%2fhandshake.json",
        "/scenarios/%252e%252e/Cargo.toml",
        "/scenarios//etc/passwd",
        "/scenarios/..\\..\\Cargo.toml",
        "/scenarios/escape.json",
        "/scenarios/linked/secret.json",
        &format!("/scenarios/{secret_file}"),
        "/runs/r1/../../../etc/passwd",
        "/runs/r1/..%2f..%2fsummary.json",
        "/runs/../inside/syn_flood.json",
        "//etc/passwd",
        "/etc/passwd",
        "/assets/../Cargo.toml",
    ] {
        let r = s.get(target);
        assert!(
            matches!(r.status, 403 | 404),
            "{target}: {} {}",
            r.status,
            r.text()
        );
        let t = r.text();
        assert!(
            !t.contains("SECRET") && !t.contains("root:") && !t.contains("[package]"),
            "{target}: {t}"
        );
    }
    // The same paths as a run's scenario.
    for rel in [
        "escape.json",
        "linked/secret.json",
        "../outside/secret.json",
        "/etc/passwd",
        &secret_file,
        "lab\\handshake.json",
        "./syn_flood.json",
    ] {
        let r = s.post("/api/run", &json!({"scenario": rel}));
        assert!(
            matches!(r.status, 403 | 404),
            "{rel}: {} {}",
            r.status,
            r.text()
        );
        assert!(!r.text().contains("SECRET"));
    }
    // What is inside is served.
    let ok = s.get("/scenarios/lab/handshake.json");
    assert_eq!(ok.status, 200);
    assert!(ok.text().contains("duration_ms"));
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn a_run_while_the_slots_are_full_is_busy_at_once() {
    let s = Arc::new(Served::start(&[
        "--max-runs",
        "1",
        "--max-run-secs",
        "3",
        "--max-events",
        "10000000000",
    ]));
    // 100 hours of flood, some 700 million events: far longer than the 3 s the server allows.
    let long = json!({
        "scenario": "syn_flood.json",
        "sets": ["duration_ms=360000000", "attackers[0].stop_ms=360000000", "max_events=10000000000", "sample_interval_ms=10000"],
    });
    let s2 = Arc::clone(&s);
    let started = Instant::now();
    let first = std::thread::spawn(move || s2.post("/api/run", &long));
    std::thread::sleep(Duration::from_millis(700));
    let t = Instant::now();
    let busy = s.post("/api/run", &json!({"scenario": "handshake.json"}));
    let waited = t.elapsed();
    assert_eq!(busy.status, 503, "{}", busy.text());
    assert!(
        waited < Duration::from_millis(1500),
        "the busy answer took {waited:?}"
    );
    assert!(
        busy.error().starts_with("busy: 1 run(s) already under way"),
        "{}",
        busy.text()
    );
    // Pages and files are still served while the run goes on.
    assert_eq!(s.get("/api/scenarios").status, 200);
    let first = first.join().unwrap();
    let took = started.elapsed();
    assert_eq!(first.status, 504, "{}", first.text());
    assert!(
        first.error().contains("longer than 3 s"),
        "{}",
        first.error()
    );
    assert!(
        first.error().contains("of simulated time"),
        "{}",
        first.error()
    );
    assert!(
        took < Duration::from_secs(8),
        "the capped run took {took:?}"
    );
    // The slot is free again.
    assert_eq!(
        s.post("/api/run", &json!({"scenario": "handshake.json"}))
            .status,
        200
    );
}

#[test]
fn errors_carry_the_cli_message() {
    let s = Served::start(&["scenarios"]);
    for (knobs, sets, cli_sets) in [
        (
            json!({"backlog": "-1"}),
            json!([]),
            vec!["listeners[0].backlog=-1"],
        ),
        (
            json!({"syncookies": "sometimes"}),
            json!([]),
            vec!["hosts[1].stack.syncookies=sometimes"],
        ),
        (
            json!({"loss": "2"}),
            json!([]),
            vec![r#"network.loss={"model":"bernoulli","p":2}"#],
        ),
        (json!({}), json!(["nonsense"]), vec!["nonsense"]),
        (
            json!({}),
            json!(["clients[3].send=x"]),
            vec!["clients[3].send=x"],
        ),
    ] {
        let r = s.post(
            "/api/run",
            &json!({"scenario": "syn_flood.json", "knobs": knobs, "sets": sets}),
        );
        assert_eq!(r.status, 400, "{}", r.text());
        assert_eq!(
            r.error(),
            cli_error("syn_flood.json", &cli_sets),
            "knobs {knobs}, sets {sets}"
        );
    }
    // Pasted text is checked the same way.
    let r = s.post(
        "/api/run",
        &json!({"text": "{\"duration_ms\": 10,\n \"hosts\": 3}"}),
    );
    assert_eq!(r.status, 400);
    assert!(
        r.error()
            .starts_with("invalid scenario <pasted> at `hosts` (line 2, column"),
        "{}",
        r.error()
    );
    // The limits: the size of a scenario, a body, the event budget.
    let big = format!("{{\"description\": \"{}\"}}", "x".repeat(1_100_000));
    let r = s.post("/api/run", &json!({"text": big}));
    assert_eq!(r.status, 400);
    assert!(
        r.error()
            .contains("above this server's limit of 1048576 bytes"),
        "{}",
        r.error()
    );
    // A body declared absurdly large is not answered, and the server goes on.
    let mut c = TcpStream::connect(&s.addr).unwrap();
    let head = format!(
        "POST /api/run?token={} HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999\r\n\r\n",
        s.token
    );
    c.write_all(head.as_bytes()).unwrap();
    c.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    assert!(
        c.read(&mut [0u8; 64]).is_err(),
        "no answer to a 100 TB body"
    );
    drop(c);
    assert_eq!(s.get("/api/scenarios").status, 200, "the server lives on");
    let huge = vec![b' '; 4 << 20];
    let r = request(
        &s.addr,
        "POST",
        "/api/run",
        &[("X-Synsim-Token", &s.token)],
        &huge,
    );
    assert_eq!(r.status, 413, "{}", r.text());
    drop(s);
    let s = Served::start(&["--max-events", "5000"]);
    let r = s.post("/api/run", &json!({"scenario": "syn_flood.json"}));
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.error()
            .starts_with("event budget exhausted: 5000 events processed"),
        "{}",
        r.error()
    );
    assert!(
        r.error().contains("this server runs at most 5000 events"),
        "{}",
        r.error()
    );
}

#[test]
fn a_run_gives_the_numbers_of_the_cli() {
    let s = Served::start(&[]);
    let knobs =
        json!({"backlog": "256", "syncookies": "on_overflow", "rate": "", "latency": " 20 "});
    let r = s.post(
        "/api/run",
        &json!({"scenario": "syn_flood.json", "knobs": knobs}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    let sets = [
        "listeners[0].backlog=256",
        "hosts[1].stack.syncookies=on_overflow",
        "network.latency_ms=20",
    ];
    assert_eq!(v["sets"], json!(sets));
    assert_eq!(
        v["summary"],
        cli_summary("syn_flood.json", &sets, "numbers")
    );
    assert_eq!(v["effective"]["backlog"], 256);
    assert_eq!(v["effective"]["syncookies"], "on_overflow");
    assert_eq!(v["effective"]["latency"], 20.0);
    assert_eq!(v["summary"]["listeners"][0]["syn_queue_capacity"], 257);
    // Its charts and files are served, with the token.
    for (name, url) in v["charts"].as_object().unwrap() {
        let png = s.get(url.as_str().unwrap());
        assert_eq!(png.status, 200, "{name}");
        assert!(
            png.head.contains("image/png") && png.body.starts_with(b"\x89PNG"),
            "{name}"
        );
    }
    assert_eq!(v["charts"].as_object().unwrap().len(), 4);
    let summary = s.get(v["files"]["summary.json"].as_str().unwrap());
    assert_eq!(summary.status, 200);
    assert_eq!(summary.json()["outcomes"], v["summary"]["outcomes"]);
}

#[test]
fn every_shipped_scenario_runs_through_the_server() {
    let s = Served::start(&[]);
    let list = s.get("/api/scenarios").json();
    let paths: Vec<String> = list["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_string())
        .collect();
    assert!(paths.iter().any(|p| p == "defences/none.json"), "{paths:?}");
    // Sweep files are not scenarios; a scenario beside them is one.
    assert!(
        !paths.iter().any(|p| p == "sweeps/defences.json"),
        "{paths:?}"
    );
    assert!(
        paths.iter().any(|p| p == "sweeps/echo_v6.json"),
        "{paths:?}"
    );
    let mut times = Vec::new();
    for p in &paths {
        let t = Instant::now();
        let r = s.post("/api/run", &json!({"scenario": p}));
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(r.status, 200, "{p}: {}", r.text());
        let info = s.get(&format!("/api/scenario?path={p}"));
        assert_eq!(info.status, 200, "{p}");
        times.push(format!("{p} {ms:.0} ms"));
        assert!(ms < 15_000.0, "{p} took {ms:.0} ms");
    }
    let _ = writeln!(
        std::io::stderr(),
        "serve: each shipped scenario through the server: {}",
        times.join(", ")
    );
}

#[test]
fn old_runs_are_deleted_and_the_directory_goes_with_the_server() {
    let mut s = Served::start(&["--keep-runs", "2"]);
    let dir = s.runs_dir();
    assert!(dir.is_dir(), "{}", dir.display());
    let mut ids = Vec::new();
    for _ in 0..3 {
        let v = s
            .post("/api/run", &json!({"scenario": "handshake.json"}))
            .json();
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    assert_eq!(
        s.get(&format!("/runs/{}/queues.png", ids[0])).status,
        404,
        "the oldest run is gone"
    );
    assert_eq!(s.get(&format!("/runs/{}/queues.png", ids[2])).status, 200);
    let on_disk = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(on_disk, 2, "runs on disk");
    let status = s.stop().expect("the server ran");
    assert!(status.success(), "{status:?}");
    assert!(!dir.exists(), "{} is left after SIGTERM", dir.display());
}

// --- the page in a browser ------------------------------------------------------------------

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|n| {
        std::env::split_paths(&path)
            .map(|d| d.join(n))
            .find(|p| p.is_file())
    })
}

/// chromedriver on a free port, killed when dropped.
struct Driver(Child, u16);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_driver(exe: &Path) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(exe)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let d = Driver(child, port);
    let until = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < until,
            "chromedriver does not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    d
}

#[test]
fn the_page_compares_two_backlogs_and_keeps_its_state_in_the_url() {
    let test = "the_page_compares_two_backlogs_and_keeps_its_state_in_the_url";
    let (Some(chromium), Some(driver)) = (
        on_path(&["chromium", "chromium-browser", "google-chrome"]),
        on_path(&["chromedriver"]),
    ) else {
        assert!(
            std::env::var_os("SYNSIM_REQUIRE_BROWSER").is_none(),
            "{test}: SYNSIM_REQUIRE_BROWSER is set but chromium or chromedriver is missing"
        );
        common::skipped(
            test,
            "chromium or chromedriver is not installed (apt-get install chromium chromium-driver)",
        );
        return;
    };
    let started = Instant::now();
    let default = cli_summary("syn_flood.json", &[], "page-128");
    let larger = cli_summary("syn_flood.json", &["listeners[0].backlog=256"], "page-256");
    let cookies64 = cli_summary(
        "syn_flood_cookies.json",
        &["listeners[0].backlog=64"],
        "page-c64",
    );
    let bad = cli_error("syn_flood.json", &["listeners[0].backlog=-1"]);
    let s = Served::start(&[]);
    let d = start_driver(&driver);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let shots = root().join("target/serve-screens");
    std::fs::create_dir_all(&shots).unwrap();
    let expect = page::Expect {
        cap_default: default["listeners"][0]["syn_queue_capacity"]
            .as_u64()
            .unwrap(),
        cap_larger: larger["listeners"][0]["syn_queue_capacity"]
            .as_u64()
            .unwrap(),
        cap_cookies64: cookies64["listeners"][0]["syn_queue_capacity"]
            .as_u64()
            .unwrap(),
        established_larger: larger["outcomes"]["established"].as_u64().unwrap(),
        bad,
    };
    assert_ne!(expect.cap_default, expect.cap_larger);
    rt.block_on(page::drive(&chromium, d.1, &s.url, &shots, &expect));
    let _ = writeln!(
        std::io::stderr(),
        "serve: the browser test took {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

mod page {
    use std::io::Write;
    use std::path::Path;
    use std::time::{Duration, Instant};

    use fantoccini::{Client, ClientBuilder, Locator};
    use serde_json::{Value, json};

    pub struct Expect {
        pub cap_default: u64,
        pub cap_larger: u64,
        pub cap_cookies64: u64,
        pub established_larger: u64,
        pub bad: String,
    }

    /// Polls a JavaScript expression until it is true.
    async fn until(c: &Client, what: &str, js: &str) {
        let end = Instant::now() + Duration::from_secs(60);
        loop {
            let v = c
                .execute(&format!("return Boolean({js});"), vec![])
                .await
                .expect("script runs");
            if v == Value::Bool(true) {
                return;
            }
            assert!(Instant::now() < end, "timed out waiting for {what} ({js})");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn cell(c: &Client, metric: &str, side: &str) -> (String, String) {
        let e = c
            .find(Locator::Css(&format!(
                "#ab tr[data-metric='{metric}'] td.{side}"
            )))
            .await
            .unwrap_or_else(|e| panic!("no {metric} cell {side}: {e}"));
        (
            e.text().await.unwrap(),
            e.attr("data-value").await.unwrap().unwrap_or_default(),
        )
    }

    async fn shot(c: &Client, dir: &Path, name: &str) {
        let png = c.screenshot().await.expect("screenshot");
        std::fs::write(dir.join(name), png).unwrap();
    }

    async fn run_and_wait(c: &Client, id: &str) {
        c.find(Locator::Id("run"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        until(
            c,
            &format!("run {id}"),
            &format!("document.getElementById('status').dataset.run === '{id}'"),
        )
        .await;
    }

    pub async fn drive(chromium: &Path, port: u16, url: &str, shots: &Path, x: &Expect) {
        let caps = json!({"goog:chromeOptions": {
            "binary": chromium.to_str().unwrap(),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1600,1700"],
        }});
        let caps = caps.as_object().unwrap().clone();
        let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session");
        c.goto(url).await.unwrap();
        until(&c, "the page", "document.body.dataset.ready === 'true'").await;
        c.find(Locator::Id("scenario"))
            .await
            .unwrap()
            .select_by_value("syn_flood.json")
            .await
            .unwrap();
        until(
            &c,
            "the knob values",
            "document.getElementById('k-backlog').placeholder === '128'",
        )
        .await;
        run_and_wait(&c, "r1").await;
        assert_eq!(
            cell(&c, "syn_queue_capacity", "b").await.1,
            x.cap_default.to_string()
        );
        let backlog = c.find(Locator::Id("k-backlog")).await.unwrap();
        backlog.clear().await.unwrap();
        backlog.send_keys("256").await.unwrap();
        run_and_wait(&c, "r2").await;
        let status = c
            .find(Locator::Id("status"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let _ = writeln!(std::io::stderr(), "serve: through the page: {status}");
        // B is the new run, A the previous one, and the row is marked as changed.
        assert_eq!(
            cell(&c, "syn_queue_capacity", "b").await,
            (x.cap_larger.to_string(), x.cap_larger.to_string())
        );
        assert_eq!(
            cell(&c, "syn_queue_capacity", "a").await.1,
            x.cap_default.to_string()
        );
        assert_eq!(
            cell(&c, "established", "b").await.1,
            x.established_larger.to_string()
        );
        let row = c
            .find(Locator::Css("#ab tr[data-metric='syn_queue_capacity']"))
            .await
            .unwrap();
        assert_eq!(row.attr("class").await.unwrap().as_deref(), Some("changed"));
        let delta = row
            .find(Locator::Css("td.d"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(delta, format!("+{}", x.cap_larger - x.cap_default));
        let img = c.find(Locator::Css("#fig-b img")).await.unwrap();
        until(
            &c,
            "chart B",
            "document.querySelector('#fig-b img').naturalWidth > 0",
        )
        .await;
        assert!(
            img.attr("src")
                .await
                .unwrap()
                .unwrap()
                .contains("/runs/r2/queues.png?token=")
        );
        shot(&c, shots, "ab.png").await;
        for (css, name) in [
            ("#ab", "ab-table.png"),
            ("#fig-b", "ab-chart-b.png"),
            ("#controls", "controls.png"),
        ] {
            let png = c
                .find(Locator::Css(css))
                .await
                .unwrap()
                .screenshot()
                .await
                .expect("element screenshot");
            std::fs::write(shots.join(name), png).unwrap();
        }
        // The state is in the URL; a reload restores it.
        let here = c.current_url().await.unwrap();
        let frag = here.fragment().unwrap_or_default().to_string();
        assert!(
            frag.contains("scenario=syn_flood.json") && frag.contains("backlog=256"),
            "{here}"
        );
        c.refresh().await.unwrap();
        until(
            &c,
            "the reloaded page",
            "document.body.dataset.ready === 'true'",
        )
        .await;
        let restored = c
            .find(Locator::Id("k-backlog"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap();
        assert_eq!(restored.as_deref(), Some("256"));
        let scenario = c
            .find(Locator::Id("scenario"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap();
        assert_eq!(scenario.as_deref(), Some("syn_flood.json"));
        // The comparison survives the reload too.
        assert_eq!(
            cell(&c, "syn_queue_capacity", "b").await.1,
            x.cap_larger.to_string()
        );
        assert_eq!(
            cell(&c, "syn_queue_capacity", "a").await.1,
            x.cap_default.to_string()
        );
        shot(&c, shots, "restored.png").await;
        // An error is shown with the CLI's words.
        let backlog = c.find(Locator::Id("k-backlog")).await.unwrap();
        backlog.clear().await.unwrap();
        backlog.send_keys("-1").await.unwrap();
        c.find(Locator::Id("run"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        until(
            &c,
            "the error",
            "document.getElementById('status').dataset.state === 'error'",
        )
        .await;
        let shown = c
            .find(Locator::Id("error"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(shown, x.bad);
        shot(&c, shots, "error.png").await;
        // A shared link with run=1 restores the controls and runs at once.
        let link = format!("{url}#scenario=syn_flood_cookies.json&backlog=64&run=1");
        c.goto(&link).await.unwrap();
        until(
            &c,
            "the linked run",
            "document.getElementById('status').dataset.run === 'r3'",
        )
        .await;
        assert_eq!(
            cell(&c, "syn_queue_capacity", "b").await.1,
            x.cap_cookies64.to_string()
        );
        let restored = c
            .find(Locator::Id("k-backlog"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap();
        assert_eq!(restored.as_deref(), Some("64"));
        shot(&c, shots, "linked.png").await;
        c.close().await.unwrap();
    }
}
