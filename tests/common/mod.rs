//! Shared test helpers: load a shipped scenario, run it with a recording observer.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use synsim::net::{HostId, Network};
use synsim::report::Recorder;
use synsim::scenario;
use synsim::sim::{ConnRef, Fate, Observer, OutcomeRecord, RunStats, Simulation};
use synsim::spec::Scenario;
use synsim::tcp::{Reason, Role, TcpState};
use synsim::time::SimTime;
use synsim::wire::Packet;

pub fn scenario_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.json"))
}

/// A fresh, empty scratch directory for one test's outputs: unique within the test binary
/// (a counter) and across binaries (the process id), so tests running in parallel that use the
/// same scenario never remove each other's files.
pub fn scratch_dir(kind: &str, name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("synsim-{kind}-{}-{n}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

pub fn load(name: &str) -> Scenario {
    scenario::load(&scenario_path(name)).unwrap_or_else(|e| panic!("{e}"))
}

pub const SHIPPED: [&str; 7] = [
    "handshake",
    "lossy_link",
    "dead_host",
    "refused",
    "syn_flood",
    "syn_flood_cookies",
    "crash_restart",
];

/// A packet event as seen by the observer, with addresses rendered.
#[derive(Clone, Debug)]
pub struct PacketEv {
    pub t: SimTime,
    pub fate: Fate,
    pub pkt: Packet,
    pub src: String,
    pub dst: String,
}

#[derive(Clone, Debug)]
pub struct StateEv {
    pub t: SimTime,
    pub host: HostId,
    pub conn: u64,
    pub role: Role,
    pub from: TcpState,
    pub to: TcpState,
    pub reason: Reason,
}

/// Records everything (for small scenarios).
#[derive(Default)]
pub struct Log {
    pub packets: Vec<PacketEv>,
    pub states: Vec<StateEv>,
    pub outcomes: Vec<OutcomeRecord>,
    pub rec: Recorder,
}

impl Observer for Log {
    fn packet(&mut self, t: SimTime, fate: Fate, pkt: &Packet, net: &Network) {
        self.rec.packet(t, fate, pkt, net);
        self.packets.push(PacketEv {
            t,
            fate,
            pkt: *pkt,
            src: net.addrs.endpoint_string(pkt.seg.src),
            dst: net.addrs.endpoint_string(pkt.seg.dst),
        });
    }
    fn state(&mut self, t: SimTime, cref: &ConnRef, from: TcpState, to: TcpState, reason: Reason) {
        let (host, conn, role) = (cref.host, cref.serial, cref.role);
        self.rec.state(t, cref, from, to, reason);
        self.states.push(StateEv {
            t,
            host,
            conn,
            role,
            from,
            to,
            reason,
        });
    }
    fn outcome(&mut self, t: SimTime, o: &OutcomeRecord) {
        self.rec.outcome(t, o);
        self.outcomes.push(*o);
    }
}

pub fn run_logged(scn: &Scenario) -> (Log, RunStats, Simulation) {
    let mut sim = Simulation::new(scn);
    let mut log = Log {
        rec: Recorder::new(scn),
        ..Log::default()
    };
    let stats = sim.run(&mut log).expect("run within budget");
    assert_eq!(stats.past_pushes, 0, "events scheduled in the past");
    assert_eq!(stats.illegal_transitions, 0, "illegal RFC 9293 transitions");
    (log, stats, sim)
}

/// Runs `scn` into `dir` with the trace (and charts if asked) and returns every file it wrote,
/// `(name, bytes)` sorted by name.
pub fn run_outputs(scn: &Scenario, dir: &std::path::Path, charts: bool) -> Vec<(String, Vec<u8>)> {
    let opts = synsim::report::RunOptions {
        out_dir: dir.to_path_buf(),
        trace: true,
        charts,
        max_events: None,
        ..Default::default()
    };
    synsim::report::run_to_dir(scn, &opts).unwrap();
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

pub fn secs(t: SimTime) -> f64 {
    t.as_secs_f64()
}

/// Says on the real standard error that `test` skipped itself: the test harness swallows the
/// `println!` and `eprintln!` of a passing test, so a skip printed that way goes unseen.
pub fn skipped(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}
