//! Per-host TCP counters, named after Linux's `nstat` MIB names wherever one exists.
//!
//! Each field is incremented exactly where the cited Linux function increments its namesake (see
//! the call sites in [`crate::tcp::stack`]). Counters are cumulative over the whole run: a host
//! crash does not reset them (a real reboot would), so a summary shows the run's totals.

use serde::Serialize;

macro_rules! counters {
    ($($field:ident => $name:literal),* $(,)?) => {
        /// Cumulative counters of one host's TCP stack (or of a listener, or of the whole run).
        #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
        pub struct Counters {
            $( #[serde(rename = $name)] pub $field: u64, )*
        }

        impl Counters {
            /// Adds `other` into `self`, field by field.
            pub fn add(&mut self, other: &Counters) {
                $( self.$field += other.$field; )*
            }
            /// `(nstat name, value)` pairs in declaration order.
            pub fn entries(&self) -> Vec<(&'static str, u64)> {
                vec![$( ($name, self.$field), )*]
            }
        }
    };
}

counters! {
    active_opens => "ActiveOpens",
    passive_opens => "PassiveOpens",
    attempt_fails => "AttemptFails",
    estab_resets => "EstabResets",
    in_segs => "InSegs",
    out_segs => "OutSegs",
    retrans_segs => "RetransSegs",
    out_rsts => "OutRsts",
    listen_overflows => "ListenOverflows",
    listen_drops => "ListenDrops",
    req_q_full_drop => "TCPReqQFullDrop",
    req_q_full_do_cookies => "TCPReqQFullDoCookies",
    syncookies_sent => "SyncookiesSent",
    syncookies_recv => "SyncookiesRecv",
    syncookies_failed => "SyncookiesFailed",
    embryonic_rsts => "EmbryonicRsts",
    syn_retrans => "TCPSynRetrans",
    timeouts => "TCPTimeouts",
    abort_on_timeout => "TCPAbortOnTimeout",
    out_of_window_icmps => "OutOfWindowIcmps",
    time_wait_recycled => "TWRecycled",
    ack_skipped_seq => "TCPACKSkippedSeq",
    ack_skipped_syn_recv => "TCPACKSkippedSynRecv",
    ack_skipped_challenge => "TCPACKSkippedChallenge",
    syncache_bucket_overflow => "SyncacheBucketOverflow",
    syncache_cache_overflow => "SyncacheCacheOverflow",
    syn_queue_recycled => "SynQueueRecycled",
    in_errs_icmp => "InIcmpErrors",
    lock_dropped_icmps => "LockDroppedIcmps",
}
