//! Packet captures: one pcapng file per capture point, `<host>.pcapng`, holding what tcpdump on
//! that host's interface would show (see [`crate::sim::Observer::tap`]): every packet the host
//! sends, and every packet that reaches it while it is up, including those its stack then
//! discards. A packet lost on the path is on the sender's capture only.
//!
//! - Frames are raw IPv4/IPv6 packets (link type RAW) with real headers and checksums
//!   ([`frame`]); timestamps are simulated time in nanoseconds (`if_tsresol` 9) from the Unix
//!   epoch: time 0 of the run is 1970-01-01 00:00:00 UTC, so reruns are byte-identical.
//! - A packet the network lost or the stack discarded carries an Enhanced Packet Block comment
//!   with the verdict and the counter it bumped (`dropped by server: syn_queue_full
//!   (TCPReqQFullDrop)`); a cookie SYN-ACK says what its cookie keeps. A packet sent to a host
//!   that is down says so (`sent while server is down`); one that finds its host down only on
//!   arrival (the host crashed while it travelled) carries no comment, as its record was
//!   written before (the summary counts those drops).
//! - Bounded: records are written as they happen (one pending record per capture point, held
//!   only until its verdict is known); each capture stops at `max_packets` or `max_bytes`, and
//!   spoofed flows (an endpoint no host owns) can be sampled 1 in N by a hash of the 4-tuple, so
//!   a kept flow keeps its SYN and every SYN-ACK. What was left out is in summary.json.

mod comments;
pub mod frame;

use std::borrow::Cow;
use std::io::Write;
use std::time::Duration;

use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::{DataLink, Endianness};
use serde::Serialize;

use crate::net::{HostId, Network};
use crate::sim::{Fate, Observer, Tap};
use crate::spec::CaptureSpec;
use crate::tcp::options::ConnOptions;
use crate::time::SimTime;
use crate::wire::{Packet, Segment};
use comments::Key;

/// What one capture wrote, for summary.json.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct CaptureStats {
    /// Bytes of packet data written.
    pub bytes: u64,
    pub file: String,
    pub host: String,
    /// Packets left out because the capture reached `max_packets` or `max_bytes`.
    pub over_cap: u64,
    /// Packets written.
    pub packets: u64,
    /// Packets of spoofed flows left out by `spoofed_one_in`.
    pub sampled_out: u64,
}

struct Pending {
    t: SimTime,
    pkt: Packet,
    /// Index in [`comments::Comments`].
    comment: Option<u32>,
}

struct Point<W: Write> {
    w: PcapNgWriter<W>,
    pending: Option<Pending>,
    /// A cookie SYN-ACK this host is about to send, and its comment.
    cookie: Option<(Segment, u32)>,
    stats: CaptureStats,
}

/// The capture observer: one writer per capture point.
pub struct CaptureWriter<W: Write> {
    points: Vec<Option<Point<W>>>,
    spec: CaptureSpec,
    frame: frame::FrameBuilder,
    buf: Vec<u8>,
    /// The capture point whose pending record the next verdict is about.
    last: Option<HostId>,
    /// Hosts down now (from the scenario's `alive` and the crash and restart events).
    down: Vec<bool>,
    comments: comments::Comments,
    error: Option<std::io::Error>,
}

impl<W: Write> CaptureWriter<W> {
    /// Starts a capture on each host of `spec.hosts`; `open` makes its file (named
    /// `<host>.pcapng`).
    pub fn new(
        spec: &CaptureSpec,
        host_names: &[String],
        alive: &[bool],
        mut open: impl FnMut(&str) -> std::io::Result<W>,
    ) -> std::io::Result<CaptureWriter<W>> {
        let mut points: Vec<Option<Point<W>>> = (0..host_names.len()).map(|_| None).collect();
        for &h in &spec.hosts {
            let name = &host_names[h.0 as usize];
            let file = format!("{name}.pcapng");
            let section = SectionHeaderBlock {
                endianness: Endianness::Little,
                options: vec![SectionHeaderOption::UserApplication(Cow::Borrowed(
                    "synsim",
                ))],
                ..Default::default()
            };
            let mut w =
                PcapNgWriter::with_section_header(open(&file)?, section).map_err(pcap_error)?;
            let idb = InterfaceDescriptionBlock {
                linktype: DataLink::RAW,
                snaplen: 0,
                options: vec![
                    InterfaceDescriptionOption::IfName(Cow::Owned(name.clone())),
                    InterfaceDescriptionOption::IfTsResol(9),
                ],
            };
            w.write_pcapng_block(idb).map_err(pcap_error)?;
            points[h.0 as usize] = Some(Point {
                w,
                pending: None,
                cookie: None,
                stats: CaptureStats {
                    host: name.clone(),
                    file,
                    ..Default::default()
                },
            });
        }
        Ok(CaptureWriter {
            points,
            spec: spec.clone(),
            frame: frame::FrameBuilder::default(),
            buf: Vec::new(),
            last: None,
            down: alive.iter().map(|a| !a).collect(),
            comments: comments::Comments::default(),
            error: None,
        })
    }

    /// Writes what is pending and returns each capture's figures (scenario host order).
    pub fn finish(mut self, net: &Network) -> std::io::Result<Vec<CaptureStats>> {
        for h in 0..self.points.len() {
            self.flush(h, net);
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let mut out = Vec::new();
        for p in self.points.into_iter().flatten() {
            let mut w = p.w.into_inner();
            w.flush()?;
            out.push(p.stats);
        }
        Ok(out)
    }

    /// Writes capture point `h`'s pending record, within its caps.
    fn flush(&mut self, h: usize, net: &Network) {
        let Some(p) = self.points[h].as_mut() else {
            return;
        };
        let Some(rec) = p.pending.take() else {
            return;
        };
        self.frame.build(&rec.pkt, &net.addrs, &mut self.buf);
        let len = self.buf.len() as u64;
        if p.stats.packets >= self.spec.max_packets
            || p.stats.bytes.saturating_add(len) > self.spec.max_bytes
        {
            p.stats.over_cap += 1;
            return;
        }
        let block = EnhancedPacketBlock {
            interface_id: 0,
            timestamp: Duration::from_nanos(rec.t.as_ns()),
            original_len: len as u32,
            data: Cow::Borrowed(&self.buf),
            options: rec
                .comment
                .map(|c| {
                    vec![EnhancedPacketOption::Comment(Cow::Borrowed(
                        self.comments.text(c),
                    ))]
                })
                .unwrap_or_default(),
        };
        match p.w.write_pcapng_block(block) {
            Ok(_) => {
                p.stats.packets += 1;
                p.stats.bytes += len;
            }
            Err(e) => {
                if self.error.is_none() {
                    self.error = Some(pcap_error(e));
                }
            }
        }
    }

    /// Whether a packet belongs to a spoofed flow that sampling leaves out.
    fn sampled_out(&self, pkt: &Packet, net: &Network) -> bool {
        let n = self.spec.spoofed_one_in;
        if n <= 1 {
            return false;
        }
        let (a, b) = (pkt.seg.src, pkt.seg.dst);
        if net.addrs.owner(a.addr).is_some() && net.addrs.owner(b.addr).is_some() {
            return false;
        }
        // The same hash for both directions of a flow.
        let (lo, hi) = if (a.addr, a.port) <= (b.addr, b.port) {
            (a, b)
        } else {
            (b, a)
        };
        let key = ((lo.addr.0 as u64) << 32 | hi.addr.0 as u64)
            ^ ((lo.port as u64) << 48 | (hi.port as u64) << 16).rotate_left(7);
        splitmix(key) % n != 0
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn pcap_error(e: pcap_file::PcapError) -> std::io::Error {
    match e {
        pcap_file::PcapError::IoError(e) => e,
        other => std::io::Error::other(other.to_string()),
    }
}

impl<W: Write> Observer for CaptureWriter<W> {
    fn tap(&mut self, t: SimTime, host: HostId, tap: Tap, pkt: &Packet, net: &Network) {
        let h = host.0 as usize;
        if self.points[h].is_none() {
            self.last = None;
            return;
        }
        self.flush(h, net);
        let sampled_out = self.sampled_out(pkt, net);
        let p = self.points[h].as_mut().expect("checked above");
        if sampled_out {
            p.stats.sampled_out += 1;
            self.last = None;
            return;
        }
        let mut comment = match (&p.cookie, tap) {
            (Some((seg, _)), Tap::Out) if *seg == pkt.seg && pkt.icmp.is_none() => {
                p.cookie.take().map(|(_, c)| c)
            }
            _ => None,
        };
        // Whether it will still be down on arrival is not known yet: say what is known now.
        if let (Tap::Out, Some(to)) = (tap, net.addrs.owner(pkt.dst_addr())) {
            if self.down[to.0 as usize] {
                comment = Some(self.comments.get(Key::ToDownHost(to), net));
            }
        }
        p.pending = Some(Pending {
            t,
            pkt: *pkt,
            comment,
        });
        self.last = Some(host);
    }

    fn packet(&mut self, _t: SimTime, fate: Fate, pkt: &Packet, net: &Network) {
        let key = match fate {
            Fate::Send | Fate::Deliver => return,
            // Decided at the receiver, whose capture never saw it (see the module doc).
            Fate::NetDrop(crate::net::NetDrop::HostDown) => return,
            Fate::NetDrop(d) => Key::Lost(d),
            Fate::HostDrop(r) => match self.last {
                Some(h) => Key::Dropped(h, r),
                None => return,
            },
        };
        let Some(h) = self.last else {
            return;
        };
        let Some(p) = self.points[h.0 as usize].as_mut() else {
            return;
        };
        let Some(rec) = p.pending.as_mut() else {
            return;
        };
        // A discarded ICMP error is reported as its quoted segment; a network verdict is about
        // the very packet (an ICMP error the router's rate limit suppresses quotes the segment
        // that was just recorded, and must not be pinned on it).
        let same = match key {
            Key::Dropped(..) => rec.pkt.seg == pkt.seg,
            _ => rec.pkt == *pkt,
        };
        if !same {
            return;
        }
        let c = self.comments.get(key, net);
        rec.comment = Some(match rec.comment {
            Some(prev) => self.comments.get(Key::Both(prev, c), net),
            None => c,
        });
    }

    fn host(&mut self, _t: SimTime, host: HostId, up: bool) {
        self.down[host.0 as usize] = !up;
    }

    fn cookie_sent(&mut self, _t: SimTime, host: HostId, synack: &Segment, keeps: &ConnOptions) {
        if let Some(p) = self.points[host.0 as usize].as_mut() {
            p.cookie = Some((*synack, self.comments.cookie(keeps)));
        }
    }
}
