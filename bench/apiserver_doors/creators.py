"""A client creating pods through one door, on a connection of its own: the typed gRPC client, or
an aiohttp session holding one kept-alive TLS connection that POSTs the pod's JSON as kubectl
create does. Both send the same small pod (bench.common.pods) and wait for the created object.
The HTTP client POSTs any other object it is given as well (an HttpWrite: a ConfigMap, a custom
resource; bench/custom_resources)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

import aiohttp
import grpc

from bench.apiserver_doors.doors import GRPC, HTTP, Doors
from bench.common.pods import NAMESPACE, PodsConnection, small_pod
from podplane.apimachinery import codec
from podplane.apimachinery.json_types import JSONObject
from podplane.client.clientset import status_code

TIMEOUT = 30.0
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class CreateFailed(Exception):
    """A create answered with an error, or lost: `code` names it ("ALREADY_EXISTS", "HTTP 409",
    "ClientConnectionError")."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail  # the answer's message, to say why


class PodCreator(Protocol):
    async def create(self, name: str) -> None:
        """Creates the pod `name` with the creator's labels; raises CreateFailed."""

    async def close(self) -> None: ...


class GrpcPodCreator:
    def __init__(self, connection: PodsConnection, labels: dict[str, str]) -> None:
        self._connection = connection
        self._labels = labels

    @classmethod
    async def open(cls, doors: Doors, labels: dict[str, str]) -> GrpcPodCreator:
        return cls(
            await PodsConnection.open(doors.grpc_target, TIMEOUT, doors.credentials()), labels
        )

    async def create(self, name: str) -> None:
        try:
            await self._connection.pods.create(small_pod(name, self._labels))
        except grpc.aio.AioRpcError as e:
            code = status_code(e)
            raise CreateFailed(
                code.name if code is not None else type(e).__name__, e.details() or ""
            ) from None

    async def close(self) -> None:
        await self._connection.close()


def pod_body(template: JSONObject, name: str) -> bytes:
    """The JSON of a create: the template pod (codec.encode's Kubernetes JSON, with apiVersion and
    kind as kubectl sends them) under another name."""
    return json.dumps({**template, "metadata": {**template["metadata"], "name": name}}).encode()


def pod_template(labels: dict[str, str]) -> JSONObject:
    # Encoded once per client: the codec is Python and costs far more than protobuf's C
    # serializer, and the clients share the apiserver's CPUs.
    return {"apiVersion": "v1", "kind": "Pod", **codec.encode(small_pod("", labels))}


def collection_path(namespace: str) -> str:
    return f"/api/v1/namespaces/{namespace}/pods"


@dataclass(frozen=True)
class HttpWrite:
    """What an HTTP creator POSTs in place of the small pod: `template` (an object's JSON as
    kubectl sends it, its metadata.name replaced on every create, the creator's labels added)
    to the collection at `path`."""

    path: str
    template: JSONObject


def labelled(template: JSONObject, labels: dict[str, str]) -> JSONObject:
    metadata = template.get("metadata", {})
    merged = {**metadata.get("labels", {}), **labels}
    return {**template, "metadata": {**metadata, "labels": merged}}


class HttpCreator:
    def __init__(
        self, session: aiohttp.ClientSession, labels: dict[str, str], write: HttpWrite | None
    ) -> None:
        self._session = session
        if write is None:
            self._template = pod_template(labels)
            self._path = collection_path(NAMESPACE)
        else:
            self._template = labelled(write.template, labels)
            self._path = write.path

    @classmethod
    async def open(
        cls, doors: Doors, labels: dict[str, str], write: HttpWrite | None = None
    ) -> HttpCreator:
        session = http_session(doors, aiohttp.ClientTimeout(total=TIMEOUT))
        try:
            await warm_connection(session)
        except BaseException:
            await session.close()
            raise
        return cls(session, labels, write)

    async def create(self, name: str) -> None:
        try:
            async with self._session.post(
                self._path, data=pod_body(self._template, name), headers=JSON_HEADERS
            ) as response:
                # Read whole, as a client must; decoding it is the client's business, not the
                # door's, so it is left out.
                body = await response.read()
        except (aiohttp.ClientError, TimeoutError) as e:
            raise CreateFailed(type(e).__name__, str(e)) from None
        if response.status != 201:
            raise CreateFailed(f"HTTP {response.status}", body.decode(errors="replace")[:500])

    async def close(self) -> None:
        await self._session.close()


def http_session(
    doors: Doors, timeout: aiohttp.ClientTimeout, read_bufsize: int = 2**16
) -> aiohttp.ClientSession:
    """A session of one kept-alive TLS connection to the REST door."""
    return aiohttp.ClientSession(
        base_url=doors.rest_url,
        timeout=timeout,
        read_bufsize=read_bufsize,
        connector=aiohttp.TCPConnector(limit=1, ssl=doors.ssl_context(), keepalive_timeout=300),
    )


async def warm_connection(session: aiohttp.ClientSession) -> None:
    """Makes the session's connection (TCP and TLS handshake) now, as the gRPC client's
    channel_ready does, so that it is not part of the first measured request."""
    async with session.get("/readyz") as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"GET /readyz: HTTP {response.status}")


async def open_creator(
    door: str, doors: Doors, labels: dict[str, str], write: HttpWrite | None = None
) -> PodCreator:
    """A creator of the small pod through `door`, or over HTTP of what `write` says."""
    if write is not None and door != HTTP:
        raise ValueError(f"an HttpWrite goes through the {HTTP} door, not {door!r}")
    if door == GRPC:
        return await GrpcPodCreator.open(doors, labels)
    if door == HTTP:
        return await HttpCreator.open(doors, labels, write)
    raise ValueError(f"unknown door {door!r}")
