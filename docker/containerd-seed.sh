#!/bin/bash
# containerd-seed OUT: containerd's state with this node image's pod images in it, made once when
# the image is built (scripts/seed-node-image.sh runs it in a container of the image, with
# /var/lib/containerd a fresh volume) instead of at every node's start; kind's node images carry
# their images imported in the same way. A real containerd imports and unpacks every archive under
# /opt/podplane/images (docker/node-images.sh, as the node would at its start); OUT/store.tar is
# then what goes to /opt/podplane/containerd-store/SEED in the image:
#   SEED/state        /var/lib/containerd as containerd left it (its metadata, the images'
#                     manifests and configs), which a node copies into its containerd volume when
#                     that is new (docker/node-entrypoint.sh);
#   SEED/snapshots    the unpacked layers (ID/fs): in the state each layer's directory is a link
#                     to its place here, and each layer's blob a link to the layer in
#                     /opt/podplane/layers. The nodes share one read-only copy of the layers (the
#                     lower directories of their pods' overlay mounts) and copy only the state, a
#                     few hundred kilobytes, where importing wrote and hashed 300 MB on each.
# SEED identifies the archives, and the state says which it is (podplane-seed): a node whose
# volume holds the state of another build of the image starts afresh from this one's. OUT/store.tar
# also says which seed is the image's (/opt/podplane/containerd-store/current).
#
# An image built FROM a seeded one (the control-plane machines', FROM the seeded node image)
# starts from that seed: only the archives it adds are imported, only their layers go to its own
# SEED/snapshots, and its state links to the base seed's layers for the others.
set -euo pipefail
out=${1:?usage: containerd-seed OUT}
log() { echo "containerd-seed: $*" >&2; }
root=/var/lib/containerd
CONTAINERD_SOCK=/run/containerd-seed/containerd.sock
source /usr/local/lib/podplane/node-images.sh

if [[ -n $(ls -A "$root") ]]; then log "$root is not empty"; exit 1; fi
base=$(cat "$CONTAINERD_STORES/current" 2>/dev/null || true)
if [[ -n $base ]]; then
  cp -a "$CONTAINERD_STORES/$base/state/." "$root/"
  log "starting from the base image's seed $base"
fi
mkdir -p /run/containerd-seed
# Only what importing needs: the CRI plugin starts with the node, and finds the images there.
cat >/run/containerd-seed/config.toml <<EOT
version = 2
root = "$root"
state = "/run/containerd-seed/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CONTAINERD_SOCK"
EOT
containerd --config /run/containerd-seed/config.toml >/run/containerd-seed/containerd.log 2>&1 &
pid=$!
for ((i = 0; i < 300; i++)); do
  ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat /run/containerd-seed/containerd.log >&2; exit 1; }
  sleep 0.1
done
archives=()
for dir in "$IMAGES"/*/; do archives+=("$(basename "$dir")"); done
for archive in "${archives[@]}"; do load_archive "$archive" containerd; done
kill -TERM "$pid"
wait "$pid" || true

seed=$(for archive in "${archives[@]}"; do archive_id "$archive"; done | sha256sum | cut -c1-16)
store=$CONTAINERD_STORES/$seed
mkdir -p "$out/store/$seed/snapshots"
snapshots=$root/io.containerd.snapshotter.v1.overlayfs/snapshots
for fs in "$snapshots"/*/fs; do
  [[ ! -L $fs ]] || continue # a layer of the base image's seed, which stays there
  id=$(basename "$(dirname "$fs")")
  # A whiteout is a 0/0 character device in an unpacked layer: an image layer of Docker's own
  # would turn it into a deletion. None of these images deletes anything from a lower layer.
  if [[ -n $(find "$fs" -type c -exec stat -c '%t%T %n' {} + | awk '$1 == "00" { print $2; exit }') ]]; then
    log "layer $id holds a whiteout, which the node image cannot carry"; exit 1
  fi
  mkdir -p "$out/store/$seed/snapshots/$id"
  mv "$fs" "$out/store/$seed/snapshots/$id/fs"
  ln -s "$store/snapshots/$id/fs" "$fs"
done
for layer in /opt/podplane/layers/*/; do
  blob=$root/io.containerd.content.v1.content/blobs/$(sed 's|:|/|' "$layer/diff_id")
  if [[ -f $blob && ! -L $blob ]]; then ln -sf "${layer%/}/layer.tar" "$blob"; fi
done
echo "$seed" >"$root/podplane-seed"
cp -a "$root" "$out/store/$seed/state"
echo "$seed" >"$out/store/current"
tar --numeric-owner -C "$out/store" -cf "$out/store.tar" .
rm -rf "$out/store"
log "seed $seed: $(paste -sd ' ' < <(for a in "${archives[@]}"; do archive_tags "$a"; done))"
