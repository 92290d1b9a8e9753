"""The node lifecycle controller's grace periods (NodeLifecycleControllerOptions)."""

from __future__ import annotations

import argparse

from controller.framework.manager import ControllerOptions
from podplane.componentbase import flags


def add_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("node lifecycle")
    g.add_argument(
        "--node-monitor-grace-period",
        type=flags.duration,
        default=ControllerOptions.node_monitor_grace_period,
        help="how long a node may go without renewing its lease before it is "
        "marked unreachable (default 50s)",
    )
    g.add_argument(
        "--node-startup-grace-period",
        type=flags.duration,
        default=ControllerOptions.node_startup_grace_period,
        help="the same for a node that never posted its status (default 60s)",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Checked by the flags' type."""
