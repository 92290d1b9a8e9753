#!/bin/sh
# The compose project's one-shot `pki` service (image podplane:dev). Writes the cluster's PKI once
# and hands each service only what it needs:
#   /pki          the whole PKI, CA key included (volume `pki`); existing files are kept, so a
#                 second `docker compose up` keeps every certificate
#   /out/SERVICE  one volume per service (etcd, apiserver, scheduler, controller-manager,
#                 addon-manager, prometheus, node-N),
#                 mounted read-only at /etc/podplane/pki by that service alone; nodes get their
#                 identity under generic names (node.crt, kubelet-server.crt)
#   /host/pki     the client side for tools on the host (./build/pki): the CA certificate, the
#                 admin's certificate and key, the admin and viewer tokens; no CA key. Owned by
#                 whoever owns ./build, so the checkout's user can read and delete them.
#   /host/kubeconfig, /host/kubeconfig-viewer
#                 kubeconfigs for kubectl and the official clients (./build/kubeconfig: the
#                 admin; -viewer: the read-only viewer), for https://localhost:$PODPLANE_APISERVER_REST_PORT
# Usage: pki-init.sh NODE...
# The highly available profile (docker-compose.ha.yml) sets PKI_CONTROL_PLANE (NAME=IP,...: each
# member a node with its own etcd certificate) and PKI_LOAD_BALANCER (NAME=IP), and writes the
# host's side into ./build/ha (PKI_HOST_DIR=/host/ha); each /out/<member> then gets what kubeadm
# puts in a control-plane machine's /etc/kubernetes/pki.
set -eu
all=/pki hostdir=${PKI_HOST_DIR:-/host}
host=$hostdir/pki
[ ! -d /host ] || mkdir -p "$hostdir"

python -m podplane.componentbase.pki "$all" --nodes "$(echo "$@" | tr ' ' ,)" \
  --control-plane "${PKI_CONTROL_PLANE:-}" --load-balancer "${PKI_LOAD_BALANCER:-}"

copy() { # DIR SOURCE[=TARGET]...: each file of the PKI into DIR, replaced atomically
  dir=$1
  shift
  for f; do
    src=${f%%=*} dst=${f#*=}
    # A Docker bind mount of a missing file leaves an empty directory in its place (compose files
    # before this service did that): remove it, or the checkout stays wedged.
    if [ -d "$dir/$dst" ]; then rmdir "$dir/$dst"; fi
    cp "$all/$src" "$dir/.$dst.tmp"
    mv -f "$dir/.$dst.tmp" "$dir/$dst"
  done
}

for dir in /out/*/; do
  [ -d "$dir" ] || continue
  service=$(basename "$dir")
  case $service in
    etcd) copy "$dir" ca.crt etcd-server.crt etcd-server.key ;;
    apiserver)
      copy "$dir" ca.crt apiserver.crt apiserver.key tokens.csv sa.key sa.pub \
        apiserver-etcd-client.crt apiserver-etcd-client.key \
        apiserver-kubelet-client.crt apiserver-kubelet-client.key \
        front-proxy-ca.crt front-proxy-client.crt front-proxy-client.key \
        pod-routes.crt pod-routes.key ;;
    scheduler) copy "$dir" ca.crt "$service.crt" "$service.key" ;;
    # The CA's key too: its csrsigning controller issues the certificates requests ask for.
    controller-manager) copy "$dir" ca.crt ca.key "$service.crt" "$service.key" ;;
    # The admin, to apply the add-ons; the cluster DNS's identity, for the Secret its pods mount.
    addon-manager) copy "$dir" ca.crt admin.crt admin.key ;;
    # Its client certificate for the kubelets' HTTPS port, and the CA to verify theirs. Prometheus
    # runs as the image's `prometheus` user, whose uid Debian's package allocates at install (a
    # dynamic system uid, not one this script can know): the files are made readable by all
    # (0644, as pki.py writes every key) rather than chowned. The volume is mounted into the
    # prometheus service alone, read-only, so that reaches no other container.
    prometheus)
      copy "$dir" ca.crt prometheus.crt prometheus.key
      chmod 0644 "$dir/ca.crt" "$dir/prometheus.crt" "$dir/prometheus.key" ;;
    *)
      if [ -f "$all/etcd-$service.crt" ]; then # a control-plane member: all its components' share
        copy "$dir" ca.crt ca.key apiserver.crt apiserver.key tokens.csv sa.key sa.pub \
          apiserver-etcd-client.crt apiserver-etcd-client.key \
          apiserver-kubelet-client.crt apiserver-kubelet-client.key \
          front-proxy-ca.crt front-proxy-client.crt front-proxy-client.key \
          scheduler.crt scheduler.key controller-manager.crt controller-manager.key \
          admin.crt admin.key \
          "etcd-$service.crt=etcd-server.crt" "etcd-$service.key=etcd-server.key" \
          "$service.crt=node.crt" "$service.key=node.key" \
          "$service-kubelet-server.crt=kubelet-server.crt" \
          "$service-kubelet-server.key=kubelet-server.key"
        echo "pki-init: $service (control plane): $(ls "$dir" | tr '\n' ' ')"
        continue
      fi
      [ -f "$all/$service-kubelet-server.crt" ] || { echo "pki-init: unknown service $service" >&2; exit 1; }
      copy "$dir" ca.crt "$service.crt=node.crt" "$service.key=node.key" \
        "$service-kubelet-server.crt=kubelet-server.crt" "$service-kubelet-server.key=kubelet-server.key" ;;
  esac
  echo "pki-init: $service: $(ls "$dir" | tr '\n' ' ')"
done

if [ -d "$(dirname "$host")" ]; then
  mkdir -p "$host"
  copy "$host" ca.crt admin.crt admin.key admin.token viewer.token
  # What earlier set-ups left there: empty directories in place of mounted files, and the keys and
  # certificates of a CA that the host once generated and the cluster no longer trusts.
  find "$host" -mindepth 1 -maxdepth 1 -type d -empty -delete
  for f in "$host"/*.crt "$host"/*.key "$host"/*.csv "$host"/*.token; do
    case ${f##*/} in
      ca.crt | admin.crt | admin.key | admin.token | viewer.token) ;;
      *) if [ -f "$f" ]; then rm -f "$f"; echo "pki-init: removed stale build/pki/${f##*/}"; fi ;;
    esac
  done
  python -m podplane.componentbase.kubeconfig "$all" \
    --server "https://localhost:${PODPLANE_APISERVER_REST_PORT:-8443}" \
    --out "$hostdir/kubeconfig" --viewer-out "$hostdir/kubeconfig-viewer"
  owner=$(stat -c %u:%g /host)
  chown -R "$owner" "$host" "$hostdir/kubeconfig" "$hostdir/kubeconfig-viewer" 2>/dev/null || true
  [ "$hostdir" = /host ] || chown "$owner" "$hostdir" 2>/dev/null || true
  echo "pki-init: ${host#/host/}: $(ls "$host" | tr '\n' ' ')(owner $owner)"
fi
