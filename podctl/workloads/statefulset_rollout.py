"""StatefulSet rollouts as kubectl's rollout status sees them (polymorphichelpers
rollout_status.go StatefulSetStatusViewer): the status line and when the rollout is done. Its
revisions are ControllerRevisions, read as podctl.workloads.controller_revisions reads them."""

from __future__ import annotations

from podctl.errors import CommandError
from podplane.api.apps.v1 import apps_pb2

ROLLING_UPDATE = "RollingUpdate"


def rollout_status(sts: apps_pb2.StatefulSet) -> tuple[str, bool]:
    """StatefulSetStatusViewer: the line to print and whether the rollout is done. A
    RollingUpdate with parameters (the default: partition 0) is reported as a partitioned roll
    out, as kubectl does."""
    spec, status = sts.spec, sts.status
    strategy = spec.update_strategy
    if strategy.type != ROLLING_UPDATE:
        raise CommandError(
            "error: rollout status is only available for RollingUpdate strategy type"
        )
    if status.observed_generation == 0 or sts.metadata.generation > status.observed_generation:
        return "Waiting for statefulset spec update to be observed...", False
    if spec.HasField("replicas") and status.ready_replicas < spec.replicas:
        return f"Waiting for {spec.replicas - status.ready_replicas} pods to be ready...", False
    if strategy.HasField("rolling_update"):
        rolling = strategy.rolling_update
        if spec.HasField("replicas") and rolling.HasField("partition"):
            wanted = spec.replicas - rolling.partition
            if status.updated_replicas < wanted:
                return (
                    "Waiting for partitioned roll out to finish: "
                    f"{status.updated_replicas} out of {wanted} new pods have been updated..."
                ), False
        return (
            f"partitioned roll out complete: {status.updated_replicas} new pods have been "
            "updated..."
        ), True
    if status.update_revision != status.current_revision:
        return (
            f"waiting for statefulset rolling update to complete {status.updated_replicas} pods "
            f"at revision {status.update_revision}..."
        ), False
    return (
        f"statefulset rolling update complete {status.current_replicas} pods at revision "
        f"{status.current_revision}..."
    ), True
