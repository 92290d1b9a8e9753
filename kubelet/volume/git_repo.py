"""gitRepo volumes (pkg/volume/git_repo, deprecated but still served by Kubernetes 1.31): an
empty directory `volumes/kubernetes.io~git-repo/<volume>` into which the kubelet runs `git clone
-- <repository> [<directory>]` on the node, then `git checkout <revision>` and `git reset --hard`
when a revision is asked for; once, the first time the pod's volumes are set up. The node image
has no git: there the pod waits with the kubelet's FailedMount, `MountVolume.SetUp failed for
volume "v" : failed to exec 'git clone -- <repository>': : exec: "git": executable file not found
in $PATH`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from kubelet.volume.errors import VolumeNotReady
from podplane.api.core.v1 import core_pb2

GIT_REPO = "kubernetes.io~git-repo"
# Marks a directory whose clone has completed.
_READY = ".podplane-git-ready"


def _git(args: list[str], cwd: Path, volume_name: str) -> None:
    if shutil.which("git") is None:
        output, error = "", 'exec: "git": executable file not found in $PATH'
    else:
        result = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=600
        )
        if result.returncode == 0:
            return
        output, error = result.stdout + result.stderr, f"exit status {result.returncode}"
    raise VolumeNotReady(
        f'MountVolume.SetUp failed for volume "{volume_name}" : failed to exec '
        f"'git {' '.join(args)}': {output}: {error}"
    )


def clone(source: core_pb2.GitRepoVolumeSource, target: Path, volume_name: str) -> str:
    """The repository cloned into target (once); the directory. Blocking."""
    target.mkdir(parents=True, exist_ok=True)
    target.chmod(0o777)
    marker = target.parent / f"{target.name}{_READY}"
    if marker.exists():
        return str(target)
    args = ["clone", "--", source.repository] + ([source.directory] if source.directory else [])
    _git(args, target, volume_name)
    if source.revision:
        entries = [p for p in target.iterdir()]
        subdir = target / source.directory if source.directory else None
        if subdir is None:
            if len(entries) != 1:
                raise VolumeNotReady(
                    f'MountVolume.SetUp failed for volume "{volume_name}" : unexpected directory '
                    f"contents: {sorted(p.name for p in entries)}"
                )
            subdir = entries[0]
        _git(["checkout", source.revision], subdir, volume_name)
        _git(["reset", "--hard"], subdir, volume_name)
    marker.touch()
    return str(target)
