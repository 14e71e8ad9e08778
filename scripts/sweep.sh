#!/bin/sh
# Scaling sweep: generates flood scenarios in a temporary directory, runs each with
# `simulate --stats` REPS times (default 3) and prints a Markdown table with the median wall
# time, events/s and the median peak RSS.
#
#   cargo build --release && scripts/sweep.sh            # every sweep
#   scripts/sweep.sh rate                                # one of: rate backlog duration clients
#
# Every run: one server (profile rfc9293, no cookies), spoofed SYNs from unreachable sources
# (Poisson), 1 ms latency, no loss; outputs go to the temporary directory, charts off.
set -eu
bin=${SIMULATE:-${CARGO_TARGET_DIR:-target}/release/simulate}
reps=${REPS:-3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/synsim-sweep.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# scenario NAME RATE BACKLOG SYNACK_RETRIES DURATION_MS CLIENT_HOSTS LEGIT_RATE_TOTAL
scenario() {
    name=$1 rate=$2 backlog=$3 retries=$4 dur=$5 nclients=$6 legit=$7
    f="$tmp/$name.json"
    {
        printf '{ "seed": 7, "duration_ms": %s, "max_events": 100000000000,\n' "$dur"
        printf '  "hosts": [\n'
        printf '    { "name": "server", "addrs": ["10.0.0.1"], "profile": "rfc9293", "stack": { "synack_retries": %s } },\n' "$retries"
        i=0
        while [ "$i" -lt "$nclients" ]; do
            printf '    { "name": "c%s", "addrs": ["10.1.%s.%s"], "stack": { "syn_linear_timeouts": 0, "syn_max_retransmissions": 3, "syn_give_up_ms": 15000, "msl_ms": 500 } },\n' \
                "$i" $((i / 250)) $((i % 250 + 1))
            i=$((i + 1))
        done
        printf '    { "name": "attacker", "addrs": ["10.0.0.66"] }\n  ],\n'
        printf '  "network": { "latency_ms": 1 },\n'
        printf '  "listeners": [ { "host": "server", "port": 80, "backlog": %s } ],\n' "$backlog"
        printf '  "clients": [\n'
        i=0
        while [ "$i" -lt "$nclients" ]; do
            sep=,; [ $((i + 1)) -eq "$nclients" ] && sep=
            printf '    { "name": "c%s", "host": "c%s", "target": "10.0.0.1:80", "send": null,\n' "$i" "$i"
            printf '      "arrivals": { "kind": "poisson", "rate_per_s": %s } }%s\n' \
                "$(awk "BEGIN { print $legit / $nclients }")" "$sep"
            i=$((i + 1))
        done
        printf '  ],\n'
        printf '  "attackers": [ { "name": "flood", "host": "attacker", "target": "10.0.0.1:80", "rate_per_s": %s,\n' "$rate"
        printf '    "spoof": { "kind": "range", "base": "198.18.0.0", "count": 65536 } } ]\n}\n'
    } > "$f"
    echo "$f"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

run() {
    label=$1 f=$2
    : > "$tmp/walls"; : > "$tmp/rss"
    r=0
    while [ "$r" -lt "$reps" ]; do
        "$bin" "$f" --no-charts --quiet --stats --out "$tmp/out" > "$tmp/stats"
        awk '/wall time/ { print $3 }' "$tmp/stats" >> "$tmp/walls"
        awk '/peak RSS/ { print $3 }' "$tmp/stats" >> "$tmp/rss"
        r=$((r + 1))
    done
    events=$(awk '/events processed/ { print $3 }' "$tmp/stats")
    live=$(awk '/peak live connections/ { print $4 }' "$tmp/stats")
    wall=$(median < "$tmp/walls")
    rss=$(median < "$tmp/rss")
    awk -v l="$label" -v e="$events" -v w="$wall" -v r="$rss" -v c="$live" \
        'BEGIN { printf "| %s | %d | %d | %.3f | %.2f | %.1f |\n", l, e, c, w, e / w / 1e6, r }'
}

header() {
    echo
    echo "$1"
    echo
    echo "| run | events | peak live conns | wall s (median) | M events/s | peak RSS MiB |"
    echo "|---|---:|---:|---:|---:|---:|"
}

what=${1:-all}
if [ "$what" = all ] || [ "$what" = rate ]; then
    header "Attack rate (backlog 1024, SYN-ACK retries 3, 100 legit conn/s, 60 s)"
    for rate in 1000 10000 100000 1000000; do
        run "$rate SYN/s" "$(scenario rate$rate $rate 1024 3 60000 1 100)"
    done
fi
if [ "$what" = all ] || [ "$what" = backlog ]; then
    header "Backlog (100 000 SYN/s, SYN-ACK retries 5: entries live 63 s, 100 legit conn/s, 60 s)"
    for backlog in 128 1024 10000 100000 1000000; do
        run "backlog $backlog" "$(scenario backlog$backlog 100000 "$backlog" 5 60000 1 100)"
    done
fi
if [ "$what" = all ] || [ "$what" = duration ]; then
    header "Simulated duration (bench_flood workload: 10 000 SYN/s, backlog 1024, 100 legit conn/s)"
    for dur in 60000 600000 3600000; do
        run "$((dur / 1000)) s" "$(scenario dur$dur 10000 1024 3 "$dur" 1 100)"
    done
fi
if [ "$what" = all ] || [ "$what" = clients ]; then
    header "Client hosts (10 000 SYN/s, backlog 1024, 1 000 legit conn/s in total, 60 s)"
    for n in 1 10 100 1000; do
        run "$n client hosts" "$(scenario clients$n 10000 1024 3 60000 "$n" 1000)"
    done
fi
