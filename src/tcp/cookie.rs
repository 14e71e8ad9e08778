//! SYN cookies (RFC 4987 §3.6), laid out as Linux's `secure_tcp_syn_cookie` does:
//!
//! ```text
//! cookie = H1(4-tuple) + client_isn + (count << 24) + ((H2(4-tuple, count) + mss_index) mod 2^24)
//! ```
//!
//! where `count` is a minute counter. Decoding subtracts H1 and the client ISN (the ACK carries
//! it back as `SEG.SEQ - 1`), recovers `count` from the top 8 bits, rejects cookies older than
//! [`MAX_AGE_TICKS`], then checks that the low 24 bits minus H2 give a valid MSS index. The hash
//! is synsim's own keyed mixer (not SipHash): the simulation needs the structure, not the
//! cryptographic strength.

use crate::time::{NS_PER_S, SimTime};
use crate::wire::{Endpoint, SeqNum};

/// Linux MSS table for cookies (`msstab` in syncookies.c).
pub const MSS_TABLE: [u16; 4] = [536, 1300, 1440, 1460];
/// One counter tick: 60 s.
pub const TICK_NS: u64 = 60 * NS_PER_S;
/// A cookie is valid while `now_count - cookie_count < MAX_AGE_TICKS` (Linux MAX_SYNCOOKIE_AGE 2).
pub const MAX_AGE_TICKS: u32 = 2;

fn mix(mut x: u64) -> u64 {
    // splitmix64 finaliser
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn tuple_hash(secret: u64, salt: u64, local: Endpoint, remote: Endpoint, count: u32) -> u32 {
    let a = ((local.addr.0 as u64) << 32) | remote.addr.0 as u64;
    let b = ((local.port as u64) << 48) | ((remote.port as u64) << 32) | count as u64;
    (mix(secret ^ salt ^ mix(a ^ mix(b))) >> 16) as u32
}

fn counter(now: SimTime) -> u32 {
    (now.as_ns() / TICK_NS) as u32
}

/// Index of the largest table MSS not above `mss`.
pub fn mss_index(mss: u16) -> u32 {
    MSS_TABLE.iter().rposition(|&m| m <= mss).unwrap_or(0) as u32
}

/// The ISN of a cookie SYN-ACK for a SYN from `remote` (ISN `client_isn`) to `local`.
pub fn encode(
    secret: u64,
    local: Endpoint,
    remote: Endpoint,
    client_isn: SeqNum,
    mss_idx: u32,
    now: SimTime,
) -> SeqNum {
    let count = counter(now);
    let h1 = tuple_hash(secret, 1, local, remote, 0);
    let h2 = tuple_hash(secret, 2, local, remote, count);
    SeqNum(
        h1.wrapping_add(client_isn.0)
            .wrapping_add(count << 24)
            .wrapping_add(h2.wrapping_add(mss_idx) & 0x00ff_ffff),
    )
}

/// Checks the cookie carried by an ACK (`SEG.ACK - 1`) against `SEG.SEQ - 1`; returns the MSS
/// index on success.
pub fn decode(
    secret: u64,
    local: Endpoint,
    remote: Endpoint,
    client_isn: SeqNum,
    cookie: SeqNum,
    now: SimTime,
) -> Option<u32> {
    let h1 = tuple_hash(secret, 1, local, remote, 0);
    let rest = cookie.0.wrapping_sub(h1).wrapping_sub(client_isn.0);
    let now_count = counter(now);
    let diff = (now_count.wrapping_sub(rest >> 24)) & 0xff;
    if diff >= MAX_AGE_TICKS {
        return None;
    }
    let count = now_count.wrapping_sub(diff);
    let h2 = tuple_hash(secret, 2, local, remote, count);
    let idx = (rest.wrapping_sub(h2)) & 0x00ff_ffff;
    ((idx as usize) < MSS_TABLE.len()).then_some(idx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::AddrId;

    fn ep(a: u32, p: u16) -> Endpoint {
        Endpoint {
            addr: AddrId(a),
            port: p,
        }
    }

    #[test]
    fn round_trip_within_validity() {
        let (l, r) = (ep(1, 80), ep(2, 40000));
        let t0 = SimTime(5 * NS_PER_S);
        let c = encode(99, l, r, SeqNum(1234), 3, t0);
        assert_eq!(decode(99, l, r, SeqNum(1234), c, t0), Some(3));
        // still valid in the next minute, not two minutes later
        assert_eq!(
            decode(99, l, r, SeqNum(1234), c, SimTime(t0.0 + TICK_NS)),
            Some(3)
        );
        assert_eq!(
            decode(99, l, r, SeqNum(1234), c, SimTime(t0.0 + 2 * TICK_NS)),
            None
        );
    }

    #[test]
    fn wrong_tuple_secret_or_isn_fails() {
        let (l, r) = (ep(1, 80), ep(2, 40000));
        let c = encode(99, l, r, SeqNum(1234), 3, SimTime::ZERO);
        assert_eq!(decode(98, l, r, SeqNum(1234), c, SimTime::ZERO), None);
        assert_eq!(
            decode(99, l, ep(2, 40001), SeqNum(1234), c, SimTime::ZERO),
            None
        );
        assert_eq!(decode(99, l, r, SeqNum(99_999), c, SimTime::ZERO), None);
        // As in Linux, an ISN off by a little shifts the decoded MSS index (the low 24 bits
        // are not a MAC of the ISN): never the original index, possibly a neighbour.
        assert_ne!(decode(99, l, r, SeqNum(1235), c, SimTime::ZERO), Some(3));
        assert_eq!(
            decode(99, l, r, SeqNum(1234), c.plus(1), SimTime::ZERO),
            None
        );
    }

    #[test]
    fn mss_index_picks_largest_not_above() {
        assert_eq!(mss_index(1460), 3);
        assert_eq!(mss_index(1400), 1);
        assert_eq!(mss_index(100), 0);
    }
}
