#!/bin/sh
# Runs every shipped scenario with the trace on into DIR/<name>/, so that two builds can be
# compared byte for byte:
#   scripts/snapshot_outputs.sh /tmp/before   # on the old build
#   scripts/snapshot_outputs.sh /tmp/after    # on the new build
#   diff -r /tmp/before /tmp/after && echo identical
# Benchmark scenarios (bench_*) are skipped unless BENCH=1: their traces are large.
set -eu
dir=${1:?usage: snapshot_outputs.sh DIR}
bin=${SIMULATE:-${CARGO_TARGET_DIR:-target}/release/simulate}
mkdir -p "$dir"
for f in scenarios/*.json; do
    name=$(basename "$f" .json)
    case "$name" in bench_*) [ "${BENCH:-0}" = 1 ] || continue ;; esac
    rm -rf "${dir:?}/$name"
    "$bin" "$f" --trace --out "$dir/$name" --quiet
done
