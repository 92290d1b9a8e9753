"""Sidecar containers (KEP-753): init containers whose restartPolicy is Always. They start in
their init order, like any init container, but the next one does not wait for them to finish:
they keep running beside the app containers, are restarted whatever the pod's restartPolicy, and
count towards the pod's readiness and resources (pkg/api/v1/pod IsRestartableInitContainer)."""

from __future__ import annotations

from collections.abc import Sequence

from podplane.api.core.v1 import core_pb2

# The one value a container's restartPolicy may take (ContainerRestartPolicyAlways).
CONTAINER_RESTART_POLICY_ALWAYS = "Always"


def is_sidecar(container: core_pb2.Container | None) -> bool:
    """Whether an init container is restartable (a sidecar). Only init containers may set a
    restartPolicy, so this is False for any other container."""
    return (
        container is not None
        and container.HasField("restart_policy")
        and container.restart_policy == CONTAINER_RESTART_POLICY_ALWAYS
    )


def sidecars(spec: core_pb2.PodSpec) -> list[core_pb2.Container]:
    """The pod's sidecars, in their init order."""
    return [c for c in spec.init_containers if is_sidecar(c)]


def sidecar_names(spec: core_pb2.PodSpec) -> set[str]:
    return {c.name for c in spec.init_containers if is_sidecar(c)}


def has_sidecars(spec: core_pb2.PodSpec) -> bool:
    return any(is_sidecar(c) for c in spec.init_containers)


def regular_init_containers(spec: core_pb2.PodSpec) -> Sequence[core_pb2.Container]:
    """The init containers that run once to completion."""
    return [c for c in spec.init_containers if not is_sidecar(c)]
