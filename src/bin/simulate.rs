//! `simulate SCENARIO.json [--out DIR] [--seed N] [--trace] [--pcap[=HOSTS]]`: runs a synsim
//! scenario and writes summary.json, timeline.csv (and events.jsonl, charts, captures) into the
//! output directory.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use clap::Parser;
use serde_json::Value;
use signal_hook::flag;

use synsim::report::{self, RunError, RunOptions, RunReport, Summary};
use synsim::scenario;
use synsim::sim::Outcome;
use synsim::tcp::{Profile, StackConfig, wheel};
use synsim::time::SimDuration;

#[derive(Parser, Debug)]
#[command(
    name = "simulate",
    version,
    about = "Deterministic discrete-event simulator of TCP connection establishment",
    long_about = "Runs a synsim scenario (JSON): clients, servers, attackers and the network between them, \
event by event, and writes summary.json, timeline.csv, attempts.csv, index.html and charts (and, on request, \
events.jsonl and <host>.pcapng captures) into the output \
directory. The same scenario and seed always give byte-identical files.",
    after_help = "Examples:\n  simulate scenarios/syn_flood.json\n  simulate scenarios/handshake.json --trace --out /tmp/hs\n  simulate scenarios/syn_flood_cookies.json --pcap   (then: tshark -r output/syn_flood_cookies/server.pcapng)\n  simulate scenarios/syn_flood.json --set listeners[0].backlog=1024\n  simulate sweep scenarios/sweeps/defences.json -j 2\n  simulate --explain-profile freebsd",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Scenario file (JSON); `-` reads it from standard input (output then defaults to
    /// output/stdin/).
    #[arg(required_unless_present = "explain_profile")]
    scenario: Option<PathBuf>,
    /// Output directory [default: output/<scenario file stem>/].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Override the scenario's seed.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Also write events.jsonl: every packet, state change and outcome.
    #[arg(long)]
    trace: bool,
    /// Skip drawing charts.
    #[arg(long)]
    no_charts: bool,
    /// Write packet captures, <host>.pcapng (open them with tshark or Wireshark): `--pcap`
    /// captures every host with a listener, `--pcap=all` every host, `--pcap=client,server`
    /// the hosts named. Overrides the hosts of the scenario's `capture` section.
    #[arg(long, value_name = "HOSTS", num_args = 0..=1, require_equals = true, default_missing_value = "listeners")]
    pcap: Option<String>,
    /// Set a scenario value before validation (repeatable): PATH as in error messages
    /// (`listeners[0].backlog`, `hosts[1].stack.syncookies`), VALUE as JSON (a bare word is a
    /// string).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Override the scenario's event budget (max_events).
    #[arg(long, value_name = "N")]
    max_events: Option<u64>,
    /// Refuse a scenario file larger than N bytes [default: 16 MiB].
    #[arg(long, value_name = "N")]
    max_scenario_bytes: Option<u64>,
    /// Refuse a run whose files would exceed N bytes in all (estimated before running).
    #[arg(long, value_name = "N", default_value_t = report::budget::DEFAULT_MAX_OUTPUT_BYTES)]
    max_output_bytes: u64,
    /// Rows attempts.csv holds at most (one per attempt; the rest are counted in summary.json).
    #[arg(long, value_name = "N", default_value_t = report::attempts::DEFAULT_MAX_ATTEMPT_ROWS)]
    max_attempt_rows: u64,
    /// Print engine statistics: events, events/s, simulated seconds per wall second, peak memory.
    #[arg(long)]
    stats: bool,
    /// Print the effective knob values of a stack profile (linux, linux5, freebsd, rfc9293) and exit.
    #[arg(long, value_name = "PROFILE")]
    explain_profile: Option<String>,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Run a sweep: a scenario over a grid of values and repetitions, into a result store
    /// (DIR/runs/<id>/), then results.csv, aggregate.csv and index.html.
    Sweep(SweepArgs),
}

#[derive(clap::Args, Debug)]
struct SweepArgs {
    /// Sweep file (JSON).
    sweep: PathBuf,
    /// Output directory (the store) [default: output/<sweep file stem>/].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Runs in parallel [default: all cores].
    #[arg(short = 'j', long, value_name = "N")]
    jobs: Option<usize>,
    /// Rerun runs already in the store.
    #[arg(long)]
    force: bool,
    /// Print the run index (index, id, variables, seed) and exit.
    #[arg(long, conflicts_with_all = ["run", "shard", "merge"])]
    list_runs: bool,
    /// Run only run I (from --list-runs) into the store; no tables.
    #[arg(long, value_name = "I", conflicts_with_all = ["shard", "merge"])]
    run: Option<usize>,
    /// Run only shard K of N (from 0: the runs with index = K mod N) into the store; no tables.
    #[arg(long, value_name = "K/N", conflicts_with = "merge")]
    shard: Option<String>,
    /// Build the tables and page from whatever the store holds; run nothing.
    #[arg(long)]
    merge: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

/// How the CLI ends when it does not succeed.
enum Fail {
    /// A user-facing error: printed, exit 1.
    Error(String),
    /// Stopped by SIGINT or SIGTERM: the message is printed, exit 128 + signal.
    Interrupted { signal: i32, message: String },
    /// Standard output was closed (`simulate x.json | head -1`): a normal, quiet end.
    ClosedStdout,
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Fail::ClosedStdout
        } else {
            Fail::Error(format!("cannot print: {e}"))
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) | Err(Fail::ClosedStdout) => ExitCode::SUCCESS,
        Err(Fail::Error(msg)) => {
            let _ = writeln!(io::stderr(), "error: {msg}");
            ExitCode::FAILURE
        }
        Err(Fail::Interrupted { signal, message }) => {
            let _ = writeln!(io::stderr(), "{message}");
            ExitCode::from((128 + signal) as u8)
        }
    }
}

/// Makes SIGINT and SIGTERM set the returned flag to the signal's number, so the run stops at
/// its next poll and removes its temporaries. A second signal terminates at once.
fn catch_signals() -> Result<Arc<AtomicUsize>, Fail> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let which = Arc::new(AtomicUsize::new(0));
    let again = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        let r = flag::register_conditional_default(sig, Arc::clone(&again))
            .and_then(|_| flag::register(sig, Arc::clone(&again)))
            .and_then(|_| flag::register_usize(sig, Arc::clone(&which), sig as usize));
        r.map_err(|e| Fail::Error(format!("cannot install a signal handler: {e}")))?;
    }
    Ok(which)
}

fn run(cli: Cli) -> Result<(), Fail> {
    let mut out = io::stdout().lock();
    if let Some(p) = &cli.explain_profile {
        return explain_profile(&mut out, p);
    }
    if let Some(Command::Sweep(args)) = &cli.command {
        return sweep(&mut out, args);
    }
    let path = cli.scenario.clone().expect("clap requires SCENARIO");
    let sets = cli
        .set
        .iter()
        .map(|s| scenario::Override::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Fail::Error)?;
    let load = scenario::LoadOptions {
        max_events: cli.max_events,
        seed: cli.seed,
        max_file_bytes: cli
            .max_scenario_bytes
            .unwrap_or(scenario::LoadOptions::default().max_file_bytes),
        sets,
    };
    let mut scn = scenario::load_with(&path, &load).map_err(|e| Fail::Error(e.to_string()))?;
    if let Some(which) = &cli.pcap {
        scenario::set_capture_hosts(&mut scn, which)
            .map_err(|e| Fail::Error(format!("--pcap: {e}")))?;
    }
    if !cli.quiet {
        let mut err = io::stderr().lock();
        for w in &scn.warnings {
            let _ = writeln!(err, "warning: {w}");
        }
    }
    let out_dir = cli
        .out
        .clone()
        .unwrap_or_else(|| report::default_out_dir(&path));
    let signal = catch_signals()?;
    let bar = (!cli.quiet).then(indicatif::ProgressBar::hidden);
    let opts = RunOptions {
        out_dir: out_dir.clone(),
        trace: cli.trace,
        charts: !cli.no_charts,
        max_events: cli.max_events,
        max_output_bytes: cli.max_output_bytes,
        max_attempt_rows: cli.max_attempt_rows,
        cancel: Some(Arc::clone(&signal)),
        progress: bar.as_ref().map(|b| progress_line(b.clone(), scn.duration)),
    };
    let wall = Instant::now();
    let rep = report::run_to_dir(&scn, &opts);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let rep = rep.map_err(|e| match e {
        RunError::Interrupted { at } => {
            let when = match at {
                Some(t) => format!("at t = {t} of simulated time"),
                None => "while writing its files".to_string(),
            };
            Fail::Interrupted {
                signal: signal.load(Ordering::Relaxed) as i32,
                message: format!(
                    "interrupted: run of {} into {} stopped {when}; no files written",
                    scn.name,
                    out_dir.display()
                ),
            }
        }
        e => Fail::Error(e.to_string()),
    })?;
    // Wall time of the whole run: building the simulation, simulating, writing the files.
    let secs = wall.elapsed().as_secs_f64();
    if !cli.quiet {
        let mut err = io::stderr().lock();
        for w in &rep.summary.warnings[scn.warnings.len()..] {
            let _ = writeln!(err, "warning: {w}");
        }
        print_summary(&mut out, &rep.summary, &out_dir, secs)?;
    }
    if cli.stats {
        print_stats(&mut out, &rep, scn.duration.as_secs_f64(), secs)?;
    }
    Ok(())
}

/// Drives `bar` (created hidden) as a progress line on stderr (simulated time, events/s,
/// ETA), shown once a run has taken a second and only when stderr is a terminal (indicatif
/// hides itself otherwise). The caller clears it when the run ends.
fn progress_line(bar: indicatif::ProgressBar, duration: SimDuration) -> report::Progress {
    let start = Instant::now();
    let total_ms = (duration.as_ns() / 1_000_000).max(1);
    bar.set_length(total_ms);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:20} {msg}, {eta} left")
            .expect("static template"),
    );
    let shown = AtomicBool::new(false);
    report::Progress(Arc::new(move |t, events| {
        let secs = start.elapsed().as_secs_f64();
        if secs < 1.0 {
            return;
        }
        if !shown.swap(true, Ordering::Relaxed) {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
        bar.set_position((t.as_ns() / 1_000_000).min(total_ms));
        bar.set_message(format!(
            "{:.1}/{:.1} s simulated, {:.2} M events/s",
            t.as_secs_f64(),
            total_ms as f64 / 1000.0,
            events as f64 / secs / 1e6
        ));
    }))
}

fn sweep(out: &mut impl Write, a: &SweepArgs) -> Result<(), Fail> {
    use synsim::sweep::{self, Plan, Select};
    let plan = Plan::load(&a.sweep).map_err(|e| Fail::Error(e.to_string()))?;
    if a.list_runs {
        out.write_all(sweep::list_runs(&plan).as_bytes())?;
        return Ok(());
    }
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| report::default_out_dir(&a.sweep));
    let shown = a.sweep.display().to_string();
    let select = select_runs(a, plan.runs.len())?;
    if !a.merge {
        let signal = catch_signals()?;
        let jobs = a.jobs.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        });
        let todo = plan.runs.iter().filter(|r| select.takes(r.index)).count();
        let bar = indicatif::ProgressBar::new(todo as u64);
        if a.quiet {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} runs, {elapsed} ({eta} left)",
            )
            .expect("static template"),
        );
        let ex = sweep::execute(&plan, &dir, select, jobs, a.force, &signal, &|| bar.inc(1))
            .map_err(|e| Fail::Error(e.to_string()))?;
        bar.finish_and_clear();
        if ex.interrupted {
            return Err(Fail::Interrupted {
                signal: signal.load(Ordering::Relaxed) as i32,
                message: format!(
                    "interrupted: {} runs finished and kept in {}; run again to continue, or --merge for tables of what is there",
                    ex.ran + ex.reused,
                    dir.display()
                ),
            });
        }
        if !a.quiet {
            writeln!(
                out,
                "sweep {shown}: {} runs selected of {} ({} points x {} repetitions): {} already in the store, {} run",
                ex.selected,
                plan.runs.len(),
                plan.points,
                plan.file.repeat,
                ex.reused,
                ex.ran
            )?;
        }
        if select != Select::All {
            if !a.quiet {
                writeln!(
                    out,
                    "  store: {}; build the tables with --merge",
                    dir.display()
                )?;
            }
            return Ok(());
        }
    }
    let m = sweep::merge(&plan, &dir, &shown).map_err(|e| Fail::Error(e.to_string()))?;
    if !a.quiet {
        if !m.missing.is_empty() {
            let first: Vec<String> = m.missing.iter().take(20).map(|i| i.to_string()).collect();
            writeln!(
                out,
                "  {} of {} runs missing from the store: {}{}",
                m.missing.len(),
                plan.runs.len(),
                first.join(", "),
                if m.missing.len() > 20 { ", ..." } else { "" }
            )?;
        }
        for f in &m.files {
            writeln!(out, "  wrote {}", f.display())?;
        }
    }
    Ok(())
}

/// The runs `--run` or `--shard` select (all without either).
fn select_runs(a: &SweepArgs, runs: usize) -> Result<synsim::sweep::Select, Fail> {
    use synsim::sweep::Select;
    Ok(match (&a.run, &a.shard) {
        (Some(i), _) if *i >= runs => {
            return Err(Fail::Error(format!(
                "--run {i}: the sweep has runs 0 to {}",
                runs - 1
            )));
        }
        (Some(i), _) => Select::One(*i),
        (None, Some(s)) => {
            let bad = || Fail::Error(format!("--shard {s:?}: expected K/N with 0 <= K < N"));
            let (k, n) = s.split_once('/').ok_or_else(bad)?;
            let (k, n): (usize, usize) = (
                k.trim().parse().map_err(|_| bad())?,
                n.trim().parse().map_err(|_| bad())?,
            );
            if n == 0 || k >= n {
                return Err(bad());
            }
            Select::Shard(k, n)
        }
        (None, None) => Select::All,
    })
}

fn explain_profile(out: &mut impl Write, p: &str) -> Result<(), Fail> {
    let profile = Profile::parse(p).ok_or_else(|| {
        Fail::Error(format!(
            "unknown profile {p:?} (linux, linux5, freebsd, rfc9293)"
        ))
    })?;
    let v = serde_json::to_value(profile.config()).expect("config serialises");
    writeln!(
        out,
        "profile {} (every knob can be overridden per host under \"stack\"):",
        profile.name()
    )?;
    if let Value::Object(m) = v {
        let width = m.keys().map(|k| k.len()).max().unwrap_or(0);
        for (k, v) in m {
            writeln!(out, "  {k:width$}  {v}")?;
        }
    }
    let cfg = profile.config();
    let secs = |v: &[u64]| {
        v.iter()
            .map(|ms| format!("{}", *ms as f64 / 1000.0))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (syns, give_up) = cfg.syn_schedule_ms();
    writeln!(
        out,
        "connect to a silent peer: SYNs at {} s; ETIMEDOUT at {} s (limits: {} retransmissions, {} ms)",
        secs(&syns),
        give_up as f64 / 1000.0,
        cfg.effective_syn_max_retransmissions(),
        cfg.effective_syn_give_up_ms()
    )?;
    let (acks, expiry) = cfg.synack_schedule_ms();
    writeln!(
        out,
        "half-open entry nobody answers: SYN-ACKs at {} s; expires at {} s (before pruning)",
        secs(&acks),
        expiry as f64 / 1000.0
    )?;
    if cfg.timer_hz > 0 {
        explain_wheel(out, &cfg, (&syns, give_up), (&acks, expiry))?;
    }
    Ok(())
}

/// The nominal schedules next to what the kernel's timer wheel makes of them.
fn explain_wheel(
    out: &mut impl Write,
    cfg: &StackConfig,
    syn: (&[u64], u64),
    synack: (&[u64], u64),
) -> Result<(), Fail> {
    let hz = cfg.timer_hz;
    writeln!(
        out,
        "on the kernel's timer wheel (timer_hz {hz}, 1 jiffy = {} ms) each timer fires after its \
         nominal time, by up to its wheel level's granularity;\nthe lateness adds up along a \
         schedule, as each timer is armed when the previous one fired:",
        1000.0 / hz as f64
    )?;
    let s = |d: SimDuration| d.as_secs_f64();
    for (title, (sends, end), what, last) in [
        ("connect to a silent peer", syn, "SYN", "ETIMEDOUT"),
        (
            "half-open entry nobody answers",
            synack,
            "SYN-ACK",
            "expiry",
        ),
    ] {
        let mut nominal = sends.to_vec();
        nominal.push(end);
        writeln!(
            out,
            "  {title}:\n    {:<10} {:>9}  {:>19}  wheel level (bucket)",
            "", "nominal s", "on the wheel s"
        )?;
        let sched = wheel::schedule(hz, &nominal);
        for (i, (&n, &(lo, hi, lvl))) in nominal.iter().zip(&sched).enumerate() {
            let label = if i + 1 == nominal.len() {
                last.to_string()
            } else {
                format!("{what} {}", i + 1)
            };
            let (range, level) = match lvl {
                None => ("0".to_string(), String::new()),
                Some(l) => (
                    format!("{:.3}-{:.3}", s(lo), s(hi)),
                    format!(
                        "{l} ({} ms)",
                        wheel::granularity(l) as f64 * 1000.0 / hz as f64
                    ),
                ),
            };
            writeln!(
                out,
                "    {label:<10} {:>9}  {range:>19}  {level}",
                n as f64 / 1000.0
            )?;
        }
    }
    for (name, ms) in [
        ("TIME-WAIT (2 x msl_ms)", cfg.msl_ms.saturating_mul(2)),
        (
            "orphaned FIN-WAIT-2 (fin_wait2_timeout_ms)",
            cfg.fin_wait2_timeout_ms,
        ),
    ] {
        let (lo, hi, l) = wheel::delay_range(hz, SimDuration::from_ms(ms));
        writeln!(
            out,
            "  {name}: nominal {} s, on the wheel {:.3}-{:.3} s (level {l})",
            ms as f64 / 1000.0,
            s(lo),
            s(hi)
        )?;
    }
    Ok(())
}

fn print_stats(out: &mut impl Write, rep: &RunReport, sim_s: f64, secs: f64) -> io::Result<()> {
    let ev = rep.stats.events as f64;
    let wall = secs.max(1e-9);
    writeln!(out, "engine:")?;
    writeln!(out, "  events processed      {}", rep.stats.events)?;
    writeln!(out, "  wall time             {secs:.3} s")?;
    writeln!(out, "  events per second     {:.0}", ev / wall)?;
    writeln!(out, "  simulated s / wall s  {:.1}", sim_s / wall)?;
    let established = rep.recorder.count(Outcome::Established);
    writeln!(
        out,
        "  established / wall s  {:.0} ({established} connections)",
        established as f64 / wall
    )?;
    writeln!(
        out,
        "  peak live connections {}",
        rep.stats.peak_live_connections
    )?;
    writeln!(
        out,
        "  peak queued events    {}",
        rep.stats.peak_queued_events
    )?;
    if let Some(kb) = peak_rss_kib() {
        writeln!(out, "  peak RSS              {:.1} MiB", kb as f64 / 1024.0)?;
    }
    Ok(())
}

/// Peak resident set size of this process (Linux `VmHWM`), if known.
fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// A share as a percentage ("18.0 %"), "-" when there was nothing to share.
fn pct(r: Option<f64>) -> String {
    r.map_or("-".to_string(), |r| format!("{:.1} %", r * 100.0))
}

/// A float as summary.json writes it (`5000.0`, `0.25`).
fn json_f64(v: f64) -> String {
    serde_json::to_string(&v).unwrap_or_else(|_| "null".into())
}

fn print_summary(
    w: &mut impl Write,
    s: &Summary,
    out: &std::path::Path,
    secs: f64,
) -> io::Result<()> {
    writeln!(
        w,
        "synsim: {} (seed {}, {} ms simulated, {} events, {:.2} s wall)",
        s.scenario_name,
        s.seed,
        json_f64(s.duration_ms),
        s.events,
        secs
    )?;
    for sec in &s.setup {
        let items: Vec<String> = sec
            .items
            .iter()
            .map(|i| format!("{} {}", i.name, i.value))
            .collect();
        writeln!(w, "  {}: {}", sec.title, items.join(", "))?;
    }
    let o = &s.outcomes;
    writeln!(
        w,
        "  attempts {}: established {}, refused {}, unreachable {}, timed out {}, reset {}, aborted {}, unfinished {}",
        s.attempts,
        o.established,
        o.refused,
        o.unreachable,
        o.timed_out,
        o.reset,
        o.aborted,
        o.unfinished.unwrap_or(0)
    )?;
    if let Some(r) = s.success_rate {
        writeln!(w, "  success rate {:.1} %", r * 100.0)?;
    }
    if s.attempts > 0 && !s.success_within.is_empty() {
        let parts: Vec<String> = s
            .success_within
            .iter()
            .map(|d| format!("{} ms {}", d.deadline_ms, pct(d.rate)))
            .collect();
        writeln!(w, "  established within {}", parts.join(", "))?;
    }
    for p in &s.phases {
        let part = |name: &str, ph: &report::summary::PhaseSummary| {
            format!("{name} {} of {}", pct(ph.success_rate), ph.attempts)
        };
        writeln!(
            w,
            "  phases of attack {} ({}-{} ms): {}, {}, {}",
            p.attacker,
            p.window_ms[0],
            p.window_ms[1],
            part("before", &p.before),
            part("during", &p.during),
            part("after", &p.after)
        )?;
    }
    let l = &s.connect_latency_ms;
    if l.count > 0 {
        let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
        writeln!(
            w,
            "  connect latency ms: p50 {}  p90 {}  p99 {}  max {}",
            f(l.p50),
            f(l.p90),
            f(l.p99),
            f(l.max)
        )?;
    }
    for li in &s.listeners {
        writeln!(
            w,
            "  listener {}:{} backlog {}: SYN queue peak {}/{}, accept queue peak {}/{}, accepted {}",
            li.host,
            li.port,
            li.backlog,
            li.syn_queue_peak,
            li.syn_queue_capacity,
            li.accept_queue_peak,
            li.accept_queue_capacity,
            li.accepted
        )?;
    }
    if !s.drops_by_reason.is_empty() {
        let mut v: Vec<(&String, u64)> = s.drops_by_reason.iter().map(|(k, v)| (k, *v)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let parts: Vec<String> = v.iter().take(6).map(|(k, n)| format!("{k} {n}")).collect();
        writeln!(w, "  drops by reason: {}", parts.join(", "))?;
    }
    let c = |k: &str| s.counters.get(k).copied().unwrap_or(0);
    writeln!(
        w,
        "  counters: ListenDrops {} ListenOverflows {} TCPReqQFullDrop {} SyncookiesSent {} SyncookiesRecv {} TCPSynRetrans {} OutRsts {}",
        c("ListenDrops"),
        c("ListenOverflows"),
        c("TCPReqQFullDrop"),
        c("SyncookiesSent"),
        c("SyncookiesRecv"),
        c("TCPSynRetrans"),
        c("OutRsts")
    )?;
    print_files(w, s, out)
}

/// One line per capture file (packets written, what was left out, how to open it), then the
/// output directory.
fn print_files(w: &mut impl Write, s: &Summary, out: &std::path::Path) -> io::Result<()> {
    for cap in &s.captures {
        let left = cap.sampled_out + cap.over_cap;
        let left = if left > 0 {
            format!(", {left} left out")
        } else {
            String::new()
        };
        writeln!(
            w,
            "  capture: {} ({} packets{left}; tshark -r {})",
            cap.file,
            cap.packets,
            out.join(&cap.file).display()
        )?;
    }
    writeln!(w, "  output: {}", out.display())
}
