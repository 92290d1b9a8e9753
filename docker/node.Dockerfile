# podplane-node:dev, a node: its own Docker engine (Docker in Docker) and the kubelet, plus the
# pod images (busybox, the pause sandbox) as root filesystems that the entrypoint imports into the
# inner engine, so pods start without any registry. Build from the repository root:
#   docker build -f docker/node.Dockerfile -t podplane-node:dev .
# Self-contained (not FROM podplane:dev) so that Compose may build both images in any order;
# the stages python, venv and app are podplane.Dockerfile's, word for word, and come from the
# same cache.
ARG BASE_IMAGE=debian:bookworm-slim

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

# The pod images as plain root filesystems: busybox, and the pause sandbox, which is the same
# busybox (the pause command is set on import).
FROM python AS pod-images
COPY --from=busybox-rootfs /opt/podplane/images/busybox /opt/podplane/images/busybox
COPY --from=busybox-rootfs /opt/podplane/images/busybox /opt/podplane/images/pause

# The iptables the nodes and kube-proxy share: Debian's, with its default backend (nf_tables). The
# node's engine and entrypoint write rules with it and kube-proxy's pods with the same, so both
# see one set of tables.
FROM python AS netbase
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables \
 && rm -rf /var/lib/apt/lists/*

# The add-ons' image as a root filesystem: Python, a venv with only what `python -m clusterdns`
# and `python -m proxy` import, iptables and the app. The entrypoint imports it as
# podplane/clusterdns:dev (docker/addons/cluster-dns.yaml) and podplane/kube-proxy:dev
# (docker/addons/kube-proxy.yaml), one image under two names, and publishes both to the cluster
# registry.
FROM netbase AS components-image
COPY requirements.txt docker/install-venv.sh /tmp/podplane/
COPY build/wheelhouse/ /tmp/podplane/wheelhouse/
RUN rm -rf /var/lib/apt/lists/* /var/cache/apt/* \
 && grep -E '^(grpcio|grpcio-reflection|grpcio-health-checking|protobuf|PyYAML|prometheus-client|dnspython|aiohttp)==' \
      /tmp/podplane/requirements.txt >/tmp/podplane/components-requirements.txt \
 && sh /tmp/podplane/install-venv.sh /tmp/podplane/components-requirements.txt /tmp/podplane/wheelhouse \
 && rm -rf /tmp/podplane /var/cache/debconf/*-old /var/lib/dpkg/*-old
COPY --from=app /opt/podplane/app /opt/podplane/app
# `python` runs the venv's from the app's folder, so that `python -m clusterdns` (or proxy) finds
# it.
RUN printf '#!/bin/sh\ncd /opt/podplane/app && exec /opt/podplane/venv/bin/python "$@"\n' \
      >/usr/local/bin/python \
 && chmod 0755 /usr/local/bin/python

# The control plane's image (podplane/control-plane:dev), which the static pods of a control-plane
# node run (adm/manifests.py: etcd, the apiserver, the controller-manager, the scheduler): the
# components' image with etcd and every runtime dependency. Imported by the entrypoint only on a
# node started with CONTROL_PLANE_MEMBERS (docker-compose.ha.yml).
FROM components-image AS control-plane-image
COPY requirements.txt docker/install-venv.sh /tmp/podplane/
COPY build/wheelhouse/ /tmp/podplane/wheelhouse/
RUN apt-get update \
 && apt-get install -y --no-install-recommends etcd-server etcd-client \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* \
 && sh /tmp/podplane/install-venv.sh /tmp/podplane/requirements.txt /tmp/podplane/wheelhouse \
 && rm -rf /tmp/podplane /var/cache/debconf/*-old /var/lib/dpkg/*-old

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
COPY --from=pod-images /opt/podplane/images /opt/podplane/images
COPY --from=components-image / /opt/podplane/images/components/
COPY --from=control-plane-image / /opt/podplane/images/control-plane/
COPY docker/node-entrypoint.sh /usr/local/bin/node-entrypoint
COPY docker/podctl /usr/local/bin/podctl
COPY docker/crun-oci-1.1.sh /usr/local/bin/crun-oci-1.1
RUN mkdir -p /var/lib/kubelet /var/lib/docker /var/log/podplane \
 && chmod 0755 /usr/local/bin/node-entrypoint /usr/local/bin/podctl /usr/local/bin/crun-oci-1.1
COPY --from=venv /opt/podplane/venv /opt/podplane/venv
ENV PATH=/opt/podplane/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONPATH=/opt/podplane/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DOCKER_HOST=unix:///var/run/docker.sock
WORKDIR /opt/podplane/app
COPY --from=app /opt/podplane/app /opt/podplane/app
ENTRYPOINT ["/usr/local/bin/node-entrypoint"]
