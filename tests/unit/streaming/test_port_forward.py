"""Kubernetes' port-forward over SPDY, as kubectl drives it: per local connection an error stream
and a data stream paired by requestID, the bytes relayed to the pod's port both ways, failures
written on the error stream, half-close and reset."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from podplane.streaming import port_forward as pf
from podplane.streaming.spdy import frames as f
from tests.unit.streaming.pod_ports import FakePodPort
from tests.unit.waiting import until


class Kubectl:
    """The client's side: frames in over the transport, the server's frames collected."""

    def __init__(self, refused_ports: dict[int, str] | None = None, timeout: float = 30) -> None:
        self.encoder, self.decoder = f.FrameEncoder(), f.FrameDecoder()
        self.incoming: asyncio.Queue[bytes] = asyncio.Queue()
        self.frames: asyncio.Queue[f.Frame] = asyncio.Queue()
        self.pods: asyncio.Queue[FakePodPort] = asyncio.Queue()
        self.refused = refused_ports or {}
        self.timeout = timeout

    async def dial(self, port: int) -> FakePodPort:
        if port in self.refused:
            raise RuntimeError(self.refused[port])
        pod = FakePodPort(port)
        self.pods.put_nowait(pod)
        return pod

    async def write(self, data: bytes) -> None:
        for frame in self.decoder.feed(data):
            self.frames.put_nowait(frame)

    def send(self, *frames: f.Frame) -> None:
        self.incoming.put_nowait(b"".join(self.encoder.encode(frame) for frame in frames))

    async def next(self) -> f.Frame:
        async with asyncio.timeout(5):
            return await self.frames.get()

    async def next_frames(self, count: int) -> list[f.Frame]:
        return [await self.next() for _ in range(count)]


@pytest.fixture
async def kubectl() -> AsyncIterator[Kubectl]:
    client = Kubectl()
    task = asyncio.create_task(
        pf.serve_port_forward(client.incoming.get, client.write, client.dial)
    )
    yield client
    client.incoming.put_nowait(b"")
    async with asyncio.timeout(5):
        await task


def headers(kind: str, port: str = "80", request: str | None = "0") -> dict[str, list[str]]:
    h = {"streamtype": [kind], "port": [port]}
    if request is not None:
        h["requestid"] = [request]
    return h


async def open_pair(
    client: Kubectl, first: int, request: str | None = "0", port: str = "80"
) -> None:
    """As portforward.go handleConnection: the error stream, closed at once, then the data
    stream."""
    client.send(f.SynStream(first, headers("error", port, request)))
    assert await client.next() == f.SynReply(first, {})
    client.send(f.Data(first, b"", fin=True))
    client.send(f.SynStream(first + 2, headers("data", port, request)))
    assert await client.next() == f.SynReply(first + 2, {})


async def test_bytes_flow_both_ways_and_the_pod_closing_ends_both_streams(kubectl: Kubectl) -> None:
    await open_pair(kubectl, 1)
    async with asyncio.timeout(5):
        pod = await kubectl.pods.get()
    assert pod.port == 80
    kubectl.send(f.Data(3, b"GET / HTTP/1.0\r\n\r\n"))
    pod.to_client.put_nowait(b"HTTP/1.0 200 OK\r\n\r\nhello")
    assert await kubectl.next() == f.Data(3, b"HTTP/1.0 200 OK\r\n\r\nhello")
    pod.to_client.put_nowait(b"")  # the pod closes its side
    assert set(await kubectl.next_frames(2)) == {f.Data(3, b"", fin=True), f.Data(1, b"", fin=True)}
    assert pod.received == b"GET / HTTP/1.0\r\n\r\n"
    async with asyncio.timeout(5):
        await pod.closed.wait()


async def test_a_port_nothing_listens_on_is_an_error_on_the_error_stream() -> None:
    message = (
        "error forwarding port 81 to pod 1234, uid : failed to connect to localhost:81 "
        'inside namespace "1234", IPv4: dial tcp4 127.0.0.1:81: connect: connection '
        "refused"
    )
    client = Kubectl(refused_ports={81: message})
    task = asyncio.create_task(
        pf.serve_port_forward(client.incoming.get, client.write, client.dial)
    )
    await open_pair(client, 1, port="81")
    frames = await client.next_frames(3)
    assert frames[0] == f.Data(1, message.encode())
    assert set(frames[1:]) == {f.Data(1, b"", fin=True), f.Data(3, b"", fin=True)}
    client.incoming.put_nowait(b"")
    async with asyncio.timeout(5):
        await task


async def test_the_clients_fin_half_closes_and_the_answer_still_comes(kubectl: Kubectl) -> None:
    await open_pair(kubectl, 1)
    pod = await kubectl.pods.get()
    kubectl.send(f.Data(3, b"request", fin=True))
    async with asyncio.timeout(5):
        await pod.write_closed.wait()
    assert pod.received == b"request"
    pod.to_client.put_nowait(b"answer")
    assert await kubectl.next() == f.Data(3, b"answer")


async def test_the_clients_reset_closes_the_pod_connection(kubectl: Kubectl) -> None:
    await open_pair(kubectl, 1)
    pod = await kubectl.pods.get()
    kubectl.send(f.RstStream(3, f.RstStatus.CANCEL))
    async with asyncio.timeout(5):
        await pod.closed.wait()
    # The error stream is finished, so kubectl's read of it ends.
    assert await kubectl.next() == f.Data(1, b"", fin=True)


async def test_concurrent_connections_are_kept_apart(kubectl: Kubectl) -> None:
    kubectl.send(
        f.SynStream(1, headers("error", request="0")),
        f.SynStream(3, headers("error", "8080", request="1")),
        f.SynStream(5, headers("data", "8080", request="1")),
        f.SynStream(7, headers("data", request="0")),
    )
    assert await kubectl.next_frames(4) == [f.SynReply(i, {}) for i in (1, 3, 5, 7)]
    pods = {p.port: p for p in [await kubectl.pods.get(), await kubectl.pods.get()]}
    kubectl.send(f.Data(7, b"to 80"), f.Data(5, b"to 8080"))
    pods[8080].to_client.put_nowait(b"from 8080")
    assert await kubectl.next() == f.Data(5, b"from 8080")
    await until(
        lambda: len(pods[80].received) >= 5 and len(pods[8080].received) >= 7,
        "each pod's bytes relayed",
    )
    assert (bytes(pods[80].received), bytes(pods[8080].received)) == (b"to 80", b"to 8080")


async def test_clients_without_request_ids_pair_by_stream_id(kubectl: Kubectl) -> None:
    await open_pair(kubectl, 5, request=None)
    async with asyncio.timeout(5):
        assert (await kubectl.pods.get()).port == 80


@pytest.mark.parametrize(
    ("stream_headers", "reason"),
    [
        ({"streamtype": ["data"]}, '"port" header is required'),
        ({"streamtype": ["data"], "port": ["http"]}, 'unable to parse "http" as a port'),
        ({"streamtype": ["data"], "port": ["0"]}, 'port "0" must be > 0'),
        ({"port": ["80"]}, '"streamType" header is required'),
        ({"streamtype": ["stdin"], "port": ["80"]}, 'invalid stream type "stdin"'),
    ],
)
async def test_invalid_streams_are_reset(
    kubectl: Kubectl, stream_headers: dict[str, list[str]], reason: str
) -> None:
    assert pf.stream_refusal(stream_headers) == reason
    kubectl.send(f.SynStream(1, stream_headers))
    assert await kubectl.next() == f.RstStream(1, f.RstStatus.CANCEL)


async def test_an_incomplete_pair_times_out_with_a_message() -> None:
    client = Kubectl()
    task = asyncio.create_task(
        pf.serve_port_forward(
            client.incoming.get, client.write, client.dial, stream_creation_timeout=0.1
        )
    )
    client.send(f.SynStream(1, headers("error", request="7")))
    assert await client.next() == f.SynReply(1, {})
    assert await client.next() == f.Data(1, b"(request=7) timed out waiting for streams")
    assert await client.next() == f.Data(1, b"", fin=True)
    client.incoming.put_nowait(b"")
    async with asyncio.timeout(5):
        await task


async def test_a_goaway_from_the_client_ends_the_session() -> None:
    client = Kubectl()
    task = asyncio.create_task(
        pf.serve_port_forward(client.incoming.get, client.write, client.dial)
    )
    await open_pair(client, 1)
    pod = await client.pods.get()
    client.send(f.GoAway(3))
    async with asyncio.timeout(5):
        await task
    assert pod.closed.is_set()


async def test_bytes_that_are_not_spdy_end_the_session_with_a_protocol_error() -> None:
    client = Kubectl()
    task = asyncio.create_task(
        pf.serve_port_forward(client.incoming.get, client.write, client.dial)
    )
    client.incoming.put_nowait(bytes.fromhex("80020001 00000000"))  # SPDY/2
    async with asyncio.timeout(5):
        await task
    assert await client.next() == f.GoAway(0, f.GoAwayStatus.PROTOCOL_ERROR)


def test_the_protocol_is_offered_plain_or_tunnelled() -> None:
    assert pf.negotiate(["portforward.k8s.io"]) == "portforward.k8s.io"
    assert pf.negotiate(["SPDY/3.1+portforward.k8s.io"]) == "SPDY/3.1+portforward.k8s.io"
    assert pf.negotiate(["v4.channel.k8s.io"]) is None


async def test_a_second_stream_of_one_type_is_reset_and_reported(kubectl: Kubectl) -> None:
    kubectl.send(f.SynStream(1, headers("error")), f.SynStream(3, headers("error")))
    assert await kubectl.next_frames(4) == [
        f.SynReply(1, {}),
        f.SynReply(3, {}),
        f.RstStream(3, f.RstStatus.CANCEL),
        f.Data(1, b"error processing stream for request 0: error stream already assigned"),
    ]
