"""Each controller's client (k8s.io/controller-manager's clientbuilder). Without
--use-service-account-credentials every controller shares the manager's own client
(SimpleControllerClientBuilder). With it, a controller runs as its service account
kube-system/<name>, as kube-controller-manager's DynamicControllerClientBuilder builds it: with
the manager's own credentials the account is read, or created when missing, and a token is
requested for it (the serviceaccounts/<name>/token subresource, an hour's expiry); the
controller's client sends that token instead of the manager's certificate, and a new one is
requested once 80 % of its life has passed, or as soon as the apiserver refuses it (401). The
informers stay on the manager's own client (CreateControllerContext's "shared-informers")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Protocol

import grpc

from podplane.api.authentication.v1 import token_request_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import timeutil
from podplane.apimachinery.serviceaccount import make_username
from podplane.client.clientset import Client, is_already_exists, is_not_found
from podplane.client.credentials import Credentials

log = logging.getLogger(__name__)

NAMESPACE = "kube-system"
# client_builder_dynamic.go's defaultExpirationSeconds and defaultLeewayPercent.
DEFAULT_EXPIRATION_SECONDS = 3600
DEFAULT_LEEWAY_PERCENT = 20
# A token shorter-lived than this is taken to be clock skew and trusted this long.
MIN_LIFETIME = 600.0
# tokenSourceImpl's back-off: 0.5 s, doubled, four attempts.
BACKOFF = (0.5, 1.0, 2.0)
# How long a failed refresh waits before the next attempt (the old token may still serve).
RETRY_AFTER_FAILURE = 10.0


class ClientBuilder(Protocol):
    async def client(self, name: str) -> Client:
        """The client of the controller whose service account is kube-system/`name`."""
        ...

    async def close(self) -> None: ...


class RootClientBuilder:
    """Every controller with the manager's own client (SimpleControllerClientBuilder)."""

    def __init__(self, root: Client) -> None:
        self.root = root

    async def client(self, name: str) -> Client:
        return self.root

    async def close(self) -> None:
        """The root client is its owner's to close."""


async def get_or_create_service_account(
    core: Client, namespace: str, name: str
) -> core_pb2.ServiceAccount:
    """The service account, created if missing (and its namespace, if that is missing too and
    the caller may create it; a refusal there is left to the account's create to report)."""
    try:
        return await core.serviceaccounts.get(name, namespace)
    except Exception as e:
        if not is_not_found(e):
            raise
    try:
        await core.namespaces.get(namespace)
    except grpc.RpcError as e:
        if is_not_found(e):
            with contextlib.suppress(grpc.RpcError):
                await core.namespaces.create(
                    core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=namespace))
                )
    account = core_pb2.ServiceAccount(metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace))
    try:
        return await core.serviceaccounts.create(account)
    except Exception as e:
        if not is_already_exists(e):
            raise
        return await core.serviceaccounts.get(name, namespace)  # another replica's, just made


class ServiceAccountTokenSource:
    """The token of one service account, kept fresh (tokenSourceImpl behind client-go's cached,
    resettable token source). `token()` never blocks: `run()` renews the token in the
    background at 80 % of its life, or at once after `unauthorized()`."""

    def __init__(
        self,
        core: Client,
        namespace: str,
        name: str,
        *,
        expiration_seconds: int = DEFAULT_EXPIRATION_SECONDS,
        leeway_percent: int = DEFAULT_LEEWAY_PERCENT,
        clock: Callable[[], float] = time.time,
        backoff: tuple[float, ...] = BACKOFF,
    ) -> None:
        self.core = core
        self.namespace, self.name = namespace, name
        self.expiration_seconds = expiration_seconds
        self.leeway_percent = leeway_percent
        self.clock = clock
        self.backoff = backoff
        self._token = ""
        self.refresh_at = 0.0  # when the token is renewed (wall clock)
        self._refresh_now = asyncio.Event()

    def token(self) -> str:
        return self._token

    def unauthorized(self) -> None:
        self._refresh_now.set()

    async def fetch(self) -> None:
        """Gets a new token: the account made sure of and a token requested, retried with
        back-off; raises after the last attempt fails."""
        for attempt, pause in enumerate((*self.backoff, None)):
            try:
                await get_or_create_service_account(self.core, self.namespace, self.name)
                answer = await self.core.create_token(
                    token_request_pb2.TokenRequest(
                        metadata=meta_pb2.ObjectMeta(name=self.name, namespace=self.namespace),
                        spec=token_request_pb2.TokenRequestSpec(
                            expiration_seconds=self.expiration_seconds
                        ),
                    )
                )
                break
            except Exception as e:
                if pause is None:
                    raise RuntimeError(
                        f"failed to get token for {self.namespace}/{self.name}: {e}"
                    ) from e
                log.info(
                    "token for %s/%s, attempt %d: %s", self.namespace, self.name, attempt + 1, e
                )
                await asyncio.sleep(pause)
        now = self.clock()
        expires = timeutil.parse(answer.status.expiration_timestamp)
        lifetime = (expires.timestamp() - now) if expires is not None else 0.0
        lifetime = max(lifetime, MIN_LIFETIME)  # possible clock skew
        self._token = answer.status.token
        self.refresh_at = now + lifetime - lifetime * self.leeway_percent / 100

    async def run(self) -> None:
        """Renews the token when it is due or refused, until cancelled."""
        while True:
            delay = max(0.0, self.refresh_at - self.clock())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._refresh_now.wait()
            self._refresh_now.clear()
            try:
                await self.fetch()
            except RuntimeError as e:
                log.warning("%s; retrying in %.0fs", e, RETRY_AFTER_FAILURE)
                self.refresh_at = self.clock() + RETRY_AFTER_FAILURE


class ServiceAccountClientBuilder:
    """Clients that authenticate as kube-system service accounts (DynamicControllerClientBuilder):
    one client and one token per account, however many controllers share it."""

    def __init__(
        self,
        root: Client,
        credentials: Credentials,
        *,
        target: str = "",
        namespace: str = NAMESPACE,
        agent: str | None = None,
        expiration_seconds: int = DEFAULT_EXPIRATION_SECONDS,
    ) -> None:
        """`root` is the manager's own client, `credentials` its credentials (their CA and
        server name are kept, the certificate or token replaced by the account's); the
        accounts' clients call `target`, the apiserver's token port (default: root's)."""
        self.root = root
        self.target = target or root.target
        self.credentials = credentials
        self.namespace = namespace
        self.agent = agent
        self.expiration_seconds = expiration_seconds
        self.sources: dict[str, ServiceAccountTokenSource] = {}
        self._clients: dict[str, Client] = {}
        self._renewals: list[asyncio.Task[None]] = []

    async def client(self, name: str) -> Client:
        found = self._clients.get(name)
        if found is not None:
            return found
        source = ServiceAccountTokenSource(
            self.root, self.namespace, name, expiration_seconds=self.expiration_seconds
        )
        await source.fetch()
        self.sources[name] = source
        self._renewals.append(asyncio.create_task(source.run(), name=f"token-{name}"))
        user = make_username(self.namespace, name)
        # constructClient's user agent: the manager's, then the account's user name.
        agent = f"{self.agent}/{user}" if self.agent else None
        client = Client(
            self.target,
            timeout=self.root.timeout,
            credentials=self.credentials.with_token_source(source),
            agent=agent,
        )
        self._clients[name] = client
        return client

    async def close(self) -> None:
        for task in self._renewals:
            task.cancel()
        await asyncio.gather(*self._renewals, return_exceptions=True)
        for client in self._clients.values():
            await client.close()
        self._renewals.clear()
        self._clients.clear()
