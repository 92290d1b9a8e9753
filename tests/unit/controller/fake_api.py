"""An in-memory apiserver for controller unit tests whose watch events reach informers only when
the test delivers them, so that a test can hold a controller's cache behind its own writes."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from typing import Generic, Protocol, Self, TypeVar

import grpc
from google.protobuf.message import Message

from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.api.apps.v1 import apps_pb2
from podplane.api.autoscaling.v2 import autoscaling_pb2
from podplane.api.batch.v1 import batch_pb2
from podplane.api.certificates.v1 import certificates_pb2
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.policy.v1 import policy_pb2
from podplane.api.rbac.v1 import rbac_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.resources import Resource
from tests.unit import waiting

CREATED_AT = "2026-11-21T15:00:00Z"


class Stored(Protocol):
    """What the fake reads and writes of every object: an API message with metadata."""

    @property
    def metadata(self) -> meta_pb2.ObjectMeta: ...

    def CopyFrom(self, other_msg: Self) -> None: ...


T = TypeVar("T", bound=Stored)


def rpc_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


class FakeWatch:
    def __init__(self, queue: asyncio.Queue[Message]) -> None:
        self._queue = queue

    def __aiter__(self) -> FakeWatch:
        return self

    async def __anext__(self) -> Message:
        return await self._queue.get()

    def cancel(self) -> None:
        pass


class FakeApi(Generic[T]):
    """The ResourceClient of one kind: `resource` says which, T its message."""

    def __init__(self, resource: Resource, revisions: itertools.count[int]) -> None:
        self.resource = resource
        self.store: dict[str, T] = {}
        self.created: list[T] = []
        # Creates refused because the name was taken (ALREADY_EXISTS).
        self.refused_creates = 0
        self.deleted: list[str] = []
        # Every delete asked for, including those of objects already gone.
        self.delete_calls: list[str] = []
        self.status_updates: list[T] = []
        self._revisions = revisions
        self._names = itertools.count(1)
        self._pending: list[Message] = []
        self._watchers: list[asyncio.Queue[Message]] = []

    def _event(self, type_: str, obj: T) -> None:
        event = self.resource.watch_event()
        event.type = type_
        event.object.CopyFrom(obj)
        self._pending.append(event)

    def deliver(self) -> None:
        """Sends the watch events of every write so far to the informers."""
        for event in self._pending:
            for q in self._watchers:
                q.put_nowait(event)
        self._pending.clear()

    def _save(self, obj: T) -> T:
        stored = type(obj)()
        stored.CopyFrom(obj)
        stored.metadata.resource_version = str(next(self._revisions))
        self.store[f"{stored.metadata.namespace}/{stored.metadata.name}"] = stored
        return stored

    @staticmethod
    def _copy(obj: T) -> T:
        """What a call answers: the caller's own message, as over the wire."""
        out = type(obj)()
        out.CopyFrom(obj)
        return out

    async def create(self, obj: T) -> T:
        meta = obj.metadata
        new = type(obj)()
        new.CopyFrom(obj)
        if not meta.name:
            new.metadata.name = f"{meta.generate_name}{next(self._names):05d}"
        elif f"{meta.namespace}/{meta.name}" in self.store:
            self.refused_creates += 1
            raise rpc_error(
                grpc.StatusCode.ALREADY_EXISTS,
                f'{self.resource.plural} "{meta.name}" already exists',
            )
        new.metadata.uid = new.metadata.uid or f"uid-{new.metadata.name}"
        new.metadata.creation_timestamp = new.metadata.creation_timestamp or CREATED_AT
        new.metadata.generation = new.metadata.generation or 1
        stored = self._save(new)
        self.created.append(stored)
        self._event("ADDED", stored)
        return stored

    async def get(self, name: str, namespace: str = "") -> T:
        try:
            return self.store[f"{namespace}/{name}"]
        except KeyError:
            raise rpc_error(
                grpc.StatusCode.NOT_FOUND, f'{self.resource.plural} "{name}" not found'
            ) from None

    async def update(self, obj: T) -> T:
        live = await self.get(obj.metadata.name, obj.metadata.namespace)
        if obj.metadata.resource_version != live.metadata.resource_version:
            raise rpc_error(grpc.StatusCode.ABORTED, "the object has been modified")
        stored = self._save(obj)
        self._event("MODIFIED", stored)
        return self._copy(stored)

    async def update_status(self, obj: T) -> T:
        stored = await self.update(obj)
        self.status_updates.append(self._copy(stored))
        return stored

    async def update_approval(self, obj: T) -> T:
        return await self.update_status(obj)

    async def delete(self, name: str, namespace: str = "", **_: object) -> T:
        self.delete_calls.append(name)
        obj = await self.get(name, namespace)
        del self.store[f"{namespace}/{name}"]
        self.deleted.append(name)
        self._event("DELETED", obj)
        return obj

    async def list_all(self, namespace: str = "", **_: object) -> tuple[list[T], str]:
        return list(self.store.values()), "1"

    def watch(self, namespace: str = "", **_: object) -> FakeWatch:
        q: asyncio.Queue[Message] = asyncio.Queue()
        self._watchers.append(q)
        return FakeWatch(q)


class FinalizingFakeApi(FakeApi[T]):
    """A kind whose objects the apiserver holds while they have finalizers, as it does: a delete
    only marks the object (deletionTimestamp), and the update that removes its last finalizer
    removes it. With `graceful`, a deleted object also stays until `release` (a pod's kubelet
    stopping it)."""

    def __init__(
        self, resource: Resource, revisions: itertools.count[int], *, graceful: bool = False
    ) -> None:
        super().__init__(resource, revisions)
        self.graceful = graceful
        self.held: set[str] = set()

    def _remove_if_due(self, key: str) -> None:
        obj = self.store.get(key)
        if obj is None or not obj.metadata.deletion_timestamp:
            return
        if obj.metadata.finalizers or key in self.held:
            return
        del self.store[key]
        self.deleted.append(obj.metadata.name)
        self._event("DELETED", obj)

    async def delete(self, name: str, namespace: str = "", **_: object) -> T:
        self.delete_calls.append(name)
        obj = await self.get(name, namespace)
        key = f"{namespace}/{name}"
        if not obj.metadata.deletion_timestamp:
            marked = type(obj)()
            marked.CopyFrom(obj)
            marked.metadata.deletion_timestamp = CREATED_AT
            if self.graceful:
                self.held.add(key)
            obj = self._save(marked)
            self._event("MODIFIED", obj)
        self._remove_if_due(key)
        return obj

    async def update(self, obj: T) -> T:
        stored = await super().update(obj)
        self._remove_if_due(f"{obj.metadata.namespace}/{obj.metadata.name}")
        return stored

    def release(self, name: str, namespace: str) -> None:
        """The graceful deletion is over (the kubelet's delete with grace period 0)."""
        key = f"{namespace}/{name}"
        self.held.discard(key)
        self._remove_if_due(key)


class FakeCluster:
    """What the controllers use of podplane.client.clientset.Client."""

    def __init__(self) -> None:
        revisions = itertools.count(2)
        self.pods: FakeApi[core_pb2.Pod] = FakeApi(resources.POD, revisions)
        self.replicasets: FakeApi[apps_pb2.ReplicaSet] = FakeApi(resources.REPLICA_SET, revisions)
        self.replicationcontrollers: FakeApi[core_pb2.ReplicationController] = FakeApi(
            resources.REPLICATION_CONTROLLER, revisions
        )
        self.events: FakeApi[core_pb2.Event] = FakeApi(resources.EVENT, revisions)
        self.persistentvolumes: FakeApi[core_pb2.PersistentVolume] = FakeApi(
            resources.PERSISTENT_VOLUME, revisions
        )
        self.persistentvolumeclaims: FakeApi[core_pb2.PersistentVolumeClaim] = FakeApi(
            resources.PERSISTENT_VOLUME_CLAIM, revisions
        )
        self.storageclasses: FakeApi[storage_pb2.StorageClass] = FakeApi(
            resources.STORAGE_CLASS, revisions
        )
        self.nodes: FakeApi[core_pb2.Node] = FakeApi(resources.NODE, revisions)
        self.services: FakeApi[service_pb2.Service] = FakeApi(resources.SERVICE, revisions)
        self.endpoints: FakeApi[service_pb2.Endpoints] = FakeApi(resources.ENDPOINTS, revisions)
        self.endpointslices: FakeApi[discovery_pb2.EndpointSlice] = FakeApi(
            resources.ENDPOINT_SLICE, revisions
        )
        self.clusterroles: FakeApi[rbac_pb2.ClusterRole] = FakeApi(
            resources.CLUSTER_ROLE, revisions
        )
        self.namespaces: FakeApi[core_pb2.Namespace] = FakeApi(resources.NAMESPACE, revisions)
        self.configmaps: FakeApi[core_pb2.ConfigMap] = FakeApi(resources.CONFIG_MAP, revisions)
        self.serviceaccounts: FakeApi[core_pb2.ServiceAccount] = FakeApi(
            resources.SERVICE_ACCOUNT, revisions
        )
        self.deployments: FakeApi[apps_pb2.Deployment] = FakeApi(resources.DEPLOYMENT, revisions)
        self.statefulsets: FakeApi[apps_pb2.StatefulSet] = FakeApi(
            resources.STATEFUL_SET, revisions
        )
        self.poddisruptionbudgets: FakeApi[policy_pb2.PodDisruptionBudget] = FakeApi(
            resources.POD_DISRUPTION_BUDGET, revisions
        )
        self.daemonsets: FakeApi[apps_pb2.DaemonSet] = FakeApi(resources.DAEMON_SET, revisions)
        self.controllerrevisions: FakeApi[apps_pb2.ControllerRevision] = FakeApi(
            resources.CONTROLLER_REVISION, revisions
        )
        self.jobs: FakeApi[batch_pb2.Job] = FakeApi(resources.JOB, revisions)
        self.cronjobs: FakeApi[batch_pb2.CronJob] = FakeApi(resources.CRON_JOB, revisions)
        self.customresourcedefinitions: FakeApi[apiextensions_pb2.CustomResourceDefinition] = (
            FakeApi(resources.CUSTOM_RESOURCE_DEFINITION, revisions)
        )
        self.certificatesigningrequests: FakeApi[certificates_pb2.CertificateSigningRequest] = (
            FakeApi(resources.CERTIFICATE_SIGNING_REQUEST, revisions)
        )
        self.secrets: FakeApi[core_pb2.Secret] = FakeApi(resources.SECRET, revisions)
        self.horizontalpodautoscalers: FakeApi[autoscaling_pb2.HorizontalPodAutoscaler] = FakeApi(
            resources.HORIZONTAL_POD_AUTOSCALER, revisions
        )

    def for_resource(self, resource: Resource) -> FakeApi[Stored]:
        api: FakeApi[Stored] = getattr(self, resource.plural)
        return api

    def deliver(self, *kinds: Resource) -> None:
        """The pending watch events of `kinds`; by default of every kind it holds."""
        for resource in kinds or (
            resources.POD,
            resources.REPLICA_SET,
            resources.REPLICATION_CONTROLLER,
            resources.EVENT,
            resources.PERSISTENT_VOLUME,
            resources.PERSISTENT_VOLUME_CLAIM,
            resources.STORAGE_CLASS,
            resources.NODE,
            resources.CLUSTER_ROLE,
            resources.NAMESPACE,
            resources.CONFIG_MAP,
            resources.SERVICE_ACCOUNT,
            resources.DEPLOYMENT,
            resources.STATEFUL_SET,
            resources.POD_DISRUPTION_BUDGET,
            resources.DAEMON_SET,
            resources.CONTROLLER_REVISION,
            resources.JOB,
            resources.CRON_JOB,
            resources.CUSTOM_RESOURCE_DEFINITION,
            resources.CERTIFICATE_SIGNING_REQUEST,
            resources.SECRET,
            resources.HORIZONTAL_POD_AUTOSCALER,
        ):
            self.for_resource(resource).deliver()


async def until(check: Callable[[], bool], what: str, cluster: FakeCluster) -> None:
    """Delivers the cluster's watch events until `check` holds (tests/unit/waiting.py)."""
    await waiting.until(check, what, each=cluster.deliver)


class Runnable(Protocol):
    async def run(self) -> None: ...


@contextlib.asynccontextmanager
async def running(controller: Runnable) -> AsyncIterator[None]:
    """The controller's run() as a task for the block, cancelled after it."""
    task = asyncio.create_task(controller.run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
