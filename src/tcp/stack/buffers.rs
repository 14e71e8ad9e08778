//! Send and receive buffers, kept out of the control block.
//!
//! Only connections that carry data need buffers; a half-open request never does, and a
//! flooded listener holds many more requests than connections with data. So the buffers of a
//! connection live in a slab beside the connection slots, allocated the first time the
//! connection queues or receives bytes and given back when it is freed; its [`Tcb`] holds the
//! index (4 bytes instead of two inline 33-byte payloads).
//!
//! [`Tcb`]: crate::tcp::tcb::Tcb

use slab::Slab;

use super::Stack;
use crate::tcp::ConnId;
use crate::wire::Payload;

/// The [`Tcb::bufs`](crate::tcp::tcb::Tcb) of a connection without buffers.
pub(crate) const NO_BUFFERS: u32 = u32::MAX;

/// One connection's buffers.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Buffers {
    /// Unacknowledged and unsent bytes, starting at SND.UNA.
    pub tx: Payload,
    /// Received, not yet read by the application.
    pub rx: Payload,
}

/// What a connection without buffers reads.
const EMPTY: Buffers = Buffers {
    tx: Payload::EMPTY,
    rx: Payload::EMPTY,
};

/// The buffers of every connection that has some (a slab: freed keys are reused).
pub(crate) type BufferSlab = Slab<Buffers>;

impl Stack {
    /// Connection `id`'s buffers (empty ones if it has none yet).
    pub(crate) fn buffers(&self, id: ConnId) -> &Buffers {
        self.buffers
            .get(self.tcb(id).bufs as usize)
            .unwrap_or(&EMPTY)
    }

    /// Connection `id`'s buffers, allocated on first use.
    pub(crate) fn buffers_mut(&mut self, id: ConnId) -> &mut Buffers {
        let mut i = self.tcb(id).bufs;
        if i == NO_BUFFERS {
            i = self.buffers.insert(EMPTY) as u32;
            self.tcb_mut(id).bufs = i;
        }
        &mut self.buffers[i as usize]
    }

    /// Something queued that has not been sent yet.
    pub(crate) fn has_unsent(&self, id: ConnId) -> bool {
        let t = self.tcb(id);
        let queued = self.buffers(id).tx.len() as u32 + (t.fin_queued as u32);
        (t.snd_nxt.diff(t.snd_una) as u32) < queued
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_without_buffers_reads_empty_ones_and_gets_them_on_first_write() {
        let mut slab = BufferSlab::new();
        assert!(
            slab.get(NO_BUFFERS as usize).is_none(),
            "NO_BUFFERS is never a key"
        );
        let a = slab.insert(EMPTY);
        slab[a].tx.push(b"hello");
        slab.try_remove(a);
        let b = slab.insert(EMPTY);
        assert_eq!(a, b, "a freed key is reused");
        assert!(slab[b].tx.is_empty(), "and its buffers start empty");
    }
}
