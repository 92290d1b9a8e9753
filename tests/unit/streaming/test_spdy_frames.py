"""SPDY/3.1 frames as moby/spdystream (kubectl's side) writes and reads them: the bytes are
built here by hand from the SPDY/3 draft, not with the framer under test."""

from __future__ import annotations

import struct
import zlib

import pytest

from podplane.streaming.spdy import frames as f
from podplane.streaming.spdy.dictionary import HEADER_DICTIONARY


def go_header_block(pairs: list[tuple[str, str]], compressor: zlib._Compress) -> bytes:
    """A header block as spdystream's framer writes one: count, then length-prefixed names and
    values, through the connection's zlib stream (best compression, SPDY/3 dictionary), synced."""
    raw = struct.pack(">I", len(pairs)) + b"".join(
        struct.pack(">I", len(n)) + n.encode() + struct.pack(">I", len(v)) + v.encode()
        for n, v in pairs
    )
    return compressor.compress(raw) + compressor.flush(zlib.Z_SYNC_FLUSH)


def go_compressor() -> zlib._Compress:
    return zlib.compressobj(level=9, zdict=HEADER_DICTIONARY)


def control_frame(kind: int, flags: int, payload: bytes) -> bytes:
    return struct.pack(">HHI", 0x8000 | 3, kind, flags << 24 | len(payload)) + payload


def syn_stream(stream_id: int, block: bytes, flags: int = 0, priority: int = 0) -> bytes:
    return control_frame(1, flags, struct.pack(">IIBB", stream_id, 0, priority << 5, 0) + block)


def test_the_dictionary_is_spdy3s() -> None:
    # Its Adler-32 is the dictionary id in the zlib header of every SPDY/3 header block.
    assert len(HEADER_DICTIONARY) == 1423
    assert zlib.adler32(HEADER_DICTIONARY) == 0xE3C6A7C2
    assert go_header_block([], go_compressor())[2:6] == bytes.fromhex("e3c6a7c2")


def test_a_port_forward_syn_stream_from_a_go_client() -> None:
    # kubectl's first stream for a connection to port 80: the error stream of request 0.
    block = go_header_block(
        [("streamtype", "error"), ("port", "80"), ("requestid", "0")], go_compressor()
    )
    [frame] = f.FrameDecoder().feed(syn_stream(1, block))
    assert frame == f.SynStream(1, {"streamtype": ["error"], "port": ["80"], "requestid": ["0"]})
    assert f.header_value(frame.headers, "streamType") == "error"
    assert f.header_value(frame.headers, "requestID") == "0"


def test_a_syn_stream_captured_from_kubectl() -> None:
    # The first bytes kubectl 1.32 sent after the SPDY/3.1 upgrade of `port-forward 0:80` (Go's
    # own deflate, not zlib's): the error stream of its first connection.
    wire = bytes.fromhex(
        "800300010000003d0000000100000000000078f9e3c6a7c202253a703a2b294a4dcc851625aca9a080"
        "8614cb45a024cc6461c0c0c0c0590489c44c50e2663400000000ffff"
    )
    assert f.FrameDecoder().feed(wire) == [
        f.SynStream(1, {"streamtype": ["error"], "port": ["80"], "requestid": ["0"]})
    ]


def test_header_blocks_share_one_zlib_stream_per_direction() -> None:
    compressor, decoder = go_compressor(), f.FrameDecoder()
    first = syn_stream(1, go_header_block([("streamtype", "error"), ("port", "80")], compressor))
    # The second block refers back to the first: only a decoder that kept its state reads it.
    second = syn_stream(
        3, go_header_block([("streamtype", "data"), ("port", "80")], compressor), priority=2
    )
    frames = decoder.feed(first + second)
    assert frames == [
        f.SynStream(1, {"streamtype": ["error"], "port": ["80"]}),
        f.SynStream(3, {"streamtype": ["data"], "port": ["80"]}, priority=2),
    ]


def test_several_values_are_nul_joined_and_names_lowercased() -> None:
    block = go_header_block([("Accept", "a\x00b")], go_compressor())
    [frame] = f.FrameDecoder().feed(syn_stream(5, block, flags=f.FLAG_FIN))
    assert frame == f.SynStream(5, {"accept": ["a", "b"]}, fin=True)


def test_frames_split_anywhere_decode_the_same() -> None:
    block = go_header_block([("streamtype", "data"), ("port", "8080")], go_compressor())
    wire = (
        syn_stream(1, block)
        + struct.pack(">II", 1, 5)
        + b"hello"
        + struct.pack(">II", 1, f.FLAG_FIN << 24)
        + control_frame(6, 0, struct.pack(">I", 1))
    )
    decoder = f.FrameDecoder()
    frames = [frame for i in range(len(wire)) for frame in decoder.feed(wire[i : i + 1])]
    assert frames == [
        f.SynStream(1, {"streamtype": ["data"], "port": ["8080"]}),
        f.Data(1, b"hello"),
        f.Data(1, b"", fin=True),
        f.Ping(1),
    ]


def test_a_syn_reply_as_spdystream_reads_it() -> None:
    wire = f.FrameEncoder().encode(f.SynReply(1))
    kind, flags_length = struct.unpack(">II", wire[:8])
    assert kind == 0x80030002 and flags_length == len(wire) - 8
    assert struct.unpack(">I", wire[8:12]) == (1,)
    block = zlib.decompressobj(zdict=HEADER_DICTIONARY).decompress(wire[12:])
    assert block == struct.pack(">I", 0)  # no headers, as Kubernetes replies


def test_data_and_fin_on_the_wire() -> None:
    encoder = f.FrameEncoder()
    assert encoder.encode(f.Data(3, b"abc")) == bytes.fromhex("00000003 00000003") + b"abc"
    assert encoder.encode(f.Data(3, b"", fin=True)) == bytes.fromhex("00000003 01000000")
    assert encoder.encode(f.RstStream(3, f.RstStatus.CANCEL)) == bytes.fromhex(
        "80030003 00000008 00000003 00000005"
    )
    assert encoder.encode(f.GoAway(7)) == bytes.fromhex("80030007 00000008 00000007 00000000")


@pytest.mark.parametrize(
    "frame",
    [
        f.SynStream(
            1,
            {"streamtype": ["data"], "port": ["80"], "requestid": ["4"]},
            priority=7,
            unidirectional=True,
        ),
        f.SynReply(1, {"x": ["y", "z"]}, fin=True),
        f.HeadersFrame(3, {"a": ["b"]}),
        f.RstStream(1, f.RstStatus.PROTOCOL_ERROR),
        f.Settings(((f.SETTINGS_INITIAL_WINDOW_SIZE, 65536, 0), (4, 100, 1)), clear=True),
        f.Ping(2),
        f.GoAway(9, f.GoAwayStatus.INTERNAL_ERROR),
        f.WindowUpdate(1, 32768),
        f.Data(1, b"\x00" * 70000, fin=True),
    ],
)
def test_every_frame_round_trips(frame: f.Frame) -> None:
    assert f.FrameDecoder().feed(f.FrameEncoder().encode(frame)) == [frame]


def test_unknown_control_frames_are_skipped_other_versions_refused() -> None:
    noop = control_frame(5, 0, b"")  # SPDY/2's NOOP, gone from SPDY/3
    assert f.FrameDecoder().feed(noop + f.FrameEncoder().encode(f.Ping(1))) == [f.Ping(1)]
    with pytest.raises(f.FrameError, match="version 2"):
        f.FrameDecoder().feed(struct.pack(">HHI", 0x8002, 6, 4) + b"\x00\x00\x00\x01")
    with pytest.raises(f.FrameError):
        f.FrameDecoder().feed(syn_stream(1, b"not zlib at all"))
