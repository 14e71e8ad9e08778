//! The packet captures, read back by the real tool: tshark decodes every capture of the shipped
//! scenarios without malformed packets or bad checksums, reruns are byte-identical, and the
//! handshake, dead-host, flood and cookie stories show in the packets as the summary tells
//! them.
//!
//! Needs `tshark` (Debian package). Without it each test says SKIPPED on stderr (visible in
//! `cargo test`'s output) and passes,
//! unless `SYNSIM_REQUIRE_TSHARK` is set (as `.ci/run` does after installing it), which makes a
//! missing tshark a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;
use synsim::report::{RunOptions, run_to_dir};
use synsim::scenario;
use synsim::spec::Scenario;

fn have_tshark(test: &str) -> bool {
    let ok = Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("SYNSIM_REQUIRE_TSHARK").is_none(),
            "{test}: SYNSIM_REQUIRE_TSHARK is set but tshark is not installed"
        );
        skipped(test, "tshark is not installed (apt-get install tshark)");
    }
    ok
}

struct Run {
    dir: PathBuf,
    summary: Value,
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `scn` with captures on `hosts` into a fresh directory.
fn run(mut scn: Scenario, hosts: &str, tag: &str) -> Run {
    scenario::set_capture_hosts(&mut scn, hosts).unwrap();
    let dir = std::env::temp_dir().join(format!("synsim-capture-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = RunOptions {
        out_dir: dir.clone(),
        charts: false,
        ..Default::default()
    };
    run_to_dir(&scn, &opts).unwrap();
    let summary =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    Run { dir, summary }
}

/// tshark's field output (`-T fields`), one line per frame; stdout only (it warns on stderr
/// when run as root).
fn fields(file: &Path, filter: &str, fields: &[&str]) -> Vec<String> {
    let mut c = Command::new("tshark");
    c.arg("-r")
        .arg(file)
        .args([
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "ip.check_checksum:TRUE",
        ])
        .args(["-o", "tcp.relative_sequence_numbers:FALSE"]);
    if !filter.is_empty() {
        c.args(["-Y", filter]);
    }
    c.args(["-T", "fields", "-E", "separator=|"]);
    for f in fields {
        c.args(["-e", f]);
    }
    let out = c.output().expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark failed on {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn count(file: &Path, filter: &str) -> usize {
    fields(file, filter, &["frame.number"]).len()
}

fn shipped() -> Vec<String> {
    let mut names: Vec<String> = SHIPPED.iter().map(|s| s.to_string()).collect();
    let defences = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/defences");
    let mut more: Vec<String> = std::fs::read_dir(defences)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| format!("defences/{}", p.file_stem().unwrap().to_string_lossy()))
        .collect();
    more.sort();
    names.extend(more);
    names
}

#[test]
fn every_shipped_capture_decodes_with_good_checksums_and_reruns_byte_identical() {
    if !have_tshark("every_shipped_capture_decodes_with_good_checksums_and_reruns_byte_identical") {
        return;
    }
    for name in shipped() {
        let tag = name.replace('/', "-");
        let a = run(load(&name), "all", &format!("{tag}-a"));
        let b = run(load(&name), "all", &format!("{tag}-b"));
        let caps = a.summary["captures"].as_array().unwrap();
        assert!(!caps.is_empty(), "{name}: no capture written");
        for c in caps {
            let file = c["file"].as_str().unwrap();
            let (fa, fb) = (a.dir.join(file), b.dir.join(file));
            assert_eq!(
                std::fs::read(&fa).unwrap(),
                std::fs::read(&fb).unwrap(),
                "{name}/{file}: rerun differs"
            );
            let rows = fields(
                &fa,
                "",
                &["tcp.checksum.status", "ip.checksum.status", "_ws.malformed"],
            );
            assert_eq!(
                rows.len() as u64,
                c["packets"].as_u64().unwrap(),
                "{name}/{file}: tshark sees another number of frames than summary.json"
            );
            for (i, r) in rows.iter().enumerate() {
                let f: Vec<&str> = r.split('|').collect();
                // An ICMP frame carries two IP headers (and the quoted TCP): every one good.
                let tcp_ok = f[0].split(',').all(|s| s == "1");
                let ip_ok = f[1].split(',').all(|s| s == "1");
                assert!(
                    tcp_ok && ip_ok && f[2].is_empty(),
                    "{name}/{file} frame {}: checksums {r:?}",
                    i + 1
                );
            }
        }
    }
}

#[test]
fn handshake_capture_shows_the_handshake_the_payloads_the_fin_exchange_and_linux_options() {
    if !have_tshark("handshake_capture_shows_the_handshake") {
        return;
    }
    let r = run(load("handshake"), "listeners", "handshake");
    let cap = r.dir.join("server.pcapng");
    let rows = fields(
        &cap,
        "",
        &[
            "ip.src",
            "tcp.flags.str",
            "tcp.payload",
            "tcp.options.mss_val",
            "tcp.options.sack_perm",
            "tcp.options.timestamp.tsval",
            "tcp.options.wscale.shift",
            "tcp.window_size_value",
        ],
    );
    let f: Vec<Vec<&str>> = rows.iter().map(|r| r.split('|').collect()).collect();
    // tshark writes the flags as a 12-character string, e.g. "·······A··S·".
    let flags: Vec<String> = f
        .iter()
        .map(|r| r[1].chars().filter(|c| c.is_ascii_alphabetic()).collect())
        .collect();
    assert_eq!(&flags[..3], ["S", "AS", "A"], "three-way handshake");
    let (syn, synack) = (&f[0], &f[1]);
    assert_eq!(syn[3], "1460");
    assert!(!syn[4].is_empty(), "SYN carries SACK-permitted");
    assert!(!syn[5].is_empty(), "SYN carries timestamps");
    assert_eq!(syn[6], "10", "Linux offers window scale 10");
    assert_eq!(syn[7], "64240", "44 x 1460, as measured");
    assert_eq!(
        (synack[3], synack[6], synack[7]),
        ("1460", "10", "65160"),
        "SYN-ACK: own MSS, wscale, 45 x 1448"
    );
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    let payloads: Vec<&str> = f.iter().map(|r| r[2]).filter(|p| !p.is_empty()).collect();
    assert_eq!(payloads, [hex("HelloWorld"), hex("HELLOWORLD")]);
    assert_eq!(
        flags.iter().filter(|s| s.contains('F')).count(),
        2,
        "both FINs: {flags:?}"
    );
    assert_eq!(
        count(&cap, "tcp.options.timestamp.tsval"),
        f.len(),
        "timestamps on every segment"
    );
}

#[test]
fn dead_host_client_capture_has_11_syns_10_flagged_as_retransmissions() {
    if !have_tshark("dead_host_client_capture_has_11_syns") {
        return;
    }
    let r = run(load("dead_host"), "client", "dead");
    let cap = r.dir.join("client.pcapng");
    assert_eq!(count(&cap, "tcp.flags.syn == 1 && tcp.flags.ack == 0"), 11);
    assert_eq!(count(&cap, "tcp.analysis.retransmission"), 10);
    assert_eq!(count(&cap, "frame.comment contains \"is down\""), 11);
    let server_caps: Vec<&Value> = r.summary["captures"].as_array().unwrap().iter().collect();
    assert_eq!(server_caps.len(), 1, "only the client was captured");
}

#[test]
fn syn_flood_server_capture_holds_every_syn_that_reached_it_and_names_the_drops() {
    if !have_tshark("syn_flood_server_capture_holds_every_syn") {
        return;
    }
    let r = run(load("syn_flood"), "listeners", "flood");
    let cap = r.dir.join("server.pcapng");
    let syns = count(&cap, "tcp.flags.syn == 1 && tcp.flags.ack == 0");
    let reached = r.summary["hosts"]["server"]["received"]["SYN"]
        .as_u64()
        .unwrap();
    assert!(reached > 10_000, "a flood: {reached}");
    assert_eq!(syns as u64, reached);
    let drops = r.summary["drops_by_reason"]["syn_queue_full"]
        .as_u64()
        .unwrap();
    assert!(drops > 0);
    let named = count(
        &cap,
        "frame.comment == \"dropped by server: syn_queue_full (TCPReqQFullDrop)\"",
    );
    assert_eq!(named as u64, drops);
    assert_eq!(
        r.summary["listeners"][0]["counters"]["TCPReqQFullDrop"].as_u64(),
        Some(drops)
    );
}

#[test]
fn cookie_synacks_keep_the_table_mss_and_cookie_connections_without_timestamps_lose_wscale() {
    if !have_tshark("cookie_synacks_keep_the_table_mss") {
        return;
    }
    let r = run(load("syn_flood_cookies"), "listeners", "cookies");
    let cap = r.dir.join("server.pcapng");
    // PPPoE clients (MSS 1452, no timestamps): the cookie keeps 1440, the SYN-ACK carries the
    // server's own MSS (as the kernel does, measured) and, without timestamps, nothing else.
    let pppoe = "ip.dst == 10.0.4.3 && frame.comment contains \"SYN cookie\"";
    let rows = fields(
        &cap,
        pppoe,
        &[
            "frame.comment",
            "tcp.options.mss_val",
            "tcp.options.wscale.shift",
            "tcp.options.sack_perm",
        ],
    );
    assert!(!rows.is_empty());
    for row in &rows {
        let f: Vec<&str> = row.split('|').collect();
        assert!(f[0].starts_with("SYN cookie: keeps MSS 1440 "), "{row}");
        assert_eq!((f[1], f[2], f[3]), ("1460", "", ""), "{row}");
    }
    // Clients with timestamps keep window scaling (in the TSval's low bits): MSS 1460.
    let ts = "ip.dst == 10.0.4.2 && frame.comment contains \"SYN cookie\"";
    for row in fields(&cap, ts, &["frame.comment", "tcp.options.wscale.shift"]) {
        assert!(
            row.starts_with(
                "SYN cookie: keeps MSS 1460 (the cookie table value), wscale 10, SACK|10"
            ),
            "{row}"
        );
    }
    // The PPPoE clients' cookie connections run without window scaling: tshark sees no
    // scale factor (-2) on their segments after the cookie handshake.
    let unscaled = count(
        &cap,
        "ip.src == 10.0.4.3 && tcp.flags.syn == 0 && tcp.window_size_scalefactor == -2",
    );
    let cookie = &r.summary["listeners"][0]["options"]["cookie"];
    let lost = cookie["no_wscale"].as_u64().unwrap();
    assert!(lost > 0 && unscaled > 0, "{cookie}");
    assert_eq!(cookie["mss_lowered"], lost);
    assert_eq!(cookie["no_sack"], lost);
    // Each such connection sends five segments after its SYN, all unscaled: the ACK that
    // returns the cookie, HelloWorld, the ACK of HELLOWORLD, its FIN and the last ACK.
    assert_eq!(unscaled as u64, 5 * lost, "{cookie}");
}

#[test]
fn an_icmp_error_is_an_icmp_packet_quoting_the_syn() {
    if !have_tshark("an_icmp_error_is_an_icmp_packet_quoting_the_syn") {
        return;
    }
    let text = r#"{"duration_ms": 5000,
      "hosts": [{"name": "client", "addrs": ["10.1.0.2"], "profile": "freebsd"}],
      "network": {"icmp_unreachable": true, "icmp_burst": 1, "icmp_interval_ms": 100000},
      "clients": [{"name": "c", "host": "client", "target": "10.1.0.99:80",
                   "arrivals": {"kind": "times", "times_ms": [0]}}]}"#;
    let scn = scenario::parse(text, "icmp.json", "icmp").unwrap();
    let r = run(scn, "all", "icmp");
    let cap = r.dir.join("client.pcapng");
    let rows = fields(
        &cap,
        "icmp",
        &[
            "ip.src",
            "icmp.type",
            "icmp.code",
            "tcp.flags.syn",
            "tcp.dstport",
        ],
    );
    assert!(!rows.is_empty(), "no ICMP in the client's capture");
    assert_eq!(rows[0], "10.1.0.99,10.1.0.2|3|1|1|80");
    // A FreeBSD client keeps retrying after an ICMP error: each SYN says it was lost; the
    // router's suppressed errors (rate limit: 1) never reached the client, and are nobody's
    // verdict in its capture.
    let syns = fields(&cap, "tcp.flags.syn == 1 && !icmp", &["frame.comment"]);
    assert!(syns.len() >= 2, "{syns:?}");
    assert!(
        syns.iter().all(|c| c == "lost in the network: black_hole"),
        "{syns:?}"
    );
    assert_eq!(count(&cap, "icmp"), 1, "one error within the rate limit");
}

#[test]
fn a_flood_capture_is_bounded_by_its_caps_and_sampling() {
    // The figures are summary.json's and the file sizes; tshark only checks the legitimate
    // flows are all there.
    let mut scn = load("syn_flood");
    scenario::set_capture_hosts(&mut scn, "listeners").unwrap();
    let spec = scn.capture.as_mut().unwrap();
    spec.spoofed_one_in = 10;
    let sampled = run(scn.clone(), "listeners", "sampled");
    let full = run(load("syn_flood"), "listeners", "full");
    let (s, f) = (
        &sampled.summary["captures"][0],
        &full.summary["captures"][0],
    );
    let (kept, out) = (
        s["packets"].as_u64().unwrap(),
        s["sampled_out"].as_u64().unwrap(),
    );
    assert_eq!(kept + out, f["packets"].as_u64().unwrap(), "{s} {f}");
    // The legitimate packets at the server: what the client host sent and received (the
    // scenario loses none), all kept.
    let total = |v: &Value| {
        v.as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum::<u64>()
    };
    let clients = &full.summary["hosts"]["clients"];
    let legit = total(&clients["sent"]) + total(&clients["received"]);
    if have_tshark("a_flood_capture_is_bounded_by_its_caps_and_sampling (its tshark part)") {
        let cap = sampled.dir.join("server.pcapng");
        assert_eq!(
            count(&cap, "ip.addr == 10.0.4.2") as u64,
            legit,
            "every legitimate packet kept"
        );
    }
    let spoofed_kept = kept - legit;
    let share = spoofed_kept as f64 / (spoofed_kept + out) as f64;
    assert!(
        share > 0.08 && share < 0.12,
        "about 1 in 10 spoofed flows kept: {share}"
    );
    let capped = {
        let spec = scn.capture.as_mut().unwrap();
        (spec.spoofed_one_in, spec.max_packets) = (1, 1000);
        run(scn, "listeners", "capped")
    };
    let c = &capped.summary["captures"][0];
    assert_eq!(c["packets"], 1000);
    assert_eq!(
        c["over_cap"].as_u64().unwrap() + 1000,
        f["packets"].as_u64().unwrap()
    );
    let warned = capped.summary["warnings"].as_array().unwrap();
    assert!(
        warned.iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("server.pcapng holds the first 1000 packets")),
        "{warned:?}"
    );
    let bytes = std::fs::metadata(capped.dir.join("server.pcapng"))
        .unwrap()
        .len();
    assert!(bytes < 200_000, "{bytes} bytes for 1000 packets");
}

#[test]
fn freebsd_and_linux_lay_their_options_out_as_their_kernels_do() {
    if !have_tshark("freebsd_and_linux_lay_their_options_out") {
        return;
    }
    let mut scn = load("handshake");
    let server = scn.hosts.iter_mut().find(|h| h.name == "server").unwrap();
    server.stack = synsim::tcp::Profile::Freebsd.config();
    let r = run(scn, "listeners", "layout");
    let kinds = fields(
        &r.dir.join("server.pcapng"),
        "tcp.flags.syn == 1",
        &["tcp.option_kind"],
    );
    // Linux SYN: mss, sackOK, TS, nop, wscale; FreeBSD SYN-ACK: mss, nop, wscale, sackOK, TS.
    assert_eq!(kinds, ["2,4,8,1,3", "2,1,3,4,8"]);
}

#[test]
fn a_capture_that_would_exceed_the_output_budget_is_refused_before_running() {
    let text = r#"{"duration_ms": 100000,
      "hosts": [{"name": "s", "addrs": ["10.0.0.1"]}, {"name": "a", "addrs": ["10.0.0.9"]}],
      "listeners": [{"host": "s", "port": 80}],
      "attackers": [{"name": "f", "host": "a", "target": "10.0.0.1:80", "rate_per_s": 50000,
                     "spoof": {"kind": "range", "base": "198.18.0.0", "count": 65536}}],
      "capture": {"max_packets": 100000000, "max_bytes": 100000000000}}"#;
    let scn = scenario::parse(text, "big.json", "big").unwrap();
    let dir = std::env::temp_dir().join(format!("synsim-capture-budget-{}", std::process::id()));
    let opts = RunOptions {
        out_dir: dir.clone(),
        charts: false,
        max_output_bytes: 100 << 20,
        ..Default::default()
    };
    match run_to_dir(&scn, &opts) {
        Err(synsim::report::RunError::OutputBudget(msg)) => {
            assert!(msg.contains("captures alone"), "{msg}");
            assert!(msg.contains("capture.spoofed_one_in"), "{msg}");
        }
        other => panic!("not refused: {:?}", other.map(|r| r.summary.captures)),
    }
    assert!(!dir.exists(), "nothing created");
}

#[test]
fn more_than_256_capture_points_are_refused_naming_the_field() {
    let hosts: Vec<Value> = (0..300)
        .map(|i| serde_json::json!({"name": format!("h{i}"), "addrs": [format!("10.{}.{}.1", i / 250, i % 250)]}))
        .collect();
    let v = serde_json::json!({"duration_ms": 100, "hosts": hosts, "capture": {"hosts": "all"}});
    let e = scenario::parse(&v.to_string(), "many.json", "many").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("capture.hosts") && msg.contains("at most 256"),
        "{msg}"
    );
}
