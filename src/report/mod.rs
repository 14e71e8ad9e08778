//! Everything a run writes: the metrics folded while it runs ([`Recorder`]), `summary.json`,
//! `timeline.csv`, the optional `events.jsonl` trace, and the charts.
//!
//! [`run_to_dir`] is the whole pipeline the CLI uses: check the output budget ([`budget`]),
//! simulate with every observer attached, then commit the files all or nothing (see
//! [`output::OutputDir`]). `summary.json` is the typed [`Summary`].

pub mod budget;
pub mod charts;
pub mod histogram;
pub mod output;
pub mod summary;
pub mod timeline;
pub mod trace;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::net::{HostId, Network};
use crate::sim::Outcome;
use crate::sim::{ConnRef, Fate, Observer, OutcomeRecord, RunStats, Sample, SimError, Simulation};
use crate::spec::Scenario;
use crate::tcp::{Reason, TcpState};
use crate::time::SimTime;
use crate::wire::Packet;
use histogram::Histogram;
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
}

/// Metrics folded incrementally while the simulation runs (constant memory).
#[derive(Default, Debug, Clone)]
pub struct Recorder {
    pub outcomes: [u64; 6],
    pub per_client: Vec<[u64; 6]>,
    /// Connect latency (SYN sent -> ESTABLISHED) of established attempts, in µs.
    pub connect_latency: Histogram,
    /// Discards and aborts by rule, indexed by `Reason as usize` (see [`Recorder::drops`]).
    by_reason: Vec<Option<(Reason, u64)>>,
    /// Network drops by rule name (a handful of names: a short linear scan).
    net_drops: Vec<(&'static str, u64)>,
    pub packets_sent: u64,
    pub packets_delivered: u64,
    pub packets_dropped_network: u64,
    pub packets_discarded_hosts: u64,
    pub state_changes: u64,
    pub crashes: u64,
}

impl Recorder {
    pub fn new(clients: usize) -> Self {
        Recorder {
            per_client: vec![[0; 6]; clients],
            ..Recorder::default()
        }
    }
    pub fn count(&self, o: Outcome) -> u64 {
        self.outcomes[o as usize]
    }

    /// Discards, network drops and aborts by rule name (names shared by a network rule and a
    /// host rule are summed).
    pub fn drops(&self) -> BTreeMap<&'static str, u64> {
        let mut m = BTreeMap::new();
        for &(why, n) in self.by_reason.iter().flatten() {
            *m.entry(why.name()).or_insert(0) += n;
        }
        for &(name, n) in &self.net_drops {
            *m.entry(name).or_insert(0) += n;
        }
        m
    }

    fn count_reason(&mut self, why: Reason) {
        let i = why as usize;
        if i >= self.by_reason.len() {
            self.by_reason.resize(i + 1, None);
        }
        self.by_reason[i].get_or_insert((why, 0)).1 += 1;
    }

    fn count_net_drop(&mut self, name: &'static str) {
        match self.net_drops.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => self.net_drops.push((name, 1)),
        }
    }
}

impl Observer for Recorder {
    fn packet(&mut self, _t: SimTime, fate: Fate, _p: &Packet, _n: &Network) {
        match fate {
            Fate::Send => self.packets_sent += 1,
            Fate::Deliver => self.packets_delivered += 1,
            Fate::NetDrop(r) => {
                self.packets_dropped_network += 1;
                self.count_net_drop(r.name());
            }
            Fate::HostDrop(r) => {
                self.packets_discarded_hosts += 1;
                self.count_reason(r);
            }
        }
    }
    fn state(&mut self, _t: SimTime, _cref: &ConnRef, _a: TcpState, to: TcpState, why: Reason) {
        self.state_changes += 1;
        // Aborts and evictions of half-open entries count as drops of their rule too.
        if matches!(to, TcpState::Closed | TcpState::Listen)
            && !matches!(
                why,
                Reason::TimeWaitDone
                    | Reason::FinAcked
                    | Reason::HostCrash
                    | Reason::TimeWaitReused
            )
        {
            self.count_reason(why);
        }
    }
    fn outcome(&mut self, _t: SimTime, o: &OutcomeRecord) {
        self.outcomes[o.outcome as usize] += 1;
        // An attempt aborted before its connection existed has no state change to count.
        if matches!(
            o.reason,
            Reason::EphemeralPortsExhausted | Reason::ClientHostDown
        ) {
            self.count_reason(o.reason);
        }
        if let Some(c) = self.per_client.get_mut(o.client as usize) {
            c[o.outcome as usize] += 1;
        }
        if let (Outcome::Established, Some(c)) = (o.outcome, o.connected) {
            self.connect_latency.record_ns(c.since(o.started).as_ns());
        }
    }
    fn host(&mut self, _t: SimTime, _h: HostId, up: bool) {
        if !up {
            self.crashes += 1;
        }
    }
}

/// Every file a run may write; a run removes the ones it did not write this time.
pub const OUTPUT_FILES: [&str; 12] = [
    "summary.json",
    "timeline.csv",
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
    /// Set to non-zero (by a signal handler, say) to stop the run: it ends with
    /// [`RunError::Interrupted`] and writes nothing. Polled every [`CANCEL_POLL_EVENTS`] events.
    pub cancel: Option<Arc<AtomicUsize>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            out_dir: PathBuf::from("output"),
            trace: false,
            charts: true,
            max_events: None,
            max_output_bytes: budget::DEFAULT_MAX_OUTPUT_BYTES,
            cancel: None,
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
    budget::check(scn, opts.trace, opts.charts, opts.max_output_bytes)
        .map_err(RunError::OutputBudget)?;
    let mut dir = output::OutputDir::create(&opts.out_dir, &OUTPUT_FILES)?;
    // On an error the temporaries go when `dir` is dropped.
    let mut rep = run_into(scn, opts, &mut dir)?;
    if cancelled(opts) {
        return Err(RunError::Interrupted { at: None });
    }
    rep.files = dir.commit(&OUTPUT_FILES)?;
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
    if opts.cancel.is_some() {
        let mut n = 0u64;
        while sim.step(obs)? {
            n += 1;
            if n % CANCEL_POLL_EVENTS == 0 && cancelled(opts) {
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
    let collector = opts.charts.then(|| charts::ChartCollector::new(scn));
    let mut obs = (
        Recorder::new(scn.clients.len()),
        ((timeline, trace), collector),
    );
    let stats = drive(&mut sim, &mut obs, opts)?;
    let (rec, ((timeline, trace), collector)) = obs;
    timeline.finish()?;
    let trace_lines = match trace {
        Some(t) => {
            let n = t.lines;
            t.finish()?;
            n
        }
        None => 0,
    };
    let summary = Summary::new(scn, &sim, &rec, &stats);
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

/// Default output directory for a scenario file: `output/<file stem>/`.
pub fn default_out_dir(scenario_file: &Path) -> PathBuf {
    let stem = scenario_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into());
    Path::new("output").join(stem)
}
