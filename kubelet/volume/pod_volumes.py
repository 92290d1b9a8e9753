"""Pod volumes on the node: emptyDir directories under <root-dir>/pods/<uid>/volumes (a tmpfs for
medium Memory, mounted on the node so that every container of the pod shares it), configMap,
secret, downwardAPI and projected volumes as files written atomically there (again while the pod
runs, so they follow their objects, the pod's labels and the tokens' refreshes), hostPath checks,
and the directories of the persistent volumes bound to the pod's claims (kubelet/volume/claims.py);
then bind mounts into each container that names them (read-only where the mount, or the claim, says
so). The kubelet and the Docker engine share the node's filesystem, so these paths are the
engine's too."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import stat
import subprocess
from collections.abc import Mapping
from pathlib import Path

from kubelet.container.env import (
    ConfigObjectGetter,
    ConfigObjects,
    ContainerConfigError,
    fetch_pod_objects,
)
from kubelet.runtime.types import Mount
from kubelet.token.manager import TokenManager
from kubelet.volume.claims import ClaimMount, VolumeObjectGetter, resolve_claim
from kubelet.volume.downward_api import downward_api_payload
from kubelet.volume.errors import VolumeError, VolumeNotReady
from kubelet.volume.projected import projected_payload
from kubelet.volume.projection import (
    DEFAULT_MODE,
    FileProjection,
    ProjectionError,
    make_payload,
    write_atomically,
)
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import quantity

log = logging.getLogger(__name__)
EMPTY_DIR = "kubernetes.io~empty-dir"
CONFIG_MAP = "kubernetes.io~configmap"
SECRET = "kubernetes.io~secret"
DOWNWARD_API = "kubernetes.io~downward-api"
PROJECTED = "kubernetes.io~projected"
# The kinds whose files the kubelet writes: mounted read-only, written again at each sync.
WRITTEN_KINDS = (CONFIG_MAP, SECRET, DOWNWARD_API, PROJECTED)
# Those that may hold credentials: a tmpfs, never the node's disk.
_IN_MEMORY_KINDS = (SECRET, PROJECTED)
# The volume sources of those kinds.
_WRITTEN_SOURCES = ("config_map", "secret", "downward_api", "projected")


__all__ = ["PodVolumes", "VolumeError", "VolumeNotReady", "VolumePaths"]


class VolumePaths(dict[str, str]):
    """The node path of each of a pod's volumes, by name, and the volumes every container mounts
    read-only (claims whose pod volume says readOnly)."""

    def __init__(
        self, paths: Mapping[str, str] | None = None, read_only: frozenset[str] = frozenset()
    ) -> None:
        super().__init__(paths or {})
        self.read_only = read_only


def _check_host_path(name: str, source: core_pb2.HostPathVolumeSource) -> None:
    path, kind = source.path, source.type
    if not path.startswith("/"):
        raise VolumeError(f'volume "{name}": hostPath.path must be absolute, got "{path}"')
    if kind == "DirectoryOrCreate":
        os.makedirs(path, mode=0o755, exist_ok=True)
    elif kind == "FileOrCreate":
        os.makedirs(os.path.dirname(path), exist_ok=True)
        Path(path).touch(mode=0o644, exist_ok=True)
    checks = {
        "Directory": stat.S_ISDIR,
        "File": stat.S_ISREG,
        "Socket": stat.S_ISSOCK,
        "CharDevice": stat.S_ISCHR,
        "BlockDevice": stat.S_ISBLK,
    }
    if kind in checks:
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            raise VolumeError(
                f'volume "{name}": hostPath type check failed: {path} does not exist'
            ) from None
        if not checks[kind](mode):
            raise VolumeError(
                f'volume "{name}": hostPath type check failed: {path} is not a {kind}'
            )


def _mount_tmpfs(path: Path, size_limit: str = "", mode: int = 0o777) -> None:
    """A tmpfs on the node at path (emptyDir medium Memory; secret volumes, which Kubernetes
    never writes to disk). Where the kubelet may not mount, a plain directory does instead."""
    if os.path.ismount(path):
        return
    options = f"mode={mode:04o}"
    if size_limit:
        try:
            options += f",size={quantity.bytes_of(size_limit)}"
        except quantity.QuantityError as e:
            raise VolumeError(f"emptyDir sizeLimit: {e}") from e
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        log.warning(
            "volume %s: cannot mount a tmpfs (%s); using a plain directory",
            path,
            (result.stderr or result.stdout).strip(),
        )


def _config_map_payload(
    volume: core_pb2.Volume, objects: ConfigObjects
) -> dict[str, FileProjection]:
    source = volume.config_map
    default_mode = source.default_mode if source.HasField("default_mode") else None
    cm = objects.config_maps.get(source.name)
    if cm is None:
        if source.optional:
            return {}
        raise VolumeError(
            f'MountVolume.SetUp failed for volume "{volume.name}" : '
            f'configmap "{source.name}" not found'
        )
    data = {**dict(cm.binary_data), **{k: v.encode() for k, v in cm.data.items()}}
    try:
        return make_payload(source.items, default_mode, data, "configmap", source.optional)
    except ProjectionError as e:
        raise VolumeError(f'MountVolume.SetUp failed for volume "{volume.name}" : {e}') from e


def _secret_payload(volume: core_pb2.Volume, objects: ConfigObjects) -> dict[str, FileProjection]:
    source = volume.secret
    default_mode = source.default_mode if source.HasField("default_mode") else None
    secret = objects.secrets.get(source.secret_name)
    if secret is None:
        if source.optional:
            return {}
        raise VolumeError(
            f'MountVolume.SetUp failed for volume "{volume.name}" : '
            f'secret "{source.secret_name}" not found'
        )
    try:
        return make_payload(
            source.items, default_mode, dict(secret.data), "secret", source.optional
        )
    except ProjectionError as e:
        raise VolumeError(f'MountVolume.SetUp failed for volume "{volume.name}" : {e}') from e


class PodVolumes:
    def __init__(
        self,
        root_dir: str,
        objects: ConfigObjectGetter | None = None,
        claims: VolumeObjectGetter | None = None,
        tokens: TokenManager | None = None,
        node_allocatable: Mapping[str, str] | None = None,
    ) -> None:
        self.root_dir = Path(root_dir)
        # Where projected volumes' service account tokens come from; without one, a pod with a
        # serviceAccountToken source cannot start.
        self.tokens = tokens
        # What a downwardAPI file shows for a limit a container does not set.
        self.node_allocatable = dict(node_allocatable or {})
        # Where configMap and secret volumes (and containers' env) read their objects from;
        # without one, every ConfigMap and Secret is "not found".
        self.objects = objects
        # Where persistentVolumeClaim volumes read their claims and volumes from; without one,
        # no claim can be mounted.
        self.claims = claims
        # The claim volumes each pod (by uid) has mounted: they stay as they are until the pod
        # goes (the kubelet's actual state of the world), whatever happens to the claim meanwhile
        # (it may be being deleted, waiting for this very pod to go).
        self._mounted: dict[str, dict[str, ClaimMount]] = {}

    def pod_dir(self, uid: str) -> Path:
        return self.root_dir / "pods" / uid

    def _setup(
        self,
        pod: core_pb2.Pod,
        objects: ConfigObjects,
        claims: Mapping[str, ClaimMount],
        projected: Mapping[str, dict[str, FileProjection]],
    ) -> dict[str, str]:
        paths: dict[str, str] = {}
        volumes_dir = self.pod_dir(pod.metadata.uid) / "volumes"
        for volume in pod.spec.volumes:
            if volume.name in claims:
                mount = claims[volume.name]
                _check_host_path(
                    volume.name,
                    core_pb2.HostPathVolumeSource(path=mount.path, type=mount.host_path_type),
                )
                paths[volume.name] = mount.path
            elif volume.HasField("host_path"):
                _check_host_path(volume.name, volume.host_path)
                paths[volume.name] = volume.host_path.path
            elif volume.HasField("empty_dir"):
                path = self.pod_dir(pod.metadata.uid) / "volumes" / EMPTY_DIR / volume.name
                path.mkdir(parents=True, exist_ok=True)
                path.chmod(0o777)  # Kubernetes makes emptyDirs world-writable
                if volume.empty_dir.medium == "Memory":
                    _mount_tmpfs(path, volume.empty_dir.size_limit)
                paths[volume.name] = str(path)
            elif any(volume.HasField(k) for k in _WRITTEN_SOURCES):
                kind, payload = self._written_payload(pod, volume, objects, projected)
                path = volumes_dir / kind / volume.name
                if kind in _IN_MEMORY_KINDS:
                    path.mkdir(parents=True, exist_ok=True)
                    _mount_tmpfs(path, mode=0o755)
                try:
                    if write_atomically(path, payload):
                        log.info(
                            "pod %s/%s: volume %s written (%d files)",
                            pod.metadata.namespace,
                            pod.metadata.name,
                            volume.name,
                            len(payload),
                        )
                except ProjectionError as e:
                    raise VolumeError(
                        f'MountVolume.SetUp failed for volume "{volume.name}" : {e}'
                    ) from e
                paths[volume.name] = str(path)
            else:
                kind = next((f.name for f, _ in volume.ListFields() if f.name != "name"), "")
                raise VolumeError(
                    f'volume "{volume.name}": {kind or "this"} volumes are not '
                    f"supported by this kubelet (emptyDir, hostPath, configMap, secret, "
                    f"downwardAPI, projected and persistentVolumeClaim are)"
                )
        return paths

    def _written_payload(
        self,
        pod: core_pb2.Pod,
        volume: core_pb2.Volume,
        objects: ConfigObjects,
        projected: Mapping[str, dict[str, FileProjection]],
    ) -> tuple[str, dict[str, FileProjection]]:
        """The kind of a volume the kubelet writes, and its files."""
        if volume.HasField("config_map"):
            return CONFIG_MAP, _config_map_payload(volume, objects)
        if volume.HasField("secret"):
            return SECRET, _secret_payload(volume, objects)
        if volume.HasField("projected"):
            return PROJECTED, projected[volume.name]
        source = volume.downward_api
        mode = source.default_mode if source.HasField("default_mode") else DEFAULT_MODE
        try:
            payload = downward_api_payload(pod, source.items, mode, self.node_allocatable)
        except ProjectionError as e:
            raise VolumeError(f'MountVolume.SetUp failed for volume "{volume.name}" : {e}') from e
        return DOWNWARD_API, payload

    async def _projected(
        self, pod: core_pb2.Pod, objects: ConfigObjects
    ) -> dict[str, dict[str, FileProjection]]:
        """The files of each projected volume, by name: its tokens are asked for here, outside
        the thread that writes them."""
        payloads: dict[str, dict[str, FileProjection]] = {}
        for volume in pod.spec.volumes:
            if not volume.HasField("projected"):
                continue
            try:
                payloads[volume.name] = await projected_payload(
                    pod, volume, objects, self.tokens, self.node_allocatable
                )
            except ProjectionError as e:
                raise VolumeError(
                    f'MountVolume.SetUp failed for volume "{volume.name}" : {e}'
                ) from e
        return payloads

    async def _claims(self, pod: core_pb2.Pod) -> dict[str, ClaimMount]:
        """Every claim volume's mount; VolumeNotReady (as Kubernetes' FailedMount words it) when
        one cannot be mounted yet."""
        names = [v.name for v in pod.spec.volumes if v.HasField("persistent_volume_claim")]
        if not names:
            return {}
        mounted = self._mounted.get(pod.metadata.uid, {})
        mounts: dict[str, ClaimMount] = {}
        failed: list[str] = []
        first: VolumeNotReady | None = None
        for volume in pod.spec.volumes:
            if not volume.HasField("persistent_volume_claim"):
                continue
            if volume.name in mounted:
                mounts[volume.name] = mounted[volume.name]
                continue
            try:
                mounts[volume.name] = await resolve_claim(self.claims, pod, volume)
            except VolumeNotReady as e:
                failed.append(volume.name)
                first = first or e
        if first is None:
            self._mounted[pod.metadata.uid] = mounts
        else:
            unmounted = " ".join(names)
            raise VolumeNotReady(
                f"Unable to attach or mount volumes: unmounted volumes=[{unmounted}], "
                f"unattached volumes=[{unmounted}], failed to process volumes="
                f"[{' '.join(failed)}]: {first}"
            )
        return mounts

    async def setup(self, pod: core_pb2.Pod) -> VolumePaths:
        """Host path of each of the pod's volumes, by name; idempotent. configMap and secret
        volumes are brought up to date with the objects as they are now."""
        wanted = any(
            v.HasField("config_map") or v.HasField("secret") or v.HasField("projected")
            for v in pod.spec.volumes
        )
        try:
            claims = await self._claims(pod)
            objects = await fetch_pod_objects(self.objects, pod) if wanted else ConfigObjects()
            projected = await self._projected(pod, objects)
            paths = await asyncio.to_thread(self._setup, pod, objects, claims, projected)
        except ContainerConfigError as e:
            raise VolumeError(str(e)) from e
        except OSError as e:
            raise VolumeError(f"setting up volumes: {e}") from e
        return VolumePaths(paths, frozenset(n for n, m in claims.items() if m.read_only))

    @staticmethod
    def mounts(container: core_pb2.Container, paths: Mapping[str, str]) -> list[Mount]:
        mounts = []
        for vm in container.volume_mounts:
            if vm.name not in paths:
                raise VolumeError(f'volumeMounts: volume "{vm.name}" not found in the pod spec')
            host = paths[vm.name]
            if vm.sub_path:
                if vm.sub_path.startswith("/") or ".." in Path(vm.sub_path).parts:
                    raise VolumeError(
                        f'volumeMounts: subPath "{vm.sub_path}" must be a relative '
                        f"path within the volume"
                    )
                host = os.path.join(host, vm.sub_path)
                if not os.path.exists(host):
                    os.makedirs(host, mode=0o777, exist_ok=True)
            # configMap, secret, downwardAPI and projected volumes are always read-only, as the
            # kubelet mounts them; so is a claim the pod's volume says readOnly of.
            always_ro = Path(paths[vm.name]).parent.name in WRITTEN_KINDS or (
                isinstance(paths, VolumePaths) and vm.name in paths.read_only
            )
            mounts.append(
                Mount(
                    host_path=host,
                    container_path=vm.mount_path,
                    read_only=vm.read_only or always_ro,
                )
            )
        return mounts

    def _teardown(self, uid: str) -> None:
        pod_dir = self.pod_dir(uid)
        for kind in (EMPTY_DIR, *_IN_MEMORY_KINDS):  # the ones that may be tmpfs mounts
            kind_dir = pod_dir / "volumes" / kind
            if kind_dir.is_dir():
                for path in kind_dir.iterdir():
                    if os.path.ismount(path):
                        subprocess.run(["umount", str(path)], capture_output=True, check=False)
        shutil.rmtree(pod_dir, ignore_errors=True)

    async def teardown(self, uid: str) -> None:
        """Removes the pod's directory and everything in its volumes (not the directories of its
        claims' volumes, which outlive it)."""
        self._mounted.pop(uid, None)
        if self.tokens is not None:
            self.tokens.delete_for_pod(uid)
            self.tokens.remove_expired()
        if uid:
            await asyncio.to_thread(self._teardown, uid)

    def pod_uids_on_disk(self) -> list[str]:
        try:
            return [p.name for p in (self.root_dir / "pods").iterdir() if p.is_dir()]
        except FileNotFoundError:
            return []
