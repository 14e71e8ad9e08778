//! Regressions: events.jsonl and timeline.csv stay well-formed whatever the names. Both used to
//! be formatted by hand: a host named `cli"ent` gave invalid JSON lines, and a listener on a host
//! named `web,1` gave a timeline header of more columns than its rows.

use synsim::report::timeline::TimelineWriter;
use synsim::report::trace::TraceWriter;
use synsim::scenario;
use synsim::sim::Outcome;
use synsim::sim::{Fate, ListenerSample, Observer, OutcomeRecord, Sample, Simulation};
use synsim::tcp::{Reason, Role, TcpState};
use synsim::time::SimTime;
use synsim::wire::{Endpoint, Flags, IcmpCode, Packet, Payload, Segment, SeqNum};

/// Names holding every character that JSON or CSV gives a meaning: the field delimiter, the
/// quote, the escape, line breaks, a control character and non-ASCII text.
const HOSTILE: [&str; 7] = [
    "web,1",
    "cli\"ent",
    "back\\slash",
    "new\nline",
    "cr\r\nlf",
    "bell\u{7}tab\t",
    "caf\u{e9}",
];

/// Every kind of line the trace writes, for hosts and clients with hostile names.
#[test]
fn every_trace_line_is_json_whatever_the_names() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/handshake.json"
    ))
    .unwrap();
    let scn = scenario::parse(&text, "handshake.json", "handshake").unwrap();
    let sim = Simulation::new(&scn);
    let ep = |ip: &str, port| Endpoint {
        addr: sim.net.addrs.find(&ip.parse().unwrap()).unwrap(),
        port,
    };
    let seg = Segment {
        src: ep("10.0.0.2", 40000),
        dst: ep("10.0.0.1", 7000),
        seq: SeqNum(1),
        ack: SeqNum(0),
        flags: Flags::SYN,
        window: 0,
        opts: synsim::wire::TcpOptions::NONE,
        payload: Payload::EMPTY,
    };
    let names: Vec<String> = HOSTILE.iter().map(|s| s.to_string()).collect();
    let mut w = TraceWriter::new(Vec::new(), names.clone(), names.clone());
    let t = SimTime::from_ms(1);
    let icmp = Packet {
        seg,
        icmp: Some(IcmpCode::HostUnreachable),
    };
    for (fate, pkt) in [
        (Fate::Send, Packet::tcp(seg)),
        (Fate::Deliver, icmp),
        (Fate::NetDrop(synsim::net::NetDrop::Loss), Packet::tcp(seg)),
        (Fate::HostDrop(Reason::SynQueueFull), Packet::tcp(seg)),
    ] {
        w.packet(t, fate, &pkt, &sim.net);
    }
    for (i, _) in HOSTILE.iter().enumerate() {
        let h = synsim::net::HostId(i as u32);
        let conn = synsim::sim::ConnRef {
            host: h,
            serial: i as u64,
            role: Role::Client,
            local: seg.src,
            remote: seg.dst,
        };
        w.state(
            t,
            &conn,
            TcpState::SynSent,
            TcpState::Closed,
            Reason::RstReceived,
        );
        w.host(t, h, i % 2 == 0);
        w.outcome(
            t,
            &OutcomeRecord {
                client: i as u32,
                attempt: 3,
                outcome: Outcome::Established,
                reason: Reason::SynAckReceived,
                started: SimTime::ZERO,
                ended: t,
                connected: Some(t),
                syns_sent: 1,
                conn: Some(conn),
                error: None,
            },
        );
    }
    let expect = w.lines;
    let bytes = w.finish().unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len() as u64, expect, "one line per event:\n{text}");
    let mut named = Vec::new();
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        for key in ["host", "client"] {
            if let Some(name) = v.get(key) {
                named.push(name.as_str().unwrap().to_string());
            }
        }
    }
    // The names come back exactly as given: 3 lines name each host or client.
    for name in HOSTILE {
        assert_eq!(named.iter().filter(|n| *n == name).count(), 3, "{name:?}");
    }
}

/// Every timeline row, the header included, has the same number of columns, and the header
/// names each listener as given.
#[test]
fn every_timeline_row_has_the_header_column_count() {
    let listeners: Vec<String> = HOSTILE.iter().map(|n| format!("{n}:80")).collect();
    let mut w = TimelineWriter::new(Vec::new(), &listeners);
    let s = Sample {
        counts: [[1; 11]; 2],
        listeners: vec![
            ListenerSample {
                syn_queue: 1,
                accept_queue: 2,
                drops: 3,
                cookies: 4,
                evicted: 5,
            };
            listeners.len()
        ],
    };
    for ms in 0..3 {
        w.sample(SimTime::from_ms(ms), &s);
    }
    let bytes = w.finish().unwrap();
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(bytes.as_slice());
    let header = r.headers().unwrap().clone();
    assert_eq!(header.len(), 1 + 2 * 10 + 4 * listeners.len());
    for (i, l) in listeners.iter().enumerate() {
        assert_eq!(&header[21 + 4 * i], format!("{l}_syn_queue"));
    }
    let rows: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(row.len(), header.len(), "{row:?}");
    }
    assert_eq!(&rows[2][0], "2.000");
}
