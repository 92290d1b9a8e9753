"""The command line of `python -m metricsserver`, metrics-server's flags: the apiserver
connection, serving (--secure-port, --cert-dir or --tls-cert-file/--tls-private-key-file), the
scrape (--metric-resolution, --kubelet-preferred-address-types, --kubelet-insecure-tls,
--kubelet-certificate-authority, --kubelet-request-timeout), the log level. A bad setting is
reported by name and exits with status 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from podplane.client.credentials import Credentials
from podplane.componentbase import flags, options
from podplane.componentbase.client_flags import ClientOptions
from podplane.componentbase.options import LogOptions, OptionGroup, fail

ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
ADDRESS_TYPES = ("Hostname", "InternalDNS", "InternalIP", "ExternalDNS", "ExternalIP")


@dataclass(frozen=True)
class Options:
    server: str
    credentials: Credentials | None = None
    bind_address: str = "0.0.0.0"
    secure_port: int = 10250
    cert_dir: Path = Path("/tmp")
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    metric_resolution: float = 60.0
    address_types: tuple[str, ...] = ADDRESS_TYPES
    kubelet_insecure_tls: bool = False
    kubelet_ca_file: Path | None = None
    kubelet_request_timeout: float = 10.0
    token_file: Path | None = None
    log_level: str = "INFO"


class _ServingOptions:
    @staticmethod
    def add_flags(parser: argparse.ArgumentParser) -> None:
        g = parser.add_argument_group("serving")
        g.add_argument("--bind-address", default="0.0.0.0", help="the address served on")
        g.add_argument("--secure-port", type=flags.port, default=10250, help="HTTPS (10250)")
        g.add_argument(
            "--cert-dir",
            type=Path,
            default=Path("/tmp"),
            help="where a self-signed serving certificate is made when none is given",
        )
        g.add_argument("--tls-cert-file", type=Path, help="the serving certificate")
        g.add_argument("--tls-private-key-file", type=Path, help="its key")

    @staticmethod
    def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        if bool(args.tls_cert_file) != bool(args.tls_private_key_file):
            fail(parser, "--tls-cert-file", "give --tls-private-key-file with it")


class _ScrapeOptions:
    @staticmethod
    def add_flags(parser: argparse.ArgumentParser) -> None:
        g = parser.add_argument_group("scraping")
        g.add_argument(
            "--metric-resolution",
            type=flags.duration,
            default=60.0,
            help="how often the kubelets are scraped (60s; at least 10s)",
        )
        g.add_argument(
            "--kubelet-preferred-address-types",
            default=",".join(ADDRESS_TYPES),
            help="the node address types to reach a kubelet at, first found first",
        )
        flags.add_boolean(
            g,
            "--kubelet-insecure-tls",
            default=False,
            help="do not verify the kubelets' serving certificates",
        )
        g.add_argument(
            "--kubelet-certificate-authority",
            type=Path,
            help="the CA the kubelets' serving certificates are checked against "
            "(default: the service account's)",
        )
        g.add_argument("--kubelet-request-timeout", type=flags.duration, default=10.0, help="10s")
        g.add_argument(
            "--kubelet-token-file",
            type=Path,
            help="the bearer token sent to kubelets (default: the service account's)",
        )

    @staticmethod
    def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        if args.metric_resolution < 10:
            fail(parser, "--metric-resolution", "must be at least 10s")
        types = tuple(t for t in args.kubelet_preferred_address_types.split(",") if t)
        unknown = [t for t in types if t not in ADDRESS_TYPES]
        if not types or unknown:
            fail(
                parser,
                "--kubelet-preferred-address-types",
                f"must be some of {','.join(ADDRESS_TYPES)}",
            )
        args.address_types = types


OPTION_GROUPS: tuple[OptionGroup, ...] = (
    ClientOptions(),
    _ServingOptions,
    _ScrapeOptions,
    LogOptions,
)


def _account_file(given: Path | None, name: str) -> Path | None:
    if given is not None:
        return given
    path = ACCOUNT / name
    return path if path.exists() else None


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m metricsserver",
        description="The metrics API (metrics.k8s.io/v1beta1): scrapes the kubelets' "
        "/metrics/resource and serves node and pod usage behind the aggregation layer.",
    )
    args = options.parse(parser, OPTION_GROUPS, list(argv) if argv is not None else sys.argv[1:])
    return Options(
        server=args.server,
        credentials=args.credentials,
        bind_address=args.bind_address,
        secure_port=args.secure_port,
        cert_dir=args.cert_dir,
        tls_cert_file=args.tls_cert_file,
        tls_key_file=args.tls_private_key_file,
        metric_resolution=args.metric_resolution,
        address_types=args.address_types,
        kubelet_insecure_tls=args.kubelet_insecure_tls,
        kubelet_ca_file=_account_file(args.kubelet_certificate_authority, "ca.crt"),
        kubelet_request_timeout=args.kubelet_request_timeout,
        token_file=_account_file(args.kubelet_token_file, "token"),
        log_level=args.log_level,
    )
