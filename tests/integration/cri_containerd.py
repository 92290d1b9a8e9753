"""The test host's private containerd, serving its CRI plugin (runtime.v1) for the tests of the
kubelet's CRI runtime: scripts/cri-containerd.sh starts and stops it (its own socket, root, state
and CNI network, never the system's /run/containerd), and the pod images (busybox:latest and the
podplane/pause:3.9 sandbox, built in the host's Docker engine by pod_images.py) are imported into
its `k8s.io` namespace, the one its CRI plugin serves. The fixture built on these helpers
(cri_endpoint) is in conftest.py."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import grpc

from podplane.api.cri import api_pb2, api_pb2_grpc
from tests.integration.pod_images import BUSYBOX, PAUSE, REPO, ensure_pod_images
from tests.support import worker_index

SCRIPT = REPO / "scripts" / "cri-containerd.sh"
# The script's settings: the same variables, the same defaults; each pytest-xdist worker but the
# first has a containerd of its own (its dirs suffixed -gwN, the next subnets, its own bridge), so
# no worker stops or lists another's pods, and each stops only the containerd it started.
_WORKER = worker_index()
_SUFFIX = f"-gw{_WORKER}" if _WORKER else ""
CRI_DIR = Path((os.environ.get("PODPLANE_CRI_DIR") or "/run/podplane-cri") + _SUFFIX)
CRI_ROOT = (os.environ.get("PODPLANE_CRI_ROOT") or "/var/lib/podplane-cri") + _SUFFIX
_BASE_SUBNET = ipaddress.ip_network(os.environ.get("PODPLANE_CRI_SUBNET") or "10.88.0.0/16")
SUBNET = str(
    ipaddress.ip_network(
        (
            _BASE_SUBNET.network_address + _WORKER * _BASE_SUBNET.num_addresses,
            _BASE_SUBNET.prefixlen,
        )
    )
)
BRIDGE = (os.environ.get("PODPLANE_CRI_BRIDGE") or "cri0") + _SUFFIX
SOCKET = CRI_DIR / "containerd.sock"
ENDPOINT = f"unix://{SOCKET}"
# containerd's namespace for everything its CRI plugin makes and finds.
NAMESPACE = "k8s.io"
# The pod images as containerd's CRI names them: Docker's reference normalization, which
# `ctr images import` applies to the names in `docker save`'s archive.
POD_IMAGES = {
    BUSYBOX: "docker.io/library/busybox:latest",
    PAUSE: "docker.io/podplane/pause:3.9",
}


def _script(verb: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PODPLANE_CRI_DIR": str(CRI_DIR),
        "PODPLANE_CRI_ROOT": CRI_ROOT,
        "PODPLANE_CRI_SUBNET": SUBNET,
        "PODPLANE_CRI_BRIDGE": BRIDGE,
    }
    return subprocess.run([str(SCRIPT), verb], env=env, capture_output=True, text=True, check=False)


def containerd_running() -> bool:
    return _script("status").returncode == 0


def start_containerd() -> None:
    """Starts the private containerd unless it runs; raises RuntimeError with the script's
    explanation when it cannot."""
    result = _script("start")
    if result.returncode != 0:
        raise RuntimeError(f"{SCRIPT.name} start: {result.stderr.strip()}")


def stop_containerd() -> None:
    result = _script("stop")
    if result.returncode != 0:
        raise RuntimeError(f"{SCRIPT.name} stop: {result.stderr.strip()}")


def cri_image_id(image: str) -> str:
    """The image's ID (its config's digest) as containerd's CRI resolves the name; "" if unknown."""
    with grpc.insecure_channel(ENDPOINT) as channel:
        images = api_pb2_grpc.ImageServiceStub(channel)
        answer: api_pb2.ImageStatusResponse = images.ImageStatus(
            api_pb2.ImageStatusRequest(image=api_pb2.ImageSpec(image=image)), timeout=10
        )
    image_id: str = answer.image.id
    return image_id


def _docker_image_id(env: dict[str, str], image: str) -> str:
    return subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", image],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def import_pod_images(docker_host: str) -> None:
    """Makes containerd's CRI know the pod images as the host's engine has them: imported with
    `docker save | ctr images import` when missing or older than the engine's."""
    ensure_pod_images(docker_host)
    env = {**os.environ, "DOCKER_HOST": docker_host}
    wanted = {image: _docker_image_id(env, image) for image in POD_IMAGES}
    stale = [image for image, image_id in wanted.items() if cri_image_id(image) != image_id]
    if not stale:
        return
    archive = subprocess.run(["docker", "save", *stale], env=env, capture_output=True, check=True)
    imported = subprocess.run(
        ["ctr", "--address", str(SOCKET), "-n", NAMESPACE, "images", "import", "-"],
        input=archive.stdout,
        capture_output=True,
        check=False,
    )
    if imported.returncode != 0:
        raise RuntimeError(f"ctr images import {stale}: {imported.stderr.decode().strip()}")
    # The CRI plugin learns of new images from containerd's events, a moment later.
    deadline = time.monotonic() + 10
    while (missing := [i for i in stale if cri_image_id(i) != wanted[i]]) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.1)
    if missing:
        raise RuntimeError(f"containerd's CRI does not resolve {missing} after the import")


@contextlib.contextmanager
def running_containerd(docker_host: str) -> Iterator[str]:
    """The private containerd's CRI endpoint, with the pod images; stopped on exit only if it was
    not running before."""
    was_running = containerd_running()
    start_containerd()
    try:
        import_pod_images(docker_host)
        yield ENDPOINT
    finally:
        if not was_running:
            stop_containerd()
