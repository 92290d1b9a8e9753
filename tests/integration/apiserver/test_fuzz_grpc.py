"""The gRPC door under the fuzzer (tests/fuzz/grpc_door.py): thousands of mutated objects of every
kind, odd reads, malformed and oversized messages, sent with the admin's certificate over TLS to
a real apiserver over its own etcd (its cluster-scoped objects stay out of other modules' tests).
Every answer is success or Kubernetes' status for bad input, the apiserver serves afterwards, and
objects the fuzzer did not touch are as they were. Then the wrong answers it found, one by one."""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio

from apiserver.server import APIServer
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import CHANNEL_OPTIONS, Client
from podplane.client.credentials import aio_channel
from tests.fuzz import grpc_door
from tests.integration.bad_input import (
    Rejection,
    assert_refused,
    assert_serving,
    method,
    raw_call,
    raw_stream,
    stored_objects,
)
from tests.integration.control_plane import etcd_process, running_apiserver
from tests.pki_support import cert_credentials, make_pki, secure_serving
from tests.support import EtcdProcess, eventually, new_namespace

SEED = 26
REQUESTS = 2000
CREATE_POD = method(resources.POD, "Create")
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


@pytest.fixture(scope="module")
def own_etcd() -> Iterator[EtcdProcess]:
    with etcd_process() as process:
        yield process


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest_asyncio.fixture(scope="module")
async def server(own_etcd: EtcdProcess, pki: Path) -> AsyncIterator[APIServer]:
    async with running_apiserver(own_etcd, security=secure_serving(pki)) as apiserver:
        yield apiserver


@pytest_asyncio.fixture(scope="module")
async def channel(server: APIServer, pki: Path) -> AsyncIterator[grpc.aio.Channel]:
    """The admin's connection, raw: requests go as the fuzzer's bytes, not a client's messages."""
    credentials = cert_credentials(pki, "admin")
    async with aio_channel(f"127.0.0.1:{server.port}", credentials, CHANNEL_OPTIONS) as ch:
        yield ch


@pytest_asyncio.fixture(scope="module")
async def admin(server: APIServer, pki: Path) -> AsyncIterator[Client]:
    c = Client(f"127.0.0.1:{server.port}", timeout=10, credentials=cert_credentials(pki, "admin"))
    yield c
    await c.close()


def _pod(name: str, namespace: str) -> core_pb2.Pod:
    pod = core_pb2.Pod(
        api_version="v1",
        kind="Pod",
        metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace, labels={"app": "web"}),
    )
    pod.spec.containers.add(name="web", image="nginx")
    return pod


async def test_every_fuzzed_request_gets_a_kubernetes_answer(
    channel: grpc.aio.Channel, admin: Client, caplog: pytest.LogCaptureFixture
) -> None:
    kept = await new_namespace(admin, "fuzz-kept-")
    for name in ("keep-0", "keep-1"):
        await admin.pods.create(_pod(name, kept))
    await admin.configmaps.create(
        core_pb2.ConfigMap(
            metadata=meta_pb2.ObjectMeta(name="keep", namespace=kept), data={"a": "1"}
        )
    )
    before = await stored_objects(admin, kept)

    result = await grpc_door.fuzz_grpc(channel, "fuzz-grpc", requests=REQUESTS, seed=SEED)

    assert result.failures == []
    assert result.requests == REQUESTS
    # The run reached past decoding and validation: objects were written, and each kind of
    # refusal came up, the request limit's among them.
    for code in ("OK", "INVALID_ARGUMENT", "NOT_FOUND", "ALREADY_EXISTS", "RESOURCE_EXHAUSTED"):
        assert result.codes[code] > 0, result.codes
    await assert_serving(channel, admin, kept)
    assert await stored_objects(admin, kept) == before
    # The cluster-scoped objects it created are gone again.
    names = [n.metadata.name for n in (await admin.nodes.list()).items]
    assert not [n for n in names if n.startswith("fuzz-grpc-")]
    # Nor did the server fail behind an answer: a cancelled watch once logged a ValueError from
    # the task that closed it. An async generator the collector frees is closed by a task the
    # loop's finalizer hook starts at its next turn: those tasks, started by each collection,
    # have ended before the log is read.
    for _ in range(2):
        running = asyncio.all_tasks()
        gc.collect()
        await asyncio.sleep(0)  # one turn of the loop: the hook's tasks are started

        async def closed(running: set[asyncio.Task[Any]] = running) -> bool:
            return not asyncio.all_tasks() - running

        await eventually(closed, 10, interval=0.01, what="the collected generators' closing")
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


async def test_a_label_value_of_the_replacement_character_is_invalid(
    channel: grpc.aio.Channel, admin: Client
) -> None:
    """U+FFFD, what Go's decoder makes of a lone surrogate, is validated like any label value:
    refused with the label-value message, the value quoted as Kubernetes quotes it."""
    namespace = await new_namespace(admin, "fuzz-label-")
    pod = _pod("web", namespace)
    pod.metadata.labels["app"] = "\ufffd"
    rejection = await raw_call(channel, CREATE_POD, pod.SerializeToString())
    assert_refused(rejection)
    assert rejection.message == (
        f'Pod "web" is invalid: metadata.labels: Invalid value: "\ufffd": {LABEL_VALUE_MSG}'
    )


async def test_a_lone_surrogate_in_a_label_value_is_invalid_argument(
    channel: grpc.aio.Channel, admin: Client
) -> None:
    """A lone surrogate reaches this door as bytes that are not UTF-8 (its "surrogatepass"
    encoding): a message protobuf does not decode, refused as a body that cannot be decoded."""
    namespace = await new_namespace(admin, "fuzz-label-")
    pod = _pod("web", namespace)
    pod.metadata.labels["app"] = "MARK"
    body = pod.SerializeToString().replace(b"MARK", b"a\xed\xa0\xbd")
    rejection = await raw_call(channel, CREATE_POD, body)
    assert_refused(rejection)
    assert rejection.message.startswith("the request body could not be decoded: "), rejection
    assert [p.metadata.name for p in (await admin.pods.list(namespace)).items] == []


@pytest.mark.parametrize(
    ("kind", "api_version", "message"),
    [
        (
            "💥",
            "v1",
            '💥 in version "v1" cannot be handled as a Pod: '
            'no kind "💥" is registered for version "v1"',
        ),
        (
            "Pod",
            "💥/v1",
            'Pod in version "v1" cannot be handled as a Pod: '
            'no kind "Pod" is registered for version "💥/v1"',
        ),
        (
            "Node",
            "v1",
            'Node in version "v1" cannot be handled as a Pod: a Node cannot be converted to a Pod',
        ),
    ],
)
async def test_an_object_of_another_kind_is_a_bad_request(
    channel: grpc.aio.Channel, admin: Client, kind: str, api_version: str, message: str
) -> None:
    """An object whose kind or apiVersion is not the method's (an emoji, a surrogate pair once it
    is UTF-8, another served kind) is refused as the REST door refuses such a body, and nothing
    is stored."""
    namespace = await new_namespace(admin, "fuzz-kind-")
    pod = _pod("web", namespace)
    pod.kind, pod.api_version = kind, api_version
    for verb in ("Create", "Update"):
        rejection = await raw_call(channel, method(resources.POD, verb), pod.SerializeToString())
        assert rejection == Rejection(grpc.StatusCode.INVALID_ARGUMENT, message)
    assert (await admin.pods.list(namespace)).items == []


async def test_a_kind_with_a_lone_surrogate_is_invalid_argument(channel: grpc.aio.Channel) -> None:
    pod = _pod("web", "default")
    pod.kind = "MARK"
    body = pod.SerializeToString().replace(b"MARK", b"\xed\xa0\xbd!")
    assert_refused(await raw_call(channel, CREATE_POD, body))


async def test_a_list_limit_of_the_largest_int64_lists_everything(
    channel: grpc.aio.Channel, admin: Client
) -> None:
    """etcd is asked for one item past the page: past int64 once, which failed the call with
    UNKNOWN."""
    namespace = await new_namespace(admin, "fuzz-limit-")
    for name in ("a", "b"):
        await admin.configmaps.create(
            core_pb2.ConfigMap(metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace))
        )
    request = meta_pb2.ListRequest(namespace=namespace, limit=2**63 - 1)
    call = channel.unary_unary(
        method(resources.CONFIG_MAP, "List"),
        request_serializer=meta_pb2.ListRequest.SerializeToString,
        response_deserializer=core_pb2.ConfigMapList.FromString,
    )
    listed = await call(request, timeout=10)
    assert [c.metadata.name for c in listed.items] == ["a", "b"]
    assert listed.metadata.continue_token == ""


async def test_a_list_in_a_namespace_megabytes_long_is_too_large(
    channel: grpc.aio.Channel,
) -> None:
    """Its key and the end of its range are past etcd's request limit: etcd's refusal once
    reached the client as UNKNOWN."""
    request = meta_pb2.ListRequest(namespace="y" * (1600 * 1024))
    rejection = await raw_call(
        channel, method(resources.CONFIG_MAP, "List"), request.SerializeToString()
    )
    assert rejection == Rejection(
        grpc.StatusCode.INVALID_ARGUMENT, "Request entity too large: limit is 1572864"
    )
    assert_refused(rejection)


async def test_a_watch_in_a_namespace_megabytes_long_is_too_large_or_too_old(
    channel: grpc.aio.Channel,
) -> None:
    """Events (uncached) are watched by an etcd watch of their own, whose request etcd refuses:
    once UNAVAILABLE, which tells a client to retry what never works. A cached kind's watch from
    before its cache's window is expired first, as Kubernetes' watch cache answers it."""
    request = meta_pb2.WatchRequest(namespace="y" * (1600 * 1024), resource_version="1")
    rejection = await raw_stream(
        channel, method(resources.EVENT, "Watch"), request.SerializeToString()
    )
    assert rejection == Rejection(
        grpc.StatusCode.INVALID_ARGUMENT, "Request entity too large: limit is 1572864"
    )
    rejection = await raw_stream(
        channel, method(resources.CONFIG_MAP, "Watch"), request.SerializeToString()
    )
    assert rejection.code == grpc.StatusCode.OUT_OF_RANGE
    assert rejection.message.startswith("too old resource version: 1 (")


async def test_a_watch_from_a_revision_past_int64_is_a_bad_request(
    channel: grpc.aio.Channel,
) -> None:
    """Events are watched through etcd directly: a revision past int64 once failed the call with
    UNKNOWN; etcd's revisions are int64s, and Go reads only ASCII digits."""
    for version in ("10000000000000000000", " 1", "١٢"):
        request = meta_pb2.WatchRequest(namespace="default", resource_version=version)
        rejection = await raw_stream(
            channel, method(resources.EVENT, "Watch"), request.SerializeToString()
        )
        assert rejection == Rejection(
            grpc.StatusCode.INVALID_ARGUMENT,
            f'resourceVersion: Invalid value: "{version}": must be a non-negative integer',
        )


async def test_a_continue_token_with_a_revision_past_int64_is_a_bad_request(
    channel: grpc.aio.Channel, admin: Client
) -> None:
    namespace = await new_namespace(admin, "fuzz-continue-")
    start = f"/registry/configmaps/{namespace}/a"
    token = json.dumps({"v": "meta.k8s.io/v1", "rv": 10**19, "start": start})
    request = meta_pb2.ListRequest(
        namespace=namespace,
        limit=1,
        continue_token=base64.urlsafe_b64encode(token.encode()).decode(),
    )
    rejection = await raw_call(
        channel, method(resources.CONFIG_MAP, "List"), request.SerializeToString()
    )
    assert rejection == Rejection(
        grpc.StatusCode.INVALID_ARGUMENT, "continue: Invalid value: the continue token is not valid"
    )
