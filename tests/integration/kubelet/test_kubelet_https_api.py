"""The kubelet's HTTPS API on the real apiserver over real etcd and a real containerd: a kubelet
with its node's serving certificate and credentials (so its TokenReviews and
SubjectAccessReviews go through the node authorizer), a running busybox pod; what /pods,
/stats/summary and /metrics/resource say of it, who is refused with which text, and
`kubectl get --raw /api/v1/nodes/<node>/proxy/stats/summary` through the apiserver's
nodes/proxy with its kubelet client certificate."""

from __future__ import annotations

import json
import ssl
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from apiserver.options.secure_serving import KubeletClientConfig
from apiserver.registry.pod import kubelet_client
from kubelet.config import KubeletConfig
from kubelet.kubelet import Kubelet
from kubelet.runtime.cri.runtime import CriRuntime
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.integration.rest_cluster import RestCluster, rest_cluster
from tests.pki_support import cert_credentials, make_pki
from tests.support import EtcdProcess, eventually

BUSY = "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; exec sleep 3600"


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("kubelet-https")) as c:
        pki = c.pki
        kubelet_client.configure(
            None,
            KubeletClientConfig(
                str(pki / "ca.crt"),
                str(pki / "apiserver-kubelet-client.crt"),
                str(pki / "apiserver-kubelet-client.key"),
            ).ssl_context(),
        )
        try:
            yield c
        finally:
            kubelet_client.configure(None, None)


@pytest_asyncio.fixture(scope="module")
async def node(
    cluster: RestCluster, cri_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Kubelet]:
    """A kubelet for a fresh node, its certificates from the cluster's CA, on containerd."""
    name = f"it-https-{uuid.uuid4().hex[:6]}"
    pki = make_pki(cluster.pki, (name,))
    root = tmp_path_factory.mktemp("kubelet-root")
    runtime = await CriRuntime.connect(cri_endpoint, name, str(root / "pods"))
    client = Client(
        f"127.0.0.1:{cluster.server.port}", timeout=10, credentials=cert_credentials(pki, name)
    )
    kubelet = Kubelet(
        KubeletConfig(
            server=f"127.0.0.1:{cluster.server.port}",
            node_name=name,
            pod_cidr="10.244.9.0/24",
            port=0,
            grpc_port=0,
            root_dir=str(root),
            pod_logs_dir=str(root / "pods"),
            node_status_update_frequency=1.0,
            tls_cert_file=str(pki / f"{name}-kubelet-server.crt"),
            tls_private_key_file=str(pki / f"{name}-kubelet-server.key"),
            client_ca_file=str(pki / "ca.crt"),
            container_runtime_endpoint=cri_endpoint,
        ),
        runtime,
        client,
        host_ip="127.0.0.1",
        listen_host="127.0.0.1",
    )
    await kubelet.start()
    try:
        yield kubelet
    finally:
        await kubelet.stop()
        for sandbox in await runtime.list_pod_sandboxes():
            await runtime.stop_pod_sandbox(sandbox.id, 0)
            await runtime.remove_pod_sandbox(sandbox.id)
        await cluster.grpc.nodes.delete(name)
        await client.close()
        runtime.close()


@pytest_asyncio.fixture(scope="module")
async def busy_pod(cluster: RestCluster, node: Kubelet) -> AsyncIterator[core_pb2.Pod]:
    namespace = f"https-{uuid.uuid4().hex[:6]}"
    await cluster.grpc.namespaces.create(
        core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=namespace))
    )
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "busy", "namespace": namespace},
            "spec": {
                "nodeName": node.config.node_name,
                "terminationGracePeriodSeconds": 0,
                "containers": [
                    {
                        "name": "main",
                        "image": "busybox:latest",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["sh", "-c", BUSY],
                    }
                ],
            },
        }
    )
    assert isinstance(pod, core_pb2.Pod)
    await cluster.grpc.pods.create(pod)

    async def running() -> core_pb2.Pod | None:
        p = await cluster.grpc.pods.get("busy", namespace)
        return p if p.status.phase == "Running" else None

    yield await eventually(running, timeout=90, what="pod busy Running")
    await cluster.grpc.pods.delete("busy", namespace)


def tls(pki: Path, user: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    if user is not None:
        context.load_cert_chain(str(pki / f"{user}.crt"), str(pki / f"{user}.key"))
    return context


async def get(
    kubelet: Kubelet, pki: Path, path: str, user: str | None = "admin", token: str = ""
) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session:
        async with session.get(
            f"https://127.0.0.1:{kubelet.port}{path}", ssl=tls(pki, user), headers=headers
        ) as response:
            return response.status, await response.text()


def pod_stats(summary: dict[str, Any], pod: core_pb2.Pod) -> dict[str, Any] | None:
    return next(
        (p for p in summary["pods"] if p["podRef"]["uid"] == pod.metadata.uid),
        None,
    )


async def test_pods_and_the_summary_show_the_running_pod(
    cluster: RestCluster, node: Kubelet, busy_pod: core_pb2.Pod
) -> None:
    status, body = await get(node, cluster.pki, "/pods")
    assert status == 200
    pods = json.loads(body)
    assert pods["kind"] == "PodList"
    assert busy_pod.metadata.uid in [p["metadata"]["uid"] for p in pods["items"]]

    async def busy_with_figures() -> dict[str, Any] | None:
        status, body = await get(node, cluster.pki, "/stats/summary")
        assert status == 200, body
        stats = pod_stats(json.loads(body), busy_pod)
        if stats is None or not stats["containers"]:
            return None
        container = stats["containers"][0]
        cpu = container.get("cpu", {}).get("usageCoreNanoSeconds", 0)
        memory = container.get("memory", {}).get("workingSetBytes", 0)
        return stats if cpu > 0 and memory > 0 else None

    stats = await eventually(busy_with_figures, timeout=60, what="the pod's CPU and memory")
    assert stats["podRef"]["name"] == "busy"
    assert stats["containers"][0]["name"] == "main"
    assert stats["cpu"]["usageCoreNanoSeconds"] > 0 and stats["memory"]["workingSetBytes"] > 0
    _, body = await get(node, cluster.pki, "/stats/summary")
    summary = json.loads(body)
    assert summary["node"]["nodeName"] == node.config.node_name
    assert summary["node"]["cpu"]["usageCoreNanoSeconds"] > 0


async def test_resource_metrics_parse_and_name_the_container(
    cluster: RestCluster, node: Kubelet, busy_pod: core_pb2.Pod
) -> None:
    async def container_cpu() -> list[Any] | None:
        status, text = await get(node, cluster.pki, "/metrics/resource")
        assert status == 200, text
        families = {f.name: f for f in text_string_to_metric_families(text)}
        samples = (
            [
                s
                for s in families["container_cpu_usage_seconds"].samples
                if s.labels.get("pod") == "busy"
            ]
            if "container_cpu_usage_seconds" in families
            else []
        )
        return samples or None

    samples = await eventually(container_cpu, timeout=60, what="container_cpu_usage_seconds")
    assert samples[0].labels == {
        "container": "main",
        "pod": "busy",
        "namespace": busy_pod.metadata.namespace,
    }
    assert samples[0].value > 0


async def test_the_anonymous_and_the_unauthorized_are_refused(
    cluster: RestCluster, node: Kubelet
) -> None:
    assert await get(node, cluster.pki, "/stats/summary", user=None) == (401, "Unauthorized\n")
    # The scheduler reads nodes but may not read their stats.
    assert await get(node, cluster.pki, "/stats/summary", user="scheduler") == (
        403,
        "Forbidden (user=system:kube-scheduler, verb=get, resource=nodes, subresource=stats)\n",
    )
    assert await get(node, cluster.pki, "/pods", user="scheduler") == (
        403,
        "Forbidden (user=system:kube-scheduler, verb=get, resource=nodes, subresource=proxy)\n",
    )
    # A bearer token, reviewed by the apiserver: the admin's is let in.
    admin_token = (cluster.pki / "admin.token").read_text().strip()
    status, body = await get(node, cluster.pki, "/healthz", user=None, token=admin_token)
    assert (status, body) == (200, "ok")


async def test_kubectl_reaches_the_summary_through_the_apiserver(
    cluster: RestCluster, node: Kubelet, busy_pod: core_pb2.Pod
) -> None:
    out = await cluster.kubectl_ok(
        "get", "--raw", f"/api/v1/nodes/{node.config.node_name}/proxy/stats/summary"
    )
    summary = json.loads(out)
    assert summary["node"]["nodeName"] == node.config.node_name
    assert pod_stats(summary, busy_pod) is not None
    viewer = await cluster.kubectl(
        "get", "--raw", f"/api/v1/nodes/{node.config.node_name}/proxy/pods", context="viewer"
    )
    assert viewer.code != 0 and "Forbidden" in viewer.err
