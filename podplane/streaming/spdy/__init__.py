"""SPDY/3.1 as Kubernetes' port-forward speaks it: frames (frames.py, with the header
dictionary of dictionary.py) and the server side of a session without I/O (session.py)."""

from podplane.streaming.spdy.frames import FrameError, GoAwayStatus, RstStatus
from podplane.streaming.spdy.session import (
    DataReceived,
    Event,
    GoAwayReceived,
    PingAnswered,
    ServerSession,
    StreamEnded,
    StreamOpened,
    StreamReset,
)

__all__ = [
    "DataReceived",
    "Event",
    "FrameError",
    "GoAwayReceived",
    "GoAwayStatus",
    "PingAnswered",
    "RstStatus",
    "ServerSession",
    "StreamEnded",
    "StreamOpened",
    "StreamReset",
]
