//! `capture`: which hosts get a pcapng capture, and its caps.

use super::{Validator, k, shown};
use crate::net::HostId;
use crate::scenario::raw::{RawCapture, RawCaptureHosts};
use crate::scenario::{ScenarioError, Seg};
use crate::spec::{CaptureSpec, HostSpec, ListenerSpec};

/// Captures one run writes at most: each is a file held open for the whole run.
pub const MAX_CAPTURE_POINTS: usize = 256;

/// The capture points a word or a list of names stands for, in scenario host order; the
/// error names the offending word or host. `"listeners"`: every host with a listener.
pub fn capture_hosts(
    hosts: &[HostSpec],
    listeners: &[ListenerSpec],
    which: &RawCaptureHosts,
) -> Result<Vec<HostId>, (Option<usize>, String)> {
    let mut picked = vec![false; hosts.len()];
    match which {
        RawCaptureHosts::Word(w) if w == "all" => picked.iter_mut().for_each(|p| *p = true),
        RawCaptureHosts::Word(w) if w == "listeners" => {
            for l in listeners {
                picked[l.host.0 as usize] = true;
            }
        }
        RawCaptureHosts::Word(w) => {
            return Err((
                None,
                format!(
                    "{}: use \"listeners\", \"all\" or a list of host names",
                    shown(w)
                ),
            ));
        }
        RawCaptureHosts::Names(names) => {
            for (i, n) in names.iter().enumerate() {
                let Some(h) = hosts.iter().position(|h| &h.name == n) else {
                    return Err((Some(i), format!("no host named {}", shown(n))));
                };
                picked[h] = true;
            }
        }
    }
    let picked: Vec<HostId> = (0..hosts.len() as u32)
        .filter(|&h| picked[h as usize])
        .map(HostId)
        .collect();
    if picked.len() > MAX_CAPTURE_POINTS {
        return Err((
            None,
            format!(
                "{} capture points; a run writes at most {MAX_CAPTURE_POINTS} captures (each is a file held open): name the hosts to capture",
                picked.len()
            ),
        ));
    }
    Ok(picked)
}

impl Validator<'_> {
    pub(super) fn capture(
        &self,
        c: &RawCapture,
        hosts: &[HostSpec],
        listeners: &[ListenerSpec],
    ) -> Result<CaptureSpec, ScenarioError> {
        let which = c
            .hosts
            .clone()
            .unwrap_or(RawCaptureHosts::Word("listeners".into()));
        let picked = capture_hosts(hosts, listeners, &which).map_err(|(i, msg)| {
            let mut p = vec![k("capture"), k("hosts")];
            p.extend(i.map(Seg::Index));
            self.err(&p, msg)
        })?;
        for (f, v) in [
            ("max_packets", c.max_packets),
            ("max_bytes", c.max_bytes),
            ("spoofed_one_in", c.spoofed_one_in),
        ] {
            if v == 0 {
                return Err(self.err(&[k("capture"), k(f)], "must be >= 1"));
            }
        }
        Ok(CaptureSpec {
            hosts: picked,
            max_packets: c.max_packets,
            max_bytes: c.max_bytes,
            spoofed_one_in: c.spoofed_one_in,
        })
    }
}
