"""`docker compose up` alone on a fresh clone, as a new user types it on a Docker host: no make, no
build/pki. A second compose project (its own name and ports) beside the test cluster, in a `git
clone` of the commit this checkout is at (what is committed: the working tree's edits are not in
it), brought up with `up --build`, so compose builds what it needs itself: every service comes up
(the control plane healthy), 3 nodes Ready, the admin's credentials appear in build/pki, and a
second `up` keeps every certificate (and clears what older compose files left in build/pki).

The build may reuse what `make up` left on the host: the base image, the Docker build cache, and
the wheels in build/wheelhouse, which the clone gets as `make wheels` would fill it (the images
install from it where containers cannot reach PyPI). It tags the images `make images` tags."""

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

# It uses none of the suite's clusters: `make test` runs it beside the HA profile's tests.
pytestmark = pytest.mark.standalone

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
HOST_PKI = {"ca.crt", "admin.crt", "admin.key", "admin.token", "viewer.token"}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=120
    ).stdout.strip()


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    commit = git(ROOT, "rev-parse", "HEAD")
    path = tmp_path_factory.mktemp("fresh") / "podplane"
    git(ROOT, "clone", "--quiet", "--no-checkout", str(ROOT), str(path))
    # By its hash: the checkout's HEAD may be a commit no branch names yet.
    git(path, "fetch", "--quiet", str(ROOT), commit)
    git(path, "checkout", "--quiet", "--detach", commit)
    assert git(path, "rev-parse", "HEAD") == commit
    assert not (path / "build" / "pki").exists()
    for wheel in (ROOT / "build" / "wheelhouse").iterdir():
        if wheel.is_file():
            shutil.copy2(wheel, path / "build" / "wheelhouse" / wheel.name)
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


HEALTH_CHECKED = (
    "etcd",
    "apiserver",
    "scheduler",
    "scheduler-2",
    "controller-manager",
    "controller-manager-2",
)
UNCHECKED = ("registry", "addon-manager", "prometheus", *NODES)


# Two `up`s of a second cluster (the first builds its images), its nodes allowed 180 s.
@pytest.mark.timeout(1800)
def test_docker_compose_up_alone_on_a_fresh_clone(clone: Path) -> None:
    started = time.monotonic()
    compose(clone, "up", "-d", "--wait", "--build", "--wait-timeout", "300", timeout=900)
    up_seconds = time.monotonic() - started

    got = states(clone)
    assert got.pop("pki") == "exited/none/0", got
    # The control plane has Docker health checks (`up --wait` waited for them); the nodes and
    # the other services run without one.
    expected = {service: "running/healthy/0" for service in HEALTH_CHECKED}
    expected |= {service: "running/none/0" for service in UNCHECKED}
    assert got == expected

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
    print(f"fresh clone: docker compose up -d --wait --build took {up_seconds:.0f} s")
