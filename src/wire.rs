//! What travels on the simulated wire: addresses, sequence numbers, flags, segments, packets.
//!
//! Addresses are interned: an [`AddrId`] indexes the simulation's address table (see
//! [`crate::net::AddrTable`]), so a [`Segment`] is a small `Copy` value and moving it costs no
//! allocation. Payloads are carried inline (at most [`MAX_PAYLOAD`] bytes): synsim models
//! connection establishment and a short application exchange, not bulk transfer.

use std::fmt;

use schemars::JsonSchema;

/// Index of an IP address in the simulation's address table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AddrId(pub u32);

/// An (address, port) pair: one end of a TCP connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Endpoint {
    pub addr: AddrId,
    pub port: u16,
}

/// A 32-bit TCP sequence number with wrapping comparison (RFC 9293 §3.4: all arithmetic on
/// sequence numbers is modulo 2^32).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeqNum(pub u32);

impl SeqNum {
    pub fn plus(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(n))
    }
    /// Signed distance `self - other` in sequence space.
    pub fn diff(self, other: SeqNum) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }
    pub fn lt(self, o: SeqNum) -> bool {
        self.diff(o) < 0
    }
    pub fn le(self, o: SeqNum) -> bool {
        self.diff(o) <= 0
    }
    pub fn gt(self, o: SeqNum) -> bool {
        self.diff(o) > 0
    }
    pub fn ge(self, o: SeqNum) -> bool {
        self.diff(o) >= 0
    }
}

impl fmt::Display for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// TCP control bits (only the ones connection setup and teardown use).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flags(pub u8);

impl Flags {
    pub const FIN: Flags = Flags(0x01);
    pub const SYN: Flags = Flags(0x02);
    pub const RST: Flags = Flags(0x04);
    pub const PSH: Flags = Flags(0x08);
    pub const ACK: Flags = Flags(0x10);
    pub const NONE: Flags = Flags(0);
    pub const SYN_ACK: Flags = Flags(0x12);
    pub const RST_ACK: Flags = Flags(0x14);
    pub const FIN_ACK: Flags = Flags(0x11);

    pub fn has(self, f: Flags) -> bool {
        self.0 & f.0 == f.0
    }
    pub fn syn(self) -> bool {
        self.has(Flags::SYN)
    }
    pub fn ack(self) -> bool {
        self.has(Flags::ACK)
    }
    pub fn rst(self) -> bool {
        self.has(Flags::RST)
    }
    pub fn fin(self) -> bool {
        self.has(Flags::FIN)
    }
    pub fn union(self, o: Flags) -> Flags {
        Flags(self.0 | o.0)
    }

    /// Parses `"SYN,ACK"` (any order, case-insensitive). Used for scripted drop rules.
    pub fn parse(s: &str) -> Option<Flags> {
        let mut f = Flags::NONE;
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            f = f.union(match part.to_ascii_uppercase().as_str() {
                "FIN" => Flags::FIN,
                "SYN" => Flags::SYN,
                "RST" => Flags::RST,
                "PSH" => Flags::PSH,
                "ACK" => Flags::ACK,
                _ => return None,
            });
        }
        Some(f)
    }

    /// The flags as `"SYN,ACK"`, in a fixed order (SYN, RST, FIN, PSH, ACK).
    pub fn name(self) -> &'static str {
        // Every combination the simulator can produce is spelled out, so no allocation.
        const NAMES: [(u8, &str); 12] = [
            (0x02, "SYN"),
            (0x12, "SYN,ACK"),
            (0x10, "ACK"),
            (0x18, "PSH,ACK"),
            (0x11, "FIN,ACK"),
            (0x19, "FIN,PSH,ACK"),
            (0x04, "RST"),
            (0x14, "RST,ACK"),
            (0x01, "FIN"),
            (0x08, "PSH"),
            (0x00, "NONE"),
            (0x03, "SYN,FIN"),
        ];
        NAMES
            .iter()
            .find(|(b, _)| *b == self.0)
            .map(|(_, n)| *n)
            .unwrap_or("OTHER")
    }
}

/// Largest application payload carried by one segment.
pub const MAX_PAYLOAD: usize = 32;

/// Inline payload bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Payload {
    len: u8,
    bytes: [u8; MAX_PAYLOAD],
}

impl Payload {
    pub const EMPTY: Payload = Payload {
        len: 0,
        bytes: [0; MAX_PAYLOAD],
    };

    /// Copies at most [`MAX_PAYLOAD`] bytes.
    pub fn from_slice(s: &[u8]) -> Payload {
        let n = s.len().min(MAX_PAYLOAD);
        let mut p = Payload::EMPTY;
        p.bytes[..n].copy_from_slice(&s[..n]);
        p.len = n as u8;
        p
    }
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
    pub fn len(&self) -> usize {
        self.len as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Appends as much of `s` as fits; returns how many bytes were taken.
    pub fn push(&mut self, s: &[u8]) -> usize {
        let cur = self.len();
        let n = (MAX_PAYLOAD - cur).min(s.len());
        self.bytes[cur..cur + n].copy_from_slice(&s[..n]);
        self.len += n as u8;
        n
    }
    /// Drops the first `n` bytes.
    pub fn consume(&mut self, n: usize) {
        let cur = self.len();
        let n = n.min(cur);
        self.bytes.copy_within(n..cur, 0);
        self.len -= n as u8;
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

/// The TCP options synsim models (RFC 9293 §3.2 MSS, RFC 7323 window scale and timestamps,
/// RFC 2018 SACK-permitted). The order they are written in on the wire is the sending stack's
/// (see [`crate::tcp::options`]); here they are just what the segment carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpOptions {
    /// Maximum segment size (SYN and SYN-ACK only).
    pub mss: Option<u16>,
    /// Window scale shift count (SYN and SYN-ACK only).
    pub wscale: Option<u8>,
    /// SACK permitted (SYN and SYN-ACK only).
    pub sack_permitted: bool,
    /// Timestamps: (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
    /// The sender's option order.
    pub layout: OptionLayout,
}

impl TcpOptions {
    pub const NONE: TcpOptions = TcpOptions {
        mss: None,
        wscale: None,
        sack_permitted: false,
        timestamps: None,
        layout: OptionLayout::Linux,
    };
}

impl TcpOptions {
    pub fn is_empty(&self) -> bool {
        self.mss.is_none()
            && self.wscale.is_none()
            && !self.sack_permitted
            && self.timestamps.is_none()
    }

    /// Appends the options as tcpdump names them (`mss 1460,sackOK,TS val 5 ecr 0,wscale 10`;
    /// no NOPs, always this order).
    pub fn write_to(&self, out: &mut String) {
        use std::fmt::Write as _;
        let mut sep = "";
        if let Some(m) = self.mss {
            let _ = write!(out, "{sep}mss {m}");
            sep = ",";
        }
        if self.sack_permitted {
            let _ = write!(out, "{sep}sackOK");
            sep = ",";
        }
        if let Some((val, ecr)) = self.timestamps {
            let _ = write!(out, "{sep}TS val {val} ecr {ecr}");
            sep = ",";
        }
        if let Some(w) = self.wscale {
            let _ = write!(out, "{sep}wscale {w}");
        }
    }
}

/// How a stack orders and pads its options on the wire. Only the capture shows it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OptionLayout {
    /// Linux `tcp_options_write`: MSS, then SACK-permitted folded into the timestamps'
    /// padding (`sackOK,TS`), then NOP and window scale (`mss,sackOK,TS,nop,wscale`).
    #[default]
    Linux,
    /// FreeBSD `tcp_addoptions`: MSS, NOP and window scale, SACK-permitted, timestamps
    /// (`mss,nop,wscale,sackOK,TS`).
    Freebsd,
}

/// A TCP segment as the simulator models it: header fields, the options above and the window;
/// no checksum (the capture writer computes it) and no urgent data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub src: Endpoint,
    pub dst: Endpoint,
    pub seq: SeqNum,
    pub ack: SeqNum,
    pub flags: Flags,
    /// The window field as sent (already scaled down by the sender's shift, RFC 7323 §2.3).
    pub window: u16,
    pub opts: TcpOptions,
    pub payload: Payload,
}

impl Segment {
    /// SEG.LEN (RFC 9293 §3.4): payload bytes plus one for SYN and one for FIN.
    pub fn seg_len(&self) -> u32 {
        self.payload.len() as u32 + self.flags.syn() as u32 + self.flags.fin() as u32
    }
}

/// ICMP destination-unreachable codes synsim models.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IcmpCode {
    /// Code 0.
    NetUnreachable,
    /// Code 1.
    HostUnreachable,
    /// Code 3.
    PortUnreachable,
    /// Code 13, communication administratively prohibited (a filtering router; Linux sends it
    /// for a `prohibit` route).
    AdminProhibited,
}

impl IcmpCode {
    pub fn name(self) -> &'static str {
        match self {
            IcmpCode::NetUnreachable => "net-unreachable",
            IcmpCode::HostUnreachable => "host-unreachable",
            IcmpCode::PortUnreachable => "port-unreachable",
            IcmpCode::AdminProhibited => "admin-prohibited",
        }
    }

    /// The ICMP code number (RFC 792, RFC 1812 §5.2.7.1).
    pub fn number(self) -> u8 {
        match self {
            IcmpCode::NetUnreachable => 0,
            IcmpCode::HostUnreachable => 1,
            IcmpCode::PortUnreachable => 3,
            IcmpCode::AdminProhibited => 13,
        }
    }

    /// The error a socket reports for it (Linux `icmp_err_convert`: net 0 ENETUNREACH, host 1
    /// EHOSTUNREACH, port 3 ECONNREFUSED, filtered 13 EHOSTUNREACH).
    pub fn errno(self) -> &'static str {
        match self {
            IcmpCode::NetUnreachable => "ENETUNREACH",
            IcmpCode::HostUnreachable | IcmpCode::AdminProhibited => "EHOSTUNREACH",
            IcmpCode::PortUnreachable => "ECONNREFUSED",
        }
    }
}

/// What the network carries: a TCP segment, or an ICMP error quoting one. An ICMP error goes
/// to the quoted segment's source address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet {
    pub seg: Segment,
    /// `Some` for an ICMP error about `seg` (sent back towards `seg.src`).
    pub icmp: Option<IcmpCode>,
}

impl Packet {
    pub fn tcp(seg: Segment) -> Packet {
        Packet { seg, icmp: None }
    }
    /// The address this packet is routed to.
    pub fn dst_addr(&self) -> AddrId {
        if self.icmp.is_some() {
            self.seg.src.addr
        } else {
            self.seg.dst.addr
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_compare_wraps() {
        let a = SeqNum(u32::MAX - 1);
        let b = a.plus(3);
        assert_eq!(b, SeqNum(1));
        assert!(a.lt(b));
        assert!(b.gt(a));
        assert_eq!(b.diff(a), 3);
    }

    #[test]
    fn flags_parse_and_name_round_trip() {
        assert_eq!(Flags::parse("ack,syn"), Some(Flags::SYN_ACK));
        assert_eq!(Flags::SYN_ACK.name(), "SYN,ACK");
        assert_eq!(Flags::parse("SYN,BOGUS"), None);
    }

    #[test]
    fn payload_push_consume() {
        let mut p = Payload::from_slice(b"Hello");
        p.push(b"World");
        assert_eq!(p.as_slice(), b"HelloWorld");
        p.consume(5);
        assert_eq!(p.as_slice(), b"World");
    }

    #[test]
    fn seg_len_counts_syn_and_fin() {
        let e = Endpoint {
            addr: AddrId(0),
            port: 1,
        };
        let mut s = Segment {
            src: e,
            dst: e,
            seq: SeqNum(0),
            ack: SeqNum(0),
            flags: Flags::SYN,
            window: 0,
            opts: TcpOptions::NONE,
            payload: Payload::EMPTY,
        };
        assert_eq!(s.seg_len(), 1);
        s.flags = Flags::FIN_ACK;
        s.payload = Payload::from_slice(b"abc");
        assert_eq!(s.seg_len(), 4);
    }
}
