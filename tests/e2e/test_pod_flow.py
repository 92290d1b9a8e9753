"""The Pod flow a user sees: apply -> Pending -> scheduled -> ContainerCreating -> Running on a
Docker-in-Docker node, with the pod's IP from that node's range; then the pod's containers share
localhost, a volume and the pod's hostname; pods end Succeeded or Failed; deletion cleans the
node."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests import reflection_client
from tests.e2e.compose_cluster import (
    ADMIN,
    NODES,
    ROOT,
    SERVER,
    node_containers,
    node_runtime,
    podctl,
)
from tests.e2e.faults import wait_schedulable
from tests.support import eventually


def kubectl_status(pod: Any) -> str:
    """The STATUS column as the watch would print it (phase, or a waiting container's reason)."""
    for cs in pod.status.container_statuses:
        if cs.state.HasField("waiting") and cs.state.waiting.reason:
            return str(cs.state.waiting.reason)
    return str(pod.status.phase)


async def wait_for_phase(
    client: Client, name: str, namespace: str, phases: set[str], timeout: float = 120
) -> Any:
    async def check() -> Any:
        pod = await client.pods.get(name, namespace)
        return pod if pod.status.phase in phases else None

    return await eventually(check, timeout, what=f"pod {namespace}/{name} in {phases}")


@pytest.fixture
def jumpod_removed_after() -> Iterator[None]:
    """The README's pod is in the default namespace, where no namespace's deletion takes it
    away: deleted after the test, so that no later test finds it on its node (kubectl drain
    refuses a node with a bare pod on it)."""
    yield
    podctl("delete", "pod", "jumpod", "--ignore-not-found", "--wait=false")


@pytest.mark.usefixtures("jumpod_removed_after")
async def test_jumpod_runs_on_a_node_with_an_ip_from_its_range(client: Client) -> None:
    """The manifest from the issue, unchanged, via `podctl apply -f`, watched like `get pods -w`."""
    name = "jumpod"
    if any(p.metadata.name == name for p in (await client.pods.list("default")).items):
        podctl("delete", "pod", name, "--wait=true")
    statuses: list[str] = []
    start = await client.pods.list("default")
    watch = client.pods.watch(
        "default",
        resource_version=start.metadata.resource_version,
        field_selector=f"metadata.name={name}",
    )

    async def follow() -> Any:
        async for ev in watch:
            status = kubectl_status(ev.object)
            if not statuses or statuses[-1] != status:
                statuses.append(status)
            if ev.object.status.phase == "Running":
                return ev.object

    follower = asyncio.create_task(follow())
    t0 = time.monotonic()
    out = podctl("apply", "-f", str(ROOT / "examples" / "jumpod.yaml"))
    assert out.stdout.strip() == "pod/jumpod created"
    async with asyncio.timeout(180):
        pod = await follower
    elapsed = time.monotonic() - t0
    watch.cancel()
    print(f"jumpod Running after {elapsed:.1f}s; statuses seen: {statuses}")
    assert statuses[0] == "Pending"
    assert "ContainerCreating" in statuses
    assert statuses[-1] == "Running"
    node = await client.nodes.get(pod.spec.node_name)
    assert ipaddress.ip_address(pod.status.pod_ip) in ipaddress.ip_network(node.spec.pod_cidr)
    assert pod.status.host_ip in [a.address for a in node.status.addresses]
    assert {c.type: c.status for c in pod.status.conditions}["Ready"] == "True"
    cs = pod.status.container_statuses[0]
    runtime = node_runtime(pod.spec.node_name)
    assert cs.ready and cs.state.running.started_at
    assert cs.container_id.startswith(f"{runtime}://")  # docker:// or containerd://

    table = podctl("get", "pods", "-o", "wide").stdout
    row = next(line for line in table.splitlines() if line.startswith("jumpod "))
    assert "Running" in row and pod.status.pod_ip in row and pod.spec.node_name in row

    async def described() -> str:
        text = podctl("describe", "pod", name).stdout
        return text if "Started container busybox" in text else ""

    text = await eventually(described, 30, what="the kubelet's Started event in describe")
    for expected in (
        "Node:",
        f"{pod.spec.node_name}/{pod.status.host_ip}",
        "IP:",
        pod.status.pod_ip,
        "Conditions:",
        "ContainersReady",
        "State:",
        "Running",
        "Restart Count:  0",
        "Events:",
        f"Successfully assigned default/jumpod to {pod.spec.node_name}",
        'Container image "busybox" already present on machine',
        "Created container busybox",
    ):
        assert expected in text, f"{expected!r} missing from describe:\n{text}"

    # The container really runs on that node's engine, inside the pod's sandbox.
    ids = node_containers(pod.spec.node_name, {"io.kubernetes.pod.uid": pod.metadata.uid})
    assert len(ids) == 2  # the pause sandbox and busybox


async def test_containers_share_localhost_volume_and_hostname(
    client: Client, namespace: str
) -> None:
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "sidecar", "namespace": namespace},
            "spec": {
                "restartPolicy": "Never",
                "volumes": [{"name": "shared", "emptyDir": {}}],
                "containers": [
                    {
                        "name": "web",
                        "image": "busybox",
                        "imagePullPolicy": "IfNotPresent",
                        "command": [
                            "sh",
                            "-c",
                            "echo served-from-emptydir > /www/index.html && "
                            "exec httpd -f -p 127.0.0.1:8080 -h /www",
                        ],
                        "volumeMounts": [{"name": "shared", "mountPath": "/www"}],
                    },
                    {
                        "name": "client",
                        "image": "busybox",
                        "imagePullPolicy": "IfNotPresent",
                        "command": [
                            "sh",
                            "-c",
                            "for i in $(seq 1 60); do wget -qO- http://127.0.0.1:8080/index.html "
                            "&& break; sleep 1; done; echo hostname=$(hostname); "
                            "cat /data/index.html; ls -l /data",
                        ],
                        "volumeMounts": [
                            {"name": "shared", "mountPath": "/data", "readOnly": True}
                        ],
                    },
                ],
            },
        }
    )
    await client.pods.create(pod)  # type: ignore[arg-type]

    async def client_done() -> Any:
        p = await client.pods.get("sidecar", namespace)
        cs = {c.name: c for c in p.status.container_statuses}
        return p if "client" in cs and cs["client"].state.HasField("terminated") else None

    p = await eventually(client_done, 180, what="the client container to finish")
    logs = podctl("logs", "sidecar", "-c", "client", "-n", namespace).stdout
    assert logs.count("served-from-emptydir") == 2, logs  # over localhost, and from the volume
    assert "hostname=sidecar" in logs
    client_state = {c.name: c for c in p.status.container_statuses}["client"].state.terminated
    assert client_state.exit_code == 0 and client_state.reason == "Completed"


async def test_restart_never_pods_end_succeeded_or_failed(client: Client, namespace: str) -> None:
    for name, code in (("ok", 0), ("fails", 1)):
        await client.pods.create(
            manifest.from_dict(
                {  # type: ignore[arg-type]
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": name, "namespace": namespace},
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [
                            {
                                "name": "main",
                                "image": "busybox",
                                "imagePullPolicy": "IfNotPresent",
                                "command": ["sh", "-c", f"echo bye; exit {code}"],
                            }
                        ],
                    },
                }
            )
        )
    ok = await wait_for_phase(client, "ok", namespace, {"Succeeded", "Failed"})
    fails = await wait_for_phase(client, "fails", namespace, {"Succeeded", "Failed"})
    assert ok.status.phase == "Succeeded"
    assert ok.status.container_statuses[0].state.terminated.reason == "Completed"
    assert fails.status.phase == "Failed"
    terminated = fails.status.container_statuses[0].state.terminated
    assert (terminated.exit_code, terminated.reason) == (1, "Error")
    assert podctl("logs", "fails", "-n", namespace).stdout == "bye\n"
    table = podctl("get", "pods", "-n", namespace).stdout
    assert any(line.startswith("ok ") and "Completed" in line for line in table.splitlines())
    assert any(line.startswith("fails ") and "Error" in line for line in table.splitlines())


async def test_deleting_a_pod_removes_its_containers(client: Client, namespace: str) -> None:
    await client.pods.create(
        manifest.from_dict(
            {  # type: ignore[arg-type]
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "doomed", "namespace": namespace},
                "spec": {
                    "containers": [
                        {
                            "name": "main",
                            "image": "busybox",
                            "imagePullPolicy": "IfNotPresent",
                            "command": ["sleep", "3600"],
                        }
                    ]
                },
            }
        )
    )
    pod = await wait_for_phase(client, "doomed", namespace, {"Running"})
    label = {"io.kubernetes.pod.uid": pod.metadata.uid}
    assert node_containers(pod.spec.node_name, label, include_stopped=True)
    # Graceful deletion: the pod is marked (Terminating) and stays until its kubelet has stopped
    # its containers; `podctl delete` waits for that.
    marked = await client.pods.delete("doomed", namespace)
    assert (
        marked.metadata.deletion_timestamp and marked.metadata.deletion_grace_period_seconds == 30
    )
    assert "Terminating" in podctl("get", "pod", "doomed", "-n", namespace).stdout
    podctl("delete", "pod", "doomed", "-n", namespace)  # returns once it is gone
    assert not (await client.pods.list(namespace, field_selector="metadata.name=doomed")).items

    async def gone() -> bool:
        return not node_containers(pod.spec.node_name, label, include_stopped=True)

    await eventually(gone, 30, interval=1, what="the pod's containers to be removed")


async def test_pods_spread_and_get_unique_ips(client: Client, namespace: str) -> None:
    await wait_schedulable(client, *NODES)
    for i in range(6):
        await client.pods.create(
            manifest.from_dict(
                {  # type: ignore[arg-type]
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {
                        "name": f"many-{i}",
                        "namespace": namespace,
                        "labels": {"app": "many"},
                    },
                    "spec": {
                        # Bare pods, which nothing selects, spread only as asked: by their
                        # resource scores alone they would follow whatever else the nodes hold.
                        "topologySpreadConstraints": [
                            {
                                "maxSkew": 1,
                                "topologyKey": "kubernetes.io/hostname",
                                "whenUnsatisfiable": "DoNotSchedule",
                                "labelSelector": {"matchLabels": {"app": "many"}},
                            }
                        ],
                        "containers": [
                            {
                                "name": "main",
                                "image": "busybox",
                                "imagePullPolicy": "IfNotPresent",
                                "command": ["sleep", "3600"],
                                "resources": {"requests": {"cpu": "200m", "memory": "16Mi"}},
                            }
                        ],
                    },
                }
            )
        )

    async def all_running() -> list[Any] | None:
        pods = (await client.pods.list(namespace)).items
        return (
            list(pods)
            if len(pods) == 6 and all(p.status.phase == "Running" for p in pods)
            else None
        )

    pods: list[Any] = await eventually(all_running, 180, what="six pods Running")
    ips = [p.status.pod_ip for p in pods]
    assert len(set(ips)) == 6
    assert sorted(Counter(p.spec.node_name for p in pods).values()) == [2, 2, 2]
    for p in pods:
        await client.pods.delete(p.metadata.name, namespace)


async def test_grpcurl_style_reflection_gets_a_pod(client: Client, namespace: str) -> None:
    services = await asyncio.to_thread(reflection_client.list_services, SERVER, ADMIN)
    assert "podplane.core.v1.Pods" in services
    await client.pods.create(
        manifest.from_dict(
            {  # type: ignore[arg-type]
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "viagrpc", "namespace": namespace},
                "spec": {"containers": [{"name": "main", "image": "busybox", "command": ["true"]}]},
            }
        )
    )
    got = await asyncio.to_thread(
        reflection_client.call,
        SERVER,
        "podplane.core.v1.Pods/Get",
        {"namespace": namespace, "name": "viagrpc"},
        ADMIN,
    )
    assert got["metadata"]["name"] == "viagrpc"
    assert (
        json.loads(podctl("get", "pod", "viagrpc", "-n", namespace, "-o", "json").stdout)[
            "metadata"
        ]["uid"]
        == got["metadata"]["uid"]
    )
