#!/usr/bin/env bash
# make load-image IMAGE=NAME[:TAG] [IMAGE=...]: makes an image built on the host available to
# every node of the compose cluster, as `kind load docker-image` does for kind's nodes:
#   - loaded into each node's engine (docker save | docker load), and on a containerd node into
#     containerd's k8s.io namespace (ctr images import), so a pod runs it with
#     imagePullPolicy IfNotPresent or Never whatever its name;
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

for image in "$@"; do
  docker image inspect "$image" >/dev/null 2>&1 \
    || { log "no image $image on this host (docker build -t $image ... first)"; exit 1; }
  for node in "${nodes[@]}"; do
    docker save "$image" | docker exec -i "$node" docker load -q >/dev/null
    # A node whose pods run on containerd (CONTAINER_RUNTIME=containerd): into its k8s.io
    # namespace too, where its CRI plugin finds images (as `kind load docker-image`).
    if [[ $(docker exec "$node" printenv CONTAINER_RUNTIME 2>/dev/null) == containerd ]]; then
      docker save "$image" | docker exec -i "$node" ctr -n k8s.io images import - >/dev/null
    fi
  done
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
