//! Segment arrival: RFC 9293 §3.10.7 event processing, with Linux's listener rules
//! (`tcp_conn_request`, `tcp_check_req`) for the SYN and accept queues.

use super::config::SynCookies;
use super::tcb::TimerKind;
use super::{ConnId, Counters, Note, Outbox, Reason, Role, SocketEvent, Stack, TcpState, options};
use crate::time::{NS_PER_MS, SimDuration, SimTime};
use crate::wire::{Flags, IcmpCode, Segment, SeqNum};

/// RFC 9293 §3.10.7.4, first check: the segment acceptability table.
fn seq_acceptable(rcv_nxt: SeqNum, wnd: u32, seq: SeqNum, len: u32) -> bool {
    let in_win = |s: SeqNum| s.ge(rcv_nxt) && (s.diff(rcv_nxt) as u32) < wnd;
    match (len, wnd) {
        (0, 0) => seq == rcv_nxt,
        (0, _) => in_win(seq),
        (_, 0) => false,
        _ => in_win(seq) || in_win(seq.plus(len - 1)),
    }
}

impl Stack {
    pub(crate) fn discard(&mut self, seg: Segment, reason: Reason, out: &mut Outbox) {
        out.notes.push(Note::Discard { seg, reason });
    }

    /// Linux `tcp_oow_rate_limited`: an ACK answering an out-of-window segment (dupack,
    /// challenge ACK, or a request's ACK) is sent at most once per `invalid_ratelimit_ms` per
    /// connection; a skipped one bumps its TCPACKSkipped* counter. Keeps two ends that disagree
    /// about sequence numbers from answering each other's ACKs forever.
    fn oow_ack_allowed(&mut self, id: ConnId, now: SimTime, skipped: fn(&mut Counters)) -> bool {
        let limit = SimDuration::from_ms(self.cfg.invalid_ratelimit_ms);
        let t = self.tcb_mut(id);
        if limit.as_ns() > 0 && t.last_oow_ack.is_some_and(|last| now.since(last) < limit) {
            skipped(&mut self.counters);
            return false;
        }
        t.last_oow_ack = Some(now);
        true
    }

    /// A segment addressed to this host arrives.
    pub fn on_segment(&mut self, now: SimTime, seg: Segment, out: &mut Outbox) {
        if !self.is_alive() {
            return;
        }
        self.counters.in_segs += 1;
        self.clock = now;
        self.dispatch(now, seg, out);
    }

    /// Hands a segment to its connection, its listener, or the closed-port rule.
    fn dispatch(&mut self, now: SimTime, seg: Segment, out: &mut Outbox) {
        let (local, remote) = (seg.dst, seg.src);
        if let Some(id) = self.lookup(local, remote) {
            let t = self.tcb_mut(id);
            // TS.Recent (RFC 7323 §4.3, without PAWS): the last TSval the peer sent.
            if let (true, Some((val, _))) = (t.opt.timestamps, seg.opts.timestamps) {
                t.opt.ts_recent = val;
            }
            if t.is_request {
                self.on_request_segment(id, seg, now, out);
            } else if t.state == TcpState::SynSent {
                self.on_syn_sent(id, seg, now, out);
            } else {
                self.on_synchronized(id, seg, now, out);
            }
        } else if let Some(li) = self.listener_for_port(local.port) {
            self.on_listen(li, seg, now, out);
        } else {
            self.on_closed(seg, out);
        }
    }

    /// §3.10.7.1: no connection, no listener: answer with RST (never a RST to a RST).
    fn on_closed(&mut self, seg: Segment, out: &mut Outbox) {
        self.discard(seg, Reason::NoSocket, out);
        self.send_reset_for(&seg, out);
    }

    /// §3.10.7.2 LISTEN, plus SYN cookie validation of a bare ACK (Linux `cookie_v4_check`).
    fn on_listen(&mut self, li: usize, seg: Segment, now: SimTime, out: &mut Outbox) {
        if seg.flags.rst() {
            return self.discard(seg, Reason::RstToListener, out);
        }
        if seg.flags.ack() {
            if !seg.flags.syn() && self.cookie_check_enabled(li, now) {
                if let Some(opt) = self.check_cookie(&seg, now) {
                    return self.create_cookie_child(li, seg, opt, now, out);
                }
                self.bump(li, |c| c.syncookies_failed += 1);
                self.discard(seg, Reason::CookieInvalid, out);
                return self.send_reset_for(&seg, out);
            }
            // "Any acknowledgment is bad if it arrives on a connection still in the LISTEN
            // state": <SEQ=SEG.ACK><CTL=RST>.
            self.discard(seg, Reason::BadAck, out);
            return self.send_reset_for(&seg, out);
        }
        if seg.flags.syn() {
            return self.admit_syn(li, seg, now, out);
        }
        self.discard(seg, Reason::NoAckToListener, out);
    }

    fn cookie_check_enabled(&self, li: usize, now: SimTime) -> bool {
        match self.cfg.syncookies {
            SynCookies::Off => false,
            SynCookies::Always => true,
            // tcp_synq_no_recent_overflow: only look for cookies after a recent overflow.
            SynCookies::OnOverflow => self.listeners[li]
                .as_ref()
                .and_then(|l| l.last_overflow)
                .is_some_and(|t| {
                    now.since(t) <= SimDuration::from_ms(self.cfg.syncookie_check_window_ms)
                }),
        }
    }

    /// Admission of a SYN, in the order of Linux `tcp_conn_request` (generalised by the knobs:
    /// FreeBSD's syncache and RFC 4987's recycle-oldest plug in at step 1).
    fn admit_syn(&mut self, li: usize, seg: Segment, now: SimTime, out: &mut Outbox) {
        let (local, remote) = (seg.dst, seg.src);
        let cookies = self.cfg.syncookies;
        // A FreeBSD syncache evicts the oldest entry of a full bucket before anything else
        // (syncache_insert); with cookies on, the overflow starts a cookies-only pause.
        if self.syncache.is_some()
            && self.make_room(li, local, remote, now, out).is_some()
            && cookies != SynCookies::Off
        {
            self.start_cookie_pause(now);
        }
        let paused = self.syncache.as_ref().is_some_and(|s| s.paused_until > now);
        // 1. SYN queue full (or cookies always): cookie, recycle, or drop.
        let mut want_cookie = false;
        if cookies == SynCookies::Always || paused || self.syn_queue_full(li) {
            if cookies != SynCookies::Off {
                // tcp_syn_flood_action: TCPReqQFullDoCookies
                want_cookie = true;
                self.bump(li, |c| c.req_q_full_do_cookies += 1);
                if self.syncache.is_some() && !paused && cookies == SynCookies::OnOverflow {
                    self.start_cookie_pause(now);
                }
            } else if self.make_room(li, local, remote, now, out).is_none()
                || self.syn_queue_full(li)
            {
                // tcp_syn_flood_action: TCPReqQFullDrop; drop: tcp_listendrop
                self.bump(li, |c| c.req_q_full_drop += 1);
                self.bump(li, |c| c.listen_drops += 1);
                if self.syncache.is_some() {
                    self.bump(li, |c| c.syncache_cache_overflow += 1);
                    return self.discard(seg, Reason::SyncacheCacheOverflow, out);
                }
                return self.discard(seg, Reason::SynQueueFull, out);
            }
        }
        // 2. Accept queue full: drop, even where a cookie would have been sent.
        if self.cfg.syn_drop_if_accept_queue_full && self.accept_queue_full(li) {
            self.bump(li, |c| c.listen_overflows += 1);
            self.bump(li, |c| c.listen_drops += 1);
            return self.discard(seg, Reason::AcceptQueueFull, out);
        }
        // 3. With cookies off: keep the last quarter of max_syn_backlog for proven peers.
        if !want_cookie && cookies == SynCookies::Off && self.cfg.quarter_rule {
            let msb = self.cfg.max_syn_backlog as i128;
            let qlen = self.listeners[li].as_ref().map_or(0, |l| l.syn_queue_len) as i128;
            if msb - qlen < (msb >> 2) && !self.is_proven(remote.addr) {
                self.bump(li, |c| c.listen_drops += 1);
                return self.discard(seg, Reason::QuarterRule, out);
            }
        }
        if want_cookie {
            if let Some(l) = self.listeners[li].as_mut() {
                l.last_overflow = Some(now); // tcp_synq_overflow
            }
            self.bump(li, |c| c.syncookies_sent += 1);
            return self.send_cookie_synack(&seg, now, out);
        }
        // 4. A request (half-open entry): SYN-ACK and its timer.
        let opt = options::agree(&self.cfg, &seg.opts, self.ts_offset(local, remote));
        let id = self.insert(Role::Server, local, remote);
        let iss = self.next_isn();
        let t = self.tcb_mut(id);
        t.opt = opt;
        t.state = TcpState::Listen;
        t.listener = Some(li as u16);
        t.irs = seg.seq;
        t.rcv_nxt = seg.seq.plus(1);
        t.iss = iss;
        t.snd_una = iss;
        t.snd_nxt = iss.plus(1);
        t.opened_at = now;
        t.flight_sent_at = now;
        self.link_request(id, li);
        self.set_state(id, TcpState::SynReceived, Reason::SynReceived, out);
        self.send_ctl(id, Flags::SYN_ACK, iss, out);
        let mut next = now + SimDuration::from_ms(self.cfg.synack_rto_after(0));
        if let Some(ms) = self.cfg.synrecv_timeout_ms {
            next = next.min(now + SimDuration::from_ms(ms));
        }
        self.arm(id, now, next, TimerKind::Retransmit, out);
    }

    /// FreeBSD `syncache_pause`: cookies only for a while; the pause doubles when the attack
    /// resumes within the previous pause's length (at most 8x).
    fn start_cookie_pause(&mut self, now: SimTime) {
        let Some(base_ms) = self.cfg.syncookies_only_pause_ms else {
            return;
        };
        let Some(sc) = self.syncache.as_mut() else {
            return;
        };
        if sc.paused_until > now {
            return;
        }
        let last = SimDuration::from_ms(base_ms).shl_saturating(sc.pause_backoff);
        if sc.paused_until != SimTime::ZERO && now.since(sc.paused_until) < last {
            if sc.pause_backoff < 3 {
                sc.pause_backoff += 1;
            }
        } else {
            sc.pause_backoff = 0;
        }
        sc.paused_until = now + SimDuration::from_ms(base_ms).shl_saturating(sc.pause_backoff);
    }

    /// A segment for a half-open entry: Linux `tcp_check_req`, in its order.
    fn on_request_segment(&mut self, id: ConnId, seg: Segment, now: SimTime, out: &mut Outbox) {
        let li = self.tcb(id).listener.expect("request has a listener") as usize;
        let (iss, irs, rcv_nxt) = {
            let t = self.tcb(id);
            (t.iss, t.irs, t.rcv_nxt)
        };
        // Retransmitted SYN: re-send the SYN-ACK and restart its timer, at most once per
        // invalid_ratelimit_ms (tcp_check_req: tcp_oow_rate_limited, TCPACKSkippedSynRecv).
        if seg.flags == Flags::SYN && seg.seq == irs {
            if !self.oow_ack_allowed(id, now, |c| c.ack_skipped_syn_recv += 1) {
                return self.discard(seg, Reason::SynRetransmitRateLimited, out);
            }
            self.counters.syn_retrans += 1;
            self.counters.retrans_segs += 1;
            self.send_ctl(id, Flags::SYN_ACK, iss, out);
            let timeouts = self.tcb(id).timeouts;
            let at = now + SimDuration::from_ms(self.cfg.synack_rto_after(timeouts));
            return self.arm(id, now, at, TimerKind::Retransmit, out);
        }
        // An ACK that does not acknowledge our SYN: the listener answers with RST.
        if seg.flags.ack() && seg.ack != iss.plus(1) {
            self.discard(seg, Reason::BadAck, out);
            return self.send_reset_for(&seg, out);
        }
        // tcp_in_window
        let mut flags = seg.flags;
        if !seq_acceptable(rcv_nxt, self.cfg.rcv_window, seg.seq, seg.seg_len()) {
            if !flags.rst() && self.oow_ack_allowed(id, now, |c| c.ack_skipped_syn_recv += 1) {
                self.send_ctl(id, Flags::ACK, iss.plus(1), out);
            }
            return self.discard(seg, Reason::UnacceptableSeq, out);
        }
        if seg.seq == irs {
            flags = crate::wire::Flags(flags.0 & !Flags::SYN.0);
        }
        if flags.rst() || flags.syn() {
            // RST (or a new SYN) in SYN-RECEIVED: back to LISTEN (§3.10.7.4), EmbryonicRsts.
            self.bump(li, |c| c.attempt_fails += 1);
            if !flags.rst() {
                self.send_reset_for(&seg, out);
            }
            self.bump(li, |c| c.embryonic_rsts += 1);
            let reason = if flags.rst() {
                Reason::RstReceived
            } else {
                Reason::SynInWindow
            };
            return self.close_and_free(id, TcpState::Listen, reason, now, out);
        }
        if !flags.ack() {
            return self.discard(seg, Reason::NoAck, out);
        }
        if self.accept_queue_full(li) {
            // tcp_v4_syn_recv_sock -> exit_overflow
            self.bump(li, |c| c.listen_overflows += 1);
            self.bump(li, |c| c.listen_drops += 1);
            if self.cfg.abort_on_overflow {
                self.send_reset_for(&seg, out);
                self.bump(li, |c| c.embryonic_rsts += 1);
                // Reported once, as the request's state change (reason and counter).
                return self.close_and_free(
                    id,
                    TcpState::Closed,
                    Reason::AcceptQueueFullAbort,
                    now,
                    out,
                );
            }
            return self.discard(seg, Reason::FinalAckIgnored, out);
        }
        // The handshake completes: the request becomes a child in the accept queue.
        self.unlink_request(id);
        self.syn_acked(id, seg.ack, now);
        self.set_state(id, TcpState::Established, Reason::AckOfSyn, out);
        self.bump(li, |c| c.passive_opens += 1); // tcp_create_openreq_child
        let opt = self.tcb(id).opt;
        self.stats[li].options.count(&opt);
        self.enqueue_accept(id, li, now, out);
        self.process_text_and_fin(id, seg, now, out);
    }

    /// Our SYN (or SYN-ACK) is acknowledged by `ack`: take the handshake's RTT sample if it
    /// was never retransmitted (Karn), else fall back to 3 x the initial RTO (RFC 6298 §5.7),
    /// and stop the retransmission timer.
    fn syn_acked(&mut self, id: ConnId, ack: SeqNum, now: SimTime) {
        let min_rto = self.cfg.min_rto_ms * NS_PER_MS;
        let max_rto = self.cfg.rto_max_ms * NS_PER_MS;
        let fallback = 3 * self.cfg.syn_rto_initial_ms * NS_PER_MS;
        let t = self.tcb_mut(id);
        t.snd_una = ack;
        if t.timeouts == 0 {
            let r = now.since(t.flight_sent_at);
            t.rtt_sample(r, min_rto, max_rto);
        } else {
            t.rto_ns = fallback.clamp(min_rto, max_rto);
        }
        t.timeouts = 0;
        t.timer = None;
    }

    /// §3.10.7.3 SYN-SENT.
    fn on_syn_sent(&mut self, id: ConnId, seg: Segment, now: SimTime, out: &mut Outbox) {
        let (iss, snd_nxt) = {
            let t = self.tcb(id);
            (t.iss, t.snd_nxt)
        };
        let f = seg.flags;
        // First, check the ACK bit: ISS < SEG.ACK <= SND.NXT.
        if f.ack() && (seg.ack.le(iss) || seg.ack.gt(snd_nxt)) {
            self.discard(seg, Reason::BadAck, out);
            return self.send_reset_for(&seg, out);
        }
        // Second, the RST bit: with an acceptable ACK the connection is refused.
        if f.rst() {
            if f.ack() {
                return self.close_and_free(id, TcpState::Closed, Reason::RstReceived, now, out);
            }
            return self.discard(seg, Reason::RstIgnored, out);
        }
        // Fourth, the SYN bit.
        if f.syn() {
            let agreed = options::agree(&self.cfg, &seg.opts, self.tcb(id).opt.ts_offset);
            let t = self.tcb_mut(id);
            t.irs = seg.seq;
            t.rcv_nxt = seg.seq.plus(1);
            t.opt = agreed;
            if f.ack() {
                self.syn_acked(id, seg.ack, now);
                self.set_state(id, TcpState::Established, Reason::SynAckReceived, out);
                let nxt = self.tcb(id).snd_nxt;
                self.send_ctl(id, Flags::ACK, nxt, out);
                return self.report_connected(id, out);
            }
            // Simultaneous open: SYN-RECEIVED, send SYN,ACK (the SYN timer keeps running).
            self.set_state(id, TcpState::SynReceived, Reason::SimultaneousOpen, out);
            return self.send_ctl(id, Flags::SYN_ACK, iss, out);
        }
        self.discard(seg, Reason::NoAck, out);
    }

    /// §3.10.7.4: SYN-RECEIVED of an active open, and every synchronized state.
    /// TIME-WAIT: a new SYN above RCV.NXT may reopen the pair (Linux
    /// `tcp_timewait_state_process`, TCP_TW_SYN).
    fn reopens_time_wait(&self, id: ConnId, seg: &Segment) -> bool {
        let t = self.tcb(id);
        t.state == TcpState::TimeWait && seg.flags == Flags::SYN && seg.seq.gt(t.rcv_nxt)
    }

    fn on_synchronized(&mut self, id: ConnId, mut seg: Segment, now: SimTime, out: &mut Outbox) {
        let state = self.tcb(id).state;
        if self.reopens_time_wait(id, &seg) {
            self.counters.time_wait_recycled += 1;
            self.close_and_free(id, TcpState::Closed, Reason::TimeWaitReused, now, out);
            return self.dispatch(now, seg, out); // InSegs was counted once, on arrival
        }
        // Simultaneous open: the peer's SYN,ACK repeats the SYN we already took; trim it to
        // the window (RFC 9293 §3.10.7.4) so its ACK completes the handshake (Figure 8). In
        // synchronized states a repeated SYN-ACK stays unacceptable and draws a duplicate ACK.
        if state == TcpState::SynReceived && seg.flags.syn() && seg.seq == self.tcb(id).irs {
            seg.flags = crate::wire::Flags(seg.flags.0 & !Flags::SYN.0);
            seg.seq = seg.seq.plus(1);
        }
        let (rcv_nxt, snd_una, snd_nxt) = {
            let t = self.tcb(id);
            (t.rcv_nxt, t.snd_una, t.snd_nxt)
        };
        // First: sequence number acceptable?
        if !seq_acceptable(rcv_nxt, self.cfg.rcv_window, seg.seq, seg.seg_len()) {
            if !seg.flags.rst() && self.oow_ack_allowed(id, now, |c| c.ack_skipped_seq += 1) {
                self.send_ctl(id, Flags::ACK, snd_nxt, out);
            }
            return self.discard(seg, Reason::UnacceptableSeq, out);
        }
        // Second: RST.
        if seg.flags.rst() {
            return self.close_and_free(id, TcpState::Closed, Reason::RstReceived, now, out);
        }
        // Fourth: SYN in window -> challenge ACK (RFC 9293 with RFC 5961 §4).
        if seg.flags.syn() {
            if self.oow_ack_allowed(id, now, |c| c.ack_skipped_challenge += 1) {
                self.send_ctl(id, Flags::ACK, snd_nxt, out);
            }
            return self.discard(seg, Reason::SynInWindow, out);
        }
        // Fifth: ACK.
        if !seg.flags.ack() {
            return self.discard(seg, Reason::NoAck, out);
        }
        if state == TcpState::SynReceived {
            if snd_una.lt(seg.ack) && seg.ack.le(snd_nxt) {
                let initial_rto = self.cfg.syn_rto_initial_ms * NS_PER_MS;
                let t = self.tcb_mut(id);
                t.snd_una = seg.ack;
                t.timeouts = 0;
                t.timer = None;
                if t.rto_ns == 0 {
                    t.rto_ns = initial_rto;
                }
                self.set_state(id, TcpState::Established, Reason::AckOfSyn, out);
                self.report_connected(id, out);
            } else {
                self.discard(seg, Reason::BadAck, out);
                return self.send_reset_for(&seg, out);
            }
        } else if seg.ack.gt(snd_nxt) {
            // Acknowledges something not yet sent: ACK and drop.
            if self.oow_ack_allowed(id, now, |c| c.ack_skipped_seq += 1) {
                self.send_ctl(id, Flags::ACK, snd_nxt, out);
            }
            return self.discard(seg, Reason::UnacceptableSeq, out);
        } else if seg.ack.gt(snd_una) {
            self.on_new_ack(id, seg.ack, now);
            let t = self.tcb(id);
            let state = t.state;
            if t.fin_acked() {
                match state {
                    TcpState::FinWait1 => {
                        self.set_state(id, TcpState::FinWait2, Reason::FinAcked, out);
                        let at = now + SimDuration::from_ms(self.cfg.fin_wait2_timeout_ms);
                        self.arm(id, now, at, TimerKind::FinWait2, out);
                    }
                    TcpState::Closing => {
                        self.set_state(id, TcpState::TimeWait, Reason::FinAcked, out);
                        let at = now + SimDuration::from_ms(self.cfg.msl_ms).saturating_mul(2);
                        self.arm(id, now, at, TimerKind::TimeWait, out);
                    }
                    TcpState::LastAck => {
                        return self.close_and_free(
                            id,
                            TcpState::Closed,
                            Reason::FinAcked,
                            now,
                            out,
                        );
                    }
                    _ => {}
                }
            }
            if self.has_unsent(id) {
                self.send_flight(id, now, false, out);
            }
        }
        self.process_text_and_fin(id, seg, now, out);
    }

    /// SND.UNA advances: drop acknowledged bytes, sample the RTT (Karn), stop the timer when
    /// everything is acknowledged.
    fn on_new_ack(&mut self, id: ConnId, ack: SeqNum, now: SimTime) {
        let min_rto = self.cfg.min_rto_ms * NS_PER_MS;
        let max_rto = self.cfg.rto_max_ms * NS_PER_MS;
        let acked = ack.diff(self.tcb(id).snd_una) as usize;
        let data = acked.min(self.buffers(id).tx.len());
        if data > 0 {
            self.buffers_mut(id).tx.consume(data);
        }
        let t = self.tcb_mut(id);
        t.snd_una = ack;
        if !t.in_flight() {
            if t.timeouts == 0 {
                let r = now.since(t.flight_sent_at);
                t.rtt_sample(r, min_rto, max_rto);
            }
            t.timeouts = 0;
            if matches!(t.timer, Some((_, TimerKind::Retransmit))) {
                t.timer = None;
            }
        }
    }

    /// §3.10.7.4 sixth and seventh: segment text and FIN; then the socket events they raise.
    pub(crate) fn process_text_and_fin(
        &mut self,
        id: ConnId,
        seg: Segment,
        now: SimTime,
        out: &mut Outbox,
    ) {
        let mut need_ack = false;
        let mut fin_arrived = false;
        let state = self.tcb(id).state;
        if !seg.payload.is_empty()
            && matches!(
                state,
                TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2
            )
        {
            if seg.seq == self.tcb(id).rcv_nxt {
                let n = self.buffers_mut(id).rx.push(seg.payload.as_slice());
                let t = self.tcb_mut(id);
                t.rcv_nxt = t.rcv_nxt.plus(n as u32);
            } else {
                self.discard(seg, Reason::OutOfOrder, out);
            }
            need_ack = true;
        }
        let fin_seq = seg.seq.plus(seg.payload.len() as u32);
        if seg.flags.fin() && fin_seq == self.tcb(id).rcv_nxt {
            let t = self.tcb_mut(id);
            t.rcv_nxt = t.rcv_nxt.plus(1);
            t.peer_fin = true;
            fin_arrived = true;
            need_ack = true;
            let fin_acked = t.fin_acked();
            let two_msl = SimDuration::from_ms(self.cfg.msl_ms).saturating_mul(2);
            match state {
                TcpState::SynReceived | TcpState::Established => {
                    self.set_state(id, TcpState::CloseWait, Reason::FinReceived, out);
                }
                TcpState::FinWait1 if fin_acked => {
                    self.set_state(id, TcpState::TimeWait, Reason::FinReceived, out);
                    self.arm(id, now, now + two_msl, TimerKind::TimeWait, out);
                }
                TcpState::FinWait1 => {
                    self.set_state(id, TcpState::Closing, Reason::FinReceived, out)
                }
                TcpState::FinWait2 => {
                    self.set_state(id, TcpState::TimeWait, Reason::FinReceived, out);
                    self.arm(id, now, now + two_msl, TimerKind::TimeWait, out);
                }
                TcpState::TimeWait => self.arm(id, now, now + two_msl, TimerKind::TimeWait, out),
                _ => {}
            }
        } else if seg.flags.fin() && self.tcb(id).state == TcpState::TimeWait {
            need_ack = true;
        }
        if need_ack {
            let nxt = self.tcb(id).snd_nxt;
            self.send_ctl(id, Flags::ACK, nxt, out);
        }
        let t = self.tcb(id);
        if t.user {
            if !self.buffers(id).rx.is_empty() {
                self.socket_event(id, SocketEvent::Readable, out);
            }
            if fin_arrived {
                self.socket_event(id, SocketEvent::PeerClosed, out);
            }
        }
    }

    /// An ICMP destination-unreachable quoting a segment this host sent.
    pub fn on_icmp(&mut self, now: SimTime, quoted: Segment, code: IcmpCode, out: &mut Outbox) {
        self.clock = now;
        if !self.is_alive() {
            return;
        }
        self.counters.in_errs_icmp += 1;
        let Some(id) = self.lookup(quoted.src, quoted.dst) else {
            return;
        };
        let t = self.tcb(id);
        let hard = matches!(
            code,
            IcmpCode::NetUnreachable | IcmpCode::HostUnreachable | IcmpCode::AdminProhibited
        );
        let enough = t.timeouts >= self.cfg.icmp_abort_min_retransmits
            && (!self.cfg.icmp_abort_needs_prior_error || t.soft_error.is_some());
        if t.is_request {
            // tcp_req_err: the quoted SEQ must be the request's ISN.
            if quoted.seq != t.iss {
                self.counters.out_of_window_icmps += 1;
                return;
            }
            if hard && enough {
                self.tcb_mut(id).soft_error = Some(code);
                return self.close_and_free(
                    id,
                    TcpState::Listen,
                    Reason::IcmpUnreachable,
                    now,
                    out,
                );
            }
            self.tcb_mut(id).soft_error = Some(code);
        } else if matches!(t.state, TcpState::SynSent | TcpState::SynReceived) {
            if quoted.seq != t.iss {
                self.counters.out_of_window_icmps += 1;
                return;
            }
            // tcp_v4_err: while connect() still holds the socket (sock_owned_by_user) the
            // error is only recorded (sk_err_soft) and counted as LockDroppedIcmps.
            let window = SimDuration(self.cfg.connect_lock_window_us.saturating_mul(1000));
            if t.user && t.timeouts == 0 && now.since(t.opened_at) <= window && window.0 > 0 {
                self.counters.lock_dropped_icmps += 1;
                self.tcb_mut(id).soft_error = Some(code);
                self.socket_event(id, SocketEvent::SoftError { icmp: code }, out);
                return self.discard(quoted, Reason::IcmpWhileConnecting, out);
            }
            // Otherwise an unreachable is fatal in SYN-SENT (Linux at once; FreeBSD
            // tcp_notify only after 3 retransmissions and a second error).
            self.tcb_mut(id).soft_error = Some(code);
            if enough {
                self.close_and_free(id, TcpState::Closed, Reason::IcmpUnreachable, now, out);
            }
        } else {
            // Established: a soft error, ignored.
            self.tcb_mut(id).soft_error = Some(code);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acceptability_table() {
        let r = SeqNum(1000);
        assert!(seq_acceptable(r, 100, SeqNum(1000), 0));
        assert!(!seq_acceptable(r, 100, SeqNum(999), 0));
        assert!(!seq_acceptable(r, 100, SeqNum(1100), 0));
        assert!(seq_acceptable(r, 100, SeqNum(990), 20));
        assert!(!seq_acceptable(r, 100, SeqNum(990), 10));
        assert!(seq_acceptable(r, 0, SeqNum(1000), 0));
        assert!(!seq_acceptable(r, 0, SeqNum(1000), 5));
    }
}
