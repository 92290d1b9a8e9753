"""nfs volumes (pkg/volume/nfs): the export mounted on the node, in the pod's directory
`volumes/kubernetes.io~nfs/<volume>`, with `mount -t nfs [-o ro,<options>] server:path dir`, then
bind-mounted into the containers like any directory of the node. The node needs a kernel with
the NFS client and mount.nfs (nfs-common); where the mount fails, its own error is the pod's
FailedMount, in the kubelet's words (mount-utils):

    MountVolume.SetUp failed for volume "v" : mount failed: exit status 32
    Mounting command: mount
    Mounting arguments: -t nfs 10.0.0.1:/exports /var/lib/kubelet/pods/<uid>/volumes/...
    Output: mount: ...: unknown filesystem type 'nfs'.

The pod waits in ContainerCreating and the mount is tried again."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from kubelet.volume.errors import VolumeNotReady
from podplane.api.core.v1 import core_pb2

NFS = "kubernetes.io~nfs"


def mount_arguments(
    source: core_pb2.NFSVolumeSource, target: str, read_only: bool, options: Sequence[str] = ()
) -> list[str]:
    """MakeMountArgs: -t nfs, the options (ro first) if any, the export, the directory."""
    opts = (["ro"] if read_only else []) + list(options)
    return [
        "-t",
        "nfs",
        *(["-o", ",".join(opts)] if opts else []),
        f"{source.server}:{source.path}",
        target,
    ]


def mount_nfs(
    source: core_pb2.NFSVolumeSource,
    target: Path,
    volume_name: str,
    read_only: bool = False,
    options: Sequence[str] = (),
) -> str:
    """Mounts the export at target unless it is mounted already; the directory. Blocking."""
    target.mkdir(parents=True, exist_ok=True)
    if os.path.ismount(target):
        return str(target)
    args = mount_arguments(source, str(target), read_only or source.read_only, options)
    try:
        result = subprocess.run(
            ["mount", *args], capture_output=True, text=True, check=False, timeout=120
        )
        code, output = result.returncode, result.stdout + result.stderr
    except (OSError, subprocess.TimeoutExpired) as e:
        code, output = -1, str(e)
    if code != 0:
        raise VolumeNotReady(
            f'MountVolume.SetUp failed for volume "{volume_name}" : mount failed: exit status '
            f"{code}\nMounting command: mount\nMounting arguments: {' '.join(args)}\n"
            f"Output: {output}"
        )
    return str(target)
