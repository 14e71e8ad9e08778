//! Connection timers: arming the single per-connection timer, the engine's wake-ups, and what
//! each timer does when it fires (SYN, SYN-ACK and data retransmission, TIME-WAIT, FIN-WAIT-2).

use super::Stack;
use crate::tcp::tcb::TimerKind;
use crate::tcp::wheel::key;
use crate::tcp::{ConnId, Outbox, Reason, TcpState, Wake};
use crate::time::{NS_PER_MS, SimDuration, SimTime};
use crate::wire::Flags;

impl Stack {
    // ------------------------------------------------------------------ timers

    /// Arms connection `id`'s single timer for `at` (set at `now`): at that exact nanosecond,
    /// or, on the kernel's wheel, at the tick of the bucket `at` rounds up to.
    pub(crate) fn arm(
        &mut self,
        id: ConnId,
        now: SimTime,
        at: SimTime,
        kind: TimerKind,
        out: &mut Outbox,
    ) {
        let generation = self.generation(id);
        if let Some(w) = self.wheel.as_mut() {
            // mod_timer(timer, jiffies + timeout): kernel/time/timer.c, see crate::tcp::wheel.
            let (fire, lvl, b) = w.clock.fire_time(now, at.since(now));
            let k = key(b, lvl);
            let t = self.slots[id.0 as usize]
                .tcb
                .as_mut()
                .expect("live connection slot");
            t.timer = Some((fire, kind));
            if t.wheel_key == k {
                return; // already in that bucket: it keeps its place
            }
            t.wheel_key = k;
            if w.enqueue(k, id, generation) {
                out.wakes.push((Wake::Wheel(b), fire));
            }
            return;
        }
        let t = self.tcb_mut(id);
        t.timer = Some((at, kind));
        if t.wake_at.is_none_or(|w| at < w) {
            t.wake_at = Some(at);
            out.wakes.push((Wake::Conn(id, generation), at));
        }
    }

    /// The engine delivers a wake-up it was asked for.
    pub fn on_wake(&mut self, now: SimTime, wake: Wake, out: &mut Outbox) {
        self.clock = now;
        if !self.alive {
            return;
        }
        let (id, generation) = match wake {
            Wake::Conn(id, generation) => (id, generation),
            Wake::Wheel(j) => return self.run_batch(j, now, out),
        };
        if !self.is_live(id, generation) {
            return;
        }
        let t = self.tcb_mut(id);
        if t.wake_at != Some(now) {
            return; // superseded by an earlier wake-up
        }
        t.wake_at = None;
        match t.timer {
            Some((at, kind)) if at <= now => {
                t.timer = None;
                self.on_timer(id, kind, now, out);
            }
            Some((at, _)) => {
                t.wake_at = Some(at);
                out.wakes.push((Wake::Conn(id, generation), at));
            }
            None => {}
        }
    }

    /// `__run_timers` for jiffy `j`: every timer whose bucket expires now, in the kernel's
    /// order, each handler seeing what the ones before it did. Entries left behind by a timer
    /// that was stopped or moved to another bucket are skipped.
    fn run_batch(&mut self, j: u64, now: SimTime, out: &mut Outbox) {
        let Some(w) = self.wheel.as_mut() else {
            return;
        };
        let mut batch = std::mem::take(&mut self.batch);
        w.take_batch(j, &mut batch);
        for &(id, generation, k) in &batch {
            if !self.is_live(id, generation) {
                continue;
            }
            let t = self.tcb_mut(id);
            if t.wheel_key != k {
                continue;
            }
            t.wheel_key = 0;
            if let Some((at, kind)) = t.timer {
                if at <= now {
                    t.timer = None;
                    self.on_timer(id, kind, now, out);
                }
            }
        }
        batch.clear();
        self.batch = batch;
    }

    fn on_timer(&mut self, id: ConnId, kind: TimerKind, now: SimTime, out: &mut Outbox) {
        match kind {
            TimerKind::Retransmit => self.on_retransmit_timer(id, now, out),
            TimerKind::TimeWait => {
                self.close_and_free(id, TcpState::Closed, Reason::TimeWaitDone, now, out)
            }
            TimerKind::FinWait2 => {
                self.close_and_free(id, TcpState::Closed, Reason::FinWait2Timeout, now, out)
            }
        }
    }

    fn on_retransmit_timer(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        let state = self.tcb(id).state;
        let is_request = self.tcb(id).is_request;
        if is_request {
            self.on_synack_timer(id, now, out);
        } else if state == TcpState::SynSent {
            self.on_syn_timer(id, now, out);
        } else if state == TcpState::SynReceived {
            // Simultaneous open: retransmit our SYN,ACK with the SYN schedule.
            self.on_syn_timer(id, now, out);
        } else {
            self.on_data_timer(id, now, out);
        }
    }

    /// Active open: Linux `tcp_retransmit_timer` + `tcp_write_timeout` for a SYN.
    fn on_syn_timer(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        let cfg = &self.cfg;
        let max_retrans = cfg.effective_syn_max_retransmissions();
        let give_up = SimDuration::from_ms(cfg.effective_syn_give_up_ms());
        let (elapsed, timeouts, state, iss) = {
            let t = self.tcb(id);
            (now.since(t.opened_at), t.timeouts, t.state, t.iss)
        };
        // tcp_retransmit_timer counts TCPTimeouts on every firing, before tcp_write_timeout
        // decides whether to give up (so a failed connect counts retransmissions + 1).
        self.counters.timeouts += 1;
        // tcp_write_timeout: give up at the first firing where retransmissions >= limit or
        // elapsed >= the time budget (FreeBSD: keepinit is a timer of its own, same check).
        if timeouts >= max_retrans || elapsed >= give_up {
            self.counters.abort_on_timeout += 1; // tcp_write_err
            self.close_and_free(id, TcpState::Closed, Reason::SynRetriesExhausted, now, out);
            return;
        }
        self.counters.syn_retrans += 1;
        self.counters.retrans_segs += 1;
        let (flags, seq) = if state == TcpState::SynSent {
            (Flags::SYN, iss)
        } else {
            (Flags::SYN_ACK, iss)
        };
        let seg = self.ctl_segment(id, flags, seq);
        self.emit_retransmit(seg, out);
        let t = self.tcb_mut(id);
        t.timeouts += 1;
        t.syns_sent += 1;
        let timeouts = t.timeouts;
        let opened = t.opened_at;
        let mut next = now + SimDuration::from_ms(self.cfg.syn_rto_after(timeouts));
        if self.cfg.syn_give_up_own_timer {
            next = next.min(opened + give_up);
        }
        self.arm(id, now, next, TimerKind::Retransmit, out);
    }

    /// Passive open: Linux `reqsk_timer_handler`, with young/old pruning.
    fn on_synack_timer(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        self.counters.timeouts += 1; // tcp_syn_ack_timeout: every firing
        let li = self.tcb(id).listener.expect("request has a listener") as usize;
        let l = self.listeners[li]
            .as_ref()
            .expect("request's listener is live");
        let qlen = l.syn_queue_len;
        let mut max_retries = self.cfg.synack_retries;
        // Pruning: if (qlen << 1) > max(8, backlog), old requests lose retries.
        if self.cfg.synack_pruning && (qlen << 1) > l.backlog.max(8) {
            let mut thresh = l.young << 1;
            while max_retries > 2 {
                if qlen < thresh {
                    break;
                }
                max_retries -= 1;
                thresh <<= 1;
            }
        }
        let t = self.tcb(id);
        let expired_by_cap = self
            .cfg
            .synrecv_timeout_ms
            .is_some_and(|ms| now.since(t.opened_at) >= SimDuration::from_ms(ms));
        if t.timeouts >= max_retries || expired_by_cap {
            let reason = if expired_by_cap && t.timeouts < max_retries {
                Reason::SynrecvTimeout
            } else {
                Reason::SynackRetriesExhausted
            };
            self.close_and_free(id, TcpState::Closed, reason, now, out);
            return;
        }
        self.retransmit_synack(id, now, out);
    }

    /// Re-sends a request's SYN-ACK and re-arms its timer (`inet_rtx_syn_ack`).
    pub(crate) fn retransmit_synack(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        self.counters.syn_retrans += 1;
        self.counters.retrans_segs += 1;
        let iss = self.tcb(id).iss;
        self.send_ctl(id, Flags::SYN_ACK, iss, out);
        let li = self.tcb(id).listener.expect("request has a listener") as usize;
        let t = self.tcb_mut(id);
        let was_young = t.timeouts == 0;
        t.timeouts += 1;
        let timeouts = t.timeouts;
        let opened = t.opened_at;
        if was_young {
            if let Some(l) = self.listeners[li].as_mut() {
                l.young -= 1;
            }
        }
        let mut next = now + SimDuration::from_ms(self.cfg.synack_rto_after(timeouts));
        if let Some(ms) = self.cfg.synrecv_timeout_ms {
            next = next.min(opened + SimDuration::from_ms(ms));
        }
        self.arm(id, now, next, TimerKind::Retransmit, out);
    }

    /// Data/FIN retransmission (RFC 6298 §5.4-5.6: back off, resend the earliest unacked).
    fn on_data_timer(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        let t = self.tcb(id);
        if !t.in_flight() {
            return;
        }
        let timeouts = t.timeouts;
        self.counters.timeouts += 1; // tcp_retransmit_timer: every firing
        if timeouts >= self.cfg.data_retries {
            self.counters.abort_on_timeout += 1;
            self.close_and_free(id, TcpState::Closed, Reason::DataRetriesExhausted, now, out);
            return;
        }
        self.counters.retrans_segs += 1;
        let max = self.cfg.rto_max_ms * NS_PER_MS;
        let t = self.tcb_mut(id);
        t.timeouts += 1;
        t.rto_ns = t.rto_ns.saturating_mul(2).min(max);
        self.send_flight(id, now, true, out);
    }
}
