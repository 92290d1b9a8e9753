"""A kopf operator of a custom resource in the cluster, as operators run (examples/kopf-operator):
real kopf with its peering (not --standalone), built on the host FROM podplane/python:3.11 with
kopf and the official client in it, put on the nodes with `make load-image`, run as a Deployment
under its own service account and ClusterRole. It reconciles a Site into a ConfigMap and a
Deployment it owns (whose pod prints the greeting from the ConfigMap), patches the Site's status,
reconciles again when the Site changes; `kubectl get sites` prints the definition's printer
columns; deleting the Site deletes what it owns (the controller-manager's garbage collector)."""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
import yaml

from tests.e2e.compose_cluster import ROOT
from tests.e2e.kubectl import Kubectl
from tests.e2e.waiting import eventually

EXAMPLE = ROOT / "examples" / "kopf-operator"
IMAGE = "site-operator:1"
GROUP = "operators.podplane.example"
OPERATOR_NAMESPACE = "site-operator"
SITE = f"""\
apiVersion: {GROUP}/v1
kind: Site
metadata:
  name: hello
spec:
  greeting: Hello from a custom resource
"""


def run(*argv: str, timeout: float = 600) -> None:
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(argv)}: {done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def image() -> str:
    """The example's image, as its Dockerfile says a user builds and loads it."""
    wanted = [f"{p}=={importlib.metadata.version(p)}" for p in ("kopf", "kubernetes")]
    run(
        sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
        "--dest", str(EXAMPLE / "wheels"), *wanted,
    )  # fmt: skip
    run("docker", "build", "-q", "-t", IMAGE, str(EXAMPLE))
    run("make", "--no-print-directory", "load-image", f"IMAGE={IMAGE}")
    return IMAGE


@pytest.fixture(scope="module")
def operator(image: str) -> Iterator[Kubectl]:
    """The definitions, the peering and the operator's Deployment, once it runs."""
    cluster = Kubectl()
    crds = [d["metadata"]["name"] for d in yaml.safe_load_all((EXAMPLE / "crds.yaml").read_text())]
    cluster.ok("apply", "-f", str(EXAMPLE / "crds.yaml"))
    for name in crds:
        cluster.ok("wait", "--for=condition=established", f"crd/{name}", "--timeout=30s")
    assert cluster.ok("apply", "-f", str(EXAMPLE / "peering.yaml")) == (
        "clusterkopfpeering.kopf.dev/default created\n"
    )
    cluster.ok("apply", "-f", str(EXAMPLE / "operator.yaml"))
    in_its_namespace = Kubectl(OPERATOR_NAMESPACE)
    rollout = in_its_namespace.run(
        "rollout", "status", "deployment/site-operator", "--timeout=180s", timeout=200
    )
    assert rollout.code == 0, rollout
    yield in_its_namespace
    cluster.run("delete", "-f", str(EXAMPLE / "operator.yaml"), "--wait=false")
    cluster.run("delete", "-f", str(EXAMPLE / "peering.yaml"), "--wait=false")
    cluster.run("delete", "-f", str(EXAMPLE / "crds.yaml"), "--wait=false")


def test_the_operator_reconciles_a_site_into_what_it_owns(
    operator: Kubectl, kubectl_namespace: str
) -> None:
    k = Kubectl(kubectl_namespace)
    assert k.ok("apply", "-f", "-", stdin=SITE) == f"site.{GROUP}/hello created\n"
    ready = k.run(
        "wait", "--for=jsonpath={.status.phase}=Ready", "site/hello", "--timeout=90s", timeout=100
    )
    assert ready.code == 0, (ready, operator.run("logs", "deployment/site-operator").out)
    header, row = k.ok("get", "sites").splitlines()
    assert re.split(r"\s{2,}", header.strip()) == ["NAME", "GREETING", "PHASE"]
    assert re.split(r"\s{2,}", row.strip()) == ["hello", "Hello from a custom resource", "Ready"]

    site = json.loads(k.ok("get", "site", "hello", "-o", "json"))
    assert site["spec"]["replicas"] == 1  # the schema's default
    assert site["status"]["configMap"] == "hello-greeting"
    owner = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Site",
        "name": "hello",
        "uid": site["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    for kind, name in (("configmap", "hello-greeting"), ("deployment", "hello")):
        got = json.loads(k.ok("get", kind, name, "-o", "json"))
        assert got["metadata"]["ownerReferences"] == [owner], kind
    rollout = k.run("rollout", "status", "deployment/hello", "--timeout=120s", timeout=130)
    assert rollout.code == 0, rollout
    eventually(
        lambda: "Hello from a custom resource" in k.run("logs", "deployment/hello").out,
        30,
        "the site's pod printing the greeting from its ConfigMap",
    )

    # The operator is in its peering, under its service account.
    peering = json.loads(Kubectl().ok("get", "clusterkopfpeering", "default", "-o", "json"))
    assert peering.get("status"), peering

    # A change to the Site is reconciled again.
    k.ok("patch", "site", "hello", "--type=merge", "-p", '{"spec": {"greeting": "Hello again"}}')
    greeting = ("get", "configmap", "hello-greeting", "-o", "jsonpath={.data.greeting}")
    eventually(lambda: k.ok(*greeting) == "Hello again", 30, "the ConfigMap updated")

    # Deleting the Site deletes what it owns.
    deleted = k.ok("delete", "site", "hello")
    assert re.fullmatch(
        rf'site\.{re.escape(GROUP)} "hello" deleted( from \S+ namespace)?\n', deleted
    )

    def collected() -> bool:
        got = k.run("get", "configmap/hello-greeting", "deployment/hello")
        return got.code == 1 and got.err.count("NotFound") == 2

    eventually(collected, 60, "the Site's ConfigMap and Deployment collected")
    logs = operator.ok("logs", "deployment/site-operator")
    assert "Handler 'reconcile' succeeded." in logs
    assert "Traceback" not in logs and "[ERROR" not in logs, logs
