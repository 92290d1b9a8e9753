"""PriorityClasses and RuntimeClasses through the real apiserver over real etcd, at the gRPC door:
the system classes there after start (also when two apiservers start at once) and kept from
deletion and change; pods getting their priority and preemption policy from their class or the
global default, refused in Kubernetes' words for a class that does not exist; one global default
at most; a RuntimeClass's overhead, node selector and tolerations given to its pods."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from apiserver.server import APIServer
from podplane.api.core.v1 import core_pb2
from podplane.api.node.v1 import node_pb2
from podplane.api.scheduling.v1 import scheduling_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.integration.api_objects import invalid
from tests.support import EtcdProcess, held, new_namespace


def priority_class(name: str, value: int, **fields: Any) -> scheduling_pb2.PriorityClass:
    obj = manifest.from_dict(
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": name},
            "value": value,
            **fields,
        }
    )
    assert isinstance(obj, scheduling_pb2.PriorityClass)
    return obj


def runtime_class(name: str, **fields: Any) -> node_pb2.RuntimeClass:
    obj = manifest.from_dict(
        {
            "apiVersion": "node.k8s.io/v1",
            "kind": "RuntimeClass",
            "metadata": {"name": name},
            "handler": "runc",
            **fields,
        }
    )
    assert isinstance(obj, node_pb2.RuntimeClass)
    return obj


def pod(name: str, namespace: str, **spec: Any) -> core_pb2.Pod:
    obj = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"containers": [{"name": "main", "image": "busybox"}], **spec},
        }
    )
    assert isinstance(obj, core_pb2.Pod)
    return obj


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


async def refused(create: Any, code: grpc.StatusCode = grpc.StatusCode.PERMISSION_DENIED) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await create
    assert err.value.code() == code, err.value.details()
    return str(err.value.details())


async def cached(apiserver: APIServer, plural: str, name: str, present: bool = True) -> None:
    """Waits for the watch cache, which admission reads the classes from, to show the change."""
    cacher = apiserver.cachers[plural]
    await held(lambda: cacher.peek("", name), f"{plural}/{name} in the cache", 10, present)


@contextlib.asynccontextmanager
async def made(
    client: Client, apiserver: APIServer, pc: scheduling_pb2.PriorityClass
) -> AsyncIterator[scheduling_pb2.PriorityClass]:
    """A class for the test's span (a global default would change every other test's pods)."""
    created = await client.priorityclasses.create(pc)
    await cached(apiserver, "priorityclasses", pc.metadata.name)
    try:
        yield created
    finally:
        await client.priorityclasses.delete(pc.metadata.name)
        await cached(apiserver, "priorityclasses", pc.metadata.name, present=False)


async def test_the_system_classes_are_there_and_kept(client: Client) -> None:
    node = await client.priorityclasses.get("system-node-critical")
    cluster = await client.priorityclasses.get("system-cluster-critical")
    assert (node.value, cluster.value) == (2000001000, 2000000000)
    assert node.preemption_policy == cluster.preemption_policy == "PreemptLowerPriority"
    assert not node.global_default and not cluster.global_default
    assert cluster.description == (
        "Used for system critical pods that must run in the cluster, but can be moved to another "
        "node if necessary."
    )

    assert await refused(client.priorityclasses.delete("system-node-critical")) == (
        'priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a '
        "system priority class and cannot be deleted"
    )
    node.value = 5
    assert await refused(client.priorityclasses.update(node), grpc.StatusCode.INVALID_ARGUMENT) == (
        'PriorityClass.scheduling.k8s.io "system-node-critical" is invalid: value: Forbidden: '
        "may not be changed in an update."
    )
    assert (await client.priorityclasses.get("system-node-critical")).value == 2000001000
    # Nor may a user make a system- class of their own, or one valued as the system's.
    assert "is not a known system priority class" in await invalid(
        client.priorityclasses, priority_class("system-mine", 1)
    )
    assert await invalid(client.priorityclasses, priority_class("critical-too", 2000000000)) == (
        'PriorityClass.scheduling.k8s.io "critical-too" is invalid: value: Forbidden: maximum '
        "allowed value of a user defined priority is 1000000000"
    )


async def test_apiservers_starting_together_both_make_sure_of_the_system_classes(
    etcd: EtcdProcess, apiserver: APIServer
) -> None:
    # Removed behind the API's back (as in an etcd from before the classes existed).
    for name in ("system-node-critical", "system-cluster-critical"):
        await apiserver.etcd.delete(apiserver.stores["priorityclasses"].key("", name))
    a = APIServer([etcd.endpoint], "127.0.0.1:0")
    b = APIServer([etcd.endpoint], "127.0.0.1:0")
    await asyncio.gather(a.start(etcd_timeout=20), b.start(etcd_timeout=20))
    try:
        for server in (a, b):
            client = Client(f"127.0.0.1:{server.port}", timeout=10)
            try:
                got = {
                    pc.metadata.name: pc.value
                    for pc in (await client.priorityclasses.list()).items
                    if pc.metadata.name.startswith("system-")
                }
            finally:
                await client.close()
            assert got == {
                "system-node-critical": 2000001000,
                "system-cluster-critical": 2000000000,
            }
    finally:
        await asyncio.gather(a.stop(0), b.stop(0))


async def test_a_pod_gets_its_class_priority(client: Client, apiserver: APIServer) -> None:
    ns = await new_namespace(client, "prio-")
    name = unique("batch")
    async with made(client, apiserver, priority_class(name, 1000, preemptionPolicy="Never")):
        created = await client.pods.create(pod("classed", ns, priorityClassName=name))
        assert (created.spec.priority, created.spec.preemption_policy) == (1000, "Never")

        plain = await client.pods.create(pod("plain", ns))
        assert plain.spec.HasField("priority") and plain.spec.priority == 0
        assert plain.spec.preemption_policy == "PreemptLowerPriority"
        assert plain.spec.priority_class_name == ""

        critical = await client.pods.create(
            pod("critical", ns, priorityClassName="system-node-critical")
        )
        assert critical.spec.priority == 2000001000

        assert await refused(client.pods.create(pod("lost", ns, priorityClassName="nope"))) == (
            'pods "lost" is forbidden: no PriorityClass with name nope was found'
        )
        assert await refused(
            client.pods.create(pod("forced", ns, priorityClassName=name, priority=7))
        ) == (
            'pods "forced" is forbidden: the integer value of priority (7) must not be provided '
            "in pod spec; priority admission controller computed 1000 from the given "
            "PriorityClass name"
        )

        # An update that leaves the priority out keeps it; one that changes it is refused.
        stored = await client.pods.get("classed", ns)
        stored.spec.ClearField("priority")
        stored.spec.ClearField("preemption_policy")
        stored.metadata.labels["seen"] = "yes"
        updated = await client.pods.update(stored)
        assert (updated.spec.priority, updated.spec.preemption_policy) == (1000, "Never")
        updated.spec.priority = 1
        assert "spec: Forbidden: pod updates may not change fields" in await refused(
            client.pods.update(updated), grpc.StatusCode.INVALID_ARGUMENT
        )


async def test_the_global_default_and_only_one(client: Client, apiserver: APIServer) -> None:
    ns = await new_namespace(client, "prio-")
    default, other = unique("everyday"), unique("other")
    async with made(client, apiserver, priority_class(default, 50, globalDefault=True)):
        created = await client.pods.create(pod("defaulted", ns))
        assert (created.spec.priority_class_name, created.spec.priority) == (default, 50)
        assert await refused(
            client.priorityclasses.create(priority_class(other, 10, globalDefault=True))
        ) == (
            f'priorityclasses.scheduling.k8s.io "{other}" is forbidden: PriorityClass {default} '
            "is already marked as default. Only one default can exist"
        )
        async with made(client, apiserver, priority_class(other, 10)):
            marked = await client.priorityclasses.get(other)
            marked.global_default = True
            assert "is already marked as default" in await refused(
                client.priorityclasses.update(marked)
            )
    # Gone, pods get 0 again.
    assert (await client.pods.create(pod("after", ns))).spec.priority == 0


async def test_user_classes_are_checked(client: Client) -> None:
    assert await invalid(client.priorityclasses, priority_class("too-high", 1000000001)) == (
        'PriorityClass.scheduling.k8s.io "too-high" is invalid: value: Forbidden: maximum '
        "allowed value of a user defined priority is 1000000000"
    )
    assert await invalid(
        client.priorityclasses, priority_class("odd", 1, preemptionPolicy="Sometimes")
    ) == (
        'PriorityClass.scheduling.k8s.io "odd" is invalid: preemptionPolicy: Unsupported value: '
        '"Sometimes": supported values: "PreemptLowerPriority", "Never"'
    )
    name = unique("fixed")
    await client.priorityclasses.create(priority_class(name, 3, preemptionPolicy="Never"))
    try:
        stored = await client.priorityclasses.get(name)
        stored.preemption_policy = "PreemptLowerPriority"
        assert await refused(
            client.priorityclasses.update(stored), grpc.StatusCode.INVALID_ARGUMENT
        ) == (
            f'PriorityClass.scheduling.k8s.io "{name}" is invalid: preemptionPolicy: Invalid '
            'value: "PreemptLowerPriority": field is immutable'
        )
        stored.preemption_policy = "Never"
        stored.description = "may change"
        assert (await client.priorityclasses.update(stored)).description == "may change"
    finally:
        await client.priorityclasses.delete(name)


async def test_a_runtime_class_gives_its_pods_overhead_and_scheduling(client: Client) -> None:
    ns = await new_namespace(client, "rtc-")
    name = unique("kata")
    await client.runtimeclasses.create(
        runtime_class(
            name,
            overhead={"podFixed": {"cpu": "250m", "memory": "120Mi"}},
            scheduling={
                "nodeSelector": {"runtime": "kata"},
                "tolerations": [{"key": "kata", "operator": "Exists", "effect": "NoSchedule"}],
            },
        )
    )
    try:
        created = await client.pods.create(
            pod("sandboxed", ns, runtimeClassName=name, nodeSelector={"disk": "ssd"})
        )
        spec = manifest.to_dict(created)["spec"]
        assert spec["overhead"] == {"cpu": "250m", "memory": "120Mi"}
        assert spec["nodeSelector"] == {"disk": "ssd", "runtime": "kata"}
        # After DefaultTolerationSeconds' two, as kube-apiserver orders them.
        assert [t["key"] for t in spec["tolerations"]] == [
            "node.kubernetes.io/not-ready",
            "node.kubernetes.io/unreachable",
            "kata",
        ]
        assert spec["tolerations"][2] == {
            "key": "kata",
            "operator": "Exists",
            "effect": "NoSchedule",
        }
        assert await refused(
            client.pods.create(pod("lost", ns, runtimeClassName="gvisor-missing"))
        ) == ('pods "lost" is forbidden: pod rejected: RuntimeClass "gvisor-missing" not found')
        assert await refused(
            client.pods.create(
                pod("clash", ns, runtimeClassName=name, nodeSelector={"runtime": "runc"})
            )
        ) == (
            'pods "clash" is forbidden: conflict: runtimeClass.scheduling.nodeSelector[runtime] '
            "= kata; pod.spec.nodeSelector[runtime] = runc"
        )
        assert await refused(
            client.pods.create(pod("heavy", ns, runtimeClassName=name, overhead={"cpu": "1"}))
        ) == (
            "pods \"heavy\" is forbidden: pod rejected: Pod's Overhead doesn't match "
            "RuntimeClass's defined Overhead"
        )
        # The handler is fixed once made.
        stored = await client.runtimeclasses.get(name)
        stored.handler = "kata-qemu"
        assert await refused(
            client.runtimeclasses.update(stored), grpc.StatusCode.INVALID_ARGUMENT
        ) == (
            f'RuntimeClass.node.k8s.io "{name}" is invalid: handler: Invalid value: '
            '"kata-qemu": field is immutable'
        )
    finally:
        await client.runtimeclasses.delete(name)
