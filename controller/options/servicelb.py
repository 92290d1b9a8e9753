"""The service load balancer controller's address pool and class (--load-balancer-ip-pool,
--load-balancer-class)."""

from __future__ import annotations

import argparse

from controller.servicelb.network import default_pool
from controller.servicelb.pool import AddressPool

AUTO = "auto"


def add_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("service load balancers")
    g.add_argument(
        "--load-balancer-ip-pool",
        default=AUTO,
        help="the addresses LoadBalancer Services get: comma-separated CIDRs, FIRST-LAST ranges "
        "or addresses; 'auto' (the default): .200-.250 of the last /24 of the network the "
        "apiserver is reached on (none on loopback); '': none, Services stay pending",
    )
    g.add_argument(
        "--load-balancer-class",
        default="",
        help="the spec.loadBalancerClass of the Services given an address (default: those "
        "without one, as Kubernetes' service controller)",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """'auto' is resolved here, from the network toward --server."""
    if args.load_balancer_ip_pool == AUTO:
        args.load_balancer_ip_pool = default_pool(args.server)
    try:
        AddressPool(args.load_balancer_ip_pool)
    except ValueError as e:
        parser.error(f"--load-balancer-ip-pool: {e}")
