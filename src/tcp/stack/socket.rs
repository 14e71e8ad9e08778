//! The socket calls an application makes (connect, accept, recv, write, close) and the
//! socket events the stack reports back ([`SocketEvent`]). What the application does with
//! them lives in [`crate::sim::workload`]; nothing here knows about clients or servers.

use rand::{Rng, RngExt};

use super::NO_BUFFERS;
use super::Stack;
use crate::rng::StreamRng;
use crate::tcp::tcb::TimerKind;
use crate::tcp::{ConnId, Note, Outbox, Reason, Role, SocketEvent, TcpState};
use crate::time::{SimDuration, SimTime};
use crate::wire::{AddrId, Endpoint, Flags, Payload, SeqNum};

impl Stack {
    /// Reports `event` for `id` to the application holding it.
    pub(crate) fn socket_event(&self, id: ConnId, event: SocketEvent, out: &mut Outbox) {
        let t = self.tcb(id);
        out.notes.push(Note::Socket {
            conn: id,
            serial: t.serial,
            event,
        });
    }

    // ------------------------------------------------------------------ passive open

    /// A child completed the handshake: into the accept queue, and the listener is readable.
    pub(crate) fn enqueue_accept(&mut self, id: ConnId, li: usize, now: SimTime, out: &mut Outbox) {
        let generation = self.generation(id);
        self.tcb_mut(id).in_accept_queue = true;
        let l = self.listeners[li].as_mut().expect("live listener");
        l.accept_queue.push_back((id, generation, now));
        let len = l.accept_queue.len() as u64;
        let st = &mut self.stats[li];
        st.accept_queue_peak = st.accept_queue_peak.max(len);
        self.socket_event(
            id,
            SocketEvent::Acceptable {
                listener: li as u16,
            },
            out,
        );
    }

    /// When the oldest child of listener `li`'s accept queue entered it (`None` if the queue
    /// is empty or the host is down).
    pub fn accept_queue_front(&self, li: usize) -> Option<SimTime> {
        let l = self.listeners.get(li)?.as_ref()?;
        l.accept_queue.front().map(|&(_, _, entered)| entered)
    }

    /// accept(): takes the oldest child of listener `li`'s accept queue; the application now
    /// holds it and hears its socket events.
    pub fn accept(&mut self, li: usize) -> Option<ConnId> {
        let l = self.listeners.get_mut(li)?.as_mut()?;
        let (id, _, _) = l.accept_queue.pop_front()?;
        self.stats[li].accepted += 1;
        let t = self.tcb_mut(id);
        t.in_accept_queue = false;
        t.user = true;
        Some(id)
    }

    // ------------------------------------------------------------------ active open

    /// connect(): picks an ephemeral port (random start, then linear probe, as Linux
    /// `__inet_hash_connect` does), draws the ISN from `rng`, sends the SYN. Fails with
    /// [`Reason::EphemeralPortsExhausted`] when no port towards `remote` is free.
    pub fn connect(
        &mut self,
        now: SimTime,
        local_addr: AddrId,
        remote: Endpoint,
        rng: &mut StreamRng,
        out: &mut Outbox,
    ) -> Result<ConnId, Reason> {
        let (lo, hi) = (self.cfg.ephemeral_port_min, self.cfg.ephemeral_port_max);
        let span = hi as u32 - lo as u32 + 1;
        let start = lo + rng.random_range(0..span) as u16;
        let port = self.ports.choose(local_addr, remote, lo, hi, start, |p| {
            self.listener_for_port(p).is_none()
        });
        let Some(port) = port else {
            return Err(Reason::EphemeralPortsExhausted);
        };
        let local = Endpoint {
            addr: local_addr,
            port,
        };
        let iss = SeqNum(rng.next_u32());
        self.clock = now;
        let ts_offset = self.ts_offset(local, remote);
        let id = self.insert(Role::Client, local, remote);
        let t = self.tcb_mut(id);
        t.opt.ts_offset = ts_offset;
        t.user = true;
        t.syns_sent = 1;
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
        self.arm(id, now, next, TimerKind::Retransmit, out);
        Ok(id)
    }

    /// The active open `id` is synchronized: connect() returns.
    pub(crate) fn report_connected(&self, id: ConnId, out: &mut Outbox) {
        let syns_sent = self.tcb(id).syns_sent;
        self.socket_event(id, SocketEvent::Connected { syns_sent }, out);
    }

    // ------------------------------------------------------------------ data

    /// Whether `conn` is still the connection with `serial` (an application keyed by slot
    /// checks this before a call).
    pub fn is_conn(&self, conn: ConnId, serial: u64) -> bool {
        self.slot_tcb(conn).is_some_and(|t| t.serial == serial)
    }

    /// recv(): takes the bytes received and not yet read.
    pub fn recv(&mut self, id: ConnId) -> Payload {
        if self.tcb(id).bufs == NO_BUFFERS {
            return Payload::EMPTY;
        }
        std::mem::replace(&mut self.buffers_mut(id).rx, Payload::EMPTY)
    }

    /// Whether the peer's FIN has arrived.
    pub fn peer_closed(&self, id: ConnId) -> bool {
        self.tcb(id).peer_fin
    }

    /// write(): queue bytes; send at once if nothing is in flight. Ignored after close().
    pub fn write(&mut self, id: ConnId, data: Payload, now: SimTime, out: &mut Outbox) {
        self.clock = now;
        if self.tcb(id).fin_queued {
            return;
        }
        self.buffers_mut(id).tx.push(data.as_slice());
        if !self.tcb(id).in_flight() {
            self.send_flight(id, now, false, out);
        }
    }

    /// close(): queue a FIN (RFC 9293 §3.10.4). Once only.
    pub fn close(&mut self, id: ConnId, now: SimTime, out: &mut Outbox) {
        self.clock = now;
        let t = self.tcb_mut(id);
        if t.fin_queued {
            return;
        }
        t.fin_queued = true;
        let next = match t.state {
            TcpState::Established | TcpState::SynReceived => TcpState::FinWait1,
            TcpState::CloseWait => TcpState::LastAck,
            // RFC 9293 §3.10.4: CLOSE in SYN-SENT deletes the TCB (Linux tcp_close).
            TcpState::SynSent => {
                return self.close_and_free(id, TcpState::Closed, Reason::AppClose, now, out);
            }
            _ => return,
        };
        let idle = !t.in_flight();
        self.set_state(id, next, Reason::AppClose, out);
        if idle {
            self.send_flight(id, now, false, out);
        }
    }

    /// Whether close() has been called on `id`.
    pub fn is_closing(&self, id: ConnId) -> bool {
        self.tcb(id).fin_queued
    }
}
