//! Send and receive buffers, kept out of the control block.
//!
//! Only connections that carry data need buffers; a half-open request never does, and a
//! flooded listener holds many more requests than connections with data. So the buffers of a
//! connection live in a slab beside the connection slots, allocated the first time the
//! connection queues or receives bytes and given back when it is freed; its [`Tcb`] holds the
//! index (4 bytes instead of two inline 33-byte payloads).
//!
//! [`Tcb`]: crate::tcp::tcb::Tcb

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

/// The buffers of every connection that has some, reused through a free list.
#[derive(Debug, Default)]
pub(crate) struct BufferSlab {
    slots: Vec<Buffers>,
    free: Vec<u32>,
}

impl BufferSlab {
    fn alloc(&mut self) -> u32 {
        match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Buffers::default());
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// Gives buffer `i` back (emptied for its next owner).
    pub(crate) fn release(&mut self, i: u32) {
        if i != NO_BUFFERS {
            self.slots[i as usize] = Buffers::default();
            self.free.push(i);
        }
    }

    /// Every connection is gone (the host crashed).
    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.free.clear();
    }
}

impl Stack {
    /// Connection `id`'s buffers (empty ones if it has none yet).
    pub(crate) fn buffers(&self, id: ConnId) -> Buffers {
        match self.tcb(id).bufs {
            NO_BUFFERS => Buffers::default(),
            i => self.buffers.slots[i as usize],
        }
    }

    /// Connection `id`'s buffers, allocated on first use.
    pub(crate) fn buffers_mut(&mut self, id: ConnId) -> &mut Buffers {
        let i = match self.tcb(id).bufs {
            NO_BUFFERS => {
                let i = self.buffers.alloc();
                self.tcb_mut(id).bufs = i;
                i
            }
            i => i,
        };
        &mut self.buffers.slots[i as usize]
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
    fn released_buffers_come_back_empty() {
        let mut s = BufferSlab::default();
        let a = s.alloc();
        s.slots[a as usize].tx.push(b"hello");
        let b = s.alloc();
        assert_ne!(a, b);
        s.release(a);
        s.release(NO_BUFFERS);
        let c = s.alloc();
        assert_eq!(c, a, "reused");
        assert!(s.slots[c as usize].tx.is_empty());
        s.clear();
        assert_eq!(s.alloc(), 0);
    }
}
