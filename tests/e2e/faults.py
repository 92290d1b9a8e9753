"""Tools for the fault tests on the compose cluster: stopping and starting services, a writer that
remembers every write the apiserver acknowledged, and the record of measured recovery times
(build/e2e/faults.json, quoted by the README). The watch checker that records every event across
reconnections is tests/e2e/watch_checker.py."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc

from podplane.apimachinery import manifest
from podplane.client.clientset import Client, ResourceClient
from tests.e2e.compose_cluster import ROOT, compose
from tests.support import eventually

RESULTS = ROOT / "build" / "e2e" / "faults.json"
PROJECT = "podplane"
NETWORK = f"{PROJECT}_cluster"
# A label no node has: the writer's pods stay Pending, so churn costs the nodes nothing.
NOWHERE = {"podplane.test/fault-churn": "nowhere"}


def record(fault: str, **seconds: float) -> None:
    """Prints the measured times and merges them into build/e2e/faults.json."""
    figures = {k: round(v, 1) for k, v in seconds.items()}
    print(f"\n{fault}: " + ", ".join(f"{k} {v} s" for k, v in figures.items()))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[fault] = {**figures, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


# ---------------------------------------------------------------------- compose services
def container_id(service: str) -> str:
    return compose("ps", "-a", "-q", service).stdout.strip()


# What a node serves for its health: the kubelet's /healthz on its read-only port. The compose
# file gives the nodes no Docker health check (a node's health is its Node's Ready condition).
KUBELET_HEALTHZ = [
    "CMD",
    "bash",
    "-c",
    "exec 3<>/dev/tcp/127.0.0.1/10255 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && "
    "read -r _ status _ <&3 && [[ $status == 200 ]]",
]


def health(service: str) -> str:
    """STATUS/healthy or STATUS/unhealthy, the service's health check run now (docker exec of the
    compose file's test, or for a node the kubelet's /healthz): Docker runs it only every 60 s
    (docker-compose.yml), and a test waits for the component, not for Docker's next turn."""
    cid = container_id(service)
    inspected = subprocess.run(
        ["docker", "inspect", "--format", "{{.State.Status}} {{json .Config.Healthcheck}}", cid],
        text=True,
        capture_output=True,
        check=False,
    )
    if inspected.returncode != 0:
        return "absent"
    status, check = inspected.stdout.strip().split(" ", 1)
    test = (json.loads(check) or {}).get("Test") or []
    if not test and service.startswith("node-"):
        test = KUBELET_HEALTHZ
    if status != "running" or not test or test[0] not in ("CMD", "CMD-SHELL"):
        return f"{status}/"
    command = test[1:] if test[0] == "CMD" else ["sh", "-c", test[1]]
    probe = subprocess.run(
        ["docker", "exec", cid, *command], capture_output=True, timeout=30, check=False
    )
    return f"{status}/{'healthy' if probe.returncode == 0 else 'unhealthy'}"


async def wait_healthy(*services: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        states = {s: await asyncio.to_thread(health, s) for s in services}
        if all(state == "running/healthy" for state in states.values()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"services not healthy after {timeout:.0f}s: {states}")
        await asyncio.sleep(1)


async def wait_schedulable(client: Client, *nodes: str, timeout: float = 180) -> None:
    """Until every named Node is Ready, schedulable and untainted. A test that counts how its
    pods spread starts from every node: a node an earlier test restarted or cut off keeps the
    node lifecycle controller's taints for a while after its container is healthy again."""

    async def all_schedulable() -> bool:
        for name in nodes:
            node = await client.nodes.get(name)
            ready = any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)
            if not ready or node.spec.unschedulable or len(node.spec.taints):
                return False
        return True

    await eventually(
        all_schedulable, timeout, interval=1, what=f"{', '.join(nodes)} Ready and untainted"
    )


async def run_compose(*args: str) -> None:
    await asyncio.to_thread(compose, *args)


def service_of_holder(holder: str) -> str:
    """The compose service whose container holds a lease: holderIdentity is <hostname>_<uuid>,
    the hostname being the short container id."""
    short = holder.split("_", 1)[0]
    for service in ("scheduler", "scheduler-2", "controller-manager", "controller-manager-2"):
        if container_id(service).startswith(short):
            return service
    raise AssertionError(f"no compose service runs the lease holder {holder!r}")


async def lease_holder(client: Client, name: str) -> str:
    lease = await client.leases.get(name, "kube-system")
    return str(lease.spec.holder_identity)


# ---------------------------------------------------------------------- objects
def pending_pod(name: str, namespace: str) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"role": "churn"}},
            "spec": {
                "nodeSelector": NOWHERE,
                "containers": [
                    {"name": "main", "image": "busybox", "imagePullPolicy": "IfNotPresent"}
                ],
            },
        }
    )


def sleeper_pod(name: str, namespace: str, app: str) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": sleeper_template(app)["spec"],
        }
    )


def config_map(name: str, namespace: str, data: dict[str, str]) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace},
            "data": data,
        }
    )


def sleeper_template(app: str) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": app}},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {
                    "name": "main",
                    "image": "busybox",
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sleep", "3600"],
                    "resources": {"requests": {"cpu": "10m"}},
                }
            ],
        },
    }


def replication_controller(name: str, namespace: str, replicas: int) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "ReplicationController",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "replicas": replicas,
                "selector": {"app": name},
                "template": sleeper_template(name),
            },
        }
    )


def tolerating_replication_controller(name: str, replicas: int, toleration_seconds: int) -> Any:
    """Sleepers that stay on an unreachable or not-ready node for `toleration_seconds`, then are
    evicted (the node lifecycle controller's NoExecute taints)."""
    tolerations = [
        {
            "key": f"node.kubernetes.io/{key}",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": toleration_seconds,
        }
        for key in ("unreachable", "not-ready")
    ]
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "ReplicationController",
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "selector": {"app": name},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {
                        "tolerations": tolerations,
                        "terminationGracePeriodSeconds": 2,
                        "containers": [
                            {
                                "name": "main",
                                "image": "busybox",
                                "imagePullPolicy": "IfNotPresent",
                                "command": ["sleep", "3600"],
                                "resources": {"requests": {"cpu": "200m"}},
                            }
                        ],
                    },
                },
            },
        }
    )


def replica_set(name: str, namespace: str, replicas: int) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": sleeper_template(name),
            },
        }
    )


async def live_pods(client: Client, namespace: str, app: str) -> list[Any]:
    pods = (await client.pods.list(namespace, label_selector=f"app={app}")).items
    return [p for p in pods if not p.metadata.deletion_timestamp]


async def settled(client: Client, namespace: str, app: str, n: int) -> list[Any] | None:
    """Exactly n pods of the app, all Running, none terminating (nor any left terminating)."""
    pods = (await client.pods.list(namespace, label_selector=f"app={app}")).items
    ok = len(pods) == n and all(
        p.status.phase == "Running" and not p.metadata.deletion_timestamp for p in pods
    )
    return list(pods) if ok else None


async def retried(call: Callable[[], Awaitable[Any]], timeout: float = 60) -> Any:
    """A write retried through an outage (the API is not available yet)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            async with asyncio.timeout(5):
                return await call()
        except (TimeoutError, grpc.aio.AioRpcError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def scale(
    client: Client, resource: ResourceClient[Any], name: str, namespace: str, replicas: int
) -> None:
    async def once() -> Any:
        obj = await resource.get(name, namespace)
        obj.spec.replicas = replicas
        return await resource.update(obj)

    await retried(once)


# ---------------------------------------------------------------------- churn with receipts
@dataclass
class PodChurn:
    """Creates pods and deletes older ones, steadily; remembers which writes were acknowledged.
    A write that failed, timed out or was still unanswered when the churn stopped has an unknown
    outcome and is not counted either way: a pod whose delete is unknown may be stored or not
    (`maybe_deleted`), and is not picked again."""

    client: Client
    namespace: str
    created: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    maybe_deleted: set[str] = field(default_factory=set)
    ack_times: list[float] = field(default_factory=list)
    failures: int = 0

    async def run(self, rate: float = 5.0) -> None:
        n = 0
        while True:
            n += 1
            name = f"churn-{n}"
            try:
                async with asyncio.timeout(5):
                    await self.client.pods.create(pending_pod(name, self.namespace))
                self.created.add(name)
                self.ack_times.append(time.monotonic())
            except (TimeoutError, grpc.aio.AioRpcError):
                self.failures += 1
            if n % 3 == 0 and (alive := self.kept()):  # delete one in three, leaving the rest
                victim = random.choice(sorted(alive))
                # Unknown until acknowledged: the churn may be stopped (cancelled) with the
                # delete sent and not yet answered, and the apiserver may have done it.
                self.maybe_deleted.add(victim)
                try:
                    async with asyncio.timeout(5):
                        await self.client.pods.delete(
                            victim, self.namespace, grace_period_seconds=0
                        )
                    self.maybe_deleted.discard(victim)
                    self.deleted.add(victim)
                    self.ack_times.append(time.monotonic())
                except (TimeoutError, grpc.aio.AioRpcError):
                    self.failures += 1
            await asyncio.sleep(1 / rate)

    def kept(self) -> set[str]:
        """The pods whose create was acknowledged and that no delete was sent for."""
        return self.created - self.deleted - self.maybe_deleted

    def first_ack_after(self, t: float) -> float | None:
        return next((a for a in self.ack_times if a >= t), None)


async def assert_acknowledged_writes_stored(
    client: Client, namespace: str, churn: PodChurn
) -> None:
    """Every create the churn saw acknowledged is stored and every acknowledged delete stays
    done (a list with resourceVersion "" reads etcd itself)."""
    stored = {
        p.metadata.name
        for p in (
            await retried(lambda: client.pods.list(namespace, label_selector="role=churn"))
        ).items
    }
    kept = churn.kept()
    assert kept <= stored, (
        f"acknowledged creates lost: {sorted(kept - stored)} (of {len(churn.created)} "
        f"acknowledged creates, {len(churn.deleted)} deletes acknowledged, "
        f"{len(churn.maybe_deleted)} unknown; {churn.failures} writes failed)"
    )
    assert not churn.deleted & stored, f"acknowledged deletes undone: {churn.deleted & stored}"


async def drain(client: Client, namespace: str) -> None:
    """Deletes the namespace's controllers and pods at once and waits until no pod is left, so
    that the next test's scheduling is not skewed by pods still being deleted."""
    for rc in (await client.replicationcontrollers.list(namespace)).items:
        await client.replicationcontrollers.delete(rc.metadata.name, namespace)
    for rs in (await client.replicasets.list(namespace)).items:
        await client.replicasets.delete(rs.metadata.name, namespace)

    async def gone() -> bool:
        pods = (await client.pods.list(namespace)).items
        for pod in pods:
            try:
                await client.pods.delete(pod.metadata.name, namespace, grace_period_seconds=0)
            except grpc.aio.AioRpcError:
                pass  # already gone
        return not pods

    deadline = time.monotonic() + 60
    while not await gone():
        if time.monotonic() > deadline:
            raise AssertionError(f"pods of {namespace} not deleted within 60 s")
        await asyncio.sleep(0.5)


# How long stop_task cancels a task that goes on before it gives up.
STOP_TIMEOUT = 30.0


async def stop_task(task: asyncio.Task[Any]) -> None:
    """Cancels the task until it is done. Once was not always enough while the writers waited in
    Python 3.11's asyncio.wait_for, which can lose a cancel that comes as its call completes: the
    apiserver restart test waited on one for ever in 1 of 12 runs under load. Nothing here uses it
    now (ruff bans it); a task that loses a cancel all the same fails the test, it never hangs."""
    deadline = time.monotonic() + STOP_TIMEOUT
    while not task.done():
        if time.monotonic() > deadline:
            raise AssertionError(f"{task.get_name()} still runs {STOP_TIMEOUT:.0f} s after cancel")
        task.cancel()
        await asyncio.wait({task}, timeout=0.5)
    try:
        await task
    except (asyncio.CancelledError, Exception):  # noqa: BLE001 - stopping is all that matters
        pass
