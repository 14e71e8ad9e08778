//! `attackers`: SYN floods, their rates and where their SYNs claim to come from.

use std::collections::HashSet;
use std::net::IpAddr;

use super::{HostIndex, Validator, at, k};
use crate::scenario::raw::{RawArrivals, RawAttacker, RawFloodArrivals, RawSpoof};
use crate::scenario::{ScenarioError, Seg};
use crate::spec::{AttackerSpec, Spoof};
use crate::time::SimTime;

impl Validator<'_> {
    pub(super) fn attackers(
        &self,
        raw: &[RawAttacker],
        hosts: &HostIndex,
        end: SimTime,
    ) -> Result<Vec<AttackerSpec>, ScenarioError> {
        let mut attackers = Vec::with_capacity(raw.len());
        let mut names = HashSet::with_capacity(raw.len());
        for (i, a) in raw.iter().enumerate() {
            let ap = [k("attackers"), Seg::Index(i)];
            self.name(&at(&ap, "name"), "attacker", &a.name)?;
            // Each attacker's random streams are keyed by its name: two attackers of one name
            // would send the very same SYNs.
            if !names.insert(a.name.as_str()) {
                return Err(self.err(
                    &at(&ap, "name"),
                    format!("duplicate attacker name {:?}", a.name),
                ));
            }
            let host = self.host_id(&at(&ap, "host"), hosts, &a.host)?;
            let target = self.socket(&at(&ap, "target"), &a.target)?;
            let rate = self.rate(&at(&ap, "rate_per_s"), a.rate_per_s)?;
            let raw_arr = match a.arrivals {
                RawFloodArrivals::Constant => RawArrivals::Constant {
                    rate_per_s: rate,
                    start_ms: a.start_ms,
                    stop_ms: a.stop_ms,
                    max: None,
                },
                RawFloodArrivals::Poisson => RawArrivals::Poisson {
                    rate_per_s: rate,
                    start_ms: a.start_ms,
                    stop_ms: a.stop_ms,
                    max: None,
                },
            };
            let arrivals = self.arrivals(&ap, &raw_arr, end)?;
            let spoof = self.spoof(&at(&ap, "spoof"), &a.spoof, target.ip(), hosts)?;
            attackers.push(AttackerSpec {
                name: a.name.clone(),
                host,
                target,
                arrivals,
                spoof,
            });
        }
        Ok(attackers)
    }

    fn spoof(
        &self,
        sp: &[Seg],
        s: &RawSpoof,
        target: IpAddr,
        hosts: &HostIndex,
    ) -> Result<Spoof, ScenarioError> {
        Ok(match s {
            RawSpoof::None => Spoof::Own,
            RawSpoof::Range { base, count } => {
                let (base, count) =
                    self.addr_range(sp, base, *count, target.is_ipv4(), "spoofed addresses")?;
                Spoof::Range { base, count }
            }
            RawSpoof::Hosts { hosts: names } => {
                if names.is_empty() {
                    return Err(self.err(&at(sp, "hosts"), "at least one host"));
                }
                let mut ids = Vec::with_capacity(names.len());
                for (j, nm) in names.iter().enumerate() {
                    let p = [sp, &[k("hosts"), Seg::Index(j)]].concat();
                    ids.push(self.host_id(&p, hosts, nm)?);
                }
                Spoof::Hosts(ids)
            }
        })
    }
}
