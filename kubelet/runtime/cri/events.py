"""The runtime's container events (the CRI's GetContainerEvents), which the kubelet's PLEG follows
with the EventedPLEG gate (kubelet/pod/pleg.py): the id of each container and sandbox the runtime
creates, starts, stops or removes, as it does. containerd 1.7 keeps the events no one has read
(up to 1,000) and hands each one to one of the streams open at the time."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from kubelet.runtime.types import ContainerRuntimeError, Unimplemented
from podplane.api.cri import api_pb2 as cri
from podplane.api.cri import api_pb2_grpc as cri_grpc


async def container_ids(runtime: cri_grpc.RuntimeServiceStub) -> AsyncIterator[str]:
    """Each event's container (or sandbox) id; ContainerRuntimeError when the stream breaks or
    ends, Unimplemented when the runtime has no events (containerd before 1.7)."""
    call = runtime.GetContainerEvents(cri.GetEventsRequest())
    try:
        async for event in call:
            yield event.container_id
    except grpc.aio.AioRpcError as e:
        details = e.details() or str(e.code())
        if e.code() == grpc.StatusCode.UNIMPLEMENTED:
            raise Unimplemented(f"container events: {details}") from e
        raise ContainerRuntimeError(f"container events: {details}") from e
    finally:
        call.cancel()
    raise ContainerRuntimeError("container events: the runtime ended the stream")
