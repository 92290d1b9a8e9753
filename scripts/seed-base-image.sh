#!/usr/bin/env bash
# Makes sure the base image every podplane Dockerfile starts FROM exists in the local engine:
# already there -> nothing; pullable -> pull the official image; otherwise (hosts without any
# registry) build an equivalent bookworm rootfs with mmdebstrap (or debootstrap) from Debian's
# archive and `docker import` it under the same name, so the Dockerfiles stay unchanged.
# The rootfs tarball is cached in build/rootfs/ (git-ignored) so reruns are instant.
set -euo pipefail
cd "$(dirname "$0")/.."

image=${BASE_IMAGE:-debian:bookworm-slim}
suite=bookworm
cache=build/rootfs/debian-$suite-minbase.tar
log() { echo "seed-base-image: $*" >&2; }

if docker image inspect "$image" >/dev/null 2>&1; then
  log "$image present"; exit 0
fi
if docker pull -q "$image" >/dev/null 2>&1; then
  log "pulled $image"; exit 0
fi
log "cannot pull $image: building it from Debian's archive"

if [[ ! -s $cache ]]; then
  PATH=$PATH:/usr/sbin:/sbin
  # mmdebstrap (apt's parallel downloads, dpkg once: 15 s) where the host has it, as
  # scripts/host-setup.sh installs it; debootstrap (twice that) otherwise. The same minbase.
  tool=$(command -v mmdebstrap || command -v debootstrap) \
    || { log "mmdebstrap and debootstrap missing: run scripts/host-setup.sh"; exit 1; }
  mkdir -p "$(dirname "$cache")"
  rootfs=$(mktemp -d build/rootfs/tmp.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  # /usr merged as in the official image, by mmdebstrap's own hook: otherwise it installs the
  # usrmerge package, and with it perl's 50 MB, into every image and every node's pod images.
  merged_usr=()
  [[ ${tool##*/} == mmdebstrap ]] && merged_usr=(--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr)
  "$tool" --variant=minbase "${merged_usr[@]}" "$suite" "$rootfs" http://deb.debian.org/debian \
    >build/rootfs/bootstrap.log 2>&1 \
    || { log "${tool##*/} failed, see build/rootfs/bootstrap.log"; tail -n 20 build/rootfs/bootstrap.log >&2; exit 1; }
  # Same apt sources and slimness as the official image.
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: http://deb.debian.org/debian
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
  : >"$rootfs/etc/resolv.conf"
  tar --numeric-owner -C "$rootfs" -cf "$cache.part" .
  mv "$cache.part" "$cache"
fi

docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["bash"]' \
  "$cache" "$image" >/dev/null
log "imported $image from $cache"
