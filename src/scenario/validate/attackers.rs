//! `attackers`: SYN floods, their rates and where their SYNs claim to come from.

use std::collections::HashSet;
use std::net::IpAddr;

use super::{HostIndex, Validator, at, k, shown};
use crate::scenario::raw::{RawArrivals, RawAttacker, RawFloodArrivals, RawSpoof};
use crate::scenario::{ScenarioError, Seg};
use crate::spec::{AttackerSpec, Spoof};
use crate::time::SimTime;

/// Most addresses a spoof range may span.
const MAX_SPOOF_COUNT: u64 = 1 << 24;

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
                let ip: IpAddr = base.parse().map_err(|_| {
                    self.err(
                        &at(sp, "base"),
                        format!("{} is not an IP address", shown(base)),
                    )
                })?;
                if *count == 0 || *count > MAX_SPOOF_COUNT {
                    return Err(self.err(&at(sp, "count"), "count must be within 1..=16777216"));
                }
                if ip.is_ipv4() != target.is_ipv4() {
                    return Err(self.err(
                        &at(sp, "base"),
                        "spoofed addresses must be of the target's family",
                    ));
                }
                // The range's last address, base + count - 1, must exist (IPv4 and IPv6
                // alike): the engine adds an offset below `count` to the base.
                let (base_n, last, top) = match ip {
                    IpAddr::V4(v4) => (
                        u128::from(u32::from(v4)),
                        u128::from(u32::MAX),
                        "255.255.255.255",
                    ),
                    IpAddr::V6(v6) => (
                        u128::from(v6),
                        u128::MAX,
                        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                    ),
                };
                if last - base_n < u128::from(*count - 1) {
                    return Err(self.err(
                        &at(sp, "count"),
                        format!(
                            "{count} addresses from {ip} run past {top}: lower count or base (at most {} from this base)",
                            last - base_n + 1
                        ),
                    ));
                }
                Spoof::Range {
                    base: ip,
                    count: *count,
                }
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
