//! `simulate --explain-profile P`: a profile's knobs and its retransmission schedules.

use std::io::Write;

use serde_json::Value;
use synsim::tcp::{Profile, StackConfig, wheel};
use synsim::time::SimDuration;

use super::Fail;

pub(crate) fn explain_profile(out: &mut impl Write, p: &str) -> Result<(), Fail> {
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
