//! The address table: every IP address the scenario mentions, interned to an [`AddrId`], and
//! the host that owns it (if any).
//!
//! Ids are handed out in first-use order, so they are deterministic whatever the hash map does.
//! A spoofing attacker interns each new source address on the hot path: interning is a hash
//! lookup plus, for a new address, two pushes; the text of an address is only produced when an
//! endpoint is written (trace), straight from the address.

use std::fmt::Write as _;
use std::net::IpAddr;

use rustc_hash::FxHashMap;

use crate::wire::{AddrId, Endpoint};

/// Index of a host in the scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostId(pub u32);

#[derive(Default, Debug, Clone)]
pub struct AddrTable {
    addrs: Vec<IpAddr>,
    owner: Vec<Option<HostId>>,
    /// Lookups only; never iterated.
    index: FxHashMap<IpAddr, AddrId>,
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
        id
    }
    /// Interns `ip` as an address of `host` (a client's pool address, on first use).
    pub fn intern_owned(&mut self, ip: IpAddr, host: HostId) -> AddrId {
        let id = self.intern(ip);
        self.set_owner(id, host);
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
        match self.addrs[e.addr.0 as usize] {
            IpAddr::V4(a) => {
                for (i, octet) in a.octets().into_iter().enumerate() {
                    if i > 0 {
                        out.push('.');
                    }
                    push_decimal(out, octet as u32);
                }
            }
            IpAddr::V6(a) => {
                let _ = write!(out, "[{a}]");
            }
        }
        out.push(':');
        push_decimal(out, e.port as u32);
    }
    pub fn endpoint_string(&self, e: Endpoint) -> String {
        let mut s = String::new();
        self.write_endpoint(&mut s, e);
        s
    }
}

/// The address `i` places after `base`, in its family (the caller keeps `base + i` inside the
/// address space: the loader checks every range's last address).
pub fn offset_addr(base: IpAddr, i: u64) -> IpAddr {
    match base {
        IpAddr::V4(a) => IpAddr::V4((u32::from(a).wrapping_add(i as u32)).into()),
        IpAddr::V6(a) => IpAddr::V6((u128::from(a).wrapping_add(u128::from(i))).into()),
    }
}

/// Appends `n` in decimal (what `write!("{n}")` produces, without the formatting machinery).
fn push_decimal(out: &mut String, n: u32) {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&buf[i..]).expect("ASCII digits"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_written_like_display() {
        let mut t = AddrTable::default();
        for (ip, port) in [
            ("0.0.0.0", 0u16),
            ("10.0.4.1", 80),
            ("198.18.255.7", 65535),
            ("255.255.255.255", 9),
            ("fd00::1", 7000),
            ("::", 1),
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            let id = t.intern(ip);
            assert_eq!(t.intern(ip), id, "interning is idempotent");
            let want = match ip {
                IpAddr::V4(a) => format!("{a}:{port}"),
                IpAddr::V6(a) => format!("[{a}]:{port}"),
            };
            assert_eq!(t.endpoint_string(Endpoint { addr: id, port }), want);
        }
        assert_eq!(t.len(), 6);
    }
}
