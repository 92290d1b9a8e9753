"""The flags of what a component serves beside its work (component-base's serving options): the
gRPC health service (--health-port, --bind-address) of the scheduler and the controller-manager,
and every service's Prometheus endpoint (--metrics-bind-address)."""

from __future__ import annotations

import argparse

from podplane.componentbase import flags
from podplane.componentbase.metrics import parse_bind_address


def add_health_flags(parser: argparse.ArgumentParser, default_port: int) -> None:
    """--health-port (0 picks one) and --bind-address, where the gRPC health service listens."""
    parser.add_argument(
        "--health-port",
        type=flags.port,
        default=default_port,
        help=f"port of the gRPC health service (default {default_port}; 0 picks one)",
    )
    parser.add_argument(
        "--bind-address",
        type=flags.ip_address,
        default="0.0.0.0",
        help="address the health service listens on (default 0.0.0.0)",
    )


def health_address_from_flags(args: argparse.Namespace) -> str:
    """HOST:PORT of the health service (an IPv6 host in brackets)."""
    return flags.listen_address(args.bind_address, args.health_port)


def add_metrics_flag(parser: argparse.ArgumentParser, *, default: str, help: str) -> None:
    """--metrics-bind-address, HOST:PORT of /metrics ("" turns it off)."""
    parser.add_argument("--metrics-bind-address", default=default, help=help)


def metrics_address_from_flags(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    """The /metrics address the flags name; a bad one exits through parser.error, naming the
    flag."""
    try:
        parse_bind_address(args.metrics_bind_address)
    except ValueError as e:
        parser.error(f"--metrics-bind-address: {e}")
    return str(args.metrics_bind_address)


class MetricsOptions:
    """--metrics-bind-address as an option group (podplane.componentbase.options): its default
    and help are the component's; validated, args.metrics_bind_address is the address."""

    def __init__(self, *, default: str, help: str) -> None:
        self.default = default
        self.help = help

    def add_flags(self, parser: argparse.ArgumentParser) -> None:
        add_metrics_flag(parser, default=self.default, help=self.help)

    def validate(self, parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        args.metrics_bind_address = metrics_address_from_flags(parser, args)


class HealthOptions:
    """--health-port and --bind-address as an option group (podplane.componentbase.options):
    validated, args.health_address is HOST:PORT of the health service."""

    def __init__(self, default_port: int) -> None:
        self.default_port = default_port

    def add_flags(self, parser: argparse.ArgumentParser) -> None:
        add_health_flags(parser, self.default_port)

    def validate(self, parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        args.health_address = health_address_from_flags(args)
