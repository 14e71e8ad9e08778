//! One simulated packet as the bytes of a raw IP frame (pcapng link type RAW: no invented
//! link-layer header), built with `etherparse`, which also computes the IP and TCP checksums.
//!
//! TCP options are written in the sending stack's order ([`OptionLayout`]), NOPs included, so
//! tshark shows `mss,sackOK,TS,nop,wscale` for Linux and `mss,nop,wscale,sackOK,TS` for
//! FreeBSD. IPv4 headers carry TTL 64, DF and IP ID 0 (Linux sets DF on TCP and, with DF, a
//! per-socket ID that is not modelled); IPv6 headers hop limit 64 and flow label 0.
//!
//! An ICMP error is sent by a router synsim does not model: its source address is the
//! quoted packet's destination (the address that could not be reached), and it quotes the
//! whole packet (Linux `icmp_send` quotes up to 576 bytes, more than any synsim packet).

use std::net::IpAddr;

use etherparse::{
    IpHeaders, IpNumber, Ipv4Header, Ipv6FlowLabel, Ipv6Header, PacketBuilder, TcpHeader,
    TcpOptionElement, icmpv4, icmpv6,
};

use crate::net::AddrTable;
use crate::wire::{IcmpCode, OptionLayout, Packet, Segment, TcpOptions};

/// TTL / hop limit of every packet.
const TTL: u8 = 64;

/// The TCP options of `o` as elements, in the sender's order.
fn option_elements(o: &TcpOptions, v: &mut Vec<TcpOptionElement>) {
    use TcpOptionElement::*;
    v.clear();
    if let Some(m) = o.mss {
        v.push(MaximumSegmentSize(m));
    }
    let ts = o.timestamps.map(|(val, ecr)| Timestamp(val, ecr));
    match o.layout {
        // tcp_options_write: sackOK rides in the timestamps' two padding bytes.
        OptionLayout::Linux => {
            match (o.sack_permitted, ts) {
                (true, Some(ts)) => v.extend([SelectiveAcknowledgementPermitted, ts]),
                (false, Some(ts)) => v.extend([Noop, Noop, ts]),
                (true, None) => v.extend([Noop, Noop, SelectiveAcknowledgementPermitted]),
                (false, None) => {}
            }
            if let Some(w) = o.wscale {
                v.extend([Noop, WindowScale(w)]);
            }
        }
        // tcp_addoptions: NOP-aligned window scale, sackOK, then the timestamps (NOP-padded
        // to a 4-byte boundary + 2), EOL padding at the end.
        OptionLayout::Freebsd => {
            let mut len = o.mss.map_or(0, |_| 4);
            if let Some(w) = o.wscale {
                v.extend([Noop, WindowScale(w)]);
                len += 4;
            }
            if o.sack_permitted {
                v.push(SelectiveAcknowledgementPermitted);
                len += 2;
            }
            if let Some(ts) = ts {
                while len % 4 != 2 {
                    v.push(Noop);
                    len += 1;
                }
                v.push(ts);
            }
        }
    }
}

fn ip_header(src: IpAddr, dst: IpAddr, proto: IpNumber) -> IpHeaders {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut h = Ipv4Header::new(0, TTL, proto, s.octets(), d.octets())
                .expect("an empty payload fits");
            h.dont_fragment = true;
            IpHeaders::Ipv4(h, Default::default())
        }
        (s, d) => {
            let v6 = |a: IpAddr| match a {
                IpAddr::V6(a) => a.octets(),
                IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
            };
            IpHeaders::Ipv6(
                Ipv6Header {
                    traffic_class: 0,
                    flow_label: Ipv6FlowLabel::ZERO,
                    payload_length: 0,
                    next_header: proto,
                    hop_limit: TTL,
                    source: v6(s),
                    destination: v6(d),
                },
                Default::default(),
            )
        }
    }
}

fn tcp_header(seg: &Segment, opts: &mut Vec<TcpOptionElement>) -> TcpHeader {
    let mut h = TcpHeader::new(seg.src.port, seg.dst.port, seg.seq.0, seg.window);
    let f = seg.flags;
    h.acknowledgment_number = seg.ack.0;
    (h.syn, h.ack, h.fin, h.rst, h.psh) = (
        f.syn(),
        f.ack(),
        f.fin(),
        f.rst(),
        f.has(crate::wire::Flags::PSH),
    );
    option_elements(&seg.opts, opts);
    h.set_options(opts)
        .expect("synsim's options fit in 40 bytes");
    h
}

/// Scratch space reused for every packet (no allocation per packet once warm).
#[derive(Default)]
pub struct FrameBuilder {
    opts: Vec<TcpOptionElement>,
    quoted: Vec<u8>,
}

impl FrameBuilder {
    /// Writes the bytes of `pkt` into `out` (cleared first).
    pub fn build(&mut self, pkt: &Packet, addrs: &AddrTable, out: &mut Vec<u8>) {
        out.clear();
        let seg = &pkt.seg;
        let (src, dst) = (addrs.get(seg.src.addr), addrs.get(seg.dst.addr));
        match pkt.icmp {
            None => {
                let tcp = tcp_header(seg, &mut self.opts);
                PacketBuilder::ip(ip_header(src, dst, IpNumber::TCP))
                    .tcp_header(tcp)
                    .write(out, seg.payload.as_slice())
                    .expect("writing to a Vec cannot fail");
            }
            Some(code) => {
                // The quoted packet, then the error from its destination back to its source.
                let mut quoted = std::mem::take(&mut self.quoted);
                self.build(&Packet::tcp(*seg), addrs, &mut quoted);
                let builder = PacketBuilder::ip(ip_header(
                    dst,
                    src,
                    if src.is_ipv6() {
                        IpNumber::IPV6_ICMP
                    } else {
                        IpNumber::ICMP
                    },
                ));
                let written = if src.is_ipv6() {
                    builder
                        .icmpv6(etherparse::Icmpv6Type::DestinationUnreachable(v6_code(
                            code,
                        )))
                        .write(out, &quoted)
                } else {
                    builder
                        .icmpv4(etherparse::Icmpv4Type::DestinationUnreachable(v4_code(
                            code,
                        )))
                        .write(out, &quoted)
                };
                written.expect("writing to a Vec cannot fail");
                self.quoted = quoted;
            }
        }
    }
}

fn v4_code(c: IcmpCode) -> icmpv4::DestUnreachableHeader {
    use icmpv4::DestUnreachableHeader::*;
    match c {
        IcmpCode::NetUnreachable => Network,
        IcmpCode::HostUnreachable => Host,
        IcmpCode::PortUnreachable => Port,
        IcmpCode::AdminProhibited => FilterProhibited,
    }
}

/// RFC 4443 §3.1 codes for the same conditions.
fn v6_code(c: IcmpCode) -> icmpv6::DestUnreachableCode {
    use icmpv6::DestUnreachableCode::*;
    match c {
        IcmpCode::NetUnreachable => NoRoute,
        IcmpCode::HostUnreachable => Address,
        IcmpCode::PortUnreachable => Port,
        IcmpCode::AdminProhibited => Prohibited,
    }
}
