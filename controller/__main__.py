"""python -m controller --server HOST:PORT [--health-port 10257] [--controllers namespace,...]
       [--metrics-bind-address 0.0.0.0:10252] [--leader-elect=true] [--cluster-cidr 10.244.0.0/16]
       [--node-monitor-grace-period 50s] [--local-path-dir /var/local-path-provisioner] ...

The controller-manager: runs the cluster's controllers against the apiserver. With leader election
(the default) any number of replicas may run: the one holding the Lease
kube-system/kube-controller-manager runs the controllers, the others stand by; a leader that loses
the lease exits (status 1) and is restarted as a standby. Its health service reports SERVING while
it leads or stands by; SIGTERM stops it gracefully, releasing the lease."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from controller.controllers import CONTROLLERS
from controller.framework.manager import ControllerManager, ControllerOptions
from controller.nodeipam.cidrset import CidrAllocator
from podplane.client.clientset import Client, user_agent
from podplane.componentbase import client_flags, flags, leaderelection_flags, serving_flags
from podplane.componentbase.app import (
    Component,
    component_settings,
    leader_elector,
    serve_component,
    while_leading,
)
from podplane.componentbase.serving import run_service

log = logging.getLogger("controller-manager")


def _controllers(value: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONTROLLERS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown controller(s) {unknown or value!r}; known: {', '.join(CONTROLLERS)}"
        )
    return names


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="controller-manager", description=__doc__.split("\n\n")[0]
    )
    client_flags.add_flags(parser, server_help="the apiserver's gRPC address, HOST:PORT")
    serving_flags.add_health_flags(parser, 10257)
    parser.add_argument(
        "--controllers",
        type=_controllers,
        default=list(CONTROLLERS),
        help=f"comma-separated controllers to run (default all: {','.join(CONTROLLERS)})",
    )
    serving_flags.add_metrics_flag(
        parser,
        default="0.0.0.0:10252",
        help="HOST:PORT of the Prometheus /metrics endpoint (default 0.0.0.0:10252; empty: none)",
    )
    parser.add_argument(
        "--node-monitor-grace-period",
        type=flags.duration,
        default=ControllerOptions.node_monitor_grace_period,
        help="how long a node may go without renewing its lease before it is "
        "marked unreachable (default 50s)",
    )
    parser.add_argument(
        "--node-startup-grace-period",
        type=flags.duration,
        default=ControllerOptions.node_startup_grace_period,
        help="the same for a node that never posted its status (default 60s)",
    )
    parser.add_argument(
        "--terminated-pod-gc-threshold",
        type=int,
        default=ControllerOptions.terminated_pod_gc_threshold,
        help="terminated pods kept before the pod garbage collector deletes the oldest "
        "(default 12500; 0: none deleted)",
    )
    parser.add_argument(
        "--cluster-cidr",
        default=ControllerOptions.cluster_cidr,
        help="the range node podCIDRs are allocated from (default 10.244.0.0/16)",
    )
    parser.add_argument(
        "--node-cidr-mask-size",
        type=int,
        default=ControllerOptions.node_cidr_mask_size,
        help="prefix length of each node's podCIDR (default 24)",
    )
    parser.add_argument(
        "--local-path-dir",
        default=ControllerOptions.local_path_dir,
        help="the directory of the nodes that the local-path provisioner puts volumes in "
        f"(default {ControllerOptions.local_path_dir})",
    )
    parser.add_argument(
        "--local-path-helper-image",
        default=ControllerOptions.local_path_helper_image,
        help="the image of the helper pods that remove a deleted volume's directory "
        f"(default {ControllerOptions.local_path_helper_image})",
    )
    parser.add_argument(
        "--default-storage-class",
        default=ControllerOptions.default_storage_class,
        help="the default storage class the local-path provisioner creates at start unless it "
        f"exists (default {ControllerOptions.default_storage_class}; empty: none)",
    )
    parser.add_argument(
        "--root-ca-file",
        default="",
        help="the CA bundle published in every namespace's kube-root-ca.crt ConfigMap "
        "(default: --ca-file, the CA this controller-manager verifies the apiserver with)",
    )
    parser.add_argument(
        "--cluster-signing-cert-file",
        default="",
        help="PEM CA certificate the csrsigning controller issues certificates with",
    )
    parser.add_argument(
        "--cluster-signing-key-file",
        default="",
        help="PEM private key of --cluster-signing-cert-file",
    )
    parser.add_argument(
        "--cluster-signing-duration",
        type=flags.duration,
        default=ControllerOptions.cluster_signing_duration,
        help="the longest validity of the certificates csrsigning issues (default 8760h)",
    )
    leaderelection_flags.add_flags(parser, "kube-controller-manager")
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], type=str.upper
    )
    args = parser.parse_args(argv)
    try:
        CidrAllocator(args.cluster_cidr, args.node_cidr_mask_size)
    except ValueError as e:
        parser.error(f"--cluster-cidr/--node-cidr-mask-size: {e}")
    component_settings(parser, args)
    args.options = ControllerOptions(
        node_monitor_grace_period=args.node_monitor_grace_period,
        node_startup_grace_period=args.node_startup_grace_period,
        terminated_pod_gc_threshold=args.terminated_pod_gc_threshold,
        cluster_cidr=args.cluster_cidr,
        node_cidr_mask_size=args.node_cidr_mask_size,
        local_path_dir=args.local_path_dir,
        local_path_helper_image=args.local_path_helper_image,
        default_storage_class=args.default_storage_class,
        root_ca=_root_ca(parser, args),
        cluster_signing_cert_file=args.cluster_signing_cert_file,
        cluster_signing_key_file=args.cluster_signing_key_file,
        cluster_signing_duration=args.cluster_signing_duration,
    )
    if bool(args.cluster_signing_cert_file) != bool(args.cluster_signing_key_file):
        parser.error("--cluster-signing-cert-file and --cluster-signing-key-file go together")
    return args


def _root_ca(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    """--root-ca-file's PEM text, else --ca-file's; "" without either (plaintext to a local
    apiserver: there is no CA to publish)."""
    path = args.root_ca_file or (args.credentials.ca_file if args.credentials else "")
    if not path:
        return ""
    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError) as e:
        parser.error(f"--root-ca-file: cannot read {path}: {e}")


async def serve(args: argparse.Namespace) -> None:
    def build(client: Client) -> Component:
        manager = ControllerManager(
            client, {n: CONTROLLERS[n] for n in args.controllers}, args.options
        )
        # The controllers (and their informers) start only once this replica leads; losing the
        # lease raises LeadershipLost, which ends the process with status 1.
        elector = leader_elector(client, args.leader_election)
        return Component(run=lambda: while_leading(elector, manager.run))

    await serve_component(
        apiserver=args.server,
        credentials=args.credentials,
        health_address=serving_flags.health_address_from_flags(args),
        metrics_address=args.metrics_bind_address,
        build=build,
        agent=user_agent("kube-controller-manager"),
    )


def main(argv: Sequence[str] | None = None) -> int:
    return run_service("controller-manager", serve, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
