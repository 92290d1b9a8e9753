"""The kubelet's side of Kubernetes 1.31's pod fields on the compose cluster's Docker-in-Docker
nodes: a pod with a RuntimeDefault seccomp profile, a safe sysctl, hostAliases and a readiness gate
runs with each applied and reports as on Kubernetes (ContainersReady, then Ready only once its
gate's condition is True); a gRPC readiness probe reaches a gRPC health server in a pod."""

from __future__ import annotations

from typing import Any

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client, is_conflict
from tests.support import eventually

BUSYBOX = {"image": "busybox", "imagePullPolicy": "IfNotPresent"}
GATE = "example.com/load-balancer"


async def create_pod(client: Client, namespace: str, name: str, spec: dict[str, Any]) -> Any:
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"terminationGracePeriodSeconds": 1, **spec},
        },
        core_pb2.Pod,
    )
    return await client.pods.create(pod)


def conditions(pod: core_pb2.Pod) -> dict[str, core_pb2.PodCondition]:
    return {c.type: c for c in pod.status.conditions}


async def pod_where(client: Client, namespace: str, name: str, test: Any, what: str) -> Any:
    async def check() -> core_pb2.Pod | None:
        pod = await client.pods.get(name, namespace)
        return pod if test(pod) else None

    return await eventually(check, timeout=90, what=f"pod {name}: {what}")


async def logs(client: Client, namespace: str, name: str) -> str:
    return b"".join([c.data async for c in client.pod_logs(namespace, name)]).decode()


async def test_seccomp_a_sysctl_host_aliases_and_a_readiness_gate(
    client: Client, namespace: str
) -> None:
    script = (
        "grep Seccomp: /proc/self/status; cat /proc/sys/net/ipv4/ip_local_port_range; "
        "tail -n 3 /etc/hosts; echo done; sleep 3600"
    )
    await create_pod(
        client,
        namespace,
        "fields",
        {
            "securityContext": {
                "seccompProfile": {"type": "RuntimeDefault"},
                "sysctls": [{"name": "net.ipv4.ip_local_port_range", "value": "1024 2000"}],
            },
            "hostAliases": [{"ip": "10.1.2.3", "hostnames": ["db.example", "db"]}],
            "readinessGates": [{"conditionType": GATE}],
            "containers": [{"name": "main", **BUSYBOX, "command": ["sh", "-c", script]}],
        },
    )
    pod = await pod_where(
        client,
        namespace,
        "fields",
        lambda p: conditions(p).get("ContainersReady", core_pb2.PodCondition()).status == "True",
        "containers ready",
    )
    ready = conditions(pod)["Ready"]
    assert (ready.status, ready.reason, ready.message) == (
        "False",
        "ReadinessGatesNotReady",
        f'corresponding condition of pod readiness gate "{GATE}" does not exist.',
    )

    async def logged() -> str | None:
        text = await logs(client, namespace, "fields")
        return text if "done" in text else None

    assert await eventually(logged, timeout=30, what="the pod's output") == (
        "Seccomp:\t2\n"
        "1024\t2000\n"
        "\n"
        "# Entries added by HostAliases.\n"
        "10.1.2.3\tdb.example\tdb\n"
        "done\n"
    )
    # What a load balancer controller does once the pod is in its rotation.
    for _ in range(10):
        pod = await client.pods.get("fields", namespace)
        pod.status.conditions.add(type=GATE, status="True")
        try:
            await client.pods.update_status(pod)
            break
        except Exception as e:
            if not is_conflict(e):
                raise
    pod = await pod_where(
        client,
        namespace,
        "fields",
        lambda p: conditions(p)["Ready"].status == "True",
        "Ready once its gate is",
    )
    assert conditions(pod)[GATE].status == "True"


HEALTH_SERVER = """
from concurrent import futures
import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
server = grpc.server(futures.ThreadPoolExecutor(2))
servicer = health.HealthServicer()
servicer.set("", health_pb2.HealthCheckResponse.SERVING)
servicer.set("db", health_pb2.HealthCheckResponse.NOT_SERVING)
health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
server.add_insecure_port("0.0.0.0:9090")
server.start()
server.wait_for_termination()
"""


async def test_grpc_probes_against_a_grpc_health_server(client: Client, namespace: str) -> None:
    """The cluster DNS image has Python and grpcio: a gRPC health server in a pod, with a
    readiness probe of its serving service, and a second container probing a service that is
    not serving."""
    image = {"image": "podplane/clusterdns:dev", "imagePullPolicy": "IfNotPresent"}
    server: dict[str, Any] = {"name": "server", **image, "command": ["python", "-c", HEALTH_SERVER]}
    server["readinessProbe"] = {"grpc": {"port": 9090}, "periodSeconds": 2}
    watcher: dict[str, Any] = {"name": "watcher", **BUSYBOX, "command": ["sleep", "3600"]}
    watcher["readinessProbe"] = {"grpc": {"port": 9090, "service": "db"}, "periodSeconds": 2}
    await create_pod(client, namespace, "grpc", {"containers": [server, watcher]})

    def ready(pod: core_pb2.Pod, name: str) -> bool:
        return any(s.name == name and s.ready for s in pod.status.container_statuses)

    pod = await pod_where(client, namespace, "grpc", lambda p: ready(p, "server"), "server ready")
    assert not ready(pod, "watcher")

    not_serving = 'Readiness probe failed: service unhealthy (responded with "NOT_SERVING")'

    async def unhealthy() -> str | None:
        # The watcher may have probed before the server listened (a connect timeout, as
        # Kubernetes reports it); the event wanted is the one of the service not serving.
        found = await client.events.list(
            namespace, field_selector="involvedObject.name=grpc,reason=Unhealthy"
        )
        return next((e.message for e in found.items if e.message == not_serving), None)

    assert await eventually(unhealthy, timeout=60, what="an Unhealthy event") == not_serving
