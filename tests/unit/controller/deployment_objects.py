"""Builders for the Deployments, ReplicaSets and pod templates the deployment controller's unit
tests feed it."""

from __future__ import annotations

from controller.deployment import revision as revisions
from controller.deployment import rollout
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest

T0, T1, T2 = "2030-01-01T00:00:00Z", "2030-01-01T00:00:10Z", "2030-01-01T00:00:20Z"


def deploy(
    replicas: int = 10,
    surge: str = "25%",
    unavailable: str = "25%",
    *,
    strategy: str = "RollingUpdate",
    status_replicas: int = 0,
) -> apps_pb2.Deployment:
    d = apps_pb2.Deployment()
    d.metadata.name = "web"
    d.spec.replicas = replicas
    d.spec.strategy.type = strategy
    if strategy == "RollingUpdate":
        d.spec.strategy.rolling_update.max_surge = surge
        d.spec.strategy.rolling_update.max_unavailable = unavailable
    d.status.replicas = status_replicas
    return d


def rs(
    name: str,
    size: int,
    available: int | None = None,
    *,
    created: str = T0,
    desired: int | None = None,
    most: int | None = None,
    revision: int | None = None,
) -> apps_pb2.ReplicaSet:
    r = apps_pb2.ReplicaSet()
    r.metadata.name = name
    r.metadata.uid = f"uid-{name}"
    r.metadata.creation_timestamp = created
    r.spec.replicas = size
    r.status.replicas = size
    r.status.available_replicas = size if available is None else available
    if desired is not None:
        r.metadata.annotations[rollout.DESIRED_REPLICAS_ANNOTATION] = str(desired)
    if most is not None:
        r.metadata.annotations[rollout.MAX_REPLICAS_ANNOTATION] = str(most)
    if revision is not None:
        r.metadata.annotations[revisions.REVISION_ANNOTATION] = str(revision)
    return r


def template(image: str = "nginx:1.27", **labels: str) -> core_pb2.PodTemplateSpec:
    spec = manifest.from_dict(
        {
            "metadata": {"labels": {"app": "web", **labels}},
            "spec": {"containers": [{"name": "web", "image": image}]},
        },
        apps_pb2.ReplicaSet().spec.template.__class__,
    )
    assert isinstance(spec, core_pb2.PodTemplateSpec)
    return spec
