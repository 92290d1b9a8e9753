"""A whole kubelet on the test host's Docker engine, with the real apiserver, running the pod fields
Kubernetes 1.31 added to what podplane serves: seccomp profiles (what `docker inspect` and the
container's /proc show), sysctls set in the pod (and one refused), the kubelet's /etc/hosts with
hostAliases and the FQDN hostname, readiness gates, gRPC readiness probes, and RuntimeClasses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest_asyncio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from apiserver.server import APIServer
from kubelet.kubelet import Kubelet
from kubelet.runtime.docker.runtime import DockerRuntime
from kubelet.runtime.docker.sdk import sdk
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.node.v1 import node_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client, is_conflict
from tests.integration.kubelet_docker import DOCKER_HOST, running_kubelet
from tests.support import eventually, free_port

BUSYBOX = {"image": "busybox:latest", "imagePullPolicy": "IfNotPresent"}


@pytest_asyncio.fixture
async def kubelet(
    apiserver: APIServer,
    client: Client,
    docker_runtime: DockerRuntime,
    tmp_path: Path,
    pod_namespace: str,
) -> AsyncIterator[Kubelet]:
    await client.namespaces.create(
        core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=pod_namespace))
    )
    async with running_kubelet(
        apiserver, client, docker_runtime, str(tmp_path), cluster_domain="cluster.local"
    ) as kubelet:
        yield kubelet


async def create(
    client: Client, kubelet: Kubelet, ns: str, name: str, spec: dict[str, Any]
) -> core_pb2.Pod:
    pod: Any = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "nodeName": kubelet.config.node_name,
                "restartPolicy": "Never",
                "terminationGracePeriodSeconds": 0,
                **spec,
            },
        }
    )
    created: core_pb2.Pod = await client.pods.create(pod)
    return created


def sh(name: str, script: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, **BUSYBOX, "command": ["sh", "-c", script], **fields}


async def finished(client: Client, ns: str, name: str) -> core_pb2.Pod:
    async def check() -> core_pb2.Pod | None:
        pod = await client.pods.get(name, ns)
        return pod if pod.status.phase in ("Succeeded", "Failed") else None

    return await eventually(check, timeout=60, what=f"pod {name} to finish")


async def logs(client: Client, ns: str, name: str, container: str = "") -> str:
    chunks = [c.data async for c in client.pod_logs(ns, name, container=container)]
    return b"".join(chunks).decode()


async def event(client: Client, ns: str, name: str, reason: str) -> str:
    async def check() -> str | None:
        found = await client.events.list(
            ns, field_selector=f"involvedObject.name={name},reason={reason}"
        )
        return found.items[0].message if found.items else None

    return await eventually(check, timeout=30, what=f"a {reason} event of {name}")


def inspect(container_id: str) -> dict[str, Any]:
    api = sdk.APIClient(base_url=DOCKER_HOST, version="auto")
    try:
        data: dict[str, Any] = api.inspect_container(container_id.removeprefix("docker://"))
        return data
    finally:
        api.close()


async def test_seccomp_runtime_default_and_unconfined(
    kubelet: Kubelet, client: Client, pod_namespace: str
) -> None:
    script = "grep Seccomp: /proc/self/status"
    await create(
        client,
        kubelet,
        pod_namespace,
        "seccomp",
        {
            "containers": [
                sh(
                    "default",
                    script,
                    securityContext={"seccompProfile": {"type": "RuntimeDefault"}},
                ),
                sh("unset", script),
            ]
        },
    )
    pod = await finished(client, pod_namespace, "seccomp")
    assert pod.status.phase == "Succeeded", pod.status
    by_name = {s.name: s for s in pod.status.container_statuses}
    # Docker's own default profile: a filter (mode 2), and no option saying otherwise.
    assert "seccomp=unconfined" not in (
        inspect(by_name["default"].container_id)["HostConfig"]["SecurityOpt"] or []
    )
    assert (await logs(client, pod_namespace, "seccomp", "default")).split() == ["Seccomp:", "2"]
    # Unset is Unconfined in Kubernetes 1.31 (the kubelet's --seccomp-default is off).
    assert inspect(by_name["unset"].container_id)["HostConfig"]["SecurityOpt"] == [
        "seccomp=unconfined"
    ]
    assert (await logs(client, pod_namespace, "seccomp", "unset")).split() == ["Seccomp:", "0"]


async def test_a_localhost_seccomp_profile_that_is_not_on_the_node(
    kubelet: Kubelet, client: Client, pod_namespace: str
) -> None:
    profile = {"type": "Localhost", "localhostProfile": "profiles/audit.json"}
    await create(
        client,
        kubelet,
        pod_namespace,
        "audit",
        {"containers": [sh("main", "true", securityContext={"seccompProfile": profile})]},
    )
    path = f"{kubelet.config.root_dir}/seccomp/profiles/audit.json"

    async def waiting() -> core_pb2.ContainerStateWaiting | None:
        pod = await client.pods.get("audit", pod_namespace)
        statuses = pod.status.container_statuses
        state = statuses[0].state.waiting if statuses else None
        return state if state is not None and state.reason == "CreateContainerError" else None

    state = await eventually(waiting, timeout=30, what="CreateContainerError")
    assert state.message == (
        f'cannot load seccomp profile "{path}": open {path}: no such file or directory'
    )


async def test_sysctls_are_set_in_the_pod_and_a_forbidden_one_fails_it(
    kubelet: Kubelet, client: Client, pod_namespace: str
) -> None:
    sysctls = [
        {"name": "net.ipv4.ip_local_port_range", "value": "1024 2000"},
        {"name": "kernel.shm_rmid_forced", "value": "1"},
    ]
    await create(
        client,
        kubelet,
        pod_namespace,
        "tuned",
        {
            "securityContext": {"sysctls": sysctls},
            "containers": [
                sh(
                    "main",
                    "cat /proc/sys/net/ipv4/ip_local_port_range /proc/sys/kernel/shm_rmid_forced",
                )
            ],
        },
    )
    pod = await finished(client, pod_namespace, "tuned")
    assert pod.status.phase == "Succeeded", pod.status
    assert (await logs(client, pod_namespace, "tuned")).split() == ["1024", "2000", "1"]

    await create(
        client,
        kubelet,
        pod_namespace,
        "forbidden",
        {
            "securityContext": {"sysctls": [{"name": "net.core.somaxconn", "value": "1024"}]},
            "containers": [sh("main", "true")],
        },
    )
    pod = await finished(client, pod_namespace, "forbidden")
    assert (pod.status.phase, pod.status.reason) == ("Failed", "SysctlForbidden")
    assert pod.status.message == (
        'Pod was rejected: forbidden sysctl: "net.core.somaxconn" not allowlisted'
    )
    assert await event(client, pod_namespace, "forbidden", "SysctlForbidden") == (
        'forbidden sysctl: "net.core.somaxconn" not allowlisted'
    )


async def test_the_hosts_file_has_the_host_aliases_and_the_hostname_is_the_fqdn(
    kubelet: Kubelet, client: Client, pod_namespace: str
) -> None:
    await create(
        client,
        kubelet,
        pod_namespace,
        "web-0",
        {
            "hostname": "web-0",
            "subdomain": "web",
            "setHostnameAsFQDN": True,
            "hostAliases": [
                {"ip": "127.0.0.1", "hostnames": ["foo.local", "bar.local"]},
                {"ip": "10.1.2.3", "hostnames": ["foo.remote", "bar.remote"]},
            ],
            "containers": [sh("main", "hostname; cat /etc/hosts")],
        },
    )
    pod = await finished(client, pod_namespace, "web-0")
    assert pod.status.phase == "Succeeded", pod.status
    fqdn = f"web-0.web.{pod_namespace}.svc.cluster.local"
    assert await logs(client, pod_namespace, "web-0") == (
        f"{fqdn}\n"
        "# Kubernetes-managed hosts file.\n"
        "127.0.0.1\tlocalhost\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\n"
        "fe00::0\tip6-mcastprefix\n"
        "fe00::1\tip6-allnodes\n"
        "fe00::2\tip6-allrouters\n"
        f"{pod.status.pod_ip}\t{fqdn}\tweb-0\n"
        "\n"
        "# Entries added by HostAliases.\n"
        "127.0.0.1\tfoo.local\tbar.local\n"
        "10.1.2.3\tfoo.remote\tbar.remote\n"
    )


async def set_condition(client: Client, ns: str, name: str, type_: str, status: str) -> None:
    """What a controller does for a readiness gate: its condition in the pod's status."""
    for _ in range(10):
        pod = await client.pods.get(name, ns)
        kept = [c for c in pod.status.conditions if c.type != type_]
        del pod.status.conditions[:]
        pod.status.conditions.extend([*kept, core_pb2.PodCondition(type=type_, status=status)])
        try:
            await client.pods.update_status(pod)
            return
        except Exception as e:
            if not is_conflict(e):
                raise
    raise AssertionError("the pod's status kept changing")


def conditions(pod: core_pb2.Pod) -> dict[str, tuple[str, str]]:
    return {c.type: (c.status, c.reason) for c in pod.status.conditions}


async def test_a_readiness_gate_holds_ready_until_its_condition_is_true(
    kubelet: Kubelet, client: Client, pod_namespace: str
) -> None:
    await create(
        client,
        kubelet,
        pod_namespace,
        "gated",
        {
            "readinessGates": [{"conditionType": "example.com/lb"}],
            "containers": [sh("main", "sleep 600")],
        },
    )

    async def gated() -> core_pb2.Pod | None:
        pod = await client.pods.get("gated", pod_namespace)
        found = conditions(pod)
        return pod if found.get("ContainersReady", ("",))[0] == "True" else None

    pod = await eventually(gated, timeout=30, what="the containers to be ready")
    assert conditions(pod)["Ready"] == ("False", "ReadinessGatesNotReady")
    [ready] = [c for c in pod.status.conditions if c.type == "Ready"]
    assert ready.message == (
        'corresponding condition of pod readiness gate "example.com/lb" does not exist.'
    )
    await set_condition(client, pod_namespace, "gated", "example.com/lb", "True")

    async def ready_now() -> core_pb2.Pod | None:
        pod = await client.pods.get("gated", pod_namespace)
        return pod if conditions(pod)["Ready"][0] == "True" else None

    pod = await eventually(ready_now, timeout=30, what="the pod to be Ready")
    # The kubelet kept the controller's condition.
    assert conditions(pod)["example.com/lb"] == ("True", "")


@pytest_asyncio.fixture
async def health_server() -> AsyncIterator[tuple[int, health.HealthServicer]]:
    """A gRPC health server on the node's own address (the kubelet's host IP, 127.0.0.1)."""
    server = grpc.aio.server()
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = free_port()
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    yield port, servicer
    await server.stop(0)


async def test_a_grpc_readiness_probe(
    kubelet: Kubelet,
    client: Client,
    pod_namespace: str,
    health_server: tuple[int, health.HealthServicer],
) -> None:
    """A host-network pod, whose IP is the node's: the probe reaches the test's gRPC server."""
    port, servicer = health_server
    servicer.set("app", health_pb2.HealthCheckResponse.SERVING)
    probe = {"grpc": {"port": port, "service": "app"}, "periodSeconds": 1}
    await create(
        client,
        kubelet,
        pod_namespace,
        "grpc",
        {"hostNetwork": True, "containers": [sh("main", "sleep 600", readinessProbe=probe)]},
    )

    async def ready(want: str) -> core_pb2.Pod | None:
        pod = await client.pods.get("grpc", pod_namespace)
        return pod if conditions(pod).get("Ready", ("",))[0] == want else None

    await eventually(lambda: ready("True"), timeout=30, what="the probe to pass")
    servicer.set("app", health_pb2.HealthCheckResponse.NOT_SERVING)
    await eventually(lambda: ready("False"), timeout=30, what="the probe to fail")
    assert await event(client, pod_namespace, "grpc", "Unhealthy") == (
        'Readiness probe failed: service unhealthy (responded with "NOT_SERVING")'
    )


async def test_runtime_classes(kubelet: Kubelet, client: Client, pod_namespace: str) -> None:
    for name, handler in ((f"{pod_namespace}-runc", "runc"), (f"{pod_namespace}-kata", "kata")):
        await client.runtimeclasses.create(
            node_pb2.RuntimeClass(metadata=meta_pb2.ObjectMeta(name=name), handler=handler)
        )
    try:
        spec = {"runtimeClassName": f"{pod_namespace}-runc", "containers": [sh("main", "true")]}
        await create(client, kubelet, pod_namespace, "runc", spec)
        pod = await finished(client, pod_namespace, "runc")
        assert pod.status.phase == "Succeeded", pod.status
        runtime = inspect(pod.status.container_statuses[0].container_id)["HostConfig"]["Runtime"]
        assert runtime == "runc"

        spec = {"runtimeClassName": f"{pod_namespace}-kata", "containers": [sh("main", "true")]}
        await create(client, kubelet, pod_namespace, "kata", spec)
        assert await event(client, pod_namespace, "kata", "FailedCreatePodSandBox") == (
            'Failed to create pod sandbox: failed to get sandbox runtime: no runtime for "kata" '
            "is configured"
        )
        pod = await client.pods.get("kata", pod_namespace)
        assert pod.status.phase == "Pending"
    finally:
        for name in (f"{pod_namespace}-runc", f"{pod_namespace}-kata"):
            await client.runtimeclasses.delete(name)
