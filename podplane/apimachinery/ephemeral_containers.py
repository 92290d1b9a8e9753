"""Ephemeral containers as the rest of the code sees containers: an EphemeralContainer has the
Container's fields under the same numbers (plus targetContainerName), so it converts losslessly to
the Container that the kubelet runs and podctl describes (Kubernetes' EphemeralContainerCommon)."""

from __future__ import annotations

from podplane.api.core.v1 import core_pb2


def as_container(ephemeral: core_pb2.EphemeralContainer) -> core_pb2.Container:
    container = core_pb2.Container.FromString(ephemeral.SerializeToString())
    container.DiscardUnknownFields()  # targetContainerName has no place in a Container
    return container


def find(spec: core_pb2.PodSpec, name: str) -> core_pb2.EphemeralContainer | None:
    return next((c for c in spec.ephemeral_containers if c.name == name), None)


def status_of(status: core_pb2.PodStatus, name: str) -> core_pb2.ContainerStatus | None:
    return next((s for s in status.ephemeral_container_statuses if s.name == name), None)
