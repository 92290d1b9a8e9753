# podplane:dev, the control-plane image: one image serves etcd, the apiserver, the scheduler and
# the controller-manager, so CI builds it once. Build from the repository root:
#   docker build -f docker/podplane.Dockerfile -t podplane:dev .
# No "# syntax=" line and no RUN --mount: it must build with the classic builder (hosts without
# buildx) and BuildKit alike, without pulling a Dockerfile frontend.
# The first three stages are the same in node.Dockerfile, word for word, so the two builds share
# their cached layers.
ARG BASE_IMAGE=debian:bookworm-slim

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

FROM python AS podplane
RUN apt-get update \
 && apt-get install -y --no-install-recommends etcd-server etcd-client docker-registry iproute2 \
 && rm -rf /var/lib/apt/lists/*
COPY docker/podctl /usr/local/bin/podctl
COPY docker/registry.yml /etc/podplane/registry.yml
COPY --from=venv /opt/podplane/venv /opt/podplane/venv
ENV PATH=/opt/podplane/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONPATH=/opt/podplane/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ETCDCTL_API=3
WORKDIR /opt/podplane/app
COPY --from=app /opt/podplane/app /opt/podplane/app
# The compose project's one-shot `pki` service (python -m podplane.componentbase.pki, then each
# service's share into its own volume).
COPY docker/pki-init.sh /opt/podplane/pki-init.sh
# The compose apiserver, with the routes to the pods beside it.
COPY docker/apiserver-entrypoint.sh /opt/podplane/apiserver-entrypoint.sh
# The compose project's addon-manager: keeps docker/addons (kube-proxy, the cluster DNS) applied.
COPY docker/addon-manager.sh /opt/podplane/addon-manager.sh
COPY docker/addons /etc/podplane/addons
