//! Kernel time for the linux profile: jiffies at `CONFIG_HZ` and the timer wheel of
//! kernel/time/timer.c.
//!
//! With `timer_hz` 0 a stack's timers fire at their exact nanosecond (the rfc9293 and freebsd
//! profiles). With `timer_hz` > 0 (linux: 250) every timer is armed as the kernel arms a
//! `timer_list` and fires when the kernel's softirq would run it:
//!
//! - **Jiffies.** Each host counts jiffies at `timer_hz`, from its own phase: a jiffy count at
//!   time 0 (`base`) and a fraction of a jiffy already elapsed (`phase`), both drawn from the
//!   host's `host/NAME/jiffies` stream, because two real machines never tick in step. A timeout
//!   is converted to jiffies rounding up (`msecs_to_jiffies`) and added to the current jiffy, not
//!   to the current nanosecond (`mod_timer(timer, jiffies + timeout)` in `reqsk_queue_hash_req`,
//!   `reqsk_timer_handler`, `inet_csk_reset_xmit_timer`, `inet_twsk_schedule`).
//! - **The wheel** (`calc_wheel_index`, `calc_index`): levels of 64 buckets, each level 8 times
//!   coarser than the one below. A timer goes to the level its delta (`expires - clk`) falls in
//!   and its expiry is rounded **up** to the next multiple of that level's granularity, so it
//!   never fires early: at HZ=250 a 1 s timer (250 jiffies, level 1, 8-jiffy buckets) fires
//!   4-32 ms late, a 30 s one (level 3, 512-jiffy buckets) up to 2 s late.
//! - **Batched expiry** (`__run_timers`, `expire_timers`): at the tick that starts jiffy `J`
//!   every timer whose bucket expires at `J` runs, in one pass: the levels from the highest down
//!   (`while (levels--)`), and within a bucket the most recently armed first (`enqueue_timer`
//!   adds at the head of the bucket's list, `expire_timers` takes from the head). Each handler
//!   sees what the ones before it did: `reqsk_timer_handler` reads the SYN queue's length as the
//!   batch drains it, which is why a flooded queue falls to exactly max(8, backlog)/2 at once.
//!
//! **Packets in the same jiffy.** The batch runs at the first nanosecond of jiffy `J`. A
//! segment that arrives later in that jiffy is processed after the batch, one that arrived
//! before the tick was processed before it. A segment arriving at exactly that nanosecond is
//! processed after the batch too (the engine schedules batches ahead of other events at the
//! same instant): the tick raises `TIMER_SOFTIRQ`, and pending softirqs run in their number's
//! order, `TIMER_SOFTIRQ` (1) before `NET_RX_SOFTIRQ` (3).
//!
//! Simplifications, each deliberate:
//! - One timer base per host (the kernel has one per CPU; request timers are pinned to the CPU
//!   that took the SYN). With one base, every timer of a bucket shares one batch.
//! - `base->clk` is taken as the current jiffy + 1, its value whenever the softirq is up to date
//!   (`__run_timers` increments it before running a bucket); NOHZ idle forwarding is not modelled.
//!   It only matters for timeouts within a jiffy of a level boundary (63, 504, 4032... jiffies).
//! - The softirq runs exactly at the tick (no interrupt or softirq latency).
//! - A crash does not restart the host's jiffies (a reboot would); the clock only sets the
//!   alignment of buckets, which is arbitrary anyway.
//! - `mod_timer` on a timer that lands in the bucket it is already in keeps its place in the
//!   bucket, as the kernel's shortcut does; a timer moved to another bucket leaves a stale
//!   entry behind that is skipped when its batch runs (the kernel unlinks it at once).

use rustc_hash::FxHashMap;

use crate::tcp::ConnId;
use crate::time::{SimDuration, SimTime};

/// The `timer_hz` values Linux can be configured with (`CONFIG_HZ_100` ... `CONFIG_HZ_1000`).
pub const SUPPORTED_HZ: [u32; 4] = [100, 250, 300, 1000];

/// Bits of a level's bucket index (`LVL_BITS`): 64 buckets per level.
pub const LVL_BITS: u32 = 6;
/// Each level is 2^3 = 8 times coarser than the one below (`LVL_CLK_SHIFT`).
pub const LVL_CLK_SHIFT: u32 = 3;
const LVL_SIZE: u64 = 1 << LVL_BITS;
const NS_PER_S: u128 = 1_000_000_000;

/// Levels of the wheel (`LVL_DEPTH`): 9 for HZ > 100, 8 otherwise.
pub fn depth(hz: u32) -> u32 {
    if hz > 100 { 9 } else { 8 }
}

/// Granularity of level `lvl`, in jiffies (`LVL_GRAN`).
pub fn granularity(lvl: u32) -> u64 {
    1 << (lvl * LVL_CLK_SHIFT)
}

/// Smallest delta (jiffies) that goes to level `n` (`LVL_START`).
fn lvl_start(n: u32) -> u64 {
    (LVL_SIZE - 1) << ((n - 1) * LVL_CLK_SHIFT)
}

/// `calc_wheel_index`: the level a timer expiring at jiffy `expires` goes to when the base's
/// clock is `clk`, and the jiffy at which its bucket runs (`bucket_expiry`, rounded up:
/// `calc_index` adds one granularity before truncating).
pub fn bucket(expires: u64, clk: u64, hz: u32) -> (u32, u64) {
    let depth = depth(hz);
    let delta = expires.wrapping_sub(clk);
    if (delta as i64) < 0 {
        // Already due: the bucket the clock is at.
        return (0, clk);
    }
    let mut expires = expires;
    let lvl = (0..depth - 1)
        .find(|&l| delta < lvl_start(l + 1))
        .unwrap_or_else(|| {
            // WHEEL_TIMEOUT_CUTOFF: obscenely long timeouts expire at the wheel's capacity.
            let cutoff = lvl_start(depth);
            if delta >= cutoff {
                expires = clk + (cutoff - granularity(depth - 1));
            }
            depth - 1
        });
    let shift = lvl * LVL_CLK_SHIFT;
    (lvl, ((expires >> shift) + 1) << shift)
}

/// One host's jiffies: `jiffies(t) = base + floor((t * hz + phase) / 10^9)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Jiffies {
    pub hz: u32,
    /// The jiffy count at time 0.
    pub base: u64,
    /// How far into its jiffy time 0 is, in units of 10^-9 jiffy (`0..10^9`).
    pub phase: u64,
}

impl Jiffies {
    /// The jiffy count at `t`.
    pub fn at(&self, t: SimTime) -> u64 {
        let n = (t.as_ns() as u128 * self.hz as u128 + self.phase as u128) / NS_PER_S;
        self.base + n as u64
    }

    /// The first nanosecond of jiffy `j` (the tick that starts it); 0 for jiffies before the run.
    pub fn start_of(&self, j: u64) -> SimTime {
        if j <= self.base {
            return SimTime::ZERO;
        }
        let num = ((j - self.base) as u128 * NS_PER_S).saturating_sub(self.phase as u128);
        let ns = num.div_ceil(self.hz as u128);
        SimTime(ns.min(u64::MAX as u128) as u64)
    }

    /// A timeout in jiffies, rounded up (`msecs_to_jiffies`, `usecs_to_jiffies`).
    pub fn timeout(&self, d: SimDuration) -> u64 {
        let j = (d.as_ns() as u128 * self.hz as u128).div_ceil(NS_PER_S);
        j.min(u64::MAX as u128 / 2) as u64
    }

    /// When a timer armed at `now` for `d` (`mod_timer(t, jiffies + d)`) runs, and its level.
    pub fn fire_time(&self, now: SimTime, d: SimDuration) -> (SimTime, u32, u64) {
        let j = self.at(now);
        let expires = j.saturating_add(self.timeout(d));
        let (lvl, b) = bucket(expires, j + 1, self.hz);
        (self.start_of(b), lvl, b)
    }
}

/// How long after being armed a timer of `d` runs on the wheel, whatever the host's phase:
/// more than `lo`, at most `hi`; and the level it goes to. (`mod_timer(t, jiffies + d)` with
/// `d` rounded up to jiffies, then up to the level's granularity.)
pub fn delay_range(hz: u32, d: SimDuration) -> (SimDuration, SimDuration, u32) {
    let c = Jiffies {
        hz,
        base: 0,
        phase: 0,
    };
    let timeout = c.timeout(d);
    let (lvl, _) = bucket(timeout, 1, hz);
    let ns = |j: u64| SimDuration((j as u128 * NS_PER_S / hz as u128) as u64);
    (ns(timeout), ns(timeout + granularity(lvl)), lvl)
}

/// A schedule of timers armed one after the other (each when the previous fired), given as the
/// nominal times of its events from the first (`nominal_ms[0]` is 0): for each event, the
/// earliest (exclusive) and latest time it happens on the wheel, and the level of its timer.
pub fn schedule(hz: u32, nominal_ms: &[u64]) -> Vec<(SimDuration, SimDuration, Option<u32>)> {
    let mut out = Vec::with_capacity(nominal_ms.len());
    let (mut lo, mut hi) = (SimDuration::ZERO, SimDuration::ZERO);
    let mut prev = None;
    for &t in nominal_ms {
        let lvl = prev.map(|p: u64| {
            let (a, b, lvl) = delay_range(hz, SimDuration::from_ms(t.saturating_sub(p)));
            lo = SimDuration(lo.as_ns().saturating_add(a.as_ns()));
            hi = SimDuration(hi.as_ns().saturating_add(b.as_ns()));
            lvl
        });
        out.push((lo, hi, lvl));
        prev = Some(t);
    }
    out
}

/// The pending timers of one host, by bucket: what the next batch at a jiffy runs.
pub(crate) struct TimerWheel {
    pub clock: Jiffies,
    /// `bucket jiffy << 4 | level` -> (connection, generation), in arming order.
    lists: FxHashMap<u64, Vec<(ConnId, u32)>>,
    spare: Vec<Vec<(ConnId, u32)>>,
}

/// The key of a bucket list: its expiry jiffy and level (levels are < 16).
pub(crate) fn key(jiffy: u64, lvl: u32) -> u64 {
    jiffy << 4 | lvl as u64
}

impl TimerWheel {
    pub fn new(clock: Jiffies) -> TimerWheel {
        TimerWheel {
            clock,
            lists: FxHashMap::default(),
            spare: Vec::new(),
        }
    }

    /// Adds a timer to bucket `k`; true if the bucket was empty (its batch needs a wake-up).
    pub fn enqueue(&mut self, k: u64, conn: ConnId, generation: u32) -> bool {
        let spare = &mut self.spare;
        let mut fresh = false;
        let list = self.lists.entry(k).or_insert_with(|| {
            fresh = true;
            spare.pop().unwrap_or_default()
        });
        list.push((conn, generation));
        fresh
    }

    /// Takes the batch of jiffy `j`: the lists of every level whose buckets can expire at `j`,
    /// highest level first, each in kernel order (most recently armed first), into `batch`.
    pub fn take_batch(&mut self, j: u64, batch: &mut Vec<(ConnId, u32, u64)>) {
        batch.clear();
        for lvl in (0..depth(self.clock.hz)).rev() {
            if j & (granularity(lvl) - 1) != 0 {
                continue;
            }
            let k = key(j, lvl);
            if let Some(list) = self.lists.remove(&k) {
                batch.extend(list.iter().rev().map(|&(c, g)| (c, g, k)));
                Self::recycle(&mut self.spare, list);
            }
        }
    }

    /// Forgets every pending timer (the host crashed).
    pub fn clear(&mut self) {
        for (_, l) in self.lists.drain() {
            Self::recycle(&mut self.spare, l);
        }
    }

    /// Keeps an emptied bucket list for reuse unless it grew large.
    fn recycle(spare: &mut Vec<Vec<(ConnId, u32)>>, mut list: Vec<(ConnId, u32)>) {
        list.clear();
        if list.capacity() <= 1024 {
            spare.push(list);
        }
    }

    /// Pending entries (live or stale).
    #[cfg(test)]
    pub fn pending(&self) -> usize {
        self.lists.values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NS_PER_MS;

    fn clock(hz: u32, base: u64, phase: u64) -> Jiffies {
        Jiffies { hz, base, phase }
    }

    #[test]
    fn jiffy_edges_bracket_every_instant() {
        for (hz, phase) in [(250, 0), (250, 999_999_999), (300, 123_456_789), (1000, 5)] {
            let c = clock(hz, 1000, phase);
            for t in [0u64, 1, 3_999_999, 4_000_000, 3_333_333, 1_234_567_891] {
                let j = c.at(SimTime(t));
                assert!(c.start_of(j) <= SimTime(t), "hz {hz} t {t}");
                assert!(c.start_of(j + 1) > SimTime(t), "hz {hz} t {t}");
                assert_eq!(c.at(c.start_of(j + 1)), j + 1);
            }
        }
    }

    #[test]
    fn level_boundaries_follow_the_kernel() {
        // Deltas below 63 stay on level 0 and fire one jiffy after `expires`.
        assert_eq!(bucket(1000 + 62, 1000, 250), (0, 1063));
        assert_eq!(bucket(1000 + 63, 1000, 250).0, 1);
        assert_eq!(bucket(1000 + 503, 1000, 250).0, 1);
        assert_eq!(bucket(1000 + 504, 1000, 250).0, 2);
        assert_eq!(bucket(1000 + 4031, 1000, 250).0, 2);
        assert_eq!(bucket(1000 + 4032, 1000, 250).0, 3);
        // Rounded up to the level's granularity, strictly after `expires`.
        let (lvl, b) = bucket(1000 + 250, 1001, 250);
        assert_eq!((lvl, b), (1, 1256));
        let (lvl, b) = bucket(1000 + 256, 1001, 250);
        assert_eq!((lvl, b), (1, 1264));
        // HZ=100 has 8 levels, HZ=250 9.
        assert_eq!(depth(100), 8);
        assert_eq!(depth(250), 9);
    }

    /// At HZ=250 a timer armed for 1 s fires in the next 8-jiffy bucket after 250 jiffies:
    /// between 0 and 32 ms late, never early, whatever the phase.
    #[test]
    fn one_second_at_250_hz_fires_in_the_next_8_jiffy_bucket() {
        let mut late = Vec::new();
        for i in 0..400u64 {
            let c = clock(250, i * 7919, (i * 2_654_435_761) % 1_000_000_000);
            let now = SimTime(i * 1_234_567);
            let (at, lvl, b) = c.fire_time(now, SimDuration::from_ms(1000));
            assert_eq!(lvl, 1);
            assert_eq!(b % 8, 0);
            let expires = c.at(now) + 250;
            assert!(
                b > expires && b <= expires + 8,
                "bucket {b} for expiry {expires}"
            );
            let l = at.as_ns() as i64 - (now.as_ns() + 1000 * NS_PER_MS) as i64;
            assert!(l > 0 && l <= 32 * NS_PER_MS as i64, "late by {l} ns");
            late.push(l);
        }
        // The lateness spreads over the whole bucket.
        assert!(late.iter().any(|&l| l < 8 * NS_PER_MS as i64));
        assert!(late.iter().any(|&l| l > 24 * NS_PER_MS as i64));
    }

    #[test]
    fn thirty_seconds_at_250_hz_is_at_most_2_s_late() {
        for i in 0..200u64 {
            let c = clock(250, i * 104_729, (i * 7_777_777) % 1_000_000_000);
            let now = SimTime(i * 99_991_000);
            let (at, lvl, _) = c.fire_time(now, SimDuration::from_ms(30_000));
            assert_eq!(lvl, 3);
            let l = at.as_ns() - (now.as_ns() + 30_000 * NS_PER_MS);
            assert!(l > 0 && l <= 2048 * NS_PER_MS, "late by {l} ns");
        }
    }

    #[test]
    fn delay_ranges_at_250_hz() {
        let ms = |d: SimDuration| d.as_ns() / NS_PER_MS;
        let (lo, hi, lvl) = delay_range(250, SimDuration::from_ms(1000));
        assert_eq!((ms(lo), ms(hi), lvl), (1000, 1032, 1));
        let (lo, hi, lvl) = delay_range(250, SimDuration::from_ms(60_000));
        assert_eq!((ms(lo), ms(hi), lvl), (60_000, 62_048, 3));
        let sched = schedule(250, &[0, 1000, 3000]);
        assert_eq!(sched[0], (SimDuration::ZERO, SimDuration::ZERO, None));
        assert_eq!((ms(sched[2].0), ms(sched[2].1)), (3000, 3064));
        assert_eq!(sched[2].2, Some(1));
    }

    #[test]
    fn batches_run_highest_level_first_then_latest_armed_first() {
        let mut w = TimerWheel::new(clock(250, 0, 0));
        // Jiffy 64 is a level-0, level-1 and level-2 boundary.
        assert!(w.enqueue(key(64, 0), ConnId(1), 0));
        assert!(!w.enqueue(key(64, 0), ConnId(2), 0));
        assert!(w.enqueue(key(64, 1), ConnId(3), 0));
        assert!(w.enqueue(key(64, 2), ConnId(4), 0));
        assert!(w.enqueue(key(72, 1), ConnId(5), 0));
        let mut batch = Vec::new();
        w.take_batch(64, &mut batch);
        let order: Vec<u32> = batch.iter().map(|b| b.0.0).collect();
        assert_eq!(order, [4, 3, 2, 1]);
        assert_eq!(w.pending(), 1);
        w.take_batch(64, &mut batch);
        assert!(batch.is_empty());
    }
}
