#!/usr/bin/env bash
# Puts a node image's pod images into containerd once, at build time, instead of at every node's
# start (docker/containerd-seed.sh says how; docker/node-seeded.Dockerfile, what the image gets):
#   scripts/seed-node-image.sh podplane-node:dev [podplane-node-cp:dev ...]
# Each TAG, as just built from docker/node.Dockerfile, is also tagged TAG-unseeded, and TAG
# becomes the seeded image (also TAG-seeded, labelled with the image it was seeded from: a build
# that changed nothing is seeded again in no time). The seeding container runs as a node does
# (the capabilities docker-compose.yml gives its nodes: containerd mounts while it unpacks), on a
# volume of its own that goes with it.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/logs

seed() { # TAG
  local tag=$1 start=$SECONDS out log base
  out=build/node-seed/${tag//[:\/]/-}
  log=build/logs/seed-${tag//[:\/]/-}.log
  base=$(docker image inspect -f '{{.Id}}' "$tag")
  if [[ $(docker image inspect -f '{{index .Config.Labels "podplane.seeded-from"}}' "$tag-seeded" 2>/dev/null) == "$base" ]]; then
    docker tag "$tag-seeded" "$tag"
    echo "    $tag: seeded already" >&2
    return 0
  fi
  rm -rf "$out" && mkdir -p "$out"
  docker tag "$tag" "$tag-unseeded"
  docker run --rm --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined \
    --security-opt apparmor=unconfined --volume /var/lib/containerd --volume "$PWD/$out:/out" \
    --entrypoint /usr/local/bin/containerd-seed "$tag-unseeded" /out >"$log" 2>&1 \
    && docker build -f docker/node-seeded.Dockerfile --build-arg NODE_IMAGE="$tag-unseeded" \
      --label podplane.seeded-from="$base" -t "$tag-seeded" -t "$tag" "$out" >>"$log" 2>&1 \
    || { tail -n 30 "$log" >&2; echo "seeding $tag failed: see $log" >&2; return 1; }
  rm -rf "$out"
  echo "    $tag: its pod images in containerd, seeded in $((SECONDS - start))s (log: $log)" >&2
}

for tag in "$@"; do seed "$tag"; done
