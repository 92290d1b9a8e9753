"""A new size for a ReplicationController, ReplicaSet, Deployment or StatefulSet (kubectl's
pkg/scale): read, check the preconditions, update with the resourceVersion read; a conflict
(someone wrote in between) reads it again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from podctl.errors import CommandError
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import ResourceClient, is_conflict

# The kinds with a scale subresource in this API.
SCALABLE = (
    resources.REPLICATION_CONTROLLER,
    resources.REPLICA_SET,
    resources.DEPLOYMENT,
    resources.STATEFUL_SET,
)
CONFLICT_RETRIES = 5
Scalable = (
    core_pb2.ReplicationController
    | apps_pb2.ReplicaSet
    | apps_pb2.Deployment
    | apps_pb2.StatefulSet
)
S = TypeVar(
    "S",
    core_pb2.ReplicationController,
    apps_pb2.ReplicaSet,
    apps_pb2.Deployment,
    apps_pb2.StatefulSet,
)


@dataclass(frozen=True)
class Preconditions:
    """kubectl's ScalePrecondition: -1 / "" mean none."""

    current_replicas: int = -1
    resource_version: str = ""

    def check(self, obj: Scalable) -> None:
        replicas = obj.spec.replicas
        if self.current_replicas != -1 and replicas != self.current_replicas:
            raise CommandError(
                f"error: Expected replicas to be {self.current_replicas}, was {replicas}"
            )
        rv = obj.metadata.resource_version
        if self.resource_version and rv != self.resource_version:
            raise CommandError(
                f"error: Expected resource version to be {self.resource_version}, was {rv}"
            )


async def scale(
    api: ResourceClient[S],
    name: str,
    namespace: str,
    replicas: int,
    preconditions: Preconditions = Preconditions(),
) -> S:
    """Sets spec.replicas: Get, then Update with that resourceVersion; a conflict starts over
    (and rechecks the preconditions against what is stored now)."""
    for attempt in range(CONFLICT_RETRIES):
        live = await api.get(name, namespace)
        preconditions.check(live)
        if live.spec.replicas == replicas:
            return live
        updated = type(live)()
        updated.CopyFrom(live)
        updated.spec.replicas = replicas
        try:
            return await api.update(updated)
        except Exception as e:
            if not is_conflict(e) or attempt == CONFLICT_RETRIES - 1:
                raise
    raise AssertionError("unreachable")
