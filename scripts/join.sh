#!/usr/bin/env bash
# Adds a worker to the running highly available cluster (docker-compose.ha.yml), as
# `kubeadm token create --print-join-command` and `kubeadm join` do between them: a bootstrap
# token (podctl token create, one hour), a pod CIDR no node has, and a Docker-in-Docker node
# started outside the compose project (plain `docker run`) whose kubelet asks for its client
# certificate with the token (TLS bootstrapping: the csrapproving controller approves it) and
# for its serving certificate with its own credentials (approved here, as an administrator
# approves them). Waits until the Node is Ready and prints its name.
# Usage: scripts/join.sh [NAME]     (default worker-N, N from its pod CIDR 10.244.N.0/24)
# Environment: JOIN_NETWORK (default podplane-ha_cluster), JOIN_SERVER (lb:6443) and
# JOIN_TOKEN_SERVER (lb:6444) as the new node reaches the load balancer, KUBECONFIG (default
# build/ha/kubeconfig), PODPLANE_HA_GRPC_PORT (9441), JOIN_TIMEOUT (180 s), and the node's runtime
# as the cluster's: PODPLANE_CONTAINER_RUNTIME (containerd) and PODPLANE_OCI_RUNTIME (crun).
set -euo pipefail
cd "$(dirname "$0")/.."

network=${JOIN_NETWORK:-podplane-ha_cluster}
server=${JOIN_SERVER:-lb:6443} token_server=${JOIN_TOKEN_SERVER:-lb:6444}
timeout=${JOIN_TIMEOUT:-180}
export KUBECONFIG=${KUBECONFIG:-$PWD/build/ha/kubeconfig}
pki=$(dirname "$KUBECONFIG")/pki
kubectl=.venv/bin/kubectl
log() { echo "join: $*" >&2; }

# A pod CIDR no node has: the first free 10.244.N.0/24 (N from 1).
taken=$("$kubectl" get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.spec.podCIDR}{"\n"}{end}')
for ((n = 1; n < 200; n++)); do
  grep -q "=10\.244\.$n\.0/24$" <<<"$taken" || break
done
cidr=10.244.$n.0/24 name=${1:-worker-$n}
if grep -q "^$name=" <<<"$taken"; then log "a node $name exists already"; exit 1; fi

token=$(PODPLANE_SERVER=localhost:${PODPLANE_HA_GRPC_PORT:-9441} PODPLANE_CA=$pki/ca.crt \
  PODPLANE_CERT=$pki/admin.crt PODPLANE_KEY=$pki/admin.key \
  .venv/bin/podctl token create --ttl 1h --description "scripts/join.sh $name")
log "node $name, pod CIDR $cidr, bootstrap token ${token%%.*}.<secret>"

docker run -d --name "podplane-ha-$name" --hostname "$name" --label podplane.join=podplane-ha \
  --network "$network" --network-alias "$name" --init \
  --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined \
  --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
  --device-cgroup-rule 'a *:* rwm' --cgroupns private --sysctl net.ipv4.tcp_syn_retries=1 \
  --tmpfs /var/lib/docker:exec --tmpfs /var/lib/kubelet:exec --volume /var/lib/containerd \
  -e CONTAINER_RUNTIME="${PODPLANE_CONTAINER_RUNTIME:-containerd}" -e OCI_RUNTIME="${PODPLANE_OCI_RUNTIME:-crun}" \
  -e POD_CIDR="$cidr" -e CLUSTER_CIDR=10.244.0.0/16 -e POD_ROUTES=api -e POD_ROUTES_SERVER="$server" \
  -e POD_ROUTES_CA=/etc/podplane/join/ca.crt -e POD_ROUTES_CERT=/var/lib/podplane-pki/kubelet-client-current.pem \
  -e POD_ROUTES_KEY=/var/lib/podplane-pki/kubelet-client-current.pem \
  -e JOIN_CA_CERT="$(cat "$pki/ca.crt")" -e JOIN_TOKEN="$token" \
  podplane-node:dev \
  python -m kubelet --server "$server" --node-name "$name" --pod-cidr "$cidr" \
  --ca-file /etc/podplane/join/ca.crt --bootstrap-token-file /etc/podplane/join/token \
  --bootstrap-server "$token_server" --cert-dir /var/lib/podplane-pki --rotate-server-certificates \
  --pod-manifest-path /etc/kubernetes/manifests --cluster-dns 10.96.0.10 \
  --cluster-domain cluster.local --resolv-conf /etc/podplane/pod-resolv.conf >/dev/null

# Its serving certificate's request, approved as an administrator approves it.
deadline=$((SECONDS + timeout))
until csr=$("$kubectl" get csr -o jsonpath="{range .items[?(@.spec.signerName==\"kubernetes.io/kubelet-serving\")]}{.metadata.name} {.spec.username} {.status.conditions[0].type}{\"\\n\"}{end}" \
  | awk -v user="system:node:$name" '$2 == user && $3 == "" { print $1; exit }') && [[ -n $csr ]]; do
  if ((SECONDS >= deadline)); then
    log "no serving certificate request from $name after ${timeout}s"
    docker logs --tail 30 "podplane-ha-$name" >&2 || true
    exit 1
  fi
  sleep 1
done
"$kubectl" certificate approve "$csr" >&2
until "$kubectl" get "node/$name" >/dev/null 2>&1; do
  if ((SECONDS >= deadline)); then log "node $name did not register"; exit 1; fi
  sleep 1
done
"$kubectl" wait --for=condition=Ready "node/$name" --timeout="$((deadline - SECONDS > 10 ? deadline - SECONDS : 10))s" >&2
echo "$name"
