//! TCP options of the handshake and the window field: what a stack offers in its SYN, what a
//! listener answers in its SYN-ACK, what a connection ends up with, and what a SYN cookie keeps
//! of it.
//!
//! Measured on a 6.18 kernel over a veth pair with MTU 1500 (docs/profiles.md, "TCP options"):
//!
//! - A SYN offers everything its sysctls allow: MSS (`mtu` - 40), SACK-permitted (`tcp_sack`),
//!   timestamps (`tcp_timestamps`), window scale (`tcp_window_scaling`, shift 10 from
//!   `tcp_rmem[2]` 32 MiB). A SYN-ACK carries the listener's own MSS and each other option only
//!   if the SYN offered it and the listener's sysctl allows it (`tcp_openreq_init`,
//!   `tcp_synack_options`); RFC 7323 §2.2 / RFC 2018 §2 say the same.
//! - The window of a SYN or SYN-ACK is never scaled (RFC 7323 §2.2); Linux rounds it down to a
//!   multiple of the MSS it expects to receive (`tcp_select_initial_window`): 64240 in the SYN
//!   (44 x 1460), 65160 in a SYN-ACK with timestamps (45 x 1448). Later segments carry
//!   `rcv_window >> shift` (63 with shift 10).
//! - A connection's options are agreed per connection ([`ConnOptions`]): the MSS the peer
//!   sent (536 without one, RFC 9293 §3.7.1), and window scaling, SACK and timestamps only if
//!   both ends sent them.
//!
//! SYN cookies keep only what fits in the cookie (Linux `cookie_v4_init_sequence`,
//! `cookie_init_timestamp`, `cookie_v4_check`, `cookie_timestamp_decode`; FreeBSD
//! `syncookie_generate`, `syncookie_lookup`): see [`CookieLoss`] and [`crate::tcp::cookie`].
//!
//! Simplifications: PAWS and RTT measurement from timestamps are not modelled (TS.Recent is the
//! last TSval received on the connection); SACK blocks are never sent (nothing is reordered
//! beyond a single segment in flight); a host's MSS follows the family of its first address.

use crate::time::SimTime;
use crate::wire::{OptionLayout, Segment, TcpOptions};

use super::StackConfig;

/// The MSS a peer is assumed to accept when its SYN carries no MSS option (RFC 9293 §3.7.1,
/// Linux TCP_MSS_DEFAULT).
pub const DEFAULT_MSS: u16 = 536;
/// Bytes of the timestamps option with its padding (Linux TCPOLEN_TSTAMP_ALIGNED).
pub const TS_ALIGNED_LEN: u16 = 12;

/// What one connection agreed on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnOptions {
    /// The MSS the peer announced (536 if it sent none): the largest segment we may send.
    pub peer_mss: u16,
    /// Window scaling in use: (the peer's shift, applied to the windows it sends; our shift).
    pub wscale: Option<(u8, u8)>,
    /// SACK permitted both ways.
    pub sack: bool,
    /// Timestamps on every segment.
    pub timestamps: bool,
    /// TS.Recent (RFC 7323 §4.3): the last TSval received, echoed as TSecr.
    pub ts_recent: u32,
    /// Added to the millisecond clock for this connection's TSvals (Linux
    /// `secure_tcp_ts_off`, FreeBSD `tcp_new_ts_offset`).
    pub ts_offset: u32,
    /// The connection was created from a SYN cookie.
    pub by_cookie: bool,
}

/// What a cookie connection lost against the SYN it answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CookieLoss {
    /// The MSS was rounded down to a table value.
    pub mss_lowered: bool,
    /// Window scaling was offered by both ends and is off (or its shift was rounded down).
    pub wscale: bool,
    /// SACK was offered by both ends and is off.
    pub sack: bool,
}

impl StackConfig {
    /// The MSS this stack announces.
    pub fn advmss(&self, ipv6: bool) -> u16 {
        let headers = if ipv6 { 60 } else { 40 };
        self.mtu.saturating_sub(headers).min(u16::MAX as u32) as u16
    }

    /// The window field of a SYN or SYN-ACK: `rcv_window` up to 65535, rounded down to a
    /// multiple of `mss` by stacks with the Linux layout (`tcp_select_initial_window`; the
    /// rfc9293 profile shares it); FreeBSD sends the window as it is (65535).
    pub fn syn_window(&self, mss: u16) -> u16 {
        let w = self.rcv_window.min(u16::MAX as u32);
        let w = if self.option_layout == OptionLayout::Linux {
            w - w % (mss.max(1) as u32)
        } else {
            w
        };
        w as u16
    }
}

/// The millisecond timestamp clock (Linux `tcp_time_stamp_ts`, FreeBSD `tcp_ts_getticks`).
pub fn ts_clock(now: SimTime) -> u32 {
    (now.as_ns() / 1_000_000) as u32
}

/// The options of an active open's SYN.
pub fn syn_offer(cfg: &StackConfig, ipv6: bool, tsval: u32) -> TcpOptions {
    TcpOptions {
        mss: Some(cfg.advmss(ipv6)),
        wscale: cfg.window_scaling.then_some(cfg.rcv_wscale),
        sack_permitted: cfg.sack,
        timestamps: cfg.timestamps.then_some((tsval, 0)),
        layout: cfg.option_layout,
    }
}

/// What a stack agrees to when its peer's SYN or SYN-ACK carries `peer`: the peer's MSS (536
/// if none), and each other option only if the peer sent it and this stack's sysctl allows it.
/// A listener answering a SYN (Linux `tcp_openreq_init` after `tcp_parse_options`, with
/// `tcp_clear_options` for what the sysctls turn off) and an active open reading the SYN-ACK
/// (which can only carry what its SYN offered) follow the same rule.
pub fn agree(cfg: &StackConfig, peer: &TcpOptions, ts_offset: u32) -> ConnOptions {
    ConnOptions {
        peer_mss: peer.mss.unwrap_or(DEFAULT_MSS),
        wscale: peer
            .wscale
            .filter(|_| cfg.window_scaling)
            .map(|shift| (shift.min(14), cfg.rcv_wscale)),
        sack: peer.sack_permitted && cfg.sack,
        timestamps: peer.timestamps.is_some() && cfg.timestamps,
        ts_recent: peer.timestamps.map_or(0, |(val, _)| val),
        ts_offset,
        by_cookie: false,
    }
}

/// The options of a SYN-ACK for a connection that agreed on `c`: our MSS, and what was agreed.
pub fn synack_options(cfg: &StackConfig, ipv6: bool, c: &ConnOptions, tsval: u32) -> TcpOptions {
    TcpOptions {
        mss: Some(cfg.advmss(ipv6)),
        wscale: c.wscale.map(|(_, ours)| ours),
        sack_permitted: c.sack,
        timestamps: c.timestamps.then_some((tsval, c.ts_recent)),
        layout: cfg.option_layout,
    }
}

/// The options and window of a segment of an agreed connection (not a SYN).
pub fn dress(seg: &mut Segment, cfg: &StackConfig, ipv6: bool, c: &ConnOptions, tsval: u32) {
    seg.opts = TcpOptions {
        timestamps: c.timestamps.then_some((tsval, c.ts_recent)),
        layout: cfg.option_layout,
        ..TcpOptions::NONE
    };
    seg.window = match c.wscale {
        Some((_, ours)) => (cfg.rcv_window >> ours).min(u16::MAX as u32) as u16,
        None => cfg.syn_window(cfg.advmss(ipv6)),
    };
}

/// Linux `cookie_init_timestamp`: the low 6 bits of a cookie SYN-ACK's TSval carry the peer's
/// window scale (0xf: none) and SACK-permitted (bit 4); ECN (bit 5) is not modelled. The value
/// is never ahead of the clock (it steps back by 64 ms if it would be).
pub fn cookie_tsval(now_ms: u32, peer_wscale: Option<u8>, sack: bool) -> u32 {
    const TSBITS: u32 = 6;
    let mut options = peer_wscale.map_or(0xf, |w| w.min(14) as u32);
    if sack {
        options |= 1 << 4;
    }
    let mut ts = (now_ms >> TSBITS << TSBITS) | options;
    if ts > now_ms {
        ts = ts.wrapping_sub(1 << TSBITS);
    }
    ts
}

/// Linux `cookie_timestamp_decode` for the cookie ACK's echoed TSecr (offset removed): the
/// peer's window scale and SACK, or `None` when the listener's sysctls no longer allow what the
/// cookie says (the ACK is then rejected).
pub fn cookie_ts_decode(cfg: &StackConfig, tsecr: u32) -> Option<(Option<u8>, bool)> {
    if !cfg.timestamps {
        return None;
    }
    let sack = tsecr & (1 << 4) != 0;
    if sack && !cfg.sack {
        return None;
    }
    match (tsecr & 0xf) as u8 {
        0xf => Some((None, sack)),
        w if cfg.window_scaling => Some((Some(w), sack)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_windows_match_the_measured_handshake() {
        let c = StackConfig::linux();
        assert_eq!(c.advmss(false), 1460);
        assert_eq!(c.advmss(true), 1440);
        assert_eq!(c.syn_window(1460), 64240);
        assert_eq!(c.syn_window(1460 - TS_ALIGNED_LEN), 65160);
        assert_eq!(c.syn_window(1000), 65000);
        let agreed = agree(&c, &syn_offer(&c, false, 5), 0);
        let e = crate::wire::Endpoint {
            addr: crate::wire::AddrId(0),
            port: 1,
        };
        let mut ack = Segment {
            src: e,
            dst: e,
            seq: crate::wire::SeqNum(0),
            ack: crate::wire::SeqNum(0),
            flags: crate::wire::Flags::ACK,
            window: 0,
            opts: TcpOptions::NONE,
            payload: crate::wire::Payload::EMPTY,
        };
        dress(&mut ack, &c, false, &agreed, 9);
        assert_eq!(ack.window, 63);
        assert_eq!(ack.opts.timestamps, Some((9, 5)));
    }

    #[test]
    fn listener_answers_only_what_was_offered() {
        let c = StackConfig::linux();
        let syn = TcpOptions {
            mss: Some(1400),
            sack_permitted: true,
            ..TcpOptions::NONE
        };
        let a = agree(&c, &syn, 0);
        assert_eq!(
            (a.peer_mss, a.wscale, a.sack, a.timestamps),
            (1400, None, true, false)
        );
        let o = synack_options(&c, false, &a, 1);
        assert_eq!(
            (o.mss, o.wscale, o.sack_permitted, o.timestamps),
            (Some(1460), None, true, None)
        );
        let none = agree(&StackConfig::rfc9293(), &syn_offer(&c, false, 1), 0);
        assert_eq!(
            (none.wscale, none.sack, none.timestamps),
            (None, false, false)
        );
    }

    #[test]
    fn cookie_timestamp_round_trips_wscale_and_sack() {
        let c = StackConfig::linux();
        for (ws, sack) in [
            (Some(10), true),
            (None, true),
            (Some(7), false),
            (None, false),
        ] {
            let ts = cookie_tsval(123_456, ws, sack);
            assert!(ts <= 123_456 && 123_456 - ts < 128);
            assert_eq!(cookie_ts_decode(&c, ts), Some((ws, sack)));
        }
        // Measured low bits: wscale 10 + SACK = 0x1a; no SACK 0xa; no wscale 0x1f.
        assert_eq!(cookie_tsval(220_890, Some(10), true) & 63, 0x1a);
        assert_eq!(cookie_tsval(304_778, Some(10), false) & 63, 0xa);
        assert_eq!(cookie_tsval(310_751, None, true) & 63, 0x1f);
        let no_sack = StackConfig {
            sack: false,
            ..StackConfig::linux()
        };
        assert_eq!(
            cookie_ts_decode(&no_sack, cookie_tsval(5000, None, true)),
            None
        );
    }
}
