"""The gRPC door's fuzzer: mutated objects of every served kind (grpc_mutate over samples.py) sent
to Create, Update and UpdateStatus; Get, Delete, List and Watch with odd names, selectors,
resourceVersions, limits, continue tokens and timeouts; malformed protobuf (truncated, bit-flipped,
random bytes, invalid UTF-8 in a string field), a message of another type than the method's, and
messages past the 3 MiB request limit. The calls are raw (no serializer), as an attacker's would be.

Each answer is held to Kubernetes' rules: success, or a status that maps to a reason Kubernetes
gives bad input, with a message a person can read (never empty, never a Python exception's name
or traceback); and the apiserver still serving at the end. Request i is built from
random.Random(f"{seed}:{i}") alone, so a seed always sends the same requests."""

from __future__ import annotations

import asyncio
import base64
import random
import re
from collections import Counter
from dataclasses import dataclass, field

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2

from apiserver.endpoints.request import MAX_REQUEST_BYTES
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import codec, resources
from podplane.apimachinery.codec import FieldValidation
from podplane.apimachinery.resources import CreateOnlyResource, Resource
from tests.fuzz import grpc_mutate, samples

# A kind a request may name: a stored one, or a create-only review.
Kind = Resource | CreateOnlyResource

# What bad input may be answered with, each the code of a Kubernetes reason (BadRequest/Invalid,
# NotFound, AlreadyExists, Conflict, a failed precondition, Expired/Gone, RequestEntityTooLarge,
# Forbidden, MethodNotAllowed).
ALLOWED = frozenset(
    {
        grpc.StatusCode.OK,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNIMPLEMENTED,
    }
)
# Kubernetes' 504 Timeout for a read at a resourceVersion the server has not reached after 3 s:
# the server's own DEADLINE_EXCEEDED, not a hang (the client's deadline says "Deadline Exceeded").
TOO_LARGE_RESOURCE_VERSION = "Too large resource version: "
# A Python exception leaking into an answer: "Traceback", "KeyError", "<class 'ValueError'>".
_PYTHON_LEAK = re.compile(r"Traceback|\b\w+(Error|Exception)\b|<class '")
# How long a call may take before its silence counts as a hang (etcd on a loaded machine).
CALL_TIMEOUT = 30.0
# How long a Watch is given to send its first event or fail; one still quiet then has opened.
WATCH_WAIT = 0.5
# Names the fuzzer creates, updates and deletes: a few per kind, so they collide and are found.
NAMES = 6


@dataclass
class GrpcFuzzResult:
    """What a run sent and got: requests, the status code names seen, and each wrong answer as
    one line (the method, what was sent, the answer)."""

    requests: int = 0
    codes: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FuzzRequest:
    method: str
    body: bytes
    stream: bool
    what: str


@dataclass(frozen=True)
class Answer:
    code: grpc.StatusCode
    message: str


def _name(rng: random.Random, resource: Kind, namespace: str) -> str:
    index = rng.randrange(NAMES)
    # Cluster-scoped names carry the namespace: runs in other namespaces never meet them.
    return f"{namespace}-{index}" if not resource.namespaced else f"fuzz-{index}"


def _object(resource: Kind, name: str, namespace: str) -> Message:
    data = samples.sample(resource, name, namespace)
    obj: Message = codec.decode(resource.message, data, FieldValidation.STRICT)[0]
    return obj


def _odd_selector(rng: random.Random, fields: bool) -> str:
    good = (
        ("metadata.name=fuzz-1", "metadata.namespace!=x", "spec.nodeName=", "status.phase=Running")
        if fields
        else ("app=fuzz", "app in (fuzz,web)", "!app", "app", "app notin ()", "tier!=db")
    )
    odd = (
        "a=b=c",
        "=",
        ",",
        "app==x",
        "app!=",
        "💥=x",
        "x" * 70 + "=y",
        "app in (",
        "a b",
        "app=" + "x" * 64,
        "\x00",
        "bogus.field=1",
        "metadata.name in (a)",
        "app=\ufffd",
        "(",
        "app>1",
    )
    roll = rng.random()
    if roll < 0.3:
        return ""
    if roll < 0.55:
        return rng.choice(good)
    if roll < 0.9:
        return rng.choice(odd)
    return grpc_mutate.odd_string(rng)


def _odd_resource_version(rng: random.Random) -> str:
    # Past the current revision only now and then: Kubernetes waits 3 s for it before its 504.
    if rng.random() < 0.02:
        return "99999999999999"
    return rng.choice(("", "", "0", "1", "-1", "abc", "1e3", " 1", "💥"))


def _odd_continue(rng: random.Random, plural: str, namespace: str) -> str:
    """A continue token: garbage, or the server's JSON with odd revisions, some of them with a
    start key in the listed range (so they reach etcd)."""
    start = f"/registry/{plural}/{namespace}/fuzz-1" if namespace else f"/registry/{plural}/x"
    tokens: list[bytes | str] = [
        "",
        "",
        "garbage",
        "eyJ2IjoibWV0YS5rOHMuaW8vdjEi",
        rng.randbytes(24),
        b'{"v":"meta.k8s.io/v1","rv":-1,"start":"../"}',
        b'{"v":"meta.k8s.io/v1","rv":1,"start":"\xff"}',
        b'{"v":"meta.k8s.io/v1","rv":10000000000000000000}',
    ]
    for rv in ("-1", "0", "1", "1e30", "10000000000000000000", '"x"'):
        tokens.append(f'{{"v":"meta.k8s.io/v1","rv":{rv},"start":"{start}"}}'.encode())
    token = rng.choice(tokens)
    return base64.urlsafe_b64encode(token).decode() if isinstance(token, bytes) else token


def _namespace_field(rng: random.Random, namespace: str) -> str:
    return namespace if rng.random() < 0.8 else grpc_mutate.odd_string(rng)


def _read_request(
    rng: random.Random, resource: Resource, verb: str, namespace: str
) -> tuple[Message, str]:
    """A Get, Delete, List or Watch request, its fields odd now and then."""
    ns = _namespace_field(rng, namespace) if resource.namespaced else ""
    name = _name(rng, resource, namespace) if rng.random() < 0.8 else grpc_mutate.odd_string(rng)
    where = f"namespace={ns!r:.40} " if resource.namespaced and ns != namespace else ""
    request, what = _read_message(rng, verb, resource.plural, ns, name)
    return request, where + what


def _read_message(
    rng: random.Random, verb: str, plural: str, ns: str, name: str
) -> tuple[Message, str]:
    if verb == "Get":
        return meta_pb2.GetRequest(
            namespace=ns, name=name, resource_version=_odd_resource_version(rng)
        ), f"name={name!r:.40}"
    if verb == "Delete":
        request = meta_pb2.DeleteRequest(namespace=ns, name=name)
        if rng.random() < 0.3:
            request.grace_period_seconds = rng.choice((0, 1, -1, 30, 2**62))
        if rng.random() < 0.2:
            request.propagation_policy = rng.choice(("Orphan", "Foreground", "Sideways", "💥"))
        if rng.random() < 0.2:
            request.preconditions.uid = rng.choice(
                ("", "x", "00000000-0000-0000-0000-000000000000")
            )
            request.preconditions.resource_version = _odd_resource_version(rng)
        return request, f"name={name!r:.40}"
    label, fields = _odd_selector(rng, False), _odd_selector(rng, True)
    rv = _odd_resource_version(rng)
    if verb == "List":
        limit = rng.choice((0, 0, 1, 2, -1, 2**63 - 1))
        token = _odd_continue(rng, plural, ns)
        return meta_pb2.ListRequest(
            namespace=ns,
            label_selector=label,
            field_selector=fields,
            resource_version=rv,
            limit=limit,
            continue_token=token,
        ), f"labels={label!r:.40} fields={fields!r:.40} rv={rv!r} limit={limit} cont={token!r:.20}"
    timeout = rng.choice((0, 0, 1, -1, 2**40))
    return meta_pb2.WatchRequest(
        namespace=ns,
        label_selector=label,
        field_selector=fields,
        resource_version=rv,
        allow_watch_bookmarks=rng.random() < 0.5,
        timeout_seconds=timeout,
        allow_watch_batches=rng.random() < 0.5,
    ), f"labels={label!r:.40} fields={fields!r:.40} rv={rv!r} timeout={timeout}"


def _verbs(resource: Kind) -> tuple[str, ...]:
    if isinstance(resource, CreateOnlyResource):  # a review: asked, never stored
        return ("Create",)
    writes = (
        ("Create", "Create", "Update", "UpdateStatus")
        if resource.has_status
        else (
            "Create",
            "Create",
            "Update",
        )
    )
    return (*writes, "Delete", "Get", "List", "Watch")


def _other_message(rng: random.Random, resource: Kind, namespace: str) -> Message:
    """A valid message of another type than the method takes."""
    other = rng.choice([r for r in resources.ALL if r is not resource])
    return rng.choice(
        (
            _object(other, "fuzz-1", namespace),
            meta_pb2.ListRequest(namespace=namespace, label_selector="app=fuzz", limit=5),
            meta_pb2.DeleteRequest(namespace=namespace, name="fuzz-1"),
        )
    )


def build(seed: int, index: int, namespace: str) -> FuzzRequest:
    """Request `index` of the run seeded `seed`: the same bytes every time."""
    rng = random.Random(f"{seed}:{index}")
    resource = rng.choice(resources.SERVED)
    verb = rng.choice(_verbs(resource))
    method = f"/{resource.service}/{verb}"
    stream = verb == "Watch"
    if verb in ("Create", "Update", "UpdateStatus"):
        msg = _object(resource, _name(rng, resource, namespace), namespace)
        what = f"{resource.kind}"
    else:
        assert isinstance(resource, Resource)  # a review has Create alone
        msg, what = _read_request(rng, resource, verb, namespace)
    roll = rng.random()
    if roll < 0.01:
        # Past the request limit: refused before it is decoded.
        filler = "z" * (MAX_REQUEST_BYTES + rng.randrange(1, 1024))
        return FuzzRequest(
            method,
            msg.SerializeToString() + _string_field(15, filler),
            stream,
            f"{what} past the request limit",
        )
    if roll < 0.08:
        body, how = grpc_mutate.damaged(rng, msg.SerializeToString())
        return FuzzRequest(method, body, stream, f"{what} {how}")
    if roll < 0.14:
        broken = grpc_mutate.with_invalid_utf8(rng, msg)
        if broken is not None:
            return FuzzRequest(method, broken[0], stream, f"{what} {broken[1]}")
    if roll < 0.18:
        other = _other_message(rng, resource, namespace)
        return FuzzRequest(
            method, other.SerializeToString(), stream, f"a {other.DESCRIPTOR.name} sent to {verb}"
        )
    if verb in ("Create", "Update", "UpdateStatus"):
        # Some writes unchanged, so there are objects to update, get, list, watch and delete.
        count = 0 if rng.random() < 0.15 else rng.choice((1, 1, 2, 3))
        done = grpc_mutate.mutate(rng, msg, count)
        what = f"{what} {'; '.join(done) or 'unchanged'}"
    elif rng.random() < 0.2:
        what = f"{what} {'; '.join(grpc_mutate.mutate(rng, msg, 1))}"
    return FuzzRequest(method, msg.SerializeToString(), stream, what)


def _string_field(number: int, value: str) -> bytes:
    """A length-delimited field `number` (one the request's message need not have: protobuf
    keeps it as an unknown field) holding `value`."""
    data = value.encode()
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


async def call(channel: grpc.aio.Channel, request: FuzzRequest) -> Answer:
    """Sends the request's bytes as they are; a Watch's answer is its first event (OK), its
    failure, or, still quiet after WATCH_WAIT, OK (it opened)."""
    if not request.stream:
        unary = channel.unary_unary(
            request.method, request_serializer=None, response_deserializer=None
        )
        try:
            await unary(request.body, timeout=CALL_TIMEOUT)
        except grpc.aio.AioRpcError as e:
            return Answer(e.code(), e.details() or "")
        return Answer(grpc.StatusCode.OK, "")
    stream = channel.unary_stream(
        request.method, request_serializer=None, response_deserializer=None
    )(request.body, timeout=CALL_TIMEOUT)
    try:
        async with asyncio.timeout(WATCH_WAIT):
            await stream.read()
    except TimeoutError:
        pass
    except grpc.aio.AioRpcError as e:
        return Answer(e.code(), e.details() or "")
    finally:
        stream.cancel()
    if stream.done() and not stream.cancelled():
        code = await stream.code()
        return Answer(code, await stream.details() or "")
    return Answer(grpc.StatusCode.OK, "")


def wrong(answer: Answer) -> str | None:
    """Why the answer breaks the rules, or None when it keeps them."""
    if answer.code == grpc.StatusCode.DEADLINE_EXCEEDED and answer.message.startswith(
        TOO_LARGE_RESOURCE_VERSION
    ):
        return None
    if answer.code not in ALLOWED:
        return "a code bad input never gets"
    if answer.code == grpc.StatusCode.OK:
        return None
    if not answer.message.strip():
        return "an empty message"
    if _PYTHON_LEAK.search(answer.message):
        return "a Python exception in the message"
    return None


def failure_line(request: FuzzRequest, answer: Answer, why: str) -> str:
    return (
        f"{request.method} {request.what!r:.160} -> {answer.code.name} "
        f"{answer.message!r:.200} ({why})"
    )


async def serving_failures(channel: grpc.aio.Channel, namespace: str) -> list[str]:
    """Empty when the apiserver still serves: health SERVING and a List of pods answered."""
    check = channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )
    try:
        reply = await check(health_pb2.HealthCheckRequest(service=""), timeout=CALL_TIMEOUT)
    except grpc.aio.AioRpcError as e:
        return [f"health check after the run: {e.code().name} {e.details()!r}"]
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        return [f"health after the run: {reply.status}"]
    listed = await call(
        channel,
        FuzzRequest(
            f"/{resources.POD.service}/List",
            meta_pb2.ListRequest(namespace=namespace).SerializeToString(),
            stream=False,
            what="pods",
        ),
    )
    if listed.code != grpc.StatusCode.OK:
        return [f"List of pods after the run: {listed.code.name} {listed.message!r}"]
    return []


async def _cleanup(channel: grpc.aio.Channel, namespace: str) -> None:
    """Deletes the cluster-scoped objects the run may have created, their finalizers removed
    first (a mutation may have added some); namespaced ones stay in its namespace."""
    for resource in resources.ALL:
        if resource.namespaced:
            continue
        service = f"/{resource.service}"
        get = channel.unary_unary(
            f"{service}/Get",
            request_serializer=meta_pb2.GetRequest.SerializeToString,
            response_deserializer=resource.message.FromString,
        )
        for index in range(NAMES):
            name = f"{namespace}-{index}"
            try:
                obj = await get(meta_pb2.GetRequest(name=name), timeout=CALL_TIMEOUT)
            except grpc.aio.AioRpcError:
                continue
            if obj.metadata.finalizers:
                del obj.metadata.finalizers[:]
                await call(
                    channel, FuzzRequest(f"{service}/Update", obj.SerializeToString(), False, "")
                )
            delete = meta_pb2.DeleteRequest(name=name, grace_period_seconds=0)
            await call(
                channel, FuzzRequest(f"{service}/Delete", delete.SerializeToString(), False, "")
            )


async def fuzz_grpc(
    channel: grpc.aio.Channel, namespace: str, *, requests: int, seed: int, concurrency: int = 8
) -> GrpcFuzzResult:
    """Sends `requests` fuzzed requests over `channel` (credentials allowed to do anything), at
    most `concurrency` at a time, in `namespace` (created if missing) and under cluster-scoped
    names that start with it; checks each answer and that the apiserver serves at the end."""
    result = GrpcFuzzResult()
    namespace_object = _object(resources.NAMESPACE, namespace, "")
    await call(
        channel,
        FuzzRequest(
            f"/{resources.NAMESPACE.service}/Create",
            namespace_object.SerializeToString(),
            False,
            "namespace",
        ),
    )
    indices = iter(range(requests))

    async def worker() -> None:
        for index in indices:
            request = build(seed, index, namespace)
            answer = await call(channel, request)
            result.requests += 1
            result.codes[answer.code.name] += 1
            why = wrong(answer)
            if why is not None:
                result.failures.append(f"#{index} {failure_line(request, answer, why)}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.failures += await serving_failures(channel, namespace)
    await _cleanup(channel, namespace)
    return result
