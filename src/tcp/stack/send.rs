//! Sending: every segment leaves through `emit` (OutSegs, OutRsts); RSTs for segments
//! nobody owns; control segments; the data-and-FIN flight (stop-and-wait).

use super::Stack;
use crate::tcp::tcb::TimerKind;
use crate::tcp::{ConnId, Outbox, options};
use crate::time::{SimDuration, SimTime};
use crate::wire::{Flags, Payload, Segment, SeqNum, TcpOptions};

impl Stack {
    // ------------------------------------------------------------------ sending

    pub(crate) fn emit(&mut self, seg: Segment, out: &mut Outbox) {
        self.counters.out_segs += 1;
        self.push_segment(seg, out);
    }

    /// A retransmission by a full socket (SYN, data, FIN): its caller counts RetransSegs; not
    /// OutSegs, which Linux's `__tcp_transmit_skb` counts only for a segment that advances
    /// SND.NXT or carries no sequence space. (A request's SYN-ACK is built by
    /// `tcp_make_synack`, which counts OutSegs on every send: those go through [`Self::emit`].)
    pub(crate) fn emit_retransmit(&mut self, seg: Segment, out: &mut Outbox) {
        self.push_segment(seg, out);
    }

    fn push_segment(&mut self, seg: Segment, out: &mut Outbox) {
        if seg.flags.rst() {
            self.counters.out_rsts += 1;
        }
        out.segments.push(seg);
    }

    /// A RST answering `seg` (RFC 9293 §3.10.7.1): `<SEQ=SEG.ACK><CTL=RST>` if it had an ACK,
    /// else `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`. Never answers a RST.
    pub(crate) fn send_reset_for(&mut self, seg: &Segment, out: &mut Outbox) {
        if seg.flags.rst() {
            return;
        }
        let rst = if seg.flags.ack() {
            Segment {
                src: seg.dst,
                dst: seg.src,
                seq: seg.ack,
                ack: SeqNum(0),
                flags: Flags::RST,
                window: 0,
                opts: TcpOptions::NONE,
                payload: Payload::EMPTY,
            }
        } else {
            Segment {
                src: seg.dst,
                dst: seg.src,
                seq: SeqNum(0),
                ack: seg.seq.plus(seg.seg_len()),
                flags: Flags::RST_ACK,
                window: 0,
                opts: TcpOptions::NONE,
                payload: Payload::EMPTY,
            }
        };
        self.emit(rst, out);
    }

    /// A bare control segment from connection `id` with its current SND.NXT / RCV.NXT.
    pub(crate) fn send_ctl(&mut self, id: ConnId, flags: Flags, seq: SeqNum, out: &mut Outbox) {
        let seg = self.ctl_segment(id, flags, seq);
        self.emit(seg, out);
    }

    /// A control segment of connection `id`, with the options and window it carries: a SYN
    /// offers this stack's options, a SYN-ACK answers with what was agreed, anything else
    /// carries the timestamps (if agreed) and the scaled window.
    pub(crate) fn ctl_segment(&self, id: ConnId, flags: Flags, seq: SeqNum) -> Segment {
        let t = self.tcb(id);
        let mut seg = Segment {
            src: t.local,
            dst: t.remote,
            seq,
            ack: if flags.ack() { t.rcv_nxt } else { SeqNum(0) },
            flags,
            window: 0,
            opts: TcpOptions::NONE,
            payload: Payload::EMPTY,
        };
        let tsval = || options::ts_clock(self.clock).wrapping_add(t.opt.ts_offset);
        if flags == Flags::SYN {
            seg.opts = options::syn_offer(&self.cfg, self.ipv6, tsval());
            seg.window = self.cfg.syn_window(self.cfg.advmss(self.ipv6));
        } else if flags == Flags::SYN_ACK {
            seg.opts = options::synack_options(&self.cfg, self.ipv6, &t.opt, tsval());
            let ts = if t.opt.timestamps {
                options::TS_ALIGNED_LEN
            } else {
                0
            };
            seg.window = self.cfg.syn_window(self.cfg.advmss(self.ipv6) - ts);
        } else {
            let tsval = if t.opt.timestamps { tsval() } else { 0 };
            options::dress(&mut seg, &self.cfg, self.ipv6, &t.opt, tsval);
        }
        seg
    }

    /// Sends everything from SND.UNA: queued data and, if the application closed, the FIN.
    /// Stop-and-wait: called when nothing is in flight, or to retransmit (`retransmit`).
    pub(crate) fn send_flight(
        &mut self,
        id: ConnId,
        now: SimTime,
        retransmit: bool,
        out: &mut Outbox,
    ) {
        let tx = self.buffers(id).tx;
        let t = self.tcb_mut(id);
        let fin = t.fin_queued && !t.fin_acked();
        if tx.is_empty() && !fin {
            return;
        }
        let mut flags = Flags::ACK;
        if !tx.is_empty() {
            flags = flags.union(Flags::PSH);
        }
        if fin {
            flags = flags.union(Flags::FIN);
            t.fin_seq = Some(t.snd_una.plus(tx.len() as u32));
        }
        let mut seg = Segment {
            src: t.local,
            dst: t.remote,
            seq: t.snd_una,
            ack: t.rcv_nxt,
            flags,
            window: 0,
            opts: TcpOptions::NONE,
            payload: tx,
        };
        let opt = t.opt;
        let new_nxt = t.snd_una.plus(seg.seg_len());
        let first = !t.in_flight();
        if new_nxt.gt(t.snd_nxt) {
            t.snd_nxt = new_nxt;
        }
        if first {
            t.flight_sent_at = now;
            t.timeouts = 0;
        }
        let rto = SimDuration(t.rto_ns);
        let tsval = options::ts_clock(now).wrapping_add(opt.ts_offset);
        options::dress(&mut seg, &self.cfg, self.ipv6, &opt, tsval);
        if retransmit {
            self.emit_retransmit(seg, out);
        } else {
            self.emit(seg, out);
        }
        self.arm(id, now, now + rto, TimerKind::Retransmit, out);
    }
}
