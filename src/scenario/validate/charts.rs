//! `charts`: image size and the ladder diagram's choice and limits.

use super::{Validator, k};
use crate::scenario::ScenarioError;
use crate::scenario::locate::Seg;
use crate::scenario::raw::{RawCharts, RawLadderPick};
use crate::sim::Outcome;
use crate::spec::{AttackerSpec, ChartSpec, ClientSpec, LadderPick};

impl Validator<'_> {
    pub(super) fn charts(
        &self,
        ch: &RawCharts,
        clients: &[ClientSpec],
        attackers: &[AttackerSpec],
    ) -> Result<ChartSpec, ScenarioError> {
        for (f, v) in [("width_px", ch.width_px), ("height_px", ch.height_px)] {
            if !(200..=8000).contains(&v) {
                return Err(self.err(
                    &[k("charts"), k(f)],
                    format!("{v}: must be within 200..=8000"),
                ));
            }
        }
        if ch.ladder_max_segments > 500 {
            return Err(self.err(&[k("charts"), k("ladder_max_segments")], "at most 500"));
        }
        let ladder = match &ch.ladder {
            None => LadderPick::defaults(),
            Some(list) => {
                if list.len() > 32 {
                    return Err(self.err(&[k("charts"), k("ladder")], "at most 32 entries"));
                }
                let mut picks = Vec::with_capacity(list.len());
                for (i, p) in list.iter().enumerate() {
                    let path = [k("charts"), k("ladder"), Seg::Index(i)];
                    let pick =
                        ladder_pick(p, clients, attackers).map_err(|m| self.err(&path, m))?;
                    picks.push(pick);
                }
                picks
            }
        };
        Ok(ChartSpec {
            width_px: ch.width_px,
            height_px: ch.height_px,
            ladder_connections: ch.ladder_connections,
            ladder_max_segments: ch.ladder_max_segments,
            ladder,
        })
    }
}

/// The words `charts.ladder` accepts, for error messages.
const RULES: &str = "\"first\", \"first_retransmitted\", \"first_<outcome>\" (established, \
timed_out, refused, unreachable, reset), \"first_during:<attacker>\", \"<client>:<attempt>\" \
or an attempt number of the first client";

fn ladder_pick(
    p: &RawLadderPick,
    clients: &[ClientSpec],
    attackers: &[AttackerSpec],
) -> Result<LadderPick, String> {
    let s = match p {
        RawLadderPick::Attempt(n) if clients.is_empty() => {
            return Err(format!("attempt {n}: the scenario has no clients"));
        }
        RawLadderPick::Attempt(n) => {
            return Ok(LadderPick::Attempt {
                client: 0,
                attempt: *n,
            });
        }
        RawLadderPick::Rule(s) => s.as_str(),
    };
    match s {
        "first" => return Ok(LadderPick::First),
        "first_retransmitted" => return Ok(LadderPick::FirstRetransmitted),
        _ => {}
    }
    if let Some(name) = s.strip_prefix("first_during:") {
        let Some(a) = attackers.iter().find(|a| a.name == name) else {
            let names: Vec<&str> = attackers.iter().map(|a| a.name.as_str()).collect();
            return Err(format!(
                "`{s}`: no attacker named `{name}` (attackers: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ));
        };
        let (start, stop) = a.arrivals.window();
        return Ok(LadderPick::FirstDuring {
            attacker: a.name.clone(),
            start,
            stop,
        });
    }
    if let Some(o) = s.strip_prefix("first_") {
        if let Some(&o) = Outcome::ALL
            .iter()
            .find(|x| x.name() == o && **x != Outcome::Aborted)
        {
            return Ok(LadderPick::FirstOutcome(o));
        }
    }
    if let Some((name, n)) = s.rsplit_once(':') {
        let Some(ci) = clients.iter().position(|c| c.name == name) else {
            return Err(format!("`{s}`: no client named `{name}`"));
        };
        let attempt = n
            .parse::<u64>()
            .map_err(|_| format!("`{s}`: `{n}` is not an attempt number"))?;
        return Ok(LadderPick::Attempt {
            client: ci as u32,
            attempt,
        });
    }
    Err(format!("`{s}`: unknown ladder choice (use {RULES})"))
}
