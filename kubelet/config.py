"""The kubelet's command line. A bad setting is reported by name and exits with status 2."""

from __future__ import annotations

import argparse
import ipaddress
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import grpc

from kubelet.admission.sysctls import SysctlAllowlist
from kubelet.logs.rotation import LogPolicy
from podplane.apimachinery import quantity
from podplane.client.credentials import Credentials
from podplane.componentbase import client_flags, flags, serving_flags

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_KEY = re.compile(r"^([a-z0-9.-]+/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


@dataclass(frozen=True)
class KubeletConfig:
    server: str
    node_name: str
    pod_cidr: str
    port: int = 10250
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


def _labels(value: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in value.split(","))):
        key, sep, val = item.partition("=")
        if not sep or not _LABEL_KEY.match(key):
            raise ValueError(f'"{item}" is not KEY=VALUE with a valid label key')
        labels[key] = val
    return labels


def _log_policy(args: argparse.Namespace, fail: Callable[[str, str], NoReturn]) -> LogPolicy:
    """Kubernetes' checks of the three (the KubeletConfiguration's validation and server.go)."""
    try:
        max_size = quantity.bytes_of(args.container_log_max_size)
    except ValueError as e:
        fail(
            "--container-log-max-size",
            f'failed to parse container log max size "{args.container_log_max_size}": {e}',
        )
    if max_size <= 0:
        fail("--container-log-max-size", f'"{args.container_log_max_size}" must be positive')
    if args.container_log_max_files <= 1:
        fail(
            "--container-log-max-files",
            f"invalid configuration: containerLogMaxFiles (--container-log-max-files) "
            f"{args.container_log_max_files} must be greater than 1",
        )
    if not 3 <= args.container_log_monitor_interval < math.inf:
        fail(
            "--container-log-monitor-interval",
            "invalid configuration: containerLogMonitorInterval must be a positive time "
            "duration greater than or equal to 3s",
        )
    return LogPolicy(max_size, args.container_log_max_files, args.container_log_monitor_interval)


_RESERVABLE = ("cpu", "memory", "ephemeral-storage")


def _reserved(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in value.split(","))):
        name, sep, amount = item.partition("=")
        if not sep or name not in _RESERVABLE:
            raise ValueError(
                f'"{item}" is not RESOURCE=QUANTITY with a resource of {", ".join(_RESERVABLE)}'
            )
        try:
            if quantity.parse(amount) < 0:
                raise ValueError
        except (quantity.QuantityError, ValueError):
            raise ValueError(f'"{amount}" is not a non-negative quantity') from None
        out[name] = amount
    return out


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kubelet",
        description=(
            "The podplane node agent: registers this node, renews its lease and runs the pods "
            "bound to it on the local Docker engine."
        ),
    )
    client_flags.add_flags(p)
    p.add_argument("--node-name", required=True, help="this node's name (a DNS subdomain)")
    p.add_argument(
        "--pod-cidr", required=True, help="the pod IP range of this node, e.g. 10.244.1.0/24"
    )
    p.add_argument(
        "--port",
        type=int,
        default=10250,
        help="the kubelet API port (container logs); default 10250",
    )
    p.add_argument(
        "--node-ip",
        default="",
        help="the node IP to report; default: the local address toward the apiserver",
    )
    p.add_argument("--root-dir", default="/var/lib/kubelet", help="pod volumes live here")
    p.add_argument(
        "--docker-host",
        default="unix:///var/run/docker.sock",
        help="the Docker engine running the pods",
    )
    p.add_argument(
        "--container-runtime-endpoint",
        default="",
        help="the CRI runtime's endpoint, unix:///PATH (e.g. containerd's "
        "unix:///run/containerd/containerd.sock); default: the Docker engine at --docker-host",
    )
    p.add_argument(
        "--pod-logs-dir",
        default="/var/log/pods",
        help="where a CRI runtime writes the pods' container logs",
    )
    p.add_argument(
        "--container-log-max-size",
        default="10Mi",
        help="a container's log is rotated once it reaches this size (a quantity, e.g. 10Mi)",
    )
    p.add_argument(
        "--container-log-max-files",
        type=int,
        default=5,
        help="at most this many log files per container, the current one included (>= 2)",
    )
    p.add_argument(
        "--container-log-monitor-interval",
        type=float,
        default=10.0,
        help="seconds between looks at the containers' log sizes (>= 3)",
    )
    p.add_argument("--pause-image", default="podplane/pause:3.9", help="the pod sandbox image")
    p.add_argument("--node-labels", default="", help="extra node labels, k1=v1,k2=v2")
    p.add_argument(
        "--node-status-update-frequency",
        type=float,
        default=10.0,
        help="seconds between node status updates",
    )
    serving_flags.add_metrics_flag(
        p,
        default="0.0.0.0:10255",
        help="HOST:PORT of the Prometheus /metrics endpoint (default 0.0.0.0:10255, "
        "the kubelet's old read-only port); empty disables it",
    )
    p.add_argument(
        "--kube-reserved",
        default="",
        help="resources set aside for Kubernetes' daemons, e.g. cpu=100m,memory=100Mi",
    )
    p.add_argument(
        "--system-reserved",
        default="",
        help="resources set aside for the system, e.g. cpu=100m,memory=100Mi",
    )
    p.add_argument(
        "--pod-manifest-path",
        default="",
        help="a directory of static pod manifests (*.yaml, *.yml, *.json) the "
        "kubelet runs itself; default: none",
    )
    p.add_argument(
        "--tls-cert-file",
        default="",
        help="the kubelet API's serving certificate (PEM); default: plaintext",
    )
    p.add_argument("--tls-private-key-file", default="", help="the key of --tls-cert-file")
    p.add_argument(
        "--client-ca-file",
        default="",
        help="CA of the client certificates the kubelet API accepts (the apiserver's)",
    )
    p.add_argument(
        "--cluster-dns",
        default="",
        help="comma-separated IPs of the cluster DNS, the nameservers of ClusterFirst pods "
        "(e.g. 10.96.0.10); default none: such pods get the node's resolver",
    )
    p.add_argument(
        "--cluster-domain",
        default="",
        help="the cluster's DNS domain (e.g. cluster.local): pods search "
        "<namespace>.svc.<domain>, svc.<domain> and <domain>",
    )
    p.add_argument(
        "--resolv-conf",
        default="/etc/resolv.conf",
        help="the node's resolver configuration, the base of every pod's resolv.conf and "
        "all of it for dnsPolicy Default; empty: none",
    )
    p.add_argument(
        "--allowed-unsafe-sysctls",
        default="",
        help="comma-separated unsafe sysctls or prefixes ending in * that pods may set besides "
        "the safe ones (e.g. 'kernel.msg*,net.core.somaxconn'); default none",
    )
    p.add_argument(
        "--seccomp-default",
        action="store_true",
        help="run containers that set no seccomp profile with the runtime's default profile "
        "(RuntimeDefault) instead of Unconfined",
    )
    p.add_argument(
        "--bootstrap-token-file",
        default="",
        help="a bootstrap token (<id>.<secret>) to ask for the node's client certificate with, "
        "when there is none yet in --cert-dir (TLS bootstrapping, as kubeadm join sets it up)",
    )
    p.add_argument(
        "--bootstrap-server",
        default="",
        help="HOST:PORT where the apiserver takes bearer tokens (its --token-port), for "
        "--bootstrap-token-file",
    )
    p.add_argument(
        "--cert-dir",
        default="",
        help="where the bootstrapped client certificate is kept (kubelet-client-current.pem); "
        "default: <root-dir>/pki",
    )
    p.add_argument(
        "--rotate-server-certificates",
        action="store_true",
        help="without --tls-cert-file, ask the cluster for a serving certificate (signer "
        "kubernetes.io/kubelet-serving, approved by an administrator) and keep it in --cert-dir "
        "(kubelet-server-current.pem)",
    )
    p.add_argument(
        "--log-level", type=flags.log_level, default="INFO", help="DEBUG, INFO, WARNING or ERROR"
    )
    return p


def parse_args(argv: Sequence[str] | None = None) -> KubeletConfig:
    parser = _parser()
    args = parser.parse_args(argv)

    def fail(flag: str, problem: str) -> NoReturn:
        parser.error(f"{flag}: {problem}")  # exits 2

    if len(args.node_name) > 253 or not _DNS_SUBDOMAIN.match(args.node_name):
        fail(
            "--node-name",
            f'"{args.node_name}" must be a lowercase RFC 1123 subdomain '
            f"(letters, digits, '-' and '.')",
        )
    try:
        cidr = str(ipaddress.ip_network(args.pod_cidr, strict=True))
    except ValueError as e:
        fail("--pod-cidr", f'invalid CIDR "{args.pod_cidr}": {e}')
    if not 0 <= args.port < 65536:
        fail("--port", f"{args.port} is not a port number")
    if args.node_ip:
        try:
            ipaddress.ip_address(args.node_ip)
        except ValueError:
            fail("--node-ip", f'"{args.node_ip}" is not an IP address')
    if not args.root_dir.startswith("/"):
        fail("--root-dir", f'"{args.root_dir}" must be an absolute path')
    if not re.match(r"^(unix|tcp|http|https|ssh)://", args.docker_host):
        fail("--docker-host", f'"{args.docker_host}" must be unix://PATH or tcp://HOST:PORT')
    endpoint = args.container_runtime_endpoint
    if endpoint and not re.match(r"^unix:///.", endpoint):
        fail(
            "--container-runtime-endpoint",
            f'"{endpoint}" must be unix:///PATH, the runtime\'s gRPC socket',
        )
    if not args.pod_logs_dir.startswith("/"):
        fail("--pod-logs-dir", f'"{args.pod_logs_dir}" must be an absolute path')
    log_policy = _log_policy(args, fail)
    try:
        labels = _labels(args.node_labels)
    except ValueError as e:
        fail("--node-labels", str(e))
    if not 0 < args.node_status_update_frequency < math.inf:  # nan fails this too
        fail(
            "--node-status-update-frequency",
            f"{args.node_status_update_frequency}: must be a positive number of seconds",
        )
    metrics_bind_address = serving_flags.metrics_address_from_flags(parser, args)
    reserved: dict[str, dict[str, str]] = {}
    for flag in ("kube_reserved", "system_reserved"):
        try:
            reserved[flag] = _reserved(getattr(args, flag))
        except ValueError as e:
            fail("--" + flag.replace("_", "-"), str(e))
    if args.pod_manifest_path and not args.pod_manifest_path.startswith("/"):
        fail("--pod-manifest-path", f'"{args.pod_manifest_path}" must be an absolute path')
    tls = {
        "--tls-cert-file": args.tls_cert_file,
        "--tls-private-key-file": args.tls_private_key_file,
        "--client-ca-file": args.client_ca_file,
    }
    for flag, path in tls.items():
        if any(tls.values()) and not path:
            fail(flag, "required with the other TLS serving flags")
        if path:
            try:
                Path(path).read_bytes()
            except OSError as e:
                fail(flag, f"cannot read {path}: {e.strerror}")
    cluster_dns = tuple(filter(None, (a.strip() for a in args.cluster_dns.split(","))))
    for address in cluster_dns:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            fail("--cluster-dns", f'"{address}" is not an IP address')
    domain = args.cluster_domain.removesuffix(".")
    if domain and (len(domain) > 253 or not _DNS_SUBDOMAIN.match(domain)):
        fail("--cluster-domain", f'"{args.cluster_domain}" is not a DNS domain')
    if args.resolv_conf:
        try:
            Path(args.resolv_conf).read_bytes()
        except OSError as e:
            fail("--resolv-conf", f"cannot read {args.resolv_conf}: {e.strerror}")
    unsafe_sysctls = tuple(
        filter(None, (a.strip() for a in args.allowed_unsafe_sysctls.split(",")))
    )
    try:
        SysctlAllowlist(unsafe_sysctls)
    except ValueError as e:
        fail("--allowed-unsafe-sysctls", str(e))
    client = client_flags.config_from_flags(parser, args)
    if args.bootstrap_token_file:
        try:
            Path(args.bootstrap_token_file).read_bytes()
        except OSError as e:
            fail("--bootstrap-token-file", f"cannot read {args.bootstrap_token_file}: {e.strerror}")
        if not args.bootstrap_server:
            fail("--bootstrap-server", "required with --bootstrap-token-file")
        if client.credentials is None:
            fail("--ca-file", "required with --bootstrap-token-file")
    elif args.bootstrap_server:
        fail("--bootstrap-token-file", "required with --bootstrap-server")
    if args.rotate_server_certificates and client.credentials is None:
        fail("--ca-file", "required with --rotate-server-certificates")
    root_dir = args.root_dir.rstrip("/") or "/"
    return KubeletConfig(
        bootstrap_token_file=args.bootstrap_token_file,
        bootstrap_server=args.bootstrap_server,
        cert_dir=args.cert_dir or f"{root_dir.rstrip('/')}/pki",
        rotate_server_certificates=args.rotate_server_certificates,
        tls_cert_file=args.tls_cert_file,
        tls_private_key_file=args.tls_private_key_file,
        client_ca_file=args.client_ca_file,
        credentials=client.credentials,
        server=client.server,
        node_name=args.node_name,
        pod_cidr=cidr,
        port=args.port,
        node_ip=args.node_ip,
        root_dir=root_dir,
        docker_host=args.docker_host,
        container_runtime_endpoint=endpoint,
        pod_logs_dir=args.pod_logs_dir,
        log_policy=log_policy,
        pause_image=args.pause_image,
        node_labels=labels,
        node_status_update_frequency=args.node_status_update_frequency,
        log_level=args.log_level,
        metrics_bind_address=metrics_bind_address,
        pod_manifest_path=args.pod_manifest_path,
        kube_reserved=reserved["kube_reserved"],
        system_reserved=reserved["system_reserved"],
        cluster_dns=cluster_dns,
        cluster_domain=domain,
        resolv_conf=args.resolv_conf,
        allowed_unsafe_sysctls=unsafe_sysctls,
        seccomp_default=args.seccomp_default,
    )
