"""Kubernetes' remotecommand channel protocol over WebSocket messages (exec and attach; wsstream's
channel.k8s.io family), as bytes in and bytes out.

Each message carries one channel's data behind a first byte naming the channel: 0 stdin, 1 stdout,
2 stderr, 3 error (the final metav1.Status, JSON from v4 on), 4 resize (JSON
{"Width": w, "Height": h} values, a stream of them). v5.channel.k8s.io adds the client's
[255, channel] message, which closes that channel (stdin's end). The base64 variants send text
messages: the channel as an ASCII digit, then the data in base64.

Protocols, best first as a server picks among what the client asks: v5.channel.k8s.io,
v4.channel.k8s.io, v4.base64.channel.k8s.io, channel.k8s.io, base64.channel.k8s.io, and no
subprotocol at all (channel.k8s.io unnamed). Before v4 the error channel carries the failure's
message as plain text and nothing on success."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from podplane.apimachinery.json_types import JSONObject

STDIN = 0
STDOUT = 1
STDERR = 2
ERROR = 3
RESIZE = 4
CLOSE = 255
CHANNELS = {"stdout": STDOUT, "stderr": STDERR}

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
V4_BASE64 = "v4.base64.channel.k8s.io"
V1 = "channel.k8s.io"
V1_BASE64 = "base64.channel.k8s.io"
# WebSocket subprotocol header, and the reason and cause kubectl reads an exit code from.
PROTOCOL_HEADER = "Sec-WebSocket-Protocol"
NON_ZERO_EXIT_CODE = "NonZeroExitCode"
EXIT_CODE_CAUSE = "ExitCode"


@dataclass(frozen=True)
class ChannelProtocol:
    name: str
    base64: bool = False
    # [255, channel] closes a channel (v5).
    stream_close: bool = False
    # The error channel carries a metav1.Status as JSON (v4 and later).
    status_json: bool = False

    def frame(self, channel: int, data: bytes) -> bytes | str:
        """One WebSocket message: binary, or text for the base64 protocols."""
        if self.base64:
            return chr(ord("0") + channel) + base64.b64encode(data).decode("ascii")
        return bytes((channel,)) + data

    def status_message(self, status: JSONObject) -> bytes | str | None:
        """The error channel's message for a final Status, or None when nothing is sent (a
        success before v4)."""
        if self.status_json:
            payload = json.dumps(status, separators=(",", ":")).encode()
        elif status.get("status") == "Success":
            return None
        else:
            payload = str(status.get("message", "")).encode()
        return self.frame(ERROR, payload)


PROTOCOLS: dict[str, ChannelProtocol] = {
    V5: ChannelProtocol(V5, stream_close=True, status_json=True),
    V4: ChannelProtocol(V4, status_json=True),
    V4_BASE64: ChannelProtocol(V4_BASE64, base64=True, status_json=True),
    V1: ChannelProtocol(V1),
    V1_BASE64: ChannelProtocol(V1_BASE64, base64=True),
}
# A client that names no subprotocol speaks channel.k8s.io; the response names none either.
UNNAMED = ChannelProtocol("")


def requested_protocols(header_values: Iterable[str]) -> list[str]:
    """The subprotocols of the request's Sec-WebSocket-Protocol headers, in order."""
    return [p.strip() for value in header_values for p in value.split(",") if p.strip()]


def negotiate(requested: Sequence[str]) -> ChannelProtocol | None:
    """v5 whenever the client offers it (kube-apiserver serves such a request itself, its stream
    translator speaking v5 only); otherwise the first of the client's protocols the kubelet speaks
    (wsstream's handshake); UNNAMED when it asks for none; None when it asks only for others (the
    handshake's bare 403)."""
    if not requested:
        return UNNAMED
    if V5 in requested:
        return PROTOCOLS[V5]
    for name in requested:
        if name in PROTOCOLS:
            return PROTOCOLS[name]
    return None


# ------------------------------------------------------------------ what the client sends
@dataclass(frozen=True)
class Stdin:
    data: bytes


@dataclass(frozen=True)
class StdinClosed:
    pass


@dataclass(frozen=True)
class Resize:
    width: int
    height: int


ClientEvent = Stdin | StdinClosed | Resize


class ProtocolError(Exception):
    """A message the protocol does not allow; the connection ends."""


class ChannelDecoder:
    """Turns the client's messages into events. Resize events are a stream of JSON values that
    may span messages, as the server's JSON decoder reads them."""

    def __init__(self, protocol: ChannelProtocol) -> None:
        self.protocol = protocol
        self._resize = ""
        self._json = json.JSONDecoder()
        self.stdin_closed = False

    def feed(self, message: bytes | str) -> list[ClientEvent]:
        if isinstance(message, str):
            message = message.encode()
        if not message:
            return []
        if self.protocol.stream_close and message[0] == CLOSE:
            if len(message) != 2:
                raise ProtocolError(f"a close message names one channel, got {len(message) - 1}")
            if message[1] == STDIN and not self.stdin_closed:
                self.stdin_closed = True
                return [StdinClosed()]
            return []
        channel, data = message[0], message[1:]
        if self.protocol.base64:
            channel -= ord("0")
            try:
                data = base64.b64decode(data, validate=True)
            except ValueError as e:
                raise ProtocolError(f"channel {channel}: bad base64: {e}") from None
        if channel == STDIN:
            return [Stdin(data)] if data and not self.stdin_closed else []
        if channel == RESIZE:
            return self._resizes(data)
        return []  # the client writes on no other channel; wsstream drops such frames too

    def _resizes(self, data: bytes) -> list[ClientEvent]:
        self._resize += data.decode("utf-8", errors="replace")
        events: list[ClientEvent] = []
        while True:
            text = self._resize.lstrip()
            if not text:
                self._resize = ""
                return events
            try:
                value, end = self._json.raw_decode(text)
            except json.JSONDecodeError:
                self._resize = text  # incomplete: the rest comes in a later message
                return events
            self._resize = text[end:]
            if isinstance(value, dict):
                events.append(Resize(_size(value.get("Width")), _size(value.get("Height"))))


def _size(value: object) -> int:
    return value if isinstance(value, int) and 0 <= value < 65536 else 0


# ------------------------------------------------------------------ the final status
def success_status() -> JSONObject:
    return {"metadata": {}, "status": "Success"}


def exit_status(exit_code: int) -> JSONObject:
    """Success for 0; otherwise the Failure kubectl turns into its own exit code."""
    if exit_code == 0:
        return success_status()
    return {
        "metadata": {},
        "status": "Failure",
        "message": (
            "command terminated with non-zero exit code: command terminated with "
            f"exit code {exit_code}"
        ),
        "reason": NON_ZERO_EXIT_CODE,
        "details": {"causes": [{"reason": EXIT_CODE_CAUSE, "message": str(exit_code)}]},
    }


def internal_error_status(message: str) -> JSONObject:
    """apierrors.NewInternalError: what the server writes when the command could not run."""
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"Internal error occurred: {message}",
        "reason": "InternalError",
        "details": {"causes": [{"message": message}]},
        "code": 500,
    }
