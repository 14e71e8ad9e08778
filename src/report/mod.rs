//! Everything a run writes: the metrics folded while it runs ([`Recorder`]), `summary.json`,
//! `timeline.csv`, the optional `events.jsonl` trace, and the charts.
//!
//! [`run_to_dir`] is the whole pipeline the CLI uses: check the output budget ([`budget`]),
//! simulate with every observer attached, then commit the files all or nothing (see
//! [`output::OutputDir`]). `summary.json` is the typed [`Summary`].

pub mod attempts;
pub mod budget;
pub mod capture;
pub mod charts;
pub mod compare;
pub mod histogram;
pub mod output;
pub mod phases;
mod recorder;
pub mod setup;
pub mod summary;
pub mod timeline;
pub mod trace;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::net::{HostId, Network};
use crate::sim::{
    ConnRef, Fate, Observer, OutcomeRecord, RunStats, Sample, SimError, Simulation, Tap,
};
use crate::spec::Scenario;
use crate::tcp::options::ConnOptions;
use crate::tcp::{Reason, TcpState};
use crate::time::SimTime;
use crate::wire::{Packet, Segment};
pub use recorder::Recorder;
pub use summary::Summary;

impl<O: Observer> Observer for Option<O> {
    fn packet(&mut self, t: SimTime, f: Fate, p: &Packet, n: &Network) {
        if let Some(o) = self {
            o.packet(t, f, p, n);
        }
    }
    fn state(&mut self, t: SimTime, cref: &ConnRef, a: TcpState, b: TcpState, why: Reason) {
        if let Some(o) = self {
            o.state(t, cref, a, b, why);
        }
    }
    fn outcome(&mut self, t: SimTime, rec: &OutcomeRecord) {
        if let Some(o) = self {
            o.outcome(t, rec);
        }
    }
    fn sample(&mut self, t: SimTime, s: &Sample) {
        if let Some(o) = self {
            o.sample(t, s);
        }
    }
    fn host(&mut self, t: SimTime, h: HostId, up: bool) {
        if let Some(o) = self {
            o.host(t, h, up);
        }
    }
    fn tap(&mut self, t: SimTime, h: HostId, tap: Tap, p: &Packet, n: &Network) {
        if let Some(o) = self {
            o.tap(t, h, tap, p, n);
        }
    }
    fn cookie_sent(&mut self, t: SimTime, h: HostId, s: &Segment, k: &ConnOptions) {
        if let Some(o) = self {
            o.cookie_sent(t, h, s, k);
        }
    }
}

/// Every file a run may write; a run removes the ones it did not write this time.
pub const OUTPUT_FILES: [&str; 13] = [
    "summary.json",
    "timeline.csv",
    "attempts.csv",
    "events.jsonl",
    "index.html",
    "states.svg",
    "states.png",
    "queues.svg",
    "queues.png",
    "outcomes.svg",
    "outcomes.png",
    "ladder.svg",
    "ladder.png",
];

/// The files a run into a directory owns: [`OUTPUT_FILES`] and a capture per host
/// (`<host>.pcapng`), so a rerun without a capture removes the old one.
pub fn owned_files(scn: &Scenario) -> Vec<String> {
    OUTPUT_FILES
        .iter()
        .map(|f| f.to_string())
        .chain(scn.hosts.iter().map(|h| format!("{}.pcapng", h.name)))
        .collect()
}

/// How to run a scenario into a directory.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub out_dir: PathBuf,
    pub trace: bool,
    pub charts: bool,
    pub max_events: Option<u64>,
    /// Budget for all the files of the run, checked against an estimate before running
    /// (see [`budget`]); default [`budget::DEFAULT_MAX_OUTPUT_BYTES`].
    pub max_output_bytes: u64,
    /// Rows `attempts.csv` holds at most (see [`attempts`]).
    pub max_attempt_rows: u64,
    /// Set to non-zero (by a signal handler, say) to stop the run: it ends with
    /// [`RunError::Interrupted`] and writes nothing. Polled every [`CANCEL_POLL_EVENTS`] events.
    pub cancel: Option<Arc<AtomicUsize>>,
    /// Told the simulated time and the events so far, every [`CANCEL_POLL_EVENTS`] events (a
    /// progress line; it must not touch the run).
    pub progress: Option<Progress>,
}

/// A progress callback: `(simulated time of the last event, events processed)`.
#[derive(Clone)]
pub struct Progress(pub Arc<dyn Fn(SimTime, u64) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress(..)")
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            out_dir: PathBuf::from("output"),
            trace: false,
            charts: true,
            max_events: None,
            max_output_bytes: budget::DEFAULT_MAX_OUTPUT_BYTES,
            max_attempt_rows: attempts::DEFAULT_MAX_ATTEMPT_ROWS,
            cancel: None,
            progress: None,
        }
    }
}

/// Events between two looks at [`RunOptions::cancel`].
pub const CANCEL_POLL_EVENTS: u64 = 1024;

/// What a finished run produced.
pub struct RunReport {
    pub summary: Summary,
    pub stats: RunStats,
    pub recorder: Recorder,
    pub files: Vec<PathBuf>,
    pub trace_lines: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error("drawing charts failed: {0}")]
    Charts(String),
    /// Refused before running: the estimated output exceeds the budget.
    #[error("{0}")]
    OutputBudget(String),
    /// Stopped through [`RunOptions::cancel`]; `at` is the simulated time of the first event
    /// not processed (none if the simulation had finished and the files were being written).
    #[error("interrupted{}", .at.map_or(String::new(), |t| format!(" at t = {t} of simulated time")))]
    Interrupted { at: Option<SimTime> },
}

/// Listener labels `host:port`, in scenario order.
pub fn listener_labels(scn: &Scenario) -> Vec<String> {
    scn.listeners
        .iter()
        .map(|l| format!("{}:{}", scn.hosts[l.host.0 as usize].name, l.port))
        .collect()
}

/// Simulates `scn` and writes every output file into `opts.out_dir`, all or nothing (see
/// [`output::OutputDir`]). A run whose files would exceed the output budget is refused
/// before anything is created.
pub fn run_to_dir(scn: &Scenario, opts: &RunOptions) -> Result<RunReport, RunError> {
    budget::check(scn, opts).map_err(RunError::OutputBudget)?;
    let owned = owned_files(scn);
    let owned: Vec<&str> = owned.iter().map(String::as_str).collect();
    let mut dir = output::OutputDir::create(&opts.out_dir, &owned)?;
    // On an error the temporaries go when `dir` is dropped.
    let mut rep = run_into(scn, opts, &mut dir)?;
    if cancelled(opts) {
        return Err(RunError::Interrupted { at: None });
    }
    rep.files = dir.commit(&owned)?;
    Ok(rep)
}

fn cancelled(opts: &RunOptions) -> bool {
    opts.cancel
        .as_ref()
        .is_some_and(|c| c.load(Ordering::Relaxed) != 0)
}

/// Runs `sim` to its end, looking at `opts.cancel` every [`CANCEL_POLL_EVENTS`] events.
/// The same events in the same order as [`Simulation::run`], which takes the final samples.
fn drive<O: Observer>(
    sim: &mut Simulation,
    obs: &mut O,
    opts: &RunOptions,
) -> Result<RunStats, RunError> {
    if opts.cancel.is_some() || opts.progress.is_some() {
        let mut n = 0u64;
        while sim.step(obs)? {
            n += 1;
            if n % CANCEL_POLL_EVENTS != 0 {
                continue;
            }
            if let Some(p) = &opts.progress {
                (p.0)(sim.now(), n);
            }
            if cancelled(opts) {
                // The engine has no clock accessor: a zero budget makes the next step report
                // the time of the event it would have processed.
                sim.set_max_events(sim.events());
                let at = match sim.step(obs) {
                    Err(SimError::Budget { at, .. }) => Some(at),
                    _ => None,
                };
                return Err(RunError::Interrupted { at });
            }
        }
    }
    Ok(sim.run(obs)?)
}

fn run_into(
    scn: &Scenario,
    opts: &RunOptions,
    dir: &mut output::OutputDir,
) -> Result<RunReport, RunError> {
    let mut sim = Simulation::new(scn);
    if let Some(n) = opts.max_events {
        sim.set_max_events(n);
    }
    let timeline =
        timeline::TimelineWriter::new(dir.stream("timeline.csv")?, &listener_labels(scn));
    let trace = if opts.trace {
        Some(trace::TraceWriter::new(
            dir.stream("events.jsonl")?,
            scn.hosts.iter().map(|h| h.name.clone()).collect(),
            scn.clients.iter().map(|c| c.name.clone()).collect(),
        ))
    } else {
        None
    };
    let attempts = attempts::AttemptsWriter::new(
        dir.stream("attempts.csv")?,
        scn.clients.iter().map(|c| c.name.clone()).collect(),
        phases::Phases::new(scn),
        opts.max_attempt_rows,
    );
    let collector = opts.charts.then(|| charts::ChartCollector::new(scn));
    let names: Vec<String> = scn.hosts.iter().map(|h| h.name.clone()).collect();
    let captures = match &scn.capture {
        Some(spec) => {
            let alive: Vec<bool> = scn.hosts.iter().map(|h| h.alive).collect();
            Some(capture::CaptureWriter::new(spec, &names, &alive, |f| {
                dir.stream(f)
            })?)
        }
        None => None,
    };
    let mut obs = (
        ((Recorder::new(scn), attempts), captures),
        ((timeline, trace), collector),
    );
    let stats = drive(&mut sim, &mut obs, opts)?;
    let (((mut rec, attempts), captures), ((timeline, trace), collector)) = obs;
    let captures = match captures {
        Some(c) => c.finish(sim.network())?,
        None => Vec::new(),
    };
    let pending = sim.pending_attempts();
    rec.finish(&pending);
    let (rows, rows_left_out) = attempts.finish(&pending)?;
    timeline.finish()?;
    let trace_lines = match trace {
        Some(t) => {
            let n = t.lines;
            t.finish()?;
            n
        }
        None => 0,
    };
    let mut summary = Summary::new(scn, &sim, &rec, &stats);
    summary.attempts_csv = Some(summary::AttemptsFile {
        max_rows: opts.max_attempt_rows,
        rows,
        rows_left_out,
    });
    for c in &captures {
        if c.over_cap > 0 {
            summary.warnings.push(format!(
                "{} holds the first {} packets ({} bytes): {} more were left out (capture.max_packets {}, capture.max_bytes {})",
                c.file,
                c.packets,
                c.bytes,
                c.over_cap,
                scn.capture.as_ref().map_or(0, |s| s.max_packets),
                scn.capture.as_ref().map_or(0, |s| s.max_bytes),
            ));
        }
    }
    summary.captures = captures;
    if rows_left_out > 0 {
        summary.warnings.push(format!(
            "attempts.csv holds the first {rows} attempts to finish; {rows_left_out} more were left out (the cap is --max-attempt-rows {})",
            opts.max_attempt_rows
        ));
    }
    dir.write("summary.json", summary.to_json().as_bytes())?;
    if let Some(col) = &collector {
        if cancelled(opts) {
            return Err(RunError::Interrupted { at: None });
        }
        charts::write_charts(scn, &summary, &rec, col, dir)?;
    }
    Ok(RunReport {
        summary,
        stats,
        recorder: rec,
        files: Vec::new(),
        trace_lines,
    })
}

/// Default output directory for a scenario file: `output/<file stem>/` (`output/stdin/` for `-`).
pub fn default_out_dir(scenario_file: &Path) -> PathBuf {
    let stem = match scenario_file.file_stem() {
        // `simulate -` reads the scenario from standard input.
        _ if scenario_file == Path::new("-") => "stdin".into(),
        Some(s) => s.to_string_lossy().into_owned(),
        None => "scenario".into(),
    };
    Path::new("output").join(stem)
}
