"""The pods' DNS: the cluster DNS Service's IPs for ClusterFirst pods, the cluster's domain for
their search path, and the node's resolver for Default pods."""

from __future__ import annotations

import argparse
import ipaddress
from pathlib import Path

from podplane.componentbase import flags
from podplane.componentbase.options import fail


def add_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("the pods' DNS")
    g.add_argument(
        "--cluster-dns",
        default="",
        help="comma-separated IPs of the cluster DNS, the nameservers of ClusterFirst pods "
        "(e.g. 10.96.0.10); default none: such pods get the node's resolver",
    )
    g.add_argument(
        "--cluster-domain",
        default="",
        help="the cluster's DNS domain (e.g. cluster.local): pods search "
        "<namespace>.svc.<domain>, svc.<domain> and <domain>",
    )
    g.add_argument(
        "--resolv-conf",
        default="/etc/resolv.conf",
        help="the node's resolver configuration, the base of every pod's resolv.conf and "
        "all of it for dnsPolicy Default; empty: none",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """args.cluster_dns becomes a tuple of IPs, args.cluster_domain loses a trailing dot."""
    args.cluster_dns = tuple(filter(None, (a.strip() for a in args.cluster_dns.split(","))))
    for address in args.cluster_dns:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            fail(parser, "--cluster-dns", f'"{address}" is not an IP address')
    domain = args.cluster_domain.removesuffix(".")
    if domain and not flags.is_dns_subdomain(domain):
        fail(parser, "--cluster-domain", f'"{args.cluster_domain}" is not a DNS domain')
    args.cluster_domain = domain
    if args.resolv_conf:
        try:
            Path(args.resolv_conf).read_bytes()
        except OSError as e:
            fail(parser, "--resolv-conf", f"cannot read {args.resolv_conf}: {e.strerror}")
