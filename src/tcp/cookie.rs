//! SYN cookies (RFC 4987 §3.6) in the two formats synsim models.
//!
//! **Linux** (`cookie_v4_init_sequence` / `__cookie_v4_check`), laid out as
//! `secure_tcp_syn_cookie` does:
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

/// Linux MSS table for IPv4 cookies (`msstab` in net/ipv4/syncookies.c).
pub const MSS_TABLE: [u16; 4] = [536, 1300, 1440, 1460];
/// Linux MSS table for IPv6 cookies (`msstab` in net/ipv6/syncookies.c: 1280, 1480, 1500 and
/// 9000 minus 60).
pub const MSS_TABLE_V6: [u16; 4] = [1220, 1420, 1440, 8940];
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

pub(crate) fn tuple_hash(
    secret: u64,
    salt: u64,
    local: Endpoint,
    remote: Endpoint,
    count: u32,
) -> u32 {
    let a = ((local.addr.0 as u64) << 32) | remote.addr.0 as u64;
    let b = ((local.port as u64) << 48) | ((remote.port as u64) << 32) | count as u64;
    (mix(secret ^ salt ^ mix(a ^ mix(b))) >> 16) as u32
}

fn counter(now: SimTime) -> u32 {
    (now.as_ns() / TICK_NS) as u32
}

/// Index of the largest table MSS not above `mss` (index 0 if all are above).
pub fn mss_index(mss: u16) -> u32 {
    table_index(&MSS_TABLE, mss) as u32
}

/// Index of the largest Linux table MSS (for the family) not above `mss`.
pub fn linux_index(ipv6: bool, mss: u16) -> u32 {
    table_index(linux_table(ipv6), mss) as u32
}

/// The Linux table for a family.
pub fn linux_table(ipv6: bool) -> &'static [u16; 4] {
    if ipv6 { &MSS_TABLE_V6 } else { &MSS_TABLE }
}

fn table_index<T: Copy + PartialOrd>(table: &[T], v: T) -> usize {
    table.iter().rposition(|&m| m <= v).unwrap_or(0)
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

// ---------------------------------------------------------------------------- FreeBSD

/// FreeBSD `tcp_sc_msstab` (tcp_syncache.c): 3 bits of MSS in the cookie.
pub const FREEBSD_MSS_TABLE: [u16; 8] = [216, 536, 1200, 1360, 1400, 1440, 1452, 1460];
/// FreeBSD `tcp_sc_wstab`: 3 bits of the peer's window scale (index 0: no scaling).
pub const FREEBSD_WSCALE_TABLE: [u8; 8] = [0, 0, 1, 2, 4, 6, 7, 8];
/// FreeBSD `SYNCOOKIE_LIFETIME`: the two secrets are reseeded in turn every 15 s, so a cookie
/// stays valid for 15 to 30 s.
pub const FREEBSD_LIFETIME_NS: u64 = 15 * NS_PER_S;

/// What a FreeBSD cookie carries (`union syncookie`: odd/even bit 0, SACK bit 1, window scale
/// index bits 2-4, MSS index bits 5-7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FreebsdCookie {
    pub mss: u16,
    /// The peer's window scale, as the table rounds it (`None`: no scaling).
    pub wscale: Option<u8>,
    pub sack: bool,
}

impl FreebsdCookie {
    /// `syncookie_generate`'s rounding of what the SYN offered.
    pub fn round(peer_mss: u16, peer_wscale: Option<u8>, sack: bool) -> FreebsdCookie {
        let m = table_index(&FREEBSD_MSS_TABLE, peer_mss);
        let w = peer_wscale.map_or(0, |w| table_index(&FREEBSD_WSCALE_TABLE, w).max(1));
        FreebsdCookie::from_bits(((m as u8) << 5) | ((w as u8) << 2) | ((sack as u8) << 1))
    }
    fn bits(self) -> u8 {
        let m = table_index(&FREEBSD_MSS_TABLE, self.mss) as u8;
        let w = self
            .wscale
            .map_or(0, |w| table_index(&FREEBSD_WSCALE_TABLE, w).max(1) as u8);
        (m << 5) | (w << 2) | ((self.sack as u8) << 1)
    }
    fn from_bits(b: u8) -> FreebsdCookie {
        let w = (b >> 2 & 7) as usize;
        FreebsdCookie {
            mss: FREEBSD_MSS_TABLE[(b >> 5) as usize],
            wscale: (w > 0).then_some(FREEBSD_WSCALE_TABLE[w]),
            sack: b & 2 != 0,
        }
    }
}

/// The secret of epoch `e` (synsim's stand-in for the reseeded SipHash keys).
fn freebsd_mac(
    secret: u64,
    local: Endpoint,
    remote: Endpoint,
    irs: SeqNum,
    bits: u8,
    e: u64,
) -> u32 {
    tuple_hash(mix(secret ^ e), 4 + bits as u64, local, remote, irs.0)
}

/// FreeBSD `syncookie_generate`: `iss = (mac & ~0xff) | (bits ^ (mac >> 24))`, the MAC over
/// the 4-tuple, the peer's ISN and the bits, keyed by the secret of the current epoch (whose
/// parity is the odd/even bit).
pub fn freebsd_encode(
    secret: u64,
    local: Endpoint,
    remote: Endpoint,
    irs: SeqNum,
    c: FreebsdCookie,
    now: SimTime,
) -> SeqNum {
    let e = now.as_ns() / FREEBSD_LIFETIME_NS;
    let bits = c.bits() | (e & 1) as u8;
    let mac = freebsd_mac(secret, local, remote, irs, bits, e);
    SeqNum((mac & !0xff) | ((bits ^ (mac >> 24) as u8) as u32))
}

/// FreeBSD `syncookie_lookup`: the ACK's `SEG.ACK - 1` against `SEG.SEQ - 1`. The odd/even bit
/// picks the current epoch's secret or the previous one; anything older has been reseeded.
pub fn freebsd_decode(
    secret: u64,
    local: Endpoint,
    remote: Endpoint,
    irs: SeqNum,
    cookie: SeqNum,
    now: SimTime,
) -> Option<FreebsdCookie> {
    let bits = (cookie.0 as u8) ^ (cookie.0 >> 24) as u8;
    let cur = now.as_ns() / FREEBSD_LIFETIME_NS;
    let e = if (bits & 1) as u64 == cur & 1 {
        cur
    } else {
        cur.checked_sub(1)?
    };
    let mac = freebsd_mac(secret, local, remote, irs, bits, e);
    (cookie.0 & !0xff == mac & !0xff).then(|| FreebsdCookie::from_bits(bits))
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
    fn freebsd_cookie_rounds_and_lives_15_to_30_s() {
        let (l, r) = (ep(1, 80), ep(2, 40000));
        let c = FreebsdCookie::round(1400, Some(10), true);
        assert_eq!(
            c,
            FreebsdCookie {
                mss: 1400,
                wscale: Some(8),
                sack: true
            }
        );
        assert_eq!(FreebsdCookie::round(1500, None, false).mss, 1460);
        assert_eq!(FreebsdCookie::round(1000, Some(0), false).wscale, Some(0));
        let t0 = SimTime(14 * NS_PER_S);
        let k = freebsd_encode(7, l, r, SeqNum(99), c, t0);
        assert_eq!(freebsd_decode(7, l, r, SeqNum(99), k, t0), Some(c));
        // next epoch: the previous secret still answers; two epochs on it is gone
        assert_eq!(
            freebsd_decode(7, l, r, SeqNum(99), k, SimTime(16 * NS_PER_S)),
            Some(c)
        );
        assert_eq!(
            freebsd_decode(7, l, r, SeqNum(99), k, SimTime(31 * NS_PER_S)),
            None
        );
        assert_eq!(freebsd_decode(7, l, r, SeqNum(98), k, t0), None);
        assert_eq!(freebsd_decode(8, l, r, SeqNum(99), k, t0), None);
    }

    #[test]
    fn mss_index_picks_largest_not_above() {
        assert_eq!(mss_index(1460), 3);
        assert_eq!(mss_index(1400), 1);
        assert_eq!(mss_index(100), 0);
    }
}
