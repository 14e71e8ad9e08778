#!/usr/bin/env python3
"""Compare synsim with the running Linux kernel, inside two network namespaces this script
creates (and deletes): `ssa` (client / attacker side) and `ssb` (server side), joined by a veth
pair. Needs root and iproute2; sends traffic only between these namespaces.

Experiments (each also run in synsim, with the same knobs):
  1. SYN-queue plateau: a listener with backlog B (16 and 128) that never accepts, cookies off,
     flooded with spoofed SYNs whose SYN-ACKs go nowhere: count SYN-RECV sockets (`ss`).
  2. Quarter rule: backlog 128, tcp_max_syn_backlog 64, cookies off: unproven sources stop at
     64 - 64/4 + 1 = 49.
  3. Connect to a silent host with tcp_syn_retries 2 (and 3): SYN send times and ETIMEDOUT.

Usage: sudo python3 scripts/compare_kernel.py [--synsim target/release/simulate]
"""
import argparse, json, os, random, socket, struct, subprocess, sys, tempfile, time

A, B = "ssa", "ssb"
A_IP, B_IP, SILENT = "10.77.0.1", "10.77.0.2", "10.77.0.9"


def sh(*cmd, check=True, ns=None):
    if ns:
        cmd = ("ip", "netns", "exec", ns) + cmd
    return subprocess.run(cmd, check=check, capture_output=True, text=True).stdout


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
    # Replies to spoofed sources leave ssb by a default route into ssa, which does not forward:
    # they vanish, like SYN-ACKs sent to unreachable addresses.
    sh("ip", "route", "add", "default", "dev", "vssb", ns=B)
    # The silent host: a neighbour entry so SYNs leave ssa, to an address nobody owns.
    mac_b = json.loads(sh("ip", "-j", "link", "show", "vssb", ns=B))[0]["address"]
    sh("ip", "neigh", "add", SILENT, "lladdr", mac_b, "dev", "vssa", ns=A)


def teardown():
    for ns in (A, B):
        sh("ip", "netns", "del", ns, check=False)


def sysctl(ns, key, value):
    sh("sysctl", "-q", "-w", f"{key}={value}", ns=ns)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def syn_packet(src, dst, sport, dport, seq):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 65535, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.randrange(65536), 0, 64, 6, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + tcp


def in_ns(ns, code):
    """Runs python `code` inside namespace `ns`, returns its stdout."""
    return sh(sys.executable, "-c", code, ns=ns)


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


def kernel_plateau(backlog, max_syn_backlog=None, n=2000):
    sysctl(B, "net.ipv4.tcp_syncookies", 0)
    if max_syn_backlog:
        sysctl(B, "net.ipv4.tcp_max_syn_backlog", max_syn_backlog)
    lst = subprocess.Popen(["ip", "netns", "exec", B, sys.executable, "-c",
                            LISTENER.format(ip=B_IP, backlog=backlog, secs=6)],
                           stdout=subprocess.PIPE, text=True)
    lst.stdout.readline()
    here = os.path.dirname(os.path.abspath(__file__))
    in_ns(A, FLOOD.format(here=here, n=n, dst=B_IP))
    time.sleep(0.5)
    count = len([l for l in sh("ss", "-Htn", "state", "syn-recv", ns=B).splitlines() if l.strip()])
    lst.kill()
    lst.wait()
    sysctl(B, "net.ipv4.tcp_max_syn_backlog", 2048)
    return count


SNIFF_CONNECT = """
import socket, time, threading, struct, errno
times = []
def sniff():
    p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))  # ETH_P_ALL: outgoing frames too
    p.bind(('vssa', 0)); p.settimeout(0.2)
    while not done:
        try:
            f, addr = p.recvfrom(2048)
        except socket.timeout:
            continue
        if addr[2] != socket.PACKET_OUTGOING: continue
        ip = f[14:]
        if f[12:14] == b'\\x08\\x00' and ip[9] == 6 and socket.inet_ntoa(ip[16:20]) == '{silent}' and ip[20 + 13] & 0x02:
            times.append(time.monotonic())
done = False
t = threading.Thread(target=sniff); t.start(); time.sleep(0.3)
c = socket.socket(); t0 = time.monotonic()
try:
    c.connect(('{silent}', 80)); res = 'connected'
except OSError as e:
    res = errno.errorcode.get(e.errno, str(e.errno))
t1 = time.monotonic(); done = True; t.join()
print(res, round(t1 - t0, 3), [round(x - t0, 3) for x in times])
"""


def kernel_dead_host(syn_retries):
    sysctl(A, "net.ipv4.tcp_syn_retries", syn_retries)
    out = in_ns(A, SNIFF_CONNECT.format(silent=SILENT)).split(maxsplit=2)
    sysctl(A, "net.ipv4.tcp_syn_retries", 6)
    return out[0], float(out[1]), json.loads(out[2])


def synsim(binary, scenario):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "s.json")
        json.dump(scenario, open(path, "w"))
        subprocess.run([binary, path, "--out", os.path.join(d, "out"), "--no-charts", "--trace", "-q"], check=True)
        summary = json.load(open(os.path.join(d, "out", "summary.json")))
        events = [json.loads(l) for l in open(os.path.join(d, "out", "events.jsonl"))]
    return summary, events


def synsim_plateau(binary, backlog, max_syn_backlog=2048):
    scn = {"duration_ms": 2000, "hosts": [
        {"name": "a", "addrs": [A_IP]},
        {"name": "b", "addrs": [B_IP], "stack": {"syncookies": "off", "max_syn_backlog": max_syn_backlog}}],
        "network": {"latency_ms": 0.05},
        "listeners": [{"host": "b", "port": 80, "backlog": backlog, "accept": {"mode": "never"}}],
        "attackers": [{"name": "f", "host": "a", "target": B_IP + ":80", "rate_per_s": 20000,
                       "arrivals": "constant", "start_ms": 0, "stop_ms": 100,
                       "spoof": {"kind": "range", "base": "198.18.0.0", "count": 65536}}]}
    s, _ = synsim(binary, scn)
    return s["listeners"][0]["syn_queue_peak"]


def synsim_dead_host(binary, syn_retries):
    scn = {"duration_ms": 200000, "hosts": [
        {"name": "a", "addrs": [A_IP], "stack": {"syn_retries": syn_retries}}],
        "network": {"latency_ms": 0.05},
        "clients": [{"name": "c", "host": "a", "target": SILENT + ":80",
                     "arrivals": {"kind": "times", "times_ms": [0]}}]}
    s, ev = synsim(binary, scn)
    syns = [e["t_ns"] / 1e9 for e in ev if e["event"] == "send" and e["flags"] == "SYN"]
    end = [e["t_ns"] / 1e9 for e in ev if e["event"] == "outcome"][0]
    outcome = [k for k, v in s["outcomes"].items() if v][0]
    return outcome, end, syns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--synsim", default="target/release/simulate")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces, raw sockets)")
    print("kernel:", os.uname().release)
    setup()
    try:
        rows = []
        for backlog in (16, 128):
            rows.append((f"SYN-queue plateau, backlog {backlog}, cookies off",
                         kernel_plateau(backlog), synsim_plateau(args.synsim, backlog)))
        rows.append(("quarter rule: backlog 128, max_syn_backlog 64",
                     kernel_plateau(128, max_syn_backlog=64), synsim_plateau(args.synsim, 128, 64)))
        for r in (2, 3):
            k = kernel_dead_host(r)
            s = synsim_dead_host(args.synsim, r)
            rows.append((f"silent host, syn_retries {r}: outcome", k[0], s[0]))
            rows.append((f"silent host, syn_retries {r}: SYN times (s)",
                         [round(x, 2) for x in k[2]], [round(x, 2) for x in s[2]]))
            rows.append((f"silent host, syn_retries {r}: gives up at (s)", round(k[1], 2), round(s[1], 2)))
        print(f"{'experiment':55} {'Linux':>30} {'synsim':>30}")
        for name, k, s in rows:
            print(f"{name:55} {str(k):>30} {str(s):>30}")
    finally:
        teardown()


if __name__ == "__main__":
    main()
