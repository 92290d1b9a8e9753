"""Kubelet/ContainerLogs: which container and which instance a request means, and the errors a user
sees when there is none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from kubelet.runtime.hollow import HollowRuntime
from kubelet.server.servicer import KubeletServicer
from podplane.api.core.v1 import core_pb2
from podplane.api.kubelet.v1 import kubelet_pb2
from tests.unit.kubelet.podbuild import pod
from tests.unit.kubelet.synctest import SyncHarness


class Aborted(Exception):
    pass


class FakeContext:
    async def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise Aborted(code, details)


async def read(servicer: KubeletServicer, **request: Any) -> bytes:
    chunks: AsyncIterator[core_pb2.LogChunk] = servicer.ContainerLogs(
        kubelet_pb2.ContainerLogsRequest(namespace="default", pod_name="web", **request),
        FakeContext(),
    )
    return b"".join([c.data async for c in chunks])


# The runtime after a pod's runs, and the pods by key as the kubelet knows them.
Pods = tuple[HollowRuntime, dict[str, core_pb2.Pod]]


@pytest.fixture
async def pods(tmp_path: Path) -> Pods:
    h = SyncHarness(tmp_path)
    web = pod("a", "b")
    await h.sync(web)
    first_a = h.latest("a")
    h.runtime.logs[first_a] = b"a, first run\n"
    h.runtime.exit_container(first_a, 1)
    await h.sync(web)
    h.runtime.logs[h.latest("a")] = b"a, second run\n"
    return h.runtime, {"default/web": web}


async def test_named_container_and_its_previous_instance(pods: Pods) -> None:
    runtime, cache = pods
    servicer = KubeletServicer(runtime, cache.get)
    assert await read(servicer, container="a") == b"a, second run\n"
    assert await read(servicer, container="a", previous=True) == b"a, first run\n"


@pytest.mark.parametrize(
    ("request_fields", "code", "message"),
    [
        (
            {},
            grpc.StatusCode.INVALID_ARGUMENT,
            "a container name must be specified for pod web, choose one of: [a b]",
        ),
        (
            {"container": "c"},
            grpc.StatusCode.INVALID_ARGUMENT,
            "container c is not valid for pod web",
        ),
        (
            {"container": "b", "previous": True},
            grpc.StatusCode.NOT_FOUND,
            'previous terminated container "b" in pod "web" not found',
        ),
        ({"container": "a", "pod_uid": "other"}, grpc.StatusCode.NOT_FOUND, 'pods "web" not found'),
    ],
)
async def test_errors(
    pods: Pods, request_fields: dict[str, Any], code: grpc.StatusCode, message: str
) -> None:
    runtime, cache = pods
    with pytest.raises(Aborted) as e:
        await read(KubeletServicer(runtime, cache.get), **request_fields)
    assert e.value.args == (code, message)


async def test_container_not_started_yet(tmp_path: Path) -> None:
    web = pod("a")
    web.status.container_statuses.add(name="a").state.waiting.reason = "ErrImagePull"
    with pytest.raises(Aborted) as e:
        await read(KubeletServicer(HollowRuntime(), {"default/web": web}.get))
    assert e.value.args == (
        grpc.StatusCode.FAILED_PRECONDITION,
        'container "a" in pod "web" is waiting to start: ErrImagePull',
    )
