//! The applications still driven from inside the stack: the listener's accept policy and
//! server application (accept queue, echo), the client's connect-write-close workload and its
//! attempt outcomes, and the write()/close() socket calls they use.

use rand::{Rng, RngExt};

use super::Stack;
use crate::rng::StreamRng;
use crate::tcp::listener::AcceptPolicy;
use crate::tcp::tcb::{App, ClientApp, ServerApp, TimerKind};
use crate::tcp::{ConnId, Note, Outbox, Outcome, Reason, Role, TcpState, Wake};
use crate::time::{SimDuration, SimTime};
use crate::wire::{AddrId, Endpoint, Flags, Payload, SeqNum};

impl Stack {
    // ------------------------------------------------------------------ accept

    /// A child entered the accept queue: let the application policy decide when to accept.
    pub(crate) fn enqueue_accept(&mut self, id: ConnId, li: usize, now: SimTime, out: &mut Outbox) {
        let generation = self.generation(id);
        self.tcb_mut(id).in_accept_queue = true;
        let l = self.listeners[li].as_mut().expect("live listener");
        l.accept_queue.push_back((id, generation, now));
        let len = l.accept_queue.len() as u64;
        let st = &mut self.stats[li];
        st.accept_queue_peak = st.accept_queue_peak.max(len);
        self.schedule_accept(li, now, out);
    }

    /// Accepts now if the policy allows, else asks for a wake-up when it will.
    fn schedule_accept(&mut self, li: usize, now: SimTime, out: &mut Outbox) {
        loop {
            let policy = self.specs[li].accept;
            let Some(l) = self.listeners[li].as_mut() else {
                return;
            };
            let Some(&(_, _, entered)) = l.accept_queue.front() else {
                return;
            };
            let at = match policy {
                AcceptPolicy::Never => return,
                AcceptPolicy::Immediate => now,
                AcceptPolicy::Delay(d) => entered + d,
                AcceptPolicy::Rate(_) => l.next_accept_at.max(now),
            };
            if at > now {
                if l.accept_wake.is_none_or(|w| at < w) {
                    l.accept_generation = l.accept_generation.wrapping_add(1);
                    l.accept_wake = Some(at);
                    out.wakes
                        .push((Wake::Accept(li as u16, l.accept_generation), at));
                }
                return;
            }
            let (id, _, _) = l.accept_queue.pop_front().expect("non-empty accept queue");
            if let AcceptPolicy::Rate(iv) = policy {
                l.next_accept_at = now + iv;
            }
            self.stats[li].accepted += 1;
            self.on_accepted(id, now, out);
        }
    }

    pub(super) fn on_accept_wake(
        &mut self,
        li: usize,
        generation: u32,
        now: SimTime,
        out: &mut Outbox,
    ) {
        let Some(Some(l)) = self.listeners.get_mut(li) else {
            return;
        };
        if l.accept_generation != generation {
            return;
        }
        l.accept_wake = None;
        self.schedule_accept(li, now, out);
    }

    /// The server application takes the connection: read what arrived, reply, maybe close.
    fn on_accepted(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        let t = self.tcb_mut(id);
        t.in_accept_queue = false;
        if let App::Server { accepted, .. } = &mut t.app {
            *accepted = true;
        }
        self.server_app_step(id, now, out);
    }

    /// Runs the server application on whatever the connection has received.
    pub(crate) fn server_app_step(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        let t = self.tcb_mut(id);
        let App::Server {
            app,
            accepted: true,
        } = t.app
        else {
            return;
        };
        if !t.rx.is_empty() {
            let data = t.rx;
            t.rx = Payload::EMPTY;
            if app == ServerApp::EchoUpper {
                let mut up = data;
                let n = up.len();
                let mut buf = [0u8; crate::wire::MAX_PAYLOAD];
                buf[..n].copy_from_slice(up.as_slice());
                buf[..n].make_ascii_uppercase();
                up = Payload::from_slice(&buf[..n]);
                self.app_write(id, up, now, out);
            }
        }
        let t = self.tcb(id);
        let close = app == ServerApp::Close || (t.peer_fin && !t.fin_queued);
        if close && !t.fin_queued {
            self.app_close(id, now, out);
        }
    }

    // ------------------------------------------------------------------ active open

    /// connect(): picks an ephemeral port (random start, then linear probe, as Linux
    /// `__inet_hash_connect` does), draws the ISN from `rng`, sends the SYN.
    #[allow(clippy::too_many_arguments)]
    pub fn connect(
        &mut self,
        now: SimTime,
        local_addr: AddrId,
        remote: Endpoint,
        app: ClientApp,
        rng: &mut StreamRng,
        out: &mut Outbox,
    ) -> Option<ConnId> {
        let (lo, hi) = (self.cfg.ephemeral_port_min, self.cfg.ephemeral_port_max);
        let span = hi as u32 - lo as u32 + 1;
        let start = lo + rng.random_range(0..span) as u16;
        let port = self.ports.choose(local_addr, remote, lo, hi, start, |p| {
            self.listener_for_port(p).is_none()
        });
        let Some(local) = port.map(|port| Endpoint {
            addr: local_addr,
            port,
        }) else {
            out.notes.push(Note::Outcome {
                client: app.client,
                attempt: app.attempt,
                outcome: Outcome::Aborted,
                reason: Reason::EphemeralPortsExhausted,
                started: now,
                connected: None,
                syns_sent: 0,
            });
            return None;
        };
        let iss = SeqNum(rng.next_u32());
        let mut app = app;
        app.syns_sent = 1;
        let id = self.insert(Role::Client, local, remote, App::Client(app));
        let t = self.tcb_mut(id);
        t.iss = iss;
        t.snd_una = iss;
        t.snd_nxt = iss.plus(1);
        t.opened_at = now;
        t.flight_sent_at = now;
        self.counters.active_opens += 1; // tcp_connect
        self.set_state(id, TcpState::SynSent, Reason::Connect, out);
        self.send_ctl(id, Flags::SYN, iss, out);
        let mut next = now + SimDuration::from_ms(self.cfg.syn_rto_after(0));
        if self.cfg.syn_give_up_own_timer {
            next = next.min(now + SimDuration::from_ms(self.cfg.effective_syn_give_up_ms()));
        }
        self.arm(id, next, TimerKind::Retransmit, out);
        Some(id)
    }

    /// The client application after the handshake: write now, later, or not at all.
    pub(crate) fn client_on_connected(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        let t = self.tcb_mut(id);
        let App::Client(a) = &mut t.app else { return };
        a.connected.get_or_insert(now);
        if a.send.is_empty() {
            self.finish_attempt(id, Outcome::Established, Reason::SynAckReceived, out);
            self.client_maybe_close(id, now, out);
        } else if a.send_delay == SimDuration::ZERO {
            self.client_write(id, now, out);
        } else {
            let at = now + a.send_delay;
            self.arm(id, at, TimerKind::AppSend, out);
        }
    }

    pub(super) fn client_write(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        let t = self.tcb_mut(id);
        let App::Client(a) = &mut t.app else { return };
        if a.sent {
            return;
        }
        a.sent = true;
        let data = a.send;
        self.app_write(id, data, now, out);
    }

    /// The client application after receiving data or a FIN.
    pub(crate) fn client_app_step(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        let t = self.tcb_mut(id);
        let peer_fin = t.peer_fin;
        let App::Client(a) = &mut t.app else { return };
        if a.done {
            t.rx = Payload::EMPTY;
            self.client_maybe_close(id, now, out);
            return;
        }
        let got_reply = a.sent && t.rx.len() >= a.expect_reply as usize;
        if got_reply || peer_fin {
            t.rx = Payload::EMPTY;
            self.finish_attempt(id, Outcome::Established, Reason::SynAckReceived, out);
            self.client_maybe_close(id, now, out);
        }
    }

    fn client_maybe_close(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        let t = self.tcb(id);
        let App::Client(a) = t.app else { return };
        if (a.close || t.peer_fin) && !t.fin_queued {
            self.app_close(id, now, out);
        }
    }

    /// Reports the attempt's outcome once.
    pub(crate) fn finish_attempt(
        &mut self,
        id: ConnId,
        outcome: Outcome,
        reason: Reason,
        out: &mut Outbox,
    ) {
        let t = self.tcb_mut(id);
        let App::Client(a) = &mut t.app else { return };
        if a.done {
            return;
        }
        a.done = true;
        out.notes.push(Note::Outcome {
            client: a.client,
            attempt: a.attempt,
            outcome,
            reason,
            started: a.started,
            connected: if outcome == Outcome::Established {
                a.connected
            } else {
                None
            },
            syns_sent: a.syns_sent,
        });
    }

    // ------------------------------------------------------------------ app calls

    /// write(): queue bytes; send at once if nothing is in flight.
    pub(crate) fn app_write(&mut self, id: ConnId, data: Payload, now: SimTime, out: &mut Outbox) {
        let t = self.tcb_mut(id);
        if t.fin_queued {
            return;
        }
        let mut tx = t.tx;
        tx.push(data.as_slice());
        t.tx = tx;
        if !t.in_flight() {
            self.send_flight(id, now, out);
        }
    }

    /// close(): queue a FIN (RFC 9293 §3.10.4).
    pub(crate) fn app_close(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        let t = self.tcb_mut(id);
        if t.fin_queued {
            return;
        }
        t.fin_queued = true;
        let next = match t.state {
            TcpState::Established | TcpState::SynReceived => TcpState::FinWait1,
            TcpState::CloseWait => TcpState::LastAck,
            _ => return,
        };
        let idle = !t.in_flight();
        self.set_state(id, next, Reason::AppClose, out);
        if idle {
            self.send_flight(id, now, out);
        }
    }
}
