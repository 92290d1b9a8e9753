"""A fake clock and a fake TokenRequest API for the kubelet's token manager and its volumes."""

from __future__ import annotations

from datetime import UTC, datetime

from kubelet.token.manager import TokenError
from podplane.api.authentication.v1 import token_request_pb2
from podplane.apimachinery import timeutil

START = 1_800_000_000.0


class FakeClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


class FakeTokenAPI:
    """Issues token-1, token-2, ... valid for what was asked, from the clock's now."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.issued = 0
        self.failing = False
        # (namespace, account, bound pod, its uid, audiences) of each request.
        self.asked: list[tuple[str, str, str, str, list[str]]] = []

    async def create_token(
        self, namespace: str, name: str, request: token_request_pb2.TokenRequest
    ) -> token_request_pb2.TokenRequest:
        if self.failing:
            raise TokenError("the apiserver is away")
        ref = request.spec.bound_object_ref
        self.asked.append((namespace, name, ref.name, ref.uid, list(request.spec.audiences)))
        self.issued += 1
        out = token_request_pb2.TokenRequest()
        out.CopyFrom(request)
        seconds = request.spec.expiration_seconds
        out.status.token = f"token-{self.issued}"
        out.status.expiration_timestamp = timeutil.format_time(
            datetime.fromtimestamp(self.clock.now + seconds, UTC)
        )
        return out
