//! What the CLI prints after a run: the summary, the files, engine statistics.

use std::io::{self, Write};

use synsim::report::{self, RunReport, Summary};
use synsim::sim::Outcome;

pub(crate) fn print_stats(
    out: &mut impl Write,
    rep: &RunReport,
    sim_s: f64,
    secs: f64,
) -> io::Result<()> {
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

pub(crate) fn print_summary(
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
    print_setup(w, s)?;
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
    print_drops(w, s)?;
    print_files(w, s, out)
}

/// The most frequent drop reasons and the headline counters.
fn print_drops(w: &mut impl Write, s: &Summary) -> io::Result<()> {
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
    )
}

/// The setup, one line per section (listener, client, attacker, network).
fn print_setup(w: &mut impl Write, s: &Summary) -> io::Result<()> {
    for sec in &s.setup {
        let items: Vec<String> = sec
            .items
            .iter()
            .map(|i| format!("{} {}", i.name, i.value))
            .collect();
        writeln!(w, "  {}: {}", sec.title, items.join(", "))?;
    }
    Ok(())
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
