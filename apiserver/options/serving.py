"""Where the apiserver serves (kube-apiserver's SecureServingOptions and the address it
advertises): the gRPC API's port, the Kubernetes REST API's, the gRPC servers sharing the port."""

from __future__ import annotations

import argparse

from podplane.componentbase import flags
from podplane.componentbase.options import at_least

DEFAULT_PORT = 6443
# The Kubernetes REST API's port (minikube's; 6443 is the gRPC API's).
DEFAULT_REST_PORT = 8443
# gRPC servers sharing the port (SO_REUSEPORT; --grpc-acceptors): each takes up one call per
# event-loop turn (docs/reliability.md).
DEFAULT_ACCEPTORS = 64


def add_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("serving")
    g.add_argument("--bind-address", type=flags.ip_address, default="0.0.0.0")
    g.add_argument("--port", type=int, default=DEFAULT_PORT, help="the gRPC API's port (TLS)")
    g.add_argument(
        "--rest-port",
        type=int,
        default=DEFAULT_REST_PORT,
        help="the Kubernetes REST API's port (HTTPS; kubectl, client-go, the "
        "official clients), on --bind-address; 0 serves none",
    )
    g.add_argument(
        "--grpc-acceptors",
        type=int,
        default=DEFAULT_ACCEPTORS,
        help="gRPC servers sharing the port (SO_REUSEPORT), each taking up one call "
        "per event-loop turn: with too few, calls wait in gRPC's core where the "
        "flow control cannot see them",
    )
    g.add_argument(
        "--advertise-address",
        type=flags.ip_address,
        help="the address pods reach this apiserver at, published as the kubernetes "
        "Service's endpoint (default: --bind-address, else the default route's address)",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    at_least(parser, args, 1, "grpc_acceptors")
    if not 0 < args.port < 65536:
        parser.error(f"--port: {args.port} is not a valid port (1-65535)")
    if not 0 <= args.rest_port < 65536:
        parser.error(f"--rest-port: {args.rest_port} is not a valid port (1-65535, or 0 for none)")
