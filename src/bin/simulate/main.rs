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
use signal_hook::flag;

use synsim::report::{self, RunError, RunOptions};
use synsim::scenario;
use synsim::time::SimDuration;

mod explain;
mod print;
mod sweep;

use explain::explain_profile;
use print::{print_stats, print_summary};
use sweep::{SweepArgs, sweep};

#[derive(Parser, Debug)]
#[command(
    name = "simulate",
    version,
    about = "Deterministic discrete-event simulator of TCP connection establishment",
    long_about = "Runs a synsim scenario (JSON): clients, servers, attackers and the network between them, \
event by event, and writes summary.json, timeline.csv, attempts.csv, index.html and charts (and, on request, \
events.jsonl and <host>.pcapng captures) into the output \
directory. The same scenario and seed always give byte-identical files.",
    after_help = "Examples:\n  simulate scenarios/syn_flood.json\n  simulate scenarios/handshake.json --trace --out /tmp/hs\n  simulate scenarios/syn_flood_cookies.json --pcap   (then: tshark -r output/syn_flood_cookies/server.pcapng)\n  simulate scenarios/syn_flood.json --set listeners[0].backlog=1024\n  simulate sweep scenarios/sweeps/defences.json -j 2\n  simulate serve --port 0   (then open the printed URL)\n  simulate --explain-profile freebsd",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Scenario file (JSON); `-` reads it from standard input (output then defaults to
    /// output/stdin/).
    #[arg(required_unless_present_any = ["explain_profile", "compare"])]
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
    /// Compare two finished runs (their output directories): one page with both side by side,
    /// the key numbers and their difference, every differing setting highlighted, charts on
    /// the same axes; written to --out [default: output/compare/].
    #[arg(long, num_args = 2, value_names = ["A", "B"], conflicts_with = "scenario")]
    compare: Option<Vec<PathBuf>>,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Run a sweep: a scenario over a grid of values and repetitions, into a result store
    /// (DIR/runs/<id>/), then results.csv, aggregate.csv and index.html.
    Sweep(SweepArgs),
    /// Print the JSON Schema of the scenario format (docs/scenario.schema.json), for editors.
    Schema,
    Serve(synsim::serve::ServeArgs),
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
pub(crate) fn catch_signals() -> Result<Arc<AtomicUsize>, Fail> {
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
    if let Some(dirs) = &cli.compare {
        let dest = cli
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("output/compare"));
        report::compare::compare(&dirs[0], &dirs[1], &dest, (1200, 600)).map_err(Fail::Error)?;
        if !cli.quiet {
            writeln!(out, "compare: {}", dest.join("index.html").display())?;
        }
        return Ok(());
    }
    match &cli.command {
        Some(Command::Sweep(args)) => return sweep(&mut out, args),
        Some(Command::Schema) => return Ok(write!(out, "{}", scenario::scenario_schema_text())?),
        Some(Command::Serve(a)) => return synsim::serve::run(a, &mut out).map_err(Fail::Error),
        None => {}
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
