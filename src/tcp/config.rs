//! Stack knobs and the profiles that preset them.
//!
//! A [`StackConfig`] is every knob of one host's TCP stack, flat, with units in the field names.
//! A profile ([`Profile::config`]) is nothing more than a named set of knob values plus a few
//! policy switches (enums below); a scenario picks a profile per host and may override any knob.
//! Where a value comes from a real stack, the source is cited beside it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A named preset of every knob.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Linux 6.x defaults (as measured on 6.18).
    #[default]
    Linux,
    /// The Linux 5.x LTS generation (5.4 to 5.15, as the common SYN-flood lab VMs run it):
    /// see [`StackConfig::linux5`] for every difference.
    #[schemars(
        description = "The Linux 5.x LTS generation (5.4 to 5.15, as the common \
        SYN-flood lab VMs run it): docs/profiles.md lists every difference from linux."
    )]
    Linux5,
    /// FreeBSD 14 defaults (tcp_syncache.c, tcp_timer.c).
    Freebsd,
    /// The plain reference behaviour of RFC 9293 + RFC 6298, no defences.
    Rfc9293,
}

impl Profile {
    pub const ALL: [Profile; 4] = [
        Profile::Linux,
        Profile::Linux5,
        Profile::Freebsd,
        Profile::Rfc9293,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Linux => "linux",
            Profile::Linux5 => "linux5",
            Profile::Freebsd => "freebsd",
            Profile::Rfc9293 => "rfc9293",
        }
    }

    pub fn parse(s: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name() == s)
    }

    /// The profile's value for every knob.
    pub fn config(self) -> StackConfig {
        match self {
            Profile::Linux => StackConfig::linux(),
            Profile::Linux5 => StackConfig::linux5(),
            Profile::Freebsd => StackConfig::freebsd(),
            Profile::Rfc9293 => StackConfig::rfc9293(),
        }
    }
}

/// SYN cookie mode (Linux `net.ipv4.tcp_syncookies` 0/1/2; RFC 4987 §3.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SynCookies {
    /// 0: never; a SYN to a full SYN queue is dropped.
    Off,
    /// 1: a cookie SYN-ACK instead of a queue entry when the SYN queue (or syncache) is full.
    OnOverflow,
    /// 2: every SYN is answered with a cookie, no half-open state at all.
    Always,
}

/// How many half-open entries a listener holds for `listen(fd, backlog)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueRule {
    /// Full when `len > backlog`, so it holds backlog+1 (Linux `inet_csk_reqsk_queue_is_full`,
    /// `sk_acceptq_is_full`; measured on 6.18).
    BacklogPlusOne,
    /// Full when `len >= backlog`: exactly `backlog` entries (the plain reading of listen()).
    Backlog,
    /// Full when `len > 3 * backlog / 2` (FreeBSD `sonewconn`, accept queue only).
    ThreeHalvesBacklog,
}

impl QueueRule {
    /// The number of entries a queue with this rule holds for `backlog`.
    pub fn capacity(self, backlog: u64) -> u64 {
        match self {
            QueueRule::BacklogPlusOne => backlog + 1,
            QueueRule::Backlog => backlog,
            QueueRule::ThreeHalvesBacklog => 3 * backlog / 2 + 1,
        }
    }
}

/// How a SYN cookie encodes the SYN's options (see [`crate::tcp::cookie`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncookieFormat {
    /// Linux: 2 bits of MSS in the ISN (`msstab`), window scale and SACK in the low 6 bits of
    /// the timestamp, so a peer without timestamps loses both.
    Linux,
    /// FreeBSD: MSS (3 bits), window scale (3 bits) and SACK in the ISN's low byte.
    Freebsd,
}

/// What a full SYN queue does with a new SYN when no cookie is sent (RFC 4987 §3.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SynQueueOverflow {
    /// Drop the new SYN (Linux, RFC 9293 reading).
    Drop,
    /// Evict the oldest half-open entry to make room ("recycling the oldest half-open TCB").
    RecycleOldest,
}

/// A FreeBSD-style SYN cache (RFC 4987 §3.5): one table per host, shared by its listeners,
/// hashed by 4-tuple into buckets; a full bucket evicts its oldest entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncacheConfig {
    /// `net.inet.tcp.syncache.hashsize` (512).
    pub buckets: u32,
    /// `net.inet.tcp.syncache.bucketlimit` (30).
    pub bucket_limit: u32,
    /// `net.inet.tcp.syncache.cachelimit` (buckets x bucket_limit = 15360).
    pub cache_limit: u32,
}

/// Every knob of a host's TCP stack. Units are in the field names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StackConfig {
    // ---- active open (client) ----
    /// Initial retransmission timeout of a SYN (RFC 6298 §2.1: 1 s).
    pub syn_rto_initial_ms: u64,
    /// Upper bound of any backed-off RTO (Linux TCP_RTO_MAX 120 s; RFC 6298 §2.5 allows >= 60 s).
    pub rto_max_ms: u64,
    /// Linux `tcp_syn_retries`: drives the default give-up rule below.
    pub syn_retries: u32,
    /// Linux `tcp_syn_linear_timeouts` (6.5+): the SYN RTO stays at its initial value while the
    /// number of timeouts so far is <= this, then doubles.
    pub syn_linear_timeouts: u32,
    /// If set, the SYN RTO after n timeouts is `syn_rto_initial_ms * table[min(n, len-1)]`
    /// instead of linear-then-doubling (FreeBSD `tcp_syn_backoff`).
    pub syn_backoff_multipliers: Option<Vec<u32>>,
    /// Give up at the first timer firing where this many SYN retransmissions were sent.
    /// `null` = Linux rule: syn_retries + syn_linear_timeouts.
    pub syn_max_retransmissions: Option<u32>,
    /// Give up at the first timer firing at least this long after the first SYN.
    /// `null` = Linux rule (`retransmits_timed_out`): (2^(syn_retries+1) - 1) x syn_rto_initial_ms.
    pub syn_give_up_ms: Option<u64>,
    /// `true`: the give-up time is a timer of its own that fires exactly then (FreeBSD
    /// `keepinit`); `false`: it is only checked when the retransmission timer fires (Linux).
    pub syn_give_up_own_timer: bool,
    /// An ICMP unreachable aborts a SYN-SENT connection only after this many SYN
    /// retransmissions (Linux 0: at once, `tcp_v4_err`; FreeBSD 3, `tcp_notify`).
    pub icmp_abort_min_retransmits: u32,
    /// ...and only if an earlier ICMP error was already recorded (FreeBSD `t_softerror`).
    pub icmp_abort_needs_prior_error: bool,
    /// How long after `connect()` sends its SYN the call still holds the socket (Linux
    /// `lock_sock` in `inet_stream_connect`, released when it goes to sleep). An ICMP error for
    /// the connection that arrives sooner finds the socket owned by the user: `tcp_v4_err`
    /// counts LockDroppedIcmps and records a soft error instead of aborting. Only a path whose
    /// round trip to the ICMP source is this short sees it: on veth pairs and loopback the
    /// router's answer is processed inside the sending call. An estimate, not a measurement:
    /// the kernel's window is CPU time, not a timer. 0 = never.
    pub connect_lock_window_us: u64,
    /// Lowest ephemeral port (Linux `ip_local_port_range` 32768).
    pub ephemeral_port_min: u16,
    /// Highest ephemeral port (Linux 60999).
    pub ephemeral_port_max: u16,

    // ---- passive open (listener) ----
    /// `net.core.somaxconn`: listen() backlogs are capped to this (Linux 4096 since 5.4).
    pub somaxconn: u32,
    /// `tcp_max_syn_backlog` (2048 measured on this machine; Linux sizes it from memory).
    pub max_syn_backlog: u32,
    /// How many half-open entries a listener holds.
    pub syn_queue_rule: QueueRule,
    /// How many established, not yet accepted connections a listener holds.
    pub accept_queue_rule: QueueRule,
    /// What a full SYN queue does with a new SYN when no cookie is sent.
    pub syn_queue_overflow: SynQueueOverflow,
    /// Linux `tcp_conn_request` step 2: a SYN that finds the accept queue full is dropped
    /// (ListenOverflows), even where a cookie would be sent. FreeBSD only notices at accept time.
    pub syn_drop_if_accept_queue_full: bool,
    /// Linux `tcp_conn_request` "last quarter" rule: with cookies off, a SYN from a peer that is
    /// not proven is dropped when fewer than max_syn_backlog/4 slots remain.
    pub quarter_rule: bool,
    /// SYN cookies (Linux `net.ipv4.tcp_syncookies`).
    pub syncookies: SynCookies,
    /// What a SYN cookie keeps of the SYN's options.
    pub syncookie_format: SyncookieFormat,
    /// SYN-ACK retransmissions before a half-open entry expires (Linux `tcp_synack_retries` 5).
    pub synack_retries: u32,
    /// First SYN-ACK retransmission timeout; it doubles each time (Linux TCP_TIMEOUT_INIT 1 s).
    pub synack_rto_initial_ms: u64,
    /// Linux young/old pruning in `reqsk_timer_handler`: when the queue is more than half full,
    /// old entries get fewer SYN-ACK retries.
    pub synack_pruning: bool,
    /// RFC 4987 §3.3 "reducing the SYN-RECEIVED timer": a half-open entry is expired this long
    /// after its SYN, whatever its retry budget says. `null` = off.
    pub synrecv_timeout_ms: Option<u64>,
    /// A FreeBSD-style SYN cache replacing the per-listener SYN queue. `null` = per-listener queue.
    pub syncache: Option<SyncacheConfig>,
    /// FreeBSD: after the syncache overflows (with cookies on), answer only with cookies for
    /// this long; the pause doubles on repeated overflow (up to 8x). `null` = no pause.
    pub syncookies_only_pause_ms: Option<u64>,
    /// A final ACK that finds the accept queue full is answered with RST (Linux
    /// `tcp_abort_on_overflow` 1; FreeBSD always) instead of being ignored.
    pub abort_on_overflow: bool,
    /// Cookie ACKs are checked only if the listener overflowed within this window (Linux
    /// `tcp_synq_no_recent_overflow`: 2 minutes, the cookie validity). Ignored with `always`.
    pub syncookie_check_window_ms: u64,

    // ---- established connections ----
    /// Lower bound of the RTO after the handshake (Linux TCP_RTO_MIN 200 ms, RFC 6298 1 s).
    pub min_rto_ms: u64,
    /// Data retransmissions before the connection is aborted (Linux `tcp_retries2` 15).
    pub data_retries: u32,
    /// Maximum segment lifetime; TIME-WAIT lasts 2 x MSL (Linux: TIME-WAIT is 60 s).
    pub msl_ms: u64,
    /// How long an orphaned FIN-WAIT-2 connection lives (Linux `tcp_fin_timeout` 60 s).
    pub fin_wait2_timeout_ms: u64,
    /// The receive window, in bytes: what segment acceptability checks against and what the
    /// window field advertises (scaled down by `rcv_wscale` once window scaling is agreed;
    /// never more than 65535 in a SYN or SYN-ACK, RFC 7323 §2.2).
    pub rcv_window: u32,
    /// Minimum gap between two ACKs answering out-of-window segments on one connection
    /// (Linux `tcp_invalid_ratelimit`, 500 ms). 0 = no limit.
    pub invalid_ratelimit_ms: u64,

    // ---- TCP options (see crate::tcp::options) ----
    /// Link MTU, in bytes: the MSS offered is `mtu` minus the IP and TCP headers (40 bytes for
    /// IPv4, 60 for IPv6; Linux `tcp_advertise_mss`, FreeBSD `tcp_mssopt`).
    pub mtu: u32,
    /// Offer and accept SACK-permitted (Linux `net.ipv4.tcp_sack`, FreeBSD
    /// `net.inet.tcp.sack.enable`).
    pub sack: bool,
    /// Offer and accept window scaling (Linux `net.ipv4.tcp_window_scaling`, FreeBSD
    /// `net.inet.tcp.rfc1323` bit 0).
    pub window_scaling: bool,
    /// Offer and accept timestamps (Linux `net.ipv4.tcp_timestamps`, FreeBSD
    /// `net.inet.tcp.rfc1323` bit 1).
    pub timestamps: bool,
    /// The window scale shift this stack offers (Linux: from `tcp_rmem[2]` in
    /// `tcp_select_initial_window`; FreeBSD: from `kern.ipc.maxsockbuf`).
    pub rcv_wscale: u8,
    /// Option order on the wire (Linux `tcp_options_write`, FreeBSD `tcp_addoptions`).
    pub option_layout: crate::wire::OptionLayout,

    // ---- kernel time ----
    /// Timer ticks per second (Linux `CONFIG_HZ`: 100, 250, 300 or 1000). With a value, timers
    /// run on jiffies and the kernel's timer wheel ([`crate::tcp::wheel`]): rounded up to their
    /// bucket and expired in batches. 0 = every timer fires at its exact nanosecond.
    pub timer_hz: u32,
}

impl StackConfig {
    /// Linux 6.x defaults; sysctls as read on a 6.18 kernel.
    pub fn linux() -> StackConfig {
        StackConfig {
            syn_rto_initial_ms: 1000,
            rto_max_ms: 120_000,
            syn_retries: 6,
            syn_linear_timeouts: 4,
            syn_backoff_multipliers: None,
            syn_max_retransmissions: None,
            syn_give_up_ms: None,
            syn_give_up_own_timer: false,
            icmp_abort_min_retransmits: 0,
            icmp_abort_needs_prior_error: false,
            connect_lock_window_us: 20,
            ephemeral_port_min: 32768,
            ephemeral_port_max: 60999,
            somaxconn: 4096,
            max_syn_backlog: 2048,
            syn_queue_rule: QueueRule::BacklogPlusOne,
            accept_queue_rule: QueueRule::BacklogPlusOne,
            syn_queue_overflow: SynQueueOverflow::Drop,
            syn_drop_if_accept_queue_full: true,
            quarter_rule: true,
            syncookies: SynCookies::OnOverflow,
            syncookie_format: SyncookieFormat::Linux,
            synack_retries: 5,
            synack_rto_initial_ms: 1000,
            synack_pruning: true,
            synrecv_timeout_ms: None,
            syncache: None,
            syncookies_only_pause_ms: None,
            abort_on_overflow: false,
            syncookie_check_window_ms: 120_000,
            min_rto_ms: 200,
            data_retries: 15,
            msl_ms: 30_000,
            fin_wait2_timeout_ms: 60_000,
            rcv_window: 65535,
            invalid_ratelimit_ms: 500,
            mtu: 1500,
            sack: true,
            window_scaling: true,
            timestamps: true,
            // Measured: 10, from tcp_rmem[2] = 32 MiB as read on this machine (the 6 MiB
            // default gives 7).
            rcv_wscale: 10,
            option_layout: crate::wire::OptionLayout::Linux,
            // CONFIG_HZ=250 in /proc/config.gz of the 6.18 kernel this profile is measured on
            // (also the default of most distributions' x86-64 kernels).
            timer_hz: 250,
        }
    }

    /// The Linux 5.x LTS generation (5.4 to 5.15 as released before January 2025). Two rules
    /// of the linux profile came later; everything else is the same code in 5.x:
    /// - No linear SYN timeouts: `tcp_syn_linear_timeouts` arrived in 6.5 (commit ccce324dabfe,
    ///   "tcp: make the first N SYN RTO backoffs linear"). The SYN RTO doubles from the first
    ///   timeout: SYNs at 0, 1, 3, 7, 15, 31, 63 s, ETIMEDOUT at 127 s.
    /// - The SYN queue holds `backlog` requests, not backlog+1: `inet_csk_reqsk_queue_is_full`
    ///   compared `qlen >= sk_max_ack_backlog` until commit 3479c7549fb1 ("tcp/dccp: allow a
    ///   connection when sk_max_ack_backlog is zero", January 2025), which also went to the
    ///   5.15 stable series in its update reviewed on 2025-01-21. A 5.15 kernel built after that
    ///   holds backlog+1, as the linux profile does.
    ///
    /// Unchanged from 5.x to 6.18, so taken from the linux profile: the accept queue's
    /// backlog+1 (`sk_acceptq_is_full` compares with `>` in every version, see commit
    /// 64a146513f8f); the SYN drop on a full accept queue, the quarter rule's form and
    /// `tcp_peer_is_proven` in `tcp_conn_request` (the same expression since 3.x, wrapped in
    /// `READ_ONCE` in 2022); young/old pruning in `reqsk_timer_handler`; `somaxconn` 4096
    /// (since 5.4); the timer wheel (since 4.8) at `CONFIG_HZ` 250, the x86-64 default of the
    /// distributions' 5.x kernels. Not checked against a 5.x kernel: where TCPTimeouts is counted
    /// in `tcp_retransmit_timer` is assumed to be as in 6.18.
    pub fn linux5() -> StackConfig {
        StackConfig {
            syn_linear_timeouts: 0,
            syn_queue_rule: QueueRule::Backlog,
            ..StackConfig::linux()
        }
    }

    /// FreeBSD 14 defaults (tcp_syncache.c, tcp_timer.c, uipc_socket.c).
    pub fn freebsd() -> StackConfig {
        StackConfig {
            syn_rto_initial_ms: 1000,
            rto_max_ms: 64_000,
            syn_retries: 12,
            syn_linear_timeouts: 0,
            // tcp_syn_backoff[] in tcp_timer.c
            syn_backoff_multipliers: Some(vec![1, 1, 1, 1, 1, 2, 4, 8, 16, 32, 64, 64, 64]),
            syn_max_retransmissions: Some(12),
            // net.inet.tcp.keepinit: 75 s connect limit
            syn_give_up_ms: Some(75_000),
            syn_give_up_own_timer: true,
            icmp_abort_min_retransmits: 3,
            icmp_abort_needs_prior_error: true,
            // Not modelled for FreeBSD (the inpcb lock is held briefly in tcp_connect).
            connect_lock_window_us: 0,
            ephemeral_port_min: 10000,
            ephemeral_port_max: 65535,
            somaxconn: 128,
            max_syn_backlog: 15360,
            syn_queue_rule: QueueRule::Backlog,
            accept_queue_rule: QueueRule::ThreeHalvesBacklog,
            syn_queue_overflow: SynQueueOverflow::RecycleOldest,
            syn_drop_if_accept_queue_full: false,
            quarter_rule: false,
            syncookies: SynCookies::OnOverflow,
            syncookie_format: SyncookieFormat::Freebsd,
            // SYN-ACKs at 0, 1, 3, 7 s (rexmtlimit 3); the entry dies at about 15 s.
            synack_retries: 3,
            synack_rto_initial_ms: 1000,
            synack_pruning: false,
            synrecv_timeout_ms: None,
            syncache: Some(SyncacheConfig {
                buckets: 512,
                bucket_limit: 30,
                cache_limit: 15360,
            }),
            syncookies_only_pause_ms: Some(15_000),
            abort_on_overflow: true,
            syncookie_check_window_ms: 120_000,
            min_rto_ms: 30,
            data_retries: 12,
            msl_ms: 30_000,
            fin_wait2_timeout_ms: 60_000,
            rcv_window: 65535,
            // FreeBSD limits ACK wars differently (ack_war_maxcnt); not modelled.
            invalid_ratelimit_ms: 0,
            mtu: 1500,
            sack: true,
            window_scaling: true,
            timestamps: true,
            // tcp_syncache.c: the smallest shift with 65535 << shift >= sb_max (2 MiB): 6.
            rcv_wscale: 6,
            option_layout: crate::wire::OptionLayout::Freebsd,
            // FreeBSD's callouts (kern_timeout.c, hz 1000) are not modelled: exact timers.
            timer_hz: 0,
        }
    }

    /// RFC 9293 + RFC 6298 as written: doubling RTO, exactly `backlog` half-open entries, no
    /// defences.
    pub fn rfc9293() -> StackConfig {
        StackConfig {
            syn_rto_initial_ms: 1000,
            rto_max_ms: 60_000,
            syn_retries: 6,
            syn_linear_timeouts: 0,
            syn_backoff_multipliers: None,
            syn_max_retransmissions: Some(u32::MAX),
            // §3.8.3: R2 for a SYN SHOULD be at least 3 minutes.
            syn_give_up_ms: Some(180_000),
            syn_give_up_own_timer: true,
            icmp_abort_min_retransmits: 0,
            icmp_abort_needs_prior_error: false,
            connect_lock_window_us: 0,
            ephemeral_port_min: 49152,
            ephemeral_port_max: 65535,
            somaxconn: u32::MAX,
            max_syn_backlog: u32::MAX,
            syn_queue_rule: QueueRule::Backlog,
            accept_queue_rule: QueueRule::Backlog,
            syn_queue_overflow: SynQueueOverflow::Drop,
            syn_drop_if_accept_queue_full: false,
            quarter_rule: false,
            syncookies: SynCookies::Off,
            syncookie_format: SyncookieFormat::Linux,
            synack_retries: 5,
            synack_rto_initial_ms: 1000,
            synack_pruning: false,
            synrecv_timeout_ms: None,
            syncache: None,
            syncookies_only_pause_ms: None,
            abort_on_overflow: false,
            syncookie_check_window_ms: 120_000,
            min_rto_ms: 1000,
            data_retries: 15,
            msl_ms: 120_000,
            fin_wait2_timeout_ms: 600_000,
            rcv_window: 65535,
            invalid_ratelimit_ms: 0,
            // RFC 9293 §3.7.1: MSS only (the extensions are separate RFCs).
            mtu: 1500,
            sack: false,
            window_scaling: false,
            timestamps: false,
            rcv_wscale: 0,
            option_layout: crate::wire::OptionLayout::Linux,
            timer_hz: 0,
        }
    }

    /// SYN retransmissions after which a connect gives up.
    pub fn effective_syn_max_retransmissions(&self) -> u32 {
        self.syn_max_retransmissions
            .unwrap_or(self.syn_retries.saturating_add(self.syn_linear_timeouts))
    }

    /// Time after the first SYN at which a connect gives up (checked when the timer fires).
    /// Linux `retransmits_timed_out`: ((2 << syn_retries) - 1) x rto_base.
    pub fn effective_syn_give_up_ms(&self) -> u64 {
        self.syn_give_up_ms.unwrap_or_else(|| {
            let factor = if self.syn_retries >= 63 {
                u64::MAX
            } else {
                (2u64 << self.syn_retries) - 1
            };
            factor.saturating_mul(self.syn_rto_initial_ms)
        })
    }

    /// The SYN RTO after `timeouts` expiries so far (the wait before the next firing).
    pub fn syn_rto_after(&self, timeouts: u32) -> u64 {
        let base = self.syn_rto_initial_ms;
        let rto = match &self.syn_backoff_multipliers {
            Some(table) if !table.is_empty() => {
                let m = table[(timeouts as usize).min(table.len() - 1)] as u64;
                base.saturating_mul(m)
            }
            _ => {
                // tcp_retransmit_timer: in SYN-SENT the RTO is not doubled while
                // icsk_retransmits <= tcp_syn_linear_timeouts.
                let doublings = timeouts.saturating_sub(self.syn_linear_timeouts);
                if doublings >= 64 {
                    u64::MAX
                } else {
                    base.checked_shl(doublings)
                        .filter(|v| v >> doublings == base)
                        .unwrap_or(u64::MAX)
                }
            }
        };
        rto.min(self.rto_max_ms)
    }

    /// The SYN-ACK timer after `num_timeout` firings (Linux `reqsk_timer_handler`:
    /// TCP_TIMEOUT_INIT << num_timeout, capped at TCP_RTO_MAX).
    pub fn synack_rto_after(&self, num_timeout: u32) -> u64 {
        let base = self.synack_rto_initial_ms;
        let v = if num_timeout >= 64 {
            u64::MAX
        } else {
            base.checked_shl(num_timeout)
                .filter(|v| v >> num_timeout == base)
                .unwrap_or(u64::MAX)
        };
        v.min(self.rto_max_ms)
    }

    /// Times (ms after the first) of every SYN a connect to a silent peer sends, and the time it
    /// gives up: the schedule `on_syn_timer` follows, computed without simulating.
    pub fn syn_schedule_ms(&self) -> (Vec<u64>, u64) {
        let (max_retrans, give_up) = (
            self.effective_syn_max_retransmissions(),
            self.effective_syn_give_up_ms(),
        );
        let (mut t, mut sends, mut timeouts) = (0u64, vec![0u64], 0u32);
        loop {
            t = t.saturating_add(self.syn_rto_after(timeouts));
            if self.syn_give_up_own_timer && t > give_up {
                return (sends, give_up);
            }
            if timeouts >= max_retrans || t >= give_up || sends.len() > 10_000 {
                return (sends, t);
            }
            sends.push(t);
            timeouts += 1;
        }
    }

    /// Times (ms) of the SYN-ACKs a half-open entry sends when nobody answers (no pruning), and
    /// when it expires.
    pub fn synack_schedule_ms(&self) -> (Vec<u64>, u64) {
        let (mut t, mut sends) = (0u64, vec![0u64]);
        for n in 0..self.synack_retries.min(10_000) {
            t = t.saturating_add(self.synack_rto_after(n));
            sends.push(t);
        }
        let expiry = t.saturating_add(self.synack_rto_after(self.synack_retries));
        (sends, expiry)
    }

    /// Checks the knobs for nonsense; returns `(field, message)` for the first problem.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.syn_rto_initial_ms == 0 {
            return Err(("syn_rto_initial_ms", "must be > 0".into()));
        }
        if self.synack_rto_initial_ms == 0 {
            return Err(("synack_rto_initial_ms", "must be > 0".into()));
        }
        if self.rto_max_ms == 0 {
            return Err(("rto_max_ms", "must be > 0".into()));
        }
        if self.min_rto_ms == 0 {
            return Err(("min_rto_ms", "must be > 0".into()));
        }
        if self.ephemeral_port_min == 0 || self.ephemeral_port_min > self.ephemeral_port_max {
            return Err((
                "ephemeral_port_min",
                "must be >= 1 and <= ephemeral_port_max".into(),
            ));
        }
        if let Some(t) = &self.syn_backoff_multipliers {
            if t.is_empty() || t.contains(&0) {
                return Err((
                    "syn_backoff_multipliers",
                    "must be a non-empty list of positive integers".into(),
                ));
            }
        }
        if let Some(c) = &self.syncache {
            if c.buckets == 0 || c.bucket_limit == 0 || c.cache_limit == 0 {
                return Err((
                    "syncache",
                    "buckets, bucket_limit and cache_limit must be > 0".into(),
                ));
            }
            if c.buckets > 1 << 20 {
                return Err(("syncache", "buckets must be <= 1048576".into()));
            }
        }
        if self.timer_hz != 0 && !crate::tcp::wheel::SUPPORTED_HZ.contains(&self.timer_hz) {
            return Err((
                "timer_hz",
                format!(
                    "must be 0 (exact timers) or one of Linux's CONFIG_HZ values 100, 250, 300, 1000; got {}",
                    self.timer_hz
                ),
            ));
        }
        if !(68..=65535).contains(&self.mtu) {
            return Err((
                "mtu",
                format!("must be 68..=65535 (RFC 791 minimum), got {}", self.mtu),
            ));
        }
        if self.rcv_wscale > 14 {
            return Err((
                "rcv_wscale",
                format!("must be <= 14 (RFC 7323 §2.3), got {}", self.rcv_wscale),
            ));
        }
        if self.synrecv_timeout_ms == Some(0) {
            return Err(("synrecv_timeout_ms", "must be > 0 (or null for off)".into()));
        }
        // Times are converted to nanoseconds as `ms * 1_000_000` (and the RTO fallback is
        // 3 x syn_rto_initial_ms): 2^40 ms (~35 years) keeps all of that inside u64.
        for (field, ms) in [
            ("syn_rto_initial_ms", self.syn_rto_initial_ms),
            ("rto_max_ms", self.rto_max_ms),
            ("syn_give_up_ms", self.syn_give_up_ms.unwrap_or(0)),
            ("synack_rto_initial_ms", self.synack_rto_initial_ms),
            ("synrecv_timeout_ms", self.synrecv_timeout_ms.unwrap_or(0)),
            (
                "syncookies_only_pause_ms",
                self.syncookies_only_pause_ms.unwrap_or(0),
            ),
            ("syncookie_check_window_ms", self.syncookie_check_window_ms),
            ("min_rto_ms", self.min_rto_ms),
            ("msl_ms", self.msl_ms),
            ("fin_wait2_timeout_ms", self.fin_wait2_timeout_ms),
            ("invalid_ratelimit_ms", self.invalid_ratelimit_ms),
            ("connect_lock_window_us", self.connect_lock_window_us / 1000),
        ] {
            if ms > 1 << 40 {
                return Err((field, format!("{ms} ms is above the supported 2^40 ms")));
            }
        }
        if self.min_rto_ms > self.rto_max_ms {
            return Err((
                "min_rto_ms",
                format!(
                    "must be <= rto_max_ms ({} ms), got {} ms",
                    self.rto_max_ms, self.min_rto_ms
                ),
            ));
        }
        Ok(())
    }
}

impl Default for StackConfig {
    fn default() -> Self {
        StackConfig::linux()
    }
}
