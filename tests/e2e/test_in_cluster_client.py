"""A user's own program in the cluster, talking to the apiserver as software in pods does: built
on the host FROM podplane/python:3.11 with the official Python client in it, put on the nodes
with `make load-image`, run as a Deployment under its own service account, which a Role lets
list the pods of its namespace and nothing else (examples/in-cluster-client). Its
`config.load_incluster_config()` works (the token, ca.crt and namespace the kubelet mounts, the
kubernetes Service); another namespace's pods are refused with Kubernetes' Forbidden text until
a RoleBinding there allows them, which the running pod sees without a restart."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.e2e.compose_cluster import ROOT
from tests.e2e.kubectl import Kubectl

EXAMPLE = ROOT / "examples" / "in-cluster-client"
IMAGE = "pod-lister:1"


def run(*argv: str, timeout: float = 600) -> None:
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(argv)}: {done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def image() -> str:
    """The example's image, as its Dockerfile says a user builds and loads it."""
    version = importlib.metadata.version("kubernetes")
    run(
        sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
        "--dest", str(EXAMPLE / "wheels"), f"kubernetes=={version}",
    )  # fmt: skip
    run("docker", "build", "-q", "-t", IMAGE, str(EXAMPLE))
    run("make", "--no-print-directory", "load-image", f"IMAGE={IMAGE}")
    return IMAGE


@pytest.fixture(scope="module")
def lister(kubectl_namespace: str, image: str) -> Iterator[Kubectl]:
    k = Kubectl(kubectl_namespace)
    k.ok("apply", "-f", str(EXAMPLE / "pod-lister.yaml"))
    rollout = k.run("rollout", "status", "deployment/pod-lister", "--timeout=180s")
    assert rollout.code == 0, rollout
    yield k
    Kubectl("default").run("delete", "rolebinding", f"{kubectl_namespace}-pod-lister")


def reports(k: Kubectl, want: str, timeout: float = 60) -> dict[str, str]:
    """The program's newest report once its `other` answer starts with `want`."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        logs = k.run("logs", "deployment/pod-lister", "--tail", "1")
        last = logs.out.strip()
        if logs.code == 0 and last.startswith("{"):
            report: dict[str, str] = json.loads(last)
            if report["other"].startswith(want):
                return report
        time.sleep(1)
    raise AssertionError(f"no report with other={want!r} in {timeout} s; last: {last!r}")


def test_the_program_lists_its_namespace_and_is_refused_elsewhere_until_bound(
    lister: Kubectl,
) -> None:
    namespace = lister.namespace
    account = f"system:serviceaccount:{namespace}:pod-lister"
    refused = reports(lister, "403")
    assert refused["own"].startswith("ok "), refused
    assert refused["other"] == (
        f'403 pods is forbidden: User "{account}" cannot list resource "pods" in API group "" '
        'in the namespace "default"'
    )
    # A binding in the other namespace: the same running pod is allowed at its next attempt.
    Kubectl("default").ok(
        "create", "rolebinding", f"{namespace}-pod-lister", "--clusterrole=view",
        f"--serviceaccount={namespace}:pod-lister",
    )  # fmt: skip
    allowed = reports(lister, "ok ")
    assert allowed["own"].startswith("ok "), allowed
    restarts = lister.ok(
        "get", "pods", "-l", "app=pod-lister",
        "-o", "jsonpath={.items[*].status.containerStatuses[0].restartCount}",
    )  # fmt: skip
    assert restarts == "0"


def test_the_token_is_mounted_where_clients_look_for_it(lister: Kubectl) -> None:
    pod = lister.ok("get", "pods", "-l", "app=pod-lister", "-o", "name").split()[0]
    files = lister.ok(
        "exec", pod, "--", "ls", "/var/run/secrets/kubernetes.io/serviceaccount"
    ).split()
    assert files == ["ca.crt", "namespace", "token"]
    namespace = lister.ok(
        "exec", pod, "--", "cat", "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
    )
    assert namespace == lister.namespace
