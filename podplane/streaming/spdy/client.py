"""The client side of a SPDY/3.1 session, without I/O: the mirror of session.py's server, as
moby/spdystream's client connection behaves (what kubectl and the kubelet's CRI streaming clients
use). The client opens streams (SYN_STREAM, odd ids, increasing) and the server replies to them;
bytes from the server go in (`receive`), events come out; what this side sends becomes bytes to
send (`data_to_send`). Pings from the server (even ids) are echoed. No flow control, as
spdystream has none."""

from __future__ import annotations

from dataclasses import dataclass

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
    SynReply,
    SynStream,
    data_frames,
)
from podplane.streaming.spdy.session import (
    DataReceived,
    GoAwayReceived,
    StreamEnded,
    StreamReset,
)


@dataclass(frozen=True)
class StreamReplied:
    """The server accepted a stream this side opened (SYN_REPLY)."""

    stream_id: int
    headers: dict[str, list[str]]


ClientEvent = StreamReplied | DataReceived | StreamEnded | StreamReset | GoAwayReceived


@dataclass
class _Stream:
    stream_id: int
    remote_closed: bool = False
    local_closed: bool = False


class ClientSession:
    def __init__(self) -> None:
        self._decoder = FrameDecoder()
        self._encoder = FrameEncoder()
        self._out = bytearray()
        self._streams: dict[int, _Stream] = {}
        self._next_stream_id = 1
        self.gone_away = False

    # ------------------------------------------------------------------ input
    def receive(self, data: bytes) -> list[ClientEvent]:
        """The events in the server's bytes; raises FrameError on bytes that are not SPDY/3."""
        events: list[ClientEvent] = []
        for frame in self._decoder.feed(data):
            events.extend(self._handle(frame))
        return events

    def _handle(self, frame: Frame) -> list[ClientEvent]:
        if isinstance(frame, SynReply):
            stream = self._streams.get(frame.stream_id)
            if stream is None:
                return []
            events: list[ClientEvent] = [
                StreamReplied(frame.stream_id, {k: list(v) for k, v in frame.headers.items()})
            ]
            if frame.fin:
                events.append(self._remote_end(stream))
            return events
        if isinstance(frame, Data):
            stream = self._streams.get(frame.stream_id)
            if stream is None or stream.remote_closed:
                return []
            events = [DataReceived(frame.stream_id, frame.data)] if frame.data else []
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
            if frame.ping_id % 2 == 0:
                self._send(Ping(frame.ping_id))  # the server's: echoed
            return []
        if isinstance(frame, GoAway):
            self.gone_away = True
            return [GoAwayReceived(frame.last_good_stream_id, frame.status)]
        if isinstance(frame, SynStream):
            # Servers of these protocols open no streams: refused, as spdystream would.
            self._send(RstStream(frame.stream_id, RstStatus.REFUSED_STREAM))
        return []  # SETTINGS, WINDOW_UPDATE: no flow control (see above)

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

    def open_stream(self, headers: Headers, fin: bool = False) -> int:
        """Opens a stream (SYN_STREAM) with the headers; `fin`: this side sends nothing on it."""
        stream_id = self._next_stream_id
        self._next_stream_id += 2
        self._streams[stream_id] = _Stream(stream_id, local_closed=fin)
        self._send(SynStream(stream_id, headers, fin=fin))
        return stream_id

    def send_data(self, stream_id: int, data: bytes, fin: bool = False) -> bool:
        """Sends on an open stream; False (and nothing sent) once it is closed or reset."""
        stream = self._streams.get(stream_id)
        if stream is None or stream.local_closed:
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
        stream = self._streams.pop(stream_id, None)
        if stream is not None and not (stream.local_closed and stream.remote_closed):
            self._send(RstStream(stream_id, status))

    def go_away(self) -> None:
        self._send(GoAway(0, GoAwayStatus.OK))

    def is_open(self, stream_id: int) -> bool:
        """Whether the server may still send on the stream."""
        stream = self._streams.get(stream_id)
        return stream is not None and not stream.remote_closed
