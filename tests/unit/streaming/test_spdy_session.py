"""The server side of a SPDY/3.1 session, as spdystream's client sees it: streams are accepted
with SYN_REPLY, FIN and RST end them, pings are echoed, bad stream ids are refused."""

from __future__ import annotations

from podplane.streaming import spdy
from podplane.streaming.spdy import frames as f


class Client:
    """The client's side of the wire: frames out through its own zlib context, frames in."""

    def __init__(self) -> None:
        self.encoder = f.FrameEncoder()
        self.decoder = f.FrameDecoder()

    def send(self, session: spdy.ServerSession, *frames: f.Frame) -> list[spdy.Event]:
        return session.receive(b"".join(self.encoder.encode(frame) for frame in frames))

    def got(self, session: spdy.ServerSession) -> list[f.Frame]:
        return self.decoder.feed(session.data_to_send())


def test_a_stream_opened_replied_used_and_finished_both_ways() -> None:
    session, client = spdy.ServerSession(), Client()
    events = client.send(session, f.SynStream(1, {"port": ["80"]}))
    assert events == [spdy.StreamOpened(1, {"port": ["80"]})]
    session.reply(1)
    assert session.send_data(1, b"from server")
    assert client.got(session) == [f.SynReply(1, {}), f.Data(1, b"from server")]
    assert client.send(session, f.Data(1, b"from client", fin=True)) == [
        spdy.DataReceived(1, b"from client"),
        spdy.StreamEnded(1),
    ]
    session.end_stream(1)
    assert client.got(session) == [f.Data(1, b"", fin=True)]
    assert session.open_streams == []  # finished both ways: forgotten
    assert not session.send_data(1, b"late")


def test_a_reset_ends_the_stream_both_ways() -> None:
    session, client = spdy.ServerSession(), Client()
    client.send(session, f.SynStream(1, {}))
    session.reply(1)
    assert client.send(session, f.RstStream(1, f.RstStatus.CANCEL)) == [
        spdy.StreamReset(1, f.RstStatus.CANCEL)
    ]
    assert not session.is_open(1)
    assert client.send(session, f.Data(1, b"after the reset")) == []


def test_the_server_refuses_a_stream_with_a_reset() -> None:
    session, client = spdy.ServerSession(), Client()
    client.send(session, f.SynStream(1, {}))
    session.reset(1)
    assert client.got(session) == [f.RstStream(1, f.RstStatus.CANCEL)]


def test_stream_ids_must_be_odd_and_increasing() -> None:
    session, client = spdy.ServerSession(), Client()
    client.send(session, f.SynStream(3, {}))
    assert client.send(session, f.SynStream(1, {})) == []
    assert client.send(session, f.SynStream(4, {})) == []
    assert client.got(session) == [
        f.RstStream(1, f.RstStatus.PROTOCOL_ERROR),
        f.RstStream(4, f.RstStatus.PROTOCOL_ERROR),
    ]


def test_client_pings_are_echoed_and_ours_answered() -> None:
    session, client = spdy.ServerSession(), Client()
    assert client.send(session, f.Ping(1)) == []
    assert client.got(session) == [f.Ping(1)]
    ours = session.ping()
    assert ours % 2 == 0 and client.got(session) == [f.Ping(ours)]
    assert client.send(session, f.Ping(ours)) == [spdy.PingAnswered(ours)]


def test_settings_and_window_updates_are_read_not_enforced() -> None:
    session, client = spdy.ServerSession(), Client()
    assert client.send(
        session,
        f.Settings(((f.SETTINGS_INITIAL_WINDOW_SIZE, 1024, 0),)),
        f.SynStream(1, {}),
        f.WindowUpdate(1, 10),
    ) == [spdy.StreamOpened(1, {})]
    session.reply(1)
    assert session.send_data(1, b"x" * 4096)  # beyond the window: spdystream never grants any
    assert session.settings == {f.SETTINGS_INITIAL_WINDOW_SIZE: 1024}


def test_going_away_names_the_last_stream_and_refuses_new_ones() -> None:
    session, client = spdy.ServerSession(), Client()
    client.send(session, f.SynStream(1, {}), f.SynStream(3, {}))
    session.go_away()
    assert client.send(session, f.SynStream(5, {})) == []
    assert client.got(session) == [f.GoAway(3), f.RstStream(5, f.RstStatus.REFUSED_STREAM)]
    assert client.send(session, f.GoAway(0)) == [spdy.GoAwayReceived(0, 0)]
