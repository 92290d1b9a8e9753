"""The pod garbage collector's threshold (PodGCControllerOptions)."""

from __future__ import annotations

import argparse

from controller.framework.manager import ControllerOptions


def add_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--terminated-pod-gc-threshold",
        type=int,
        default=ControllerOptions.terminated_pod_gc_threshold,
        help="terminated pods kept before the pod garbage collector deletes the oldest "
        "(default 12500; 0: none deleted)",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Every count is accepted: 0 deletes none."""
