"""Property tests: random and malformed requests to the real apiserver (real etcd, real gRPC).

Whatever arrives -- bytes that are not the method's message, invalid UTF-8, nesting past
protobuf's limit, selectors that do not parse, a message past the 3 MiB request limit -- the
apiserver answers with a clear status (INVALID_ARGUMENT, or RESOURCE_EXHAUSTED for a message over
the limit), stays SERVING, and leaves the stored objects exactly as they were."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio
from hypothesis import given
from hypothesis import strategies as st

from apiserver.endpoints.request import MAX_REQUEST_BYTES
from apiserver.server import APIServer
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import Client
from tests.integration.bad_input import (
    BAD_INPUT,
    assert_refused,
    assert_serving,
    method,
    raw_call,
    raw_stream,
    stored_objects,
)
from tests.support import new_namespace

WRITES = [(r, verb) for r in resources.ALL for verb in ("Create", "Update")]


@pytest_asyncio.fixture(scope="module")
async def seeded(client: Client) -> AsyncIterator[str]:
    """A namespace with a few objects in it, which no bad request may change."""
    namespace = await new_namespace(client, "bad-input-")
    for name in ("web-0", "web-1"):
        pod = core_pb2.Pod(
            metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace, labels={"app": "web"})
        )
        pod.spec.containers.add(name="web", image="nginx")
        await client.pods.create(pod)
    await client.configmaps.create(
        core_pb2.ConfigMap(
            metadata=meta_pb2.ObjectMeta(name="settings", namespace=namespace), data={"a": "1"}
        )
    )
    yield namespace


@pytest_asyncio.fixture
async def channel(apiserver: APIServer) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{apiserver.port}") as ch:
        yield ch


@pytest_asyncio.fixture
async def unchanged(client: Client, seeded: str, channel: grpc.aio.Channel) -> AsyncIterator[str]:
    """The seeded namespace, checked after the test: same objects, same resourceVersions, and the
    apiserver still serving."""
    before = await stored_objects(client, seeded)
    yield seeded
    await assert_serving(channel, client, seeded)
    assert await stored_objects(client, seeded) == before


def _in_namespace(namespace: str, body: bytes) -> bytes:
    """`body` followed by metadata.namespace (field 3, then field 3 of ObjectMeta): on a decodable
    body protobuf's last-field-wins puts the request in the seeded namespace. (Not field 2, which
    is generateName: an empty body would then make a valid object with a generated name.)"""
    ns = namespace.encode()
    meta = b"\x1a" + bytes([len(ns)]) + ns
    return body + b"\x1a" + bytes([len(meta)]) + meta


@given(body=st.binary(max_size=2048), write=st.sampled_from(WRITES))
@BAD_INPUT
async def test_random_bytes_are_refused_clearly(
    channel: grpc.aio.Channel, unchanged: str, body: bytes, write: tuple[resources.Resource, str]
) -> None:
    resource, verb = write
    body = _in_namespace(unchanged, body) if resource.namespaced else body
    assert_refused(
        await raw_call(channel, method(resource, verb), body),
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
    )


@given(depth=st.integers(min_value=90, max_value=3000))
@BAD_INPUT
async def test_nesting_past_protobufs_limit_is_invalid_argument(
    channel: grpc.aio.Channel, unchanged: str, depth: int
) -> None:
    # Unknown field 999 as nested groups: protobuf stops decoding at 100 levels.
    start, end = b"\xbb\x3e", b"\xbc\x3e"
    body = start * depth + end * depth
    rejection = await raw_call(channel, method(resources.POD, "Create"), body)
    assert_refused(rejection)
    if depth > 100:
        assert "could not be decoded" in rejection.message, rejection


@given(text=st.text(min_size=1, max_size=40))
@BAD_INPUT
async def test_invalid_utf8_in_a_string_field_is_invalid_argument(
    channel: grpc.aio.Channel, unchanged: str, text: str
) -> None:
    name = text.encode() + b"\xff\xfe"  # metadata.name that is not UTF-8
    meta = b"\x0a" + bytes([len(name)]) + name
    rejection = await raw_call(
        channel, method(resources.POD, "Create"), b"\x1a" + bytes([len(meta)]) + meta
    )
    assert_refused(rejection)
    assert "could not be decoded" in rejection.message


@given(
    selector=st.text(max_size=60)
    | st.builds(lambda n: "a in " + "(" * n + "b" + ")" * n, st.integers(1, 500))
)
@BAD_INPUT
async def test_selectors_that_do_not_parse_are_refused(
    channel: grpc.aio.Channel, unchanged: str, selector: str
) -> None:
    for field in ("label_selector", "field_selector"):
        request = meta_pb2.ListRequest(namespace=unchanged)
        setattr(request, field, selector)
        listed = await raw_call(channel, method(resources.POD, "List"), request.SerializeToString())
        if listed.code != grpc.StatusCode.OK:
            assert_refused(listed)
        watch = meta_pb2.WatchRequest(namespace=unchanged)
        setattr(watch, field, selector)
        watched = await raw_stream(
            channel, method(resources.POD, "Watch"), watch.SerializeToString()
        )
        if watched.code not in (grpc.StatusCode.OK, grpc.StatusCode.DEADLINE_EXCEEDED):
            assert_refused(watched)


@given(
    resource_version=st.text(max_size=30),
    limit=st.integers(-(2**63), 2**63 - 1),
    token=st.text(max_size=60),
)
@BAD_INPUT
async def test_bad_resource_versions_limits_and_continue_tokens(
    channel: grpc.aio.Channel, unchanged: str, resource_version: str, limit: int, token: str
) -> None:
    request = meta_pb2.ListRequest(
        namespace=unchanged, resource_version=resource_version, limit=limit, continue_token=token
    )
    listed = await raw_call(channel, method(resources.POD, "List"), request.SerializeToString())
    if listed.code != grpc.StatusCode.OK:
        assert_refused(listed, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.OUT_OF_RANGE)
    got = await raw_call(
        channel,
        method(resources.POD, "Get"),
        meta_pb2.GetRequest(
            namespace=unchanged, name="web-0", resource_version=resource_version
        ).SerializeToString(),
    )
    if got.code != grpc.StatusCode.OK:
        assert_refused(got, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND)
    deleted = await raw_call(
        channel,
        method(resources.POD, "Delete"),
        meta_pb2.DeleteRequest(
            namespace=unchanged,
            name="web-0",
            preconditions=meta_pb2.Preconditions(resource_version=resource_version or "x"),
        ).SerializeToString(),
    )
    assert_refused(deleted, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.ABORTED)


@pytest.mark.parametrize("size", [MAX_REQUEST_BYTES + 1, 8 * 1024 * 1024])
async def test_a_message_over_the_request_limit_is_refused(
    channel: grpc.aio.Channel, unchanged: str, size: int
) -> None:
    cm = core_pb2.ConfigMap(metadata=meta_pb2.ObjectMeta(name="huge", namespace=unchanged))
    overhead = len(cm.SerializeToString()) + 16
    cm.data["blob"] = "x" * (size - overhead)
    body = cm.SerializeToString()
    assert len(body) > MAX_REQUEST_BYTES
    rejection = await raw_call(channel, method(resources.CONFIG_MAP, "Create"), body)
    assert_refused(rejection, grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert "larger than max" in rejection.message


async def test_an_object_under_the_request_limit_but_over_etcds_is_too_large(
    channel: grpc.aio.Channel, unchanged: str
) -> None:
    cm = core_pb2.ConfigMap(metadata=meta_pb2.ObjectMeta(name="big", namespace=unchanged))
    cm.binary_data["blob"] = b"x" * (2 * 1024 * 1024)
    rejection = await raw_call(
        channel, method(resources.CONFIG_MAP, "Create"), cm.SerializeToString()
    )
    assert_refused(rejection)
