#!/usr/bin/env bash
# Stops the dockerd that scripts/host-setup.sh started, by the PID it recorded; a no-op when
# host-setup found an engine already running (no pid file), so a user's engine is never touched.
set -euo pipefail
pidfile=${PODPLANE_DOCKERD_PIDFILE:-/run/podplane-dockerd.pid}
[[ -f $pidfile ]] || { echo "stop-dockerd: no $pidfile: not started by host-setup, leaving it" >&2; exit 0; }
pid=$(cat "$pidfile")
if [[ $(cat "/proc/$pid/comm" 2>/dev/null) == dockerd ]]; then
  echo "stop-dockerd: stopping dockerd pid $pid" >&2
  kill -TERM "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && { echo "stop-dockerd: pid $pid still running after 30 s" >&2; exit 1; }
fi
rm -f "$pidfile"
