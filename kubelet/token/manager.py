"""The kubelet's token manager (pkg/kubelet/token/token_manager.go): service account tokens bound to
the node's pods, asked of the TokenRequest API and kept until they need refreshing, which is when
80 % of their lifetime has passed or they are older than 24 hours (less a jitter of up to 10 s, so
a node's pods do not all ask at once). A token that cannot be refreshed is used while it is still
valid."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Protocol

import grpc

from podplane.api.authentication.v1 import token_request_pb2
from podplane.apimachinery import timeutil
from podplane.client.clientset import Client

log = logging.getLogger(__name__)
MAX_TTL_SECONDS = 24 * 3600.0
MAX_JITTER_SECONDS = 10.0


class TokenError(Exception):
    """No token can be had (and no valid one is cached)."""


class TokenGetter(Protocol):
    """Where tokens come from: serviceaccounts/<name>/token in the namespace."""

    async def create_token(
        self, namespace: str, name: str, request: token_request_pb2.TokenRequest
    ) -> token_request_pb2.TokenRequest: ...


class ClientTokenGetter:
    """The apiserver's TokenRequest API, with the kubelet's credentials (the node authorizer lets
    a node ask only for the accounts of pods bound to it)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def create_token(
        self, namespace: str, name: str, request: token_request_pb2.TokenRequest
    ) -> token_request_pb2.TokenRequest:
        body = token_request_pb2.TokenRequest()
        body.CopyFrom(request)
        body.metadata.namespace, body.metadata.name = namespace, name
        try:
            return await self.client.create_token(body)
        except grpc.aio.AioRpcError as e:
            raise TokenError(e.details() or str(e.code())) from e


def _key(namespace: str, name: str, request: token_request_pb2.TokenRequest) -> str:
    spec = request.spec
    ref = spec.bound_object_ref
    expiration = spec.expiration_seconds if spec.HasField("expiration_seconds") else None
    return repr((name, namespace, tuple(spec.audiences), expiration, ref.kind, ref.name, ref.uid))


def _expires_at(tr: token_request_pb2.TokenRequest) -> float:
    when = timeutil.parse(tr.status.expiration_timestamp)
    return when.timestamp() if when is not None else 0.0


class TokenManager:
    def __init__(
        self,
        getter: TokenGetter,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = lambda: random.uniform(0, MAX_JITTER_SECONDS),
    ) -> None:
        self.getter = getter
        self.clock = clock
        self.jitter = jitter
        self._cache: dict[str, token_request_pb2.TokenRequest] = {}

    def requires_refresh(self, tr: token_request_pb2.TokenRequest) -> bool:
        """Older than 24 h, or in the last 20 % of its lifetime (both less the jitter)."""
        if not tr.spec.HasField("expiration_seconds"):
            return False
        now = self.clock()
        expires = _expires_at(tr)
        issued = expires - tr.spec.expiration_seconds
        jitter = self.jitter()
        if now > issued + MAX_TTL_SECONDS - jitter:
            return True
        return now > expires - tr.spec.expiration_seconds * 20 // 100 - jitter

    def expired(self, tr: token_request_pb2.TokenRequest) -> bool:
        return self.clock() > _expires_at(tr)

    async def service_account_token(
        self, namespace: str, name: str, request: token_request_pb2.TokenRequest
    ) -> token_request_pb2.TokenRequest:
        """The cached token for this request, or a new one when it needs refreshing."""
        key = _key(namespace, name, request)
        cached = self._cache.get(key)
        if cached is not None and not self.requires_refresh(cached):
            return cached
        try:
            fresh = await self.getter.create_token(namespace, name, request)
        except TokenError as e:
            if cached is None:
                raise TokenError(f"failed to fetch token: {e}") from e
            if self.expired(cached):
                raise TokenError(f"token {key} expired and refresh failed: {e}") from e
            log.warning("couldn't update token %s: %s", key, e)
            return cached
        # The answer's spec is the request's, with the expiry the apiserver granted.
        answer = token_request_pb2.TokenRequest()
        answer.CopyFrom(fresh)
        answer.spec.CopyFrom(request.spec)
        if fresh.spec.HasField("expiration_seconds"):
            answer.spec.expiration_seconds = fresh.spec.expiration_seconds
        self._cache[key] = answer
        return answer

    def delete_for_pod(self, uid: str) -> None:
        """Forgets the tokens bound to the pod (it is gone)."""
        self._cache = {
            k: tr for k, tr in self._cache.items() if tr.spec.bound_object_ref.uid != uid
        }

    def remove_expired(self) -> None:
        self._cache = {k: tr for k, tr in self._cache.items() if not self.expired(tr)}
