"""The exec/attach channel protocol as kubectl's WebSocket client speaks it: which subprotocol
is chosen, how channels are framed both ways, resize and close messages, and the final Status
kubectl reads its exit code from."""

from __future__ import annotations

import base64
import json

import pytest

from podplane.streaming import remotecommand as rc


@pytest.mark.parametrize(
    ("requested", "chosen"),
    [
        (["v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io"], "v5.channel.k8s.io"),
        (["v4.channel.k8s.io"], "v4.channel.k8s.io"),
        # The apiserver serves any request that offers v5 itself, in v5.
        (["v4.channel.k8s.io", "v5.channel.k8s.io"], "v5.channel.k8s.io"),
        (["v3.channel.k8s.io", "v4.base64.channel.k8s.io"], "v4.base64.channel.k8s.io"),
        (["base64.channel.k8s.io"], "base64.channel.k8s.io"),
        ([], ""),  # no subprotocol: the unversioned channel.k8s.io, none named in the answer
    ],
)
def test_v5_or_else_the_first_supported_protocol_the_client_asks_for_wins(
    requested: list[str], chosen: str
) -> None:
    protocol = rc.negotiate(requested)
    assert protocol is not None and protocol.name == chosen


def test_unsupported_protocols_only_are_refused() -> None:
    assert rc.negotiate(["v3.channel.k8s.io", "SPDY/3.1+portforward.k8s.io"]) is None


def test_the_protocol_header_is_a_comma_separated_list() -> None:
    assert rc.requested_protocols(["v5.channel.k8s.io, v4.channel.k8s.io", " x "]) == [
        "v5.channel.k8s.io",
        "v4.channel.k8s.io",
        "x",
    ]


def test_binary_frames_start_with_the_channel_byte() -> None:
    v5 = rc.PROTOCOLS[rc.V5]
    assert v5.frame(rc.STDOUT, b"hi\n") == b"\x01hi\n"
    assert v5.frame(rc.STDERR, b"") == b"\x02"


def test_base64_frames_are_text_with_an_ascii_channel() -> None:
    v4 = rc.PROTOCOLS[rc.V4_BASE64]
    assert v4.frame(rc.STDOUT, b"hi\n") == "1" + base64.b64encode(b"hi\n").decode()
    decoder = rc.ChannelDecoder(v4)
    assert decoder.feed("0" + base64.b64encode(b"ls\n").decode()) == [rc.Stdin(b"ls\n")]


def test_stdin_resize_and_close_from_a_v5_client() -> None:
    decoder = rc.ChannelDecoder(rc.PROTOCOLS[rc.V5])
    # What client-go's websocket executor writes: stdin data, a resize (json.Encoder adds a
    # newline), then the CLOSE signal for stdin.
    assert decoder.feed(b"\x00echo hi\n") == [rc.Stdin(b"echo hi\n")]
    assert decoder.feed(b'\x04{"Width":120,"Height":40}\n') == [rc.Resize(120, 40)]
    assert decoder.feed(bytes([255, 0])) == [rc.StdinClosed()]
    assert decoder.feed(b"\x00late") == []  # nothing on stdin after its close
    assert decoder.feed(bytes([255, 0])) == []


def test_resize_values_may_span_and_share_messages() -> None:
    decoder = rc.ChannelDecoder(rc.PROTOCOLS[rc.V4])
    assert decoder.feed(b'\x04{"Width":80,') == []
    assert decoder.feed(b'\x04"Height":24}{"Width":100,"Height":30}') == [
        rc.Resize(80, 24),
        rc.Resize(100, 30),
    ]


def test_v4_has_no_close_signal() -> None:
    decoder = rc.ChannelDecoder(rc.PROTOCOLS[rc.V4])
    assert decoder.feed(bytes([255, 0])) == []  # channel 255: not one the client writes


def test_a_malformed_close_is_a_protocol_error() -> None:
    with pytest.raises(rc.ProtocolError):
        rc.ChannelDecoder(rc.PROTOCOLS[rc.V5]).feed(bytes([255, 0, 1]))


def test_a_non_zero_exit_is_the_failure_kubectl_reads_the_code_from() -> None:
    message = rc.PROTOCOLS[rc.V5].status_message(rc.exit_status(3))
    assert isinstance(message, bytes) and message[0] == rc.ERROR
    status = json.loads(message[1:])
    assert status == {
        "metadata": {},
        "status": "Failure",
        "reason": "NonZeroExitCode",
        "message": (
            "command terminated with non-zero exit code: command terminated with exit code 3"
        ),
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
    }


def test_success_is_a_status_from_v4_and_nothing_before() -> None:
    assert rc.PROTOCOLS[rc.V4].status_message(rc.exit_status(0)) == (
        b'\x03{"metadata":{},"status":"Success"}'
    )
    assert rc.PROTOCOLS[rc.V1].status_message(rc.success_status()) is None
    assert rc.PROTOCOLS[rc.V1].status_message(rc.internal_error_status("boom")) == (
        b"\x03Internal error occurred: boom"
    )
