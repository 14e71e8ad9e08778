//! The SYN-flood attacker: SYNs to a target from spoofed (or its own) addresses, random ports
//! and ISNs, never answering the SYN-ACK. The attacker is not a TCP endpoint: its host's stack
//! never sees these SYNs, and a SYN-ACK reaching an address nobody owns is lost.

use std::net::IpAddr;

use rand::{Rng, RngExt};
use rustc_hash::FxHashMap;

use crate::net::{AddrTable, HostId};
use crate::rng::{RngStreams, StreamRng};
use crate::sim::traffic::ArrivalProcess;
use crate::spec::{Scenario, Spoof};
use crate::wire::{AddrId, Endpoint, Flags, Payload, Segment, SeqNum, TcpOptions};

/// Where the SYNs claim to come from.
enum SpoofRt {
    Own(AddrId),
    /// A block of the address table ([`AddrTable::add_block`]): a draw is arithmetic.
    Range {
        block: u32,
        count: u64,
    },
    /// A range registered too late or past the block id space: drawn addresses are interned
    /// (memory grows with the addresses drawn).
    Interned {
        base: u128,
        v4: bool,
        count: u64,
        cache: FxHashMap<u64, AddrId>,
    },
    List(Vec<AddrId>),
}

/// An attacker as the engine drives it.
pub struct AttackerRt {
    pub host: HostId,
    pub target: Endpoint,
    pub arrivals: ArrivalProcess,
    rng: StreamRng,
    spoof: SpoofRt,
}

fn ip_to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u32::from(a) as u128,
        IpAddr::V6(a) => u128::from(a),
    }
}

/// The address of host `h` in the family of `like` (else its first).
fn host_addr(scn: &Scenario, h: HostId, like: IpAddr) -> IpAddr {
    let addrs = &scn.hosts[h.0 as usize].addrs;
    addrs
        .iter()
        .find(|x| x.is_ipv4() == like.is_ipv4())
        .or(addrs.first())
        .copied()
        .expect("validated: hosts have addresses")
}

/// The scenario's attackers, with their random streams `attacker/NAME/arrivals` and
/// `attacker/NAME/packets`.
pub fn attackers_of(
    scn: &Scenario,
    addrs: &mut AddrTable,
    streams: &RngStreams,
) -> Vec<AttackerRt> {
    scn.attackers
        .iter()
        .map(|a| {
            let like = a.target.ip();
            let spoof = match &a.spoof {
                Spoof::Own => {
                    let own = host_addr(scn, a.host, like);
                    SpoofRt::Own(addrs.find(&own).expect("host address interned"))
                }
                Spoof::Range { base, count } => match addrs.add_block(*base, *count) {
                    Some(block) => SpoofRt::Range {
                        block,
                        count: *count,
                    },
                    None => SpoofRt::Interned {
                        base: ip_to_u128(*base),
                        v4: base.is_ipv4(),
                        count: *count,
                        cache: FxHashMap::default(),
                    },
                },
                Spoof::Hosts(hs) => SpoofRt::List(
                    hs.iter()
                        .map(|&h| {
                            let ip = host_addr(scn, h, like);
                            addrs.find(&ip).expect("host address interned")
                        })
                        .collect(),
                ),
            };
            AttackerRt {
                host: a.host,
                target: Endpoint {
                    addr: addrs.intern(like),
                    port: a.target.port(),
                },
                arrivals: ArrivalProcess::new(
                    a.arrivals.clone(),
                    streams.stream(&format!("attacker/{}/arrivals", a.name)),
                ),
                rng: streams.stream(&format!("attacker/{}/packets", a.name)),
                spoof,
            }
        })
        .collect()
}

impl AttackerRt {
    /// The next SYN: source address per the spoof rule, then a random port and ISN.
    pub fn next_syn(&mut self, addrs: &mut AddrTable) -> Segment {
        let src_addr = match &mut self.spoof {
            SpoofRt::Own(id) => *id,
            SpoofRt::List(v) => v[self.rng.random_range(0..v.len())],
            SpoofRt::Range { block, count } => {
                let i = self.rng.random_range(0..*count);
                addrs.block_addr(*block, i)
            }
            SpoofRt::Interned {
                base,
                v4,
                count,
                cache,
            } => {
                let i = self.rng.random_range(0..*count);
                *cache.entry(i).or_insert_with(|| {
                    let n = *base + i as u128;
                    let ip = if *v4 {
                        IpAddr::V4((n as u32).into())
                    } else {
                        IpAddr::V6(n.into())
                    };
                    addrs.intern(ip)
                })
            }
        };
        Segment {
            src: Endpoint {
                addr: src_addr,
                port: self.rng.random_range(1024..=65535u16),
            },
            dst: self.target,
            seq: SeqNum(self.rng.next_u32()),
            ack: SeqNum(0),
            flags: Flags::SYN,
            // A raw flood SYN as hping3 sends it by default: window 64, no options.
            window: 64,
            opts: TcpOptions::NONE,
            payload: Payload::EMPTY,
        }
    }
}
