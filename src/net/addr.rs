//! The address table: every IP address the scenario mentions, interned to an [`AddrId`], and
//! the host that owns it (if any).
//!
//! Two kinds of ids:
//! - **Interned** (below [`BLOCK_BASE`]): the hosts', the client pools' and the targets'
//!   addresses, handed out in first-use order (deterministic whatever the hash map does).
//! - **Blocks** (from [`BLOCK_BASE`] up): a spoofing attacker's address range is one block of
//!   consecutive ids registered before anything else, so drawing a spoofed source is
//!   arithmetic (`first id + offset`), with no hash lookup and no memory per address drawn,
//!   however wide the range and however long the run. An address inside a block is always
//!   that block id, whoever asks (`intern` of a host or pool address inside a range returns
//!   it, owned by that host); where ranges overlap, the first registered block holds the
//!   address.
//!
//! The text of an address is only produced when an endpoint is written (trace), straight from
//! the address.

use std::fmt::Write as _;
use std::net::IpAddr;

use rustc_hash::FxHashMap;

use crate::wire::{AddrId, Endpoint};

/// Index of a host in the scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostId(pub u32);

/// The first id of the address blocks.
pub const BLOCK_BASE: u32 = 1 << 31;

/// A range of addresses with consecutive ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Block {
    first: u32,
    base: u128,
    count: u64,
    v4: bool,
}

impl Block {
    fn offset_of(&self, ip: IpAddr) -> Option<u64> {
        let (n, v4) = match ip {
            IpAddr::V4(a) => (u32::from(a) as u128, true),
            IpAddr::V6(a) => (u128::from(a), false),
        };
        (v4 == self.v4 && n >= self.base && n - self.base < self.count as u128)
            .then(|| (n - self.base) as u64)
    }
    fn addr(&self, offset: u64) -> IpAddr {
        let n = self.base + offset as u128;
        if self.v4 {
            IpAddr::V4((n as u32).into())
        } else {
            IpAddr::V6(n.into())
        }
    }
}

#[derive(Default, Debug, Clone)]
pub struct AddrTable {
    addrs: Vec<IpAddr>,
    owner: Vec<Option<HostId>>,
    /// Lookups only; never iterated.
    index: FxHashMap<IpAddr, AddrId>,
    /// Address blocks, in registration order (ids ascending).
    blocks: Vec<Block>,
    /// Owners of block addresses (a host or pool address inside a spoofed range). Lookups only.
    block_owner: FxHashMap<u32, HostId>,
}

impl AddrTable {
    /// Registers `count` addresses from `base` as a block (the same range twice is one block);
    /// returns its index. `None` if the block ids would run out (2^31 addresses in all).
    pub fn add_block(&mut self, base: IpAddr, count: u64) -> Option<u32> {
        let (base, v4) = match base {
            IpAddr::V4(a) => (u32::from(a) as u128, true),
            IpAddr::V6(a) => (u128::from(a), false),
        };
        if let Some(i) = self
            .blocks
            .iter()
            .position(|b| (b.base, b.count, b.v4) == (base, count, v4))
        {
            return Some(i as u32);
        }
        let first = self
            .blocks
            .last()
            .map_or(Some(BLOCK_BASE as u64), |b| Some(b.first as u64 + b.count))?;
        if first + count > u32::MAX as u64 + 1 {
            return None;
        }
        self.blocks.push(Block {
            first: first as u32,
            base,
            count,
            v4,
        });
        Some(self.blocks.len() as u32 - 1)
    }

    /// The id of the address `offset` places into block `block` (an earlier block's id where
    /// blocks overlap): arithmetic, no lookup.
    pub fn block_addr(&self, block: u32, offset: u64) -> AddrId {
        let b = &self.blocks[block as usize];
        if block > 0 {
            let ip = b.addr(offset);
            if let Some(id) = self.in_blocks(ip, block as usize) {
                return id;
            }
        }
        AddrId(b.first + offset as u32)
    }

    /// The id of `ip` in the first of `blocks[..upto]` holding it.
    fn in_blocks(&self, ip: IpAddr, upto: usize) -> Option<AddrId> {
        self.blocks[..upto]
            .iter()
            .find_map(|b| b.offset_of(ip).map(|o| AddrId(b.first + o as u32)))
    }

    fn block_of(&self, id: AddrId) -> &Block {
        let i = self.blocks.partition_point(|b| b.first <= id.0) - 1;
        &self.blocks[i]
    }

    pub fn intern(&mut self, ip: IpAddr) -> AddrId {
        if let Some(id) = self.find(&ip) {
            return id;
        }
        let id = AddrId(self.addrs.len() as u32);
        assert!(id.0 < BLOCK_BASE, "more than 2^31 interned addresses");
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
        if id.0 >= BLOCK_BASE {
            self.block_owner.insert(id.0, host);
        } else {
            self.owner[id.0 as usize] = Some(host);
        }
    }
    pub fn owner(&self, id: AddrId) -> Option<HostId> {
        if id.0 >= BLOCK_BASE {
            if self.block_owner.is_empty() {
                return None;
            }
            return self.block_owner.get(&id.0).copied();
        }
        self.owner[id.0 as usize]
    }
    pub fn get(&self, id: AddrId) -> IpAddr {
        if id.0 >= BLOCK_BASE {
            let b = self.block_of(id);
            return b.addr((id.0 - b.first) as u64);
        }
        self.addrs[id.0 as usize]
    }
    pub fn find(&self, ip: &IpAddr) -> Option<AddrId> {
        if !self.blocks.is_empty() {
            if let Some(id) = self.in_blocks(*ip, self.blocks.len()) {
                return Some(id);
            }
        }
        self.index.get(ip).copied()
    }
    /// Addresses interned (block addresses are not counted).
    pub fn len(&self) -> usize {
        self.addrs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.addrs.is_empty()
    }
    /// Writes `addr:port` (IPv6 in brackets) without allocating.
    pub fn write_endpoint(&self, out: &mut String, e: Endpoint) {
        match self.get(e.addr) {
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

    #[test]
    fn block_addresses_are_arithmetic_unique_and_owned_like_interned_ones() {
        let mut t = AddrTable::default();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let a = t.add_block(ip("198.18.0.0"), 65536).unwrap();
        assert_eq!(
            t.add_block(ip("198.18.0.0"), 65536),
            Some(a),
            "one block per range"
        );
        let b = t.add_block(ip("198.18.255.0"), 512).unwrap();
        let x = t.block_addr(a, 300);
        assert_eq!(x.0, BLOCK_BASE + 300);
        assert_eq!(t.get(x), ip("198.18.1.44"));
        // The overlap belongs to the first block; the rest of the second is its own.
        assert_eq!(t.block_addr(b, 10), t.block_addr(a, 65280 + 10));
        assert_eq!(t.get(t.block_addr(b, 300)), ip("198.19.0.44"));
        assert_eq!(t.block_addr(b, 300).0, BLOCK_BASE + 65536 + 300);
        // A host address inside a range is the block's id, owned by the host.
        let h = t.intern_owned(ip("198.18.1.44"), HostId(3));
        assert_eq!(h, x);
        assert_eq!(t.owner(t.block_addr(a, 300)), Some(HostId(3)));
        assert_eq!(t.owner(t.block_addr(a, 301)), None);
        assert_eq!(t.find(&ip("198.18.0.1")), Some(t.block_addr(a, 1)));
        assert_eq!(t.len(), 0, "nothing interned");
        let v6 = t.add_block(ip("fd00::"), 16).unwrap();
        assert_eq!(
            t.endpoint_string(Endpoint {
                addr: t.block_addr(v6, 15),
                port: 80
            }),
            "[fd00::f]:80"
        );
    }
}
