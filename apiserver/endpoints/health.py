"""The apiserver's health checks, as kube-apiserver installs them: ping and log everywhere, etcd
(the storage's health check), on /readyz also etcd-readiness, informer-sync (the watch caches
filled) and, last, shutdown; and a poststarthook/<name> check per post-start hook, passing once
the hook has run (apiserver/server.py runs them through `PostStartHooks.run`). The REST door
answers them (apiserver/endpoints/rest/healthz.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from apiserver.storage.etcd import EtcdClient

# A check's answer: None when it passes, else why it failed.
Probe = Callable[[], Awaitable[str | None]]


@dataclass(frozen=True)
class HealthCheck:
    name: str
    probe: Probe


# The checks of each endpoint, by its name ("healthz", "livez", "readyz").
HealthChecks = Mapping[str, Sequence[HealthCheck]]

# --healthcheck-timeout and --readycheck-timeout's defaults.
ETCD_CHECK_TIMEOUT = 2.0

# The post-start hooks podplane has, in the order kube-apiserver registers them (the order
# their checks are listed in).
POST_START_HOOKS = (
    "generic-apiserver-start-informers",
    "priority-and-fairness-config-consumer",
    "priority-and-fairness-filter",
    "start-apiextensions-informers",
    "start-apiextensions-controllers",
    "crd-informer-synced",
    "start-system-namespaces-controller",
    "start-kube-apiserver-identity-lease-controller",
    "start-kube-apiserver-identity-lease-garbage-collector",
    "start-service-ip-repair-controllers",
    "rbac/bootstrap-roles",
    "scheduling/bootstrap-system-priority-classes",
    "priority-and-fairness-config-producer",
    "bootstrap-controller",
    "apiservice-registration-controller",
    "kube-apiserver-autoregistration",
)
# Those done once the watch caches have synced, and once the controllers they start run.
CACHE_HOOKS = (
    "generic-apiserver-start-informers",
    "start-apiextensions-informers",
    "crd-informer-synced",
)
CONTROLLER_HOOKS = (
    "start-apiextensions-controllers",
    "start-kube-apiserver-identity-lease-controller",
    "start-kube-apiserver-identity-lease-garbage-collector",
    "bootstrap-controller",
    "apiservice-registration-controller",
    "kube-apiserver-autoregistration",
)


async def _ping() -> str | None:
    return None


class WatchCache(Protocol):
    @property
    def ready(self) -> asyncio.Event: ...


class EtcdProbe:
    """etcd answers a status request within `timeout`; asked at most every timeout/2, the last
    answer repeated in between (storagebackend's rate-limited health check)."""

    def __init__(self, etcd: EtcdClient, timeout: float = ETCD_CHECK_TIMEOUT) -> None:
        self._etcd = etcd
        self._timeout = timeout
        self._last: tuple[float, str | None] | None = None
        self._lock = asyncio.Lock()

    async def __call__(self) -> str | None:
        async with self._lock:
            now = time.monotonic()
            if self._last is not None and now - self._last[0] < self._timeout / 2:
                return self._last[1]
            try:
                async with asyncio.timeout(self._timeout):
                    await self._etcd.status()
                reason = None
            except TimeoutError:
                reason = f"etcd did not answer within {self._timeout:g}s"
            except Exception as e:  # noqa: BLE001 - any failure is the check's reason
                reason = f"error getting data from etcd: {e}"
            self._last = (time.monotonic(), reason)
            return reason


class PostStartHooks:
    """Which post-start hooks have run; each one's check fails until it has."""

    def __init__(self, names: Iterable[str] = POST_START_HOOKS) -> None:
        self._done = dict.fromkeys(names, False)

    async def run(self, name: str, hook: Awaitable[object]) -> None:
        await hook
        self._done[name] = True

    def done(self, *names: str) -> None:
        for name in names:
            self._done[name] = True

    def checks(self) -> list[HealthCheck]:
        return [HealthCheck(f"poststarthook/{name}", self._probe(name)) for name in self._done]

    def _probe(self, name: str) -> Probe:
        async def probe() -> str | None:
            return None if self._done[name] else "not finished"

        return probe


class ServerHealth:
    """The checks of /healthz, /livez and /readyz over the server's etcd client and watch
    caches."""

    def __init__(self, etcd: EtcdClient, caches: Mapping[str, WatchCache]) -> None:
        self.hooks = PostStartHooks()
        self.shutting_down = False
        self._etcd = EtcdProbe(etcd)
        self._etcd_ready = EtcdProbe(etcd)
        self._caches = caches

    async def _informers(self) -> str | None:
        waiting = sorted(name for name, cache in self._caches.items() if not cache.ready.is_set())
        return f"{len(waiting)} informers not started yet: {waiting}" if waiting else None

    async def _shutdown(self) -> str | None:
        return "process is shutting down" if self.shutting_down else None

    def checks(self) -> HealthChecks:
        common: Sequence[HealthCheck] = (
            HealthCheck("ping", _ping),
            HealthCheck("log", _ping),  # logging never blocks here: it writes synchronously
            HealthCheck("etcd", self._etcd),
        )
        hooks = self.hooks.checks()
        readyz = [
            *common,
            HealthCheck("etcd-readiness", self._etcd_ready),
            HealthCheck("informer-sync", self._informers),
            *hooks,
            HealthCheck("shutdown", self._shutdown),
        ]
        return {"healthz": [*common, *hooks], "livez": [*common, *hooks], "readyz": readyz}
