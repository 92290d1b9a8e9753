"""The client's request streams: binds, events and pods sent over one gRPC stream each, every
request answered as its unary call would be (podplane.client.request_stream)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar, cast

import grpc
from google.protobuf.message import Message

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.resources import Resource
from podplane.client import metered_channel
from podplane.client.clientset import binding, separate_channel
from podplane.client.request_stream import DEFAULT_LINGER, RequestStream

if TYPE_CHECKING:
    from podplane.client.clientset import Client

T = TypeVar("T", bound=Message)


class BindStream:
    """Binds over one bind stream (Pods/BindStream) on a connection of its own, with Client.bind's
    semantics (each binding answered as its Bind call would be: raises why it was refused, retried
    after an overload refusal's hint), the binds in flight together costing a few stream messages
    instead of a call each (podplane.client.request_stream). Create it inside the event loop."""

    def __init__(self, client: Client, linger: float = DEFAULT_LINGER) -> None:
        """`linger`: request_stream.RequestStream's."""
        # Not metered as a channel: the stream records each of its binds as a call would.
        self._channel = separate_channel(client.target, client.credentials)
        stub = resources.POD.stub(self._channel)
        self._binds: RequestStream[core_pb2.Binding] = RequestStream(
            lambda: stub.BindStream(wait_for_ready=True),
            core_pb2.BindingRequests,
            _add_binding,
            timeout=client.timeout,
            metrics=metered_channel.MethodMetrics("/podplane.core.v1.Pods/Bind", client.target),
            linger=linger,
        )

    async def bind(self, namespace: str, name: str, node_name: str, uid: str = "") -> None:
        """Client.bind, over the stream."""
        await self._binds.call(binding(namespace, name, node_name, uid))

    async def close(self) -> None:
        """Binds not answered yet fail (CANCELLED)."""
        await self._binds.close()
        await self._channel.close()


def _add_binding(message: Message, request_id: int, request: core_pb2.Binding) -> None:
    cast(core_pb2.BindingRequests, message).requests.add(id=request_id, binding=request)


class CreateStream(Generic[T]):
    """Creates objects of one resource over one create stream (<Resource>/CreateStream) on the
    client's connection, each answered as its Create call would be (raises why it was refused;
    retried after an overload refusal's hint), the creates in flight together costing a few
    stream messages instead of a call each (podplane.client.request_stream). The answer carries
    no object: what was created is what was sent, with the resourceVersion and uid the apiserver
    gave it unknown. Create it inside the event loop."""

    def __init__(
        self,
        client: Client,
        resource: Resource,
        requests: Callable[[], Message],
        add: Callable[[Message, int, T], None],
        channel: grpc.aio.Channel | None = None,
    ) -> None:
        """`channel`: another connection to the client's apiserver than the client's own."""
        stub = resource.stub(channel or client.channel)
        self._creates: RequestStream[T] = RequestStream(
            lambda: stub.CreateStream(wait_for_ready=True),
            requests,
            add,
            timeout=client.timeout,
            metrics=metered_channel.MethodMetrics(f"/{resource.service}/Create", client.target),
        )

    async def create(self, obj: T) -> None:
        """ResourceClient.create, over the stream."""
        await self._creates.call(obj)

    async def close(self) -> None:
        """Creates not answered yet fail (CANCELLED)."""
        await self._creates.close()


class EventStream(CreateStream[core_pb2.Event]):
    """Events over an event stream (Events/CreateStream): how the recorder writes them."""

    def __init__(self, client: Client) -> None:
        super().__init__(client, resources.EVENT, core_pb2.EventRequests, _add_event)


class PodCreateStream(CreateStream[core_pb2.Pod]):
    """Pods over a pod create stream (Pods/CreateStream)."""

    def __init__(self, client: Client, channel: grpc.aio.Channel | None = None) -> None:
        super().__init__(client, resources.POD, core_pb2.PodRequests, _add_pod, channel)


def _add_event(message: Message, request_id: int, request: core_pb2.Event) -> None:
    cast(core_pb2.EventRequests, message).requests.add(id=request_id, event=request)


def _add_pod(message: Message, request_id: int, request: core_pb2.Pod) -> None:
    cast(core_pb2.PodRequests, message).requests.add(id=request_id, pod=request)
