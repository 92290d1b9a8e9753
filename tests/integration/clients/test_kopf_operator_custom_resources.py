"""A real kopf operator of a custom resource (examples/kopf-operator), with its peering (not
--standalone), against the real apiserver over real etcd and the garbage collector: kubectl
applies kopf's peering definitions, the Site definition, the peering, the operator's service
account and ClusterRole (operator.yaml) and a Site; the operator, a `kopf run -A` process of its
own with a token of that account (so operator.yaml's rules are what it needs), keeps its
ClusterKopfPeering, reconciles the Site into a ConfigMap and a Deployment it owns, patches the
Site's status (the status subresource) and reconciles again when the Site changes; deleting the
Site deletes what it owns."""

from __future__ import annotations

import asyncio
import gc
import json
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yaml

from controller.garbagecollector.controller import GarbageCollector
from podplane.client.informer_factory import SharedInformerFactory
from tests.e2e.compose_cluster import ROOT
from tests.integration.controller_support import running
from tests.integration.custom_resources import established
from tests.integration.rest_cluster import RestCluster, rest_cluster
from tests.support import EtcdProcess, eventually

EXAMPLE = ROOT / "examples" / "kopf-operator"
GROUP = "operators.podplane.example"

SITE = {
    "apiVersion": f"{GROUP}/v1",
    "kind": "Site",
    "metadata": {"name": "hello"},
    "spec": {"greeting": "Hello from a custom resource"},
}


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("kopf")) as c:
        yield c
    # The operator's connections, cut as it stopped, leave transports, tasks and gRPC watch
    # calls in reference cycles, whose finalizers (ResourceWarnings, "Task was destroyed")
    # would otherwise run whenever the collector next does: CPython 3.11.7 fails an ast.parse
    # a finalizer interrupts ("SystemError: AST constructor recursion depth mismatch", as
    # pytest's summary imports hypothesis). They run here instead.
    gc.collect()


async def apply(cluster: RestCluster, *objects: dict[str, Any], namespace: str = "") -> str:
    flags = ["-n", namespace] if namespace else []
    return await cluster.kubectl_ok(
        "apply", *flags, "-f", "-", stdin=yaml.safe_dump_all(list(objects))
    )


class Operator:
    """`kopf run -A site_operator.py` (with its peering), a process of its own; its log (merged
    into its output) read by a task of this event loop, on which the apiserver runs too."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, cluster: RestCluster, kubeconfig: Path) -> Operator:
        argv = ["-m", "kopf", "run", "-A", "--verbose", str(EXAMPLE / "site_operator.py")]
        return cls(
            await asyncio.create_subprocess_exec(
                sys.executable,
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env={**cluster.env(), "KUBECONFIG": str(kubeconfig), "PYTHONUNBUFFERED": "1"},
            )
        )

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            self.lines.append(line.decode(errors="replace").rstrip("\n"))

    async def until(self, pattern: str, timeout: float = 60) -> None:
        async def seen() -> bool:
            return any(re.search(pattern, line) for line in self.lines)

        await eventually(seen, timeout=timeout, what=f"{pattern!r} in the operator's log")

    async def stop(self) -> list[str]:
        """Ends it as Ctrl-C would (kopf leaves its peering on the way out); all it printed."""
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                async with asyncio.timeout(30):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        await self._reader
        return self.lines


async def service_account_kubeconfig(cluster: RestCluster) -> Path:
    """operator.yaml's namespace, service account and ClusterRole (its Deployment aside: no
    kubelet runs here), and a kubeconfig with a token of that account: the operator runs with
    the rights it has in the cluster, no more."""
    manifests = yaml.safe_load_all((EXAMPLE / "operator.yaml").read_text())
    rbac = [m for m in manifests if m["kind"] != "Deployment"]
    await cluster.kubectl_ok("apply", "-f", "-", stdin=yaml.safe_dump_all(rbac))
    token = await cluster.kubectl_ok("create", "token", "site-operator", "-n", "site-operator")
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "podplane",
                "cluster": {
                    "server": f"https://{cluster.rest_address}",
                    "certificate-authority": str(cluster.pki / "ca.crt"),
                },
            }
        ],
        "users": [{"name": "site-operator", "user": {"token": token.strip()}}],
        "contexts": [{"name": "op", "context": {"cluster": "podplane", "user": "site-operator"}}],
        "current-context": "op",
    }
    path = cluster.folder / "site-operator.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


async def test_a_kopf_operator_reconciles_a_custom_resource_into_objects_it_owns(
    cluster: RestCluster,
) -> None:
    crds = list(yaml.safe_load_all((EXAMPLE / "crds.yaml").read_text()))
    await cluster.kubectl_ok("apply", "-f", str(EXAMPLE / "crds.yaml"))
    for crd in crds:
        await established(cluster.grpc, crd["metadata"]["name"])
    await cluster.kubectl_ok("apply", "-f", str(EXAMPLE / "peering.yaml"))
    kubeconfig = await service_account_kubeconfig(cluster)
    ns = "kopf-sites"
    await cluster.kubectl_ok("create", "namespace", ns)
    informers = SharedInformerFactory(cluster.grpc)
    async with running(GarbageCollector(cluster.grpc, informers), informers=informers):
        operator = await Operator.start(cluster, kubeconfig)
        try:
            await operate(cluster, ns, operator)
        finally:
            lines = await operator.stop()
    assert not [line for line in lines if "[ERROR" in line or "Traceback" in line], lines


async def operate(cluster: RestCluster, ns: str, operator: Operator) -> None:
    await operator.until(rf"Starting the watch-stream for sites\.v1\.{GROUP} cluster-wide")

    # The operator keeps its peering: its identity in the ClusterKopfPeering's status.
    async def peered() -> bool:
        peering = json.loads(
            await cluster.kubectl_ok("get", "clusterkopfpeering", "default", "-o", "json")
        )
        return bool(peering.get("status"))

    await eventually(peered, timeout=30, what="the operator in the peering's status")

    out = await apply(cluster, SITE, namespace=ns)
    assert out == f"site.{GROUP}/hello created\n"
    ran = await cluster.kubectl(
        "wait", "-n", ns, "--for=jsonpath={.status.phase}=Ready", "site/hello",
        "--timeout=60s",
    )  # fmt: skip
    assert ran.code == 0, (ran, operator.lines)
    site = json.loads(await cluster.kubectl_ok("get", "-n", ns, "site", "hello", "-o", "json"))
    assert site["spec"]["replicas"] == 1  # the schema's default
    assert site["status"]["configMap"] == "hello-greeting"
    assert site["status"]["deployment"] == "hello"
    table = (await cluster.kubectl_ok("get", "-n", ns, "sites")).splitlines()
    assert table[0].split() == ["NAME", "GREETING", "PHASE"]
    assert table[1].split()[-1] == "Ready"

    owner = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Site",
        "name": "hello",
        "uid": site["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    for kind, name in (("configmap", "hello-greeting"), ("deployment", "hello")):
        got = json.loads(await cluster.kubectl_ok("get", "-n", ns, kind, name, "-o", "json"))
        assert got["metadata"]["ownerReferences"] == [owner], kind
    greeting = "jsonpath={.data.greeting}"
    got = await cluster.kubectl_ok("get", "-n", ns, "cm", "hello-greeting", "-o", greeting)
    assert got == "Hello from a custom resource"

    # A change to the Site is reconciled again.
    await cluster.kubectl_ok(
        "patch", "-n", ns, "site", "hello", "--type=merge",
        "-p", '{"spec": {"greeting": "Hello again", "replicas": 2}}',
    )  # fmt: skip

    async def reconciled() -> bool:
        got = await cluster.kubectl_ok("get", "-n", ns, "cm", "hello-greeting", "-o", greeting)
        return got == "Hello again"

    await eventually(reconciled, timeout=30, what="the ConfigMap updated")
    replicas = await cluster.kubectl_ok(
        "get", "-n", ns, "deployment", "hello", "-o", "jsonpath={.spec.replicas}"
    )
    assert replicas == "2"

    # Deleting the Site deletes what it owns.
    await cluster.kubectl_ok("delete", "-n", ns, "site", "hello")

    async def collected() -> bool:
        ran = await cluster.kubectl("get", "-n", ns, "configmap/hello-greeting", "deployment/hello")
        return ran.code == 1 and ran.err.count("NotFound") == 2

    await eventually(collected, timeout=30, what="the Site's ConfigMap and Deployment")
