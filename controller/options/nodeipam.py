"""The range nodes' pod CIDRs are allocated from (NodeIPAMControllerOptions)."""

from __future__ import annotations

import argparse

from controller.framework.manager import ControllerOptions
from controller.nodeipam.cidrset import CidrAllocator


def add_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("node IPAM")
    g.add_argument(
        "--cluster-cidr",
        default=ControllerOptions.cluster_cidr,
        help="the range node podCIDRs are allocated from (default 10.244.0.0/16)",
    )
    g.add_argument(
        "--node-cidr-mask-size",
        type=int,
        default=ControllerOptions.node_cidr_mask_size,
        help="prefix length of each node's podCIDR (default 24)",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    try:
        CidrAllocator(args.cluster_cidr, args.node_cidr_mask_size)
    except ValueError as e:
        parser.error(f"--cluster-cidr/--node-cidr-mask-size: {e}")
