//! `simulate serve`: an interactive lab page on a local web server.
//!
//! The page (`assets/`: HTML, CSS and a script, embedded in the binary, nothing fetched from
//! elsewhere) lists the scenarios of a directory, lets a student set the knobs that matter
//! (backlog, SYN cookies, retries, the attack's rate and window, spoofing, latency, loss, the
//! server's profile), runs the scenario and shows the new run's charts and key numbers next to
//! the previous run's. Its state lives in the URL's fragment, so a link restores an experiment.
//!
//! Security model: the server listens on loopback unless `--bind` says otherwise; every request
//! must carry the random token printed with the URL at start (128 bits from the operating
//! system; in the query or the [`http::TOKEN_HEADER`] header), else 403. It serves its
//! embedded assets, the scenario files of its directory and the files of its own runs, each
//! path checked ([`paths`]). A run goes through the CLI's validated load with `--set`-style
//! overrides ([`knobs`]), under the caps of [`Limits`]: scenario and body size, an event budget
//! that is the lower of the scenario's and the server's, a wall-time watchdog, and at most one
//! run per CPU at a time (a further run request is answered 503 "busy" at once). Runs are
//! written under a private temporary directory that goes when the server stops, on SIGINT and
//! SIGTERM too; only the newest runs are kept.
//!
//! Routes (all need the token): `GET /` the page, `GET /assets/{app.js,style.css}`,
//! `GET /api/scenarios` the list, `GET /api/scenario?path=P` one scenario's text and knob
//! values, `POST /api/inspect` the same for pasted text, `POST /api/run` a run,
//! `GET /scenarios/P` a scenario file, `GET /runs/ID/FILE` a run's file.

pub mod http;
pub mod knobs;
pub mod limits;
pub mod paths;
pub mod runs;

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tiny_http::{Method, Request, Response, Server};

pub use limits::Limits;
use limits::{Active, Slots};
use paths::Refused;
use runs::{RunRequest, RunStore};

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE_CSS: &str = include_str!("assets/style.css");

/// Serve an interactive lab page: pick a scenario, set its knobs, run it and compare the run
/// with the previous one, in a browser (loopback only, token in the printed URL).
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Directory of scenario files the page offers (subdirectories included).
    #[arg(value_name = "SCENARIO_DIR", default_value = "scenarios")]
    pub scenario_dir: PathBuf,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, value_name = "P", default_value_t = 8000)]
    pub port: u16,
    /// Address to listen on; anything but loopback lets other machines reach the page (they
    /// still need the token).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Runs at the same time, at most one per CPU [default: one per CPU].
    #[arg(long, value_name = "N")]
    pub max_runs: Option<usize>,
    /// Wall time one run may take, in seconds, before it is stopped.
    #[arg(long, value_name = "S", default_value_t = 20.0)]
    pub max_run_secs: f64,
    /// Event budget of one run at most (a scenario's own max_events applies if lower).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_events)]
    pub max_events: u64,
    /// Finished runs kept on disk; older ones are deleted.
    #[arg(long, value_name = "N", default_value_t = Limits::default().keep_runs)]
    pub keep_runs: usize,
}

impl ServeArgs {
    /// The limits these flags ask for (runs capped at one per CPU).
    pub fn limits(&self) -> Result<Limits, String> {
        if !(self.max_run_secs.is_finite() && self.max_run_secs > 0.0) {
            return Err(format!(
                "--max-run-secs {}: expected a positive number of seconds",
                self.max_run_secs
            ));
        }
        let d = Limits::default();
        Ok(Limits {
            max_runs: self.max_runs.unwrap_or(d.max_runs).clamp(1, d.max_runs),
            max_run_time: Duration::from_secs_f64(self.max_run_secs),
            max_events: self.max_events.max(1),
            keep_runs: self.keep_runs.max(2),
            ..d
        })
    }
}

/// What the request handlers share.
pub struct App {
    /// The scenario directory as given (file names in messages are as the CLI prints them).
    pub scenario_dir: PathBuf,
    /// The same, canonical: every scenario file must resolve inside it.
    pub scenario_root: PathBuf,
    pub token: String,
    pub limits: Limits,
    pub slots: Arc<Slots>,
    pub active: Arc<Active>,
    pub store: RunStore,
}

/// Makes SIGINT and SIGTERM set the returned flag; a second signal ends the process at once.
fn catch_signals() -> Result<Arc<AtomicUsize>, String> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::flag;
    let which = Arc::new(AtomicUsize::new(0));
    let again = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        flag::register_conditional_default(sig, Arc::clone(&again))
            .and_then(|_| flag::register(sig, Arc::clone(&again)))
            .and_then(|_| flag::register_usize(sig, Arc::clone(&which), sig as usize))
            .map_err(|e| format!("cannot install a signal handler: {e}"))?;
    }
    Ok(which)
}

/// Runs the server until SIGINT or SIGTERM: notes on standard error, then the page's URL (with
/// its token) as one line on `out` once the server listens.
pub fn run(args: &ServeArgs, out: &mut dyn Write) -> Result<(), String> {
    let limits = args.limits()?;
    let scenario_root = std::fs::canonicalize(&args.scenario_dir)
        .map_err(|e| format!("scenario directory {}: {e}", args.scenario_dir.display()))?;
    if !scenario_root.is_dir() {
        return Err(format!("{}: not a directory", args.scenario_dir.display()));
    }
    let signal = catch_signals()?;
    let token = runs::random_hex(16).map_err(|e| e.to_string())?;
    let want = SocketAddr::new(args.bind, args.port);
    let server = Server::http(want).map_err(|e| format!("cannot listen on {want}: {e}"))?;
    let addr = server
        .server_addr()
        .to_ip()
        .ok_or("the server has no IP address")?;
    let store = RunStore::create(limits.keep_runs)
        .map_err(|e| format!("cannot create the runs' temporary directory: {e}"))?;
    let app = Arc::new(App {
        scenario_dir: args.scenario_dir.clone(),
        scenario_root,
        token,
        slots: Slots::new(limits.max_runs),
        active: Arc::new(Active::default()),
        limits,
        store,
    });
    let host = match addr.ip() {
        IpAddr::V4(a) if a.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(a) if a.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let shown = SocketAddr::new(host, addr.port());
    note(&format!(
        "serving {} on {addr}: scenarios from {}, at most {} run(s) at once; runs in {} (removed on exit); Ctrl-C stops",
        if addr.ip().is_loopback() {
            "the lab page"
        } else {
            "the lab page TO THE NETWORK"
        },
        args.scenario_dir.display(),
        app.limits.max_runs,
        app.store.root().display()
    ));
    writeln!(out, "http://{shown}/?token={}", app.token)
        .and_then(|_| out.flush())
        .map_err(|e| format!("cannot print: {e}"))?;
    while signal.load(Ordering::Relaxed) == 0 {
        match server.recv_timeout(Duration::from_millis(100)) {
            Ok(Some(req)) => dispatch(&app, req),
            Ok(None) => {}
            Err(e) => {
                note(&format!("stopping: {e}"));
                break;
            }
        }
    }
    shut_down(&app);
    Ok(())
}

/// Stops the runs under way, waits for them a little, removes the runs' directory.
fn shut_down(app: &App) {
    app.active.cancel_all();
    let until = Instant::now() + Duration::from_secs(10);
    while app.slots.in_use() > 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_dir_all(app.store.root());
    note(&format!("stopped; removed {}", app.store.root().display()));
}

fn note(s: &str) {
    let _ = writeln!(io::stderr(), "synsim serve: {s}");
}

const FORBIDDEN: &str = "403 forbidden: this page needs the token of the running server. Open the \
URL that `simulate serve` printed (http://127.0.0.1:PORT/?token=...); to open a shared \
experiment, keep the part after # of the shared link and put your server's URL before it.\n";

/// Bodies declared larger than this are never answered (see [`dispatch`]).
const MAX_DRAINED_BODY: usize = 64 << 20;

/// Hands a request to [`handle`]: GETs without a body on this thread, anything that has (or
/// may have) a body on a thread of its own, so a client that declares a body and never sends
/// it cannot stall the server. `tiny_http` reads and discards an unread body when a request is
/// dropped, into a buffer of the declared size: a request declaring more than
/// [`MAX_DRAINED_BODY`] bytes is therefore left unanswered and never dropped (one connection
/// and its thread are given up) rather than have the process abort on that allocation.
fn dispatch(app: &Arc<App>, req: Request) {
    match req.body_length() {
        Some(n) if n > MAX_DRAINED_BODY => {
            note(&format!(
                "left a request unanswered: it declares a {n}-byte body (the limit is {} bytes)",
                app.limits.max_body_bytes
            ));
            std::mem::forget(req);
        }
        n if n.unwrap_or(0) > 0 || !matches!(req.method(), Method::Get | Method::Head) => {
            let app = Arc::clone(app);
            std::thread::spawn(move || handle(&app, req));
        }
        _ => handle(app, req),
    }
}

fn handle(app: &Arc<App>, mut req: Request) {
    let url = req.url().to_string();
    let (path, query) = http::split_target(&url);
    let reply = if !http::has_token(&req, query, &app.token) {
        http::reply(403, "text/plain; charset=utf-8", FORBIDDEN.into())
    } else {
        match req.method() {
            Method::Post if path == "/api/run" => return start_run(app, req),
            Method::Post if path == "/api/inspect" => match read_request(app, &mut req) {
                Ok(r) => answer(runs::inspect(app, &r)),
                Err(f) => http::error(f.status, &f.message),
            },
            Method::Get | Method::Head => get(app, path, query),
            _ => http::error(405, "method not allowed here"),
        }
    };
    let _ = req.respond(reply);
}

fn answer(r: Result<serde_json::Value, runs::Failure>) -> http::Reply {
    match r {
        Ok(v) => http::json(200, &v),
        Err(f) => http::error(f.status, &f.message),
    }
}

/// The JSON body of a request, read up to the body cap.
fn read_request(app: &App, req: &mut Request) -> Result<RunRequest, runs::Failure> {
    let cap = app.limits.max_body_bytes;
    let too_large = || runs::Failure {
        status: 413,
        message: format!(
            "request body over {cap} bytes, the server's limit (a scenario may have at most {} bytes)",
            app.limits.max_scenario_bytes
        ),
    };
    if req.body_length().is_some_and(|n| n as u64 > cap) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    req.as_reader()
        .take(cap + 1)
        .read_to_end(&mut body)
        .map_err(|e| runs::Failure {
            status: 400,
            message: format!("cannot read the request: {e}"),
        })?;
    if body.len() as u64 > cap {
        return Err(too_large());
    }
    serde_json::from_slice(&body).map_err(|e| runs::Failure {
        status: 400,
        message: format!("bad request body: {e}"),
    })
}

/// A run in a thread of its own if a slot is free, else "busy" at once.
fn start_run(app: &Arc<App>, mut req: Request) {
    if req
        .body_length()
        .is_some_and(|n| n as u64 > app.limits.max_body_bytes)
    {
        let f = read_request(app, &mut req).expect_err("over the cap");
        let _ = req.respond(http::error(f.status, &f.message));
        return;
    }
    let Some(slot) = app.slots.try_take() else {
        let busy = format!(
            "busy: {} run(s) already under way, the most this server runs at once (simulate serve --max-runs); try again when one has finished",
            app.slots.max()
        );
        let _ = req.respond(http::error(503, &busy));
        return;
    };
    let app = Arc::clone(app);
    std::thread::spawn(move || {
        let reply = match read_request(&app, &mut req) {
            Ok(r) => answer(runs::execute(&app, &r)),
            Err(f) => http::error(f.status, &f.message),
        };
        drop(slot);
        let _ = req.respond(reply);
    });
}

fn get(app: &App, path: &str, query: &str) -> http::Reply {
    match path {
        "/" | "/index.html" => {
            let page = INDEX_HTML.replace("{{TOKEN}}", &app.token);
            http::reply(200, "text/html; charset=utf-8", page.into_bytes())
        }
        "/assets/app.js" => http::reply(200, "text/javascript; charset=utf-8", APP_JS.into()),
        "/assets/style.css" => http::reply(200, "text/css; charset=utf-8", STYLE_CSS.into()),
        "/api/scenarios" => http::json(200, &scenario_list(app)),
        "/api/scenario" => match http::query_value(query, "path") {
            Some(p) => answer(runs::inspect(
                app,
                &RunRequest {
                    scenario: Some(p),
                    ..RunRequest::default()
                },
            )),
            None => http::error(400, "`path` is missing"),
        },
        _ => {
            if let Some(rest) = path.strip_prefix("/scenarios/") {
                scenario_file(app, rest)
            } else if let Some(rest) = path.strip_prefix("/runs/") {
                run_file(app, rest)
            } else {
                http::error(404, "no such page")
            }
        }
    }
}

fn scenario_list(app: &App) -> serde_json::Value {
    let l = &app.limits;
    json!({
        "dir": app.scenario_dir.display().to_string(),
        "scenarios": paths::list_scenarios(&app.scenario_root, l.max_scenario_bytes),
        "limits": {
            "max_runs": l.max_runs,
            "max_run_secs": l.max_run_time.as_secs_f64(),
            "max_events": l.max_events,
            "max_scenario_bytes": l.max_scenario_bytes,
            "keep_runs": l.keep_runs,
        },
    })
}

fn refused(r: Refused) -> http::Reply {
    match r {
        Refused::Unsafe => http::error(403, "refused: not a path inside the served directories"),
        Refused::NotFound => http::error(404, "no such file"),
    }
}

fn serve_file(file: &std::path::Path, content_type: &str) -> http::Reply {
    match std::fs::File::open(file) {
        Ok(f) => http::with_headers(Response::from_file(f), 200, content_type),
        Err(_) => http::error(404, "no such file"),
    }
}

fn scenario_file(app: &App, raw: &str) -> http::Reply {
    let Some(rel) = paths::decode_url_path(raw) else {
        return refused(Refused::Unsafe);
    };
    if paths::check_relative(&rel).is_err() {
        return refused(Refused::Unsafe);
    }
    if !rel.ends_with(".json") {
        return refused(Refused::NotFound);
    }
    match paths::resolve(&app.scenario_root, &rel) {
        Ok(f) => serve_file(&f, "application/json"),
        Err(r) => refused(r),
    }
}

fn run_file(app: &App, raw: &str) -> http::Reply {
    let Some(rel) = paths::decode_url_path(raw) else {
        return refused(Refused::Unsafe);
    };
    let Some((id, name)) = rel.split_once('/') else {
        return refused(Refused::NotFound);
    };
    let Some(ct) = http::content_type(name) else {
        return refused(Refused::NotFound);
    };
    match app.store.file(id, name) {
        Ok(f) => serve_file(&f, ct),
        Err(r) => refused(r),
    }
}
