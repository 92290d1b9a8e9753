"""Kubernetes' port-forward over a plain WebSocket, as @kubernetes/client-node's PortForward drives
it: the subprotocol chosen, the `ports` parameter read as the apiserver and the kubelet read it,
the port first on every channel, bytes both ways per port, a failure on the port's error channel,
and the ends (the pod closing, the client going)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator

import pytest

from podplane.streaming import port_forward_websocket as pfw
from podplane.streaming import remotecommand as rc
from tests.unit.streaming.pod_ports import FakePodPort
from tests.unit.waiting import until

REFUSED = (
    "error forwarding port 81 to pod 1234, uid : failed to connect to localhost:81 inside "
    'namespace "1234", IPv4: dial tcp4 127.0.0.1:81: connect: connection refused'
)


@pytest.mark.parametrize(
    ("requested", "chosen"),
    [
        ([], ""),
        (["v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io"], "v4.channel.k8s.io"),
        (["portforward.k8s.io", "v4.base64.channel.k8s.io"], "v4.base64.channel.k8s.io"),
        (["v4.channel.k8s.io", "v4.base64.channel.k8s.io"], "v4.channel.k8s.io"),
    ],
)
def test_the_clients_first_protocol_the_kubelet_speaks_wins(
    requested: list[str], chosen: str
) -> None:
    protocol = pfw.negotiate(requested)
    assert protocol is not None and protocol.name == chosen


@pytest.mark.parametrize(
    "requested", [["portforward.k8s.io"], ["v5.channel.k8s.io", "channel.k8s.io"]]
)
def test_other_protocols_only_are_refused(requested: list[str]) -> None:
    assert pfw.negotiate(requested) is None


@pytest.mark.parametrize(
    ("values", "ports"),
    [([], []), (["8080"], [8080]), (["80,81", "82"], [80, 81, 82]), (["0"], [0])],
)
def test_ports_are_repeated_or_comma_separated(values: list[str], ports: list[int]) -> None:
    assert pfw.convert_ports(values) == ports


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("http", 'parsing "http": invalid syntax'),
        ("80,", 'parsing "": invalid syntax'),
        ("-1", 'parsing "-1": invalid syntax'),
        ("70000", 'parsing "70000": value out of range'),
    ],
)
def test_a_port_that_is_no_16_bit_number_is_the_apiservers_conversion_error(
    value: str, message: str
) -> None:
    with pytest.raises(pfw.PortsError) as refused:
        pfw.convert_ports([value])
    assert str(refused.value) == f"cannot convert to []int32: strconv.ParseUint: {message}"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([], 'query parameter "port" is required'),
        (["80", ""], 'query parameter "port" cannot be empty'),
        (["80,0"], 'port "80,0" must be > 0'),
        (
            ["80,x"],
            'unable to parse "80,x" as a port: strconv.ParseUint: parsing "x": invalid syntax',
        ),
    ],
)
def test_the_kubelets_refusals_of_its_port_parameter(values: list[str], message: str) -> None:
    with pytest.raises(pfw.PortsError) as refused:
        pfw.kubelet_ports(values)
    assert str(refused.value) == message


def test_the_kubelet_takes_repeated_and_comma_separated_ports() -> None:
    assert pfw.kubelet_ports(["80,8080", "9090"]) == [80, 8080, 9090]


class Client:
    """The client's side of one WebSocket: its messages in, the server's collected."""

    def __init__(self, protocol: rc.ChannelProtocol, refused: dict[int, str]) -> None:
        self.protocol = protocol
        self.refused = refused
        self.incoming: asyncio.Queue[bytes | str | None] = asyncio.Queue()
        self.messages: asyncio.Queue[bytes | str] = asyncio.Queue()
        self.pods: dict[int, FakePodPort] = {}

    async def dial(self, port: int) -> FakePodPort:
        if port in self.refused:
            raise RuntimeError(self.refused[port])
        self.pods[port] = FakePodPort(port)
        return self.pods[port]

    async def send_to_client(self, message: bytes | str) -> None:
        self.messages.put_nowait(message)

    async def next(self) -> tuple[int, bytes]:
        async with asyncio.timeout(5):
            message = await self.messages.get()
        decoded = pfw.decode(self.protocol, message)
        assert decoded is not None
        return decoded

    async def pod(self, port: int) -> FakePodPort:
        await until(lambda: port in self.pods, f"port {port} dialled")
        return self.pods[port]


async def serving(
    ports: list[int], protocol: str = rc.V4, refused: dict[int, str] | None = None
) -> tuple[Client, asyncio.Task[None]]:
    chosen = pfw.negotiate([protocol])
    assert chosen is not None
    client = Client(chosen, refused or {})
    task = asyncio.create_task(
        pfw.serve_port_forward_websocket(
            chosen, ports, client.incoming.get, client.send_to_client, client.dial
        )
    )
    return client, task


@pytest.fixture
async def two_ports() -> AsyncIterator[tuple[Client, asyncio.Task[None]]]:
    client, task = await serving([80, 8080])
    yield client, task
    client.incoming.put_nowait(None)
    async with asyncio.timeout(5):
        await task


async def test_every_channel_starts_with_its_port_little_endian(
    two_ports: tuple[Client, asyncio.Task[None]],
) -> None:
    client, _ = two_ports
    assert [await client.next() for _ in range(4)] == [
        (0, b"\x50\x00"),
        (1, b"\x50\x00"),
        (2, b"\x90\x1f"),
        (3, b"\x90\x1f"),
    ]


async def test_each_ports_bytes_go_both_ways_on_its_data_channel(
    two_ports: tuple[Client, asyncio.Task[None]],
) -> None:
    client, _ = two_ports
    for _ in range(4):
        await client.next()
    client.incoming.put_nowait(b"\x00to 80")
    client.incoming.put_nowait(b"\x02to 8080")
    client.incoming.put_nowait(b"\x01dropped: the error channel is the server's")
    web, alt = await client.pod(80), await client.pod(8080)
    await until(
        lambda: web.received == b"to 80" and alt.received == b"to 8080", "the bytes relayed"
    )
    alt.to_client.put_nowait(b"from 8080")
    assert await client.next() == (2, b"from 8080")
    web.to_client.put_nowait(b"from 80")
    assert await client.next() == (0, b"from 80")


async def test_the_websocket_ends_when_every_pod_connection_has() -> None:
    client, task = await serving([80, 8080])
    for port in (80, 8080):
        (await client.pod(port)).to_client.put_nowait(b"")
    async with asyncio.timeout(5):
        await task
    assert client.pods[80].closed.is_set() and client.pods[8080].closed.is_set()


async def test_the_client_going_ends_every_connection() -> None:
    client, task = await serving([80])
    pod = await client.pod(80)
    client.incoming.put_nowait(None)
    async with asyncio.timeout(5):
        await task
        await pod.closed.wait()


async def test_a_port_that_cannot_be_reached_gets_its_error_and_the_others_go_on() -> None:
    client, task = await serving([81, 80], refused={81: REFUSED})
    seen = [await client.next() for _ in range(5)]
    assert seen[:4] == [(0, b"\x51\x00"), (1, b"\x51\x00"), (2, b"\x50\x00"), (3, b"\x50\x00")]
    assert seen[4] == (1, REFUSED.encode())
    pod = await client.pod(80)
    pod.to_client.put_nowait(b"still here")
    assert await client.next() == (2, b"still here")
    pod.to_client.put_nowait(b"")
    async with asyncio.timeout(5):
        await task


async def test_base64_messages_are_text_with_an_ascii_channel() -> None:
    client, task = await serving([80], protocol=rc.V4_BASE64)
    first = await client.messages.get()
    assert first == "0" + base64.b64encode(b"\x50\x00").decode()
    await client.next()
    client.incoming.put_nowait("0" + base64.b64encode(b"ping").decode())
    client.incoming.put_nowait("0not base64!")
    pod = await client.pod(80)
    await until(lambda: pod.received == b"ping", "the decoded bytes relayed")
    pod.to_client.put_nowait(b"pong")
    assert await client.messages.get() == "0" + base64.b64encode(b"pong").decode()
    pod.to_client.put_nowait(b"")
    async with asyncio.timeout(5):
        await task


async def test_past_127_ports_the_channel_numbers_wrap_as_wsstreams_bytes_do() -> None:
    client, task = await serving(list(range(1, 131)))
    channels = [(await client.next())[0] for _ in range(260)]
    assert channels == [*range(256), 0, 1, 2, 3]
    client.incoming.put_nowait(None)
    async with asyncio.timeout(5):
        await task
