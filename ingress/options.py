"""The command line of `python -m ingress`, as option groups (podplane.componentbase.options): the
apiserver connection, the class served, the address published in the Ingresses' status, HAProxy's
listeners and files, the log level (ingress-nginx's flags where it has them)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from podplane.client.credentials import Credentials
from podplane.componentbase import flags, options
from podplane.componentbase.client_flags import ClientOptions
from podplane.componentbase.options import LogOptions, OptionGroup, fail

CONTROLLER = "podplane.io/ingress-haproxy"


@dataclass(frozen=True)
class Options:
    server: str
    credentials: Credentials | None = None
    controller_class: str = CONTROLLER
    publish_service: tuple[str, str] | None = None
    publish_status_address: tuple[str, ...] = ()
    bind_address: str = ""
    http_port: int = 80
    https_port: int = 443
    healthz_port: int = 10254
    haproxy: str = "haproxy"
    state_dir: str = "/tmp/ingress-haproxy"
    log_level: str = "INFO"


class _ClassOptions:
    """Which Ingresses are served: those of the IngressClasses naming this controller."""

    @staticmethod
    def add_flags(parser: argparse.ArgumentParser) -> None:
        parser.add_argument_group("class").add_argument(
            "--controller-class",
            default=CONTROLLER,
            help=f"the spec.controller of the IngressClasses served (default {CONTROLLER})",
        )

    @staticmethod
    def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        if not args.controller_class:
            fail(parser, "--controller-class", "must not be empty")


class _StatusOptions:
    """The address written to status.loadBalancer.ingress of every Ingress served."""

    @staticmethod
    def add_flags(parser: argparse.ArgumentParser) -> None:
        g = parser.add_argument_group("status")
        g.add_argument(
            "--publish-service",
            default="",
            help="NAMESPACE/NAME of the Service in front of the controller: its load balancer "
            "addresses (its cluster IP if not a LoadBalancer) are the Ingresses' addresses",
        )
        g.add_argument(
            "--publish-status-address",
            default="",
            help="comma-separated addresses to publish instead (overrides --publish-service)",
        )

    @staticmethod
    def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        if args.publish_service:
            namespace, sep, name = args.publish_service.partition("/")
            if not sep or not namespace or not name:
                fail(parser, "--publish-service", f'"{args.publish_service}" is not NAMESPACE/NAME')
            args.publish_service = (namespace, name)
        else:
            args.publish_service = None
        args.publish_status_address = tuple(
            a.strip() for a in args.publish_status_address.split(",") if a.strip()
        )


class _HAProxyOptions:
    """HAProxy's listeners, its binary and the folder of its configuration and certificates."""

    @staticmethod
    def add_flags(parser: argparse.ArgumentParser) -> None:
        g = parser.add_argument_group("haproxy")
        g.add_argument("--bind-address", default="", help="the listeners' address (default all)")
        g.add_argument("--http-port", type=flags.port, default=80, help="HTTP (default 80)")
        g.add_argument("--https-port", type=flags.port, default=443, help="HTTPS (default 443)")
        g.add_argument(
            "--healthz-port",
            type=int,
            default=10254,
            help="GET /healthz once the first configuration is served (default 10254, 0: off)",
        )
        g.add_argument("--haproxy", default="haproxy", help="HAProxy's binary (default haproxy)")
        g.add_argument(
            "--state-dir",
            default="/tmp/ingress-haproxy",
            help="where haproxy.cfg, its socket and the certificates are written",
        )

    @staticmethod
    def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        if args.bind_address:
            try:
                args.bind_address = flags.ip_address(args.bind_address)
            except argparse.ArgumentTypeError as e:
                fail(parser, "--bind-address", str(e))
        if not 0 <= args.healthz_port <= 65535:
            fail(parser, "--healthz-port", "must be between 0 and 65535")


OPTION_GROUPS: tuple[OptionGroup, ...] = (
    ClientOptions(),
    _ClassOptions,
    _StatusOptions,
    _HAProxyOptions,
    LogOptions,
)


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m ingress",
        description="The ingress controller: serves the Ingresses of the IngressClasses naming "
        "it with HAProxy, reloaded seamlessly on every change.",
    )
    args = options.parse(parser, OPTION_GROUPS, list(argv) if argv is not None else sys.argv[1:])
    return Options(
        server=args.server,
        credentials=args.credentials,
        controller_class=args.controller_class,
        publish_service=args.publish_service,
        publish_status_address=args.publish_status_address,
        bind_address=args.bind_address,
        http_port=args.http_port,
        https_port=args.https_port,
        healthz_port=args.healthz_port,
        haproxy=args.haproxy,
        state_dir=args.state_dir,
        log_level=args.log_level,
    )
