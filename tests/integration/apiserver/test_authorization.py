"""Authorization on the real apiserver over real etcd, callers authenticated for real (client
certificates from a test CA, a bearer token for the viewer): every forbidden action is refused with
PERMISSION_DENIED and changes nothing, the allowed ones work; baseline Pod Security refuses a
privileged pod; a secret's value appears in no log line and no error."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio

from apiserver.options import secure_serving
from apiserver.server import APIServer
from podplane.api.coordination.v1 import lease_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.client import credentials as credentials_module
from podplane.client.clientset import Client
from podplane.client.streams import BindStream, EventStream, PodCreateStream
from podplane.componentbase import pki
from tests.integration.control_plane import TEST_DISABLED_ADMISSION_PLUGINS
from tests.support import EtcdProcess

NODE1, NODE2 = "authz-node-1", "authz-node-2"
SECRET_VALUE = b"hunter2-" + uuid.uuid4().hex.encode()


@dataclass
class Callers:
    admin: Client
    viewer: Client
    scheduler: Client
    controllers: Client
    node1: Client
    node2: Client


@pytest_asyncio.fixture(scope="module")
async def callers(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Callers]:
    certs: Path = tmp_path_factory.mktemp("pki")
    pki.build(certs, [NODE1, NODE2])
    security = secure_serving.SecureServing(
        cert_file=str(certs / "apiserver.crt"),
        key_file=str(certs / "apiserver.key"),
        client_ca_file=str(certs / "ca.crt"),
        token_auth_file=str(certs / "tokens.csv"),
        token_address="127.0.0.1:0",
    )
    options: dict[str, Any] = {
        "security": security,
        "disable_admission_plugins": TEST_DISABLED_ADMISSION_PLUGINS,
    }
    server = APIServer([etcd.endpoint], "127.0.0.1:0", **options)
    await server.start(etcd_timeout=20)
    ca = str(certs / "ca.crt")

    def cert_client(name: str) -> Client:
        creds = credentials_module.Credentials(
            ca, str(certs / f"{name}.crt"), str(certs / f"{name}.key")
        )
        return Client(f"127.0.0.1:{server.port}", timeout=10, credentials=creds)

    token = (certs / "viewer.token").read_text().strip()
    viewer = Client(
        f"127.0.0.1:{server.token_port}",
        timeout=10,
        credentials=credentials_module.Credentials(ca, token=token),
    )
    c = Callers(
        cert_client("admin"),
        viewer,
        cert_client("scheduler"),
        cert_client("controller-manager"),
        cert_client(NODE1),
        cert_client(NODE2),
    )
    try:
        yield c
    finally:
        for client in (c.admin, c.viewer, c.scheduler, c.controllers, c.node1, c.node2):
            await client.close()
        await server.stop(0)


async def denied(call: Awaitable[Any]) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED, refused.value.details()
    return str(refused.value.details())


def _pod(name: str, ns: str, node: str = "", secret: str = "") -> core_pb2.Pod:
    pod = core_pb2.Pod(metadata=meta_pb2.ObjectMeta(name=name, namespace=ns))
    pod.spec.node_name = node
    c = pod.spec.containers.add(name="c", image="busybox")
    if secret:
        var = c.env.add(name="PASSWORD")
        var.value_from.secret_key_ref.name, var.value_from.secret_key_ref.key = secret, "password"
    return pod


def _secret(name: str, ns: str) -> core_pb2.Secret:
    s = core_pb2.Secret(metadata=meta_pb2.ObjectMeta(name=name, namespace=ns), type="Opaque")
    s.data["password"] = SECRET_VALUE
    return s


def _node(name: str) -> core_pb2.Node:
    return core_pb2.Node(metadata=meta_pb2.ObjectMeta(name=name))


def _lease(name: str) -> lease_pb2.Lease:
    lease = lease_pb2.Lease(metadata=meta_pb2.ObjectMeta(name=name, namespace="kube-node-lease"))
    lease.spec.holder_identity = name
    return lease


async def _first_event(stream: Any) -> Any:
    """The first event of a watch (a refused watch fails on it); the stream is cancelled after."""
    try:
        async for event in stream:
            return event
    finally:
        stream.cancel()
    return None


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 5.0) -> Any:
    """The node authorizer reads the watch cache, a moment behind a write."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await check()
        except grpc.aio.AioRpcError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)


@pytest_asyncio.fixture(scope="module")
async def world(callers: Callers) -> str:
    """A namespace with a pod on each node, a secret the node-1 pod uses and one no pod uses,
    each node's Node and Lease written by the node itself."""
    ns = f"authz-{uuid.uuid4().hex[:6]}"
    admin = callers.admin
    await admin.namespaces.create(core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=ns)))
    await admin.secrets.create(_secret("used-by-1", ns))
    await admin.secrets.create(_secret("unused", ns))
    await admin.pods.create(_pod("on-1", ns, NODE1, secret="used-by-1"))
    await admin.pods.create(_pod("on-2", ns, NODE2))
    for client, name in ((callers.node1, NODE1), (callers.node2, NODE2)):
        await client.nodes.create(_node(name))
        await client.leases.create(_lease(name))
    return ns


async def test_viewer_reads_everything_but_secrets_and_writes_nothing(
    callers: Callers, world: str
) -> None:
    viewer, ns = callers.viewer, world
    assert (await viewer.pods.get("on-1", ns)).spec.node_name == NODE1
    assert {p.metadata.name for p in (await viewer.pods.list(ns)).items} == {"on-1", "on-2"}
    assert await denied(viewer.pods.create(_pod("mine", ns))) == (
        f'pods is forbidden: User "viewer" cannot create resource "pods" in API group "" in the '
        f'namespace "{ns}"'
    )
    pod = await viewer.pods.get("on-1", ns)
    pod.metadata.labels["x"] = "y"
    await denied(viewer.pods.update(pod))
    await denied(viewer.pods.delete("on-1", ns))
    assert await denied(viewer.secrets.get("used-by-1", ns)) == (
        f'secrets "used-by-1" is forbidden: User "viewer" cannot get resource "secrets" in API '
        f'group "" in the namespace "{ns}"'
    )
    await denied(viewer.secrets.list(ns))
    await denied(_first_event(viewer.secrets.watch(ns)))
    pods_watch = viewer.pods.watch(ns)
    assert (await _first_event(pods_watch)) is not None
    await denied(viewer.namespaces.delete(ns))
    assert "x" not in (await callers.admin.pods.get("on-1", ns)).metadata.labels


async def test_node_changes_only_its_own_node_and_lease(callers: Callers, world: str) -> None:
    node1 = callers.node1
    other = await node1.nodes.get(NODE2)  # nodes are readable
    other.metadata.labels["hijacked"] = "true"
    assert await denied(node1.nodes.update(other)) == (
        f'nodes "{NODE2}" is forbidden: node "{NODE1}" is not allowed to modify node "{NODE2}"'
    )
    other.status.phase = "Hijacked"
    await denied(node1.nodes.update_status(other))
    await denied(node1.nodes.delete(NODE2))
    await denied(node1.nodes.create(_node("authz-node-3")))
    stored = await callers.admin.nodes.get(NODE2)
    assert "hijacked" not in stored.metadata.labels and stored.status.phase != "Hijacked"

    lease = await callers.admin.leases.get(NODE2, "kube-node-lease")
    lease.spec.holder_identity = NODE1
    assert await denied(node1.leases.update(lease)) == (
        f'leases.coordination.k8s.io "{NODE2}" is forbidden: User "system:node:{NODE1}" cannot '
        f'update resource "leases" in API group "coordination.k8s.io" in the namespace '
        f'"kube-node-lease": can only access node lease with the same name as the requesting node'
    )
    await denied(node1.leases.get(NODE2, "kube-node-lease"))
    await denied(node1.leases.delete(NODE2, "kube-node-lease"))

    own = await node1.nodes.get(NODE1)
    own.status.phase = "Running"
    assert (await node1.nodes.update_status(own)).status.phase == "Running"
    own_lease = await node1.leases.get(NODE1, "kube-node-lease")
    own_lease.spec.lease_duration_seconds = 40
    assert (await node1.leases.update(own_lease)).spec.lease_duration_seconds == 40


async def test_node_writes_only_its_own_pods(callers: Callers, world: str) -> None:
    node1, ns = callers.node1, world
    theirs = await node1.pods.get("on-2", ns)
    theirs.status.phase = "Failed"
    assert await denied(node1.pods.update_status(theirs)) == (
        f'pods "on-2" is forbidden: node "{NODE1}" can only update pod status for pods with '
        f"spec.nodeName set to itself"
    )
    await denied(node1.pods.delete("on-2", ns))
    assert (await callers.admin.pods.get("on-2", ns)).status.phase != "Failed"
    ours = await node1.pods.get("on-1", ns)
    ours.metadata.labels["x"] = "y"
    await denied(node1.pods.update(ours))  # only the status
    await denied(node1.pods.create(_pod("not-a-mirror", ns, NODE1)))
    await denied(node1.bind(ns, "on-2", NODE1))
    ours = await node1.pods.get("on-1", ns)
    ours.status.phase = "Running"
    assert (await node1.pods.update_status(ours)).status.phase == "Running"
    event = core_pb2.Event(
        metadata=meta_pb2.ObjectMeta(generate_name="on-1.", namespace=ns),
        involved_object=core_pb2.ObjectReference(kind="Pod", name="on-1"),
        reason="Started",
        type="Normal",
    )
    assert (await node1.events.create(event)).metadata.name.startswith("on-1.")


async def test_node_reads_only_the_secrets_its_pods_use(callers: Callers, world: str) -> None:
    ns = world
    used = await eventually(lambda: callers.node1.secrets.get("used-by-1", ns))
    assert used.data["password"] == SECRET_VALUE
    assert await denied(callers.node1.secrets.get("unused", ns)) == (
        f'secrets "unused" is forbidden: User "system:node:{NODE1}" cannot get resource "secrets" '
        f'in API group "" in the namespace "{ns}": no relationship found between node '
        f"'{NODE1}' and this object"
    )
    await denied(callers.node2.secrets.get("used-by-1", ns))
    await denied(callers.node1.secrets.list(ns))
    await denied(callers.node1.deployments.list(ns))


async def test_components_keep_to_their_roles(callers: Callers, world: str) -> None:
    ns = world
    assert await denied(callers.scheduler.namespaces.delete(ns)) == (
        f'namespaces "{ns}" is forbidden: User "system:kube-scheduler" cannot delete resource '
        f'"namespaces" in API group "" at the cluster scope'
    )
    await denied(callers.scheduler.secrets.get("unused", ns))
    await denied(callers.scheduler.pods.create(_pod("by-scheduler", ns)))
    await callers.controllers.pods.create(_pod("pending", ns))
    await denied(callers.controllers.bind(ns, "pending", NODE1))
    await callers.scheduler.bind(ns, "pending", NODE1)
    assert (await callers.controllers.pods.get("pending", ns)).spec.node_name == NODE1
    # The namespace controller and the garbage collector read (and delete) every kind, secrets
    # included, as Kubernetes' do; creating nodes is none of the controllers' business.
    await denied(callers.controllers.nodes.create(_node("authz-node-9")))


async def test_the_streams_authorize_each_request_as_its_call(callers: Callers, world: str) -> None:
    """Over TLS with certificates: the scheduler binds and records events over its streams; the
    same streams opened by the controllers have each binding refused as their Bind would be; a
    pod create stream the scheduler opens has each pod refused as its Create would be."""
    ns = world
    for name in ("streamed-1", "streamed-2"):
        await callers.controllers.pods.create(_pod(name, ns))
    refused_binds = BindStream(callers.controllers)
    binds = BindStream(callers.scheduler)
    events = EventStream(callers.scheduler)
    refused_creates = PodCreateStream(callers.scheduler)
    try:
        assert await denied(refused_creates.create(_pod("by-scheduler", ns))) == (
            f'pods is forbidden: User "system:kube-scheduler" cannot create resource "pods" '
            f'in API group "" in the namespace "{ns}"'
        )
        assert 'cannot create resource "pods/binding"' in await denied(
            refused_binds.bind(ns, "streamed-1", NODE1)
        )
        await asyncio.gather(*(binds.bind(ns, n, NODE1) for n in ("streamed-1", "streamed-2")))
        await events.create(
            core_pb2.Event(
                metadata=meta_pb2.ObjectMeta(name="streamed-1.scheduled", namespace=ns),
                involved_object=core_pb2.ObjectReference(
                    kind="Pod", namespace=ns, name="streamed-1"
                ),
                reason="Scheduled",
                type="Normal",
                count=1,
            )
        )
    finally:
        for stream in (refused_binds, binds, events, refused_creates):
            await stream.close()
    for name in ("streamed-1", "streamed-2"):
        assert (await callers.controllers.pods.get(name, ns)).spec.node_name == NODE1
    assert (await callers.admin.events.get("streamed-1.scheduled", ns)).reason == "Scheduled"


async def test_baseline_namespace_refuses_privileged_pods(callers: Callers) -> None:
    ns = f"baseline-{uuid.uuid4().hex[:6]}"
    labelled = core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=ns))
    labelled.metadata.labels["pod-security.kubernetes.io/enforce"] = "baseline"
    await callers.admin.namespaces.create(labelled)
    privileged = _pod("x", ns)
    privileged.spec.containers[0].security_context.privileged = True
    assert await denied(callers.admin.pods.create(privileged)) == (
        'pods "x" is forbidden: violates PodSecurity "baseline:latest": privileged (container '
        '"c" must not set securityContext.privileged=true)'
    )
    with pytest.raises(grpc.aio.AioRpcError):
        await callers.admin.pods.get("x", ns)
    assert (await callers.admin.pods.create(_pod("plain", ns))).metadata.name == "plain"
    debug = await callers.admin.pods.get("plain", ns)
    debug.spec.ephemeral_containers.add(name="debugger", image="busybox", target_container_name="c")
    debug.spec.ephemeral_containers[0].security_context.privileged = True
    assert "violates PodSecurity" in await denied(callers.admin.update_ephemeral_containers(debug))
    assert not (await callers.admin.pods.get("plain", ns)).spec.ephemeral_containers


async def test_secret_values_are_never_logged(
    callers: Callers, world: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ns = world
    s = await callers.admin.secrets.create(_secret("logged", ns))
    s.immutable = True
    s = await callers.admin.secrets.update(s)
    s.data["password"] = SECRET_VALUE + b"-changed"
    with pytest.raises(grpc.aio.AioRpcError) as invalid:
        await callers.admin.secrets.update(s)  # immutable: refused, and says so without values
    assert SECRET_VALUE.decode() not in str(invalid.value.details())
    bad = _secret("dockercfg", ns)
    bad.type = "kubernetes.io/dockercfg"
    bad.data[".dockercfg"] = SECRET_VALUE
    with pytest.raises(grpc.aio.AioRpcError) as invalid:
        await callers.admin.secrets.create(bad)
    assert SECRET_VALUE.decode() not in str(invalid.value.details())
    await callers.node1.secrets.get("used-by-1", ns)
    await denied(callers.viewer.secrets.get("logged", ns))
    assert SECRET_VALUE.decode() not in caplog.text
