# The pod images of a node (sourced by docker/node-entrypoint.sh and docker/containerd-seed.sh):
# archives in `docker save`'s format under $IMAGES, made when the node image was built
# (docker/node.Dockerfile, stage node; docker/image-archive.py), streamed into the runtime the
# kubelet runs pods with: containerd's k8s.io namespace at $CONTAINERD_SOCK (as `kind load
# docker-image` does) or the inner Docker engine. The caller defines log().
#
# containerd keeps, beside its own state, the identity of each archive it has loaded
# ($CONTAINERD_LOADED/ARCHIVE): a node's containerd state is a volume that outlives the node's
# container, and an archive of a rebuilt node image (new add-ons) must replace what an older one
# loaded there, not be taken for it because the names are the same. A seeded node image has them
# in containerd already (seed_containerd, below).
IMAGES=${IMAGES:-/opt/podplane/images}
CONTAINERD_SOCK=${CONTAINERD_SOCK:-/run/containerd/containerd.sock}
CONTAINERD_LOADED=${CONTAINERD_LOADED:-/var/lib/containerd/podplane-loaded}
# A seeded node image's seeds (docker/containerd-seed.sh): SEED/{state,snapshots}, and `current`
# naming the image's own.
CONTAINERD_STORES=/opt/podplane/containerd-store

archive_tags() { # ARCHIVE -> its images' names, one per line
  python3 -c 'import json, sys; print("\n".join(t for i in json.load(open(sys.argv[1])) for t in i["RepoTags"]))' \
    "$IMAGES/$1/manifest.json"
}

archive_id() { # ARCHIVE -> what identifies its images: the digests of its manifest and configs
  (cd "$IMAGES/$1" && sha256sum ./*.json) | sha256sum | cut -c1-16
}

docker_io_name() { # NAME -> docker.io/library/NAME:latest, as containerd normalizes it
  local ref=$1
  [[ $ref == *:* ]] || ref=$ref:latest
  [[ $ref == */* ]] || ref=library/$ref
  echo "docker.io/$ref"
}

containerd_has() { # NAME...: every one is an image of containerd's k8s.io namespace
  local have tag
  have=$(ctr --address "$CONTAINERD_SOCK" -n k8s.io images ls -q)
  for tag; do grep -qxF "$(docker_io_name "$tag")" <<<"$have" || return 1; done
}

load_archive() { # ARCHIVE RUNTIME(containerd|docker): unless the runtime has its images already
  local tags tag id
  tags=$(archive_tags "$1")
  if [[ $2 == containerd ]]; then
    id=$(archive_id "$1")
    if [[ $(cat "$CONTAINERD_LOADED/$1" 2>/dev/null) == "$id" ]] && containerd_has $tags; then
      return 0
    fi
    tar -c -h -C "$IMAGES/$1" . | ctr --address "$CONTAINERD_SOCK" -n k8s.io images import - >/dev/null
    mkdir -p "$CONTAINERD_LOADED"
    echo "$id" >"$CONTAINERD_LOADED/$1"
    log "loaded $(paste -sd ' ' <<<"$tags") into containerd"
  else
    for tag in $tags; do
      docker image inspect "$tag" >/dev/null 2>&1 || {
        tar -c -h -C "$IMAGES/$1" . | docker load -q >/dev/null
        log "loaded $(paste -sd ' ' <<<"$tags") into the inner engine"
        return 0
      }
    done
  fi
}

# A seeded node image (scripts/seed-node-image.sh) carries containerd's state with the pod images
# in it: a new volume starts as that state, and the kubelet finds the images there. A volume with
# the state of another build of the image (a node recreated for a new image keeps its volume)
# starts afresh: the layers it links to went with that image, as a machine's disk is wiped when
# it is reinstalled. A volume that was never seeded, or a node of the plain image (`docker compose
# build`), is left to load_archive.
seed_containerd() {
  local root=/var/lib/containerd seed had
  seed=$(cat "$CONTAINERD_STORES/current" 2>/dev/null || true)
  had=$(cat "$root/podplane-seed" 2>/dev/null || true)
  [[ $had != "$seed" ]] || return 0
  if [[ -n $had ]]; then
    log "containerd's volume holds the pod images of another build of this image ($had): starting it afresh"
    find "$root" -mindepth 1 -delete
  elif [[ -n $(ls -A "$root") ]]; then
    return 0
  fi
  [[ -n $seed ]] || return 0
  cp -a "$CONTAINERD_STORES/$seed/state/." "$root/"
  log "containerd starts with the pod images in it ($seed)"
}
