"""kubectl 1.36 drains a node of the real apiserver as it drains a Kubernetes 1.31 one: it finds
pods/eviction in discovery and evicts (never deletes) the node's pods, one budget disruption at a
time, printing Kubernetes' lines for each eviction and each refusal ("will retry after 5s") until
its --timeout; DaemonSet pods are left alone with --ignore-daemonsets; cordon and uncordon work.
The budget is created by `kubectl create poddisruptionbudget` (a protobuf body) and kept by the
real disruption controller; a stand-in for the kubelets finishes the graceful deletions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from apiserver.endpoints.rest.protobuf_bodies import MEDIA_TYPE
from podplane.apimachinery import manifest
from tests import tools
from tests.integration.disruption_support import (
    disruption_controller,
    kubelet_stand_in,
    ready_pod,
    settled,
)
from tests.integration.rest_cluster import RestCluster, rest_cluster
from tests.support import EtcdProcess, new_namespace

VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget."


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("drain")) as c:
        async with disruption_controller(c.grpc):
            yield c


def controller_ref(kind: str, name: str, uid: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": uid, "controller": True}


async def node(cluster: RestCluster, name: str) -> None:
    new: Any = manifest.from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})
    await cluster.grpc.nodes.create(new)


async def web_pods(cluster: RestCluster, ns: str, node_name: str, *names: str) -> None:
    """Pods of the ReplicaSet `web` (whose controller does not run here) on the node."""
    rs = await cluster.grpc.replicasets.get("web", ns)
    ref = controller_ref("ReplicaSet", "web", rs.metadata.uid)
    for name in names:
        await ready_pod(cluster.grpc, ns, name, node=node_name, owner=ref, scratch=True)


def workload(kind: str, ns: str, name: str, **spec: Any) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": kind,
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "main", "image": "busybox"}]},
                },
                **spec,
            },
        }
    )


async def workloads(cluster: RestCluster, ns: str) -> None:
    """The ReplicaSet `web` and the DaemonSet `agent` the pods say they belong to (their
    controllers do not run here)."""
    await cluster.grpc.replicasets.create(workload("ReplicaSet", ns, "web", replicas=3))
    await cluster.grpc.daemonsets.create(workload("DaemonSet", ns, "agent"))


async def create_budget(cluster: RestCluster, ns: str) -> None:
    process = await asyncio.create_subprocess_exec(
        tools.kubectl(),
        "--context=admin",
        "-v=8",
        "create",
        "poddisruptionbudget",
        "web",
        "-n",
        ns,
        "--selector=app=web",
        "--min-available=2",
        env=cluster.env(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode()[-3000:]
    assert out.decode() == "poddisruptionbudget.policy/web created\n"
    assert f"Content-Type: {MEDIA_TYPE}" in err.decode(), "kubectl sent no protobuf body"


async def pods_on(cluster: RestCluster, ns: str, node_name: str) -> list[str]:
    return sorted(
        p.metadata.name
        for p in (await cluster.grpc.pods.list(ns)).items
        if p.spec.node_name == node_name and not p.metadata.deletion_timestamp
    )


async def test_drain_evicts_within_the_budget_and_times_out_on_the_rest(
    cluster: RestCluster,
) -> None:
    ns = await new_namespace(cluster.grpc, "drain-")
    await node(cluster, f"{ns}-a")
    await node(cluster, f"{ns}-b")
    drained = f"{ns}-a"
    await workloads(cluster, ns)
    await web_pods(cluster, ns, drained, "web-1", "web-2", "web-3")
    ds = await cluster.grpc.daemonsets.get("agent", ns)
    await ready_pod(
        cluster.grpc,
        ns,
        "agent-1",
        app="agent",
        node=drained,
        owner=controller_ref("DaemonSet", "agent", ds.metadata.uid),
    )
    await create_budget(cluster, ns)
    await settled(cluster.grpc, ns, allowed=1, healthy=3)

    async with kubelet_stand_in(cluster.grpc, ns):
        ran = await cluster.kubectl(
            "drain",
            drained,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--timeout=12s",
            timeout=60,
        )
    assert ran.code == 1
    out, err = ran.out.splitlines(), ran.err
    assert out[0] == f"node/{drained} cordoned"
    assert f"Warning: ignoring DaemonSet-managed Pods: {ns}/agent-1" in err
    evicted = [line for line in out if line.startswith("pod/") and line.endswith(" evicted")]
    assert len(evicted) == 1
    for name in ("web-1", "web-2", "web-3"):
        assert f"evicting pod {ns}/{name}" in out
    refused = [line for line in err.splitlines() if "(will retry after 5s)" in line]
    assert refused, err
    assert all(line.endswith(f"(will retry after 5s): {VIOLATION}") for line in refused)
    assert all(line.startswith('error when evicting pods/"web-') for line in refused)
    assert "global timeout reached: 12s" in err
    # The budget held: two of the three are still there, the DaemonSet's pod too.
    remaining = await pods_on(cluster, ns, drained)
    assert len(remaining) == 3 and "agent-1" in remaining
    node_obj = json.loads(await cluster.kubectl_ok("get", "node", drained, "-o", "json"))
    assert node_obj["spec"]["unschedulable"] is True

    # Replacements become ready elsewhere: the budget lets the rest go, the drain completes.
    await web_pods(cluster, ns, f"{ns}-b", "web-4", "web-5")
    await settled(cluster.grpc, ns, allowed=2, healthy=4)
    async with kubelet_stand_in(cluster.grpc, ns):
        ran = await cluster.kubectl(
            "drain",
            drained,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--timeout=60s",
            timeout=90,
        )
    assert ran.code == 0, ran.err
    assert ran.out.splitlines()[-1] == f"node/{drained} drained"
    assert await pods_on(cluster, ns, drained) == ["agent-1"]
    await settled(cluster.grpc, ns, allowed=0, healthy=2)

    assert await cluster.kubectl_ok("uncordon", drained) == f"node/{drained} uncordoned\n"
    node_obj = json.loads(await cluster.kubectl_ok("get", "node", drained, "-o", "json"))
    assert not node_obj["spec"].get("unschedulable")


async def test_cordon_and_uncordon(cluster: RestCluster) -> None:
    ns = await new_namespace(cluster.grpc, "cordon-")
    name = f"{ns}-n"
    await node(cluster, name)
    assert await cluster.kubectl_ok("cordon", name) == f"node/{name} cordoned\n"
    assert await cluster.kubectl_ok("cordon", name) == f"node/{name} already cordoned\n"
    out = await cluster.kubectl_ok("get", "node", name)
    assert "SchedulingDisabled" in out
    assert await cluster.kubectl_ok("uncordon", name) == f"node/{name} uncordoned\n"
