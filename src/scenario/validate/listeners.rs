//! `listeners`: one per host and port.

use std::collections::HashSet;

use super::{HostIndex, Validator, at, k};
use crate::scenario::raw::{RawAccept, RawListener};
use crate::scenario::{ScenarioError, Seg};
use crate::spec::AcceptPolicy;
use crate::spec::ListenerSpec;
use crate::time::SimDuration;

impl Validator<'_> {
    pub(super) fn listeners(
        &self,
        raw: &[RawListener],
        hosts: &HostIndex,
    ) -> Result<Vec<ListenerSpec>, ScenarioError> {
        let mut listeners = Vec::with_capacity(raw.len());
        let mut seen = HashSet::with_capacity(raw.len());
        for (i, l) in raw.iter().enumerate() {
            let lp = [k("listeners"), Seg::Index(i)];
            let host = self.host_id(&at(&lp, "host"), hosts, &l.host)?;
            if l.port == 0 {
                return Err(self.err(&at(&lp, "port"), "port must be 1..65535"));
            }
            if !seen.insert((host, l.port)) {
                return Err(self.err(
                    &at(&lp, "port"),
                    format!("host {:?} already listens on port {}", l.host, l.port),
                ));
            }
            if l.backlog == 0 {
                return Err(self.err(&at(&lp, "backlog"), "backlog must be >= 1"));
            }
            if l.backlog > 1 << 40 {
                return Err(self.err(&at(&lp, "backlog"), "backlog above 2^40 is not supported"));
            }
            let ap = at(&lp, "accept");
            let accept = match &l.accept {
                RawAccept::Immediate => AcceptPolicy::Immediate,
                RawAccept::Never => AcceptPolicy::Never,
                RawAccept::Delay { delay_ms } => {
                    AcceptPolicy::Delay(self.ms(&at(&ap, "delay_ms"), *delay_ms)?)
                }
                RawAccept::Rate { rate_per_s } => {
                    let r = self.rate(&at(&ap, "rate_per_s"), *rate_per_s)?;
                    AcceptPolicy::Rate(SimDuration::from_ms_f64(1000.0 / r).max(SimDuration(1)))
                }
            };
            listeners.push(ListenerSpec {
                host,
                port: l.port,
                backlog: l.backlog,
                accept,
                app: l.app,
            });
        }
        Ok(listeners)
    }
}
