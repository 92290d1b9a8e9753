"""Who this node is: its name, pod CIDR, IP, labels, and how often it reports its status."""

from __future__ import annotations

import argparse
import ipaddress
import math
import re

from podplane.componentbase import flags
from podplane.componentbase.options import fail

_LABEL_KEY = re.compile(r"^([a-z0-9.-]+/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def add_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("the node")
    g.add_argument("--node-name", required=True, help="this node's name (a DNS subdomain)")
    g.add_argument(
        "--pod-cidr", required=True, help="the pod IP range of this node, e.g. 10.244.1.0/24"
    )
    g.add_argument(
        "--node-ip",
        default="",
        help="the node IP to report; default: the local address toward the apiserver",
    )
    g.add_argument("--node-labels", default="", help="extra node labels, k1=v1,k2=v2")
    g.add_argument(
        "--node-status-update-frequency",
        type=float,
        default=10.0,
        help="seconds between node status updates",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """args.pod_cidr becomes the network's canonical form, args.node_labels a dict."""
    if not flags.is_dns_subdomain(args.node_name):
        fail(
            parser,
            "--node-name",
            f'"{args.node_name}" must be a lowercase RFC 1123 subdomain '
            f"(letters, digits, '-' and '.')",
        )
    try:
        args.pod_cidr = str(ipaddress.ip_network(args.pod_cidr, strict=True))
    except ValueError as e:
        fail(parser, "--pod-cidr", f'invalid CIDR "{args.pod_cidr}": {e}')
    if args.node_ip:
        try:
            ipaddress.ip_address(args.node_ip)
        except ValueError:
            fail(parser, "--node-ip", f'"{args.node_ip}" is not an IP address')
    try:
        args.node_labels = labels(args.node_labels)
    except ValueError as e:
        fail(parser, "--node-labels", str(e))
    if not 0 < args.node_status_update_frequency < math.inf:  # nan fails this too
        fail(
            parser,
            "--node-status-update-frequency",
            f"{args.node_status_update_frequency}: must be a positive number of seconds",
        )


def labels(value: str) -> dict[str, str]:
    """k1=v1,k2=v2 as a dict; ValueError naming an item that is not KEY=VALUE."""
    found: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in value.split(","))):
        key, sep, val = item.partition("=")
        if not sep or not _LABEL_KEY.match(key):
            raise ValueError(f'"{item}" is not KEY=VALUE with a valid label key')
        found[key] = val
    return found
