//! The applications: legitimate clients (connect, write, read the reply, close), the server
//! applications behind each listener (accept policy, echo), and the SYN-flood attackers.
//!
//! They sit above the TCP stacks as a program sits above the kernel: they make socket calls
//! ([`Stack::connect`], [`Stack::accept`], [`Stack::recv`], [`Stack::write`],
//! [`Stack::close`]) and react to the socket events the stack reports
//! ([`crate::tcp::SocketEvent`]). The workload, not the stack, decides each attempt's
//! [`Outcome`]. A new application is a new kind in [`client`] or [`server`]; a new attacker
//! kind lives in [`attacker`].
//!
//! Per host, [`HostApps`] holds the applications' state (per connection, keyed by slot and
//! checked by serial, and per listener). Its effects ([`Effects`]: timers to arm, outcomes to
//! record) are collected during a call and drained by the engine right after it, so they keep
//! their place among the stack's notes.

pub mod attacker;
pub mod client;
mod conns;
mod outcome;
pub mod server;

pub use attacker::AttackerRt;
pub use client::{ClientRt, Exchange};
pub use outcome::Outcome;
pub use server::ListenerApp;

use crate::net::{AddrTable, HostId};
use crate::rng::{RngStreams, StreamRng};
use crate::sim::{ConnRef, OutcomeRecord, PendingAttempt};
use crate::spec::{ListenerSpec, Scenario};
use crate::tcp::listener::ListenSpec;
use crate::tcp::{ConnId, Outbox, Reason, SocketEvent, Stack};
use crate::time::SimTime;
use crate::wire::{AddrId, Endpoint};

use client::ClientConn;
use conns::ConnApps;

/// An application timer the engine holds for a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppTimer {
    /// A client's delayed write on connection `conn` (if it is still the one with `serial`).
    Send { conn: ConnId, serial: u64 },
    /// Listener `listener`'s application may accept (stale unless `generation` is current).
    Accept { listener: u16, generation: u32 },
}

/// What the applications asked for during one call.
#[derive(Debug, Default)]
pub struct Effects {
    /// Timers to arm.
    pub timers: Vec<(AppTimer, SimTime)>,
    /// Attempts that ended.
    pub outcomes: Vec<OutcomeRecord>,
}

/// The application holding one connection.
#[derive(Clone, Copy, Debug)]
enum ConnApp {
    Client(ClientConn),
    Server(crate::spec::ServerApp),
}

/// One client attempt to start: who makes it and what it will exchange.
#[derive(Clone, Copy, Debug)]
pub struct Attempt {
    pub client: u32,
    pub attempt: u64,
    pub exchange: Exchange,
}

/// The applications of one host.
#[derive(Debug)]
pub struct HostApps {
    host: HostId,
    /// By connection slot, with the connection's serial.
    conns: ConnApps,
    /// By listener index in the host's stack.
    listeners: Vec<ListenerApp>,
    pub fx: Effects,
}

impl HostApps {
    pub fn new(host: HostId) -> HostApps {
        HostApps {
            host,
            conns: ConnApps::default(),
            listeners: Vec::new(),
            fx: Effects::default(),
        }
    }

    /// listen(): opens the listener on `stack` and runs `spec`'s application behind it.
    /// Returns the listener's index in the stack.
    pub fn listen(&mut self, stack: &mut Stack, spec: &ListenerSpec) -> u16 {
        let idx = stack.listen(ListenSpec {
            port: spec.port,
            backlog: spec.backlog,
        });
        debug_assert_eq!(idx as usize, self.listeners.len());
        self.listeners.push(ListenerApp::new(spec.accept, spec.app));
        idx
    }

    /// Starts a client attempt: connect(), or an `aborted` outcome if no port is free.
    /// Returns the connection, if one was opened.
    #[allow(clippy::too_many_arguments)]
    pub fn connect(
        &mut self,
        stack: &mut Stack,
        now: SimTime,
        local: AddrId,
        remote: Endpoint,
        attempt: Attempt,
        rng: &mut StreamRng,
        out: &mut Outbox,
    ) -> Option<ConnId> {
        let mut conn = ClientConn::new(attempt, now);
        match stack.connect(now, local, remote, rng, out) {
            Ok(id) => {
                let t = stack.conn(id);
                conn.opened(ConnRef {
                    host: self.host,
                    serial: t.serial(),
                    role: t.role(),
                    local: t.local(),
                    remote: t.remote(),
                });
                self.hold(id, t.serial(), ConnApp::Client(conn));
                Some(id)
            }
            Err(reason) => {
                conn.fail(reason, now, &mut self.fx);
                None
            }
        }
    }

    fn hold(&mut self, id: ConnId, serial: u64, app: ConnApp) {
        self.conns.insert(id, serial, app);
    }

    /// A socket event from the host's stack.
    pub fn on_socket(
        &mut self,
        stack: &mut Stack,
        conn: ConnId,
        serial: u64,
        event: SocketEvent,
        now: SimTime,
        out: &mut Outbox,
    ) {
        if let SocketEvent::Acceptable { listener } = event {
            return self.accept_ready(stack, listener as usize, now, out);
        }
        let Some((s, app)) = self.conns.get_mut(conn) else {
            return;
        };
        if *s != serial {
            return;
        }
        match app {
            ConnApp::Client(c) => c.on_event(stack, conn, serial, event, now, out, &mut self.fx),
            ConnApp::Server(a) => server::on_event(*a, stack, conn, event, now, out),
        }
        if matches!(event, SocketEvent::Closed { .. }) {
            self.conns.remove(conn);
        }
    }

    /// An application timer fired (the engine only delivers it while the host is up).
    pub fn on_timer(&mut self, stack: &mut Stack, timer: AppTimer, now: SimTime, out: &mut Outbox) {
        match timer {
            AppTimer::Send { conn, serial } => {
                if let Some((s, ConnApp::Client(c))) = self.conns.get_mut(conn) {
                    if *s == serial {
                        c.write(stack, conn, now, out, &mut self.fx);
                    }
                }
            }
            AppTimer::Accept {
                listener,
                generation,
            } => {
                let li = listener as usize;
                if self.listeners[li].wake_fired(generation) {
                    self.accept_ready(stack, li, now, out);
                }
            }
        }
    }

    /// Accepts from listener `li` as its policy allows, running the server application on
    /// each connection accepted.
    fn accept_ready(&mut self, stack: &mut Stack, li: usize, now: SimTime, out: &mut Outbox) {
        while let Some(id) = self.listeners[li].try_accept(stack, li, now, &mut self.fx) {
            let app = self.listeners[li].app;
            self.hold(id, stack.conn(id).serial(), ConnApp::Server(app));
            server::serve(app, stack, id, now, out);
        }
    }

    /// The host crashed: every connection is gone (the stack reported each closed), and the
    /// listening applications start again from nothing when it restarts.
    pub fn on_crash(&mut self) {
        self.conns.clear();
        for l in &mut self.listeners {
            l.reset();
        }
    }

    /// Client attempts still in progress.
    pub fn unfinished(&self) -> u64 {
        self.conns
            .iter()
            .filter(|(_, a)| matches!(a, ConnApp::Client(c) if !c.is_done()))
            .count() as u64
    }

    /// Client attempts still in progress, appended to `out`.
    pub fn pending(&self, stack: &Stack, out: &mut Vec<PendingAttempt>) {
        for (id, app) in self.conns.iter() {
            if let ConnApp::Client(c) = app {
                if !c.is_done() {
                    out.push(c.pending(stack, id));
                }
            }
        }
    }
}

/// Every application of the run.
pub struct Workload {
    pub clients: Vec<ClientRt>,
    pub attackers: Vec<AttackerRt>,
    /// By host.
    pub hosts: Vec<HostApps>,
}

impl Workload {
    /// The scenario's clients and attackers, and room for each host's applications (the
    /// engine opens the listeners, [`HostApps::listen`], as it builds the stacks).
    pub fn new(scn: &Scenario, addrs: &mut AddrTable, streams: &RngStreams) -> Workload {
        Workload {
            clients: client::clients_of(scn, addrs, streams),
            attackers: attacker::attackers_of(scn, addrs, streams),
            hosts: (0..scn.hosts.len())
                .map(|h| HostApps::new(HostId(h as u32)))
                .collect(),
        }
    }

    /// Client `ci` starts its next attempt (an `aborted` outcome if its host is down).
    pub fn start_attempt(
        &mut self,
        ci: usize,
        now: SimTime,
        stack: &mut Stack,
        addrs: &mut AddrTable,
        out: &mut Outbox,
    ) {
        let c = &mut self.clients[ci];
        let local = c.next_source(addrs);
        let attempt = Attempt {
            client: ci as u32,
            attempt: c.attempts,
            exchange: c.exchange,
        };
        c.attempts += 1;
        let apps = &mut self.hosts[c.host.0 as usize];
        if !stack.is_alive() {
            return ClientConn::new(attempt, now).fail(Reason::ClientHostDown, now, &mut apps.fx);
        }
        let _ = apps.connect(stack, now, local, c.target, attempt, &mut c.conn_rng, out);
    }

    /// Attempts started over the run.
    pub fn attempts_started(&self) -> u64 {
        self.clients.iter().map(|c| c.attempts).sum()
    }

    /// Attempts still in progress.
    pub fn unfinished(&self) -> u64 {
        self.hosts.iter().map(HostApps::unfinished).sum()
    }
}
