# podplane/python:3.11, the base of the images users build to run in the cluster: Debian's
# Python 3.11 with a virtual environment on PATH. pip cannot reach PyPI from inside a build on
# the hosts podplane is made for, so wheels are downloaded on the host and copied in; pip looks in
# /wheels (docs/kubelet.md#your-own-images):
#   pip download --dest wheels kubernetes
#   FROM podplane/python:3.11
#   COPY wheels/ /wheels/
#   RUN pip install --no-index kubernetes
# Built by `make images` (make python-image alone). Its first stage is podplane.Dockerfile's,
# word for word, so the builds share their cached layers.
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS python
ENV DEBIAN_FRONTEND=noninteractive
# tzdata: the IANA time zones of CronJobs' spec.timeZone (Python's zoneinfo reads them).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/*

FROM python
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PIP_FIND_LINKS=/wheels \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1
WORKDIR /app
CMD ["python3"]
