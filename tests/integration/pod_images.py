"""The pod images a node carries (busybox:latest and the podplane/pause:3.9 sandbox), built on the
test host's engine from the same recipe as the nodes': the stage `busybox-rootfs` of
docker/node.Dockerfile (docker/busybox-rootfs.sh, busybox 1.37.0 configured as Docker Hub's) gives
the root filesystem, which is imported with `docker import` as the node entrypoint does (no registry
needed). The stage comes from the engine's layer cache after the first build, and `make images`
reuses it."""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

BUSYBOX = "busybox:latest"
PAUSE = "podplane/pause:3.9"
REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "docker" / "busybox-rootfs.sh"
BASE_IMAGE = "debian:bookworm-slim"
# The recipe's digest, as a label on the imported images: a change of recipe rebuilds them.
RECIPE_LABEL = "io.podplane.busybox-recipe"
_ROOTFS = "/opt/podplane/images/busybox"
_PATH = "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_CMDS = {
    BUSYBOX: '["sh"]',
    PAUSE: '["sh", "-c", "trap \\"exit 0\\" TERM INT; while :; do sleep 3600 & wait $!; done"]',
}


def _docker(env: dict[str, str], *args: str, stdin: bytes | None = None) -> bytes:
    result = subprocess.run(
        ["docker", *args], env=env, input=stdin, capture_output=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}: {result.stderr.decode().strip()}")
    return result.stdout


def recipe_digest() -> str:
    return hashlib.sha256(RECIPE.read_bytes()).hexdigest()[:16]


def _current(env: dict[str, str], image: str, digest: str) -> bool:
    label = f'{{{{index .Config.Labels "{RECIPE_LABEL}"}}}}'
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", label, image],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and result.stdout.strip() == digest


def busybox_rootfs_tar(env: dict[str, str]) -> bytes:
    """The root filesystem of docker/node.Dockerfile's `busybox-rootfs` stage, as a tar stream."""
    if subprocess.run(
        ["docker", "image", "inspect", BASE_IMAGE], env=env, capture_output=True, check=False
    ).returncode:
        # A host without a registry: the base image from Debian's archive (make base-image).
        subprocess.run([str(REPO / "scripts" / "seed-base-image.sh")], env=env, check=True)
    dockerfile = str(REPO / "docker" / "node.Dockerfile")
    built = _docker(env, "build", "-q", "-f", dockerfile, "--target", "busybox-rootfs", str(REPO))
    stage = built.decode().split()[-1]
    return _docker(env, "run", "--rm", stage, "tar", "-C", _ROOTFS, "-c", ".")


def ensure_pod_images(docker_host: str) -> None:
    """Imports busybox:latest and podplane/pause:3.9 into the engine unless they are there, built
    from the current recipe."""
    env = {**os.environ, "DOCKER_HOST": docker_host}
    digest = recipe_digest()
    # One test process at a time (pytest-xdist's workers): one builds, the others find them built.
    with open(os.path.join(tempfile.gettempdir(), "podplane-pod-images.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        missing = [image for image in (BUSYBOX, PAUSE) if not _current(env, image, digest)]
        if missing:
            _import(env, missing, digest)


def _import(env: dict[str, str], missing: list[str], digest: str) -> None:
    tarball = busybox_rootfs_tar(env)
    for image in missing:
        _docker(
            env,
            "import",
            "--change",
            _PATH,
            "--change",
            f"CMD {_CMDS[image]}",
            "--change",
            f"LABEL {RECIPE_LABEL}={digest}",
            "-",
            image,
            stdin=tarball,
        )
