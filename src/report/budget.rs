//! The output budget: the size of what a run would write, estimated before it starts, so that
//! a scenario asking for an 80 GB `timeline.csv` is refused in a millisecond rather than
//! filling the disk.
//!
//! The estimates are deliberately low (a run is never refused for a size it would not reach):
//! - `attempts.csv`: the expected client attempts (at most the row cap), at
//!   [`MIN_ROW_BYTES`] each.
//! - `timeline.csv`: one row per sample (`duration / sample_interval + 1`), each at least
//!   `"0.000"` and one `",0"` per column (20 state columns and 4 per listener).
//! - `events.jsonl` (with the trace): the traffic estimate the loader makes for the event
//!   budget (12 events per client attempt, 8 per attacker SYN), at
//!   [`TRACE_BYTES_PER_EVENT`] bytes each (the shipped scenarios write 240 to 320).
//! - captures: each capture point with a listener holds at least the attackers' SYNs and 6
//!   packets per client attempt, at [`CAPTURE_BYTES_PER_PACKET`] each, up to its `max_bytes`
//!   and `max_packets`
//!   (other capture points are not counted: they see only their own traffic).
//! - charts: bounded by their pixel size (an uncompressed upper bound of the four PNGs, plus
//!   as much again for the SVGs and the page); listener series are capped, so the charts do not
//!   grow with the scenario.

use super::RunOptions;
use super::attempts::MIN_ROW_BYTES;
use crate::spec::Scenario;
use crate::tcp::TcpState;

/// Default budget for all of a run's files: 2 GiB (the CLI's `--max-output-bytes`).
pub const DEFAULT_MAX_OUTPUT_BYTES: u64 = 2 << 30;

/// Bytes per simulated event assumed for `events.jsonl`.
pub const TRACE_BYTES_PER_EVENT: u64 = 150;

/// Bytes per packet assumed for a capture (an Enhanced Packet Block of a bare SYN is 72).
pub const CAPTURE_BYTES_PER_PACKET: u64 = 60;

/// One file's estimated size.
#[derive(Clone, Debug, PartialEq)]
pub struct FileEstimate {
    pub name: &'static str,
    pub bytes: u64,
    /// How the figure was reached, for the error message.
    pub why: String,
}

/// The estimated size of every file a run of `scn` writes.
pub fn estimate(scn: &Scenario, opts: &RunOptions) -> Vec<FileEstimate> {
    let (trace, charts) = (opts.trace, opts.charts);
    let mut v = Vec::new();
    let attempts = scn
        .clients
        .iter()
        .map(|c| c.arrivals.expected())
        .sum::<f64>()
        .min(opts.max_attempt_rows as f64) as u64;
    v.push(FileEstimate {
        name: "attempts.csv",
        bytes: attempts.saturating_mul(MIN_ROW_BYTES),
        why: format!("about {attempts} rows (at most --max-attempt-rows)"),
    });
    let rows = scn.duration.as_ns() / scn.sample_interval.as_ns().max(1) + 1;
    let states = TcpState::ALL.len() as u64 - 1;
    let columns = 1 + 2 * states + 4 * scn.listeners.len() as u64;
    let row_bytes = 5 + 2 * (columns - 1) + 1;
    v.push(FileEstimate {
        name: "timeline.csv",
        bytes: rows.saturating_mul(row_bytes),
        why: format!("{rows} rows x {columns} columns"),
    });
    if trace {
        let events = scn
            .clients
            .iter()
            .map(|c| c.arrivals.expected() * 12.0)
            .chain(scn.attackers.iter().map(|a| a.arrivals.expected() * 8.0))
            .sum::<f64>();
        v.push(FileEstimate {
            name: "events.jsonl",
            bytes: (events * TRACE_BYTES_PER_EVENT as f64).min(u64::MAX as f64) as u64,
            why: format!("about {events:.3e} events x {TRACE_BYTES_PER_EVENT} bytes"),
        });
    }
    if let Some(c) = &scn.capture {
        let packets = scn
            .clients
            .iter()
            .map(|c| c.arrivals.expected() * 6.0)
            .chain(scn.attackers.iter().map(|a| a.arrivals.expected()))
            .sum::<f64>();
        let one = ((packets * CAPTURE_BYTES_PER_PACKET as f64).min(u64::MAX as f64) as u64)
            .min(c.max_bytes)
            .min(c.max_packets.saturating_mul(CAPTURE_BYTES_PER_PACKET));
        let points = c
            .hosts
            .iter()
            .filter(|h| scn.listeners.iter().any(|l| l.host == **h))
            .count() as u64;
        v.push(FileEstimate {
            name: "captures",
            bytes: one.saturating_mul(points),
            why: format!(
                "{points} capture(s) of a listener host, about {packets:.3e} packets each (within capture.max_packets and max_bytes)"
            ),
        });
    }
    if charts {
        let (w, h) = (scn.charts.width_px as u64, scn.charts.height_px as u64);
        v.push(FileEstimate {
            name: "charts",
            bytes: 2 * 4 * w * h * 3,
            why: format!("four charts of {w} x {h} px"),
        });
    }
    v
}

/// Human size in binary units ("1.5 GiB").
pub fn human(bytes: u64) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{v:.1} {}", units[i])
    }
}

/// Refuses a run whose files would exceed `budget` bytes, naming the largest file.
pub fn check(scn: &Scenario, opts: &RunOptions) -> Result<(), String> {
    let budget = opts.max_output_bytes;
    let files = estimate(scn, opts);
    let total = files.iter().fold(0u64, |a, f| a.saturating_add(f.bytes));
    if total <= budget {
        return Ok(());
    }
    let big = files
        .iter()
        .max_by_key(|f| f.bytes)
        .expect("timeline.csv is always estimated");
    let hint = match big.name {
        "timeline.csv" => "raise sample_interval_ms or shorten duration_ms",
        "events.jsonl" => "run without --trace or lower the traffic",
        "attempts.csv" => "lower --max-attempt-rows",
        "captures" => {
            "capture fewer hosts, lower capture.max_bytes or sample spoofed flows (capture.spoofed_one_in)"
        }
        _ => "lower charts.width_px and charts.height_px",
    };
    Err(format!(
        "the output would take at least about {} ({} alone about {}: {}), above the output budget \
         of {}; {hint}, or pass --max-output-bytes N to allow more",
        human(total),
        big.name,
        human(big.bytes),
        big.why,
        human(budget)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(human(12), "12 bytes");
        assert_eq!(human(2 << 30), "2.0 GiB");
        assert_eq!(human(1536), "1.5 KiB");
    }
}
