"""Deleting things as Kubernetes does, on the real apiserver over real etcd: graceful pod deletion,
finalizers, namespaces that must exist and that take their content with them, and generation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import pytest_asyncio

from controller.namespace.controller import NamespaceController
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest, timeutil
from podplane.client.clientset import Client
from podplane.client.informer_factory import SharedInformerFactory
from tests.support import eventually, new_namespace


def pod(
    name: str, namespace: str, *, grace: int | None = None, finalizers: tuple[str, ...] = ()
) -> core_pb2.Pod:
    spec: dict[str, object] = {"containers": [{"name": "main", "image": "busybox:1.36"}]}
    if grace is not None:
        spec["terminationGracePeriodSeconds"] = grace
    obj = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "spec": spec,
            "metadata": {"name": name, "namespace": namespace, "finalizers": list(finalizers)},
        }
    )
    assert isinstance(obj, core_pb2.Pod)
    return obj


async def bound_pod(
    client: Client, name: str, namespace: str, grace: int | None = None
) -> core_pb2.Pod:
    await client.pods.create(pod(name, namespace, grace=grace))
    await client.bind(namespace, name, "node-a")
    return await client.pods.get(name, namespace)


async def gone(client: Client, name: str, namespace: str) -> bool:
    try:
        await client.pods.get(name, namespace)
        return False
    except grpc.aio.AioRpcError as e:
        return bool(e.code() == grpc.StatusCode.NOT_FOUND)


# ---------------------------------------------------------------------- graceful deletion
async def test_deleting_a_running_pod_marks_it_and_its_kubelet_finishes_it(client: Client) -> None:
    ns = await new_namespace(client)
    await bound_pod(client, "web", ns)
    before = datetime.now(UTC).replace(microsecond=0)  # the timestamp has whole seconds
    marked = await client.pods.delete("web", ns)
    after = datetime.now(UTC)
    # Still there, due in the pod's default grace period of 30 s from the delete.
    assert marked.metadata.deletion_grace_period_seconds == 30
    due = timeutil.parse(marked.metadata.deletion_timestamp)
    grace = timedelta(seconds=30)
    assert due is not None and before + grace <= due <= after + grace, due
    stored = await client.pods.get("web", ns)
    assert stored.metadata.deletion_timestamp == marked.metadata.deletion_timestamp
    # A bound pod being deleted cannot be bound again, and a second delete changes nothing.
    again = await client.pods.delete("web", ns)
    assert again.metadata.deletion_timestamp == marked.metadata.deletion_timestamp
    # The kubelet, having stopped the containers, deletes it for good with grace 0 and its uid.
    await client.pods.delete("web", ns, grace_period_seconds=0, uid=marked.metadata.uid)
    assert await gone(client, "web", ns)


async def test_a_shorter_grace_period_shortens_the_deletion_only(client: Client) -> None:
    ns = await new_namespace(client)
    await bound_pod(client, "web", ns, grace=60)
    first = await client.pods.delete("web", ns)
    assert first.metadata.deletion_grace_period_seconds == 60
    shorter = await client.pods.delete("web", ns, grace_period_seconds=5)
    assert shorter.metadata.deletion_grace_period_seconds == 5
    # 5 s from when the deletion started (60 s before it was due), not from now.
    due, was_due = (timeutil.parse(p.metadata.deletion_timestamp) for p in (shorter, first))
    assert due is not None and was_due is not None and due == was_due - timedelta(seconds=55)
    longer = await client.pods.delete("web", ns, grace_period_seconds=90)
    assert longer.metadata.deletion_grace_period_seconds == 5  # only shortened, never lengthened


async def test_unscheduled_and_finished_pods_and_force_delete_go_at_once(client: Client) -> None:
    ns = await new_namespace(client)
    await client.pods.create(pod("pending", ns))
    await client.pods.delete("pending", ns)
    assert await gone(client, "pending", ns)

    done = await bound_pod(client, "done", ns)
    done.status.phase = "Succeeded"
    await client.pods.update_status(done)
    await client.pods.delete("done", ns)
    assert await gone(client, "done", ns)

    await bound_pod(client, "forced", ns)
    await client.pods.delete("forced", ns, grace_period_seconds=0)
    assert await gone(client, "forced", ns)


async def test_a_uid_precondition_protects_a_newer_pod_of_the_same_name(client: Client) -> None:
    ns = await new_namespace(client)
    old = await bound_pod(client, "web", ns)
    await client.pods.delete("web", ns, grace_period_seconds=0)
    await bound_pod(client, "web", ns)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.pods.delete("web", ns, grace_period_seconds=0, uid=old.metadata.uid)
    assert err.value.code() == grpc.StatusCode.ABORTED
    assert "Precondition failed: UID in precondition" in (err.value.details() or "")
    assert not await gone(client, "web", ns)


# ---------------------------------------------------------------------- finalizers
async def test_finalizers_hold_deletion_until_removed(client: Client) -> None:
    ns = await new_namespace(client)
    await client.pods.create(pod("held", ns, finalizers=("example.com/cleanup",)))
    marked = await client.pods.delete("held", ns)
    assert marked.metadata.deletion_timestamp
    assert marked.metadata.deletion_grace_period_seconds == 0
    assert not await gone(client, "held", ns)

    # No new finalizer can be added once deletion started.
    adding = await client.pods.get("held", ns)
    adding.metadata.finalizers.append("example.com/more")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.pods.update(adding)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "metadata.finalizers: Forbidden: no new finalizers can be added" in (
        err.value.details() or ""
    )

    # Removing the last finalizer lets the deletion complete.
    current = await client.pods.get("held", ns)
    del current.metadata.finalizers[:]
    await client.pods.update(current)
    assert await gone(client, "held", ns)


async def test_owner_references_are_stored_as_given(client: Client) -> None:
    ns = await new_namespace(client)
    obj = pod("child", ns)
    obj.metadata.owner_references.append(
        meta_pb2.OwnerReference(
            api_version="apps/v1",
            kind="ReplicaSet",
            name="web-5d8f",
            uid="0b9e-uid",
            controller=True,
            block_owner_deletion=True,
        )
    )
    await client.pods.create(obj)
    stored = await client.pods.get("child", ns)
    assert list(stored.metadata.owner_references) == list(obj.metadata.owner_references)


# ---------------------------------------------------------------------- generation
async def test_generation_counts_spec_changes_only(client: Client) -> None:
    ns = await new_namespace(client)
    created = await client.pods.create(pod("gen", ns))
    assert created.metadata.generation == 1
    created.metadata.labels["tier"] = "web"  # metadata only
    relabelled = await client.pods.update(created)
    assert relabelled.metadata.generation == 1
    relabelled.spec.active_deadline_seconds = 600  # spec
    changed = await client.pods.update(relabelled)
    assert changed.metadata.generation == 2
    changed.status.phase = "Running"
    status_only = await client.pods.update_status(changed)
    assert status_only.metadata.generation == 2 and status_only.spec == changed.spec


# ---------------------------------------------------------------------- namespaces
@pytest_asyncio.fixture
async def namespace_controller(client: Client) -> AsyncIterator[NamespaceController]:
    controller = NamespaceController(client, SharedInformerFactory(client))
    task = asyncio.create_task(controller.run())
    yield controller
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_objects_are_refused_in_a_namespace_that_does_not_exist(client: Client) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.pods.create(pod("web", "no-such-namespace"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert err.value.details() == 'namespaces "no-such-namespace" not found'


async def test_system_namespaces_cannot_be_deleted(client: Client) -> None:
    for name in ("default", "kube-system", "kube-public"):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await client.namespaces.delete(name)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "this namespace may not be deleted" in (err.value.details() or "")


async def test_deleting_a_namespace_deletes_what_is_in_it(
    client: Client, namespace_controller: NamespaceController
) -> None:
    ns = await new_namespace(client)
    await client.pods.create(pod("pending", ns))
    await bound_pod(client, "running", ns, grace=3)
    other = await new_namespace(client)
    await client.pods.create(pod("bystander", other))

    deleting = await client.namespaces.delete(ns)
    assert deleting.metadata.deletion_timestamp and deleting.status.phase == "Terminating"
    assert list(deleting.spec.finalizers) == ["kubernetes"]
    # Nothing new in a terminating namespace.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.pods.create(pod("late", ns))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert f"unable to create new content in namespace {ns} because it is being terminated" in (
        err.value.details() or ""
    )

    # The controller deletes the content: the pending pod at once, the running one gracefully.
    await eventually(lambda: gone(client, "pending", ns), timeout=10, what="pending pod deleted")
    running = await eventually(lambda: client.pods.get("running", ns), timeout=10)
    await eventually(
        lambda: _marked(client, "running", ns),
        timeout=10,
        what="the running pod marked for deletion",
    )
    assert await client.namespaces.get(ns)  # held while a pod remains
    # Its kubelet finishes it; then the namespace goes.
    await client.pods.delete("running", ns, grace_period_seconds=0, uid=running.metadata.uid)

    async def namespace_gone() -> bool:
        try:
            await client.namespaces.get(ns)
            return False
        except grpc.aio.AioRpcError as e:
            return bool(e.code() == grpc.StatusCode.NOT_FOUND)

    await eventually(namespace_gone, timeout=15, what=f"namespace {ns} deleted")
    assert await client.pods.get("bystander", other)  # other namespaces untouched


async def _marked(client: Client, name: str, namespace: str) -> bool:
    return bool((await client.pods.get(name, namespace)).metadata.deletion_timestamp)


async def test_unknown_propagation_policy_is_refused(client: Client) -> None:
    ns = await new_namespace(client)
    await client.pods.create(pod("web", ns))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.pods.delete("web", ns, propagation_policy="Sometimes")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert 'propagationPolicy: Unsupported value: "Sometimes"' in (err.value.details() or "")
    assert not await gone(client, "web", ns)


# ---------------------------------------------------------------------- the name label
async def test_every_namespace_is_labelled_with_its_name_whatever_it_is_sent(
    client: Client,
) -> None:
    """kubernetes.io/metadata.name=<name>, as Kubernetes sets it (SetDefaults_Namespace and
    the strategy's Canonicalize): on create, on a generated name, and back on an update that
    changes or drops it; the other labels are the user's."""
    label = "kubernetes.io/metadata.name"
    named = await client.namespaces.create(
        core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name="labelled-ns", labels={"team": "a"}))
    )
    assert dict(named.metadata.labels) == {"team": "a", label: "labelled-ns"}
    generated = await client.namespaces.create(
        core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(generate_name="gen-ns-"))
    )
    assert dict(generated.metadata.labels) == {label: generated.metadata.name}
    named.metadata.labels[label] = "something-else"
    del named.metadata.labels["team"]
    updated = await client.namespaces.update(named)
    assert dict(updated.metadata.labels) == {label: "labelled-ns"}
    for name in ("labelled-ns", generated.metadata.name):
        await client.namespaces.delete(name)
