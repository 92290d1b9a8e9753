#!/usr/bin/env bash
# A private containerd (trixie's 1.7, as on the nodes: /usr/bin/containerd) serving its CRI plugin
# (runtime.v1) on the test host, for the integration tests of the kubelet's CRI runtime:
#   scripts/cri-containerd.sh start|stop|status
# It has its own config, gRPC socket, root, state, CNI network and runc root, so it never touches
# the system's containerd (/run/containerd/containerd.sock, /var/lib/containerd) nor the one
# dockerd starts for itself (/var/run/docker/containerd). The one place it shares with them is
# /run/containerd/s/, where containerd always puts its shims' sockets (named by a hash of our
# socket's path, so they never collide).
#
# `start` records containerd's PID in $dir/containerd.pid and does nothing when that process still
# runs; `stop` stops exactly that PID, nothing else. Pods still running then keep running (their
# shims outlive containerd, as under systemd's KillMode=process) and are found again by the next
# `start`. Needs root, like any containerd that runs containers.
#
# Environment (defaults in brackets):
#   PODPLANE_CRI_DIR     state dir: config, socket, pid file, log, CNI config [/run/podplane-cri]
#   PODPLANE_CRI_ROOT    containerd's root: images, snapshots, metadata [/var/lib/podplane-cri]
#   PODPLANE_CRI_SUBNET  the pods' subnet, away from Docker's 172.17.0.0/16 [10.88.0.0/16]
#   PODPLANE_CRI_BRIDGE  the pods' bridge [cri0]
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${PODPLANE_CRI_DIR:-/run/podplane-cri}
root=${PODPLANE_CRI_ROOT:-/var/lib/podplane-cri}
subnet=${PODPLANE_CRI_SUBNET:-10.88.0.0/16}
bridge=${PODPLANE_CRI_BRIDGE:-cri0}
cni_bin=/usr/lib/cni
sock=$dir/containerd.sock
pidfile=$dir/containerd.pid
log_file=$dir/containerd.log
config=$dir/config.toml

log() { echo "cri-containerd: $*" >&2; }

# The PID of our containerd if it runs; nothing otherwise (a stale pid file is not a process).
running_pid() {
  [[ -f $pidfile ]] || return 1
  local pid
  pid=$(cat "$pidfile")
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == containerd ]] || return 1
  echo "$pid"
}

# Whether this process has CAP_SYS_RESOURCE (bit 24 of its effective set), which lowering an
# oom_score_adj takes; containerd, its shims and runc inherit the same set.
may_lower_oom_score() {
  local caps
  caps=$(awk '$1 == "CapEff:" {print $2}' /proc/self/status)
  (( (16#$caps >> 24) & 1 ))
}

# containerd's config: what differs from `containerd config default`, and the defaults the CRI
# runtime's tests rely on; each setting says why it is there.
write_config() {
  cat >"$config" <<EOF
version = 2
# Its own root, state and sockets: nothing shared with the system's or dockerd's containerd.
root = "$root"
state = "$dir/state"

[grpc]
  address = "$sock"

[ttrpc]
  address = "$sock.ttrpc"

[plugins]
  # Default /opt/containerd is the system containerd's.
  [plugins."io.containerd.internal.v1.opt"]
    path = "$root/opt"

  [plugins."io.containerd.grpc.v1.cri"]
    # No registry here: the sandbox image is imported by the tests (tests/integration/pod_images.py).
    # containerd normalizes it to docker.io/podplane/pause:3.9.
    sandbox_image = "podplane/pause:3.9"
    # The pods' network namespaces under our state dir, not in the host's /var/run/netns.
    netns_mounts_under_state_dir = true
    # Without CAP_SYS_RESOURCE no process can lower its oom_score_adj (a VM or container whose
    # capability bounding set lacks it: "write to /proc/self/oom_score_adj: Permission denied" at
    # RunPodSandbox, which asks for -998). Then the CRI plugin clamps the scores it is asked for to
    # no lower than containerd's own (0 here); with the capability it sets them as asked.
    restrict_oom_score_adj = $(may_lower_oom_score && echo false || echo true)

    [plugins."io.containerd.grpc.v1.cri".cni]
      # Debian's containernetworking-plugins, not /opt/cni/bin.
      bin_dir = "$cni_bin"
      conf_dir = "$dir/cni/net.d"

    [plugins."io.containerd.grpc.v1.cri".containerd]
      # The default, spelled out: a RunPodSandbox without a runtime_handler runs on runc.
      default_runtime_name = "runc"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          # The cgroupfs driver, as dockerd's here: the systemd driver needs systemd as PID 1,
          # which this kind of host (a VM or container, cgroup v1) does not have.
          SystemdCgroup = false
          # runc's state beside ours, not in /run/containerd/runc.
          Root = "$dir/runc"

      # A second runtime handler (RuntimeClass handler "crun"): the same shim, another OCI runtime.
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun.options]
          # bookworm's crun with the bundle declared OCI 1.1 (docker/crun-oci-1.1.sh says why).
          BinaryName = "$repo/docker/crun-oci-1.1.sh"
          SystemdCgroup = false
          Root = "$dir/crun"
EOF
}

# The pods' network: a bridge of its own with masquerading, hairpin mode (a pod reaching itself
# through its own host port), host ports (portmap), and the firewall plugin, which accepts the pods' traffic in FORWARD: dockerd sets FORWARD's policy to DROP, and
# with br_netfilter loaded (dockerd loads it) even traffic between two pods on the bridge goes
# through FORWARD. containerd adds the loopback interface itself. The IP leases live beside the
# config, not in the system's /var/lib/cni.
write_cni_config() {
  mkdir -p "$dir/cni/net.d"
  cat >"$dir/cni/net.d/10-podplane-cri.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "podplane-cri",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$bridge",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$subnet"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$dir/cni/networks"
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "firewall"}
  ]
}
EOF
}

# Whether the CRI plugin loaded: containerd starts without it if its config or the host is wrong
# (then `ctr plugins ls` says "error" and the log says why).
cri_status() {
  ctr --address "$sock" plugins ls 2>/dev/null | awk '$1 == "io.containerd.grpc.v1" && $2 == "cri" {print $NF}'
}

start() {
  local pid
  if pid=$(running_pid); then
    log "already running (pid $pid, socket $sock)"; return 0
  fi
  for need in containerd ctr "$cni_bin/bridge" /usr/bin/crun; do
    command -v "$need" >/dev/null || { log "$need missing: run scripts/host-setup.sh"; exit 1; }
  done
  mkdir -p "$dir" "$root"
  write_config
  write_cni_config
  log "starting containerd (socket $sock, log $log_file)"
  # setsid: containerd must outlive the shell (and the test session's process group) that started it.
  setsid containerd --config "$config" >"$log_file" 2>&1 </dev/null &
  echo $! >"$pidfile"
  pid=$!
  local status=""
  for _ in $(seq 1 60); do
    status=$(cri_status) && [[ -n $status ]] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      log "containerd exited; last lines of $log_file:"; tail -n 20 "$log_file" >&2; exit 1
    fi
    sleep 0.5
  done
  if [[ $status != ok ]]; then
    log "the CRI plugin did not load (${status:-no answer within 30 s}); from $log_file:"
    grep -E 'level=(warning|error|fatal)' "$log_file" | grep -v devmapper | tail -n 10 >&2 || true
    stop; exit 1
  fi
  log "containerd answers with its CRI plugin (pid $pid)"
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    log "not running"; rm -f "$pidfile"; return 0
  fi
  log "stopping containerd pid $pid"
  kill -TERM "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && { log "pid $pid still running after 30 s"; exit 1; }
  rm -f "$pidfile"
}

status() {
  local pid
  if pid=$(running_pid); then
    echo "running: pid $pid, socket $sock, CRI plugin $(cri_status)"
  else
    echo "not running"; return 3
  fi
}

if [[ $(id -u) -ne 0 ]]; then log "needs root"; exit 1; fi
case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
