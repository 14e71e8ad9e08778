//! What one server allows: the caps on what a request may send and a run may take, the run
//! slots (at most one run per CPU, busy past that) and the watchdog that stops a run over its
//! wall-time cap through [`crate::report::RunOptions::cancel`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Cancel code of a run stopped by the watchdog (over [`Limits::max_run_time`]).
pub const CANCEL_TIMED_OUT: usize = 1;
/// Cancel code of a run stopped because the server is stopping.
pub const CANCEL_SHUTDOWN: usize = 2;

/// The caps a server applies to every request and run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest scenario text accepted, pasted or read from the scenario directory.
    pub max_scenario_bytes: u64,
    /// Largest request body accepted (a pasted scenario travels JSON-escaped in it).
    pub max_body_bytes: u64,
    /// Event budget of a run: the scenario's `max_events`, but never above this.
    pub max_events: u64,
    /// Wall time a run may take before the watchdog stops it.
    pub max_run_time: Duration,
    /// Runs at the same time; a run request past them is answered "busy" (HTTP 503).
    pub max_runs: usize,
    /// Finished runs kept on disk (their charts stay viewable); older ones are deleted.
    pub keep_runs: usize,
    /// Output budget of one run (all its files).
    pub max_output_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_scenario_bytes: 1 << 20,
            max_body_bytes: 3 << 20,
            max_events: 20_000_000,
            max_run_time: Duration::from_secs(20),
            max_runs: cpus(),
            keep_runs: 20,
            max_output_bytes: 256 << 20,
        }
    }
}

/// The CPUs this process may use (1 if unknown).
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// The run slots: taken without waiting, or not at all.
#[derive(Debug)]
pub struct Slots {
    used: AtomicUsize,
    max: usize,
}

/// One taken slot; given back when dropped.
#[derive(Debug)]
pub struct Slot(Arc<Slots>);

impl Slots {
    pub fn new(max: usize) -> Arc<Slots> {
        Arc::new(Slots {
            used: AtomicUsize::new(0),
            max: max.max(1),
        })
    }

    /// A slot if one is free, at once.
    pub fn try_take(self: &Arc<Self>) -> Option<Slot> {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(Arc::clone(self)))
    }

    /// Slots in use now.
    pub fn in_use(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    pub fn max(&self) -> usize {
        self.max
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.used.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The cancel flags of the runs under way, so that a stopping server can stop them all.
#[derive(Debug, Default)]
pub struct Active {
    next: AtomicU64,
    flags: Mutex<BTreeMap<u64, Arc<AtomicUsize>>>,
}

/// A run's cancel flag, watched until dropped: set to [`CANCEL_TIMED_OUT`] once the run has
/// taken longer than its cap, and to [`CANCEL_SHUTDOWN`] by [`Active::cancel_all`].
pub struct Watched {
    pub flag: Arc<AtomicUsize>,
    key: u64,
    active: Arc<Active>,
    // Dropping the sender wakes the watchdog thread, which then ends.
    _done: mpsc::Sender<()>,
}

impl Active {
    /// A new cancel flag, watched by a thread that sets it after `cap` unless the returned
    /// guard is dropped first.
    pub fn watch(self: &Arc<Self>, cap: Duration) -> Watched {
        let flag = Arc::new(AtomicUsize::new(0));
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(key, Arc::clone(&flag));
        let (done, wait) = mpsc::channel::<()>();
        let f = Arc::clone(&flag);
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(cap) {
                let _ =
                    f.compare_exchange(0, CANCEL_TIMED_OUT, Ordering::AcqRel, Ordering::Acquire);
            }
        });
        Watched {
            flag,
            key,
            active: Arc::clone(self),
            _done: done,
        }
    }

    /// Stops every run under way (the server is stopping).
    pub fn cancel_all(&self) {
        for f in self.lock().values() {
            let _ = f.compare_exchange(0, CANCEL_SHUTDOWN, Ordering::AcqRel, Ordering::Acquire);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<AtomicUsize>>> {
        self.flags
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.active.lock().remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_taken_without_waiting_and_given_back() {
        let s = Slots::new(2);
        let a = s.try_take().expect("first");
        let _b = s.try_take().expect("second");
        assert!(s.try_take().is_none(), "a third run is busy");
        drop(a);
        assert_eq!(s.in_use(), 1);
        assert!(s.try_take().is_some());
    }

    #[test]
    fn the_watchdog_sets_the_flag_after_the_cap_only() {
        let active = Arc::new(Active::default());
        let quick = active.watch(Duration::from_secs(30));
        let slow = active.watch(Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(slow.flag.load(Ordering::Acquire), CANCEL_TIMED_OUT);
        assert_eq!(quick.flag.load(Ordering::Acquire), 0);
        active.cancel_all();
        assert_eq!(quick.flag.load(Ordering::Acquire), CANCEL_SHUTDOWN);
        assert_eq!(slow.flag.load(Ordering::Acquire), CANCEL_TIMED_OUT);
        drop((quick, slow));
        assert!(active.lock().is_empty());
    }
}
