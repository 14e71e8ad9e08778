//! The server side: when the listening application calls accept() (its [`AcceptPolicy`]),
//! and what it does with each accepted connection ([`ServerApp`]).

use crate::spec::{AcceptPolicy, ServerApp};
use crate::tcp::{ConnId, Outbox, SocketEvent, Stack};
use crate::time::SimTime;
use crate::wire::{MAX_PAYLOAD, Payload};

use super::{AppTimer, Effects};

/// The application behind one listener.
#[derive(Clone, Copy, Debug)]
pub struct ListenerApp {
    pub policy: AcceptPolicy,
    pub app: ServerApp,
    /// The accept timer the engine holds, and its generation (older ones are stale).
    wake: Option<SimTime>,
    generation: u32,
    /// Rate policy: earliest time of the next accept().
    next_accept_at: SimTime,
}

impl ListenerApp {
    pub fn new(policy: AcceptPolicy, app: ServerApp) -> ListenerApp {
        ListenerApp {
            policy,
            app,
            wake: None,
            generation: 0,
            next_accept_at: SimTime::ZERO,
        }
    }

    /// The host crashed: the application restarts with the host, with no timer pending.
    pub(super) fn reset(&mut self) {
        self.wake = None;
        self.generation = self.generation.wrapping_add(1);
        self.next_accept_at = SimTime::ZERO;
    }

    /// The accept timer of `generation` fired; false if it was superseded.
    pub(super) fn wake_fired(&mut self, generation: u32) -> bool {
        if generation != self.generation {
            return false;
        }
        self.wake = None;
        true
    }

    /// accept() if the policy allows it now; otherwise asks for a timer for when it will.
    pub(super) fn try_accept(
        &mut self,
        stack: &mut Stack,
        li: usize,
        now: SimTime,
        fx: &mut Effects,
    ) -> Option<ConnId> {
        let entered = stack.accept_queue_front(li)?;
        let at = match self.policy {
            AcceptPolicy::Never => return None,
            AcceptPolicy::Immediate => now,
            AcceptPolicy::Delay(d) => entered + d,
            AcceptPolicy::Rate(_) => self.next_accept_at.max(now),
        };
        if at > now {
            if self.wake.is_none_or(|w| at < w) {
                self.generation = self.generation.wrapping_add(1);
                self.wake = Some(at);
                let timer = AppTimer::Accept {
                    listener: li as u16,
                    generation: self.generation,
                };
                fx.timers.push((timer, at));
            }
            return None;
        }
        if let AcceptPolicy::Rate(iv) = self.policy {
            self.next_accept_at = now + iv;
        }
        stack.accept(li)
    }
}

pub(super) fn on_event(
    app: ServerApp,
    stack: &mut Stack,
    id: ConnId,
    event: SocketEvent,
    now: SimTime,
    out: &mut Outbox,
) {
    if matches!(event, SocketEvent::Readable | SocketEvent::PeerClosed) {
        serve(app, stack, id, now, out);
    }
}

/// Reads what arrived, replies (echo_upper), and closes when the client has closed (or at
/// once, for `close`). Also run on a connection just accepted, for what arrived before.
pub(super) fn serve(app: ServerApp, stack: &mut Stack, id: ConnId, now: SimTime, out: &mut Outbox) {
    let data = stack.recv(id);
    if !data.is_empty() && app == ServerApp::EchoUpper {
        let n = data.len();
        let mut buf = [0u8; MAX_PAYLOAD];
        buf[..n].copy_from_slice(data.as_slice());
        buf[..n].make_ascii_uppercase();
        stack.write(id, Payload::from_slice(&buf[..n]), now, out);
    }
    if (app == ServerApp::Close || stack.peer_closed(id)) && !stack.is_closing(id) {
        stack.close(id, now, out);
    }
}
