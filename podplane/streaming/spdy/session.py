"""The server side of a SPDY/3.1 session, without I/O: bytes from the client go in (`receive`),
events come out; the server's replies, data, resets, pings and GOAWAY become bytes to send
(`data_to_send`). A driver moves the bytes (port_forward.py).

It behaves as moby/spdystream's server connection, which Kubernetes' clients talk to: streams the
client opens have odd ids, increasing; a stream is replied to (SYN_REPLY) by the server's
handler; FIN on a data frame ends one direction, RST_STREAM both; pings from the client are
echoed; GOAWAY ends the session. Flow control is spdystream's: none. Its peers never send
WINDOW_UPDATE and ignore the ones they get, so windows are neither enforced on sending nor
granted on receiving; SETTINGS and WINDOW_UPDATE from the client are read and otherwise ignored."""

from __future__ import annotations

from dataclasses import dataclass, field

from podplane.streaming.spdy.frames import (
    Data,
    Frame,
    FrameDecoder,
    FrameEncoder,
    GoAway,
    GoAwayStatus,
    Headers,
    HeadersFrame,
    Ping,
    RstStatus,
    RstStream,
    Settings,
    SynReply,
    SynStream,
    WindowUpdate,
    data_frames,
)


# ------------------------------------------------------------------ events
@dataclass(frozen=True)
class StreamOpened:
    """The client opened a stream (SYN_STREAM); the handler replies or resets it."""

    stream_id: int
    headers: dict[str, list[str]]
    # The client sends nothing on it (FIN on the SYN_STREAM).
    fin: bool = False


@dataclass(frozen=True)
class DataReceived:
    stream_id: int
    data: bytes


@dataclass(frozen=True)
class StreamEnded:
    """The client has finished sending on the stream (FIN); it may still read."""

    stream_id: int


@dataclass(frozen=True)
class StreamReset:
    stream_id: int
    status: int


@dataclass(frozen=True)
class PingAnswered:
    """The client answered a ping of ours."""

    ping_id: int


@dataclass(frozen=True)
class GoAwayReceived:
    last_good_stream_id: int
    status: int


Event = StreamOpened | DataReceived | StreamEnded | StreamReset | PingAnswered | GoAwayReceived


@dataclass
class _Stream:
    stream_id: int
    headers: dict[str, list[str]] = field(default_factory=dict)
    replied: bool = False
    remote_closed: bool = False
    local_closed: bool = False


class ServerSession:
    def __init__(self) -> None:
        self._decoder = FrameDecoder()
        self._encoder = FrameEncoder()
        self._out = bytearray()
        self._streams: dict[int, _Stream] = {}
        self._last_stream_id = 0
        self._next_ping_id = 2  # a server's pings are even
        self.going_away = False  # this side sent GOAWAY
        self.gone_away = False  # the client sent GOAWAY
        self.settings: dict[int, int] = {}

    # ------------------------------------------------------------------ input
    def receive(self, data: bytes) -> list[Event]:
        """The events in the client's bytes; raises FrameError on bytes that are not SPDY/3
        (the driver then goes away with PROTOCOL_ERROR)."""
        events: list[Event] = []
        for frame in self._decoder.feed(data):
            events.extend(self._handle(frame))
        return events

    def _handle(self, frame: Frame) -> list[Event]:
        if isinstance(frame, SynStream):
            return self._opened(frame)
        if isinstance(frame, Data):
            stream = self._streams.get(frame.stream_id)
            if stream is None or stream.remote_closed:
                return []  # reset or finished meanwhile: dropped, as spdystream does
            events: list[Event] = [DataReceived(frame.stream_id, frame.data)] if frame.data else []
            if frame.fin:
                events.append(self._remote_end(stream))
            return events
        if isinstance(frame, HeadersFrame):
            stream = self._streams.get(frame.stream_id)
            if stream is not None and frame.fin and not stream.remote_closed:
                return [self._remote_end(stream)]
            return []
        if isinstance(frame, RstStream):
            if self._streams.pop(frame.stream_id, None) is None:
                return []
            return [StreamReset(frame.stream_id, frame.status)]
        if isinstance(frame, Ping):
            if frame.ping_id % 2 == 1:
                self._send(Ping(frame.ping_id))  # the client's: echoed
                return []
            return [PingAnswered(frame.ping_id)]
        if isinstance(frame, GoAway):
            self.gone_away = True
            return [GoAwayReceived(frame.last_good_stream_id, frame.status)]
        if isinstance(frame, Settings):
            if frame.clear:
                self.settings.clear()
            self.settings.update({setting: value for setting, value, _ in frame.entries})
            return []
        if isinstance(frame, (WindowUpdate, SynReply)):
            return []  # no flow control (see above); the server opens no streams
        return []

    def _opened(self, frame: SynStream) -> list[Event]:
        valid = frame.stream_id % 2 == 1 and frame.stream_id > self._last_stream_id
        if not valid:
            self._send(RstStream(frame.stream_id, RstStatus.PROTOCOL_ERROR))
            return []
        self._last_stream_id = frame.stream_id
        if self.going_away:
            self._send(RstStream(frame.stream_id, RstStatus.REFUSED_STREAM))
            return []
        headers = {name: list(values) for name, values in frame.headers.items()}
        stream = _Stream(
            frame.stream_id, headers, remote_closed=frame.fin, local_closed=frame.unidirectional
        )
        self._streams[frame.stream_id] = stream
        return [StreamOpened(frame.stream_id, headers, frame.fin)]

    def _remote_end(self, stream: _Stream) -> StreamEnded:
        stream.remote_closed = True
        self._forget_if_done(stream)
        return StreamEnded(stream.stream_id)

    def _forget_if_done(self, stream: _Stream) -> None:
        if stream.remote_closed and stream.local_closed:
            self._streams.pop(stream.stream_id, None)

    # ------------------------------------------------------------------ output
    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def _send(self, frame: Frame) -> None:
        self._out += self._encoder.encode(frame)

    def is_open(self, stream_id: int) -> bool:
        """Whether the server may still send on the stream."""
        stream = self._streams.get(stream_id)
        return stream is not None and not stream.local_closed

    def reply(self, stream_id: int, headers: Headers | None = None, fin: bool = False) -> None:
        """Accepts the client's stream (SYN_REPLY)."""
        stream = self._streams.get(stream_id)
        if stream is None or stream.replied:
            return
        stream.replied = True
        self._send(SynReply(stream_id, headers or {}, fin))
        if fin:
            stream.local_closed = True
            self._forget_if_done(stream)

    def send_data(self, stream_id: int, data: bytes, fin: bool = False) -> bool:
        """Sends on a replied stream; False (and nothing sent) once it is closed or reset."""
        stream = self._streams.get(stream_id)
        if stream is None or stream.local_closed or not stream.replied:
            return False
        for frame in data_frames(stream_id, data, fin):
            self._send(frame)
        if fin:
            stream.local_closed = True
            self._forget_if_done(stream)
        return True

    def end_stream(self, stream_id: int) -> None:
        """This side has finished sending on the stream (an empty data frame with FIN)."""
        self.send_data(stream_id, b"", fin=True)

    def reset(self, stream_id: int, status: int = RstStatus.CANCEL) -> None:
        """Ends the stream both ways (RST_STREAM); how spdystream refuses a stream, too."""
        stream = self._streams.pop(stream_id, None)
        if stream is not None and not (stream.local_closed and stream.remote_closed):
            self._send(RstStream(stream_id, status))

    def ping(self) -> int:
        ping_id = self._next_ping_id
        self._next_ping_id = ping_id + 2 if ping_id < 0x7FFFFFFD else 2
        self._send(Ping(ping_id))
        return ping_id

    def go_away(self, status: int = GoAwayStatus.OK) -> None:
        """No new streams; the last stream accepted is named."""
        if not self.going_away:
            self.going_away = True
            self._send(GoAway(self._last_stream_id, status))

    @property
    def open_streams(self) -> list[int]:
        return sorted(self._streams)
