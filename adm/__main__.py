"""python -m adm COMMAND: what `kubeadm` does on a machine of the cluster.

manifests           write the control plane's static pod manifests (kubeadm init phase
                    control-plane all, phase etcd local) into --out
mark-control-plane  label and taint this machine's Node as a control-plane node
addons              print the add-ons (kube-proxy, the cluster DNS, the metrics API) for
                    `kubectl apply -f -`, with the control plane's endpoint (kubeadm init phase
                    addon all)
pod-routes          keep routes to the other nodes' pod CIDRs
wait-cluster        until the nodes are Ready and the add-ons ready (kubeadm's wait phases)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import yaml

from adm.addons import render
from adm.manifests import ControlPlane, manifests
from adm.markcontrolplane import mark_control_plane
from adm.waitcluster import NotReady, cluster_stages, wait_cluster
from podplane.client.clientset import Client, user_agent
from podplane.componentbase import client_flags
from podplane.componentbase.pki import Member, parse_members
from podplane.componentbase.serving import configure_logging
from podplane.podroutes import PodRoutes


def write_if_changed(path: Path, text: str) -> bool:
    """Writes `text` atomically unless the file holds it already: the kubelet restarts a static
    pod whose manifest changes, and only then."""
    if path.exists() and path.read_text() == text:
        return False
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return True


def run_manifests(args: argparse.Namespace) -> int:
    members = tuple(args.members)
    local = next((m for m in members if m.name == args.node), None)
    if local is None:
        print(f"--node: {args.node} is not one of --members", file=sys.stderr)
        return 2
    cp = ControlPlane(
        local=local,
        members=members,
        service_cidr=args.service_cluster_ip_range,
        cluster_cidr=args.cluster_cidr,
        initial_cluster_state=args.initial_cluster_state,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    for name, manifest in manifests(cp).items():
        text = yaml.safe_dump(manifest, sort_keys=False)
        if write_if_changed(args.out / name, text):
            print(f"[control-plane] wrote {args.out / name}")
    return 0


# docker/addons, beside this package in the source tree.
ADDONS = Path(__file__).resolve().parent.parent / "docker" / "addons"


def run_addons(args: argparse.Namespace) -> int:
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        print(f"no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    sys.stdout.write(yaml.safe_dump_all(render(args.paths, args.server), sort_keys=False))
    return 0


def with_client(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    body: Callable[[Client], Awaitable[None]],
) -> None:
    """Runs `body` with a client of the apiserver the flags name, closed afterwards."""
    config = client_flags.config_from_flags(parser, args)

    async def run() -> None:
        client = Client(config.server, credentials=config.credentials, agent=user_agent("adm"))
        try:
            await body(client)
        finally:
            await client.close()

    asyncio.run(run())


def run_mark_control_plane(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    with_client(parser, args, lambda client: mark_control_plane(client, args.node))
    print(f"[mark-control-plane] node {args.node} is a control-plane node")
    return 0


def run_pod_routes(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    with_client(parser, args, lambda client: PodRoutes(client, args.node).run())
    return 0


def run_wait_cluster(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    started = args.started or time.time()
    deadline = time.time() + args.timeout

    def say(line: str) -> None:
        print(f"wait-cluster: {line}", file=sys.stderr, flush=True)

    try:
        with_client(
            parser,
            args,
            lambda client: wait_cluster(client, cluster_stages(args.nodes), deadline, started, say),
        )
    except NotReady as e:
        say(f"not ready after {args.timeout:.0f} s: {e}")
        return 1
    return 0


def _members(value: str) -> list[Member]:
    try:
        members = parse_members("--members", value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if not members:
        raise argparse.ArgumentTypeError("at least one NAME=IP")
    return members


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="python -m adm", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    m = commands.add_parser("manifests", help="write the control plane's static pod manifests")
    m.add_argument("--node", required=True, help="this machine's name, one of --members")
    m.add_argument(
        "--members",
        required=True,
        type=_members,
        help="NAME=IP,...: every control-plane machine (each runs an etcd member)",
    )
    m.add_argument("--out", type=Path, default=Path("/etc/kubernetes/manifests"))
    m.add_argument("--service-cluster-ip-range", default="10.96.0.0/12")
    m.add_argument("--cluster-cidr", default="10.244.0.0/16")
    m.add_argument(
        "--initial-cluster-state",
        choices=["new", "existing"],
        default="new",
        help="etcd's: new when the members start the cluster together",
    )
    addons = commands.add_parser(
        "addons", help="print the add-ons with the control plane's endpoint, for kubectl apply"
    )
    addons.add_argument(
        "--server",
        required=True,
        help="HOST:PORT of the apiservers' port for bearer tokens, reachable from every node",
    )
    addons.add_argument(
        "paths", nargs="*", type=Path, default=[ADDONS], help=f"files or folders (default {ADDONS})"
    )
    mark = commands.add_parser(
        "mark-control-plane", help="label and taint a Node as a control-plane node"
    )
    mark.add_argument("--node", required=True, help="the Node's name")
    client_flags.add_flags(mark)
    routes = commands.add_parser(
        "pod-routes", help="keep routes to the other nodes' pod CIDRs (flannel's host-gw)"
    )
    routes.add_argument(
        "--node",
        default="",
        help="this machine's Node, routed to by its own bridge (none: a machine that is no node)",
    )
    client_flags.add_flags(routes)
    wait = commands.add_parser(
        "wait-cluster", help="until the nodes are Ready and the add-ons ready, through watches"
    )
    wait.add_argument("--nodes", type=int, default=3, help="how many Nodes must be Ready")
    wait.add_argument("--timeout", type=float, default=180, help="seconds, for every stage")
    wait.add_argument(
        "--started", type=float, default=0, help="the epoch second the times are counted from"
    )
    client_flags.add_flags(wait)
    args = p.parse_args(argv)
    configure_logging("INFO")
    if args.command == "manifests":
        return run_manifests(args)
    if args.command == "addons":
        return run_addons(args)
    if args.command == "pod-routes":
        return run_pod_routes(routes, args)
    if args.command == "wait-cluster":
        return run_wait_cluster(wait, args)
    return run_mark_control_plane(mark, args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
