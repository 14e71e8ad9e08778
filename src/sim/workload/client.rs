//! The legitimate client: each attempt connects, optionally writes one message (at once or
//! after a delay), waits for the reply, then closes; its outcome follows from the socket
//! events (RFC 9293 §3.10 error reports: "connection refused", "connection reset", timeouts).

use rand::RngExt as _;

use crate::net::{AddrTable, HostId, offset_addr};
use crate::rng::{RngStreams, StreamRng};
use crate::sim::traffic::ArrivalProcess;
use crate::sim::{ConnRef, OutcomeRecord, PendingAttempt};
use crate::spec::{AddrPool, ConnectMode, PoolDraw, Scenario};
use crate::tcp::{ConnId, Outbox, Reason, SocketEvent, Stack};
use crate::time::{SimDuration, SimTime};
use crate::wire::{AddrId, Endpoint, IcmpCode, Payload};

use super::{AppTimer, Attempt, Effects, Outcome};

/// What an attempt exchanges once connected.
#[derive(Clone, Copy, Debug)]
pub struct Exchange {
    /// Bytes to write once connected (empty = no exchange: connected is success).
    pub send: Payload,
    pub send_delay: SimDuration,
    /// Bytes of reply to wait for (0 = the attempt succeeds once the message is written).
    pub expect_reply: u8,
    /// Close (FIN) once the exchange is over.
    pub close: bool,
    /// A non-blocking `connect()` (then `poll()` and `SO_ERROR`): an ICMP error recorded as a
    /// soft error fails the attempt at once. A blocking one sleeps on until the connection
    /// is established, reset or aborted (`inet_wait_for_connect`), so a soft error does not
    /// end it.
    pub nonblocking: bool,
}

/// A client workload as the engine drives it.
pub struct ClientRt {
    pub host: HostId,
    pub local: AddrId,
    pub target: Endpoint,
    pub arrivals: ArrivalProcess,
    /// Ephemeral ports and ISNs of this client's connections.
    pub conn_rng: StreamRng,
    pub exchange: Exchange,
    pub attempts: u64,
    /// Source addresses drawn per attempt instead of `local`.
    pub pool: Option<PoolRt>,
}

/// A client's pool of source addresses, interned as its host's on first use (so memory
/// follows the addresses drawn, not the pool's size).
pub struct PoolRt {
    pool: AddrPool,
    /// `client/NAME/addrs`, read only by the random draw.
    rng: StreamRng,
}

impl PoolRt {
    /// The source of attempt `attempt` (from 0), per the pool's draw rule.
    fn source(&mut self, attempt: u64, host: HostId, addrs: &mut AddrTable) -> AddrId {
        let i = match self.pool.draw {
            PoolDraw::Sequential => attempt % self.pool.count,
            PoolDraw::Random => self.rng.random_range(0..self.pool.count),
        };
        addrs.intern_owned(offset_addr(self.pool.base, i), host)
    }
}

impl ClientRt {
    /// The source address of the attempt about to start.
    pub fn next_source(&mut self, addrs: &mut AddrTable) -> AddrId {
        match &mut self.pool {
            None => self.local,
            Some(p) => p.source(self.attempts, self.host, addrs),
        }
    }
}

/// The scenario's clients, with their random streams `client/NAME/arrivals`,
/// `client/NAME/connections` and, with an address pool, `client/NAME/addrs`.
pub fn clients_of(scn: &Scenario, addrs: &mut AddrTable, streams: &RngStreams) -> Vec<ClientRt> {
    scn.clients
        .iter()
        .map(|c| ClientRt {
            host: c.host,
            local: match c.pool {
                Some(p) => addrs.intern_owned(p.base, c.host),
                None => addrs
                    .find(&c.addr)
                    .expect("validated: client address belongs to its host"),
            },
            target: Endpoint {
                addr: addrs.intern(c.target.ip()),
                port: c.target.port(),
            },
            arrivals: ArrivalProcess::new(
                c.arrivals.clone(),
                streams.stream(&format!("client/{}/arrivals", c.name)),
            ),
            conn_rng: streams.stream(&format!("client/{}/connections", c.name)),
            exchange: Exchange {
                send: Payload::from_slice(&c.send),
                send_delay: c.send_delay,
                expect_reply: if c.expect_reply {
                    c.send.len() as u8
                } else {
                    0
                },
                close: c.close,
                nonblocking: c.connect_mode == ConnectMode::Nonblocking,
            },
            attempts: 0,
            pool: c.pool.map(|pool| PoolRt {
                pool,
                rng: streams.stream(&format!("client/{}/addrs", c.name)),
            }),
        })
        .collect()
}

/// One attempt's application state.
#[derive(Clone, Copy, Debug)]
pub(super) struct ClientConn {
    attempt: Attempt,
    conn: Option<ConnRef>,
    started: SimTime,
    connected: Option<SimTime>,
    syns_sent: u32,
    /// The ICMP error the socket reported when it closed.
    icmp: Option<IcmpCode>,
    sent: bool,
    /// Reply bytes read so far.
    got: usize,
    /// The outcome has been recorded.
    done: bool,
}

impl ClientConn {
    pub(super) fn new(attempt: Attempt, now: SimTime) -> ClientConn {
        ClientConn {
            attempt,
            conn: None,
            started: now,
            connected: None,
            icmp: None,
            syns_sent: 0,
            sent: false,
            got: 0,
            done: false,
        }
    }

    /// connect() opened the attempt's connection.
    pub(super) fn opened(&mut self, conn: ConnRef) {
        self.conn = Some(conn);
    }

    pub(super) fn is_done(&self) -> bool {
        self.done
    }

    /// The attempt as still in progress, its SYN count read from its connection `id`.
    pub(super) fn pending(&self, stack: &Stack, id: ConnId) -> PendingAttempt {
        PendingAttempt {
            client: self.attempt.client,
            attempt: self.attempt.attempt,
            started: self.started,
            syns_sent: stack.conn(id).syns_sent().max(self.syns_sent),
        }
    }

    /// The attempt never got a connection (no free port, or its host is down).
    pub(super) fn fail(mut self, reason: Reason, now: SimTime, fx: &mut Effects) {
        self.finish(Outcome::Aborted, reason, now, fx);
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_event(
        &mut self,
        stack: &mut Stack,
        id: ConnId,
        serial: u64,
        event: SocketEvent,
        now: SimTime,
        out: &mut Outbox,
        fx: &mut Effects,
    ) {
        match event {
            SocketEvent::Connected { syns_sent } => {
                self.syns_sent = syns_sent;
                self.connected.get_or_insert(now);
                let ex = self.attempt.exchange;
                if ex.send.is_empty() {
                    self.exchange_over(stack, id, now, out, fx);
                } else if ex.send_delay == SimDuration::ZERO {
                    self.write(stack, id, now, out, fx);
                } else {
                    fx.timers
                        .push((AppTimer::Send { conn: id, serial }, now + ex.send_delay));
                }
            }
            SocketEvent::Readable | SocketEvent::PeerClosed => {
                self.on_input(stack, id, now, out, fx)
            }
            SocketEvent::Closed {
                reason,
                syns_sent,
                icmp,
            } => {
                self.syns_sent = syns_sent;
                self.icmp = icmp;
                self.finish(self.failure(reason), reason, now, fx);
            }
            SocketEvent::SoftError { icmp } => {
                // poll() reports the socket, SO_ERROR returns sk_err_soft; the application gives
                // up and closes the socket (tcp_close, not tcp_done: no AttemptFails).
                if self.attempt.exchange.nonblocking && !self.done {
                    self.icmp = Some(icmp);
                    self.syns_sent = stack.conn(id).syns_sent();
                    self.finish(Outcome::Unreachable, Reason::IcmpUnreachable, now, fx);
                    stack.close(id, now, out);
                }
            }
            SocketEvent::Acceptable { .. } => {}
        }
    }

    /// The outcome of an attempt whose connection closed before the exchange was over.
    fn failure(&self, reason: Reason) -> Outcome {
        match reason {
            // A RST before the handshake completed is ECONNREFUSED, after it ECONNRESET.
            Reason::RstReceived if self.connected.is_some() => Outcome::Reset,
            Reason::RstReceived => Outcome::Refused,
            Reason::IcmpUnreachable => Outcome::Unreachable,
            Reason::SynRetriesExhausted | Reason::DataRetriesExhausted => Outcome::TimedOut,
            Reason::HostCrash => Outcome::Aborted,
            _ => Outcome::Reset,
        }
    }

    /// Writes the message (once); with no reply to wait for, the exchange is over.
    pub(super) fn write(
        &mut self,
        stack: &mut Stack,
        id: ConnId,
        now: SimTime,
        out: &mut Outbox,
        fx: &mut Effects,
    ) {
        if self.sent || self.done {
            return;
        }
        self.sent = true;
        stack.write(id, self.attempt.exchange.send, now, out);
        if self.attempt.exchange.expect_reply == 0 {
            self.exchange_over(stack, id, now, out, fx);
        }
    }

    /// Bytes or a FIN arrived: the reply is complete, or the server closed first.
    fn on_input(
        &mut self,
        stack: &mut Stack,
        id: ConnId,
        now: SimTime,
        out: &mut Outbox,
        fx: &mut Effects,
    ) {
        self.got += stack.recv(id).len();
        if self.done {
            return self.maybe_close(stack, id, now, out);
        }
        let expect = self.attempt.exchange.expect_reply as usize;
        if (self.sent && self.got >= expect) || stack.peer_closed(id) {
            self.exchange_over(stack, id, now, out, fx);
        }
    }

    /// The attempt succeeded: record it, then close if the client closes.
    fn exchange_over(
        &mut self,
        stack: &mut Stack,
        id: ConnId,
        now: SimTime,
        out: &mut Outbox,
        fx: &mut Effects,
    ) {
        self.finish(Outcome::Established, Reason::SynAckReceived, now, fx);
        self.maybe_close(stack, id, now, out);
    }

    fn maybe_close(&self, stack: &mut Stack, id: ConnId, now: SimTime, out: &mut Outbox) {
        if (self.attempt.exchange.close || stack.peer_closed(id)) && !stack.is_closing(id) {
            stack.close(id, now, out);
        }
    }

    /// Records the attempt's outcome, once.
    fn finish(&mut self, outcome: Outcome, reason: Reason, now: SimTime, fx: &mut Effects) {
        if self.done {
            return;
        }
        self.done = true;
        fx.outcomes.push(OutcomeRecord {
            client: self.attempt.client,
            attempt: self.attempt.attempt,
            outcome,
            reason,
            started: self.started,
            ended: now,
            connected: if outcome == Outcome::Established {
                self.connected
            } else {
                None
            },
            syns_sent: self.syns_sent,
            conn: self.conn,
            error: self.error(outcome, reason),
        });
    }

    /// The error `connect()` (or a later `recv()`) returns for this outcome, as on Linux.
    fn error(&self, outcome: Outcome, reason: Reason) -> Option<&'static str> {
        Some(match outcome {
            Outcome::Established => return None,
            Outcome::Refused => "ECONNREFUSED",
            Outcome::Reset => "ECONNRESET",
            Outcome::Unreachable => self.icmp.map_or("EHOSTUNREACH", IcmpCode::errno),
            // tcp_write_err: the soft error if an ICMP error was seen, else ETIMEDOUT.
            Outcome::TimedOut => self.icmp.map_or("ETIMEDOUT", IcmpCode::errno),
            Outcome::Aborted if reason == Reason::EphemeralPortsExhausted => "EADDRNOTAVAIL",
            Outcome::Aborted => return None,
        })
    }
}
