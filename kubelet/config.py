"""The kubelet's configuration, from its command line (kubelet/options/: one option group per
concern). A bad setting is reported by name and exits with status 2."""

from __future__ import annotations

import argparse
import ssl
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import grpc

from kubelet.logs.rotation import LogPolicy
from kubelet.options import (
    bootstrap,
    dns,
    features,
    node,
    pod_security,
    reserved,
    runtime,
    serving,
)
from podplane.apimachinery.kubelet_endpoints import DEFAULT_GRPC_PORT, DEFAULT_KUBELET_PORT
from podplane.client.credentials import Credentials
from podplane.componentbase import options
from podplane.componentbase.client_flags import ClientOptions
from podplane.componentbase.options import LogOptions, OptionGroup
from podplane.componentbase.serving_flags import MetricsOptions


@dataclass(frozen=True)
class KubeletConfig:
    server: str
    node_name: str
    pod_cidr: str
    # The HTTPS kubelet API (Kubernetes' kubelet API) and podplane's gRPC kubelet service.
    port: int = DEFAULT_KUBELET_PORT
    grpc_port: int = DEFAULT_GRPC_PORT
    node_ip: str = ""
    root_dir: str = "/var/lib/kubelet"
    docker_host: str = "unix:///var/run/docker.sock"
    # A CRI runtime's gRPC endpoint (unix:///run/containerd/containerd.sock); "": Docker at
    # docker_host (kubelet/runtime/cri and kubelet/runtime/docker).
    container_runtime_endpoint: str = ""
    # Where a CRI runtime writes the pods' logs (KubeletConfiguration's podLogsDir).
    pod_logs_dir: str = "/var/log/pods"
    # Container log rotation under a CRI runtime (containerLogMaxSize, containerLogMaxFiles,
    # containerLogMonitorInterval; kubelet/logs/rotation.py).
    log_policy: LogPolicy = field(default_factory=LogPolicy)
    pause_image: str = "podplane/pause:3.9"
    node_labels: dict[str, str] = field(default_factory=dict)
    node_status_update_frequency: float = 10.0
    log_level: str = "INFO"
    # The Prometheus /metrics endpoint; "" disables it.
    metrics_bind_address: str = "0.0.0.0:10255"
    # Resources set aside from the node's allocatable (cpu, memory, ephemeral-storage).
    kube_reserved: dict[str, str] = field(default_factory=dict)
    system_reserved: dict[str, str] = field(default_factory=dict)
    # The directory of static pod manifests; "" runs no static pods.
    pod_manifest_path: str = ""
    # The kubelet API over TLS (--tls-cert-file, --tls-private-key-file), callers' certificates
    # checked against --client-ca-file; all "" serves plaintext.
    tls_cert_file: str = ""
    tls_private_key_file: str = ""
    client_ca_file: str = ""
    # How it proves itself to the apiserver (--ca-file, --cert-file, ...); None: plaintext.
    credentials: Credentials | None = None
    # The pods' DNS (--cluster-dns, --cluster-domain, --resolv-conf): the cluster DNS
    # Service's IP for ClusterFirst pods, the cluster's domain for their search path, and the
    # node's resolver for Default pods.
    cluster_dns: tuple[str, ...] = ()
    cluster_domain: str = ""
    resolv_conf: str = "/etc/resolv.conf"
    # Sysctls pods may set beyond the safe ones (--allowed-unsafe-sysctls: names or prefixes*).
    allowed_unsafe_sysctls: tuple[str, ...] = ()
    # Containers that set no seccomp profile run the runtime's default one (--seccomp-default).
    seccomp_default: bool = False
    # TLS bootstrapping (--bootstrap-token-file, --bootstrap-server, --cert-dir): with no
    # client certificate yet, the kubelet asks for one with this token at this address (the
    # apiserver's token port) and keeps it in cert_dir.
    bootstrap_token_file: str = ""
    bootstrap_server: str = ""
    cert_dir: str = ""
    # Serving certificate from the cluster (--rotate-server-certificates) when none is given.
    rotate_server_certificates: bool = False
    # --feature-gates EventedPLEG=true: the PLEG follows the CRI runtime's container events.
    evented_pleg: bool = False

    def serving_credentials(self) -> grpc.ServerCredentials | None:
        if not self.tls_cert_file:
            return None
        files = [
            open(f, "rb").read()
            for f in (self.tls_private_key_file, self.tls_cert_file, self.client_ca_file)
        ]
        return grpc.ssl_server_credentials(
            [(files[0], files[1])], root_certificates=files[2], require_client_auth=True
        )

    def serving_ssl_context(self) -> ssl.SSLContext | None:
        """The HTTPS API's TLS: the serving certificate, and a client certificate verified
        against --client-ca-file when one is sent (asked for, not required: bearer tokens
        authenticate too), as the kubelet's server asks for them."""
        if not self.tls_cert_file:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.tls_cert_file, self.tls_private_key_file)
        context.load_verify_locations(self.client_ca_file)
        context.verify_mode = ssl.CERT_OPTIONAL
        context.set_alpn_protocols(["http/1.1"])
        return context


# The command line, one option group per concern (kubelet/options/), validated in this order:
# the bootstrap group reads the connection's credentials and the root folder.
OPTION_GROUPS: tuple[OptionGroup, ...] = (
    ClientOptions(),
    node,
    serving,
    runtime,
    MetricsOptions(
        default="0.0.0.0:10255",
        help="HOST:PORT of the Prometheus /metrics endpoint (default 0.0.0.0:10255, "
        "the kubelet's old read-only port); empty disables it",
    ),
    reserved,
    dns,
    pod_security,
    bootstrap,
    features,
    LogOptions,
)


def parse_args(argv: Sequence[str] | None = None) -> KubeletConfig:
    parser = argparse.ArgumentParser(
        prog="kubelet",
        description=(
            "The podplane node agent: registers this node, renews its lease and runs the pods "
            "bound to it on the local Docker engine."
        ),
    )
    args = options.parse(parser, OPTION_GROUPS, list(argv) if argv is not None else sys.argv[1:])
    return KubeletConfig(
        bootstrap_token_file=args.bootstrap_token_file,
        bootstrap_server=args.bootstrap_server,
        cert_dir=args.cert_dir,
        rotate_server_certificates=args.rotate_server_certificates,
        tls_cert_file=args.tls_cert_file,
        tls_private_key_file=args.tls_private_key_file,
        client_ca_file=args.client_ca_file,
        credentials=args.client.credentials,
        server=args.client.server,
        node_name=args.node_name,
        pod_cidr=args.pod_cidr,
        port=args.port,
        grpc_port=args.grpc_port,
        node_ip=args.node_ip,
        root_dir=args.root_dir,
        docker_host=args.docker_host,
        container_runtime_endpoint=args.container_runtime_endpoint,
        pod_logs_dir=args.pod_logs_dir,
        log_policy=args.log_policy,
        pause_image=args.pause_image,
        node_labels=args.node_labels,
        node_status_update_frequency=args.node_status_update_frequency,
        log_level=args.log_level,
        metrics_bind_address=args.metrics_bind_address,
        pod_manifest_path=args.pod_manifest_path,
        kube_reserved=args.kube_reserved,
        system_reserved=args.system_reserved,
        cluster_dns=args.cluster_dns,
        cluster_domain=args.cluster_domain,
        resolv_conf=args.resolv_conf,
        allowed_unsafe_sysctls=args.allowed_unsafe_sysctls,
        seccomp_default=args.seccomp_default,
        evented_pleg=args.feature_gates["EventedPLEG"],
    )
