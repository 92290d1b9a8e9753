# podplane-node:dev, a node: its own Docker engine (Docker in Docker) and the kubelet, plus the
# pod images (busybox, the pause sandbox) as root filesystems that the entrypoint imports into the
# inner engine, so pods start without any registry. Build from the repository root:
#   docker build -f docker/node.Dockerfile --target node -t podplane-node:dev .
# Self-contained (not FROM podplane:dev) so that Compose may build both images in any order;
# the stages python, venv and app are podplane.Dockerfile's, word for word, and come from the
# same cache.
ARG BASE_IMAGE=debian:bookworm-slim
# The control-plane machines' image is a node's with the control plane's image added: `make
# up-ha` builds it FROM the seeded podplane-node:dev (scripts/seed-node-image.sh), so that seeding
# it imports only the control plane's image; by default, FROM this file's node.
ARG CONTROL_PLANE_NODE_FROM=node

# The pod images' busybox, built as Docker Hub's busybox:latest is (docker/busybox-rootfs.sh says
# how and why). The first stage, so that `docker build --target busybox-rootfs` builds it alone:
# the integration tests' pod images (tests/integration/pod_images.py) are this stage's root
# filesystem, from the same layer cache.
FROM ${BASE_IMAGE} AS busybox-rootfs
COPY docker/busybox-rootfs.sh /usr/local/bin/busybox-rootfs
RUN sh /usr/local/bin/busybox-rootfs /opt/podplane/images/busybox

FROM ${BASE_IMAGE} AS python
ENV DEBIAN_FRONTEND=noninteractive
# tzdata: the IANA time zones of CronJobs' spec.timeZone (Python's zoneinfo reads them).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/*

FROM python AS venv
COPY requirements.txt docker/install-venv.sh /tmp/podplane/
COPY build/wheelhouse/ /tmp/podplane/wheelhouse/
RUN sh /tmp/podplane/install-venv.sh /tmp/podplane/requirements.txt /tmp/podplane/wheelhouse

FROM python AS app
COPY . /tmp/src
RUN sh /tmp/src/docker/collect-app.sh /tmp/src

# The iptables the nodes and kube-proxy share: Debian's, with its default backend (nf_tables). The
# node's engine and entrypoint write rules with it and kube-proxy's pods with the same, so both
# see one set of tables.
FROM python AS netbase
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables \
 && rm -rf /var/lib/apt/lists/*

# The add-ons' image's lower layer: Python, a venv with only what `python -m clusterdns`,
# `python -m proxy` and `python -m metricsserver` import, and iptables; without what they never read (pip, apt and dpkg with
# their database, perl, time zones, iconv's converters, translations, manuals), which each node
# would store and unpack at every start, all nodes at once. Its upper layer is the app's.
FROM netbase AS components-base
# HAProxy: the ingress controller's data plane (docker/addons/ingress-haproxy.yaml).
RUN apt-get update \
 && apt-get install -y --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/*
COPY requirements.txt docker/install-venv.sh /tmp/podplane/
COPY build/wheelhouse/ /tmp/podplane/wheelhouse/
RUN rm -rf /var/lib/apt/lists/* /var/cache/apt/* \
 && grep -E '^(grpcio|grpcio-reflection|grpcio-health-checking|protobuf|PyYAML|prometheus-client|dnspython|aiohttp|cryptography)==' \
      /tmp/podplane/requirements.txt >/tmp/podplane/components-requirements.txt \
 && sh /tmp/podplane/install-venv.sh /tmp/podplane/components-requirements.txt /tmp/podplane/wheelhouse \
 && /opt/podplane/venv/bin/python -m pip uninstall -q -y pip setuptools \
 && rm -rf /tmp/podplane /usr/share/doc/* /usr/share/man/* /usr/share/locale/* \
      /usr/share/python-wheels /usr/share/zoneinfo /usr/share/lintian /usr/share/info \
      /usr/share/common-licenses /usr/share/bash-completion /usr/share/perl5 \
      /var/lib/dpkg /var/lib/apt /var/cache/apt /var/cache/debconf /var/log/* \
      /usr/lib/apt /usr/bin/apt* /usr/lib/x86_64-linux-gnu/libapt-* /usr/bin/perl* \
      /usr/lib/x86_64-linux-gnu/perl-base /usr/lib/x86_64-linux-gnu/gconv \
      /usr/sbin/e2fsck /usr/sbin/debugfs /usr/sbin/mke2fs /usr/sbin/e2image \
      /usr/lib/python3.11/pydoc_data /usr/lib/python3.11/lib2to3 /usr/lib/python3.11/idlelib \
      /usr/lib/python3.11/ensurepip

# The upper layer of both: the app, and `python`, the venv's run from the app's folder, so that
# `python -m clusterdns` (or proxy, or apiserver) finds it.
FROM python AS app-root
COPY --from=app /opt/podplane/app /root-fs/opt/podplane/app
RUN mkdir -p /root-fs/usr/local/bin \
 && printf '#!/bin/sh\ncd /opt/podplane/app && exec /opt/podplane/venv/bin/python "$@"\n' \
      >/root-fs/usr/local/bin/python \
 && chmod 0755 /root-fs/usr/local/bin/python

# The pod images as `docker save` writes them (docker/image-archive.py), one layer per stage so
# that each is made again only when its own files change: the node streams them into its runtime
# at start-up (docker/node-entrypoint.sh), nothing to tar or hash there.
FROM python AS layer-tool
COPY docker/image-archive.py /usr/local/bin/image-archive

FROM layer-tool AS busybox-layer
COPY --from=busybox-rootfs /opt/podplane/images/busybox /root-fs
RUN python3 /usr/local/bin/image-archive layer /root-fs /layers/busybox && rm -rf /root-fs

FROM layer-tool AS components-base-layer
COPY --from=components-base / /root-fs
RUN python3 /usr/local/bin/image-archive layer /root-fs /layers/components-base && rm -rf /root-fs

FROM layer-tool AS app-layer
COPY --from=app-root /root-fs /root-fs
RUN python3 /usr/local/bin/image-archive layer /root-fs /layers/app && rm -rf /root-fs

FROM netbase AS node
# containerd from trixie, the rest from bookworm (docker/apt/trixie.sources says why): the lists
# fetched again with trixie's.
COPY docker/apt/trixie.sources /etc/apt/sources.list.d/podplane-trixie.sources
COPY docker/apt/trixie.pref /etc/apt/preferences.d/podplane-trixie
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      docker.io containerd containernetworking-plugins crun iproute2 busybox-static procps \
 && containerd --version | grep -q ' 1\.7\.' \
 && rm -rf /var/lib/apt/lists/*
COPY --from=busybox-layer /layers /opt/podplane/layers
COPY --from=components-base-layer /layers /opt/podplane/layers
COPY --from=app-layer /layers /opt/podplane/layers
# The images: their manifests and configs, made here over the digests of the layers this image
# holds. Not in a stage of their own from the layer stages' digests alone: BuildKit may take one
# COPY of a stage from its cache and another from an earlier build of the same stage (a layer is
# made again with new files' times, so a new digest), and the configs would then name layers the
# image does not hold (containerd: "wrong diff id calculated on extraction"). busybox and the
# pause sandbox (the same busybox, a command that exits at once on SIGTERM/SIGINT); the add-ons,
# one image under four names: podplane/clusterdns:dev (docker/addons/cluster-dns.yaml),
# podplane/kube-proxy:dev (docker/addons/kube-proxy.yaml), podplane/metrics-server:dev
# (docker/addons/metrics-server.yaml) and podplane/ingress-haproxy:dev
# (docker/addons/ingress-haproxy.yaml), whose pods name their commands.
COPY docker/image-archive.py /usr/local/bin/image-archive
RUN set -e; image() { python3 /usr/local/bin/image-archive image "$@" --layers /opt/podplane/layers; }; \
    image /opt/podplane/images/pods --layer busybox --tag busybox:latest --cmd '["sh"]'; \
    image /opt/podplane/images/pods --layer busybox --tag podplane/pause:3.9 \
      --cmd '["sh", "-c", "trap \"exit 0\" TERM INT; while :; do sleep 3600 & wait $!; done"]'; \
    image /opt/podplane/images/components --layer components-base --layer app \
      --tag podplane/clusterdns:dev --tag podplane/ingress-haproxy:dev \
      --tag podplane/kube-proxy:dev --tag podplane/metrics-server:dev \
      --cmd '["python", "-m", "clusterdns"]' \
      --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY docker/node-entrypoint.sh /usr/local/bin/node-entrypoint
COPY docker/node-images.sh /usr/local/lib/podplane/node-images.sh
COPY docker/containerd-seed.sh /usr/local/bin/containerd-seed
COPY docker/podctl /usr/local/bin/podctl
COPY docker/crun-oci-1.1.sh /usr/local/bin/crun-oci-1.1
RUN mkdir -p /var/lib/kubelet /var/lib/docker /var/log/podplane \
 && chmod 0755 /usr/local/bin/node-entrypoint /usr/local/bin/containerd-seed /usr/local/bin/podctl /usr/local/bin/crun-oci-1.1
COPY --from=venv /opt/podplane/venv /opt/podplane/venv
ENV PATH=/opt/podplane/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONPATH=/opt/podplane/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DOCKER_HOST=unix:///var/run/docker.sock
WORKDIR /opt/podplane/app
COPY --from=app /opt/podplane/app /opt/podplane/app
ENTRYPOINT ["/usr/local/bin/node-entrypoint"]

# The control plane's image's lower layer (podplane/control-plane:dev, which the static pods of a
# control-plane node run: adm/manifests.py): Python, etcd and every runtime dependency. Imported
# only by a node started with CONTROL_PLANE_MEMBERS (docker-compose.ha.yml).
FROM netbase AS control-plane-base
COPY requirements.txt docker/install-venv.sh /tmp/podplane/
COPY build/wheelhouse/ /tmp/podplane/wheelhouse/
RUN apt-get update \
 && apt-get install -y --no-install-recommends etcd-server etcd-client \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* \
 && sh /tmp/podplane/install-venv.sh /tmp/podplane/requirements.txt /tmp/podplane/wheelhouse \
 && rm -rf /tmp/podplane /var/cache/debconf/*-old /var/lib/dpkg/*-old

FROM layer-tool AS control-plane-base-layer
COPY --from=control-plane-base / /root-fs
RUN python3 /usr/local/bin/image-archive layer /root-fs /layers/control-plane-base \
 && rm -rf /root-fs

# podplane-node-cp:dev, a control-plane machine of the highly available profile
# (docker-compose.ha.yml): a node that also carries the control plane's image,
# podplane/control-plane:dev, which its static pods run (adm/manifests.py). A target of its own,
# so that the default cluster's nodes neither build nor carry its 360 MB:
#   docker build -f docker/node.Dockerfile --target control-plane-node -t podplane-node-cp:dev .
FROM ${CONTROL_PLANE_NODE_FROM} AS control-plane-node
COPY --from=control-plane-base-layer /layers /opt/podplane/layers
# Its config over the layers this image holds (the app's is the node image's, below it), as the
# node's are made.
RUN python3 /usr/local/bin/image-archive image /opt/podplane/images/control-plane \
      --layers /opt/podplane/layers --layer control-plane-base --layer app \
      --tag podplane/control-plane:dev --cmd '["python"]' \
      --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
