"""The pools Services take their values from (kube-apiserver's --service-cluster-ip-range and
--service-node-port-range)."""

from __future__ import annotations

import argparse

from apiserver.registry.service.ipallocator import DEFAULT_SERVICE_CIDR, IPRange
from apiserver.registry.service.portallocator import DEFAULT_NODE_PORT_RANGE, PortRange


def add_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("services")
    g.add_argument(
        "--service-cluster-ip-range",
        default=DEFAULT_SERVICE_CIDR,
        help="the CIDR Services' cluster IPs are allocated from (IPv4: /12 or smaller); its "
        f"first address is the kubernetes Service's (default {DEFAULT_SERVICE_CIDR})",
    )
    g.add_argument(
        "--service-node-port-range",
        default=DEFAULT_NODE_PORT_RANGE,
        help="the ports NodePort and LoadBalancer Services' node ports are allocated from "
        f"(default {DEFAULT_NODE_PORT_RANGE})",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    for flag, parse in (
        ("service_cluster_ip_range", IPRange.parse),
        ("service_node_port_range", PortRange.parse),
    ):
        try:
            parse(getattr(args, flag))
        except ValueError as e:
            parser.error(f"--{flag.replace('_', '-')}: {e}")
