#!/usr/bin/env bash
# The performance table of docs/PERFORMANCE.md, measured in one sitting: synsim's flood
# benchmark against the hand-written reference port, the handshake benchmark, and the scaling
# rows (duration, attack rate, live half-open entries, client hosts, spoofed range size).
#
#   scripts/bench_compare.sh [RUNS]        # RUNS alternating runs per row (default 5)
#
# Environment: PORT_DIR (default ../shared/peers/rust-port), SIMULATE (default
# target/release/simulate, built if missing), NS3_PROGRAM (the ns-3 row's program; by default
# scripts/ns3/handshakes.cc is built when Debian's libns3-dev is installed, and the row is
# skipped with a message when it is not).
#
# Every row runs its commands in turn (A B A B ...), so a drift in the machine's speed hits
# both alike; it prints medians and the median of the pairwise ratios. On a shared machine
# the ratios are the figures to quote. Peak RSS comes from each run's own accounting
# (getrusage of the child).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
port_dir=${PORT_DIR:-../shared/peers/rust-port}
sim=${SIMULATE:-target/release/simulate}
[ -x "$sim" ] || cargo build --release --bin simulate
port=""
if [ -d "$port_dir" ]; then
    (cd "$port_dir" && cargo build --release -q)
    port="$port_dir/target/release/synflood"
else
    echo "no reference port at $port_dir: its row is skipped" >&2
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
ns3=${NS3_PROGRAM:-}
if [ -z "$ns3" ] && [ -f /usr/include/ns3/core-module.h ] && command -v g++ >/dev/null; then
    # the libraries named directly: pkg-config's ns3 files also name GSL, which the
    # libraries do not need at link time
    g++ -O2 -std=c++17 -I/usr/include scripts/ns3/handshakes.cc -o "$out/ns3-handshakes" \
        -lns3-core -lns3-network -lns3-internet -lns3-point-to-point
    ns3="$out/ns3-handshakes"
fi

python3 - "$runs" "$sim" "$port" "$out" "$ns3" <<'EOF'
import copy, json, os, statistics, subprocess, sys, time

runs, sim, port, out, ns3 = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
flood = "scenarios/bench_flood.json"
hs = "scenarios/bench_handshakes.json"

def synsim(scenario, *sets):
    cmd = [sim, scenario, "--no-charts", "-q", "--out", os.path.join(out, "run")]
    for s in sets:
        cmd += ["--set", s]
    return cmd

def timed(cmd):
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    if status != 0:
        sys.exit(f"failed ({status}): {' '.join(cmd)}")
    return wall, ru.ru_maxrss / 1024

def row(name, a, b=None):
    """Alternating runs of `a` (and `b`); prints medians, and the ratio a/b."""
    timed(a)  # warm-up
    if b:
        timed(b)
    wa, wb, ratios, ra, rb = [], [], [], [], []
    for _ in range(runs):
        w, r = timed(a)
        wa.append(w); ra.append(r)
        if b:
            w2, r2 = timed(b)
            wb.append(w2); rb.append(r2)
            ratios.append(w / w2)
    med = statistics.median
    line = f"| {name} | {med(wa):.3f} s, {max(ra):.1f} MiB |"
    if b:
        line += f" {med(wb):.3f} s, {max(rb):.1f} MiB | {med(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f}) |"
    else:
        line += " | |"
    print(line, flush=True)
    return med(wa), (med(wb) if b else None)

print(f"{runs} alternating runs per row; medians; ratio = median of pairwise A/B (min-max)\n")
print("| row | A: wall, peak RSS | B: wall, peak RSS | A/B |")
print("|---|---|---|---|")
if port:
    row("bench_flood (A) vs the reference port `synflood 10000 100 60` (B)", synsim(flood),
        [port, "10000", "100", "60"])
a, _ = row("bench_handshakes, 60 s (600 k handshakes + closes)", synsim(hs))
print(f"|  | {600_000 / a / 1e6:.2f} M handshakes per wall second (whole run) | | |")
# Scaling: each row against the shipped bench_flood (B), one knob changed.
d = "duration_ms=600000", "attackers[0].stop_ms=600000", "clients[0].arrivals.stop_ms=600000", "max_events=100000000"
row("duration 600 s (A) vs 60 s (B)", synsim(flood, *d), synsim(flood))
row("attack 100 k SYN/s (A) vs 10 k (B)", synsim(flood, "attackers[0].rate_per_s=100000",
    "max_events=100000000"), synsim(flood))
row("backlog 1 M live half-open entries, 100 k SYN/s (A) vs bench_flood (B: backlog 1024, 10 k SYN/s)",
    synsim(flood, "listeners[0].backlog=1048576", "attackers[0].rate_per_s=100000",
           "max_events=100000000"), synsim(flood))
# bench_handshakes with its clients spread over 1000 client hosts (10 connections/s each).
base = json.load(open(hs))
many = copy.deepcopy(base)
client_host, client = base["hosts"][0], base["clients"][0]
many["hosts"] = [dict(client_host, name=f"c{i}", addrs=[f"10.{1 + i // 250}.{i % 250}.2"])
                 for i in range(1000)] + base["hosts"][1:]
many["clients"] = [dict(client, name=f"legit{i}", host=f"c{i}",
                        arrivals=dict(client["arrivals"], rate_per_s=client["arrivals"]["rate_per_s"] / 1000))
                   for i in range(1000)]
many_path = os.path.join(out, "many_hosts.json")
json.dump(many, open(many_path, "w"))
row("bench_handshakes over 1000 client hosts (A) vs 1 (B)", synsim(many_path), synsim(hs))
row("spoofed range 2^24 (A) vs 2^16 (B)", synsim(flood, "attackers[0].spoof.count=16777216"),
    synsim(flood))
row("spoofed range 2^24, 600 s (A) vs 60 s (B)",
    synsim(flood, "attackers[0].spoof.count=16777216", *d),
    synsim(flood, "attackers[0].spoof.count=16777216"))
if ns3 and os.access(ns3, os.X_OK):
    # The same second of bench_handshakes (10 000 connections/s, handshake and close, TIME-WAIT
    # 1 s) in ns-3 and in synsim; one second only, because ns-3 looks every segment's socket up
    # in a list of all of them (Ipv4EndPointDemux::Lookup), so it slows down with the
    # connections alive at once.
    one_s = synsim(hs, "duration_ms=6000", "clients[0].arrivals.stop_ms=1000")
    a, b = row("ns-3 3.37 `handshakes 10000 1` (A) vs bench_handshakes' first second (B), ~10 k handshakes each",
               [ns3, "10000", "1"], one_s)
    got = subprocess.run([ns3, "10000", "1"], capture_output=True, text=True).stdout.split()
    n3 = int(got[got.index("established") + 1])
    summary = json.load(open(os.path.join(out, "run", "summary.json")))
    ns = summary["outcomes"]["established"]
    print(f"|  | ns-3: {n3:,} handshakes, {n3 / a:,.0f} per wall second | synsim: {ns:,}, "
          f"{ns / b:,.0f} per wall second | {(ns / b) / (n3 / a):,.0f}x the handshake rate |")
else:
    print("| ns-3 | skipped: no ns-3 (install Debian's libns3-dev, or set NS3_PROGRAM) | | |")
EOF
