#!/usr/bin/env bash
# Waits until the highly available control plane (docker-compose.ha.yml) is whole, as the API sees
# it through the load balancer: the three control-plane nodes Ready, and the twelve mirror pods
# of their static pods (etcd, kube-apiserver, kube-controller-manager, kube-scheduler on each)
# Running and ready. Exits non-zero on timeout and shows what was missing.
# Usage: KUBECONFIG=build/ha/kubeconfig scripts/wait-control-plane.sh [TIMEOUT_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."

timeout=${1:-180}
members=${PODPLANE_CONTROL_PLANE_NODES:-3}
deadline=$((SECONDS + timeout))
kubectl=.venv/bin/kubectl
[[ -x $kubectl ]] || kubectl=kubectl
log() { echo "wait-control-plane: $*" >&2; }

ready_nodes() {
  "$kubectl" get nodes -l node-role.kubernetes.io/control-plane \
    -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' \
    2>/dev/null | grep -c '=True$' || true
}
ready_pods() {
  "$kubectl" get pods -n kube-system -l tier=control-plane \
    -o jsonpath='{range .items[*]}{.metadata.name}={.status.phase}/{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' \
    2>/dev/null | grep -c '=Running/True$' || true
}

while :; do
  nodes=$(ready_nodes) pods=$(ready_pods)
  if ((nodes >= members && pods >= 4 * members)); then
    log "$nodes control-plane nodes Ready, $pods control-plane pods Running"
    exit 0
  fi
  if ((SECONDS >= deadline)); then
    log "after ${timeout}s: $nodes of $members control-plane nodes Ready, $pods of $((4 * members)) pods Running"
    "$kubectl" get nodes -o wide >&2 || true
    "$kubectl" get pods -n kube-system -o wide >&2 || true
    exit 1
  fi
  sleep 2
done
