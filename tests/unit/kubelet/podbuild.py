"""Builders for the kubelet's unit tests: pods and container statuses in a line each, and a static
pod's manifest."""

from __future__ import annotations

from typing import Any

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2

# A static pod's manifest, as a file in the manifest directory holds it.
WEB = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: main
    image: busybox
    command: ["sleep", "3600"]
"""


def optional_field(optional: bool | None) -> dict[str, bool]:
    """A ConfigMap or Secret reference's `optional` when a test sets it; left unset (as a manifest
    without it) when None."""
    return {} if optional is None else {"optional": optional}


def container(name: str, image: str = "busybox:latest", **fields: Any) -> core_pb2.Container:
    fields.setdefault("image_pull_policy", "IfNotPresent")
    return core_pb2.Container(name=name, image=image, **fields)


def pod(
    *containers: str | core_pb2.Container,
    init: tuple[str | core_pb2.Container, ...] = (),
    restart_policy: str = "Always",
    name: str = "web",
    uid: str = "uid-1",
    volumes: tuple[core_pb2.Volume, ...] = (),
    **spec: Any,
) -> core_pb2.Pod:
    def as_container(c: str | core_pb2.Container) -> core_pb2.Container:
        return container(c) if isinstance(c, str) else c

    return core_pb2.Pod(
        metadata=meta_pb2.ObjectMeta(name=name, namespace="default", uid=uid, resource_version="1"),
        spec=core_pb2.PodSpec(
            containers=[as_container(c) for c in containers],
            init_containers=[as_container(c) for c in init],
            restart_policy=restart_policy,
            node_name="node-1",
            volumes=list(volumes),
            **spec,
        ),
    )


def running(name: str) -> core_pb2.ContainerStatus:
    return core_pb2.ContainerStatus(
        name=name,
        state=core_pb2.ContainerState(
            running=core_pb2.ContainerStateRunning(started_at="2026-01-01T00:00:00Z")
        ),
    )


def terminated(name: str, exit_code: int) -> core_pb2.ContainerStatus:
    return core_pb2.ContainerStatus(
        name=name,
        state=core_pb2.ContainerState(
            terminated=core_pb2.ContainerStateTerminated(exit_code=exit_code)
        ),
    )


def waiting(
    name: str, reason: str = "ContainerCreating", last_exit: int | None = None
) -> core_pb2.ContainerStatus:
    status = core_pb2.ContainerStatus(
        name=name,
        state=core_pb2.ContainerState(waiting=core_pb2.ContainerStateWaiting(reason=reason)),
    )
    if last_exit is not None:
        status.last_state.terminated.exit_code = last_exit
    return status
