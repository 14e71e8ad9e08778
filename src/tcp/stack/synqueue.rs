//! The SYN queue (Linux request sockets) or SYN cache (FreeBSD syncache) of each listener:
//! capacity checks, making room (recycle-oldest, bucket overflow) and linking/unlinking requests.
use std::collections::VecDeque;

use super::Stack;
use crate::tcp::config::SynQueueOverflow;
use crate::tcp::{ConnId, Outbox, Reason, TcpState};
use crate::time::SimTime;
use crate::wire::Endpoint;

/// A FreeBSD-style SYN cache shared by all listeners of a host (RFC 4987 §3.5).
pub(crate) struct Syncache {
    pub buckets: Vec<VecDeque<(ConnId, u32)>>,
    pub len: u64,
    /// Cookies-only until this time (FreeBSD `syncache_pause`).
    pub paused_until: SimTime,
    pub pause_backoff: u32,
}

/// The syncache bucket of a 4-tuple (keyed by the boot's secret, like FreeBSD's hash).
fn bucket_index(secret: u64, local: Endpoint, remote: Endpoint, buckets: usize) -> usize {
    let a = ((local.addr.0 as u64) << 32 | remote.addr.0 as u64) ^ secret;
    let b = ((local.port as u64) << 16 | remote.port as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let h = (a ^ b).wrapping_mul(0xff51_afd7_ed55_8ccd);
    ((h >> 32) as usize) % buckets
}

impl Stack {
    // ------------------------------------------------------------------ SYN queue / cache

    /// Whether a new request would overflow listener `li`'s SYN queue (or the SYN cache).
    pub(crate) fn syn_queue_full(&self, li: usize) -> bool {
        let l = self.listeners[li].as_ref().expect("live listener");
        match (&self.syncache, self.cfg.syncache) {
            (Some(sc), Some(c)) => sc.len >= c.cache_limit as u64,
            _ => l.syn_queue_len >= l.syn_queue_cap,
        }
    }

    pub(crate) fn accept_queue_full(&self, li: usize) -> bool {
        let l = self.listeners[li].as_ref().expect("live listener");
        l.accept_queue.len() as u64 >= l.accept_queue_cap
    }

    fn bucket_of(&self, local: Endpoint, remote: Endpoint, buckets: usize) -> usize {
        bucket_index(self.cookie_secret, local, remote, buckets)
    }

    /// Makes room for a new request of listener `li` when policy says to evict (recycle-oldest,
    /// or a full syncache bucket). Returns the reason of the eviction, if one happened.
    pub(crate) fn make_room(
        &mut self,
        li: usize,
        local: Endpoint,
        remote: Endpoint,
        now: SimTime,
        out: &mut Outbox,
    ) -> Option<Reason> {
        if let Some(c) = self.cfg.syncache {
            let sc = self.syncache.as_ref().expect("syncache configured");
            let b = self.bucket_of(local, remote, sc.buckets.len());
            // syncache_insert: a full bucket drops its oldest entry.
            if sc.buckets[b].len() as u64 >= c.bucket_limit as u64 {
                let (victim, _) = *sc.buckets[b].front().expect("full bucket");
                self.bump(li, |c| c.syncache_bucket_overflow += 1);
                self.close_and_free(
                    victim,
                    TcpState::Closed,
                    Reason::SyncacheBucketOverflow,
                    now,
                    out,
                );
                return Some(Reason::SyncacheBucketOverflow);
            }
            return None;
        }
        if self.cfg.syn_queue_overflow == SynQueueOverflow::RecycleOldest && self.syn_queue_full(li)
        {
            let l = self.listeners[li].as_mut().expect("live listener");
            while let Some(&(victim, generation)) = l.half_open_fifo.front() {
                l.half_open_fifo.pop_front();
                let live = self.slots.get(victim.0 as usize).is_some_and(|s| {
                    s.generation == generation && s.tcb.as_ref().is_some_and(|t| t.is_request)
                });
                if live {
                    self.bump(li, |c| c.syn_queue_recycled += 1);
                    self.close_and_free(
                        victim,
                        TcpState::Closed,
                        Reason::SynQueueRecycled,
                        now,
                        out,
                    );
                    return Some(Reason::SynQueueRecycled);
                }
            }
        }
        None
    }

    /// Records a new request in its listener's SYN queue (and the syncache).
    pub(crate) fn link_request(&mut self, id: ConnId, li: usize) {
        let generation = self.generation(id);
        let (local, remote) = {
            let t = self.tcb(id);
            (t.local, t.remote)
        };
        let recycle = self.cfg.syn_queue_overflow == SynQueueOverflow::RecycleOldest;
        let l = self.listeners[li].as_mut().expect("live listener");
        l.syn_queue_len += 1;
        l.young += 1;
        if recycle && self.cfg.syncache.is_none() {
            l.half_open_fifo.push_back((id, generation));
            // Drop stale entries so the FIFO follows live requests, not history.
            if l.half_open_fifo.len() as u64 > 2 * l.syn_queue_len + 16 {
                let slots = &self.slots;
                l.half_open_fifo.retain(|&(c, g)| {
                    slots[c.0 as usize].generation == g
                        && slots[c.0 as usize]
                            .tcb
                            .as_ref()
                            .is_some_and(|t| t.is_request)
                });
            }
        }
        let peak = l.syn_queue_len;
        let st = &mut self.stats[li];
        st.syn_queue_peak = st.syn_queue_peak.max(peak);
        if let Some(sc) = &mut self.syncache {
            let b = bucket_index(self.cookie_secret, local, remote, sc.buckets.len());
            sc.buckets[b].push_back((id, generation));
            sc.len += 1;
        }
        self.tcb_mut(id).is_request = true;
    }

    /// Removes a request from its listener's SYN queue (and the syncache).
    pub(crate) fn unlink_request(&mut self, id: ConnId) {
        let (li, young, local, remote) = {
            let t = self.tcb(id);
            (
                t.listener.expect("request has a listener") as usize,
                t.timeouts == 0,
                t.local,
                t.remote,
            )
        };
        if let Some(l) = self.listeners[li].as_mut() {
            l.syn_queue_len -= 1;
            if young {
                l.young -= 1;
            }
        }
        if let Some(sc) = &mut self.syncache {
            let b = bucket_index(self.cookie_secret, local, remote, sc.buckets.len());
            if let Some(pos) = sc.buckets[b].iter().position(|&(c, _)| c == id) {
                sc.buckets[b].remove(pos);
                sc.len -= 1;
            }
        }
        self.tcb_mut(id).is_request = false;
    }
}
