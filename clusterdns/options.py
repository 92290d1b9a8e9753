"""The command line of `python -m clusterdns`, as option groups (podplane.componentbase.options):
the apiserver connection, the zone, the upstream resolvers, serving, the log level. A bad setting
is reported by name and exits with status 2."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from clusterdns.kubernetes.records import POD_MODES
from clusterdns.server.forward import upstreams_from
from podplane.client.credentials import Credentials
from podplane.componentbase import flags, options
from podplane.componentbase.client_flags import ClientOptions
from podplane.componentbase.metrics import parse_bind_address
from podplane.componentbase.options import LogOptions, OptionGroup, fail


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


class _ZoneOptions:
    """What the server answers for: the zone, its records' TTLs, pod records, and the Service in
    front of it (its ns record)."""

    @staticmethod
    def add_flags(parser: argparse.ArgumentParser) -> None:
        g = parser.add_argument_group("zone")
        g.add_argument(
            "--cluster-domain",
            default="cluster.local",
            help="the zone served (default cluster.local)",
        )
        g.add_argument(
            "--ttl", type=int, default=30, help="TTL of the records, 0-3600 seconds (default 30)"
        )
        g.add_argument(
            "--negative-ttl",
            type=int,
            default=5,
            help="TTL of NXDOMAIN and NODATA answers (the SOA's), 0-3600 seconds (default 5)",
        )
        g.add_argument(
            "--pods",
            choices=POD_MODES,
            default="verified",
            help="pod records a-b-c-d.<ns>.pod.<zone>: verified (a pod of the namespace has the "
            "address; the default), insecure (any address), disabled",
        )
        g.add_argument(
            "--dns-service",
            default="kube-system/kube-dns",
            help="NAMESPACE/NAME of the Service in front of this server (ns.dns.<zone>)",
        )

    @staticmethod
    def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        """args.cluster_domain lower-cased without its final dot; args.dns_service a (namespace,
        name) pair."""
        domain = args.cluster_domain.lower().removesuffix(".")
        if not flags.is_dns_subdomain(domain):
            fail(parser, "--cluster-domain", f'"{args.cluster_domain}" is not a DNS domain')
        args.cluster_domain = domain
        for flag in ("ttl", "negative_ttl"):
            if not 0 <= getattr(args, flag) <= 3600:
                fail(parser, f"--{flag.replace('_', '-')}", "must be between 0 and 3600 seconds")
        namespace, sep, name = args.dns_service.partition("/")
        if not sep or not namespace or not name:
            fail(parser, "--dns-service", f'"{args.dns_service}" is not NAMESPACE/NAME')
        args.dns_service = (namespace, name)


class _UpstreamOptions:
    """Where names outside the zone go."""

    @staticmethod
    def add_flags(parser: argparse.ArgumentParser) -> None:
        parser.add_argument_group("upstream").add_argument(
            "--upstream",
            default="",
            help="resolvers for names outside the cluster: comma-separated addresses, or a "
            "resolv.conf path (e.g. /etc/resolv.conf); default none: such names are REFUSED",
        )

    @staticmethod
    def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        """args.upstreams the resolvers' addresses."""
        try:
            upstreams = upstreams_from(args.upstream)
        except OSError as e:
            fail(parser, "--upstream", f"cannot read {args.upstream}: {e.strerror}")
        for upstream in upstreams:
            try:
                ipaddress.ip_address(upstream)
            except ValueError:
                fail(parser, "--upstream", f'"{upstream}" is not an IP address')
        args.upstreams = tuple(upstreams)


class _ServingOptions:
    """Where DNS is served, how it stops, and the HTTP endpoints beside it (CoreDNS's health,
    ready and prometheus plugins)."""

    @staticmethod
    def add_flags(parser: argparse.ArgumentParser) -> None:
        g = parser.add_argument_group("serving")
        g.add_argument("--bind-address", default="0.0.0.0", help="the address DNS is served on")
        g.add_argument("--dns-port", type=flags.port, default=53, help="UDP and TCP (default 53)")
        g.add_argument(
            "--health-address", default=":8080", help="GET /health, liveness (empty: off)"
        )
        g.add_argument(
            "--ready-address", default=":8181", help="GET /ready, readiness (empty: off)"
        )
        g.add_argument(
            "--metrics-address", default=":9153", help="GET /metrics, Prometheus (empty: off)"
        )
        g.add_argument(
            "--lameduck",
            type=float,
            default=5.0,
            help="seconds to go on answering after SIGTERM, not ready, so that clients move to "
            "the other replicas first (default 5)",
        )

    @staticmethod
    def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        for flag in ("health_address", "ready_address", "metrics_address"):
            try:
                parse_bind_address(getattr(args, flag))
            except ValueError as e:
                fail(parser, f"--{flag.replace('_', '-')}", str(e))
        if args.lameduck < 0:
            fail(parser, "--lameduck", "must not be negative")


OPTION_GROUPS: tuple[OptionGroup, ...] = (
    ClientOptions(),
    _ZoneOptions,
    _UpstreamOptions,
    _ServingOptions,
    LogOptions,
)


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m clusterdns",
        description="Cluster DNS: answers for the cluster's Services and pods under the cluster "
        "domain, from the apiserver's Services, EndpointSlices, namespaces and pods; other "
        "names go to the upstream resolvers.",
    )
    args = options.parse(parser, OPTION_GROUPS, list(argv) if argv is not None else sys.argv[1:])
    return Options(
        server=args.server,
        credentials=args.credentials,
        cluster_domain=args.cluster_domain,
        bind_address=args.bind_address,
        dns_port=args.dns_port,
        ttl=args.ttl,
        negative_ttl=args.negative_ttl,
        pods=args.pods,
        upstreams=args.upstreams,
        dns_service=args.dns_service,
        health_address=args.health_address,
        ready_address=args.ready_address,
        metrics_address=args.metrics_address,
        lameduck=args.lameduck,
        log_level=args.log_level,
    )
