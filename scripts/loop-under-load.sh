#!/usr/bin/env bash
# Runs a test N times in a row with every core kept busy beside it, as a timing-sensitive test is
# tried before it lands (docs/reliability.md, "Tests under load"): a test that can fail without a
# defect fails here first.
#   scripts/loop-under-load.sh N PYTEST-ARGS...
#   e.g. scripts/loop-under-load.sh 20 tests/integration/apiserver/test_etcd_watch_streams.py
# LOAD_PROCESSES (default: the number of cores) busy loops run at the tests' own priority. Each
# run's output goes to build/loops/<the arguments>/<run>.log (two loops of different tests can run
# side by side); the last line says how many of the N passed. Exits 1 if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."
(($# >= 2)) || { echo "usage: $0 N PYTEST-ARGS..." >&2; exit 2; }
runs=$1
shift
logs=build/loops/$(printf '%s' "$*" | tr -c 'A-Za-z0-9_.=-' '_' | cut -c1-100)
mkdir -p "$logs"

burners=()
stop_burners() { ((${#burners[@]})) && kill "${burners[@]}" 2>/dev/null; true; }
trap stop_burners EXIT
for _ in $(seq "${LOAD_PROCESSES:-$(nproc)}"); do
  python3 -c 'while True: pass' &
  burners+=($!)
done

passed=0
for i in $(seq "$runs"); do
  if .venv/bin/pytest -q -p no:cacheprovider "$@" >"$logs/$i.log" 2>&1; then
    passed=$((passed + 1))
  else
    echo "run $i failed: $logs/$i.log" >&2
  fi
done
echo "$passed of $runs passed under load ($*)"
((passed == runs))
