"""Pod volumes on the node: emptyDir directories under <root-dir>/pods/<uid>/volumes (a tmpfs for
medium Memory, mounted on the node so that every container of the pod shares it), configMap,
secret, downwardAPI and projected volumes as files written atomically there (again while the pod
runs, so they follow their objects, the pod's labels and the tokens' refreshes), hostPath checks,
nfs exports mounted there (nfs.py), gitRepo clones (git_repo.py), and the persistent volumes
bound to the pod's claims and ephemeral volumes' claims (claims.py); then bind mounts into each
container that names them (container_mounts.py). A source the node cannot serve keeps the pod
waiting with Kubernetes' FailedMount (plugins.py). The kubelet and the Docker engine share the
node's filesystem, so these paths are the engine's too."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from kubelet.container.env import (
    ConfigObjectGetter,
    ConfigObjects,
    ContainerConfigError,
    fetch_pod_objects,
)
from kubelet.runtime.types import Mount
from kubelet.token.manager import TokenManager
from kubelet.volume.claims import ClaimMount, ClaimUnavailable, VolumeObjectGetter, resolve_claim
from kubelet.volume.config_volumes import config_map_payload, secret_payload
from kubelet.volume.container_mounts import container_mounts
from kubelet.volume.downward_api import downward_api_payload
from kubelet.volume.errors import VolumeError, VolumeNotReady
from kubelet.volume.git_repo import GIT_REPO, clone
from kubelet.volume.host_paths import check_host_path, mount_tmpfs
from kubelet.volume.nfs import NFS, mount_nfs
from kubelet.volume.plugins import (
    NO_PLUGIN_MATCHED,
    SET_UP,
    TIMED_OUT,
    Unavailable,
    unavailable,
    wait_message,
)
from kubelet.volume.projected import projected_payload
from kubelet.volume.projection import (
    DEFAULT_MODE,
    FileProjection,
    ProjectionError,
    write_atomically,
)
from podplane.api.core.v1 import core_pb2
from podplane.volume import ephemeral

log = logging.getLogger(__name__)
EMPTY_DIR = "kubernetes.io~empty-dir"
CONFIG_MAP = "kubernetes.io~configmap"
SECRET = "kubernetes.io~secret"
DOWNWARD_API = "kubernetes.io~downward-api"
PROJECTED = "kubernetes.io~projected"
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
                paths[volume.name] = self._claim_path(volumes_dir, volume.name, claims[volume.name])
            elif volume.HasField("nfs"):
                target = volumes_dir / NFS / volume.name
                paths[volume.name] = mount_nfs(volume.nfs, target, volume.name)
            elif volume.HasField("git_repo"):
                target = volumes_dir / GIT_REPO / volume.name
                paths[volume.name] = clone(volume.git_repo, target, volume.name)
            elif volume.HasField("host_path"):
                check_host_path(volume.name, volume.host_path)
                paths[volume.name] = volume.host_path.path
            elif volume.HasField("empty_dir"):
                path = self.pod_dir(pod.metadata.uid) / "volumes" / EMPTY_DIR / volume.name
                path.mkdir(parents=True, exist_ok=True)
                path.chmod(0o777)  # Kubernetes makes emptyDirs world-writable
                if volume.empty_dir.medium == "Memory":
                    mount_tmpfs(path, volume.empty_dir.size_limit)
                paths[volume.name] = str(path)
            elif any(volume.HasField(k) for k in _WRITTEN_SOURCES):
                kind, payload = self._written_payload(pod, volume, objects, projected)
                path = volumes_dir / kind / volume.name
                if kind in _IN_MEMORY_KINDS:
                    path.mkdir(parents=True, exist_ok=True)
                    mount_tmpfs(path, mode=0o755)
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
        return paths

    @staticmethod
    def _claim_path(volumes_dir: Path, name: str, mount: ClaimMount) -> str:
        if mount.nfs is not None:
            target = volumes_dir / NFS / name
            return mount_nfs(
                mount.nfs, target, mount.volume_name, mount.read_only, mount.mount_options
            )
        check_host_path(
            name, core_pb2.HostPathVolumeSource(path=mount.path, type=mount.host_path_type)
        )
        return mount.path

    def _written_payload(
        self,
        pod: core_pb2.Pod,
        volume: core_pb2.Volume,
        objects: ConfigObjects,
        projected: Mapping[str, dict[str, FileProjection]],
    ) -> tuple[str, dict[str, FileProjection]]:
        """The kind of a volume the kubelet writes, and its files."""
        if volume.HasField("config_map"):
            return CONFIG_MAP, config_map_payload(volume, objects)
        if volume.HasField("secret"):
            return SECRET, secret_payload(volume, objects)
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
        """Every claim volume's mount (persistentVolumeClaim and ephemeral volumes);
        VolumeNotReady (as Kubernetes' FailedMount words it) when one cannot be mounted yet, or
        when an inline volume is of a source the node cannot serve."""
        mounted = self._mounted.get(pod.metadata.uid, {})
        mounts: dict[str, ClaimMount] = {}
        failures: dict[str, Unavailable] = {}
        for volume in pod.spec.volumes:
            if ephemeral.claim_name(pod, volume) is None:
                why = unavailable(volume, volume.name)
                if why is not None:
                    failures[volume.name] = why
                continue
            if volume.name in mounted:
                mounts[volume.name] = mounted[volume.name]
                continue
            try:
                mounts[volume.name] = await resolve_claim(self.claims, pod, volume)
            except ClaimUnavailable as e:
                failures[volume.name] = e.why
            except VolumeNotReady as e:
                failures[volume.name] = Unavailable(NO_PLUGIN_MATCHED, str(e))
        if failures:
            raise VolumeNotReady(_not_ready_message(pod, mounts, failures))
        if mounts:
            self._mounted[pod.metadata.uid] = mounts
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
    def mounts(
        container: core_pb2.Container,
        paths: Mapping[str, str],
        env: Sequence[tuple[str, str]] = (),
        rro_supported: bool = False,
    ) -> list[Mount]:
        read_only = paths.read_only if isinstance(paths, VolumePaths) else frozenset()
        return container_mounts(container, paths, env, rro_supported, read_only)

    def _teardown(self, uid: str) -> None:
        pod_dir = self.pod_dir(uid)
        for kind in (EMPTY_DIR, NFS, *_IN_MEMORY_KINDS):  # the ones that may be mounts
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


def _not_ready_message(
    pod: core_pb2.Pod, mounts: Mapping[str, ClaimMount], failures: Mapping[str, Unavailable]
) -> str:
    """The FailedMount of a pod whose volumes cannot all be mounted: a volume's set-up error as
    it is, else the volume manager's wait (the volumes not mounted, those no plugin took)."""
    set_up = [why.message for why in failures.values() if why.kind == SET_UP]
    if set_up:
        return set_up[0]
    unmounted = [
        v.name
        for v in pod.spec.volumes
        if v.name in failures or (ephemeral.claim_name(pod, v) and v.name not in mounts)
    ]
    failed = [name for name, why in failures.items() if why.kind == NO_PLUGIN_MATCHED]
    reason = next(
        (why.message for why in failures.values() if why.kind == NO_PLUGIN_MATCHED), TIMED_OUT
    )
    return wait_message(unmounted, failed, reason)
