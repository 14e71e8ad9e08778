//! # synsim: a deterministic simulator of TCP connection establishment
//!
//! synsim plays clients, servers, attackers and the network between them event by event: the
//! three-way handshake with real sequence numbers, SYN and SYN-ACK retransmission with backoff,
//! loss, dead and crashing hosts, spoofed SYN floods against a bounded SYN queue, and the
//! defences real stacks use (SYN cookies, SYN caches, queue policies). The same scenario and
//! seed always produce byte-identical output.
//!
//! ## Map
//!
//! Pure core (no I/O, no wall clock, no hidden randomness):
//! - [`time`]: integer-nanosecond simulated time.
//! - [`rng`]: one seed -> named, portable ChaCha8 streams per component.
//! - [`wire`]: segments (with their window and TCP options), sequence numbers, flags, packets
//!   (small `Copy` values).
//! - [`tcp`]: one host's TCP stack as a sans-IO state machine: control blocks, listeners with
//!   separate SYN and accept queues, the knobs and profiles ([`tcp::config`]), counters named
//!   after Linux's nstat MIBs, SYN cookies. RFC 9293 §3.10 processing lives in `tcp/process.rs`;
//!   `tcp/stack/` holds the tables and `set_state` (`mod.rs`), sending, timers, the SYN queue
//!   and cache, and `socket.rs`, the socket calls (connect, accept, recv, write, close) whose
//!   results come back as [`tcp::SocketEvent`]s; `tcp/ports.rs` chooses ephemeral ports;
//!   [`tcp::wheel`] is kernel time for the linux profile (jiffies at `timer_hz`, the timer
//!   wheel's rounding and batched expiry); [`tcp::options`] the handshake's options (what a SYN
//!   offers, a SYN-ACK answers, a connection agrees on, a cookie keeps: Linux and FreeBSD
//!   formats in [`tcp::cookie`], the cookie path in `tcp/stack/cookies.rs`). No application
//!   lives in the stack.
//! - [`net`]: address ownership, per-path latency/jitter/loss, scripted drops, black holes, the
//!   ICMP router.
//! - [`sim`]: the event queue (a hierarchical timing wheel, exact `(time, seq)` order) and
//!   engine, arrival processes, and the [`sim::Observer`] trait through which everything that
//!   happens is reported. [`sim::workload`] holds the applications above the stacks: the
//!   clients (connect, write, await the reply, close) and their outcomes, the servers behind
//!   each listener (accept policy, echo), and the SYN-flood attackers.
//! - [`spec`]: the validated scenario types (hosts, listeners, clients, attackers, network,
//!   charts) that `sim` and `report` run on; no file format in them.
//!
//! Thin shell:
//! - [`scenario`]: JSON in, validated once into [`spec`] types; errors carry the JSON path and
//!   line/column. The format's JSON Schema is derived from the same serde types.
//! - [`report`]: metrics folded while running ([`report::Recorder`]), the typed
//!   [`report::Summary`] behind `summary.json`, the charts and the page; `timeline.csv` and
//!   `events.jsonl` written by serializers; the output budget; an output directory committed
//!   all-or-nothing under a lock (`report/output.rs`); per-phase results
//!   (`report/phases.rs`) and `attempts.csv` (`report/attempts.rs`); packet captures
//!   ([`report::capture`]: pcapng per host from the observers' taps, frames built with
//!   `etherparse`, files written with `pcap-file`).
//! - [`sweep`]: experiments over many runs: a sweep file expanded into runs ([`sweep::Plan`]),
//!   run in parallel into a result store keyed by the resolved scenario, merged into
//!   `results.csv`, `aggregate.csv` and a page; runs can be spread over a job array.
//! - [`serve`]: `simulate serve`, a lab page on a loopback web server (`tiny_http`): a scenario
//!   and its knobs in, through the same `--set` overrides and [`report::run_to_dir`] as the
//!   CLI, the run's charts and numbers out next to the previous run's; token, path checks and
//!   run limits in front.
//! - `src/bin/simulate/`: the CLI (`simulate SCENARIO.json`, `simulate sweep SWEEP.json`,
//!   `simulate schema`, `simulate serve`, `--explain-profile`), one file per command and one
//!   for what it prints.
//!
//! Benchmarks live in `benches/engine.rs` and `scripts/sweep.sh`; figures and how to reproduce
//! them in `docs/PERFORMANCE.md`.
//!
//! Data flows one way:
//! `scenario::load -> Simulation::new -> Simulation::run(observers) -> report -> files`.
//!
//! ## Determinism
//! Events are ordered by `(time, insertion seq)`; every random draw comes from a stream named
//! after its component (`client/web/arrivals`, `path/client/server`, `host/server/stack`...);
//! hash maps are used for lookups only, never iterated into results.

pub mod net;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod serve;
pub mod sim;
pub mod spec;
pub mod sweep;
pub mod tcp;
pub mod time;
pub mod wire;
