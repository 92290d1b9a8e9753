"""Defaults of the workload controllers' objects (pkg/apis/core/v1 and pkg/apis/apps/v1
defaults.go): ReplicationController, ReplicaSet, Deployment, and their pod templates."""

from __future__ import annotations

from apiserver.defaulting.pod import pod_spec
from podplane.api.apps.v1 import apps_pb2
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2

DEFAULT_MAX_UNAVAILABLE = DEFAULT_MAX_SURGE = "25%"
DEFAULT_REVISION_HISTORY_LIMIT = 10
DEFAULT_PROGRESS_DEADLINE_SECONDS = 600

# A spec with a pod template.
TemplateSpec = (
    core_pb2.ReplicationControllerSpec
    | apps_pb2.ReplicaSetSpec
    | apps_pb2.DeploymentSpec
    | apps_pb2.StatefulSetSpec
    | batch_pb2.JobSpec
)


def pod_template(spec: TemplateSpec) -> None:
    """A controller spec's pod template gets a pod's spec defaults (tolerations are admission's, and
    only pods get them)."""
    if spec.HasField("template"):
        pod_spec(spec.template.spec)


def replication_controller(obj: core_pb2.ReplicationController) -> None:
    labels = obj.spec.template.metadata.labels
    if labels:
        if not obj.spec.selector:
            obj.spec.selector.update(labels)
        if not obj.metadata.labels:
            obj.metadata.labels.update(labels)
    if not obj.spec.HasField("replicas"):
        obj.spec.replicas = 1
    pod_template(obj.spec)


def replica_set(obj: apps_pb2.ReplicaSet) -> None:
    if not obj.spec.HasField("replicas"):
        obj.spec.replicas = 1
    pod_template(obj.spec)


def deployment(obj: apps_pb2.Deployment) -> None:
    spec = obj.spec
    if not spec.HasField("replicas"):
        spec.replicas = 1
    strategy = spec.strategy
    strategy.type = strategy.type or "RollingUpdate"
    if strategy.type == "RollingUpdate":
        rolling = strategy.rolling_update
        rolling.max_unavailable = rolling.max_unavailable or DEFAULT_MAX_UNAVAILABLE
        rolling.max_surge = rolling.max_surge or DEFAULT_MAX_SURGE
    if not spec.HasField("revision_history_limit"):
        spec.revision_history_limit = DEFAULT_REVISION_HISTORY_LIMIT
    if not spec.HasField("progress_deadline_seconds"):
        spec.progress_deadline_seconds = DEFAULT_PROGRESS_DEADLINE_SECONDS
    pod_template(spec)
