"""Pod volumes on the node: emptyDir directories under <root-dir>/pods/<uid>/volumes (tmpfs for
medium Memory) and hostPath checks, then bind mounts into each container that names them. The
kubelet and the Docker engine share the node's filesystem, so these paths are the engine's too."""
from __future__ import annotations

import asyncio
import logging
import os
import shutil
import stat
import subprocess
from pathlib import Path

from kubelet.runtime.types import Mount
from podplane import quantity
from podplane.api.core.v1 import core_pb2

log = logging.getLogger(__name__)
EMPTY_DIR = "kubernetes.io~empty-dir"


class VolumeError(Exception):
    """A volume cannot be set up; the message names the volume."""


def _check_host_path(name: str, source: core_pb2.HostPathVolumeSource) -> None:
    path, kind = source.path, source.type
    if not path.startswith("/"):
        raise VolumeError(f'volume "{name}": hostPath.path must be absolute, got "{path}"')
    if kind == "DirectoryOrCreate":
        os.makedirs(path, mode=0o755, exist_ok=True)
    elif kind == "FileOrCreate":
        os.makedirs(os.path.dirname(path), exist_ok=True)
        Path(path).touch(mode=0o644, exist_ok=True)
    checks = {"Directory": stat.S_ISDIR, "File": stat.S_ISREG, "Socket": stat.S_ISSOCK,
              "CharDevice": stat.S_ISCHR, "BlockDevice": stat.S_ISBLK}
    if kind in checks:
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            raise VolumeError(f'volume "{name}": hostPath type check failed: {path} '
                              f'does not exist') from None
        if not checks[kind](mode):
            raise VolumeError(f'volume "{name}": hostPath type check failed: {path} is not a '
                              f'{kind}')


def _mount_tmpfs(path: Path, size_limit: str) -> None:
    if os.path.ismount(path):
        return
    options = "mode=0777"
    if size_limit:
        options += f",size={quantity.bytes_of(size_limit)}"
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        log.warning("emptyDir %s: cannot mount a tmpfs (%s); using a plain directory", path,
                    (result.stderr or result.stdout).strip())


class PodVolumes:
    def __init__(self, root_dir: str) -> None:
        self.root_dir = Path(root_dir)

    def pod_dir(self, uid: str) -> Path:
        return self.root_dir / "pods" / uid

    def _setup(self, pod: core_pb2.Pod) -> dict[str, str]:
        paths: dict[str, str] = {}
        for volume in pod.spec.volumes:
            if volume.HasField("host_path"):
                _check_host_path(volume.name, volume.host_path)
                paths[volume.name] = volume.host_path.path
            elif volume.HasField("empty_dir"):
                path = self.pod_dir(pod.metadata.uid) / "volumes" / EMPTY_DIR / volume.name
                path.mkdir(parents=True, exist_ok=True)
                path.chmod(0o777)  # Kubernetes makes emptyDirs world-writable
                if volume.empty_dir.medium == "Memory":
                    _mount_tmpfs(path, volume.empty_dir.size_limit)
                paths[volume.name] = str(path)
            else:
                kind = next((f.name for f, _ in volume.ListFields() if f.name != "name"), "")
                raise VolumeError(f'volume "{volume.name}": {kind or "this"} volumes are not '
                                  f'supported by this kubelet (emptyDir and hostPath are)')
        return paths

    async def setup(self, pod: core_pb2.Pod) -> dict[str, str]:
        """Host path of each of the pod's volumes, by name; idempotent."""
        try:
            return await asyncio.to_thread(self._setup, pod)
        except OSError as e:
            raise VolumeError(f"setting up volumes: {e}") from e

    @staticmethod
    def mounts(container: core_pb2.Container, paths: dict[str, str]) -> list[Mount]:
        mounts = []
        for vm in container.volume_mounts:
            if vm.name not in paths:
                raise VolumeError(f'volumeMounts: volume "{vm.name}" not found in the pod spec')
            host = paths[vm.name]
            if vm.sub_path:
                if vm.sub_path.startswith("/") or ".." in Path(vm.sub_path).parts:
                    raise VolumeError(f'volumeMounts: subPath "{vm.sub_path}" must be a relative '
                                      f'path within the volume')
                host = os.path.join(host, vm.sub_path)
                if not os.path.exists(host):
                    os.makedirs(host, mode=0o777, exist_ok=True)
            mounts.append(Mount(host_path=host, container_path=vm.mount_path,
                                read_only=vm.read_only))
        return mounts

    def _teardown(self, uid: str) -> None:
        pod_dir = self.pod_dir(uid)
        empty_dirs = pod_dir / "volumes" / EMPTY_DIR
        if empty_dirs.is_dir():
            for path in empty_dirs.iterdir():
                if os.path.ismount(path):
                    subprocess.run(["umount", str(path)], capture_output=True, check=False)
        shutil.rmtree(pod_dir, ignore_errors=True)

    async def teardown(self, uid: str) -> None:
        """Removes the pod's directory and everything in its volumes."""
        if uid:
            await asyncio.to_thread(self._teardown, uid)

    def pod_uids_on_disk(self) -> list[str]:
        try:
            return [p.name for p in (self.root_dir / "pods").iterdir() if p.is_dir()]
        except FileNotFoundError:
            return []
