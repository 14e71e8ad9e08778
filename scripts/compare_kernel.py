#!/usr/bin/env python3
"""Compare synsim with the running Linux kernel, inside two network namespaces this script
creates (and deletes): `ssa` (client / attacker side) and `ssb` (server side), joined by a veth
pair. Needs root and iproute2; sends traffic only between these namespaces.

Experiments (`--only NAME`; each kernel experiment is repeated `--runs N` times, default 2, and
each is also run in synsim with the same knobs):
  plateau    SYN-queue plateau: a listener with backlog B (16 and 128) that never accepts,
             cookies off, flooded with spoofed SYNs: count SYN-RECV sockets. Plus the quarter
             rule: backlog 128, tcp_max_syn_backlog 64: unproven sources stop at 49.
  dead_host  connect to a silent host with tcp_syn_retries 2 and 3: SYN send times, their
             lateness against the nominal schedule, ETIMEDOUT, and the client's counters.
  synack     SYN-ACK times of half-open requests nobody answers (nominal 0, 1, 3, 7, 15 s).
  flood      flood dynamics: B in {16, 128} x {200, 2000} spoofed SYN/s for 20 s x cookies
             off/on, with a legitimate client (tcp_syn_retries 2) connecting every 100 ms from
             fresh addresses, from 1 s before the flood to 1 s after it.
  counters   SyncookiesRecv for a cookie ACK that overflows the accept queue;
             TCPACKSkippedSynRecv for retransmitted SYNs to a pending request; the proven-peer
             rule for a source that closed cleanly vs one that closed with RST.
  options    TCP options and windows of one handshake (connect, send "HelloWorld", close), from a
             tcpdump capture on vssb read with tshark, and the accepted socket's MSS and
             tcpi_options: defaults; client without timestamps, SACK or window scaling; cookies
             (tcp_syncookies 2) with a client MSS of 1400, and with a client without timestamps.

Usage: sudo python3 scripts/compare_kernel.py [--synsim target/release/simulate]
                                              [--only NAME] [--runs N]
Internally the script re-runs itself inside a namespace as `--agent NAME ARGS_JSON`.
"""
import argparse, json, os, random, signal, socket, struct, subprocess, sys, tempfile, threading
import time

# Namespace names carry the process id, so concurrent runs on one machine never meet.
A, B = f"ssa{os.getpid()}k", f"ssb{os.getpid()}k"
A_IP, B_IP, SILENT = "10.77.0.1", "10.77.0.2", "10.77.0.9"
# ssb sends everything for 198.18.0.0/15 (the spoofed sources) to this next hop, whose neighbour
# entry is ssa's MAC: the SYN-ACKs really leave on the veth (and can be captured there), and ssa,
# which does not forward, drops them. No ARP for the spoofed addresses, no neighbour-table limit.
GATEWAY = "10.77.0.254"
SPOOF_NET = "198.18.0.0/15"
HERE = os.path.abspath(__file__)
FLOOD_START, FLOOD_STOP, OBSERVE = 1.0, 21.0, 30.0  # seconds after the run's t0
LEGIT_STOP = 22.0
PROC_SYN_RECV = "03"  # /proc/net/tcp `st` of TCP_SYN_RECV (request sockets are listed so)


def sh(*cmd, check=True, ns=None, inp=None):
    if ns:
        cmd = ("ip", "netns", "exec", ns) + cmd
    return subprocess.run(cmd, check=check, capture_output=True, text=True, input=inp).stdout


def setup():
    teardown()
    sh("ip", "netns", "add", A)
    sh("ip", "netns", "add", B)
    sh("ip", "link", "add", "vssa", "netns", A, "type", "veth", "peer", "name", "vssb", "netns", B)
    sh("ip", "addr", "add", A_IP + "/24", "dev", "vssa", ns=A)
    sh("ip", "addr", "add", B_IP + "/24", "dev", "vssb", ns=B)
    for ns, dev in ((A, "vssa"), (B, "vssb")):
        sh("ip", "link", "set", dev, "up", ns=ns)
        sh("ip", "link", "set", "lo", "up", ns=ns)
    # Replies to other addresses leave ssb by a default route into ssa, which does not forward:
    # they vanish, like SYN-ACKs sent to unreachable addresses.
    sh("ip", "route", "add", "default", "dev", "vssb", ns=B)
    mac_a = json.loads(sh("ip", "-j", "link", "show", "vssa", ns=A))[0]["address"]
    sh("ip", "neigh", "add", GATEWAY, "lladdr", mac_a, "dev", "vssb", "nud", "permanent", ns=B)
    sh("ip", "route", "add", SPOOF_NET, "via", GATEWAY, "dev", "vssb", ns=B)
    # The silent host: a neighbour entry so SYNs leave ssa, to an address nobody owns.
    mac_b = json.loads(sh("ip", "-j", "link", "show", "vssb", ns=B))[0]["address"]
    sh("ip", "neigh", "add", SILENT, "lladdr", mac_b, "dev", "vssa", ns=A)
    # Fresh client addresses for the legitimate connects of the flood experiment (one each, so
    # no source is a proven peer) and for the proven-peer experiment.
    sh("ip", "-n", A, "-batch", "-", inp="".join(
        f"addr add {legit_addr(k)}/32 dev vssa\n" for k in range(LEGIT_ADDRS)))


def teardown():
    for ns in (A, B):
        sh("ip", "netns", "del", ns, check=False)


LEGIT_ADDRS = 240


def legit_addr(k):
    return f"10.77.{1 + k // 200}.{1 + k % 200}"


def sysctl(ns, key, value):
    sh("sysctl", "-q", "-w", f"{key}={value}", ns=ns)


def nstat(ns):
    """Absolute counters of namespace `ns` (nstat -a, history untouched)."""
    out = {}
    for line in sh("nstat", "-asz", ns=ns).splitlines():
        f = line.split()
        if len(f) >= 2 and f[1].isdigit():
            out[f[0]] = int(f[1])
    return out


def nstat_diff(before, after, names):
    return {n: after.get(n, 0) - before.get(n, 0) for n in names}


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def tcp_packet(src, dst, sport, dport, seq, ack=0, flags=0x02):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.randrange(65536), 0, 64, 6, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + tcp


def syn_packet(src, dst, sport, dport, seq):
    return tcp_packet(src, dst, sport, dport, seq)


def spoofed_source(rng):
    return "198.18.%d.%d" % (rng.randrange(256), rng.randrange(1, 255))


def agent(ns, name, **kw):
    """Starts this script as agent `name` inside namespace `ns`; returns the Popen."""
    return subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, HERE, "--agent", name,
                             json.dumps(kw)], stdout=subprocess.PIPE, text=True)


def agent_result(p):
    out, _ = p.communicate()
    if p.returncode:
        raise RuntimeError(f"agent failed ({p.returncode})")
    return json.loads(out.strip().splitlines()[-1])


def run_agent(ns, name, **kw):
    return agent_result(agent(ns, name, **kw))


def wait_until(t):
    d = t - time.monotonic()
    if d > 0:
        time.sleep(d)


class Sniffer:
    """Records the TCP segments leaving (or reaching) `dev` (AF_PACKET with ETH_P_ALL sees
    outgoing frames too) whose flags are exactly `flags`: (monotonic time, src, sport, dst, dport, seq, ack)."""

    def __init__(self, dev, flags, outgoing=True):
        self.p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.p.bind((dev, 0))
        self.p.settimeout(0.1)
        self.flags, self.seen, self.done = flags, [], False
        self.kind = socket.PACKET_OUTGOING if outgoing else socket.PACKET_HOST
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.done:
            try:
                f, addr = self.p.recvfrom(2048)
            except socket.timeout:
                continue
            if addr[2] != self.kind or f[12:14] != b"\x08\x00":
                continue
            ip = f[14:]
            if ip[9] != 6:
                continue
            tcp = ip[(ip[0] & 15) * 4:]
            if tcp[13] & 0x3F == self.flags:
                sport, dport, seq, ack = struct.unpack("!HHII", tcp[:12])
                self.seen.append((time.monotonic(), socket.inet_ntoa(ip[12:16]), sport,
                                  socket.inet_ntoa(ip[16:20]), dport, seq, ack))

    def stop(self):
        self.done = True
        self.t.join()
        return self.seen


def syn_recv_count(port=80):
    n = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[3] == PROC_SYN_RECV and fields[1].endswith(":%04X" % port):
                n += 1
    return n


# ---------------------------------------------------------------- agents (run inside a namespace)

def agent_server(backlog, t0, end, accept, sample=0.05):
    """Listener on B_IP:80. With `accept`, each connection is accepted and closed once the peer
    has closed (clean FIN: the kernel then writes tcp_metrics) or reset it. Samples the SYN-RECV
    count every `sample` s and records every SYN-ACK leaving vssb."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((B_IP, 80))
    s.listen(backlog)
    sniff = Sniffer("vssb", 0x12, outgoing=True)

    def serve(c):
        try:
            while c.recv(100):
                pass
        except OSError:
            pass
        c.close()

    def acceptor():
        while True:
            c, _ = s.accept()
            threading.Thread(target=serve, args=(c,), daemon=True).start()

    if accept:
        threading.Thread(target=acceptor, daemon=True).start()
    samples, k = [], 0
    while True:
        t = t0 + k * sample
        if t > t0 + end:
            break
        wait_until(t)
        samples.append((round(time.monotonic() - t0, 3), syn_recv_count()))
        k += 1
    synacks = [(round(x[0] - t0, 4), x[3], x[4], x[5]) for x in sniff.stop()]
    return {"samples": samples, "synacks": synacks}


def agent_flood_client(t0, rate, seed):
    """Spoofed SYNs at a constant `rate` from FLOOD_START to FLOOD_STOP, and a legitimate
    connect every 100 ms from 0 to LEGIT_STOP, each from its own fresh address."""
    rng = random.Random(seed)
    legit = []

    def connect(k):
        c = socket.socket()
        c.bind((legit_addr(k), 0))
        start = time.monotonic()
        try:
            c.connect((B_IP, 80))
            ok = True
        except OSError:
            ok = False
        legit.append((round(start - t0, 3), ok, round(time.monotonic() - start, 3)))
        c.close()

    def legit_loop():
        threads = []
        for k in range(int(LEGIT_STOP * 10) + 1):
            wait_until(t0 + k * 0.1)
            th = threading.Thread(target=connect, args=(k,), daemon=True)
            th.start()
            threads.append(th)
        for th in threads:
            th.join()

    lt = threading.Thread(target=legit_loop)
    lt.start()
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    total = int((FLOOD_STOP - FLOOD_START) * rate)
    start = t0 + FLOOD_START
    wait_until(start)
    sent = 0
    while sent < total:
        due = min(total, int((time.monotonic() - start) * rate) + 1)
        while sent < due:
            r.sendto(syn_packet(spoofed_source(rng), B_IP, rng.randrange(1024, 65535), 80,
                                rng.randrange(2**32)), (B_IP, 0))
            sent += 1
        time.sleep(0.0005)
    lt.join()
    return {"sent": sent, "legit": sorted(legit)}


def agent_raw_client(t0, syns, ack_at=None, end=1.0):
    """Sends raw SYNs [(offset, src, sport, seq)], records the SYN-ACKs reaching vssa and, at
    offset `ack_at`, answers each SYN-ACK of those tuples with the final ACK."""
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sniff = Sniffer("vssa", 0x12, outgoing=False)
    sent = []
    for off, src, sport, seq in syns:
        wait_until(t0 + off)
        r.sendto(syn_packet(src, B_IP, sport, 80, seq), (B_IP, 0))
        sent.append((round(time.monotonic() - t0, 4), src, sport))
    if ack_at is not None:
        wait_until(t0 + ack_at)
        isn = {(src, sport): seq for _, src, sport, seq in syns}
        done = set()
        for _, _, _, dst, dport, seq, _ in list(sniff.seen):
            if (dst, dport) in isn and (dst, dport) not in done:
                done.add((dst, dport))
                r.sendto(tcp_packet(dst, B_IP, dport, 80, isn[(dst, dport)] + 1, seq + 1, 0x10),
                         (B_IP, 0))
    wait_until(t0 + end)
    got = [(round(x[0] - t0, 4), x[3], x[4]) for x in sniff.stop()]
    return {"sent": sent, "synacks": got}


def agent_proven(t0, clean, reset, flood):
    """`clean` connects and closes with FIN, `reset` connects and closes with RST; then `flood`
    spoofed SYNs fill the queue up to the quarter-rule cap, and both sources connect again
    (tcp_syn_retries 1: a dropped source times out after 3 s)."""
    wait_until(t0)
    for addr, rst in ((clean, False), (reset, True)):
        c = socket.socket()
        c.bind((addr, 0))
        c.connect((B_IP, 80))
        time.sleep(0.05)
        if rst:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
    time.sleep(0.5)
    rng = random.Random(7)
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for _ in range(flood):
        r.sendto(syn_packet(spoofed_source(rng), B_IP, rng.randrange(1024, 65535), 80,
                            rng.randrange(2**32)), (B_IP, 0))
    time.sleep(0.3)
    res = {}

    def again(name, addr):
        c = socket.socket()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, 1)
        c.bind((addr, 0))
        st = time.monotonic()
        try:
            c.connect((B_IP, 80))
            res[name] = ("established", round(time.monotonic() - st, 3))
        except OSError as e:
            res[name] = (os.strerror(e.errno), round(time.monotonic() - st, 3))
        c.close()
    ths = [threading.Thread(target=again, args=a) for a in (("clean", clean), ("reset", reset))]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    return res


def agent_opt_server():
    """Listener on B_IP:80 (backlog 128) that accepts one connection, reads the accepted
    socket's TCP_MAXSEG and tcpi_options (TCP_INFO byte 5: 1 timestamps, 2 SACK, 4 wscale),
    reads until the peer closes, then closes."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((B_IP, 80))
    s.listen(128)
    s.settimeout(10)
    print("ready", flush=True)
    c, _ = s.accept()
    mss = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
    opts = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)[5]
    c.settimeout(10)
    data = b""
    while True:
        chunk = c.recv(100)
        if not chunk:
            break
        data += chunk
    c.close()
    s.close()
    return {"mss": mss, "timestamps": bool(opts & 1), "sack": bool(opts & 2),
            "wscale": bool(opts & 4), "received": data.decode()}


def agent_opt_client(maxseg=None):
    """One connect to B_IP:80 (with TCP_MAXSEG `maxseg` set before it), "HelloWorld", close."""
    c = socket.socket()
    if maxseg:
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, maxseg)
    c.settimeout(10)
    c.connect((B_IP, 80))
    c.sendall(b"HelloWorld")
    c.close()
    return {"ok": True}


AGENTS = {"server": agent_server, "flood_client": agent_flood_client,
          "raw_client": agent_raw_client, "proven": agent_proven,
          "opt_server": agent_opt_server, "opt_client": agent_opt_client}


# ---------------------------------------------------------------- synsim side

def synsim(binary, scenario, extra=(), out=None):
    """Runs `scenario`; `extra` are more command-line arguments (e.g. `--pcap=server`), `out`
    an output directory the caller keeps (default: a temporary one, deleted)."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "s.json")
        json.dump(scenario, open(path, "w"))
        out = out or os.path.join(d, "out")
        subprocess.run([binary, path, "--out", out, "--no-charts", "--trace", "-q", *extra],
                       check=True)
        summary = json.load(open(os.path.join(out, "summary.json")))
        events = [json.loads(l) for l in open(os.path.join(out, "events.jsonl"))]
        timeline = open(os.path.join(out, "timeline.csv")).read().splitlines()
    return summary, events, timeline


def synsim_plateau(binary, backlog, max_syn_backlog=2048):
    scn = {"duration_ms": 2000, "hosts": [
        {"name": "a", "addrs": [A_IP]},
        {"name": "b", "addrs": [B_IP], "stack": {"syncookies": "off", "max_syn_backlog": max_syn_backlog}}],
        "network": {"latency_ms": 0.05},
        "listeners": [{"host": "b", "port": 80, "backlog": backlog, "accept": {"mode": "never"}}],
        "attackers": [{"name": "f", "host": "a", "target": B_IP + ":80", "rate_per_s": 20000,
                       "arrivals": "constant", "start_ms": 0, "stop_ms": 100,
                       "spoof": {"kind": "range", "base": "198.18.0.0", "count": 65536}}]}
    s, _, _ = synsim(binary, scn)
    return s["listeners"][0]["syn_queue_peak"]


FAILED_CONNECT_COUNTERS = ("TCPTimeouts", "TCPSynRetrans", "RetransSegs", "OutSegs")


def synsim_dead_host(binary, syn_retries):
    scn = {"duration_ms": 200000, "hosts": [
        {"name": "a", "addrs": [A_IP], "stack": {"syn_retries": syn_retries}}],
        "network": {"latency_ms": 0.05},
        "clients": [{"name": "c", "host": "a", "target": SILENT + ":80",
                     "arrivals": {"kind": "times", "times_ms": [0]}}]}
    s, ev, _ = synsim(binary, scn)
    syns = [e["t_ns"] / 1e9 for e in ev if e["event"] == "send" and e["flags"] == "SYN"]
    end = [e["t_ns"] / 1e9 for e in ev if e["event"] == "outcome"][0]
    outcome = [k for k, v in s["outcomes"].items() if v][0]
    return outcome, end, syns, {n: s["counters"][n] for n in FAILED_CONNECT_COUNTERS}


def flood_scenario(backlog, rate, cookies, seed=1):
    n = int(LEGIT_STOP * 10) + 1
    return {"seed": seed, "duration_ms": OBSERVE * 1000, "sample_interval_ms": 50, "hosts": [
        {"name": "legit", "addrs": [legit_addr(k) for k in range(n)], "stack": {"syn_retries": 2}},
        {"name": "att", "addrs": [A_IP]},
        {"name": "b", "addrs": [B_IP], "stack": {"syncookies": "on_overflow" if cookies else "off"}}],
        "network": {"latency_ms": 0.05},
        "listeners": [{"host": "b", "port": 80, "backlog": backlog, "app": "close"}],
        "clients": [{"name": f"l{k}", "host": "legit", "addr": legit_addr(k), "target": B_IP + ":80",
                     "arrivals": {"kind": "times", "times_ms": [k * 100]}} for k in range(n)],
        "attackers": [{"name": "f", "host": "att", "target": B_IP + ":80", "rate_per_s": rate,
                       "arrivals": "constant", "start_ms": FLOOD_START * 1000,
                       "stop_ms": FLOOD_STOP * 1000,
                       "spoof": {"kind": "range", "base": "198.18.0.0", "count": 131072}}]}


FLOOD_COUNTERS = ("ListenDrops", "TCPReqQFullDrop", "TCPReqQFullDoCookies", "SyncookiesSent",
                  "ListenOverflows")


def synsim_flood(binary, backlog, rate, cookies, seed=1):
    s, ev, tl = synsim(binary, flood_scenario(backlog, rate, cookies, seed))
    col = tl[0].split(",").index(f"b:80_syn_queue")
    samples = [(float(r.split(",")[0]) / 1000, int(r.split(",")[col])) for r in tl[1:]]
    synacks = [(e["t_ns"] / 1e9,) + tuple(e["dst"].split(":")) for e in ev
               if e["event"] == "send" and e["flags"] == "SYN,ACK" and e["dst"].startswith("198.1")]
    sent = sum(1 for e in ev if e["event"] == "send" and e["flags"] == "SYN"
               and e["src"].startswith("198.1"))
    legit = [(e["start_ns"] / 1e9, e["outcome"] == "established") for e in ev if e["event"] == "outcome"]
    return flood_summary(samples, synacks, sent, legit, {n: s["counters"][n] for n in FLOOD_COUNTERS})


def flood_summary(samples, synacks, sent, legit, counters):
    """The figures compared, computed the same way from the kernel's and synsim's records."""
    tail = sorted(c for t, c in samples if t >= OBSERVE - 2)
    level = tail[len(tail) // 2]
    after = [(t, c) for t, c in samples if t >= FLOOD_STOP]
    settle = next((t - FLOOD_STOP for t, c in after if c <= level), None)
    during = [c for t, c in samples if FLOOD_START + 2 <= t < FLOOD_STOP]
    per = {}
    for x in synacks:
        per[(x[1], str(x[2]))] = per.get((x[1], str(x[2])), 0) + 1
    requests = [n for n in per.values() if n >= 2]  # a cookie SYN-ACK is never retransmitted
    split = {k: sum(1 for n in requests if (n >= 5 if k == "5+" else n == int(k)))
             for k in ("2", "3", "4", "5+")}
    in_flood = [ok for st, ok in legit if FLOOD_START <= st < FLOOD_STOP]
    inside = [ok for st, ok in legit if FLOOD_START <= st <= FLOOD_STOP - 7]
    pct = lambda xs: round(100 * sum(xs) / len(xs), 1) if xs else None
    return {"level_after": level, "settle_s": round(settle, 2) if settle is not None else None,
            "flood_median": sorted(during)[len(during) // 2] if during else None,
            "spoofed_sent": sent, "requests": len(requests),
            "requests_pct": round(100 * len(requests) / sent, 2) if sent else None,
            "split_pct": {k: round(100 * v / len(requests), 1) if requests else None
                          for k, v in split.items()},
            "legit_in_flood_pct": pct(in_flood), "legit_window_inside_pct": pct(inside),
            "counters": counters}


def synsim_synack(binary):
    scn = {"duration_ms": 40000, "hosts": [
        {"name": "a", "addrs": [A_IP]}, {"name": "b", "addrs": [B_IP]}],
        "network": {"latency_ms": 0.05},
        "listeners": [{"host": "b", "port": 80, "backlog": 128, "accept": {"mode": "never"}}],
        "attackers": [{"name": "f", "host": "a", "target": B_IP + ":80", "rate_per_s": 1,
                       "arrivals": "constant", "start_ms": 0, "stop_ms": 1,
                       "spoof": {"kind": "range", "base": "198.18.0.0", "count": 65536}}]}
    _, ev, _ = synsim(binary, scn)
    syn = [e["t_ns"] for e in ev if e["event"] == "send" and e["flags"] == "SYN"][0]
    return [round((e["t_ns"] - syn) / 1e9, 3) for e in ev
            if e["event"] == "send" and e["flags"] == "SYN,ACK"]


def synsim_cookie_overflow(binary):
    scn = {"duration_ms": 100, "hosts": [
        {"name": "a", "addrs": [A_IP]}, {"name": "b", "addrs": [B_IP], "stack": {"syncookies": 2}}],
        "network": {"latency_ms": 1},
        "listeners": [{"host": "b", "port": 80, "backlog": 1, "accept": {"mode": "never"}}],
        # No close: the kernel side sends one raw ACK per cookie, and a FIN would carry the
        # same cookie a second time.
        "clients": [{"name": "c", "host": "a", "target": B_IP + ":80", "close": False,
                     "arrivals": {"kind": "times", "times_ms": [0, 0.1, 0.2]}}]}
    s, _, _ = synsim(binary, scn)
    return {n: s["counters"][n] for n in ("SyncookiesSent", "SyncookiesRecv", "ListenOverflows")}


def synsim_syn_retransmit(binary):
    scn = {"duration_ms": 350, "hosts": [
        {"name": "a", "addrs": [A_IP], "stack": {"syn_rto_initial_ms": 100}},
        {"name": "b", "addrs": [B_IP]}],
        "network": {"latency_ms": 0.05, "drop": [{"from": "b", "to": "a", "flags": "SYN,ACK",
                                                  "window_ms": [0, 1000]}]},
        "listeners": [{"host": "b", "port": 80, "backlog": 16, "accept": {"mode": "never"}}],
        "clients": [{"name": "c", "host": "a", "target": B_IP + ":80",
                     "arrivals": {"kind": "times", "times_ms": [0]}}]}
    s, ev, _ = synsim(binary, scn)
    synacks = sum(1 for e in ev if e["event"] == "send" and e["flags"] == "SYN,ACK")
    return {"SYN-ACKs": synacks, "TCPACKSkippedSynRecv": s["counters"]["TCPACKSkippedSynRecv"]}


def synsim_proven(binary):
    clean, reset = legit_addr(230), legit_addr(231)
    scn = {"duration_ms": 6000, "hosts": [
        {"name": "a", "addrs": [clean, reset], "stack": {"syn_retries": 1}},
        {"name": "att", "addrs": [A_IP]},
        {"name": "b", "addrs": [B_IP], "stack": {"syncookies": "off", "max_syn_backlog": 64}}],
        "network": {"latency_ms": 0.05},
        "listeners": [{"host": "b", "port": 80, "backlog": 128}],
        # synsim has no RST close. A source is proven only once a connection with it closed
        # cleanly (tcp_update_metrics), so a connection left open stands for one that ended
        # in RST: neither writes tcp_metrics.
        "clients": [{"name": "clean", "host": "a", "addr": clean, "target": B_IP + ":80",
                     "arrivals": {"kind": "times", "times_ms": [0, 1000]}},
                    {"name": "reset", "host": "a", "addr": reset, "target": B_IP + ":80",
                     "close": False, "arrivals": {"kind": "times", "times_ms": [0, 1000]}}],
        "attackers": [{"name": "f", "host": "att", "target": B_IP + ":80", "rate_per_s": 2000,
                       "arrivals": "constant", "start_ms": 600, "stop_ms": 700,
                       "spoof": {"kind": "range", "base": "198.18.0.0", "count": 65536}}]}
    _, ev, _ = synsim(binary, scn)
    out = {}
    for e in ev:
        if e["event"] == "outcome" and e["start_ns"] >= 10**9:
            out[e["client"]] = e["outcome"]
    return out


TSHARK_FIELDS = ("tcp.flags.str", "tcp.options.mss_val", "tcp.options.wscale.shift",
                 "tcp.options.sack_perm", "tcp.options.timestamp.tsval", "tcp.window_size_value")


def handshake_options(capture):
    """The SYN, the SYN-ACK and the third ACK of the one connection in `capture`, read with
    tshark: {"SYN": (options, window), "SYN-ACK": ..., "ACK": ...}. `options` lists the options
    present, in the order mss, sackOK, TS, wscale, as "mss 1460,sackOK,TS,wscale 7"."""
    out = subprocess.run(["tshark", "-r", capture, "-T", "fields"] +
                         [a for f in TSHARK_FIELDS for a in ("-e", f)],
                         check=True, capture_output=True, text=True).stdout  # stderr: root warning
    res = {}
    for line in out.splitlines():
        flags, mss, ws, sack, tsval, win = (line.split("\t") + [""] * 6)[:6]
        # tcp.flags.str ends in U A P R S F, a letter for each flag set, else a dot.
        ack, psh, rst, syn, fin = (ch not in "\u00b7." for ch in flags.strip()[-5:])
        opts = ",".join(x for x in (mss and f"mss {mss}", sack and "sackOK", tsval and "TS",
                                    ws and f"wscale {ws}") if x) or "none"
        kind = ("SYN-ACK" if syn and ack else "SYN" if syn else
                "ACK" if ack and not (psh or rst or fin) and "SYN-ACK" in res else None)
        if kind and kind not in res:
            res[kind] = (opts, int(win) if win else None)
    return res


def synsim_options(binary, client_stack, server_stack):
    """One connect from "client" to a listener on "server":80, "HelloWorld", close; the server's
    capture (--pcap=server) and listeners[0].options of summary.json."""
    scn = {"duration_ms": 1000, "hosts": [
        {"name": "client", "addrs": [A_IP], "stack": client_stack},
        {"name": "server", "addrs": [B_IP], "stack": server_stack}],
        "network": {"latency_ms": 0.05},
        "listeners": [{"host": "server", "port": 80, "backlog": 128}],
        "clients": [{"name": "c", "host": "client", "target": B_IP + ":80", "send": "HelloWorld",
                     "arrivals": {"kind": "times", "times_ms": [0]}}]}
    with tempfile.TemporaryDirectory() as d:
        s, _, _ = synsim(binary, scn, extra=["--pcap=server"], out=os.path.join(d, "out"))
        hs = handshake_options(os.path.join(d, "out", "server.pcapng"))
    o = s["listeners"][0]["options"]
    n = o["connections"]
    has = lambda k: (("yes" if o[k] == n else "no" if o[k] == 0 else f"{o[k]} of {n}") if n
                     else "n/a")
    return {**hs, "mss": " ".join(str(m["mss"]) for m in o["mss"]) or "n/a",
            "timestamps": has("timestamps"), "sack": has("sack"), "wscale": has("wscale")}


# ---------------------------------------------------------------- kernel side

LISTENER = """
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('{ip}', 80)); s.listen({backlog}); print('ready', flush=True); time.sleep({secs})
"""

FLOOD = """
import socket, random, struct, sys
sys.path.insert(0, {here!r})
from compare_kernel import syn_packet
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
random.seed(1)
for i in range({n}):
    src = '198.18.%d.%d' % (random.randrange(256), random.randrange(1, 255))
    r.sendto(syn_packet(src, '{dst}', random.randrange(1024, 65535), 80, random.randrange(2**32)), ('{dst}', 0))
"""


def in_ns(ns, code):
    """Runs python `code` inside namespace `ns`, returns its stdout."""
    return sh(sys.executable, "-c", code, ns=ns)


def kernel_plateau(backlog, max_syn_backlog=None, n=2000):
    sysctl(B, "net.ipv4.tcp_syncookies", 0)
    if max_syn_backlog:
        sysctl(B, "net.ipv4.tcp_max_syn_backlog", max_syn_backlog)
    lst = subprocess.Popen(["ip", "netns", "exec", B, sys.executable, "-c",
                            LISTENER.format(ip=B_IP, backlog=backlog, secs=6)],
                           stdout=subprocess.PIPE, text=True)
    lst.stdout.readline()
    in_ns(A, FLOOD.format(here=os.path.dirname(HERE), n=n, dst=B_IP))
    time.sleep(0.5)
    count = len([l for l in sh("ss", "-Htn", "state", "syn-recv", ns=B).splitlines() if l.strip()])
    lst.kill()
    lst.wait()
    sysctl(B, "net.ipv4.tcp_max_syn_backlog", 2048)
    sysctl(B, "net.ipv4.tcp_syncookies", 1)
    return count


SNIFF_CONNECT = """
import socket, time, sys, errno
sys.path.insert(0, {here!r})
from compare_kernel import Sniffer
sn = Sniffer('vssa', 0x02); time.sleep(0.3)
c = socket.socket(); t0 = time.monotonic()
try:
    c.connect(('{silent}', 80)); res = 'connected'
except OSError as e:
    res = errno.errorcode.get(e.errno, str(e.errno))
t1 = time.monotonic(); times = [x[0] for x in sn.stop() if x[3] == '{silent}']
print(res, round(t1 - t0, 4), [round(x - t0, 4) for x in times])
"""

NSTAT_NAMES = {"TCPTimeouts": "TcpExtTCPTimeouts", "TCPSynRetrans": "TcpExtTCPSynRetrans",
               "RetransSegs": "TcpRetransSegs", "OutSegs": "TcpOutSegs",
               "ListenDrops": "TcpExtListenDrops", "ListenOverflows": "TcpExtListenOverflows",
               "TCPReqQFullDrop": "TcpExtTCPReqQFullDrop",
               "TCPReqQFullDoCookies": "TcpExtTCPReqQFullDoCookies",
               "SyncookiesSent": "TcpExtSyncookiesSent", "SyncookiesRecv": "TcpExtSyncookiesRecv",
               "TCPACKSkippedSynRecv": "TcpExtTCPACKSkippedSynRecv"}


def counters(before, after, names):
    return {n: after.get(NSTAT_NAMES[n], 0) - before.get(NSTAT_NAMES[n], 0) for n in names}


def kernel_dead_host(syn_retries):
    sysctl(A, "net.ipv4.tcp_syn_retries", syn_retries)
    before = nstat(A)
    out = in_ns(A, SNIFF_CONNECT.format(here=os.path.dirname(HERE), silent=SILENT)).split(maxsplit=2)
    c = counters(before, nstat(A), FAILED_CONNECT_COUNTERS)
    sysctl(A, "net.ipv4.tcp_syn_retries", 6)
    return out[0], float(out[1]), json.loads(out[2]), c


def kernel_synack(n=3, spacing=0.37, end=16.5):
    """Half-open requests nobody answers: SYN-ACK times after each SYN."""
    sysctl(B, "net.ipv4.tcp_syncookies", 0)
    t0 = time.monotonic() + 1.0
    srv = agent(B, "server", backlog=128, t0=t0, end=end + n * spacing, accept=False, sample=1.0)
    rng = random.Random()
    syns = [(k * spacing, spoofed_source(rng), rng.randrange(1024, 65535), rng.randrange(2**32))
            for k in range(n)]
    cli = run_agent(A, "raw_client", t0=t0, syns=syns, end=0.1 + n * spacing)
    got = agent_result(srv)["synacks"]
    sysctl(B, "net.ipv4.tcp_syncookies", 1)
    out = []
    for t_syn, src, sport in cli["sent"]:
        out.append([round(t - t_syn, 3) for t, dst, dport, _ in got if (dst, dport) == (src, sport)])
    return out


def kernel_flood(backlog, rate, cookies, run):
    sysctl(B, "net.ipv4.tcp_syncookies", cookies)
    sysctl(A, "net.ipv4.tcp_syn_retries", 2)
    before = nstat(B)
    t0 = time.monotonic() + 1.0
    srv = agent(B, "server", backlog=backlog, t0=t0, end=OBSERVE, accept=True)
    cli = run_agent(A, "flood_client", t0=t0, rate=rate, seed=1000 * run + rate + backlog)
    s = agent_result(srv)
    c = counters(before, nstat(B), FLOOD_COUNTERS)
    sysctl(B, "net.ipv4.tcp_syncookies", 1)
    sysctl(A, "net.ipv4.tcp_syn_retries", 6)
    spoofed = [x for x in s["synacks"] if x[1].startswith("198.1")]
    legit = [(st, ok) for st, ok, _ in cli["legit"]]
    return flood_summary(s["samples"], spoofed, cli["sent"], legit, c)


def kernel_cookie_overflow():
    """Three cookie SYN-ACKs (tcp_syncookies 2), then three valid cookie ACKs to a listener
    with backlog 1 that never accepts: the accept queue holds 2, the third ACK overflows it."""
    sysctl(B, "net.ipv4.tcp_syncookies", 2)
    before = nstat(B)
    t0 = time.monotonic() + 1.0
    srv = agent(B, "server", backlog=1, t0=t0, end=0.6, accept=False, sample=0.1)
    rng = random.Random()
    syns = [(k * 0.001, spoofed_source(rng), rng.randrange(1024, 65535), rng.randrange(2**32))
            for k in range(3)]
    run_agent(A, "raw_client", t0=t0, syns=syns, ack_at=0.2, end=0.4)
    agent_result(srv)
    c = counters(before, nstat(B), ("SyncookiesSent", "SyncookiesRecv", "ListenOverflows"))
    sysctl(B, "net.ipv4.tcp_syncookies", 1)
    return c


def kernel_syn_retransmit():
    """One SYN sent again at +100, +200, +300 ms (same tuple and sequence) to a pending
    request: how many SYN-ACKs answer, and TCPACKSkippedSynRecv."""
    sysctl(B, "net.ipv4.tcp_syncookies", 0)
    before = nstat(B)
    t0 = time.monotonic() + 1.0
    srv = agent(B, "server", backlog=16, t0=t0, end=0.7, accept=False, sample=0.1)
    rng = random.Random()
    src, sport, seq = spoofed_source(rng), rng.randrange(1024, 65535), rng.randrange(2**32)
    run_agent(A, "raw_client", t0=t0, syns=[(k * 0.1, src, sport, seq) for k in range(4)], end=0.6)
    synacks = [x for x in agent_result(srv)["synacks"] if (x[1], x[2]) == (src, sport)]
    c = counters(before, nstat(B), ("TCPACKSkippedSynRecv",))
    sysctl(B, "net.ipv4.tcp_syncookies", 1)
    return {"SYN-ACKs": len(synacks), **c}


def kernel_proven():
    sysctl(B, "net.ipv4.tcp_syncookies", 0)
    sysctl(B, "net.ipv4.tcp_max_syn_backlog", 64)
    sh("ip", "tcp_metrics", "flush", "all", ns=B, check=False)
    t0 = time.monotonic() + 1.0
    srv = agent(B, "server", backlog=128, t0=t0, end=6.0, accept=True, sample=0.5)
    res = run_agent(A, "proven", t0=t0, clean=legit_addr(230), reset=legit_addr(231), flood=200)
    metrics = sh("ip", "tcp_metrics", "show", ns=B, check=False)
    agent_result(srv)
    sysctl(B, "net.ipv4.tcp_max_syn_backlog", 2048)
    sysctl(B, "net.ipv4.tcp_syncookies", 1)
    res["metrics_for"] = [a for a in (legit_addr(230), legit_addr(231)) if a + " " in metrics]
    return res


def kernel_options(client_sysctls, server_sysctls, maxseg):
    """One connect (TCP_MAXSEG `maxseg`), "HelloWorld", close from ssa to a listener in ssb,
    captured by tcpdump on vssb; the accepted socket's TCP_MAXSEG and tcpi_options."""
    for k, v in client_sysctls.items():
        sysctl(A, "net.ipv4." + k, v)
    for k, v in server_sysctls.items():
        sysctl(B, "net.ipv4." + k, v)
    try:
        with tempfile.TemporaryDirectory() as d:
            cap = os.path.join(d, "options.pcap")
            # `ip netns exec` execs tcpdump: the PID is tcpdump's. -Z root: it may write into d.
            # --immediate-mode: without it, what still sits in the TPACKET_V3 ring when SIGINT
            # comes is never written (0 packets captured).
            td = subprocess.Popen(["ip", "netns", "exec", B, "tcpdump", "-i", "vssb",
                                   "--immediate-mode", "-U", "-Z", "root", "-w", cap,
                                   "tcp", "port", "80"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            try:
                while "listening on" not in (line := td.stderr.readline()):
                    if not line:
                        raise RuntimeError("tcpdump did not start")
                srv = agent(B, "opt_server")
                srv.stdout.readline()  # ready
                run_agent(A, "opt_client", maxseg=maxseg)
                sock = agent_result(srv)
                time.sleep(0.3)  # the last ACK of the close
            finally:
                os.kill(td.pid, signal.SIGINT)
                td.wait(timeout=10)
                td.stderr.close()
            hs = handshake_options(cap)
            if not all(k in hs for k in ("SYN", "SYN-ACK", "ACK")):
                raise RuntimeError(f"handshake incomplete in the capture: {hs}")
    finally:
        for k in client_sysctls:
            sysctl(A, "net.ipv4." + k, 1)
        for k in server_sysctls:
            sysctl(B, "net.ipv4." + k, 1)
    yn = lambda b: "yes" if b else "no"
    return {**hs, "mss": sock["mss"], "timestamps": yn(sock["timestamps"]),
            "sack": yn(sock["sack"]), "wscale": yn(sock["wscale"]), "received": sock["received"]}


# ---------------------------------------------------------------- experiments and the table

def spread(xs):
    """A kernel figure over runs: the value if all agree, else min-max."""
    xs = [x for x in xs if x is not None]
    if not xs:
        return "n/a"
    if all(isinstance(x, (int, float)) for x in xs):
        lo, hi = min(xs), max(xs)
        return str(lo) if lo == hi else f"{lo}-{hi}"
    return str(xs[0]) if len(set(xs)) == 1 else "; ".join(str(x) for x in xs)


def exp_plateau(args, rows):
    for backlog, msb in ((16, None), (128, None), (128, 64)):
        name = (f"quarter rule: backlog 128, max_syn_backlog 64" if msb else
                f"SYN-queue plateau, backlog {backlog}, cookies off")
        k = [kernel_plateau(backlog, msb) for _ in range(args.runs)]
        rows.append((name, spread(k), synsim_plateau(args.synsim, backlog, msb or 2048)))


def lateness(times, nominal):
    return [round(1000 * (t - n)) for t, n in zip(times, nominal)]


def exp_dead_host(args, rows):
    nominal = {2: [0, 1, 2, 3, 4, 5], 3: [0, 1, 2, 3, 4, 5, 7, 11]}
    give_up = {2: 7, 3: 19}
    for r in (2, 3):
        ks = [kernel_dead_host(r) for _ in range(args.runs)]
        s = synsim_dead_host(args.synsim, r)
        rows.append((f"silent host, syn_retries {r}: outcome", spread([k[0] for k in ks]), s[0]))
        for i, n in enumerate(nominal[r]):
            rows.append((f"silent host, syn_retries {r}: SYN at {n} s, late (ms)",
                         spread([lateness(k[2], nominal[r])[i] if len(k[2]) > i else None
                                 for k in ks]), lateness(s[2], nominal[r])[i]))
        rows.append((f"silent host, syn_retries {r}: SYNs sent", spread([len(k[2]) for k in ks]),
                     len(s[2])))
        rows.append((f"silent host, syn_retries {r}: ETIMEDOUT at {give_up[r]} s, late (ms)",
                     spread([round(1000 * (k[1] - give_up[r])) for k in ks]),
                     round(1000 * (s[1] - give_up[r]))))
        for n in FAILED_CONNECT_COUNTERS:
            rows.append((f"silent host, syn_retries {r}: {n}", spread([k[3][n] for k in ks]),
                         s[3][n]))


def exp_synack(args, rows):
    nominal = [0, 1, 3, 7, 15]
    ks = [t for _ in range(args.runs) for t in kernel_synack()]
    s = synsim_synack(args.synsim)
    for i, n in enumerate(nominal):
        rows.append((f"unanswered request: SYN-ACK at {n} s, late (ms)",
                     spread([lateness(k, nominal)[i] if len(k) > i else None for k in ks]),
                     lateness(s, nominal)[i]))


FLOOD_CONFIGS = [(b, r, c) for c in (0, 1) for b in (16, 128) for r in (200, 2000)]
FLOOD_FIGURES = [("SYN-RECV median during flood", "flood_median"),
                 ("SYN-RECV level after flood", "level_after"),
                 ("time to settle after flood (s)", "settle_s"),
                 ("spoofed SYNs sent", "spoofed_sent"),
                 ("spoofed SYNs that got a request (%)", "requests_pct"),
                 ("legit success, started in flood (%)", "legit_in_flood_pct"),
                 ("legit success, 7 s window inside flood (%)", "legit_window_inside_pct")]


def exp_flood(args, rows):
    for b, r, c in FLOOD_CONFIGS:
        tag = f"B={b}, {r}/s, cookies {'on' if c else 'off'}"
        ks = []
        for run in range(args.runs):
            ks.append(kernel_flood(b, r, c, run))
            print(f"# kernel {tag} run {run + 1}: {json.dumps(ks[-1])}", flush=True)
        # synsim's run-to-run spread: one run per seed (each host's jiffies phase, the
        # flood's and clients' streams all follow the seed).
        ss = []
        for seed in range(1, args.synsim_seeds + 1):
            ss.append(synsim_flood(args.synsim, b, r, c, seed))
            print(f"# synsim {tag} seed {seed}: {json.dumps(ss[-1])}", flush=True)
        for label, key in FLOOD_FIGURES:
            rows.append((f"{tag}: {label}", spread([k[key] for k in ks]),
                         spread([x[key] for x in ss])))
        for part in ("2", "3", "4", "5+"):
            rows.append((f"{tag}: requests with {part} SYN-ACKs (%)",
                         spread([k["split_pct"][part] for k in ks]),
                         spread([x["split_pct"][part] for x in ss])))
        for n in FLOOD_COUNTERS:
            rows.append((f"{tag}: {n}", spread([k["counters"][n] for k in ks]),
                         spread([x["counters"][n] for x in ss])))


def exp_counters(args, rows):
    ks = [kernel_cookie_overflow() for _ in range(args.runs)]
    s = synsim_cookie_overflow(args.synsim)
    for n in s:
        rows.append((f"3 cookie ACKs, accept queue holds 2: {n}", spread([k[n] for k in ks]), s[n]))
    ks = [kernel_syn_retransmit() for _ in range(args.runs)]
    s = synsim_syn_retransmit(args.synsim)
    for n in s:
        rows.append((f"SYN sent 4 times 100 ms apart to a request: {n}", spread([k[n] for k in ks]),
                     s[n]))
    ks = [kernel_proven() for _ in range(args.runs)]
    s = synsim_proven(args.synsim)
    rows.append(("proven peer: tcp_metrics entry written for", spread([" ".join(k["metrics_for"])
                                                                      or "none" for k in ks]), "-"))
    for who in ("clean", "reset"):
        rows.append((f"proven peer: source closed by {'FIN' if who == 'clean' else 'RST'}, "
                     f"connect with queue at the quarter cap",
                     spread([k[who][0] for k in ks]), s.get(who)))


ICMP_CONNECT = r"""
import socket, time, select, errno, sys, json
mode, dst = sys.argv[1], sys.argv[2]
s = socket.socket()
t0 = time.monotonic()
if mode == "blocking":
    try:
        s.connect((dst, 80)); e = 0
    except OSError as x:
        e = x.errno
else:
    s.setblocking(False)
    s.connect_ex((dst, 80))
    p = select.poll(); p.register(s, select.POLLOUT | select.POLLERR)
    p.poll(30000)
    e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
print(json.dumps({"errno": errno.errorcode.get(e, str(e)), "t": round(time.monotonic() - t0, 3)}))
"""

# The router's answer for each destination prefix: route types on ssb (forwarding on), each of
# which the kernel answers with one ICMP code (ip_error: EHOSTUNREACH -> host unreachable,
# EACCES -> administratively prohibited; a `throw` route leaves no route: net unreachable).
ICMP_ROUTES = {"host_unreachable": ("unreachable", "10.99.1.0/24", "10.99.1.1"),
               "admin_prohibited": ("prohibit", "10.99.13.0/24", "10.99.13.1"),
               "net_unreachable": ("throw", "10.99.0.0/24", "10.99.0.1")}
ICMP_COUNTERS = {"LockDroppedIcmps": "TcpExtLockDroppedIcmps", "AttemptFails": "TcpAttemptFails",
                 "TCPSynRetrans": "TcpExtTCPSynRetrans", "OutSegs": "TcpOutSegs"}


def kernel_icmp(code, mode):
    """One connect from ssa through ssb to a destination ssb answers with ICMP `code`."""
    dst = ICMP_ROUTES[code][2]
    before = nstat(A)
    out = json.loads(sh(sys.executable, "-c", ICMP_CONNECT, mode, dst, ns=A))
    after = nstat(A)
    out["counters"] = {n: after.get(k, 0) - before.get(k, 0) for n, k in ICMP_COUNTERS.items()}
    time.sleep(6)  # the router's per-destination ICMP budget (1/s, burst 6) refills
    return out


def synsim_icmp(binary, code, mode):
    # 1 us one way stands for the veth pair, where the router's answer is processed inside the
    # call that sent the SYN.
    scn = {"duration_ms": 20000, "hosts": [
        {"name": "a", "addrs": [A_IP], "stack": {"syn_retries": 2}}],
        "network": {"latency_ms": 0.001, "icmp_unreachable": True, "icmp_code": code},
        "clients": [{"name": "c", "host": "a", "target": ICMP_ROUTES[code][2] + ":80",
                     "connect_mode": mode, "arrivals": {"kind": "times", "times_ms": [0]}}]}
    s, ev, _ = synsim(binary, scn)
    o = [e for e in ev if e["event"] == "outcome"][0]
    return {"errno": o.get("error"), "t": round((o["t_ns"] - o["start_ns"]) / 1e9, 3),
            "counters": {n: s["counters"].get(n, 0) for n in ICMP_COUNTERS}}


def exp_icmp(args, rows):
    sysctl(A, "net.ipv4.tcp_syn_retries", 2)
    sysctl(B, "net.ipv4.ip_forward", 1)
    sh("ip", "route", "add", "10.99.0.0/16", "via", B_IP, ns=A)
    for kind, prefix, _ in ICMP_ROUTES.values():
        sh("ip", "route", "add", kind, prefix, ns=B)
    try:
        for code in ICMP_ROUTES:
            for mode in ("blocking", "nonblocking"):
                ks = [kernel_icmp(code, mode) for _ in range(args.runs)]
                s = synsim_icmp(args.synsim, code, mode)
                tag = f"ICMP {code}, {mode} connect"
                rows.append((f"{tag}: error", spread([k["errno"] for k in ks]), s["errno"]))
                rows.append((f"{tag}: fails after (s)", spread([k["t"] for k in ks]), s["t"]))
                for n in ICMP_COUNTERS:
                    rows.append((f"{tag}: {n}", spread([k["counters"][n] for k in ks]),
                                 s["counters"][n]))
    finally:
        sysctl(B, "net.ipv4.ip_forward", 0)
        sysctl(A, "net.ipv4.tcp_syn_retries", 6)


# (tag, client sysctls, server sysctls, client TCP_MAXSEG, synsim client stack, server stack);
# all these sysctls default to 1 in a fresh namespace.
OPTION_CASES = [
    ("defaults", {}, {}, None, {}, {}),
    ("client tcp_timestamps 0", {"tcp_timestamps": 0}, {}, None, {"timestamps": False}, {}),
    ("client tcp_sack 0", {"tcp_sack": 0}, {}, None, {"sack": False}, {}),
    ("client tcp_window_scaling 0", {"tcp_window_scaling": 0}, {}, None,
     {"window_scaling": False}, {}),
    ("cookies 2, client MSS 1400", {}, {"tcp_syncookies": 2}, 1400, {"mtu": 1440},
     {"syncookies": "always"}),
    ("cookies 2, client tcp_timestamps 0", {"tcp_timestamps": 0}, {"tcp_syncookies": 2}, None,
     {"timestamps": False}, {"syncookies": "always"}),
]
OPTION_FIGURES = [
    ("SYN options", lambda r: r.get("SYN", ("n/a",))[0]),
    ("SYN window", lambda r: r.get("SYN", (0, None))[1]),
    ("SYN-ACK options", lambda r: r.get("SYN-ACK", ("n/a",))[0]),
    ("SYN-ACK window", lambda r: r.get("SYN-ACK", (0, None))[1]),
    ("third ACK window", lambda r: r.get("ACK", (0, None))[1]),
    ("server socket MSS, raw (Linux: TCP_MAXSEG, MSS - 12 with timestamps; synsim: "
     "listeners[0].options.mss)", lambda r: r["mss"]),
    ("server socket has timestamps", lambda r: r["timestamps"]),
    ("server socket has SACK", lambda r: r["sack"]),
    ("server socket has wscale", lambda r: r["wscale"]),
]


def exp_options(args, rows):
    for tag, csys, ssys, maxseg, cstack, sstack in OPTION_CASES:
        ks = []
        for run in range(args.runs):
            ks.append(kernel_options(csys, ssys, maxseg))
            print(f"# kernel {tag} run {run + 1}: {json.dumps(ks[-1])}", flush=True)
        s = synsim_options(args.synsim, cstack, sstack)
        print(f"# synsim {tag}: {json.dumps(s)}", flush=True)
        for label, get in OPTION_FIGURES:
            rows.append((f"options, {tag}: {label}", spread([get(k) for k in ks]), get(s)))


EXPERIMENTS = {"plateau": exp_plateau, "dead_host": exp_dead_host, "synack": exp_synack,
               "flood": exp_flood, "counters": exp_counters, "icmp": exp_icmp,
               "options": exp_options}


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--agent":
        print(json.dumps(AGENTS[sys.argv[2]](**json.loads(sys.argv[3]))), flush=True)
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--synsim", default="target/release/simulate")
    ap.add_argument("--only", choices=sorted(EXPERIMENTS), action="append")
    ap.add_argument("--runs", type=int, default=2, help="kernel runs per experiment")
    ap.add_argument("--synsim-seeds", type=int, default=3,
                    help="synsim runs (seeds 1..N) per flood experiment")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces, raw sockets)")
    print("kernel:", os.uname().release, time.strftime("%Y-%m-%d", time.gmtime()))
    setup()
    rows = []
    try:
        for name in args.only or EXPERIMENTS:
            st = time.monotonic()
            EXPERIMENTS[name](args, rows)
            print(f"# {name}: {time.monotonic() - st:.0f} s wall", flush=True)
    finally:
        teardown()
        print(f"| experiment | Linux ({args.runs} runs) | synsim |\n|---|---|---|")
        for name, k, s in rows:
            print(f"| {name} | {k} | {s} |")


if __name__ == "__main__":
    main()
