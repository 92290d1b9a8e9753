"""`python -m controller --use-service-account-credentials` against the real apiserver (TLS, RBAC,
the bootstrap policy) over real etcd: it makes each controller's service account in kube-system
and every controller's request is its own account's, which RBAC allows: a ReplicaSet's pods are
created as system:serviceaccount:kube-system:replicaset-controller, a Deployment rolls out, a Job
completes, Endpoints and EndpointSlices follow a Service, a DaemonSet and a StatefulSet make
their pods, the garbage collector removes an orphan's dependents and the namespace controller
empties a deleted namespace, with no request refused. The apiserver's authorization decisions
are the record (an audit of who asked for what)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
import pytest_asyncio

from apiserver.auth.authorizer import Attributes
from apiserver.auth.node_authorizer import Decision
from controller.controllers import SERVICE_ACCOUNTS
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client, is_conflict, is_not_found
from tests.integration.rest_cluster import RestCluster, rest_cluster
from tests.support import ComponentProcess, EtcdProcess, eventually, new_namespace

PREFIX = "system:serviceaccount:kube-system:"
NODE = "sa-credentials-node"


@dataclass(frozen=True)
class Decided:
    user: str
    verb: str
    resource: str
    namespace: str
    allowed: bool


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("sa-credentials")) as c:
        yield c


@pytest.fixture(scope="module")
def decisions(cluster: RestCluster) -> Iterator[list[Decided]]:
    """Every authorization decision the apiserver makes while the module runs."""
    authorizer = cluster.server.authorizer
    decide = authorizer.authorize
    seen: list[Decided] = []

    def recording(a: Attributes) -> Decision:
        decision = decide(a)
        resource = f"{a.resource}/{a.subresource}" if a.subresource else a.resource
        seen.append(Decided(a.user.name, a.verb, resource, a.namespace, decision.allowed))
        return decision

    authorizer.authorize = recording  # type: ignore[method-assign]
    yield seen
    authorizer.authorize = decide  # type: ignore[method-assign]


@pytest.fixture(scope="module")
def manager(
    cluster: RestCluster, decisions: list[Decided], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ComponentProcess]:
    pki = cluster.pki
    proc = ComponentProcess(
        tmp_path_factory.mktemp("controller-manager") / "output.log",
        "controller",
        "--server",
        f"127.0.0.1:{cluster.server.port}",
        "--ca-file",
        str(pki / "ca.crt"),
        "--cert-file",
        str(pki / "controller-manager.crt"),
        "--key-file",
        str(pki / "controller-manager.key"),
        "--use-service-account-credentials",
        "--token-server",
        f"127.0.0.1:{cluster.server.token_port}",
        "--leader-elect=false",
        "--health-port",
        "0",
        "--metrics-bind-address",
        "",
        "--node-monitor-grace-period",
        "600s",
        "--node-startup-grace-period",
        "600s",
    )
    yield proc
    assert proc.stop() == 0, proc.output()[-4000:]


def _object(data: dict[str, Any]) -> Any:
    return manifest.from_dict(data)


def _template(app: str) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": "main", "image": "busybox", "command": ["sleep", "1d"]}]},
    }


async def _pods(client: Client, ns: str, app: str) -> list[core_pb2.Pod]:
    return [p for p in (await client.pods.list(ns)).items if p.metadata.labels.get("app") == app]


async def _ready(client: Client, pod: core_pb2.Pod, ip: str) -> None:
    """What a kubelet would report: running, ready, with an address."""
    pod.status.phase = "Running"
    pod.status.pod_ip = ip
    del pod.status.conditions[:]
    for kind in ("Ready", "ContainersReady"):
        pod.status.conditions.add(type=kind, status="True")
    await client.pods.update_status(pod)


async def _all_ready(client: Client, ns: str, app: str, count: int) -> None:
    async def ready() -> bool:
        pods = [p for p in await _pods(client, ns, app) if not p.metadata.deletion_timestamp]
        for i, pod in enumerate(pods):
            if pod.status.phase != "Running":
                await _ready(client, pod, f"10.244.77.{i + 10}")
        return len(pods) == count and all(p.status.phase == "Running" for p in pods)

    await eventually(ready, timeout=60, what=f"{count} ready pods of {app}")


def _refused(decisions: list[Decided]) -> list[Decided]:
    return [
        d
        for d in decisions
        if not d.allowed
        and (d.user.startswith(PREFIX) or d.user == "system:kube-controller-manager")
    ]


async def test_the_controllers_accounts_are_made_in_kube_system(
    cluster: RestCluster, manager: ComponentProcess
) -> None:
    client = cluster.grpc

    async def made() -> bool:
        names = {a.metadata.name for a in (await client.serviceaccounts.list("kube-system")).items}
        return set(SERVICE_ACCOUNTS.values()) <= names

    await eventually(made, timeout=60, what="every controller's service account")


async def test_workloads_are_run_by_their_controllers_accounts(
    cluster: RestCluster, manager: ComponentProcess, decisions: list[Decided]
) -> None:
    client = cluster.grpc
    ns = await new_namespace(client, "sa-creds-")

    async def namespace_set_up() -> bool:
        # What the namespace's controllers make of a new namespace (its default account, its
        # CA bundle), awaited: deleted before they came, the namespace would never get them.
        try:
            await client.serviceaccounts.get("default", ns)
            await client.configmaps.get("kube-root-ca.crt", ns)
        except grpc.aio.AioRpcError as e:
            if is_not_found(e):
                return False
            raise
        return True

    try:
        await eventually(namespace_set_up, timeout=60, what=f"namespace {ns}'s account and CA")
        await _replica_set_and_garbage_collection(client, ns, decisions)
        await _deployment_rollout(client, ns)
        await _job_completion(client, ns)
        await _service_endpoints(client, ns, decisions)
        await _daemon_set_and_stateful_set(client, ns, decisions)
    except AssertionError as e:
        raise AssertionError(
            f"{e}\nthe controller-manager's output:\n{manager.output()[-6000:]}"
        ) from e
    finally:
        await client.namespaces.delete(ns)
        with contextlib.suppress(grpc.aio.AioRpcError):
            await client.nodes.delete(NODE)

    async def gone() -> bool:
        try:
            await client.namespaces.get(ns)
        except grpc.aio.AioRpcError as e:
            return is_not_found(e)
        return False

    # The namespace controller, as namespace-controller, empties and finalizes it.
    await eventually(gone, timeout=60, what=f"namespace {ns} emptied and removed")
    assert ("namespace-controller", "update", "namespaces") in _calls(decisions, ns="")
    # Each namespace's default account and CA bundle, by their controllers' accounts.
    assert ("service-account-controller", "create", "serviceaccounts") in _calls(decisions, ns)
    assert ("root-ca-cert-publisher", "create", "configmaps") in _calls(decisions, ns)
    assert _refused(decisions) == []


def _calls(decisions: list[Decided], ns: str) -> set[tuple[str, str, str]]:
    """(account, verb, resource) of the allowed requests the controllers' accounts made in
    `ns` ("" : cluster-scoped)."""
    return {
        (d.user.removeprefix(PREFIX), d.verb, d.resource)
        for d in decisions
        if d.user.startswith(PREFIX) and d.allowed and d.namespace == ns
    }


async def _replica_set_and_garbage_collection(
    client: Client, ns: str, decisions: list[Decided]
) -> None:
    rs = await client.replicasets.create(
        _object(
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {"name": "web", "namespace": ns},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": _template("web"),
                },
            }
        )
    )

    async def two() -> bool:
        return len(await _pods(client, ns, "web")) == 2

    await eventually(two, timeout=60, what="the ReplicaSet's two pods")
    creators = {
        d.user for d in decisions if (d.verb, d.resource, d.namespace) == ("create", "pods", ns)
    }
    assert creators == {PREFIX + "replicaset-controller"}
    # An orphan of the ReplicaSet, adopted (the controller's update of the pod).
    orphan = _object(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "stray", "namespace": ns},
            "spec": _template("web")["spec"],
        }
    )
    orphan.metadata.labels["app"] = "web"
    await client.pods.create(orphan)

    async def adopted_and_scaled() -> bool:
        pods = [p for p in await _pods(client, ns, "web") if not p.metadata.deletion_timestamp]
        return len(pods) == 2 and all(p.metadata.owner_references for p in pods)

    await eventually(
        adopted_and_scaled, timeout=60, what="the stray pod adopted, one too many gone"
    )
    # Deleted in the background: the garbage collector deletes its pods.
    await client.replicasets.delete("web", ns, uid=rs.metadata.uid)

    async def none_left() -> bool:
        return not await _pods(client, ns, "web")

    await eventually(none_left, timeout=60, what="the ReplicaSet's pods collected")
    assert ("generic-garbage-collector", "delete", "pods") in _calls(decisions, ns)


async def _deployment_rollout(client: Client, ns: str) -> None:
    deployment = _object(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "api", "namespace": ns},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "api"}},
                "template": _template("api"),
            },
        }
    )
    await client.deployments.create(deployment)
    await _all_ready(client, ns, "api", 2)

    async def template_changed() -> bool:
        # Read and written again while the deployment controller writes its status.
        live = await client.deployments.get("api", ns)
        live.spec.template.metadata.annotations["rollout"] = "2"
        try:
            await client.deployments.update(live)
        except grpc.aio.AioRpcError as e:
            if is_conflict(e):
                return False
            raise
        return True

    await eventually(template_changed, timeout=30, what="the Deployment's template changed")

    async def rolled_out() -> bool:
        await _all_ready_once(client, ns, "api")
        d = await client.deployments.get("api", ns)
        s = d.status
        return (
            s.observed_generation == d.metadata.generation
            and s.updated_replicas == 2
            and s.available_replicas == 2
            and s.replicas == 2
        )

    await eventually(rolled_out, timeout=90, what="the Deployment rolled out")


async def _all_ready_once(client: Client, ns: str, app: str) -> None:
    for i, pod in enumerate(await _pods(client, ns, app)):
        if pod.status.phase != "Running" and not pod.metadata.deletion_timestamp:
            await _ready(client, pod, f"10.244.78.{i + 10}")


async def _job_completion(client: Client, ns: str) -> None:
    await client.jobs.create(
        _object(
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {"name": "once", "namespace": ns},
                "spec": {
                    "template": {
                        **_template("once"),
                        "spec": {**_template("once")["spec"], "restartPolicy": "Never"},
                    }
                },
            }
        )
    )

    async def one_pod() -> core_pb2.Pod | None:
        pods = await _pods(client, ns, "once")
        return pods[0] if len(pods) == 1 else None

    pod = await eventually(one_pod, timeout=60, what="the Job's pod")
    pod.status.phase = "Succeeded"
    await client.pods.update_status(pod)

    async def complete() -> bool:
        job = await client.jobs.get("once", ns)
        done = any(c.type == "Complete" and c.status == "True" for c in job.status.conditions)
        pods = await _pods(client, ns, "once")
        # The tracking finalizer removed from the finished pod (job-controller's update).
        return done and all(not p.metadata.finalizers for p in pods)

    await eventually(complete, timeout=60, what="the Job complete, its pod's finalizer gone")


async def _service_endpoints(client: Client, ns: str, decisions: list[Decided]) -> None:
    await client.replicasets.create(
        _object(
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {"name": "backend", "namespace": ns},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": {"app": "backend"}},
                    "template": _template("backend"),
                },
            }
        )
    )
    await _all_ready(client, ns, "backend", 1)
    await client.services.create(
        _object(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "backend", "namespace": ns},
                "spec": {"selector": {"app": "backend"}, "ports": [{"port": 80}]},
            }
        )
    )

    async def addressed() -> bool:
        try:
            endpoints = await client.endpoints.get("backend", ns)
        except Exception as e:
            if is_not_found(e):
                return False
            raise
        # (An unscheduled pod has an address but no node: the slice lists no endpoint.)
        slices = (await client.endpointslices.list(ns)).items
        return bool(endpoints.subsets and endpoints.subsets[0].addresses and slices)

    await eventually(addressed, timeout=60, what="the Service's Endpoints and EndpointSlice")
    calls = _calls(decisions, ns)
    assert ("endpoint-controller", "create", "endpoints") in calls
    assert ("endpointslice-controller", "create", "endpointslices") in calls


async def _daemon_set_and_stateful_set(client: Client, ns: str, decisions: list[Decided]) -> None:
    node = core_pb2.Node(metadata=meta_pb2.ObjectMeta(name=NODE))
    node.status.conditions.add(type="Ready", status="True")
    await client.nodes.create(node)
    await client.daemonsets.create(
        _object(
            {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "metadata": {"name": "agent", "namespace": ns},
                "spec": {
                    "selector": {"matchLabels": {"app": "agent"}},
                    "template": _template("agent"),
                },
            }
        )
    )
    await client.statefulsets.create(
        _object(
            {
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "metadata": {"name": "db", "namespace": ns},
                "spec": {
                    "replicas": 1,
                    "serviceName": "db",
                    "selector": {"matchLabels": {"app": "db"}},
                    "template": _template("db"),
                },
            }
        )
    )

    async def both() -> bool:
        agents = [p for p in await _pods(client, ns, "agent") if p.spec.affinity.node_affinity]
        return bool(agents) and len(await _pods(client, ns, "db")) == 1

    await eventually(both, timeout=60, what="the DaemonSet's and the StatefulSet's pods")
    calls = _calls(decisions, ns)
    assert ("daemon-set-controller", "create", "pods") in calls
    assert ("statefulset-controller", "create", "pods") in calls
