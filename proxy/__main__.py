"""python -m proxy --server HOST:PORT [--hostname-override NAME] [--cluster-cidr CIDR]
       [--metrics-bind-address 127.0.0.1:10249] [--healthz-bind-address 0.0.0.0:10256] ...

kube-proxy in iptables mode: watches Services and EndpointSlices and programs this machine's
iptables so that cluster IPs, node ports and external IPs reach the services' endpoints. Runs on
every node, in the cluster as the DaemonSet kube-system/kube-proxy (docker/addons/kube-proxy.yaml)
with its service account's token (bound to system:node-proxier). Stopping it leaves the rules in
place."""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys
from collections.abc import Sequence

from podplane.componentbase import flags, options
from podplane.componentbase.client_flags import ClientOptions
from podplane.componentbase.options import LogOptions, OptionGroup
from podplane.componentbase.serving import run_service
from podplane.componentbase.serving_flags import MetricsOptions
from proxy.server import ProxyOptions, serve


def _cidr(value: str) -> str:
    if not value:
        return ""
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a CIDR (e.g. 10.244.0.0/16)") from None


def node_name(hostname_override: str) -> str:
    """The node kube-proxy serves (pkg/util/node.GetHostname): --hostname-override, else the
    host's name; trimmed and lower-cased. Raises ValueError when that leaves nothing."""
    name = (hostname_override or socket.gethostname()).strip()
    if not name:
        raise ValueError("empty hostname is invalid")
    return name.lower()


def _masquerade_bit(value: str) -> int:
    if not value.isdigit() or not 0 <= int(value) <= 31:
        raise argparse.ArgumentTypeError(f"{value!r}: must be in the range 0-31")
    return int(value)


class _ProxyOptions:
    """kube-proxy's own flags: this node's name, the pods' range, /healthz, and the iptables
    proxier's pace and marks (KubeProxyConfiguration's)."""

    @staticmethod
    def add_flags(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--hostname-override",
            default="",
            help="this node's name, as its endpoints' nodeName says it (default: the host name); "
            "the DaemonSet passes its pod's spec.nodeName",
        )
        parser.add_argument(
            "--cluster-cidr",
            type=_cidr,
            default="",
            help="the pods' addresses: traffic from elsewhere to a cluster IP is masqueraded",
        )
        parser.add_argument(
            "--healthz-bind-address",
            type=flags.metrics_address,
            default="0.0.0.0:10256",
            help="HOST:PORT of /healthz and /livez (default 0.0.0.0:10256); empty disables it",
        )
        parser.add_argument(
            "--iptables-sync-period",
            type=flags.duration,
            default=30.0,
            help="how often the canary chains are checked (a flushed table is rewritten), and "
            "the longest time between syncs (default 30s)",
        )
        parser.add_argument(
            "--iptables-min-sync-period",
            type=flags.duration,
            default=1.0,
            help="the shortest time between syncs once two have run back to back (default 1s)",
        )
        parser.add_argument(
            "--iptables-masquerade-bit",
            type=_masquerade_bit,
            default=14,
            help="the fwmark bit of packets to masquerade (default 14)",
        )
        flags.add_boolean(
            parser,
            "--masquerade-all",
            default=False,
            help="masquerade all traffic to cluster IPs (default false)",
        )
        flags.add_boolean(
            parser,
            "--iptables-localhost-nodeports",
            default=True,
            help="node ports answer on 127.0.0.1 too (sets route_localnet; default true)",
        )
        flags.add_boolean(
            parser,
            "--announce-load-balancer-ips",
            default=False,
            help="add the load balancer addresses this node is chosen for to its interface, "
            "with a gratuitous ARP (layer 2 announcement; default false)",
        )
        parser.add_argument(
            "--load-balancer-class",
            default="",
            help="the spec.loadBalancerClass of the Services whose addresses are announced "
            "(default: those without one)",
        )

    @staticmethod
    def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        """args.hostname is this node's name."""
        try:
            args.hostname = node_name(args.hostname_override)
        except ValueError as e:
            parser.error(f"--hostname-override: {e}")


# The command line, one option group per concern (podplane.componentbase.options); kube-proxy
# elects no leader: every node runs one.
OPTION_GROUPS: tuple[OptionGroup, ...] = (
    ClientOptions(server_help="the apiserver's gRPC address"),
    _ProxyOptions,
    MetricsOptions(
        default="127.0.0.1:10249",
        help="HOST:PORT of /metrics (default 127.0.0.1:10249); empty disables it",
    ),
    LogOptions,
)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="proxy", description=__doc__.split("\n\n")[1])
    return options.parse(parser, OPTION_GROUPS, list(argv) if argv is not None else sys.argv[1:])


def options_from(args: argparse.Namespace) -> ProxyOptions:
    return ProxyOptions(
        server=args.server,
        hostname=args.hostname,
        credentials=args.credentials,
        cluster_cidr=args.cluster_cidr,
        metrics_bind_address=args.metrics_bind_address,
        healthz_bind_address=args.healthz_bind_address,
        sync_period=args.iptables_sync_period,
        min_sync_period=args.iptables_min_sync_period,
        masquerade_bit=args.iptables_masquerade_bit,
        masquerade_all=args.masquerade_all,
        localhost_nodeports=args.iptables_localhost_nodeports,
        announce_load_balancer_ips=args.announce_load_balancer_ips,
        load_balancer_class=args.load_balancer_class,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)

    async def run(_: argparse.Namespace) -> None:
        await serve(options_from(args))

    return run_service("proxy", run, args)


if __name__ == "__main__":
    sys.exit(main())
