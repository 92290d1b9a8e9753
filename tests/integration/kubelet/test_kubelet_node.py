"""A whole kubelet against the real apiserver (over real etcd) and the real Docker engine: it
registers its Node and Lease, runs the pods bound to it to Running with a pod IP, then to Succeeded
or Failed, serves their logs through the apiserver, and removes them when they are deleted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from kubelet.kubelet import Kubelet
from kubelet.runtime.docker.runtime import DockerRuntime
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import codec, manifest
from podplane.apimachinery.kubelet_endpoints import GRPC_PORT_ANNOTATION
from podplane.client.clientset import Client
from tests.integration.kubelet_docker import pod_syncs, remove_labelled
from tests.support import eventually


async def create_pod(
    client: Client, namespace: str, node: str, name: str, script: str, restart_policy: str = "Never"
) -> core_pb2.Pod:
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "nodeName": node,
                "restartPolicy": restart_policy,
                "terminationGracePeriodSeconds": 1,
                "containers": [
                    {
                        "name": "main",
                        "image": "busybox:latest",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["sh", "-c", script],
                    }
                ],
            },
        }
    )
    assert isinstance(pod, core_pb2.Pod)
    return await client.pods.create(pod)


async def test_node_registers_with_a_lease(kubelet: Kubelet, client: Client) -> None:
    node = await client.nodes.get(kubelet.config.node_name)
    ready = {c.type: c for c in node.status.conditions}["Ready"]
    assert (ready.status, ready.reason) == ("True", "KubeletReady")
    assert node.spec.pod_cidr == "10.244.9.0/24"
    assert node.status.daemon_endpoints.kubelet_endpoint.port == kubelet.port
    assert node.metadata.annotations[GRPC_PORT_ANNOTATION] == str(kubelet.grpc_port)
    assert node.status.node_info.container_runtime_version.startswith("docker://")
    lease = await client.leases.get(kubelet.config.node_name, "kube-node-lease")
    assert lease.spec.holder_identity == kubelet.config.node_name
    assert lease.spec.lease_duration_seconds == 40 and lease.spec.renew_time
    # The engine's images, largest first, for the scheduler's ImageLocality.
    images = [(list(i.names), i.size_bytes) for i in node.status.images]
    assert any("busybox:latest" in names and size > 0 for names, size in images), images
    assert [size for _, size in images] == sorted((size for _, size in images), reverse=True)


async def test_kubelet_makes_its_csi_node(kubelet: Kubelet, client: Client) -> None:
    """As Kubernetes' nodeinfomanager: a CSINode named after the node, owned by the Node, with no
    drivers (none is registered on the node)."""
    name = kubelet.config.node_name
    node = await client.nodes.get(name)

    found = await eventually(lambda: client.csinodes.get(name), timeout=20, what="CSINode")
    assert [(r.api_version, r.kind, r.name, r.uid) for r in found.metadata.owner_references] == [
        ("v1", "Node", name, node.metadata.uid)
    ]
    assert list(found.spec.drivers) == []
    assert codec.encode(found)["spec"] == {"drivers": []}


async def test_pods_run_finish_log_and_go_away(
    kubelet: Kubelet, client: Client, docker_runtime: DockerRuntime, pod_namespace: str
) -> None:
    node = kubelet.config.node_name
    await client.namespaces.create(
        core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=pod_namespace))
    )
    await create_pod(client, pod_namespace, node, "ok", "echo hello from $(hostname); sleep 2")
    await create_pod(client, pod_namespace, node, "bad", "echo failing; sleep 2; exit 1")

    def phase_is(name: str, expected: str) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return (await client.pods.get(name, pod_namespace)).status.phase == expected

        return check

    async def running_with_ip() -> core_pb2.Pod | None:
        pod = await client.pods.get("ok", pod_namespace)
        return pod if pod.status.phase == "Running" and pod.status.pod_ip else None

    running = await eventually(running_with_ip, timeout=30, what="pod ok Running with an IP")
    assert running is not None and running.status.host_ip == "127.0.0.1"
    await eventually(phase_is("ok", "Succeeded"), timeout=30, what="pod ok Succeeded")
    await eventually(phase_is("bad", "Failed"), timeout=30, what="pod bad Failed")
    bad = await client.pods.get("bad", pod_namespace)
    assert bad.status.container_statuses[0].state.terminated.exit_code == 1

    logs = b"".join([c.data async for c in client.pod_logs(pod_namespace, "ok")])
    assert logs == b"hello from ok\n"  # proxied by the apiserver to this kubelet

    uids = [(await client.pods.get(n, pod_namespace)).metadata.uid for n in ("ok", "bad")]
    for name in ("ok", "bad"):
        await client.pods.delete(name, pod_namespace)

    async def all_removed() -> bool:
        left = [c for uid in uids for c in await docker_runtime.list_containers(uid)]
        return not left

    await eventually(all_removed, timeout=30, what="the pods' containers to be removed")


async def test_a_restarted_kubelet_adopts_its_running_containers(
    kubelet: Kubelet, client: Client, docker_runtime: DockerRuntime, pod_namespace: str
) -> None:
    """A new kubelet process finds the pod's containers by their labels and restarts none."""
    node = kubelet.config.node_name
    await client.namespaces.create(
        core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=pod_namespace))
    )
    await create_pod(client, pod_namespace, node, "steady", "sleep 3600", "Always")

    async def running() -> core_pb2.Pod | None:
        pod = await client.pods.get("steady", pod_namespace)
        return pod if pod.status.phase == "Running" else None

    before = await eventually(running, timeout=60, what="pod steady Running")
    container_id = before.status.container_statuses[0].container_id
    await kubelet.stop()  # the fixture's stop at the end is then a no-op

    successor = Kubelet(
        kubelet.config, docker_runtime, client, host_ip="127.0.0.1", listen_host="127.0.0.1"
    )
    syncs = pod_syncs(successor)
    await successor.start()
    try:
        for _ in range(3):  # several of the new kubelet's syncs of the pod, each with its status
            await syncs.resync(f"{pod_namespace}/steady")
            after = await client.pods.get("steady", pod_namespace)
            status = after.status.container_statuses[0]
            assert after.status.phase == "Running"
            assert (status.container_id, status.restart_count) == (container_id, 0)
            assert (
                status.state.running.started_at
                == before.status.container_statuses[0].state.running.started_at
            )
    finally:
        await client.pods.delete("steady", pod_namespace, grace_period_seconds=0)
        await successor.stop()
        remove_labelled(pod_namespace)
