#!/usr/bin/env bash
# cluster-address.sh SERVICE PORT FALLBACK: HOST:PORT at which this host reaches the compose
# service SERVICE's PORT on the cluster network (its IP there, which a Linux host routes to),
# else FALLBACK (a published port: Docker Desktop, or the service is not up). A published port
# goes through Docker's userland proxy, which copies every byte both ways in a process of its own.
set -euo pipefail
service=$1 port=$2 fallback=$3
id=$(docker compose ps -q "$service" 2>/dev/null | head -n 1) || id=
network=$(docker compose config --format json 2>/dev/null | python3 -c \
  'import json, sys; print(json.load(sys.stdin)["name"] + "_cluster")' 2>/dev/null) || network=
if [[ -n $id && -n $network ]]; then
  ip=$(docker inspect -f "{{with index .NetworkSettings.Networks \"$network\"}}{{.IPAddress}}{{end}}" \
    "$id" 2>/dev/null) || ip=
  if [[ -n $ip ]] && timeout 1 bash -c "exec 3<>/dev/tcp/$ip/$port" 2>/dev/null; then
    echo "$ip:$port"
    exit 0
  fi
fi
echo "$fallback"
