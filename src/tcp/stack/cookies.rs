//! The SYN-cookie path of a listener: the stateless SYN-ACK, the check of the ACK that
//! returns it, and the connection created from it, in the listener's cookie format
//! ([`crate::tcp::SyncookieFormat`]; encodings in [`crate::tcp::cookie`]).

use super::Stack;
use crate::tcp::cookie::{self, FreebsdCookie};
use crate::tcp::options::{self, ConnOptions, CookieLoss};
use crate::tcp::{Note, Outbox, Reason, Role, SyncookieFormat, TcpState};
use crate::time::{NS_PER_MS, SimTime};
use crate::wire::{Flags, Payload, Segment, SeqNum};

impl Stack {
    /// What a cookie SYN-ACK for `syn` keeps of its options. Linux: with no timestamps in the
    /// SYN, nothing but the MSS (`tcp_conn_request`: `tcp_clear_options` when `want_cookie`
    /// and no timestamp); FreeBSD: everything its cookie bits can hold.
    fn cookie_keeps(&self, syn: &Segment) -> ConnOptions {
        let mut keeps = options::agree(&self.cfg, &syn.opts, 0);
        let ipv6 = self.ipv6;
        match self.cfg.syncookie_format {
            SyncookieFormat::Linux => {
                if !keeps.timestamps {
                    keeps.wscale = None;
                    keeps.sack = false;
                }
                let table = cookie::linux_table(ipv6);
                keeps.peer_mss = table[cookie::linux_index(ipv6, keeps.peer_mss) as usize];
            }
            SyncookieFormat::Freebsd => {
                let c = FreebsdCookie::round(keeps.peer_mss, keeps.wscale.map(|w| w.0), keeps.sack);
                keeps.peer_mss = c.mss;
                keeps.wscale = c.wscale.map(|w| (w, self.cfg.rcv_wscale));
            }
        }
        keeps
    }

    /// A stateless SYN-ACK whose ISN (and, on Linux, TSval) is the cookie; never retransmitted
    /// (`cookie_v4_init_sequence`, `cookie_init_timestamp`; FreeBSD `syncookie_generate`).
    pub(crate) fn send_cookie_synack(&mut self, syn: &Segment, now: SimTime, out: &mut Outbox) {
        let (local, remote) = (syn.dst, syn.src);
        let mut keeps = self.cookie_keeps(syn);
        keeps.ts_offset = self.ts_offset(local, remote);
        let clock = options::ts_clock(now);
        let (iss, tsval) = match self.cfg.syncookie_format {
            SyncookieFormat::Linux => {
                let idx = cookie::linux_index(self.ipv6, keeps.peer_mss);
                let iss = cookie::encode(self.cookie_secret, local, remote, syn.seq, idx, now);
                let ts = options::cookie_tsval(clock, keeps.wscale.map(|w| w.0), keeps.sack);
                (iss, ts)
            }
            SyncookieFormat::Freebsd => {
                let c = FreebsdCookie {
                    mss: keeps.peer_mss,
                    wscale: keeps.wscale.map(|w| w.0),
                    sack: keeps.sack,
                };
                let iss =
                    cookie::freebsd_encode(self.cookie_secret, local, remote, syn.seq, c, now);
                (iss, clock)
            }
        };
        let mss = self.cfg.advmss(self.ipv6);
        let ts_len = if keeps.timestamps {
            options::TS_ALIGNED_LEN
        } else {
            0
        };
        let tsval = tsval.wrapping_add(keeps.ts_offset);
        let synack = Segment {
            src: local,
            dst: remote,
            seq: iss,
            ack: syn.seq.plus(1),
            flags: Flags::SYN_ACK,
            window: self.cfg.syn_window(mss - ts_len),
            opts: options::synack_options(&self.cfg, self.ipv6, &keeps, tsval),
            payload: Payload::EMPTY,
        };
        out.notes.push(Note::CookieSent {
            segment: out.segments.len() as u32,
            keeps,
        });
        self.emit(synack, out);
    }

    /// Checks the cookie an ACK carries back (`SEG.ACK - 1` against `SEG.SEQ - 1`); returns
    /// the options the connection gets (Linux `cookie_v4_check` with
    /// `cookie_timestamp_decode`; FreeBSD `syncookie_lookup`).
    pub(crate) fn check_cookie(&self, ack: &Segment, now: SimTime) -> Option<ConnOptions> {
        let (local, remote) = (ack.dst, ack.src);
        let client_isn = SeqNum(ack.seq.0.wrapping_sub(1));
        let cookie_isn = SeqNum(ack.ack.0.wrapping_sub(1));
        let secret = self.cookie_secret;
        let ts_offset = self.ts_offset(local, remote);
        let ts = ack.opts.timestamps.filter(|_| self.cfg.timestamps);
        let (peer_mss, wscale, sack) = match self.cfg.syncookie_format {
            SyncookieFormat::Linux => {
                let idx = cookie::decode(secret, local, remote, client_isn, cookie_isn, now)?;
                let mss = cookie::linux_table(self.ipv6)[idx as usize];
                match ts {
                    // The echoed TSval, less the offset the SYN-ACK added.
                    Some((_, ecr)) => {
                        let (w, sack) =
                            options::cookie_ts_decode(&self.cfg, ecr.wrapping_sub(ts_offset))?;
                        (mss, w, sack)
                    }
                    None => (mss, None, false),
                }
            }
            SyncookieFormat::Freebsd => {
                let c = cookie::freebsd_decode(secret, local, remote, client_isn, cookie_isn, now)?;
                (c.mss, c.wscale, c.sack)
            }
        };
        Some(ConnOptions {
            peer_mss,
            wscale: wscale.map(|w| (w, self.cfg.rcv_wscale)),
            sack,
            timestamps: ts.is_some(),
            ts_recent: ts.map_or(0, |(val, _)| val),
            ts_offset,
            by_cookie: true,
        })
    }

    /// The connection a valid cookie ACK creates, straight into ESTABLISHED and the accept
    /// queue (`tcp_get_cookie_sock`).
    pub(crate) fn create_cookie_child(
        &mut self,
        li: usize,
        seg: Segment,
        opt: ConnOptions,
        now: SimTime,
        out: &mut Outbox,
    ) {
        // cookie_v4_check counts the valid cookie before tcp_get_cookie_sock meets the accept
        // queue.
        self.bump(li, |c| c.syncookies_recv += 1);
        if self.accept_queue_full(li) {
            // tcp_v4_syn_recv_sock -> exit_overflow; never a RST for a cookie ACK.
            self.bump(li, |c| c.listen_overflows += 1);
            self.bump(li, |c| c.listen_drops += 1);
            return self.discard(seg, Reason::AcceptQueueFull, out);
        }
        let id = self.insert(Role::Server, seg.dst, seg.src);
        let rto = self.cfg.syn_rto_initial_ms * NS_PER_MS;
        let t = self.tcb_mut(id);
        t.state = TcpState::Listen;
        t.listener = Some(li as u16);
        t.irs = SeqNum(seg.seq.0.wrapping_sub(1));
        t.rcv_nxt = seg.seq;
        t.iss = SeqNum(seg.ack.0.wrapping_sub(1));
        t.snd_una = seg.ack;
        t.snd_nxt = seg.ack;
        t.opened_at = now;
        t.rto_ns = rto;
        t.opt = opt;
        self.set_state(id, TcpState::SynReceived, Reason::CookieAck, out);
        self.set_state(id, TcpState::Established, Reason::CookieAck, out);
        self.bump(li, |c| c.passive_opens += 1); // tcp_get_cookie_sock -> tcp_create_openreq_child
        self.stats[li].options.count(&opt);
        out.notes.push(Note::CookieConnection {
            listener: li as u16,
            remote: seg.src,
            opts: opt,
        });
        self.enqueue_accept(id, li, now, out);
        self.process_text_and_fin(id, seg, now, out);
    }

    /// Records a cookie connection of listener `li` and what it lost (worked out by the engine
    /// from the client's stack, see [`Note::CookieConnection`]).
    pub fn record_cookie_loss(&mut self, li: usize, opts: &ConnOptions, lost: Option<CookieLoss>) {
        self.stats[li].options.cookie.count(opts, lost);
    }
}

/// What a cookie connection `got` lost against `full`, the options a full handshake between
/// the same two stacks agrees on.
pub fn cookie_loss(got: &ConnOptions, full: &ConnOptions) -> CookieLoss {
    CookieLoss {
        mss_lowered: got.peer_mss < full.peer_mss,
        wscale: full.wscale.is_some() && got.wscale.map(|w| w.0) != full.wscale.map(|w| w.0),
        sack: full.sack && !got.sack,
    }
}
