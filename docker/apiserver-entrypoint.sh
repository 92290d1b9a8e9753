#!/bin/bash
# The compose apiserver (image podplane:dev): python -m apiserver with the arguments given, and
# beside it the routes to every node's pod CIDR as the Nodes in the API say (python -m adm
# pod-routes, flannel's host-gw, as each node keeps them), so that the apiserver reaches pods as a
# control-plane node on the pod network does: the admission and conversion webhooks and the
# aggregated API servers that run in the cluster, their Services resolved to pod addresses. It
# reads the Nodes as podplane:pod-routes (docker/addons/pod-routes.yaml), retrying until the
# apiserver answers and the add-ons have bound it; its log is the container's, each line naming
# podplane.podroutes.
set -u
pki=/etc/podplane/pki

keep_routes() {
  until [[ -s $pki/pod-routes.crt ]]; do sleep 1; done
  while :; do
    python -m adm pod-routes --server 127.0.0.1:6443 --ca-file "$pki/ca.crt" \
      --cert-file "$pki/pod-routes.crt" --key-file "$pki/pod-routes.key"
    sleep 2
  done
}
keep_routes </dev/null &

exec python -m apiserver "$@"
