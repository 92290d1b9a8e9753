"""The client side of a SPDY/3.1 session (podplane/streaming/spdy/client.py) against the server
side (session.py): streams opened, replied, written and half-closed both ways, pings echoed."""

from __future__ import annotations

from podplane.streaming.spdy import DataReceived, ServerSession, StreamEnded, StreamOpened
from podplane.streaming.spdy.client import ClientSession, StreamReplied
from podplane.streaming.spdy.session import PingAnswered, StreamReset


def test_a_stream_opened_by_the_client_carries_data_both_ways_until_each_side_ends() -> None:
    client, server = ClientSession(), ServerSession()
    error = client.open_stream({"streamtype": ["error"]}, fin=True)
    stdin = client.open_stream({"streamtype": ["stdin"], "port": ["80"]})
    assert (error, stdin) == (1, 3)
    opened = server.receive(client.data_to_send())
    assert opened == [
        StreamOpened(1, {"streamtype": ["error"]}, fin=True),
        StreamOpened(3, {"streamtype": ["stdin"], "port": ["80"]}),
    ]
    server.reply(1)
    server.reply(3)
    assert client.receive(server.data_to_send()) == [StreamReplied(1, {}), StreamReplied(3, {})]

    assert client.send_data(stdin, b"hello")
    client.end_stream(stdin)
    assert not client.send_data(stdin, b"late")  # closed on this side
    assert server.receive(client.data_to_send()) == [DataReceived(3, b"hello"), StreamEnded(3)]

    server.send_data(3, b"answer")
    server.send_data(1, b'{"status":"Success"}', fin=True)
    events = client.receive(server.data_to_send())
    assert events == [
        DataReceived(3, b"answer"),
        DataReceived(1, b'{"status":"Success"}'),
        StreamEnded(1),
    ]
    assert client.is_open(3) and not client.is_open(1)


def test_a_reset_ends_the_stream_and_server_pings_are_echoed() -> None:
    client, server = ClientSession(), ServerSession()
    stream = client.open_stream({"streamtype": ["data"]})
    server.receive(client.data_to_send())
    server.reset(stream)
    ping = server.ping()
    assert client.receive(server.data_to_send()) == [StreamReset(stream, 5)]
    assert not client.send_data(stream, b"x")
    assert server.receive(client.data_to_send()) == [PingAnswered(ping)]
