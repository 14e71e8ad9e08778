//! `network`: the default path, per-pair paths, scripted drop rules and the ICMP router.

use super::{HostIndex, Validator, at, k, shown};
use crate::net::{DropRule, IcmpSpec, LossModel, PathSpec};
use crate::scenario::raw::{RawDropRule, RawIcmpCode, RawLoss, RawNetwork, RawPath};
use crate::scenario::{ScenarioError, Seg};
use crate::spec::NetworkSpec;
use crate::time::SimTime;
use crate::wire::{Flags, IcmpCode};

impl Validator<'_> {
    pub(super) fn network(
        &self,
        n: &RawNetwork,
        hosts: &HostIndex,
    ) -> Result<NetworkSpec, ScenarioError> {
        let np = [k("network")];
        let default_path = PathSpec {
            latency: self.ms(&at(&np, "latency_ms"), n.latency_ms)?,
            jitter: self.ms(&at(&np, "jitter_ms"), n.jitter_ms)?,
            loss: self.loss(&at(&np, "loss"), &n.loss)?,
        };
        let mut paths = Vec::with_capacity(n.paths.len());
        for (i, p) in n.paths.iter().enumerate() {
            let pp = [&np[..], &[k("paths"), Seg::Index(i)]].concat();
            self.path(&pp, p, hosts, &default_path, &mut paths)?;
        }
        let mut rules = Vec::with_capacity(n.drop.len());
        for (i, r) in n.drop.iter().enumerate() {
            let rp = [&np[..], &[k("drop"), Seg::Index(i)]].concat();
            rules.push(self.drop_rule(&rp, r, hosts)?);
        }
        let icmp = if n.icmp_unreachable {
            let interval = self.ms(&at(&np, "icmp_interval_ms"), n.icmp_interval_ms)?;
            if n.icmp_burst == 0 {
                return Err(self.err(&at(&np, "icmp_burst"), "must be >= 1"));
            }
            Some(IcmpSpec {
                interval,
                burst: n.icmp_burst,
                code: match n.icmp_code {
                    RawIcmpCode::NetUnreachable => IcmpCode::NetUnreachable,
                    RawIcmpCode::HostUnreachable => IcmpCode::HostUnreachable,
                    RawIcmpCode::AdminProhibited => IcmpCode::AdminProhibited,
                },
            })
        } else {
            None
        };
        Ok(NetworkSpec {
            default_path,
            paths,
            rules,
            icmp,
        })
    }

    fn loss(&self, path: &[Seg], l: &RawLoss) -> Result<LossModel, ScenarioError> {
        Ok(match l {
            RawLoss::None => LossModel::None,
            RawLoss::Bernoulli { p } => LossModel::Bernoulli {
                p: self.prob(&at(path, "p"), *p)?,
            },
            RawLoss::GilbertElliott {
                p_good_bad,
                p_bad_good,
                loss_good,
                loss_bad,
            } => LossModel::GilbertElliott {
                p_good_bad: self.prob(&at(path, "p_good_bad"), *p_good_bad)?,
                p_bad_good: self.prob(&at(path, "p_bad_good"), *p_bad_good)?,
                loss_good: self.prob(&at(path, "loss_good"), *loss_good)?,
                loss_bad: self.prob(&at(path, "loss_bad"), *loss_bad)?,
                bad: false,
            },
        })
    }

    /// One `paths[i]` entry; `both_ways` adds the reverse direction first.
    fn path(
        &self,
        pp: &[Seg],
        p: &RawPath,
        hosts: &HostIndex,
        default_path: &PathSpec,
        out: &mut Vec<((crate::net::HostId, crate::net::HostId), PathSpec)>,
    ) -> Result<(), ScenarioError> {
        let from = self.host_id(&at(pp, "from"), hosts, &p.from)?;
        let to = self.host_id(&at(pp, "to"), hosts, &p.to)?;
        let spec = PathSpec {
            latency: match p.latency_ms {
                Some(v) => self.ms(&at(pp, "latency_ms"), v)?,
                None => default_path.latency,
            },
            jitter: match p.jitter_ms {
                Some(v) => self.ms(&at(pp, "jitter_ms"), v)?,
                None => default_path.jitter,
            },
            loss: match &p.loss {
                Some(l) => self.loss(&at(pp, "loss"), l)?,
                None => default_path.loss.clone(),
            },
        };
        if p.both_ways {
            out.push(((to, from), spec.clone()));
        }
        out.push(((from, to), spec));
        Ok(())
    }

    fn drop_rule(
        &self,
        rp: &[Seg],
        r: &RawDropRule,
        hosts: &HostIndex,
    ) -> Result<DropRule, ScenarioError> {
        let from = match &r.from {
            Some(h) => Some(self.host_id(&at(rp, "from"), hosts, h)?),
            None => None,
        };
        let to = match &r.to {
            Some(h) => Some(self.host_id(&at(rp, "to"), hosts, h)?),
            None => None,
        };
        let flags = match &r.flags {
            Some(f) => Some(Flags::parse(f).ok_or_else(|| {
                self.err(
                    &at(rp, "flags"),
                    format!(
                        "{}: flags are a comma list of SYN, ACK, FIN, RST, PSH",
                        shown(f)
                    ),
                )
            })?),
            None => None,
        };
        if r.nth.contains(&0) {
            return Err(self.err(&at(rp, "nth"), "nth counts from 1"));
        }
        let window = match r.window_ms {
            Some([a, b]) => {
                let wp = at(rp, "window_ms");
                let (a, b) = (self.ms(&wp, a)?, self.ms(&wp, b)?);
                if b < a {
                    return Err(self.err(&wp, "window end before start"));
                }
                Some((SimTime::ZERO + a, SimTime::ZERO + b))
            }
            None => None,
        };
        if r.nth.is_empty() && window.is_none() {
            return Err(self.err(rp, "a drop rule needs `nth` or `window_ms`"));
        }
        Ok(DropRule::new(from, to, flags, r.nth.clone(), window))
    }
}
