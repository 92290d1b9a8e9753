#!/bin/sh
# The compose project's addon-manager (image podplane:dev), as kube-up's kube-addon-manager: keeps
# the cluster's add-ons applied, as the cluster admin, every ADDON_INTERVAL seconds (default 60,
# kube-addon-manager's ADDON_CHECK_INTERVAL_SEC), in one process (podctl addon-manager):
# docker/addons: kube-proxy's service account, its binding to system:node-proxier and the
# DaemonSet kube-proxy; the cluster DNS's service account and its ClusterRole and binding, the
# Service kube-dns at 10.96.0.10 and the Deployment coredns; the metrics server; the pod routes'
# and Prometheus' RBAC. A deleted or edited add-on object is put back at the next pass. Until a
# pass has succeeded (the apiserver may be starting beside it), it tries again every second.
set -u
pki=/etc/podplane/pki
export PODPLANE_SERVER=${PODPLANE_SERVER:-apiserver:6443}
export PODPLANE_CA=$pki/ca.crt PODPLANE_CERT=$pki/admin.crt PODPLANE_KEY=$pki/admin.key
exec podctl addon-manager -f /etc/podplane/addons --interval "${ADDON_INTERVAL:-60}"
