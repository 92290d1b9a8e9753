"""One resource's verbs over gRPC (client-go's typed clients): ResourceClient for a kind with a
service of its own, the watch stream it gives, and what a failed call's status means."""

from __future__ import annotations

import builtins
import collections
from typing import TYPE_CHECKING, Any, Generic, cast

import grpc
from google.protobuf.message import Message

from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery.meta import ObjectList, WatchEvent
from podplane.apimachinery.resources import Resource
from podplane.client.retry_after import call_with_retry

if TYPE_CHECKING:
    from typing_extensions import TypeVar

    T = TypeVar("T", bound=Message)
    # A bare WatchStream (its kind not known statically) streams untyped objects.
    W = TypeVar("W", bound=Message, default=Any)
else:  # type parameter defaults are a type checker's matter; Python 3.11's TypeVar has none
    from typing import TypeVar

    T = TypeVar("T", bound=Message)
    W = TypeVar("W", bound=Message)


def status_code(err: BaseException) -> grpc.StatusCode | None:
    if isinstance(err, grpc.aio.AioRpcError):
        code: grpc.StatusCode = err.code()
        return code
    return None


def is_not_found(err: BaseException) -> bool:
    return bool(status_code(err) == grpc.StatusCode.NOT_FOUND)


def is_already_exists(err: BaseException) -> bool:
    return bool(status_code(err) == grpc.StatusCode.ALREADY_EXISTS)


def is_conflict(err: BaseException) -> bool:
    """A stale resourceVersion (Kubernetes' 409 Conflict)."""
    return bool(status_code(err) == grpc.StatusCode.ABORTED)


def is_namespace_terminating(err: BaseException) -> bool:
    """A create refused because its namespace is being deleted (Kubernetes' Forbidden with the
    cause NamespaceTerminating): it keeps failing, and what it was for goes with the namespace."""
    return (
        isinstance(err, grpc.aio.AioRpcError)
        and err.code() == grpc.StatusCode.PERMISSION_DENIED
        and "being terminated" in (err.details() or "")
    )


class WatchStream(Generic[W]):
    """A server stream of watch events: iterate it; cancel() ends it. The watch is asked for
    batches (allow_watch_batches); they are unpacked here, so events come one by one."""

    def __init__(self, call: grpc.aio.UnaryStreamCall) -> None:
        self._call = call
        self._messages = call.__aiter__()
        self._batched: collections.deque[WatchEvent[W]] = collections.deque()

    def __aiter__(self) -> WatchStream[W]:
        return self

    async def __anext__(self) -> WatchEvent[W]:
        if self._batched:
            return self._batched.popleft()
        msg = await self._messages.__anext__()
        if not msg.events:
            event: WatchEvent[W] = msg
            return event
        self._batched.extend(msg.events)
        return self._batched.popleft()

    def cancel(self) -> None:
        self._call.cancel()


class ResourceClient(Generic[T]):
    """Create/Get/List/Watch/Update/UpdateStatus/Delete for one resource kind."""

    def __init__(self, channel: grpc.aio.Channel, resource: Resource[T], timeout: float) -> None:
        self.resource = resource
        self._stub = resource.stub(channel)
        self._timeout = timeout

    async def _call(self, method: str, request: Message) -> Message:
        # Every verb is retried when the apiserver refuses it as overloaded (RESOURCE_EXHAUSTED
        # with retry-after): it was refused before doing anything, so it cannot happen twice.
        rpc = getattr(self._stub, method)
        response: Message = await call_with_retry(
            lambda timeout: rpc(request, timeout=timeout, wait_for_ready=True), self._timeout
        )
        return response

    async def create(self, obj: T) -> T:
        return cast(T, await self._call("Create", obj))

    async def get(self, name: str, namespace: str = "", resource_version: str = "") -> T:
        """The object as stored now, or with resource_version "0" as the apiserver's watch cache
        holds it (no read of etcd: client-go's FromApiserverCache)."""
        request = meta_pb2.GetRequest(
            namespace=namespace, name=name, resource_version=resource_version
        )
        return cast(T, await self._call("Get", request))

    async def list(
        self,
        namespace: str = "",
        *,
        label_selector: str = "",
        field_selector: str = "",
        resource_version: str = "",
        limit: int = 0,
        continue_token: str = "",
    ) -> ObjectList[T]:
        """One page: the kind's List message (PodList, ...)."""
        return cast(
            ObjectList[T],
            await self._call(
                "List",
                meta_pb2.ListRequest(
                    namespace=namespace,
                    label_selector=label_selector,
                    field_selector=field_selector,
                    resource_version=resource_version,
                    limit=limit,
                    continue_token=continue_token,
                ),
            ),
        )

    async def list_all(
        self,
        namespace: str = "",
        *,
        label_selector: str = "",
        field_selector: str = "",
        page_size: int = 500,
        resource_version: str = "",
    ) -> tuple[builtins.list[T], str]:
        """Every matching object, following continue tokens; returns (items, list resourceVersion).
        resource_version "0" reads the apiserver's cache in one go (no pages)."""
        items: builtins.list[T] = []
        token = ""
        while True:
            page = await self.list(
                namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                limit=page_size,
                continue_token=token,
                resource_version=resource_version,
            )
            items.extend(page.items)
            token = page.metadata.continue_token
            if not token:
                return items, page.metadata.resource_version

    def watch(
        self,
        namespace: str = "",
        *,
        resource_version: str = "",
        label_selector: str = "",
        field_selector: str = "",
        allow_watch_bookmarks: bool = False,
        timeout_seconds: int = 0,
    ) -> WatchStream[T]:
        """A stream of watch events ({type, object}); cancel the iterator to stop."""
        request = meta_pb2.WatchRequest(
            namespace=namespace,
            resource_version=resource_version,
            label_selector=label_selector,
            field_selector=field_selector,
            allow_watch_bookmarks=allow_watch_bookmarks,
            timeout_seconds=timeout_seconds,
            allow_watch_batches=True,
        )
        return WatchStream(self._stub.Watch(request, wait_for_ready=True))

    async def update(self, obj: T) -> T:
        return cast(T, await self._call("Update", obj))

    async def update_status(self, obj: T) -> T:
        return cast(T, await self._call("UpdateStatus", obj))

    async def update_approval(self, obj: T) -> T:
        """The approval subresource: a CertificateSigningRequest's conditions."""
        return cast(T, await self._call("UpdateApproval", obj))

    async def delete(
        self,
        name: str,
        namespace: str = "",
        *,
        grace_period_seconds: int | None = None,
        resource_version: str = "",
        uid: str = "",
        propagation_policy: str = "",
    ) -> T:
        request = meta_pb2.DeleteRequest(
            namespace=namespace,
            name=name,
            propagation_policy=propagation_policy,
            preconditions=meta_pb2.Preconditions(uid=uid, resource_version=resource_version),
        )
        if grace_period_seconds is not None:
            request.grace_period_seconds = grace_period_seconds
        return cast(T, await self._call("Delete", request))
