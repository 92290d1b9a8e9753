"""A container's volume mounts as bind mounts of the node (kubelet_pods.go makeMounts): the
volume's directory, or a path in it (subPath, or subPathExpr with $(VAR) expanded from the
container's environment); read-only where the mount says so, and always for configMap, secret,
downwardAPI and projected volumes (the kubelet writes those) and for claims the pod's volume says
readOnly of; recursively read-only (recursiveReadOnly) where the runtime can, which Docker 20.10
cannot: IfPossible is then a plain read-only mount, Enabled keeps the container from being
created."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from kubelet.container.env import expand
from kubelet.runtime.types import Mount
from kubelet.volume.errors import VolumeError
from podplane.api.core.v1 import core_pb2

# The kinds whose files the kubelet writes: mounted read-only.
WRITTEN_KINDS = (
    "kubernetes.io~configmap",
    "kubernetes.io~secret",
    "kubernetes.io~downward-api",
    "kubernetes.io~projected",
)
RRO_DISABLED = "Disabled"
RRO_IF_POSSIBLE = "IfPossible"
RRO_ENABLED = "Enabled"


class _Recorder(dict[str, str]):
    """The container's variables, noting each $(VAR) that has no value."""

    def __init__(self, env: Mapping[str, str]) -> None:
        super().__init__(env)
        self.missing: set[str] = set()

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: str) -> str:
        value = self.get(key, "")
        if not value:
            self.missing.add(key)
        return value


def expand_sub_path(expr: str, env: Mapping[str, str]) -> str:
    """ExpandContainerVolumeMounts: every $(VAR) must name a variable with a value."""
    values = _Recorder(env)
    expanded = expand(expr, values)
    if values.missing:
        raise VolumeError(f"missing value for {', '.join(sorted(values.missing))}")
    return expanded


def resolve_recursive_read_only(mount: core_pb2.VolumeMount, supported: bool) -> bool:
    """resolveRecursiveReadOnly: whether the mount is made recursively read-only."""
    mode = mount.recursive_read_only if mount.HasField("recursive_read_only") else RRO_DISABLED
    if mode == RRO_DISABLED:
        return False
    name = mount.name
    if not mount.read_only:
        raise VolumeError(
            f'volume "{name}" requested recursive read-only mode, but it is not read-only'
        )
    if mount.mount_propagation not in ("", "None"):
        raise VolumeError(
            f'volume "{name}" requested recursive read-only mode, but it is not compatible '
            f'with propagation "{mount.mount_propagation}"'
        )
    if mode == RRO_IF_POSSIBLE:
        return supported
    if mode == RRO_ENABLED:
        if not supported:
            raise VolumeError(
                f'volume "{name}" requested recursive read-only mode, but it is not supported '
                f"by the runtime"
            )
        return True
    raise VolumeError(f'unknown recursive read-only mode "{mode}"')


def wants_recursive_read_only(container: core_pb2.Container) -> bool:
    return any(
        vm.HasField("recursive_read_only") and vm.recursive_read_only != RRO_DISABLED
        for vm in container.volume_mounts
    )


def _sub_path(vm: core_pb2.VolumeMount, env: Mapping[str, str]) -> str:
    sub_path = expand_sub_path(vm.sub_path_expr, env) if vm.sub_path_expr else vm.sub_path
    if sub_path.startswith("/"):
        raise VolumeError(f"error SubPath `{sub_path}` must not be an absolute path")
    if ".." in Path(sub_path).parts:
        raise VolumeError(f"unable to provision SubPath `{sub_path}`: must not contain '..'")
    return sub_path


def container_mounts(
    container: core_pb2.Container,
    paths: Mapping[str, str],
    env: Sequence[tuple[str, str]] = (),
    rro_supported: bool = False,
    read_only_volumes: frozenset[str] = frozenset(),
) -> list[Mount]:
    """The container's bind mounts; VolumeError (CreateContainerConfigError) for one that
    cannot be made. `read_only_volumes` are those every container mounts read-only."""
    variables = dict(env)
    mounts = []
    for vm in container.volume_mounts:
        if vm.name not in paths:
            raise VolumeError(
                f'cannot find volume "{vm.name}" to mount into container "{container.name}"'
            )
        host = paths[vm.name]
        sub_path = _sub_path(vm, variables) if vm.sub_path or vm.sub_path_expr else ""
        if sub_path:
            host = os.path.join(host, sub_path)
            if not os.path.exists(host):
                os.makedirs(host, mode=0o777, exist_ok=True)
        try:
            rro = resolve_recursive_read_only(vm, rro_supported)
        except VolumeError as e:
            raise VolumeError(f"failed to resolve recursive read-only mode: {e}") from e
        always_ro = (
            Path(paths[vm.name]).parent.name in WRITTEN_KINDS or vm.name in read_only_volumes
        )
        mounts.append(
            Mount(
                host_path=host,
                container_path=vm.mount_path,
                read_only=vm.read_only or always_ro,
                recursive_read_only=rro,
            )
        )
    return mounts
