"""SPDY/3.1 frames (SPDY Protocol draft 3.1, section 2), encoded and decoded, as moby/spdystream
and Kubernetes speak them.

Every frame has an 8-byte header. A control frame: the control bit and the version (3) in 2 bytes,
the type in 2, flags in 1, the payload's length in 3. A data frame: the stream id in 4 bytes (the
high bit clear), flags in 1, length in 3. SYN_STREAM, SYN_REPLY and HEADERS carry a name/value
header block (a 4-byte count, then each name and value behind a 4-byte length; a header's several
values are joined by NUL), compressed with zlib primed with the SPDY/3 dictionary. Each direction
of a session keeps one zlib stream for all its header blocks, flushed (Z_SYNC_FLUSH) after each."""

from __future__ import annotations

import enum
import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from podplane.streaming.spdy.dictionary import HEADER_DICTIONARY

VERSION = 3
FLAG_FIN = 0x01
FLAG_UNIDIRECTIONAL = 0x02
MAX_LENGTH = (1 << 24) - 1
MAX_STREAM_ID = 0x7FFFFFFF
# The window every stream starts with (section 2.6.8), and the settings id that changes it.
DEFAULT_WINDOW = 64 * 1024
SETTINGS_INITIAL_WINDOW_SIZE = 7

_HEADER = struct.Struct(">II")
_U32 = struct.Struct(">I")


class FrameType(enum.IntEnum):
    SYN_STREAM = 1
    SYN_REPLY = 2
    RST_STREAM = 3
    SETTINGS = 4
    PING = 6
    GOAWAY = 7
    HEADERS = 8
    WINDOW_UPDATE = 9


class RstStatus(enum.IntEnum):
    PROTOCOL_ERROR = 1
    INVALID_STREAM = 2
    REFUSED_STREAM = 3
    UNSUPPORTED_VERSION = 4
    CANCEL = 5
    INTERNAL_ERROR = 6
    FLOW_CONTROL_ERROR = 7
    STREAM_IN_USE = 8
    STREAM_ALREADY_CLOSED = 9


class GoAwayStatus(enum.IntEnum):
    OK = 0
    PROTOCOL_ERROR = 1
    INTERNAL_ERROR = 2


class FrameError(Exception):
    """Bytes that are not SPDY/3 frames; the session cannot go on."""


# Header names are lowercase on the wire; a name may have several values.
Headers = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class SynStream:
    stream_id: int
    headers: Headers
    associated_to: int = 0
    priority: int = 0
    fin: bool = False
    unidirectional: bool = False


@dataclass(frozen=True)
class SynReply:
    stream_id: int
    headers: Headers = field(default_factory=dict)
    fin: bool = False


@dataclass(frozen=True)
class RstStream:
    stream_id: int
    status: int


@dataclass(frozen=True)
class Settings:
    # (id, value, flags) as sent.
    entries: tuple[tuple[int, int, int], ...] = ()
    clear: bool = False


@dataclass(frozen=True)
class Ping:
    ping_id: int


@dataclass(frozen=True)
class GoAway:
    last_good_stream_id: int
    status: int = GoAwayStatus.OK


@dataclass(frozen=True)
class HeadersFrame:
    stream_id: int
    headers: Headers
    fin: bool = False


@dataclass(frozen=True)
class WindowUpdate:
    stream_id: int
    delta: int


@dataclass(frozen=True)
class Data:
    stream_id: int
    data: bytes
    fin: bool = False


Frame = (
    SynStream | SynReply | RstStream | Settings | Ping | GoAway | HeadersFrame | WindowUpdate | Data
)


def data_frames(stream_id: int, data: bytes, fin: bool = False) -> list[Data]:
    """`data` as DATA frames of at most MAX_LENGTH bytes, FIN on the last (an empty frame carries
    FIN alone)."""
    if not data:
        return [Data(stream_id, b"", True)] if fin else []
    return [
        Data(stream_id, data[start : start + MAX_LENGTH], fin and start + MAX_LENGTH >= len(data))
        for start in range(0, len(data), MAX_LENGTH)
    ]


def header_value(headers: Headers, name: str) -> str:
    """The header's first value ("" when absent), its name matched case-insensitively."""
    values = headers.get(name.lower()) or ()
    return values[0] if values else ""


# ------------------------------------------------------------------ header blocks
def encode_header_block(headers: Headers) -> bytes:
    """The uncompressed name/value block; names lowercased, several values NUL-joined."""
    out = [_U32.pack(len(headers))]
    for name, values in headers.items():
        raw_name = name.lower().encode()
        raw_value = "\x00".join(values).encode()
        out += [_U32.pack(len(raw_name)), raw_name, _U32.pack(len(raw_value)), raw_value]
    return b"".join(out)


def decode_header_block(block: bytes) -> dict[str, list[str]]:
    def take(offset: int, size: int) -> bytes:
        if offset + size > len(block):
            raise FrameError("header block ends early")
        return block[offset : offset + size]

    count = _U32.unpack(take(0, 4))[0]
    headers: dict[str, list[str]] = {}
    offset = 4
    for _ in range(count):
        size = _U32.unpack(take(offset, 4))[0]
        name = take(offset + 4, size).decode("utf-8", errors="replace").lower()
        offset += 4 + size
        size = _U32.unpack(take(offset, 4))[0]
        value = take(offset + 4, size).decode("utf-8", errors="replace")
        offset += 4 + size
        headers.setdefault(name, []).extend(value.split("\x00"))
    return headers


class HeaderCompressor:
    """One direction's zlib stream for header blocks."""

    def __init__(self) -> None:
        self._zlib = zlib.compressobj(level=9, zdict=HEADER_DICTIONARY)

    def compress(self, headers: Headers) -> bytes:
        block = encode_header_block(headers)
        return self._zlib.compress(block) + self._zlib.flush(zlib.Z_SYNC_FLUSH)


class HeaderDecompressor:
    def __init__(self) -> None:
        self._zlib = zlib.decompressobj(zdict=HEADER_DICTIONARY)

    def decompress(self, payload: bytes) -> dict[str, list[str]]:
        try:
            block = self._zlib.decompress(payload)
        except zlib.error as e:
            raise FrameError(f"header block: {e}") from None
        return decode_header_block(block)


# ------------------------------------------------------------------ encoding
def _control(kind: FrameType, flags: int, payload: bytes) -> bytes:
    if len(payload) > MAX_LENGTH:
        raise FrameError(f"{kind.name} payload of {len(payload)} bytes is too long")
    return _HEADER.pack(0x80000000 | VERSION << 16 | kind, flags << 24 | len(payload)) + payload


class FrameEncoder:
    """Frames to bytes, for one direction of a session (its header compression context)."""

    def __init__(self) -> None:
        self._headers = HeaderCompressor()

    def encode(self, frame: Frame) -> bytes:
        if isinstance(frame, Data):
            if not 0 < frame.stream_id <= MAX_STREAM_ID or len(frame.data) > MAX_LENGTH:
                raise FrameError(f"invalid data frame for stream {frame.stream_id}")
            flags = FLAG_FIN if frame.fin else 0
            return _HEADER.pack(frame.stream_id, flags << 24 | len(frame.data)) + frame.data
        if isinstance(frame, SynStream):
            flags = (FLAG_FIN if frame.fin else 0) | (
                FLAG_UNIDIRECTIONAL if frame.unidirectional else 0
            )
            payload = struct.pack(
                ">IIBB", frame.stream_id, frame.associated_to, (frame.priority & 0x7) << 5, 0
            ) + self._headers.compress(frame.headers)
            return _control(FrameType.SYN_STREAM, flags, payload)
        if isinstance(frame, SynReply):
            payload = _U32.pack(frame.stream_id) + self._headers.compress(frame.headers)
            return _control(FrameType.SYN_REPLY, FLAG_FIN if frame.fin else 0, payload)
        if isinstance(frame, HeadersFrame):
            payload = _U32.pack(frame.stream_id) + self._headers.compress(frame.headers)
            return _control(FrameType.HEADERS, FLAG_FIN if frame.fin else 0, payload)
        if isinstance(frame, RstStream):
            return _control(
                FrameType.RST_STREAM, 0, struct.pack(">II", frame.stream_id, frame.status)
            )
        if isinstance(frame, Settings):
            payload = _U32.pack(len(frame.entries)) + b"".join(
                struct.pack(">II", flags << 24 | setting, value)
                for setting, value, flags in frame.entries
            )
            return _control(FrameType.SETTINGS, 1 if frame.clear else 0, payload)
        if isinstance(frame, Ping):
            return _control(FrameType.PING, 0, _U32.pack(frame.ping_id))
        if isinstance(frame, GoAway):
            return _control(
                FrameType.GOAWAY, 0, struct.pack(">II", frame.last_good_stream_id, frame.status)
            )
        if isinstance(frame, WindowUpdate):
            return _control(
                FrameType.WINDOW_UPDATE, 0, struct.pack(">II", frame.stream_id, frame.delta)
            )
        raise TypeError(f"not a SPDY frame: {frame!r}")


# ------------------------------------------------------------------ decoding
class FrameDecoder:
    """Bytes, in whatever pieces they arrive, to frames, for one direction of a session.
    Control frames of types SPDY/3.1 does not define are skipped, as the draft asks."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._headers = HeaderDecompressor()

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        while len(self._buffer) >= _HEADER.size:
            first, second = _HEADER.unpack_from(self._buffer)
            length = second & MAX_LENGTH
            if len(self._buffer) < _HEADER.size + length:
                break
            payload = bytes(self._buffer[_HEADER.size : _HEADER.size + length])
            del self._buffer[: _HEADER.size + length]
            flags = second >> 24
            if first & 0x80000000:
                frame = self._control(first >> 16 & 0x7FFF, first & 0xFFFF, flags, payload)
                if frame is not None:
                    frames.append(frame)
            else:
                if first == 0:
                    raise FrameError("a data frame for stream 0")
                frames.append(Data(first, payload, bool(flags & FLAG_FIN)))
        return frames

    def _control(self, version: int, kind: int, flags: int, payload: bytes) -> Frame | None:
        if version != VERSION:
            raise FrameError(f"SPDY version {version} is not supported (3 is)")
        fin = bool(flags & FLAG_FIN)
        try:
            if kind == FrameType.SYN_STREAM:
                stream_id, associated, priority = struct.unpack_from(">IIB", payload)
                return SynStream(
                    stream_id & MAX_STREAM_ID,
                    self._headers.decompress(payload[10:]),
                    associated & MAX_STREAM_ID,
                    priority >> 5,
                    fin,
                    bool(flags & FLAG_UNIDIRECTIONAL),
                )
            if kind in (FrameType.SYN_REPLY, FrameType.HEADERS):
                stream_id = _U32.unpack_from(payload)[0] & MAX_STREAM_ID
                headers = self._headers.decompress(payload[4:])
                if kind == FrameType.SYN_REPLY:
                    return SynReply(stream_id, headers, fin)
                return HeadersFrame(stream_id, headers, fin)
            if kind == FrameType.RST_STREAM:
                stream_id, status = struct.unpack_from(">II", payload)
                return RstStream(stream_id & MAX_STREAM_ID, status)
            if kind == FrameType.SETTINGS:
                count = _U32.unpack_from(payload)[0]
                entries = []
                for i in range(count):
                    flags_id, value = struct.unpack_from(">II", payload, 4 + 8 * i)
                    entries.append((flags_id & 0xFFFFFF, value, flags_id >> 24))
                return Settings(tuple(entries), bool(flags & 1))
            if kind == FrameType.PING:
                return Ping(_U32.unpack_from(payload)[0])
            if kind == FrameType.GOAWAY:
                last, status = struct.unpack_from(">II", payload)
                return GoAway(last & MAX_STREAM_ID, status)
            if kind == FrameType.WINDOW_UPDATE:
                stream_id, delta = struct.unpack_from(">II", payload)
                return WindowUpdate(stream_id & MAX_STREAM_ID, delta & 0x7FFFFFFF)
        except struct.error:
            raise FrameError(f"control frame of type {kind} is too short") from None
        return None
