//! Runs through the page: the request (a shipped scenario or pasted text, knobs, extra sets)
//! loaded through the CLI's validated path ([`crate::scenario::parse_with`] with `--set`-style
//! overrides), run by [`crate::report::run_to_dir`] into a directory of its own under the
//! server's private temporary directory, and answered with the numbers the page compares.
//! The store keeps the newest [`super::Limits::keep_runs`] runs and removes the whole
//! directory when the server stops.

use std::collections::VecDeque;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde::Deserialize;
use serde_json::{Value, json};

use super::App;
use super::knobs::{self, Knobs};
use super::limits::{CANCEL_SHUTDOWN, CANCEL_TIMED_OUT};
use super::paths::{self, Refused};
use crate::report::{self, RunError, RunOptions};
use crate::scenario::{self, LoadOptions, Override};
use crate::sim::SimError;

/// Extra `--set`s a request may carry, and their length.
const MAX_SETS: usize = 64;
const MAX_SET_CHARS: usize = 4096;

/// The charts a run draws, in the order the page offers them.
pub const CHARTS: [&str; 4] = ["queues", "outcomes", "states", "ladder"];
/// The other files of a run the page links to.
pub const FILES: [&str; 3] = ["summary.json", "timeline.csv", "attempts.csv"];

/// The body of `POST /api/run` (and, without knobs, of `POST /api/inspect`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// A scenario file of the scenario directory, relative (`defences/none.json`).
    #[serde(default)]
    pub scenario: Option<String>,
    /// Scenario text pasted into the page (instead of `scenario`).
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub knobs: Knobs,
    /// Further `PATH=VALUE` overrides, applied after the knobs'.
    #[serde(default)]
    pub sets: Vec<String>,
}

/// An answer other than success: HTTP status and message.
#[derive(Debug, PartialEq, Eq)]
pub struct Failure {
    pub status: u16,
    pub message: String,
}

fn fail(status: u16, message: impl Into<String>) -> Failure {
    Failure {
        status,
        message: message.into(),
    }
}

/// A scenario's text and the names the loader gives it.
struct Source {
    text: String,
    /// The file name in messages: as the CLI would print it for the same file.
    label: String,
    /// The default scenario name (the file stem).
    name: String,
    path: Option<String>,
}

fn source(app: &App, req: &RunRequest) -> Result<Source, Failure> {
    let src = read_source(app, req)?;
    let max = app.limits.max_scenario_bytes;
    if src.text.len() as u64 > max {
        return Err(fail(
            400,
            format!(
                "{}: the scenario is {} bytes or more, above this server's limit of {max} bytes",
                src.label,
                src.text.len()
            ),
        ));
    }
    Ok(src)
}

fn read_source(app: &App, req: &RunRequest) -> Result<Source, Failure> {
    match (&req.scenario, &req.text) {
        (Some(rel), None) => {
            let file = paths::resolve(&app.scenario_root, rel).map_err(|r| match r {
                Refused::Unsafe => fail(
                    403,
                    format!("scenario {rel:?}: not a file of the scenario directory"),
                ),
                Refused::NotFound => fail(404, format!("scenario {rel:?}: no such scenario file")),
            })?;
            let mut bytes = Vec::new();
            fs::File::open(&file)
                .and_then(|f| {
                    f.take(app.limits.max_scenario_bytes + 1)
                        .read_to_end(&mut bytes)
                })
                .map_err(|e| fail(500, format!("scenario {rel:?}: cannot read it: {e}")))?;
            let label = app.scenario_dir.join(rel).display().to_string();
            let text = String::from_utf8(bytes)
                .map_err(|_| fail(400, format!("{label}: the file is not UTF-8 text")))?;
            let name = rel
                .rsplit('/')
                .next()
                .unwrap_or(rel)
                .trim_end_matches(".json");
            Ok(Source {
                text,
                label,
                name: name.to_string(),
                path: Some(rel.clone()),
            })
        }
        (None, Some(text)) => Ok(Source {
            text: text.clone(),
            label: "<pasted>".into(),
            name: "pasted".into(),
            path: None,
        }),
        _ => Err(fail(
            400,
            "give either `scenario` (a file of the list) or `text` (pasted JSON)",
        )),
    }
}

/// The `--set` strings of a request: the knobs', then the extra ones.
fn sets_of(req: &RunRequest, text: &str) -> Result<Vec<String>, Failure> {
    let mut sets = knobs::overrides(text, &req.knobs).map_err(|e| fail(400, e))?;
    if req.sets.len() > MAX_SETS || req.sets.iter().any(|s| s.len() > MAX_SET_CHARS) {
        return Err(fail(
            413,
            format!("at most {MAX_SETS} extra sets of {MAX_SET_CHARS} characters"),
        ));
    }
    sets.extend(
        req.sets
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
    );
    Ok(sets)
}

/// Loads the request's scenario as the CLI would with the same `--set`s.
fn load(app: &App, src: &Source, sets: &[String]) -> Result<crate::spec::Scenario, Failure> {
    let sets = sets
        .iter()
        .map(|s| Override::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(400, e))?;
    let opts = LoadOptions {
        max_file_bytes: app.limits.max_scenario_bytes,
        sets,
        ..LoadOptions::default()
    };
    scenario::parse_with(&src.text, &src.label, &src.name, &opts)
        .map_err(|e| fail(400, e.to_string()))
}

/// What the page shows of a scenario before any run: its knob values and description.
pub fn inspect(app: &App, req: &RunRequest) -> Result<Value, Failure> {
    let src = source(app, req)?;
    let scn = load(app, &src, &[])?;
    let echo: Value = serde_json::from_str(&scn.echo).expect("the echo is JSON");
    Ok(json!({
        "scenario": src.path,
        "label": src.label,
        "name": scn.name,
        "description": scn.description,
        "attackers": scn.attackers.len(),
        "clients": scn.clients.len(),
        "effective": knobs::effective(&echo),
        "warnings": scn.warnings,
        "text": if src.path.is_some() { Value::String(src.text) } else { Value::Null },
    }))
}

/// Runs a request to its end (or its cap) and answers with its numbers.
pub fn execute(app: &App, req: &RunRequest) -> Result<Value, Failure> {
    let start = Instant::now();
    let src = source(app, req)?;
    let sets = sets_of(req, &src.text)?;
    let scn = load(app, &src, &sets)?;
    let budget = scn.max_events.min(app.limits.max_events);
    let (id, dir) = app.store.reserve();
    let watched = app.active.watch(app.limits.max_run_time);
    let opts = RunOptions {
        out_dir: dir.clone(),
        trace: false,
        charts: true,
        max_events: Some(budget),
        max_output_bytes: app.limits.max_output_bytes,
        cancel: Some(std::sync::Arc::clone(&watched.flag)),
        ..RunOptions::default()
    };
    let rep = report::run_to_dir(&scn, &opts);
    let why = watched.flag.load(Ordering::Acquire);
    drop(watched);
    let rep = match rep {
        Ok(rep) => rep,
        Err(e) => {
            app.store.discard(&dir);
            return Err(run_failure(app, e, why, budget < scn.max_events));
        }
    };
    app.store.keep(&id);
    let mut summary = serde_json::to_value(&rep.summary).expect("summary serialises");
    let echo = summary
        .as_object_mut()
        .and_then(|m| m.remove("scenario"))
        .unwrap_or(Value::Null);
    let url = |f: &str| format!("/runs/{id}/{f}");
    let charts: serde_json::Map<String, Value> = CHARTS
        .iter()
        .filter(|c| dir.join(format!("{c}.png")).is_file())
        .map(|c| (c.to_string(), json!(url(&format!("{c}.png")))))
        .collect();
    let files: serde_json::Map<String, Value> = FILES
        .iter()
        .map(|f| (f.to_string(), json!(url(f))))
        .collect();
    Ok(json!({
        "id": id,
        "scenario": src.path,
        "label": src.label,
        "name": scn.name,
        "sets": sets,
        "knobs": req.knobs,
        "wall_ms": start.elapsed().as_secs_f64() * 1000.0,
        "max_events": budget,
        "charts": charts,
        "files": files,
        "effective": knobs::effective(&echo),
        "summary": summary,
    }))
}

/// The answer for a run that did not finish.
fn run_failure(app: &App, e: RunError, why: usize, capped: bool) -> Failure {
    match e {
        RunError::Interrupted { at } if why == CANCEL_TIMED_OUT => {
            let at = at.map_or(" while writing its files".to_string(), |t| {
                format!(" at t = {t} of simulated time")
            });
            fail(
                504,
                format!(
                    "the run took longer than {} s, this server's limit for one run (simulate serve --max-run-secs), and was stopped{at}; lower the rates or the duration",
                    app.limits.max_run_time.as_secs_f64()
                ),
            )
        }
        RunError::Interrupted { .. } if why == CANCEL_SHUTDOWN => {
            fail(503, "the server is stopping")
        }
        RunError::Sim(e @ SimError::Budget { .. }) if capped => fail(
            422,
            format!(
                "{e} (this server runs at most {} events: simulate serve --max-events)",
                app.limits.max_events
            ),
        ),
        RunError::Sim(e) => fail(422, e.to_string()),
        RunError::OutputBudget(m) => fail(422, m),
        e => fail(500, e.to_string()),
    }
}

/// Hex digits of `n` bytes from the operating system's random source.
pub fn random_hex(n: usize) -> io::Result<String> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b)
        .map_err(|e| io::Error::other(format!("no randomness from the OS: {e}")))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// The runs on disk: one directory per run under a private temporary directory.
#[derive(Debug)]
pub struct RunStore {
    root: PathBuf,
    next: AtomicU64,
    kept: Mutex<VecDeque<String>>,
    keep: usize,
}

impl RunStore {
    /// Creates the store's directory (readable by this user only) under the system's
    /// temporary directory.
    pub fn create(keep: usize) -> io::Result<RunStore> {
        let dir = std::env::temp_dir().join(format!(
            "synsim-serve-{}-{}",
            std::process::id(),
            random_hex(8)?
        ));
        let mut b = fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(&dir)?;
        Ok(RunStore {
            root: fs::canonicalize(&dir)?,
            next: AtomicU64::new(1),
            kept: Mutex::new(VecDeque::new()),
            keep: keep.max(2),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A new run's id and directory (created by the run).
    pub fn reserve(&self) -> (String, PathBuf) {
        let id = format!("r{}", self.next.fetch_add(1, Ordering::Relaxed));
        let dir = self.root.join(&id);
        (id, dir)
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, VecDeque<String>> {
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps a finished run, deleting the oldest past the limit.
    pub fn keep(&self, id: &str) {
        let mut kept = self.kept();
        kept.push_back(id.to_string());
        while kept.len() > self.keep {
            if let Some(old) = kept.pop_front() {
                let _ = fs::remove_dir_all(self.root.join(old));
            }
        }
    }

    /// Removes what a failed run left.
    pub fn discard(&self, dir: &Path) {
        let _ = fs::remove_dir_all(dir);
    }

    /// The file `name` of kept run `id`, if it is one of the files a run writes.
    pub fn file(&self, id: &str, name: &str) -> Result<PathBuf, Refused> {
        if !self.kept().iter().any(|k| k == id) {
            return Err(Refused::NotFound);
        }
        if name.contains('/') {
            return Err(Refused::Unsafe);
        }
        paths::resolve(&self.root, &format!("{id}/{name}"))
    }

    /// Runs kept now, oldest first.
    pub fn ids(&self) -> Vec<String> {
        self.kept().iter().cloned().collect()
    }
}

impl Drop for RunStore {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}
