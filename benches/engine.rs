//! Engine benchmarks (divan): `cargo bench --bench engine`.
//!
//! - `queue_hold`: the event queue alone, in the classic "hold" pattern (pop the next event,
//!   push one a random delay later) at a steady size of 1 k to 1 M pending events, against a
//!   binary heap on (time, seq) for reference. Throughput is in operations (one pop + one push).
//! - `scenario`: both benchmark scenarios end to end, simulation only (no file output), with
//!   the metrics recorder attached as `simulate` has it. Throughput is in events.
//! - `half_open`: cost per event as the number of live half-open entries grows from 1 k to
//!   1 M. A flood of N/2 SYN/s against a backlog of N fills the SYN queue in 2 s and keeps it
//!   full (entries live 63 s); the workload mix (SYN arrivals, drops, SYN-ACK timers) is the
//!   same for every N, only the live state grows. The queue is filled outside the timed part;
//!   each sample then processes 200 000 events. Throughput is in events: divan's time per
//!   item is the cost per event.

use std::collections::BinaryHeap;

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use synsim::net::HostId;
use synsim::report::Recorder;
use synsim::scenario;
use synsim::sim::{EventQueue, NoObserver, Simulation};
use synsim::spec::Scenario;
use synsim::time::SimTime;

fn main() {
    divan::main();
}

const SIZES: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];
const OPS: usize = 100_000;

/// Delays like the simulator's: mostly 1 ms deliveries, some 1-8 s timers, a few arrivals.
fn delays(n: usize) -> Vec<u64> {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    (0..n)
        .map(|_| match rng.random_range(0..10) {
            0..=5 => 1_000_000,
            6..=7 => 1_000_000_000 << rng.random_range(0..4),
            _ => rng.random_range(0..200_000),
        })
        .collect()
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn queue_hold_wheel(b: Bencher, size: usize) {
    let d = delays(size + OPS);
    b.counter(ItemsCount::new(OPS))
        .with_inputs(|| {
            let mut q = EventQueue::new();
            for (i, &x) in d[..size].iter().enumerate() {
                q.push(SimTime(x * 10), i as u32);
            }
            q
        })
        .bench_local_refs(|q| {
            for &x in &d[size..] {
                let (t, e) = q.pop().expect("non-empty");
                q.push(SimTime(t.as_ns() + x), e);
            }
            black_box(q.len())
        });
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn queue_hold_binary_heap(b: Bencher, size: usize) {
    let d = delays(size + OPS);
    b.counter(ItemsCount::new(OPS))
        .with_inputs(|| {
            let mut q = BinaryHeap::new();
            for (i, &x) in d[..size].iter().enumerate() {
                q.push(std::cmp::Reverse((x * 10, i as u64, i as u32)));
            }
            (q, size as u64)
        })
        .bench_local_refs(|(q, seq)| {
            for &x in &d[size..] {
                let std::cmp::Reverse((t, _, e)) = q.pop().expect("non-empty");
                q.push(std::cmp::Reverse((t + x, *seq, e)));
                *seq += 1;
            }
            black_box(q.len())
        });
}

fn shipped(name: &str) -> Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.json"));
    scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn events_of(scn: &Scenario) -> u64 {
    let mut sim = Simulation::new(scn);
    sim.run(&mut NoObserver).expect("within budget").events
}

#[divan::bench(args = ["bench_flood", "bench_handshakes"], sample_count = 5)]
fn scenario(b: Bencher, name: &str) {
    let scn = shipped(name);
    b.counter(ItemsCount::new(events_of(&scn))).bench_local(|| {
        let mut sim = Simulation::new(&scn);
        let mut rec = Recorder::new(&scn);
        black_box(sim.run(&mut rec).expect("within budget"))
    });
}

/// A flood of `backlog / 2` SYN/s against a SYN queue of `backlog` entries that live 63 s.
pub fn half_open_scenario(backlog: u64) -> Scenario {
    let text = format!(
        r#"{{
  "seed": 3,
  "duration_ms": 600000,
  "sample_interval_ms": 100,
  "max_events": 100000000000,
  "hosts": [
    {{ "name": "server", "addrs": ["10.0.0.1"], "profile": "rfc9293" }},
    {{ "name": "attacker", "addrs": ["10.0.0.66"] }}
  ],
  "network": {{ "latency_ms": 1 }},
  "listeners": [ {{ "host": "server", "port": 80, "backlog": {backlog} }} ],
  "attackers": [
    {{ "name": "flood", "host": "attacker", "target": "10.0.0.1:80", "rate_per_s": {rate},
       "spoof": {{ "kind": "range", "base": "198.18.0.0", "count": 16777216 }} }}
  ]
}}"#,
        rate = backlog / 2
    );
    scenario::parse(&text, "half_open.json", "half_open").unwrap_or_else(|e| panic!("{e}"))
}

/// A simulation whose SYN queue is full (`backlog` live half-open entries).
fn filled(scn: &Scenario, backlog: u64) -> Simulation {
    let mut sim = Simulation::new(scn);
    let server = HostId(0);
    while sim.stack(server).queue_lengths(0).0 < backlog {
        assert!(sim.step(&mut NoObserver).expect("within budget"));
    }
    sim
}

const STEPS: u64 = 200_000;

#[divan::bench(args = SIZES, sample_count = 5)]
fn half_open(b: Bencher, live: usize) {
    let scn = half_open_scenario(live as u64);
    b.counter(ItemsCount::new(STEPS))
        .with_inputs(|| filled(&scn, live as u64))
        .bench_local_refs(|sim| {
            for _ in 0..STEPS {
                sim.step(&mut NoObserver).expect("within budget");
            }
            black_box(sim.events())
        });
}
