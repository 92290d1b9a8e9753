"""Ephemeral containers end to end on the host: the real apiserver (over real etcd) takes one
through pods/ephemeralcontainers, a real kubelet starts it on the real Docker engine in the pod's
sandbox and the target's PID namespace, `Pods.Attach` gives its stdio, and the status reports it.
A restarted kubelet adopts it rather than starting it again."""

from __future__ import annotations

import grpc
import pytest

from kubelet.kubelet import Kubelet
from kubelet.runtime.docker.runtime import DockerRuntime
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from podplane.apimachinery.ephemeral_containers import status_of
from podplane.client.clientset import Client
from tests.integration.kubelet_docker import pod_syncs
from tests.support import eventually

# Every test asks for pod_namespace first, so that its clean-up (removing the namespace's
# containers) runs after the kubelet has stopped and can start no more of them.

# The app: a web server on 8080 serving a page only it has, then a long sleep (the process the
# debugger must see).
APP_COMMAND = (
    "mkdir -p /www && echo hello-from-app > /www/index.html && "
    "httpd -p 8080 -h /www && exec sleep 3600"
)
# What the debugger runs, from its stdin: the target's processes, the pod's IP, the app's page.
DEBUG_SCRIPT = (
    b"ps; echo IP=$(ip -4 -o addr show eth0 | awk '{print $4}'); "
    b"wget -qO- http://127.0.0.1:8080/; exit 7\n"
)


async def start_web(client: Client, namespace: str, node_name: str) -> core_pb2.Pod:
    await client.namespaces.create(core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=namespace)))
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {
                "nodeName": node_name,
                "terminationGracePeriodSeconds": 0,
                "volumes": [{"name": "shared", "emptyDir": {}}],
                "containers": [
                    {
                        "name": "app",
                        "image": "busybox:latest",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["sh", "-c", APP_COMMAND],
                        "volumeMounts": [{"name": "shared", "mountPath": "/shared"}],
                    }
                ],
            },
        }
    )
    assert isinstance(pod, core_pb2.Pod)
    await client.pods.create(pod)

    async def running() -> core_pb2.Pod | None:
        p = await client.pods.get("web", namespace)
        s = p.status.container_statuses
        return p if s and s[0].state.HasField("running") and p.status.pod_ip else None

    ready = await eventually(running, timeout=30, what="pod web running")
    assert ready is not None
    return ready


def debugger(name: str, **fields: object) -> core_pb2.EphemeralContainer:
    settings: dict[str, object] = {
        "image": "busybox:latest",
        "image_pull_policy": "IfNotPresent",
        "target_container_name": "app",
        "command": ["sh"],
        "stdin": True,
        "stdin_once": True,
        "volume_mounts": [core_pb2.VolumeMount(name="shared", mount_path="/shared")],
        **fields,
    }
    return core_pb2.EphemeralContainer(name=name, **settings)  # type: ignore[arg-type]


async def add(
    client: Client, pod: core_pb2.Pod, *containers: core_pb2.EphemeralContainer
) -> core_pb2.Pod:
    request = core_pb2.Pod(metadata=pod.metadata)
    request.spec.ephemeral_containers.extend(pod.spec.ephemeral_containers)
    request.spec.ephemeral_containers.extend(containers)
    return await client.update_ephemeral_containers(request)


async def ephemeral_state(
    client: Client, namespace: str, name: str, state: str
) -> core_pb2.ContainerStatus | None:
    pod = await client.pods.get("web", namespace)
    status = status_of(pod.status, name)
    return status if status is not None and status.state.HasField(state) else None


async def attach(
    client: Client, namespace: str, name: str, stdin: bytes
) -> tuple[bytes, int | None]:
    out, code = b"", None
    async for chunk in client.pod_attach(namespace, "web", container=name, stdin=stdin):
        out += chunk.data
        if chunk.HasField("exit_code"):
            code = chunk.exit_code
    return out, code


async def test_debugger_sees_the_targets_processes_and_the_pods_network(
    pod_namespace: str, client: Client, kubelet: Kubelet
) -> None:
    web = await start_web(client, pod_namespace, kubelet.config.node_name)
    updated = await add(client, web, debugger("debugger"))
    assert [c.name for c in updated.spec.ephemeral_containers] == ["debugger"]
    running = await eventually(
        lambda: ephemeral_state(client, pod_namespace, "debugger", "running"),
        timeout=30,
        what="the debugger running",
    )
    assert running is not None and running.container_id.startswith("docker://")

    out, code = await attach(client, pod_namespace, "debugger", DEBUG_SCRIPT)
    text = out.decode()
    assert "sleep 3600" in text  # the target's process, seen through its PID namespace
    assert f"IP={web.status.pod_ip}/" in text  # the pod's network namespace
    assert "hello-from-app" in text  # localhost reaches the app's port
    assert code == 7

    done = await eventually(
        lambda: ephemeral_state(client, pod_namespace, "debugger", "terminated"),
        timeout=30,
        what="the debugger reported terminated",
    )
    assert done is not None and done.state.terminated.exit_code == 7
    # Its output stays readable as its log, and it is never restarted.
    log = b"".join(
        [c.data async for c in client.pod_logs(pod_namespace, "web", container="debugger")]
    )
    assert b"hello-from-app" in log
    pod = await client.pods.get("web", pod_namespace)
    assert status_of(pod.status, "debugger") == done
    assert pod.status.phase == "Running" and pod.status.container_statuses[0].ready


async def test_a_restarted_kubelet_adopts_the_ephemeral_container(
    pod_namespace: str, client: Client, kubelet: Kubelet, docker_runtime: DockerRuntime
) -> None:
    web = await start_web(client, pod_namespace, kubelet.config.node_name)
    await add(
        client, web, debugger("keeper", command=["sleep", "3600"], stdin=False, stdin_once=False)
    )
    first = await eventually(
        lambda: ephemeral_state(client, pod_namespace, "keeper", "running"),
        timeout=30,
        what="the ephemeral container running",
    )
    assert first is not None
    await kubelet.stop()  # the fixture's stop at the end is then a no-op
    successor = Kubelet(
        kubelet.config, docker_runtime, client, host_ip="127.0.0.1", listen_host="127.0.0.1"
    )
    syncs = pod_syncs(successor)
    await successor.start()
    try:
        for _ in range(3):  # several of the new kubelet's syncs of the pod, each with its status
            await syncs.resync(f"{pod_namespace}/web")
            now = await ephemeral_state(client, pod_namespace, "keeper", "running")
            assert now is not None and now.container_id == first.container_id
            assert now.state.running.started_at == first.state.running.started_at
        instances = [
            c for c in await docker_runtime.list_containers(web.metadata.uid) if c.name == "keeper"
        ]
        assert len(instances) == 1
    finally:
        await client.pods.delete("web", pod_namespace, grace_period_seconds=0)
        await successor.stop()


async def test_the_subresource_refuses_changes_and_plain_updates_leave_them_alone(
    pod_namespace: str, client: Client, kubelet: Kubelet
) -> None:
    web = await start_web(client, pod_namespace, kubelet.config.node_name)
    web = await add(
        client, web, debugger("one", command=["sleep", "3600"], stdin=False, stdin_once=False)
    )
    with pytest.raises(grpc.aio.AioRpcError) as removed:
        await client.update_ephemeral_containers(core_pb2.Pod(metadata=web.metadata))
    assert removed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert 'existing ephemeral containers "one" may not be removed' in str(removed.value.details())
    with pytest.raises(grpc.aio.AioRpcError) as ports:
        await add(client, web, debugger("two", ports=[core_pb2.ContainerPort(container_port=80)]))
    assert "spec.ephemeralContainers[1].ports: Forbidden" in str(ports.value.details())
    with pytest.raises(grpc.aio.AioRpcError) as target:
        await add(client, web, debugger("three", target_container_name="nope"))
    assert 'spec.ephemeralContainers[1].targetContainerName: Not found: "nope"' in str(
        target.value.details()
    )
    # A plain Update may not touch them.
    plain = core_pb2.Pod()
    plain.CopyFrom(await client.pods.get("web", pod_namespace))
    del plain.spec.ephemeral_containers[:]
    with pytest.raises(grpc.aio.AioRpcError) as update:
        await client.pods.update(plain)
    assert update.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (
        "spec.ephemeralContainers: Forbidden: may only be changed through the "
        "pods/ephemeralcontainers subresource" in str(update.value.details())
    )
    # Nor may a create set them.
    fresh = core_pb2.Pod()
    fresh.CopyFrom(plain)
    fresh.metadata.name, fresh.metadata.resource_version = "other", ""
    fresh.spec.ephemeral_containers.add(name="x", image="busybox")
    with pytest.raises(grpc.aio.AioRpcError) as create:
        await client.pods.create(fresh)
    assert "spec.ephemeralContainers: Forbidden: cannot be set on create" in str(
        create.value.details()
    )
