# podplane-lb:dev, the load balancer in front of the apiservers of the highly available profile
# (docker-compose.ha.yml): Debian's HAProxy, as kubeadm's high-availability guide sets it up.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/*
COPY haproxy.cfg /etc/haproxy/haproxy.cfg
# -W: master-worker; -db: in the foreground, logs to stdout.
CMD ["haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg"]
