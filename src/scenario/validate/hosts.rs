//! `hosts`: names, addresses (unique across hosts), profile and stack, liveness and crashes.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use super::{Validator, at, k, shown};
use crate::scenario::raw::{RawCrash, RawHost};
use crate::scenario::{ScenarioError, Seg};
use crate::spec::HostSpec;
use crate::tcp::Profile;
use crate::time::SimTime;

impl Validator<'_> {
    pub(super) fn hosts(&self, raw: &[RawHost]) -> Result<Vec<HostSpec>, ScenarioError> {
        if raw.is_empty() {
            return Err(self.err(&[k("hosts")], "at least one host is required"));
        }
        let mut hosts = Vec::with_capacity(raw.len());
        let mut names: HashSet<&str> = HashSet::with_capacity(raw.len());
        // Address -> index of the host that has it.
        let mut owners: HashMap<IpAddr, usize> = HashMap::with_capacity(raw.len());
        for (i, h) in raw.iter().enumerate() {
            let p = [k("hosts"), Seg::Index(i)];
            self.name(&at(&p, "name"), "host", &h.name)?;
            if !names.insert(&h.name) {
                return Err(self.err(&at(&p, "name"), format!("duplicate host name {:?}", h.name)));
            }
            if h.addrs.is_empty() {
                return Err(self.err(&at(&p, "addrs"), "a host needs at least one address"));
            }
            let mut addrs = Vec::with_capacity(h.addrs.len());
            for (j, a) in h.addrs.iter().enumerate() {
                let ap = [&p[..], &[k("addrs"), Seg::Index(j)]].concat();
                let ip: IpAddr = a.parse().map_err(|_| {
                    self.err(&ap, format!("{} is not an IPv4 or IPv6 address", shown(a)))
                })?;
                if let Some(&other) = owners.get(&ip) {
                    return Err(self.err(
                        &ap,
                        format!("address {ip} already belongs to host {:?}", raw[other].name),
                    ));
                }
                owners.insert(ip, i);
                addrs.push(ip);
            }
            let profile = Profile::parse(&h.profile).ok_or_else(|| {
                self.err(
                    &at(&p, "profile"),
                    format!(
                        "unknown profile {} (linux, linux5, freebsd, rfc9293)",
                        shown(&h.profile)
                    ),
                )
            })?;
            let stack = self.stack(&at(&p, "stack"), profile, &h.stack)?;
            if !h.alive && !h.crashes.is_empty() {
                // A restart would bring up a host that never booted (its listeners opened twice).
                return Err(self.err(
                    &at(&p, "crashes"),
                    "a host with alive: false is dead for the whole run and cannot crash or restart; remove its crashes or set alive: true",
                ));
            }
            hosts.push(HostSpec {
                name: h.name.clone(),
                addrs,
                profile,
                stack,
                alive: h.alive,
                crashes: self.crashes(&p, &h.crashes)?,
            });
        }
        Ok(hosts)
    }

    /// Crash and restart times, in order, each restart after its crash.
    #[allow(clippy::type_complexity)]
    fn crashes(
        &self,
        p: &[Seg],
        raw: &[RawCrash],
    ) -> Result<Vec<(SimTime, Option<SimTime>)>, ScenarioError> {
        let mut crashes: Vec<(SimTime, Option<SimTime>)> = Vec::with_capacity(raw.len());
        let mut last = SimTime::ZERO;
        for (j, c) in raw.iter().enumerate() {
            let cp = [p, &[k("crashes"), Seg::Index(j)]].concat();
            let at_t = SimTime::ZERO + self.ms(&at(&cp, "at_ms"), c.at_ms)?;
            if at_t < last || crashes.last().is_some_and(|&(_, r)| r.is_none()) {
                return Err(self.err(
                    &cp,
                    "crashes must be in time order, each after the previous restart",
                ));
            }
            let restart = match c.restart_ms {
                Some(r) => {
                    let r = SimTime::ZERO + self.ms(&at(&cp, "restart_ms"), r)?;
                    if r <= at_t {
                        return Err(
                            self.err(&at(&cp, "restart_ms"), "restart_ms must be after at_ms")
                        );
                    }
                    last = r;
                    Some(r)
                }
                None => None,
            };
            crashes.push((at_t, restart));
        }
        Ok(crashes)
    }
}
