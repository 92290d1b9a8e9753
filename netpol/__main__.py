"""python -m netpol --server HOST:PORT [--hostname-override NAME] [--pod-cidr CIDR] [--pod-routes]

The NetworkPolicy agent: enforces networking.k8s.io/v1 NetworkPolicies on this node's pods with
iptables (docs/services.md#network-policies). Runs on every node: the node's entrypoint
(docker/node-entrypoint.sh) starts it with the node's own credentials and --pod-routes, one
process for the node's network as kindnet's and k3s's agents are. Stopping it leaves the rules
and routes in place."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import grpc

from netpol.agent import NetworkPolicyAgent
from podplane.client.clientset import Client, user_agent
from podplane.componentbase import options
from podplane.componentbase.client_flags import ClientOptions
from podplane.componentbase.options import LogOptions, OptionGroup
from podplane.componentbase.serving import run_service, run_until_signal
from podplane.iptables.runner import ExecIptables
from podplane.podroutes import PodRoutes

log = logging.getLogger("netpol")
BRIDGE_CALL_IPTABLES = Path("/proc/sys/net/bridge/bridge-nf-call-iptables")


def _cidr(value: str) -> str:
    if not value:
        return ""
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a CIDR (e.g. 10.244.1.0/24)") from None


class _AgentOptions:
    @staticmethod
    def add_flags(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--hostname-override",
            default="",
            help="this node's name, as its pods' spec.nodeName says it (default: the host name)",
        )
        parser.add_argument(
            "--pod-cidr",
            type=_cidr,
            default="",
            help="this node's pod addresses, whose packets are dropped until their pod is "
            "programmed while any policy exists (default: the Node's spec.podCIDR)",
        )
        parser.add_argument(
            "--pod-routes",
            action="store_true",
            help="also keep this machine's routes to the other nodes' pod CIDRs as the Nodes "
            "say (flannel's host-gw: podplane.podroutes), from the start, whatever the policies' "
            "watches wait for",
        )
        parser.add_argument(
            "--iptables-netns",
            default="",
            help="write the rules in this named network namespace (`ip netns exec NAME`) "
            "rather than the agent's own: tests and benchmarks",
        )

    @staticmethod
    def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        args.hostname = (args.hostname_override or socket.gethostname()).strip().lower()
        if not args.hostname:
            parser.error("--hostname-override: empty hostname is invalid")


OPTION_GROUPS: tuple[OptionGroup, ...] = (
    ClientOptions(server_help="the apiserver's gRPC address"),
    _AgentOptions,
    LogOptions,
)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="netpol", description=__doc__.split("\n\n")[1])
    return options.parse(parser, OPTION_GROUPS, list(argv) if argv is not None else sys.argv[1:])


async def node_pod_cidr(client: Client, node: str) -> str:
    """The Node's spec.podCIDR, waited for (the node controller may not have set it yet)."""
    while True:
        try:
            cidr = (await client.nodes.get(node)).spec.pod_cidr
            if cidr:
                return cidr
            log.info("node %s has no spec.podCIDR yet", node)
        except grpc.aio.AioRpcError as e:
            log.info("node %s: %s", node, e.details())
        await asyncio.sleep(2)


async def enforce(client: Client, args: argparse.Namespace) -> None:
    pod_cidr = args.pod_cidr or await node_pod_cidr(client, args.hostname)
    log.info("network policies on node %s (pod CIDR %s)", args.hostname, pod_cidr)
    prefix = ["ip", "netns", "exec", args.iptables_netns] if args.iptables_netns else []
    await NetworkPolicyAgent(client, args.hostname, pod_cidr, ExecIptables(prefix)).run()


async def node_network(client: Client, args: argparse.Namespace) -> None:
    """The policies, and with --pod-routes the routes beside them: the first to fail ends both."""
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(enforce(client, args), name="network-policies")
        if args.pod_routes:
            tasks.create_task(PodRoutes(client, args.hostname).run(), name="pod-routes")


async def serve(args: argparse.Namespace) -> None:
    try:
        if BRIDGE_CALL_IPTABLES.read_text().strip() != "1":
            log.warning("bridge-nf-call-iptables is off: pods on one bridge are not judged")
    except OSError:
        pass
    client = Client(args.server, credentials=args.credentials, agent=user_agent("netpol"))
    try:
        await run_until_signal(node_network(client, args), "netpol")
        kept = "the rules and the routes stay" if args.pod_routes else "the rules stay"
        log.info("stopping; %s in place", kept)
    finally:
        await client.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_service("netpol", serve, args)


if __name__ == "__main__":
    sys.exit(main())
