"""The service load balancer controller's address pool and class (--load-balancer-ip-pool,
--load-balancer-class)."""

from __future__ import annotations

import argparse

from controller.servicelb.pool import AUTO, AddressPool


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
    """'auto' is resolved when the controller starts (the apiserver's name may not resolve
    yet: a compose service not started)."""
    if args.load_balancer_ip_pool == AUTO:
        return
    try:
        AddressPool(args.load_balancer_ip_pool)
    except ValueError as e:
        parser.error(f"--load-balancer-ip-pool: {e}")
