#!/bin/bash
# Entrypoint of a podplane node container (image podplane-node:dev). Turns the container into a
# machine that can run pods, then runs the command (the kubelet), supervised:
#   1. cgroups the inner engine can write to (v1: fresh hierarchies; v2: the dind nesting dance)
#   2. the inner dockerd, its bridge on this node's pod CIDR: pods get IPs from POD_CIDR
#   3. the node's network agent: routes to the other nodes' pod CIDRs, so pod IPs are
#      reachable cluster-wide, and the NetworkPolicies on its pods
#   4. the pods' resolver: Docker's embedded DNS made reachable from pods at the bridge address
#   5. the pod images (busybox, the pause sandbox, the add-ons' image of kube-proxy and the
#      cluster DNS), loaded from archives in the image
# kube-proxy is not run here: it is a pod of the DaemonSet kube-system/kube-proxy
# (docker/addons/kube-proxy.yaml), which the kubelet runs in this node's network namespace.
#
# Environment:
#   POD_CIDR       this node's pod CIDR, e.g. 10.244.1.0/24 (required); the bridge gets .1
#   CLUSTER_CIDR   all pods, default 10.244.0.0/16: pod-to-pod traffic there is not masqueraded
#   POD_ROUTES     "api": the node's network agent (network_from_api): routes to the other nodes'
#                  pod CIDRs as the Nodes say, and the NetworkPolicies on this node's pods;
#                  empty (the default): neither
#   DOCKERD_LOG    the inner dockerd's log, default /var/log/podplane/dockerd.log
#   REGISTRY_MIRROR  http://HOST:PORT of the cluster's registry: the inner engine's Docker Hub
#                  mirror
#   REGISTRY_PUBLISH  non-empty: this node publishes busybox as docker.io/library/busybox and
#                  the add-ons as docker.io/podplane/kube-proxy:dev and podplane/clusterdns:dev
#                  to REGISTRY_MIRROR (one node of a cluster does: docker-compose.yml's node-1)
#   POD_RESOLV_CONF  the pods' resolv.conf base (the kubelet's --resolv-conf), default
#                  /etc/podplane/pod-resolv.conf
#   CONTAINER_RUNTIME  docker (default) or containerd: the runtime the kubelet runs pods with.
#                  containerd: a containerd with its CRI plugin (/run/containerd/containerd.sock,
#                  pods on a CNI bridge on POD_CIDR, runc and crun handlers, logs under
#                  /var/log/pods) that the inner dockerd shares, and the kubelet gets
#                  --container-runtime-endpoint; as kind's nodes run
#   OCI_RUNTIME    crun (default) or runc: containerd's default runtime handler, the one pods
#                  without a RuntimeClass run on (both handlers are there either way)
#   JOIN_CA_CERT, JOIN_TOKEN  a joining node's (scripts/join.sh, as `kubeadm join` is given
#                  them): the cluster CA's certificate (PEM) and a bootstrap token, written to
#                  /etc/podplane/join/ca.crt and token for the kubelet's --ca-file and
#                  --bootstrap-token-file
#   CONTROL_PLANE_MEMBERS  NAME=IP,... of every control-plane machine, this one (its hostname)
#                  among them: makes this node a control-plane node as `kubeadm init` and `join
#                  --control-plane` do (docker-compose.ha.yml): imports podplane/control-plane:dev,
#                  writes the static pod manifests of etcd, kube-apiserver,
#                  kube-controller-manager and kube-scheduler (python -m adm manifests; once: an
#                  edited manifest is kept across restarts), and marks its Node with the admin's
#                  credentials once the kubelet has registered it (python -m adm
#                  mark-control-plane, against CONTROL_PLANE_ENDPOINT, HOST:PORT)
set -euo pipefail

: "${POD_CIDR:?POD_CIDR must be set, e.g. 10.244.1.0/24}"
CLUSTER_CIDR=${CLUSTER_CIDR:-10.244.0.0/16}
POD_ROUTES=${POD_ROUTES:-}
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/podplane/dockerd.log}
REGISTRY_MIRROR=${REGISTRY_MIRROR:-}
REGISTRY_PUBLISH=${REGISTRY_PUBLISH:-}
CONTAINER_RUNTIME=${CONTAINER_RUNTIME:-docker}
OCI_RUNTIME=${OCI_RUNTIME:-crun}
CONTAINERD_SOCK=/run/containerd/containerd.sock
IMAGES=/opt/podplane/images

log() { echo "node-entrypoint: $*" >&2; }

# The pod images, and how they get into the runtime (section 5 says which and why).
source /usr/local/lib/podplane/node-images.sh

# --- 1. cgroups ---------------------------------------------------------------------------------
setup_cgroup_v2() {
  # What docker's official dind script does: move every process out of the root cgroup (which
  # must hold no processes once controllers are delegated), then enable all controllers for the
  # children, i.e. the inner engine's containers. Needs a private cgroup namespace (compose:
  # cgroup: private), the default on cgroup v2 hosts.
  # Without --privileged Docker mounts the (namespaced) hierarchy read-only.
  if [[ ! -w /sys/fs/cgroup ]]; then
    mount -o remount,rw /sys/fs/cgroup 2>/dev/null \
      || { umount /sys/fs/cgroup && mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup; }
  fi
  mkdir -p /sys/fs/cgroup/init
  xargs -rn1 </sys/fs/cgroup/cgroup.procs >/sys/fs/cgroup/init/cgroup.procs 2>/dev/null || true
  sed -e 's/ / +/g' -e 's/^/+/' </sys/fs/cgroup/cgroup.controllers >/sys/fs/cgroup/cgroup.subtree_control
}

setup_cgroup_v1() {
  # Docker mounts the v1 hierarchies read-only in containers. Mount each hierarchy afresh on a new
  # tmpfs. In a private cgroup namespace the mounts' root is this container's own cgroup, so pods
  # are accounted inside the node; in the host's namespace they see the whole host tree.
  local hierarchies
  # Controllers grouped by hierarchy id, e.g. "cpu,cpuacct", from /proc/self/cgroup ("3:cpuset:/").
  hierarchies=$(awk -F: '$1 != 0 && $2 != "" { print $2 }' /proc/self/cgroup)
  if mountpoint -q /sys/fs/cgroup; then umount -l /sys/fs/cgroup 2>/dev/null || true; fi
  mount -t tmpfs -o mode=0755,nosuid,nodev,noexec cgroup /sys/fs/cgroup
  local h dir ctrl
  for h in $hierarchies; do
    case $h in
      name=*) dir=${h#name=}; opts="none,$h" ;;
      *) dir=$h; opts=$h ;;
    esac
    mkdir -p "/sys/fs/cgroup/$dir"
    mount -t cgroup -o "$opts" cgroup "/sys/fs/cgroup/$dir"
    # Combined hierarchies get per-controller links, as on a normal host (cpu -> cpu,cpuacct).
    if [[ $dir == *,* ]]; then
      for ctrl in ${dir//,/ }; do [[ -e /sys/fs/cgroup/$ctrl ]] || ln -s "$dir" "/sys/fs/cgroup/$ctrl"; done
    fi
  done
  # The v2 hierarchy of a hybrid host, if any (runc looks for it).
  if grep -q '^0::' /proc/self/cgroup && grep -qw cgroup2 /proc/filesystems; then
    mkdir -p /sys/fs/cgroup/unified
    mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup/unified 2>/dev/null \
      || rmdir /sys/fs/cgroup/unified
  fi
}

if [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]]; then
  log "cgroup v2: delegating controllers"
  setup_cgroup_v2
else
  log "cgroup v1: mounting hierarchies afresh"
  setup_cgroup_v1
fi

# Shared mount propagation, as on a normal host (pods' volume mounts may need it).
mount --make-rshared / 2>/dev/null || true

# --- 2. the inner Docker engine -----------------------------------------------------------------
# 10.244.1.0/24 -> bridge address 10.244.1.1/24.
prefix=${POD_CIDR#*/}
network=${POD_CIDR%/*}
POD_BRIDGE_IP=${POD_BRIDGE_IP:-${network%.*}.$((${network##*.} + 1))/$prefix}

# --- 2a. containerd with its CRI plugin (CONTAINER_RUNTIME=containerd) ---------------------------
# What kind's nodes run: containerd's CRI plugin, pods on a CNI bridge on this node's pod CIDR
# (its gateway the address Docker's bridge has otherwise, so the pods' resolver below is the same),
# the OCI runtimes crun (the default handler, OCI_RUNTIME; through /usr/local/bin/crun-oci-1.1:
# docker/crun-oci-1.1.sh says why) and runc. Debian's CNI plugins live in /usr/lib/cni.
write_containerd_config() {
  local mirror=""
  if [[ -n $REGISTRY_MIRROR ]]; then
    mirror=$(printf '    [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n      endpoint = ["%s"]' "$REGISTRY_MIRROR")
  fi
  mkdir -p /etc/containerd /etc/cni/net.d
  cat >/etc/containerd/config.toml <<EOF
version = 2
[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "podplane/pause:3.9"
    # The node's capability bounding set lacks CAP_SYS_RESOURCE: no score below containerd's own.
    restrict_oom_score_adj = true
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "/etc/cni/net.d"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "$OCI_RUNTIME"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun.options]
          BinaryName = "/usr/local/bin/crun-oci-1.1"
          SystemdCgroup = false
    [plugins."io.containerd.grpc.v1.cri".registry]
$mirror
EOF
  # No per-pod iptables rules from the plugins (bridge's ipMasq, the firewall plugin): each pod
  # would cost a dozen iptables runs at its start and end. The node's own rules (section 3) do it
  # once for the whole bridge: masquerading out of the cluster, accepting in FORWARD (whose
  # policy dockerd sets to DROP). portmap acts only for pods with host ports.
  cat >/etc/cni/net.d/10-podplane.conflist <<EOF
{
  "cniVersion": "1.0.0",
  "name": "podplane",
  "plugins": [
    {
      "type": "bridge", "bridge": "cni0", "isGateway": true, "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "${POD_BRIDGE_IP%/*}"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
}

start_containerd() {
  write_containerd_config
  rm -f "$CONTAINERD_SOCK"
  mkdir -p /var/log/podplane /var/lib/containerd
  seed_containerd
  log "starting containerd with its CRI plugin (log: /var/log/podplane/containerd.log)"
  containerd --config /etc/containerd/config.toml >>/var/log/podplane/containerd.log 2>&1 &
  local pid=$! i
  for ((i = 0; i < 600; i++)); do  # 60 s
    if ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1; then
      log "containerd answers (pid $pid)"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  log "containerd did not come up; last lines of its log:"
  tail -n 30 /var/log/podplane/containerd.log >&2
  exit 1
}

start_dockerd() {
  mkdir -p "$(dirname "$DOCKERD_LOG")" /var/lib/docker
  rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid
  log "starting dockerd, bridge $POD_BRIDGE_IP (log: $DOCKERD_LOG)"
  local mirror=()
  if [[ -n $REGISTRY_MIRROR ]]; then
    # The cluster's registry stands in for Docker Hub (no registry is reachable from these hosts):
    # `image: busybox` with imagePullPolicy Always pulls through it, as from docker.io.
    mirror=(--registry-mirror "$REGISTRY_MIRROR" --insecure-registry "${REGISTRY_MIRROR#http://}")
  fi
  local network=(--bip "$POD_BRIDGE_IP")
  if [[ $CONTAINER_RUNTIME == containerd ]]; then
    # The pods are containerd's, on the CNI bridge; the engine (images, and the node's own tools)
    # shares that containerd and needs no bridge of its own on the pods' CIDR.
    network=(--bridge none --containerd "$CONTAINERD_SOCK")
  fi
  dockerd \
    --host unix:///var/run/docker.sock \
    "${mirror[@]}" \
    "${network[@]}" \
    --storage-driver overlay2 \
    --data-root /var/lib/docker \
    --exec-opt native.cgroupdriver=cgroupfs \
    --log-level warn \
    >>"$DOCKERD_LOG" 2>&1 &
  local pid=$! i
  for ((i = 0; i < 600; i++)); do  # 60 s
    if docker info >/dev/null 2>&1; then log "dockerd answers (pid $pid)"; return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  log "dockerd did not come up; last lines of $DOCKERD_LOG:"
  tail -n 30 "$DOCKERD_LOG" >&2
  exit 1
}
case $OCI_RUNTIME in
  runc | crun) ;;
  *) log "OCI_RUNTIME must be runc or crun, not \"$OCI_RUNTIME\""; exit 1 ;;
esac
# crun refuses every container on a hybrid cgroup host while a controller is left enabled in the
# cgroup2 tree (scripts/host-setup.sh binds such controllers to v1, as systemd would): runc then.
hybrid_v2=$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null || true)
if [[ $OCI_RUNTIME == crun && -n $hybrid_v2 ]]; then
  log "hybrid cgroups with $hybrid_v2 in cgroup2, which crun refuses: runc is the default handler"
  OCI_RUNTIME=runc
fi
case $CONTAINER_RUNTIME in
  docker) ;;
  containerd)
    start_containerd
    # The add-ons' image, the largest, while the engine starts and the rest is set up (section 5).
    load_archive components containerd &
    components_loading=$!
    ;;
  *) log "CONTAINER_RUNTIME must be docker or containerd, not \"$CONTAINER_RUNTIME\""; exit 1 ;;
esac
start_dockerd

# --- 3. pod network across nodes ----------------------------------------------------------------
# Pod to pod traffic keeps its source IP (no masquerade inside the cluster CIDR) and is forwarded
# by the node (docker's FORWARD policy is DROP).
iptables -t nat -C POSTROUTING -s "$POD_CIDR" -d "$CLUSTER_CIDR" -j RETURN 2>/dev/null \
  || iptables -t nat -I POSTROUTING -s "$POD_CIDR" -d "$CLUSTER_CIDR" -j RETURN
iptables -C DOCKER-USER -d "$CLUSTER_CIDR" -j ACCEPT 2>/dev/null \
  || iptables -I DOCKER-USER -d "$CLUSTER_CIDR" -j ACCEPT
if [[ $CONTAINER_RUNTIME == containerd ]]; then
  # The CNI bridge's pods, as Docker's bridge has them: out of the cluster masqueraded, and
  # forwarded both ways.
  iptables -t nat -C POSTROUTING -s "$POD_CIDR" ! -o cni0 -j MASQUERADE 2>/dev/null \
    || iptables -t nat -A POSTROUTING -s "$POD_CIDR" ! -o cni0 -j MASQUERADE
  for direction in -i -o; do
    iptables -C DOCKER-USER "$direction" cni0 -j ACCEPT 2>/dev/null \
      || iptables -I DOCKER-USER "$direction" cni0 -j ACCEPT
  done
fi

# POD_ROUTES=api: the node's network agent (python -m netpol --pod-routes), one process as kindnet's
# and k3s's agents are: routes to the other nodes' pod CIDRs follow the Nodes in the API (flannel's
# host-gw: a watch, nothing polled), and the NetworkPolicies on this node's pods are its iptables
# rules (docs/services.md#network-policies). With POD_ROUTES_SERVER and the node's own
# POD_ROUTES_CA, POD_ROUTES_CERT and POD_ROUTES_KEY, once the certificate exists (a joining node's
# comes with TLS bootstrapping); the Nodes are the system:node role's to read, the policies and
# namespaces the ClusterRole podplane:network-policies' (docker/addons/network-policies.yaml).
network_from_api() {
  set +e
  until [[ -s $POD_ROUTES_CERT ]]; do sleep 1; done
  while :; do
    python -m netpol --pod-routes --hostname-override "$(hostname)" --pod-cidr "$POD_CIDR" \
      --server "$POD_ROUTES_SERVER" \
      --ca-file "$POD_ROUTES_CA" --cert-file "$POD_ROUTES_CERT" --key-file "$POD_ROUTES_KEY"
    sleep 2
  done
}
if [[ $POD_ROUTES == api ]]; then
  : "${POD_ROUTES_SERVER:?POD_ROUTES=api needs POD_ROUTES_SERVER}" "${POD_ROUTES_CA:?POD_ROUTES=api needs POD_ROUTES_CA}"
  : "${POD_ROUTES_CERT:?POD_ROUTES=api needs POD_ROUTES_CERT}" "${POD_ROUTES_KEY:?POD_ROUTES=api needs POD_ROUTES_KEY}"
  network_from_api </dev/null >>/var/log/podplane/network.log 2>&1 &
fi

# --- 4. the pods' resolver -----------------------------------------------------------------------
# Docker's embedded DNS (127.0.0.11 in this node's namespace: it knows the compose services, e.g.
# apiserver and registry, and forwards other names to the host's resolvers) answers this node's
# own processes only. As kind's entrypoint does, pods reach it at an address of the node: queries
# to the bridge address port 53 are DNATed to it (route_localnet lets them reach a loopback
# address). The kubelet's --resolv-conf is this node's resolv.conf with that address: dnsPolicy
# Default pods (the cluster DNS among them) resolve through it.
POD_RESOLV_CONF=${POD_RESOLV_CONF:-/etc/podplane/pod-resolv.conf}
setup_pod_resolver() {
  local bridge_ip=${POD_BRIDGE_IP%/*} rules udp tcp
  mkdir -p "$(dirname "$POD_RESOLV_CONF")"
  rules=$(iptables -t nat -S DOCKER_OUTPUT 2>/dev/null || true)
  udp=$(sed -n 's/.*-p udp .*--to-destination 127\.0\.0\.11:\([0-9]*\).*/\1/p' <<<"$rules" | head -n 1)
  tcp=$(sed -n 's/.*-p tcp .*--to-destination 127\.0\.0\.11:\([0-9]*\).*/\1/p' <<<"$rules" | head -n 1)
  if ! grep -q '^nameserver 127\.0\.0\.11' /etc/resolv.conf || [[ -z $udp || -z $tcp ]]; then
    # Not on a Docker network with an embedded DNS: the node's resolvers serve pods as they are.
    cp /etc/resolv.conf "$POD_RESOLV_CONF"
    return 0
  fi
  echo 1 >/proc/sys/net/ipv4/conf/all/route_localnet
  local proto port
  for proto in udp tcp; do
    port=$udp; [[ $proto == udp ]] || port=$tcp
    iptables -t nat -C PREROUTING -d "$bridge_ip" -p "$proto" --dport 53 \
      -j DNAT --to-destination "127.0.0.11:$port" 2>/dev/null \
      || iptables -t nat -I PREROUTING -d "$bridge_ip" -p "$proto" --dport 53 \
        -j DNAT --to-destination "127.0.0.11:$port"
  done
  sed "s/^nameserver 127\.0\.0\.11\$/nameserver $bridge_ip/" /etc/resolv.conf >"$POD_RESOLV_CONF"
  log "pods resolve through $bridge_ip:53 (Docker's embedded DNS; $POD_RESOLV_CONF)"
}
setup_pod_resolver

# --- 5. pod images ------------------------------------------------------------------------------
# Archives in `docker save`'s format, made when the image was built (docker/node.Dockerfile, stage
# images; docker/image-archive.py): pods (busybox, the pause sandbox), components (the add-ons'
# image under four names, podplane/kube-proxy:dev, podplane/clusterdns:dev,
# podplane/metrics-server:dev and podplane/ingress-haproxy:dev) and control-plane.
# Streamed into the runtime the kubelet runs pods with (containerd's k8s.io namespace, as `kind
# load docker-image` does, or the inner engine), before the kubelet starts: kube-proxy's pod is
# the first this node runs (no Service works on it before), and must not wait out an image pull
# back-off.
load_archive pods "$CONTAINER_RUNTIME"
if [[ -n ${components_loading:-} ]]; then
  wait "$components_loading" || { log "cannot load the add-ons' image"; exit 1; }
else
  load_archive components "$CONTAINER_RUNTIME"
fi

# Into the cluster registry, as docker.io would have them, by one node (REGISTRY_PUBLISH), in the
# background and at idle priority (nice, ionice), so as not to slow what the kubelet starts: every
# node has them already; the registry serves a pod that asks for them with imagePullPolicy Always
# (busybox:latest has it by default). One node, because the pushes cost the node's containerd and
# the registry CPU that is not idle priority (the add-ons' 160 MB each time), while every node and
# the control plane start. The registry may be starting beside this node: tried again until it
# answers. The inner engine gets busybox and the pause image first, whatever the runtime.
publish() { # LOCAL-IMAGE REPOSITORY:TAG
  local target="${REGISTRY_MIRROR#http://}/$2" i
  for ((i = 0; i < 300; i++)); do
    if [[ $CONTAINER_RUNTIME == containerd && $1 != busybox:latest ]]; then
      ctr --address "$CONTAINERD_SOCK" -n k8s.io images push --plain-http "$target" \
        "$(docker_io_name "$1")" >/dev/null 2>&1
    else
      docker tag "$1" "$target" && docker push "$target" >/dev/null 2>&1
    fi && { log "published $1 as docker.io/$2"; return 0; }
    sleep 0.2
  done
  log "warning: could not push $1 to $REGISTRY_MIRROR; pulls of it will fail"
}
if [[ -n $REGISTRY_MIRROR && -n $REGISTRY_PUBLISH ]]; then
  {
    load_archive pods docker
    publish busybox:latest library/busybox:latest
    publish podplane/kube-proxy:dev podplane/kube-proxy:dev
    publish podplane/clusterdns:dev podplane/clusterdns:dev
  } </dev/null >>/var/log/podplane/images.log 2>&1 &
  renice -n 19 -p $! >/dev/null && ionice -c 3 -p $! 2>/dev/null || true
else
  load_archive pods docker
fi

mkdir -p /etc/kubernetes/manifests  # static pods (kubelet --pod-manifest-path)

if [[ -n ${JOIN_TOKEN:-} ]]; then
  mkdir -p /etc/podplane/join
  printf '%s\n' "${JOIN_CA_CERT:?JOIN_CA_CERT must be set with JOIN_TOKEN}" >/etc/podplane/join/ca.crt
  (umask 077 && printf '%s\n' "$JOIN_TOKEN" >/etc/podplane/join/token)
fi

if [[ -n ${CONTROL_PLANE_MEMBERS:-} ]]; then
  load_archive control-plane "$CONTAINER_RUNTIME"
  if [[ ! -e /etc/kubernetes/manifests/kube-apiserver.yaml ]]; then
    python -m adm manifests --node "$(hostname)" --members "$CONTROL_PLANE_MEMBERS" \
      --out /etc/kubernetes/manifests >&2
  fi
  pki=/etc/podplane/pki
  python -m adm mark-control-plane --node "$(hostname)" \
    --server "${CONTROL_PLANE_ENDPOINT:?CONTROL_PLANE_ENDPOINT must be set with CONTROL_PLANE_MEMBERS}" \
    --ca-file "$pki/ca.crt" --cert-file "$pki/admin.crt" --key-file "$pki/admin.key" \
    </dev/null >>/var/log/podplane/mark-control-plane.log 2>&1 &
fi

# The kubelet runs supervised, as systemd runs it on a machine (Restart=always): it can be
# restarted alone (kill $(cat /run/kubelet.pid)) while the engine and the pods' containers,
# kube-proxy's among them, run on. SIGTERM (docker stop, forwarded by tini) stops it and then the
# node.
supervise() { # NAME COMMAND...: runs COMMAND, and again 1s after it exits, until SIGTERM
  local name=$1 child= stopping= status
  shift
  trap 'stopping=1; [[ -z $child ]] || kill -TERM "$child" 2>/dev/null || true' TERM INT
  while :; do
    "$@" &
    child=$!
    echo "$child" >"/run/$name.pid"
    # A trapped signal ends `wait` early: wait again until the process itself has exited.
    while kill -0 "$child" 2>/dev/null; do wait "$child" || true; done
    status=0
    wait "$child" || status=$?
    [[ -z $stopping ]] || exit "$status"
    log "$name exited ($status); starting it again in 1s"
    sleep 1
  done
}

# Under containerd the kubelet follows the runtime's container events (the EventedPLEG gate,
# kubelet/pod/pleg.py) instead of relisting every second: a node at rest costs no relists.
if [[ $CONTAINER_RUNTIME == containerd ]]; then
  set -- "$@" --container-runtime-endpoint "unix://$CONTAINERD_SOCK" --feature-gates EventedPLEG=true
fi
log "node ready for pods; running $*"
supervise kubelet "$@" &
kubelet_supervisor=$!
trap 'kill -TERM $kubelet_supervisor 2>/dev/null || true' TERM INT
status=0
while kill -0 "$kubelet_supervisor" 2>/dev/null; do wait "$kubelet_supervisor" || true; done
wait "$kubelet_supervisor" || status=$?
exit "$status"
