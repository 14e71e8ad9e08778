//! How an attempt ends: the workload decides it from the socket events.

use serde::Serialize;

/// How a legitimate client's attempt ended. Exactly one per attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The handshake completed (and the application exchange, if configured, completed or the
    /// server closed cleanly).
    Established,
    /// A RST answered the SYN (ECONNREFUSED).
    Refused,
    /// An ICMP unreachable aborted the SYN-SENT connection (EHOSTUNREACH / ENETUNREACH).
    Unreachable,
    /// SYN (or data) retransmissions were exhausted (ETIMEDOUT).
    TimedOut,
    /// A RST arrived after the handshake, before the exchange finished (ECONNRESET).
    Reset,
    /// The client's own host crashed, or no ephemeral port was free.
    Aborted,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::Established,
        Outcome::Refused,
        Outcome::Unreachable,
        Outcome::TimedOut,
        Outcome::Reset,
        Outcome::Aborted,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Established => "established",
            Outcome::Refused => "refused",
            Outcome::Unreachable => "unreachable",
            Outcome::TimedOut => "timed_out",
            Outcome::Reset => "reset",
            Outcome::Aborted => "aborted",
        }
    }
}
