"""The command line of `python -m clusterdns`. A bad setting is reported by name and exits with
status 2."""

from __future__ import annotations

import argparse
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

from clusterdns.kubernetes.records import POD_MODES
from clusterdns.server.forward import upstreams_from
from podplane.client.credentials import Credentials
from podplane.componentbase import client_flags, flags
from podplane.componentbase.metrics import parse_bind_address

_DOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


@dataclass(frozen=True)
class Options:
    server: str
    credentials: Credentials | None = None
    cluster_domain: str = "cluster.local"
    bind_address: str = "0.0.0.0"
    dns_port: int = 53
    ttl: int = 30
    negative_ttl: int = 5
    pods: str = "verified"
    upstreams: tuple[str, ...] = ()
    dns_service: tuple[str, str] = ("kube-system", "kube-dns")
    health_address: str = ":8080"
    ready_address: str = ":8181"
    metrics_address: str = ":9153"
    lameduck: float = 5.0
    log_level: str = "INFO"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m clusterdns",
        description="Cluster DNS: answers for the cluster's Services and pods under the cluster "
        "domain, from the apiserver's Services, EndpointSlices, namespaces and pods; other "
        "names go to the upstream resolvers.",
    )
    client_flags.add_flags(p)
    p.add_argument(
        "--cluster-domain", default="cluster.local", help="the zone served (default cluster.local)"
    )
    p.add_argument("--bind-address", default="0.0.0.0", help="the address DNS is served on")
    p.add_argument("--dns-port", type=flags.port, default=53, help="UDP and TCP (default 53)")
    p.add_argument(
        "--ttl", type=int, default=30, help="TTL of the records, 0-3600 seconds (default 30)"
    )
    p.add_argument(
        "--negative-ttl",
        type=int,
        default=5,
        help="TTL of NXDOMAIN and NODATA answers (the SOA's), 0-3600 seconds (default 5)",
    )
    p.add_argument(
        "--pods",
        choices=POD_MODES,
        default="verified",
        help="pod records a-b-c-d.<ns>.pod.<zone>: verified (a pod of the namespace has the "
        "address; the default), insecure (any address), disabled",
    )
    p.add_argument(
        "--upstream",
        default="",
        help="resolvers for names outside the cluster: comma-separated addresses, or a "
        "resolv.conf path (e.g. /etc/resolv.conf); default none: such names are REFUSED",
    )
    p.add_argument(
        "--dns-service",
        default="kube-system/kube-dns",
        help="NAMESPACE/NAME of the Service in front of this server (ns.dns.<zone>)",
    )
    p.add_argument("--health-address", default=":8080", help="GET /health, liveness (empty: off)")
    p.add_argument("--ready-address", default=":8181", help="GET /ready, readiness (empty: off)")
    p.add_argument(
        "--metrics-address", default=":9153", help="GET /metrics, Prometheus (empty: off)"
    )
    p.add_argument(
        "--lameduck",
        type=float,
        default=5.0,
        help="seconds to go on answering after SIGTERM, not ready, so that clients move to "
        "the other replicas first (default 5)",
    )
    p.add_argument(
        "--log-level", type=flags.log_level, default="INFO", help="DEBUG, INFO, WARNING or ERROR"
    )
    return p


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = _parser()
    args = parser.parse_args(argv)
    domain = args.cluster_domain.lower().removesuffix(".")
    if not _DOMAIN.match(domain) or len(domain) > 253:
        parser.error(f'--cluster-domain: "{args.cluster_domain}" is not a DNS domain')
    for flag in ("ttl", "negative_ttl"):
        if not 0 <= getattr(args, flag) <= 3600:
            parser.error(f"--{flag.replace('_', '-')}: must be between 0 and 3600 seconds")
    try:
        upstreams = upstreams_from(args.upstream)
    except OSError as e:
        parser.error(f"--upstream: cannot read {args.upstream}: {e.strerror}")
    for upstream in upstreams:
        try:
            ipaddress.ip_address(upstream)
        except ValueError:
            parser.error(f'--upstream: "{upstream}" is not an IP address')
    namespace, sep, name = args.dns_service.partition("/")
    if not sep or not namespace or not name:
        parser.error(f'--dns-service: "{args.dns_service}" is not NAMESPACE/NAME')
    for flag in ("health_address", "ready_address", "metrics_address"):
        try:
            parse_bind_address(getattr(args, flag))
        except ValueError as e:
            parser.error(f"--{flag.replace('_', '-')}: {e}")
    if args.lameduck < 0:
        parser.error("--lameduck: must not be negative")
    client = client_flags.config_from_flags(parser, args)
    return Options(
        server=client.server,
        credentials=client.credentials,
        cluster_domain=domain,
        bind_address=args.bind_address,
        dns_port=args.dns_port,
        ttl=args.ttl,
        negative_ttl=args.negative_ttl,
        pods=args.pods,
        upstreams=tuple(upstreams),
        dns_service=(namespace, name),
        health_address=args.health_address,
        ready_address=args.ready_address,
        metrics_address=args.metrics_address,
        lameduck=args.lameduck,
        log_level=args.log_level,
    )
