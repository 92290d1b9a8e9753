#!/usr/bin/env bash
# make load-image IMAGE=NAME[:TAG] [IMAGE=...]: makes an image built on the host available to
# every node of the compose cluster, as `kind load docker-image` does for kind's nodes:
#   - loaded into the engine each node's pods run on (docker save, then docker load, or on a
#     containerd node ctr images import into containerd's k8s.io namespace), every node at once,
#     so a pod runs it with imagePullPolicy IfNotPresent or Never whatever its name;
#   - and, for a Docker Hub name (`myapp:1`, `me/app`), pushed to the cluster's registry, the
#     nodes' Docker Hub mirror, so that a pull (imagePullPolicy Always, the default for :latest)
#     finds it as it would on docker.io, and a node that starts later gets it too.
# Usage: scripts/load-image.sh IMAGE...
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "load-image: $*" >&2; }
(($#)) || { log "usage: make load-image IMAGE=NAME[:TAG]"; exit 2; }

# The node containers of the running compose project (services node-1, node-2, ...).
mapfile -t nodes < <(docker compose ps --status running --format '{{.Service}} {{.ID}}' \
  | awk '$1 ~ /^node-/ {print $2}')
((${#nodes[@]})) || { log "no node is running: make up first"; exit 1; }

# NAME as Docker Hub spells it (library/ for official-style names, :latest when untagged), or
# nothing when the name is another registry's (its first part has a dot or a port, or is
# localhost).
hub_path() {
  local ref=$1 first rest
  [[ $ref == */* ]] && first=${ref%%/*} || first=""
  if [[ -n $first && ( $first == *.* || $first == *:* || $first == localhost ) ]]; then
    [[ $first == docker.io || $first == index.docker.io ]] || return 0
    ref=${ref#*/}
  fi
  [[ $ref == */* ]] || ref=library/$ref
  rest=${ref##*/}
  [[ $rest == *:* || $rest == *@* ]] || ref=$ref:latest
  echo "$ref"
}

# Into the engine that runs a node's pods: containerd's k8s.io namespace on a containerd node
# (CONTAINER_RUNTIME=containerd), where its CRI plugin finds images (as `kind load docker-image`),
# its Docker engine otherwise; and the first node's Docker engine, which pushes to the registry.
load_into() {  # NODE ARCHIVE PUSHER(0|1)
  local node=$1 archive=$2 pusher=$3
  if [[ $(docker exec "$node" printenv CONTAINER_RUNTIME 2>/dev/null) == containerd ]]; then
    docker exec -i "$node" ctr -n k8s.io images import - <"$archive" >/dev/null
    ((pusher)) || return 0
  fi
  docker exec -i "$node" docker load -q <"$archive" >/dev/null
}

archive=$(mktemp --suffix .tar)
trap 'rm -f "$archive"' EXIT
for image in "$@"; do
  docker image inspect "$image" >/dev/null 2>&1 \
    || { log "no image $image on this host (docker build -t $image ... first)"; exit 1; }
  # Saved once, loaded into every node at once.
  docker save "$image" -o "$archive"
  loads=()
  for i in "${!nodes[@]}"; do
    load_into "${nodes[i]}" "$archive" $((i == 0)) &
    loads+=($!)
  done
  for load in "${loads[@]}"; do wait "$load"; done
  log "loaded $image into ${#nodes[@]} nodes"
  path=$(hub_path "$image")
  if [[ -z $path ]]; then
    log "$image is not a Docker Hub name: pods must not pull it (imagePullPolicy IfNotPresent)"
    continue
  fi
  # From inside a node: its engine reaches the registry (registry:5000, its mirror).
  docker exec "${nodes[0]}" sh -c \
    "docker tag '$image' 'registry:5000/$path' && docker push -q 'registry:5000/$path' >/dev/null \
     && docker rmi -f 'registry:5000/$path' >/dev/null"
  log "pushed $image to the cluster registry as docker.io/$path"
done
