//! `clients` and the arrival processes shared with the attackers.

use std::collections::HashSet;
use std::net::IpAddr;

use super::{HostIndex, Validator, at, k, shown};
use crate::net::HostId;
use crate::scenario::raw::{RawAddrPool, RawArrivals, RawClient};
use crate::scenario::{ScenarioError, Seg};
use crate::spec::{AddrPool, Arrivals, ClientSpec};
use crate::time::{SimDuration, SimTime};
use crate::wire::MAX_PAYLOAD;

impl Validator<'_> {
    pub(super) fn clients(
        &self,
        raw: &[RawClient],
        hosts: &HostIndex,
        end: SimTime,
    ) -> Result<Vec<ClientSpec>, ScenarioError> {
        let mut clients = Vec::with_capacity(raw.len());
        let mut names = HashSet::with_capacity(raw.len());
        for (i, c) in raw.iter().enumerate() {
            let cp = [k("clients"), Seg::Index(i)];
            self.name(&at(&cp, "name"), "client", &c.name)?;
            if !names.insert(c.name.as_str()) {
                return Err(self.err(
                    &at(&cp, "name"),
                    format!("duplicate client name {:?}", c.name),
                ));
            }
            clients.push(self.client(&cp, c, hosts, end)?);
        }
        self.pools_disjoint(&clients, hosts)?;
        Ok(clients)
    }

    /// A pool's addresses belong to its client's host: none may be another host's address
    /// or inside a pool of a client on another host (the network routes by owner).
    fn pools_disjoint(
        &self,
        clients: &[ClientSpec],
        hosts: &HostIndex,
    ) -> Result<(), ScenarioError> {
        let n = |ip: IpAddr| match ip {
            IpAddr::V4(a) => u128::from(u32::from(a)),
            IpAddr::V6(a) => u128::from(a),
        };
        // (family, first, last, host, client index) of every pool, sorted.
        let mut spans: Vec<(bool, u128, u128, HostId, usize)> = clients
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let p = c.pool?;
                let lo = n(p.base);
                Some((
                    p.base.is_ipv4(),
                    lo,
                    lo + u128::from(p.count - 1),
                    c.host,
                    i,
                ))
            })
            .collect();
        if spans.is_empty() {
            return Ok(());
        }
        spans.sort_unstable();
        let here = |i: usize| [k("clients"), Seg::Index(i), k("addrs")];
        for w in spans.windows(2) {
            let (a, b) = (w[0], w[1]);
            if a.0 == b.0 && b.1 <= a.2 && a.3 != b.3 {
                let i = a.4.max(b.4);
                let other = &clients[a.4.min(b.4)].name;
                return Err(self.err(
                    &here(i),
                    format!("pool overlaps the pool of client {other:?}, on another host"),
                ));
            }
        }
        // Overlapping spans now all belong to one host: merge them, so at most one can
        // hold an address.
        let mut merged: Vec<(bool, u128, u128, HostId, usize)> = Vec::with_capacity(spans.len());
        for s in spans {
            match merged.last_mut() {
                Some(m) if m.0 == s.0 && s.1 <= m.2 => m.2 = m.2.max(s.2),
                _ => merged.push(s),
            }
        }
        for (h, spec) in hosts.hosts.iter().enumerate() {
            for &ip in &spec.addrs {
                let x = n(ip);
                let end = merged.partition_point(|s| (s.0, s.1) <= (ip.is_ipv4(), x));
                if let Some(s) = end.checked_sub(1).map(|j| merged[j]) {
                    if s.0 == ip.is_ipv4() && x <= s.2 && s.3 != HostId(h as u32) {
                        return Err(self.err(
                            &here(s.4),
                            format!("pool holds {ip}, an address of host {:?}", spec.name),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn client(
        &self,
        cp: &[Seg],
        c: &RawClient,
        hosts: &HostIndex,
        end: SimTime,
    ) -> Result<ClientSpec, ScenarioError> {
        let host = self.host_id(&at(cp, "host"), hosts, &c.host)?;
        let target = self.socket(&at(cp, "target"), &c.target)?;
        let hs = hosts.spec(host);
        let pool = match &c.addrs {
            Some(RawAddrPool::Range { base, count, draw }) => {
                let pp = at(cp, "addrs");
                if c.addr.is_some() {
                    return Err(self.err(&pp, "give addr or addrs, not both"));
                }
                let (base, count) =
                    self.addr_range(&pp, base, *count, target.is_ipv4(), "pool addresses")?;
                Some(AddrPool {
                    base,
                    count,
                    draw: *draw,
                })
            }
            None => None,
        };
        let addr = match &c.addr {
            _ if pool.is_some() => pool.expect("checked").base,
            Some(a) => {
                let ap = at(cp, "addr");
                let ip: IpAddr = a
                    .parse()
                    .map_err(|_| self.err(&ap, format!("{} is not an IP address", shown(a))))?;
                if !hs.addrs.contains(&ip) {
                    return Err(
                        self.err(&ap, format!("{ip} is not an address of host {:?}", hs.name))
                    );
                }
                ip
            }
            None => *hs
                .addrs
                .iter()
                .find(|a| a.is_ipv4() == target.is_ipv4())
                .ok_or_else(|| {
                    self.err(
                        &at(cp, "target"),
                        format!("host {:?} has no address of the target's family", hs.name),
                    )
                })?,
        };
        if addr.is_ipv4() != target.is_ipv4() {
            return Err(self.err(&at(cp, "addr"), "source and target address families differ"));
        }
        let arrivals = self.arrivals(&at(cp, "arrivals"), &c.arrivals, end)?;
        let send = c.send.clone().unwrap_or_default().into_bytes();
        if send.len() > MAX_PAYLOAD {
            return Err(self.err(
                &at(cp, "send"),
                format!("message is {} bytes; at most {MAX_PAYLOAD}", send.len()),
            ));
        }
        Ok(ClientSpec {
            name: c.name.clone(),
            host,
            addr,
            pool,
            target,
            arrivals,
            send,
            send_delay: self.ms(&at(cp, "send_delay_ms"), c.send_delay_ms)?,
            expect_reply: c.expect_reply,
            close: c.close,
            connect_mode: c.connect_mode,
        })
    }

    /// `start_ms`/`stop_ms` under `path`, clipped to the run's end.
    fn window(
        &self,
        path: &[Seg],
        start: f64,
        stop: Option<f64>,
        end: SimTime,
    ) -> Result<(SimTime, SimTime), ScenarioError> {
        let s = SimTime::ZERO + self.ms(&at(path, "start_ms"), start)?;
        let e = match stop {
            Some(v) => SimTime::ZERO + self.ms(&at(path, "stop_ms"), v)?,
            None => end,
        };
        if e < s {
            return Err(self.err(&at(path, "stop_ms"), "stop_ms must not be before start_ms"));
        }
        Ok((s, e.min(end)))
    }

    pub(super) fn arrivals(
        &self,
        path: &[Seg],
        a: &RawArrivals,
        end: SimTime,
    ) -> Result<Arrivals, ScenarioError> {
        Ok(match a {
            RawArrivals::Times { times_ms } => {
                let mut v = Vec::with_capacity(times_ms.len());
                for (i, t) in times_ms.iter().enumerate() {
                    let p = [path, &[k("times_ms"), Seg::Index(i)]].concat();
                    v.push(SimTime::ZERO + self.ms(&p, *t)?);
                }
                v.sort();
                Arrivals::Times(v)
            }
            RawArrivals::Constant {
                rate_per_s,
                start_ms,
                stop_ms,
                max,
            } => {
                let r = self.rate(&at(path, "rate_per_s"), *rate_per_s)?;
                let (start, stop) = self.window(path, *start_ms, *stop_ms, end)?;
                let interval = SimDuration::from_ms_f64(1000.0 / r);
                if interval.as_ns() == 0 {
                    return Err(self.err(
                        &at(path, "rate_per_s"),
                        "rate above 1e9 per second (interval below 1 ns)",
                    ));
                }
                Arrivals::Constant {
                    interval,
                    start,
                    stop,
                    max: max.unwrap_or(u64::MAX),
                }
            }
            RawArrivals::Poisson {
                rate_per_s,
                start_ms,
                stop_ms,
                max,
            } => {
                let r = self.rate(&at(path, "rate_per_s"), *rate_per_s)?;
                // Gaps are whole nanoseconds: with a mean gap below 1 ns most round to 0 and
                // arrivals pile up at one instant without end.
                if r > 1e9 {
                    return Err(self.err(
                        &at(path, "rate_per_s"),
                        "rate above 1e9 per second (mean interval below 1 ns)",
                    ));
                }
                let (start, stop) = self.window(path, *start_ms, *stop_ms, end)?;
                Arrivals::Poisson {
                    rate_per_s: r,
                    start,
                    stop,
                    max: max.unwrap_or(u64::MAX),
                }
            }
        })
    }
}
