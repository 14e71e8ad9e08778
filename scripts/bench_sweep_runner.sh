#!/usr/bin/env bash
# The sweep runner's overhead: scenarios/sweeps/defences.json (100 runs of a 40 s flood, no
# per-run charts) on all cores and on one, against the same 100 runs as separate `simulate`
# invocations one after another. Alternates the three, prints each wall time and the medians.
#
#   scripts/bench_sweep_runner.sh [ROUNDS]      (default 3; needs target/release/simulate)
set -euo pipefail
cd "$(dirname "$0")/.."
sim=target/release/simulate
[ -x "$sim" ] || cargo build --release --bin simulate
rounds=${1:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sequential() {
  python3 - "$sim" "$tmp/seq" <<'PY'
import json, subprocess, sys
sim, out = sys.argv[1], sys.argv[2]
sw = json.load(open("scenarios/sweeps/defences.json"))
base = json.load(open("scenarios/defences/none.json"))["seed"]
for case in sw["vary"][0]["cases"]:
    for r in range(sw["repeat"]):
        args = [sim, "scenarios/defences/none.json", "--out", out, "-q", "--no-charts",
                "--seed", str(base + r)]
        for k, v in case["set"].items():
            args += ["--set", f"{k}={json.dumps(v)}"]
        subprocess.run(args, check=True)
PY
}
declare -A times
for ((i = 0; i < rounds; i++)); do
  for v in all_cores one_core sequential; do
    t0=$(date +%s.%N)
    case $v in
      all_cores) "$sim" sweep scenarios/sweeps/defences.json --out "$tmp/a" --force -q ;;
      one_core) "$sim" sweep scenarios/sweeps/defences.json --out "$tmp/b" --force -q -j 1 ;;
      sequential) sequential ;;
    esac
    t=$(echo "$(date +%s.%N) - $t0" | bc)
    echo "$v round $i: $t s"
    times[$v]+="$t "
  done
done
for v in all_cores one_core sequential; do
  printf '%s median: %s s\n' "$v" "$(echo "${times[$v]}" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
done
