"""PriorityClasses and RuntimeClasses at the REST door of the real apiserver over real etcd, with
kubectl 1.36 and the official Python client: `kubectl get priorityclasses` lists the system
classes, `kubectl create priorityclass` (sent as Kubernetes' protobuf) makes a class whose pods
get its priority, the refusals read as kube-apiserver's, and a RuntimeClass made with the Python
client gives its pods their overhead."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from apiserver.endpoints.rest.protobuf_bodies import MEDIA_TYPE
from tests.integration.rest_cluster import RestCluster, in_thread, rest_cluster
from tests.support import EtcdProcess, held


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("priority-classes")) as c:
        yield c


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def pod_manifest(name: str, namespace: str, **spec: Any) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"containers": [{"name": "main", "image": "busybox"}], **spec},
        }
    )


async def namespace(cluster: RestCluster) -> str:
    name = unique("pc")
    await cluster.kubectl_ok("create", "namespace", name)
    return name


async def in_admission_cache(cluster: RestCluster, plural: str, name: str, present: bool) -> None:
    cacher = cluster.server.cachers[plural]
    await held(lambda: cacher.peek("", name), f"{plural}/{name} in the cache", 10, present)


async def test_kubectl_lists_the_system_classes(cluster: RestCluster) -> None:
    lines = (await cluster.kubectl_ok("get", "priorityclasses")).splitlines()
    assert re.split(r"\s{2,}", lines[0].strip()) == [
        "NAME",
        "VALUE",
        "GLOBAL-DEFAULT",
        "AGE",
        "PREEMPTIONPOLICY",
    ]
    rows = {
        re.split(r"\s{2,}", line.strip())[0]: re.split(r"\s{2,}", line.strip())
        for line in lines[1:]
    }
    assert rows["system-node-critical"][1:3] == ["2000001000", "false"]
    assert rows["system-node-critical"][4] == "PreemptLowerPriority"
    assert rows["system-cluster-critical"][1:3] == ["2000000000", "false"]

    ran = await cluster.kubectl("delete", "priorityclass", "system-cluster-critical")
    assert (ran.code, ran.err) == (
        1,
        'Error from server (Forbidden): priorityclasses.scheduling.k8s.io "system-cluster-critical"'
        " is forbidden: this is a system priority class and cannot be deleted\n",
    )


async def test_kubectl_create_priorityclass_and_a_pod_of_it(cluster: RestCluster) -> None:
    name, ns = unique("high"), await namespace(cluster)
    ran = await cluster.kubectl(
        "-v=8",
        "create",
        "priorityclass",
        name,
        "--value=1000",
        "--description=high",
        "--preemption-policy=Never",
    )
    assert ran.code == 0, ran.err[-3000:]
    assert ran.out == f"priorityclass.scheduling.k8s.io/{name} created\n"
    assert f"Content-Type: {MEDIA_TYPE}" in ran.err, "kubectl sent no protobuf body"
    try:
        got = json.loads(await cluster.kubectl_ok("get", "pc", name, "-o", "json"))
        assert (got["value"], got["description"], got["preemptionPolicy"]) == (
            1000,
            "high",
            "Never",
        )
        assert "globalDefault" not in got  # omitempty in Kubernetes' JSON

        await cluster.kubectl_ok(
            "create", "-f", "-", stdin=pod_manifest("urgent", ns, priorityClassName=name)
        )
        spec = json.loads(await cluster.kubectl_ok("get", "pod", "urgent", "-n", ns, "-o", "json"))[
            "spec"
        ]
        assert (spec["priority"], spec["preemptionPolicy"]) == (1000, "Never")

        ran = await cluster.kubectl(
            "create", "-f", "-", stdin=pod_manifest("lost", ns, priorityClassName="nope")
        )
        assert (ran.code, ran.err) == (
            1,
            'Error from server (Forbidden): error when creating "STDIN": pods "lost" is '
            "forbidden: no PriorityClass with name nope was found\n",
        )
        ran = await cluster.kubectl("create", "priorityclass", unique("top"), "--value=1000000001")
        assert ran.code == 1
        assert (
            "value: Forbidden: maximum allowed value of a user defined priority is 1000000000"
            in (ran.err)
        )
    finally:
        await cluster.kubectl_ok("delete", "priorityclass", name)


async def test_one_global_default_through_kubectl(cluster: RestCluster) -> None:
    default, other, ns = unique("everyday"), unique("other"), await namespace(cluster)
    await cluster.kubectl_ok("create", "priorityclass", default, "--value=50", "--global-default")
    try:
        await in_admission_cache(cluster, "priorityclasses", default, present=True)
        ran = await cluster.kubectl(
            "create", "priorityclass", other, "--value=10", "--global-default"
        )
        assert ran.code == 1
        assert (
            f'priorityclasses.scheduling.k8s.io "{other}" is forbidden: PriorityClass {default} '
            "is already marked as default. Only one default can exist\n"
        ) in ran.err
        await cluster.kubectl_ok("create", "-f", "-", stdin=pod_manifest("plain", ns))
        spec = json.loads(await cluster.kubectl_ok("get", "pod", "plain", "-n", ns, "-o", "json"))[
            "spec"
        ]
        assert (spec["priorityClassName"], spec["priority"]) == (default, 50)
    finally:
        await cluster.kubectl_ok("delete", "priorityclass", default)
        await in_admission_cache(cluster, "priorityclasses", default, present=False)


async def test_the_python_client_makes_classes_and_pods_of_them(cluster: RestCluster) -> None:
    api = cluster.api_client()
    scheduling, node, core = k8s.SchedulingV1Api(api), k8s.NodeV1Api(api), k8s.CoreV1Api(api)
    pc_name, rc_name, ns = unique("batch"), unique("kata"), await namespace(cluster)
    made = await in_thread(
        scheduling.create_priority_class,
        k8s.V1PriorityClass(metadata=k8s.V1ObjectMeta(name=pc_name), value=-5),
    )
    assert (made.value, made.preemption_policy, made.global_default) == (
        -5,
        "PreemptLowerPriority",
        None,  # false is left out of Kubernetes' JSON
    )
    await in_thread(
        node.create_runtime_class,
        k8s.V1RuntimeClass(
            metadata=k8s.V1ObjectMeta(name=rc_name),
            handler="runc",
            overhead=k8s.V1Overhead(pod_fixed={"cpu": "100m", "memory": "32Mi"}),
            scheduling=k8s.V1Scheduling(node_selector={"sandbox": "yes"}),
        ),
    )
    try:
        created = await in_thread(
            core.create_namespaced_pod,
            ns,
            k8s.V1Pod(
                metadata=k8s.V1ObjectMeta(name="sandboxed"),
                spec=k8s.V1PodSpec(
                    containers=[k8s.V1Container(name="main", image="busybox")],
                    priority_class_name=pc_name,
                    runtime_class_name=rc_name,
                ),
            ),
        )
        assert created.spec.priority == -5
        assert created.spec.overhead == {"cpu": "100m", "memory": "32Mi"}
        assert created.spec.node_selector == {"sandbox": "yes"}

        with pytest.raises(ApiException) as info:
            await in_thread(
                core.create_namespaced_pod,
                ns,
                k8s.V1Pod(
                    metadata=k8s.V1ObjectMeta(name="lost"),
                    spec=k8s.V1PodSpec(
                        containers=[k8s.V1Container(name="main", image="busybox")],
                        runtime_class_name="missing",
                    ),
                ),
            )
        assert info.value.status == 403
        body = json.loads(info.value.body or "")
        assert body["reason"] == "Forbidden"
        assert body["message"] == (
            'pods "lost" is forbidden: pod rejected: RuntimeClass "missing" not found'
        )
        assert body["details"] == {"name": "lost", "kind": "pods"}
    finally:
        await in_thread(node.delete_runtime_class, rc_name)
        await in_thread(scheduling.delete_priority_class, pc_name)
