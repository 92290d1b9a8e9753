"""The node image's pod images, seeded into containerd at build time (scripts/seed-node-image.sh):
a node's new containerd volume starts as the image's state, whose images mount and hold the
add-ons' files; a volume with the state of another build of the image starts afresh, and so does
a seeded volume under the plain image (`docker compose build`), which then imports its archives;
a volume that was never seeded is left to import them. Each case is a container of the node image
on a volume of its own, running the entrypoint's own functions (docker/node-images.sh) and a real
containerd. The images are the ones `make images` tagged beside podplane-node:dev, which
`docker compose build` (tests/e2e/test_fresh_clone.py) tags anew: the seeded one, and the plain
one it was seeded from."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator

import pytest

SEEDED = "podplane-node:dev-seeded"
PLAIN = "podplane-node:dev-unseeded"
IMAGES = {
    "docker.io/library/busybox:latest",
    "docker.io/podplane/pause:3.9",
    "docker.io/podplane/kube-proxy:dev",
    "docker.io/podplane/metrics-server:dev",
    "docker.io/podplane/clusterdns:dev",
    "docker.io/podplane/ingress-haproxy:dev",
}

# Runs in the container: seed_containerd as the entrypoint runs it, then a containerd on the
# volume (only what listing and mounting images needs), then the case's own commands.
PRELUDE = """\
set -euo pipefail
log() { echo "node-entrypoint: $*"; }
CONTAINERD_SOCK=/run/test/sock
source /usr/local/lib/podplane/node-images.sh
mkdir -p /var/lib/containerd
seed_containerd
mkdir -p /run/test
printf 'version = 2\\nroot = "/var/lib/containerd"\\nstate = "/run/test/state"\\n\
disabled_plugins = ["io.containerd.grpc.v1.cri"]\\n[grpc]\\n  address = "/run/test/sock"\\n' \
  >/run/test/config.toml
containerd --config /run/test/config.toml >/run/test/log 2>&1 &
until ctr -a "$CONTAINERD_SOCK" version >/dev/null 2>&1; do sleep 0.1; done
images() { ctr -a "$CONTAINERD_SOCK" -n k8s.io images ls -q | grep -v '^sha256:' | sort; }
"""


@pytest.fixture
def volume() -> Iterator[str]:
    name = f"podplane-test-node-image-{secrets.token_hex(4)}"
    subprocess.run(["docker", "volume", "create", name], check=True, capture_output=True)
    yield name
    subprocess.run(["docker", "volume", "rm", "-f", name], check=True, capture_output=True)


def in_node(volume: str, script: str, image: str = SEEDED) -> str:
    """Runs SCRIPT in a container of IMAGE with VOLUME as its containerd volume, with the
    capabilities a node has (containerd mounts)."""
    done = subprocess.run(
        [
            *("docker", "run", "--rm", "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE"),
            *("--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined"),
            *("--volume", f"{volume}:/var/lib/containerd", "--entrypoint", "bash", image),
            *("-c", script),
        ],
        text=True,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def image_seed() -> str:
    """The node image's seed: the one its store names, and the only one there."""
    listing = "cd /opt/podplane/containerd-store && cat current && ls"
    found = subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "sh", SEEDED, "-c", listing],
        text=True,
        capture_output=True,
        check=True,
    ).stdout.split()
    assert len(found) == 3 and found[1:] == sorted([found[0], "current"]), found
    return found[0]


def test_a_new_volume_starts_with_the_pod_images_whose_layers_mount(volume: str) -> None:
    seed = image_seed()
    out = in_node(
        volume,
        PRELUDE
        + """
echo "images: $(images | paste -sd ' ')"
mnt=/mnt/kube-proxy
mkdir -p $mnt
ctr -a "$CONTAINERD_SOCK" -n k8s.io images mount docker.io/podplane/kube-proxy:dev $mnt >/dev/null
echo "kube-proxy's image holds: $(ls $mnt/opt/podplane/app/proxy/__main__.py)"
ctr -a "$CONTAINERD_SOCK" -n k8s.io images unmount $mnt >/dev/null
""",
    )
    lines = out.splitlines()
    assert lines[0] == f"node-entrypoint: containerd starts with the pod images in it ({seed})"
    assert lines[1] == "images: " + " ".join(sorted(IMAGES))
    assert (
        lines[2] == "kube-proxy's image holds: /mnt/kube-proxy/opt/podplane/app/proxy/__main__.py"
    )
    assert len(lines) == 3, out


def test_a_volume_of_another_build_of_the_image_starts_afresh(volume: str) -> None:
    seed = image_seed()
    root = "/var/lib/containerd"
    in_node(volume, f"echo 0123456789abcdef >{root}/podplane-seed; touch {root}/left")
    out = in_node(
        volume,
        PRELUDE
        + """
echo "images: $(images | paste -sd ' ')"
echo "left: $(ls /var/lib/containerd/left 2>/dev/null || echo none)"
echo "seed: $(cat /var/lib/containerd/podplane-seed)"
""",
    )
    assert out.splitlines() == [
        "node-entrypoint: containerd's volume holds the pod images of another build of this image "
        "(0123456789abcdef): starting it afresh",
        f"node-entrypoint: containerd starts with the pod images in it ({seed})",
        "images: " + " ".join(sorted(IMAGES)),
        "left: none",
        f"seed: {seed}",
    ]


def test_a_volume_that_was_never_seeded_is_left_to_load_the_archives(volume: str) -> None:
    in_node(volume, "touch /var/lib/containerd/kept")
    out = in_node(
        volume,
        PRELUDE
        + """
echo "images: $(images | paste -sd ' ')"
load_archive components containerd
load_archive components containerd
echo "images: $(images | paste -sd ' ')"
echo "kept: $(ls /var/lib/containerd/kept)"
""",
    )
    assert out.splitlines() == [
        "images: ",
        "node-entrypoint: loaded podplane/clusterdns:dev podplane/ingress-haproxy:dev "
        "podplane/kube-proxy:dev podplane/metrics-server:dev into containerd",
        "images: docker.io/podplane/clusterdns:dev docker.io/podplane/ingress-haproxy:dev "
        "docker.io/podplane/kube-proxy:dev docker.io/podplane/metrics-server:dev",
        "kept: /var/lib/containerd/kept",
    ]


def test_a_seeded_volume_under_the_plain_image_starts_afresh_and_imports(volume: str) -> None:
    seed = image_seed()
    in_node(volume, PRELUDE)
    out = in_node(
        volume,
        PRELUDE
        + """
echo "images: $(images | paste -sd ' ')"
load_archive pods containerd
load_archive components containerd
echo "images: $(images | paste -sd ' ')"
""",
        image=PLAIN,
    )
    assert out.splitlines() == [
        "node-entrypoint: containerd's volume holds the pod images of another build of this image "
        f"({seed}): starting it afresh",
        "images: ",
        "node-entrypoint: loaded busybox:latest podplane/pause:3.9 into containerd",
        "node-entrypoint: loaded podplane/clusterdns:dev podplane/ingress-haproxy:dev "
        "podplane/kube-proxy:dev podplane/metrics-server:dev into containerd",
        "images: " + " ".join(sorted(IMAGES)),
    ]
