#!/bin/sh
# The compose project's addon-manager (image podplane:dev), as kube-up's kube-addon-manager: keeps
# the cluster's add-ons applied. Every ADDON_INTERVAL seconds (default 60, kube-addon-manager's
# ADDON_CHECK_INTERVAL_SEC), as the cluster admin:
# podctl apply -f /etc/podplane/addons (docker/addons: kube-proxy's service account, its binding
# to system:node-proxier and the DaemonSet kube-proxy; the cluster DNS's service account and its
# ClusterRole and binding, the Service kube-dns at 10.96.0.10 and the Deployment coredns).
# A deleted or edited add-on object is put back at the next pass. Until a pass has succeeded
# (the apiserver may be starting beside it), it tries again every second. Healthy (/tmp/applied)
# once a pass has succeeded; `docker compose up --wait` waits for that.
set -u
pki=/etc/podplane/pki addons=/etc/podplane/addons interval=${ADDON_INTERVAL:-60}
export PODPLANE_SERVER=${PODPLANE_SERVER:-apiserver:6443}
export PODPLANE_CA=$pki/ca.crt PODPLANE_CERT=$pki/admin.crt PODPLANE_KEY=$pki/admin.key

log() { echo "addon-manager: $*" >&2; }

trap 'exit 0' TERM INT
while :; do
  if podctl apply -f "$addons" >/tmp/apply.log 2>&1; then
    # Each change once in the log, not every pass's "unchanged".
    grep -v ' unchanged$' /tmp/apply.log >&2 || true
    [ -f /tmp/applied ] || log "add-ons applied: $(ls "$addons" | tr '\n' ' ')"
    touch /tmp/applied
  elif [ ! -f /tmp/applied ]; then
    # Not applied yet: the apiserver is starting, or something else, said once.
    if ! cmp -s /tmp/apply.log /tmp/apply.last; then
      log "apply failed (again every 1s until it succeeds):"
      cat /tmp/apply.log >&2
      cp /tmp/apply.log /tmp/apply.last
    fi
    sleep 1 &
    wait $!
    continue
  else
    log "apply failed (again in ${interval}s):"
    cat /tmp/apply.log >&2
  fi
  sleep "$interval" &
  wait $!
done
