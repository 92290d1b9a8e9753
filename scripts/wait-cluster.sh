#!/usr/bin/env bash
# Waits until the compose cluster is usable, as its users see it, and says when each stage held:
#   1. every service's container running (the one-shot pki exited 0): none waits for another's
#      health check (docker-compose.yml), each retries what it needs until it is there;
#   2. every node registered and Ready, kube-proxy's pod ready on each, the cluster DNS's replicas
#      available, followed through watches (python -m adm wait-cluster);
#   3. the cluster DNS answering: node-1 asks 10.96.0.10, through kube-proxy's rules, for
#      kubernetes.default.svc.cluster.local (python -m adm.resolve). Its asking starts with
#      stage 2 (a try every half second until an answer), so that the answer is not also waiting
#      for a process to start once the add-ons are ready; it is reported after stage 2.
# Exits non-zero on timeout and shows what was not there.
# Usage: scripts/wait-cluster.sh [TIMEOUT_SECONDS] [STARTED_EPOCH_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."

timeout=${1:-${PODPLANE_WAIT_TIMEOUT:-180}}
started=${2:-$(date +%s.%N)}
nodes=${PODPLANE_NODES:-3}
deadline=$((SECONDS + timeout))
log() { echo "wait-cluster: $*" >&2; }
since() { awk -v s="$started" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f s", n - s }'; }

# 1. Containers: none missing, exited or restarting (the one-shot pki must have exited 0). Their
#    health checks come every 10 s and are not waited for.
services=$(docker compose config --services | sort)
while :; do
  states=$(docker compose ps -a --format '{{.Service}} {{.State}} {{.ExitCode}}')
  down=()
  for s in $services; do
    state=$(awk -v s="$s" '$1 == s { print $2 "/" $3 }' <<<"$states")
    case $state in
      running/* | exited/0) ;;
      *) down+=("$s(${state:-absent})") ;;
    esac
  done
  ((${#down[@]} == 0)) && break
  if ((SECONDS >= deadline)); then
    log "not running after ${timeout}s: ${down[*]}"
    docker compose ps -a >&2
    for s in "${down[@]}"; do docker compose logs --tail 20 "${s%%(*}" >&2 || true; done
    exit 1
  fi
  sleep 0.2
done
log "all $(wc -w <<<"$services") services running ($(since))"

# 3 begins: node-1 asks the cluster DNS until it answers (its output read after stage 2).
node1=$(docker compose ps -q node-1)
resolved=$(mktemp)
trap 'rm -f "$resolved"' EXIT
docker exec "$node1" python -m adm.resolve kubernetes.default.svc.cluster.local \
  --nameserver 10.96.0.10 --timeout $((deadline - SECONDS)) >"$resolved" 2>&1 &
resolving=$!

# 2. Nodes and add-ons, as the apiserver sees them, as the cluster's admin (build/pki, written by
#    the pki service) unless the caller chose credentials.
server=${PODPLANE_SERVER:-localhost:${PODPLANE_APISERVER_PORT:-6443}}
export PODPLANE_SERVER=$server
if [[ -z ${PODPLANE_CA:-} ]]; then
  export PODPLANE_CA=build/pki/ca.crt PODPLANE_CERT=build/pki/admin.crt PODPLANE_KEY=build/pki/admin.key
fi
if ! .venv/bin/python -m adm wait-cluster --server "$server" --nodes "$nodes" \
  --timeout $((deadline - SECONDS)) --started "$started" \
  --ca-file "$PODPLANE_CA" --cert-file "$PODPLANE_CERT" --key-file "$PODPLANE_KEY"; then
  .venv/bin/podctl get nodes >&2 || true
  .venv/bin/podctl get pods -n kube-system -o wide >&2 || true
  kill "$resolving" 2>/dev/null || true
  exit 1
fi

# 3. The cluster DNS answers (docker/addons/cluster-dns.yaml: Service kube-system/kube-dns).
if ! wait "$resolving"; then
  cat "$resolved" >&2
  .venv/bin/podctl get pods -n kube-system -l k8s-app=kube-dns -o wide >&2 || true
  exit 1
fi
log "cluster DNS answers, $(cat "$resolved") ($(since))"
