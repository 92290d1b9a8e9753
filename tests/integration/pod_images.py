"""The pod images a node carries (busybox:latest and the podplane/pause:3.9 sandbox), built on the
test host's engine the way the node entrypoint builds them: a root filesystem holding Debian's
static busybox and its applet links, imported with `docker import` (no registry needed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

BUSYBOX = "busybox:latest"
PAUSE = "podplane/pause:3.9"
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


def _rootfs(root: str) -> None:
    busybox = shutil.which("busybox") or "/bin/busybox"
    if not os.path.exists(busybox):
        raise RuntimeError("busybox is not installed: apt-get install busybox-static")
    for d in (
        "bin",
        "sbin",
        "usr/bin",
        "usr/sbin",
        "etc",
        "root",
        "home",
        "proc",
        "sys",
        "dev",
        "var/www",
        "tmp",
    ):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    os.chmod(os.path.join(root, "tmp"), 0o1777)
    shutil.copy2(busybox, os.path.join(root, "bin", "busybox"))
    subprocess.run(["chroot", root, "/bin/busybox", "--install", "-s"], check=True)
    with open(os.path.join(root, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n")
    with open(os.path.join(root, "etc", "group"), "w") as f:
        f.write("root:x:0:\nnobody:x:65534:\n")


def ensure_pod_images(docker_host: str) -> None:
    """Imports busybox:latest and podplane/pause:3.9 into the engine unless they are there."""
    env = {**os.environ, "DOCKER_HOST": docker_host}
    missing = [
        image
        for image in (BUSYBOX, PAUSE)
        if subprocess.run(
            ["docker", "image", "inspect", image], env=env, capture_output=True, check=False
        ).returncode
        != 0
    ]
    if not missing:
        return
    root = tempfile.mkdtemp(prefix="podplane-rootfs-")
    try:
        _rootfs(root)
        tarball = subprocess.run(
            ["tar", "-C", root, "-c", "."], capture_output=True, check=True
        ).stdout
        for image in missing:
            _docker(
                env,
                "import",
                "--change",
                _PATH,
                "--change",
                f"CMD {_CMDS[image]}",
                "-",
                image,
                stdin=tarball,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
