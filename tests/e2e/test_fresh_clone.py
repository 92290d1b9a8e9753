"""`docker compose up` alone on a fresh clone, as a new user types it on a Docker host: no make, no
build/pki. A second compose project (its own name and ports) beside the test cluster, from a copy
of the checkout's files as `git clone` would give them, with the images that make images built:
every service comes up healthy, 3 nodes Ready, the admin's credentials appear in build/pki, and a
second `up` keeps every certificate (and clears what older compose files left in build/pki)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.compose_cluster import NODES, ROOT
from tests.e2e.kubectl import Kubectl
from tests.support import free_port

PROJECT = "podplane-fresh-clone"
# Its published ports: free ones, beside the test cluster's.
PORTS = {
    name: str(free_port())
    for name in (
        "PODPLANE_APISERVER_PORT",
        "PODPLANE_APISERVER_TOKEN_PORT",
        "PODPLANE_APISERVER_REST_PORT",
        "PODPLANE_APISERVER_METRICS_PORT",
        "PODPLANE_PROMETHEUS_PORT",
    )
}
IMAGES = ("podplane:dev", "podplane-node:dev", "podplane-prometheus:dev")
HOST_PKI = {"ca.crt", "admin.crt", "admin.key", "admin.token", "viewer.token"}


def checkout_files() -> list[str]:
    """What a clone of this checkout holds: tracked files and new ones not ignored (as if
    committed), with their current content."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [f for f in out.split("\0") if f and (ROOT / f).is_file()]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    missing = [
        i
        for i in IMAGES
        if subprocess.run(["docker", "image", "inspect", i], capture_output=True).returncode != 0
    ]
    assert not missing, f"images {missing} missing: run make images"
    path = tmp_path_factory.mktemp("fresh") / "podplane"
    for f in checkout_files():
        (path / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, path / f)
    assert not (path / "build" / "pki").exists()
    try:
        yield path
    finally:
        compose(path, "down", "-v", "--remove-orphans", "--timeout", "10", check=False)


def compose(
    path: Path, *args: str, check: bool = True, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "PODPLANE_"))}
    result = subprocess.run(
        ["docker", "compose", "-p", PROJECT, *args],
        cwd=path,
        text=True,
        capture_output=True,
        env=env | PORTS,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        ps = subprocess.run(
            ["docker", "compose", "-p", PROJECT, "ps", "-a"],
            cwd=path,
            text=True,
            capture_output=True,
            env=env | PORTS,
        ).stdout
        raise AssertionError(
            f"docker compose {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}\n{ps}"
        )
    return result


def states(path: Path) -> dict[str, str]:
    """service -> status/health/exit code of its container."""
    ids = compose(path, "ps", "-a", "-q").stdout.split()
    out = subprocess.run(
        [
            "docker",
            "inspect",
            "-f",
            '{{index .Config.Labels "com.docker.compose.service"}} '
            "{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}/"
            "{{.State.ExitCode}}",
            *ids,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(line.split(" ", 1) for line in out.splitlines())


def ready_nodes(path: Path) -> set[str]:
    pki = path / "build" / "pki"
    env = {
        **os.environ,
        "PODPLANE_SERVER": f"localhost:{PORTS['PODPLANE_APISERVER_PORT']}",
        "PODPLANE_CA": str(pki / "ca.crt"),
        "PODPLANE_CERT": str(pki / "admin.crt"),
        "PODPLANE_KEY": str(pki / "admin.key"),
    }
    out = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "podctl"), "get", "nodes"],
        env=env,
        text=True,
        capture_output=True,
        timeout=60,
    ).stdout
    return {line.split()[0] for line in out.splitlines()[1:] if line.split()[1:2] == ["Ready"]}


def certificates(path: Path) -> dict[str, str]:
    """The CA as the host got it, and certificates as the services read them."""

    def inside(service: str, file: str) -> str:
        return compose(path, "exec", "-T", service, "cat", f"/etc/podplane/pki/{file}").stdout

    return {
        "build/pki/ca.crt": (path / "build" / "pki" / "ca.crt").read_text(),
        "apiserver": inside("apiserver", "apiserver.crt"),
        "node-1": inside("node-1", "node.crt"),
        "etcd": inside("etcd", "etcd-server.crt"),
    }


# Two `up`s of a second cluster, each allowed 300 s to turn healthy, and its nodes 180 s.
@pytest.mark.timeout(1800)
def test_docker_compose_up_alone_on_a_fresh_clone(clone: Path) -> None:
    started = time.monotonic()
    compose(clone, "up", "-d", "--wait", "--wait-timeout", "300")
    up_seconds = time.monotonic() - started

    got = states(clone)
    assert got.pop("pki") == "exited/none/0", got
    assert all(s == "running/healthy/0" for s in got.values()), got
    assert set(got) >= {
        "etcd",
        "apiserver",
        "scheduler",
        "scheduler-2",
        "controller-manager",
        "controller-manager-2",
        "registry",
        "prometheus",
        *NODES,
    }, got

    pki = clone / "build" / "pki"
    assert {p.name for p in pki.iterdir()} == HOST_PKI  # no CA key, no service key on the host
    owner = (clone / "build").stat()
    assert all(
        (p.stat().st_uid, p.stat().st_gid) == (owner.st_uid, owner.st_gid) for p in pki.iterdir()
    )

    deadline = time.monotonic() + 180
    while (ready := ready_nodes(clone)) != set(NODES):
        assert time.monotonic() < deadline, f"nodes Ready after 180 s: {sorted(ready)}"
        time.sleep(2)
    # The kubeconfig the pki service wrote names this cluster's REST port: kubectl works with it.
    nodes = Kubectl(kubeconfig=clone / "build" / "kubeconfig").ok("get", "nodes")
    assert [line.split()[:2] for line in nodes.splitlines()[1:]] == [[n, "Ready"] for n in NODES]
    before = certificates(clone)
    assert before["build/pki/ca.crt"].startswith("-----BEGIN CERTIFICATE-----")

    # What the compose file's old file mounts left behind (a directory where Docker found no
    # file) wedged a checkout; the pki service clears it.
    (pki / "ca.crt").unlink()
    for wedged in ("ca.crt", "etcd-server.key"):
        (pki / wedged).mkdir()
    compose(clone, "up", "-d", "--wait", "--wait-timeout", "300")
    assert certificates(clone) == before
    assert {p.name for p in pki.iterdir()} == HOST_PKI
    assert ready_nodes(clone) == set(NODES)
    print(f"fresh clone: docker compose up -d --wait took {up_seconds:.0f} s")
