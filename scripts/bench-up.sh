#!/usr/bin/env bash
# How long `make up` takes, RUNS times: `make down`, then `make up`, timed from make's start to
# every node Ready and the cluster DNS answering (the line `make up` prints), with the moment each
# stage of scripts/wait-cluster.sh held. Warm (the default): images built, the cluster's volumes
# gone, as a learner's `make down && make up` between two experiments. The figures go to
# docs/benchmarks.md; JSON in build/bench/up.json.
# Usage: scripts/bench-up.sh [RUNS]     (cold: see docs/benchmarks.md, a fresh clone's .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
mkdir -p build/bench
results=()
for ((run = 1; run <= runs; run++)); do
  make --no-print-directory down >/dev/null 2>&1
  out=$(make --no-print-directory up 2>&1) || { echo "$out" | tail -40 >&2; exit 1; }
  total=$(sed -n 's/^podplane is up \([0-9]*\) s after make started.*/\1/p' <<<"$out")
  # wait-cluster: STAGE (N.N s) -> "STAGE": N.N
  stages=$(sed -n 's/^wait-cluster: \(.*\) (\([0-9.]*\) s)$/\1\t\2/p' <<<"$out" \
    | awk -F'\t' '{ gsub(/"/, "", $1); printf "%s\"%s\": %s", (NR > 1 ? ", " : ""), $1, $2 }')
  echo "run $run: up in ${total} s; $(sed -n 's/^wait-cluster: //p' <<<"$out" | paste -sd ';')" >&2
  results+=("{\"seconds\": $total, \"stages\": {$stages}}")
done
printf '{"runs": [%s], "measured_at": "%s", "commit": "%s"}\n' \
  "$(IFS=,; echo "${results[*]}")" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" >build/bench/up.json
echo "JSON: build/bench/up.json" >&2
