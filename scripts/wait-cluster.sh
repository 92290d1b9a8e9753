#!/usr/bin/env bash
# Waits until the compose cluster is usable: every service running and healthy, then (once podctl
# exists) every node registered and Ready as the apiserver sees it, kube-proxy's pod ready on every
# node, and the cluster DNS's two replicas available. Exits non-zero on timeout and shows what was
# not ready.
# Usage: scripts/wait-cluster.sh [TIMEOUT_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."

timeout=${1:-${PODPLANE_WAIT_TIMEOUT:-180}}
nodes=${PODPLANE_NODES:-3}
deadline=$((SECONDS + timeout))
log() { echo "wait-cluster: $*" >&2; }

# 1. Compose health: no service may be missing, exited or anything but healthy; a one-shot
#    service without a healthcheck (pki) must have exited 0.
services=$(docker compose config --services | sort)
while :; do
  unhealthy=()
  for s in $services; do
    id=$(docker compose ps -a -q "$s" 2>/dev/null)
    state=${id:+$(docker inspect -f '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}/{{.State.ExitCode}}' "$id")}
    case $state in
      running/healthy/* | running/none/* | exited/none/0) ;;
      *) unhealthy+=("$s(${state:-absent})") ;;
    esac
  done
  ((${#unhealthy[@]} == 0)) && break
  if ((SECONDS >= deadline)); then
    log "not healthy after ${timeout}s: ${unhealthy[*]}"
    docker compose ps -a >&2
    for s in "${unhealthy[@]}"; do docker compose logs --tail 20 "${s%%(*}" >&2 || true; done
    exit 1
  fi
  sleep 1
done
log "all $(wc -w <<<"$services") services healthy"

# 2. Nodes Ready, as the apiserver sees them (podctl get nodes: NAME STATUS ...).
podctl=.venv/bin/podctl
if [[ ! -x $podctl ]] || ! .venv/bin/python -c 'import podctl.__main__' 2>/dev/null; then
  log "podctl not available yet: relying on compose health only"; exit 0
fi
export PODPLANE_SERVER=${PODPLANE_SERVER:-localhost:${PODPLANE_APISERVER_PORT:-6443}}
# As the cluster's admin (build/pki, written by the pki service), unless the caller chose credentials.
if [[ -z ${PODPLANE_CA:-} ]]; then
  export PODPLANE_CA=build/pki/ca.crt PODPLANE_CERT=build/pki/admin.crt PODPLANE_KEY=build/pki/admin.key
fi
while :; do
  out=$($podctl get nodes 2>&1 || true)
  ready=$(awk 'NR > 1 && $2 == "Ready"' <<<"$out" | wc -l)
  ((ready >= nodes)) && break
  if ((SECONDS >= deadline)); then
    log "$ready/$nodes nodes Ready after ${timeout}s:"; echo "$out" >&2; exit 1
  fi
  sleep 1
done
log "$ready/$nodes nodes Ready"
echo "$out"

# 3. kube-proxy (docker/addons/kube-proxy.yaml, applied by the addon-manager): its DaemonSet's
#    pod ready on every node, so that Service IPs work everywhere (podctl get daemonset: NAME
#    DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE).
while :; do
  proxies=$($podctl get daemonset kube-proxy -n kube-system 2>&1 || true)
  [[ $(awk 'NR == 2 { print $2 "/" $4 }' <<<"$proxies") == "$nodes/$nodes" ]] && break
  if ((SECONDS >= deadline)); then
    log "kube-proxy not ready on every node after ${timeout}s:"; echo "$proxies" >&2
    $podctl get pods -n kube-system -l k8s-app=kube-proxy -o wide >&2 || true
    exit 1
  fi
  sleep 1
done
log "kube-proxy ready on $nodes nodes (DaemonSet kube-system/kube-proxy)"

# 4. The cluster DNS add-on (docker/addons/cluster-dns.yaml, applied by the addon-manager): both
#    replicas available (podctl get deployment: NAME READY UP-TO-DATE AVAILABLE AGE).
while :; do
  dns=$($podctl get deployment coredns -n kube-system 2>&1 || true)
  [[ $(awk 'NR == 2 { print $2 }' <<<"$dns") == 2/2 ]] && break
  if ((SECONDS >= deadline)); then
    log "cluster DNS not available after ${timeout}s:"; echo "$dns" >&2
    $podctl get pods -n kube-system -l k8s-app=kube-dns -o wide >&2 || true
    exit 1
  fi
  sleep 1
done
log "cluster DNS available (kube-system/coredns 2/2, Service kube-dns 10.96.0.10)"
