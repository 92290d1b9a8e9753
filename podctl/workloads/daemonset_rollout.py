"""DaemonSet rollouts as kubectl's rollout status sees them (polymorphichelpers rollout_status.go
DaemonSetStatusViewer): the status line and when the rollout is done. Its revisions are
ControllerRevisions, read as podctl.workloads.controller_revisions reads them."""

from __future__ import annotations

from podctl.errors import CommandError
from podplane.api.apps.v1 import apps_pb2

ROLLING_UPDATE = "RollingUpdate"


def rollout_status(ds: apps_pb2.DaemonSet) -> tuple[str, bool]:
    """DaemonSetStatusViewer: the line to print and whether the rollout is done."""
    if ds.spec.update_strategy.type != ROLLING_UPDATE:
        raise CommandError(
            "error: rollout status is only available for RollingUpdate strategy type"
        )
    if ds.metadata.generation > ds.status.observed_generation:
        return "Waiting for daemon set spec update to be observed...", False
    name, status = ds.metadata.name, ds.status
    waiting = f'Waiting for daemon set "{name}" rollout to finish: '
    if status.updated_number_scheduled < status.desired_number_scheduled:
        return (
            f"{waiting}{status.updated_number_scheduled} out of "
            f"{status.desired_number_scheduled} new pods have been updated..."
        ), False
    if status.number_available < status.desired_number_scheduled:
        return (
            f"{waiting}{status.number_available} of {status.desired_number_scheduled} updated "
            "pods are available..."
        ), False
    return f'daemon set "{name}" successfully rolled out', True
