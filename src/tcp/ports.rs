//! Ephemeral ports in use by active opens, for `connect()`'s port choice.
//!
//! Linux `__inet_hash_connect` starts at a random offset in `ip_local_port_range` and probes
//! upwards (wrapping) for a port whose 4-tuple is free. Probing one port at a time costs the
//! whole range when it is nearly full (10 000 connects/s to a dead host keep ~28 000 ports busy),
//! so the ports in use towards each (local address, remote endpoint) are kept as a bitset and the
//! probe skips 64 busy ports per step. It picks exactly the port the one-by-one probe would pick.
//!
//! A bitset exists only while some connection uses it: memory follows live connections.

use rustc_hash::FxHashMap;

use crate::wire::{AddrId, Endpoint};

const WORDS: usize = 65536 / 64;

struct PortSet {
    bits: Box<[u64; WORDS]>,
    used: u32,
}

impl PortSet {
    /// The first port in `from..=to` that is not in the set and passes `ok`.
    fn first_free(&self, from: u16, to: u16, ok: &impl Fn(u16) -> bool) -> Option<u16> {
        let mut p = from as u32;
        while p <= to as u32 {
            let w = self.bits[p as usize / 64] | ((1u64 << (p % 64)) - 1);
            if w == u64::MAX {
                p = (p / 64 + 1) * 64; // every port left in this word is busy
                continue;
            }
            let cand = (p / 64) * 64 + (!w).trailing_zeros();
            if cand > to as u32 {
                return None;
            }
            if ok(cand as u16) {
                return Some(cand as u16);
            }
            p = cand + 1;
        }
        None
    }
}

/// Ports used by active opens, per (local address, remote endpoint).
#[derive(Default)]
pub(crate) struct EphemeralPorts {
    sets: FxHashMap<(AddrId, Endpoint), PortSet>,
}

impl EphemeralPorts {
    pub fn insert(&mut self, local: Endpoint, remote: Endpoint) {
        let set = self
            .sets
            .entry((local.addr, remote))
            .or_insert_with(|| PortSet {
                bits: Box::new([0; WORDS]),
                used: 0,
            });
        let (w, b) = (local.port as usize / 64, local.port % 64);
        if set.bits[w] >> b & 1 == 0 {
            set.bits[w] |= 1 << b;
            set.used += 1;
        }
    }

    pub fn remove(&mut self, local: Endpoint, remote: Endpoint) {
        let key = (local.addr, remote);
        let Some(set) = self.sets.get_mut(&key) else {
            return;
        };
        let (w, b) = (local.port as usize / 64, local.port % 64);
        if set.bits[w] >> b & 1 == 1 {
            set.bits[w] &= !(1 << b);
            set.used -= 1;
        }
        if set.used == 0 {
            self.sets.remove(&key);
        }
    }

    pub fn clear(&mut self) {
        self.sets.clear();
    }

    /// The port `connect()` takes: the first of `lo + (start + i) % span` for i = 0, 1, ...
    /// that no active open to `remote` from `addr` uses and that `ok` accepts (not a listening
    /// port), or `None` if the range is exhausted (EADDRNOTAVAIL).
    pub fn choose(
        &self,
        addr: AddrId,
        remote: Endpoint,
        lo: u16,
        hi: u16,
        start: u16,
        ok: impl Fn(u16) -> bool,
    ) -> Option<u16> {
        let Some(set) = self.sets.get(&(addr, remote)) else {
            return (start..=hi).chain(lo..start).find(|&p| ok(p));
        };
        if set.used as u64 > (hi - lo) as u64 {
            return None;
        }
        set.first_free(start, hi, &ok).or_else(|| {
            if start > lo {
                set.first_free(lo, start - 1, &ok)
            } else {
                None
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(port: u16) -> Endpoint {
        Endpoint {
            addr: AddrId(1),
            port,
        }
    }

    /// Against the one-by-one probe it replaces, on a crowded small range.
    #[test]
    fn picks_the_port_the_linear_probe_picks() {
        let remote = Endpoint {
            addr: AddrId(2),
            port: 80,
        };
        let (lo, hi) = (100u16, 300u16);
        let mut ports = EphemeralPorts::default();
        let mut busy = std::collections::BTreeSet::new();
        let listening = |p: u16| p != 150 && p != 290;
        let mut x = 7u32;
        for round in 0..2000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let start = lo + (x >> 8) as u16 % (hi - lo + 1);
            let linear = (start..=hi)
                .chain(lo..start)
                .find(|p| !busy.contains(p) && listening(*p));
            assert_eq!(
                ports.choose(AddrId(1), remote, lo, hi, start, listening),
                linear,
                "round {round}"
            );
            if let Some(p) = linear {
                if round % 3 != 2 {
                    ports.insert(ep(p), remote);
                    busy.insert(p);
                }
            }
            if round % 5 == 0 {
                if let Some(&p) = busy.iter().nth((x as usize >> 4) % busy.len().max(1)) {
                    ports.remove(ep(p), remote);
                    busy.remove(&p);
                }
            }
        }
        // Full range: exhausted at once.
        for p in lo..=hi {
            ports.insert(ep(p), remote);
        }
        assert_eq!(ports.choose(AddrId(1), remote, lo, hi, lo, |_| true), None);
        for p in lo..=hi {
            ports.remove(ep(p), remote);
        }
        assert!(ports.sets.is_empty());
    }
}
