//! The eleven TCP states of RFC 9293 §3.3.2 and the transitions synsim allows between them.
//!
//! The diagram in §3.3.2 is a summary; the event processing of §3.10 is normative. The table in
//! [`TcpState::can_move_to`] is the union of both, plus the two abstractions the simulator makes
//! explicit: a half-open entry of a listener (a Linux request socket or a FreeBSD syncache
//! entry) is modelled as a connection that went LISTEN -> SYN-RECEIVED, and "return to LISTEN"
//! on a RST (§3.10.7.4) frees that entry.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TcpState {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl TcpState {
    /// All states, in RFC order (the column order of `timeline.csv`).
    pub const ALL: [TcpState; 11] = [
        TcpState::Closed,
        TcpState::Listen,
        TcpState::SynSent,
        TcpState::SynReceived,
        TcpState::Established,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::CloseWait,
        TcpState::Closing,
        TcpState::LastAck,
        TcpState::TimeWait,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// The RFC spelling, e.g. `"SYN-RECEIVED"`.
    pub fn name(self) -> &'static str {
        match self {
            TcpState::Closed => "CLOSED",
            TcpState::Listen => "LISTEN",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynReceived => "SYN-RECEIVED",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::Closing => "CLOSING",
            TcpState::LastAck => "LAST-ACK",
            TcpState::TimeWait => "TIME-WAIT",
        }
    }

    /// Synchronized states (RFC 9293 §3.5): a SYN has been both sent and received.
    pub fn is_synchronized(self) -> bool {
        !matches!(
            self,
            TcpState::Closed | TcpState::Listen | TcpState::SynSent | TcpState::SynReceived
        )
    }

    /// Whether RFC 9293 allows `self -> to`. Every state may go to CLOSED (ABORT, RST, timeout).
    pub fn can_move_to(self, to: TcpState) -> bool {
        use TcpState::*;
        if to == Closed {
            return self != Closed;
        }
        matches!(
            (self, to),
            (Closed, Listen)
                | (Closed, SynSent)
                | (Listen, SynReceived)
                | (Listen, SynSent)
                | (SynSent, SynReceived)
                | (SynSent, Established)
                | (SynReceived, Established)
                | (SynReceived, FinWait1)
                | (SynReceived, Listen)
                | (Established, FinWait1)
                | (Established, CloseWait)
                | (FinWait1, FinWait2)
                | (FinWait1, Closing)
                | (FinWait1, TimeWait)
                | (FinWait2, TimeWait)
                | (CloseWait, LastAck)
                | (Closing, TimeWait)
        )
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_and_close_paths_are_legal() {
        use TcpState::*;
        for path in [
            &[
                Closed,
                SynSent,
                Established,
                FinWait1,
                FinWait2,
                TimeWait,
                Closed,
            ][..],
            &[Listen, SynReceived, Established, CloseWait, LastAck, Closed][..],
            &[Closed, SynSent, SynReceived, Established][..],
            &[Listen, SynReceived, Listen][..],
            &[Established, FinWait1, Closing, TimeWait][..],
        ] {
            for w in path.windows(2) {
                assert!(w[0].can_move_to(w[1]), "{} -> {}", w[0], w[1]);
            }
        }
    }

    #[test]
    fn illegal_jumps_are_refused() {
        use TcpState::*;
        assert!(!Closed.can_move_to(Established));
        assert!(!Listen.can_move_to(Established));
        assert!(!SynSent.can_move_to(FinWait1));
        assert!(!TimeWait.can_move_to(Established));
        assert!(!Closed.can_move_to(Closed));
    }
}
