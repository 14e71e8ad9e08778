//! The address table: every IP address the scenario mentions, interned to an [`AddrId`], and
//! the host that owns it (if any).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use crate::wire::{AddrId, Endpoint};

/// Index of a host in the scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostId(pub u32);

#[derive(Default, Debug, Clone)]
pub struct AddrTable {
    addrs: Vec<IpAddr>,
    owner: Vec<Option<HostId>>,
    index: BTreeMap<IpAddr, AddrId>,
    /// `"a.b.c.d:"`-style prefixes for fast endpoint formatting.
    text: Vec<String>,
}

impl AddrTable {
    pub fn intern(&mut self, ip: IpAddr) -> AddrId {
        if let Some(&id) = self.index.get(&ip) {
            return id;
        }
        let id = AddrId(self.addrs.len() as u32);
        self.addrs.push(ip);
        self.owner.push(None);
        self.index.insert(ip, id);
        self.text.push(match ip {
            IpAddr::V4(a) => a.to_string(),
            IpAddr::V6(a) => format!("[{a}]"),
        });
        id
    }
    pub fn set_owner(&mut self, id: AddrId, host: HostId) {
        self.owner[id.0 as usize] = Some(host);
    }
    pub fn owner(&self, id: AddrId) -> Option<HostId> {
        self.owner[id.0 as usize]
    }
    pub fn get(&self, id: AddrId) -> IpAddr {
        self.addrs[id.0 as usize]
    }
    pub fn find(&self, ip: &IpAddr) -> Option<AddrId> {
        self.index.get(ip).copied()
    }
    pub fn len(&self) -> usize {
        self.addrs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.addrs.is_empty()
    }
    /// Writes `addr:port` (IPv6 in brackets) without allocating.
    pub fn write_endpoint(&self, out: &mut String, e: Endpoint) {
        out.push_str(&self.text[e.addr.0 as usize]);
        let _ = write!(out, ":{}", e.port);
    }
    pub fn endpoint_string(&self, e: Endpoint) -> String {
        let mut s = String::new();
        self.write_endpoint(&mut s, e);
        s
    }
}
