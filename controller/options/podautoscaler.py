"""The horizontal pod autoscaler controller's flags (kube-controller-manager's
HPAControllerOptions, with its defaults), and where the apiserver's Kubernetes REST door is: the
controller reads the metrics API (an aggregated API, which only that door proxies) and its
targets' scale subresource through it."""

from __future__ import annotations

import argparse

from controller.framework.manager import ControllerOptions
from podplane.componentbase import flags

DEFAULT_REST_PORT = 8443


def add_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("horizontal pod autoscaler")
    g.add_argument(
        "--rest-server",
        type=flags.address,
        default=None,
        help="the apiserver's Kubernetes REST address, HOST:PORT, for the metrics API and the "
        f"scale subresource (default: --server's host, port {DEFAULT_REST_PORT})",
    )
    g.add_argument(
        "--horizontal-pod-autoscaler-sync-period",
        type=flags.duration,
        default=ControllerOptions.hpa_sync_period,
        help="how often each autoscaler is looked at (default 15s)",
    )
    g.add_argument(
        "--horizontal-pod-autoscaler-downscale-stabilization",
        type=flags.duration,
        default=ControllerOptions.hpa_downscale_stabilization,
        help="the window of recommendations a scale-down takes the highest of (default 5m0s)",
    )
    g.add_argument(
        "--horizontal-pod-autoscaler-tolerance",
        type=float,
        default=ControllerOptions.hpa_tolerance,
        help="the least change of the usage ratio that scales (default 0.1)",
    )
    g.add_argument(
        "--horizontal-pod-autoscaler-cpu-initialization-period",
        type=flags.duration,
        default=ControllerOptions.hpa_cpu_initialization_period,
        help="after a pod starts, how long its CPU samples are skipped unless taken over a "
        "whole window since it became ready (default 5m0s)",
    )
    g.add_argument(
        "--horizontal-pod-autoscaler-initial-readiness-delay",
        type=flags.duration,
        default=ControllerOptions.hpa_initial_readiness_delay,
        help="after a pod starts, how long readiness changes count as its first (default 30s)",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Runs after the client options: the REST door defaults to the gRPC door's host."""
    if args.rest_server is None:
        host = args.server.rsplit(":", 1)[0]
        args.rest_server = f"{host}:{DEFAULT_REST_PORT}"
    if args.horizontal_pod_autoscaler_tolerance < 0:
        parser.error("--horizontal-pod-autoscaler-tolerance: must not be negative")
