"""The APIServices that name a Service, by group/version (the proxy's handlingInfo, which
kube-aggregator's APIServiceRegistrationController keeps from the APIServices' informer): where
each is, the CA its certificate must chain to, and whether it is Available. Fed by the
APIServices' watch cache; whoever wants to hear of a change (discovery) subscribes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from podplane.apimachinery import apiservices
from podplane.apimachinery.apiservices import APIService

DEFAULT_PORT = 443


@dataclass(frozen=True)
class Backend:
    """An APIService with a service: what the proxy needs of it."""

    name: str
    group: str
    version: str
    namespace: str
    service: str
    port: int
    ca_bundle: bytes
    insecure_skip_tls_verify: bool
    available: bool
    group_priority_minimum: int
    version_priority: int

    @property
    def server_name(self) -> str:
        """The name its certificate must carry (and SNI sends): <service>.<namespace>.svc."""
        return f"{self.service}.{self.namespace}.svc"


def is_available(obj: APIService) -> bool:
    """IsAPIServiceConditionTrue(Available)."""
    return any(
        c.type == apiservices.AVAILABLE and c.status == "True" for c in obj.status.conditions
    )


def backend_of(obj: APIService) -> Backend | None:
    """The APIService's backend, None for a local one."""
    spec = obj.spec
    if not spec.HasField("service"):
        return None
    svc = spec.service
    return Backend(
        name=obj.metadata.name,
        group=spec.group,
        version=spec.version,
        namespace=svc.namespace,
        service=svc.name,
        port=svc.port if svc.HasField("port") else DEFAULT_PORT,
        ca_bundle=bytes(spec.ca_bundle),
        insecure_skip_tls_verify=spec.insecure_skip_tls_verify,
        available=is_available(obj),
        group_priority_minimum=spec.group_priority_minimum,
        version_priority=spec.version_priority,
    )


class Backends:
    """A CacheObserver of the APIServices' cache: the backends by (group, version)."""

    def __init__(self) -> None:
        self._by_group_version: dict[tuple[str, str], Backend] = {}
        self._by_name: dict[str, Backend] = {}
        self._listeners: list[Callable[[Backend | None, Backend | None], None]] = []

    def subscribe(self, listener: Callable[[Backend | None, Backend | None], None]) -> None:
        """`listener(before, after)` hears of every backend that appears, changes or goes."""
        self._listeners.append(listener)

    def get(self, group: str, version: str) -> Backend | None:
        return self._by_group_version.get((group, version))

    def named(self, name: str) -> Backend | None:
        """The backend of the APIService of that name."""
        return self._by_name.get(name)

    def all(self) -> list[Backend]:
        return list(self._by_name.values())

    # ------------------------------------------------------------------ CacheObserver
    def changed(self, prev: APIService | None, obj: APIService | None) -> None:
        current = obj or prev
        if current is not None:
            self._set(current.metadata.name, backend_of(obj) if obj is not None else None)

    def replaced(self, objects: Iterable[APIService]) -> None:
        wanted = {o.metadata.name: backend_of(o) for o in objects}
        for name in self._by_name.keys() - wanted.keys():
            self._set(name, None)
        for name, backend in wanted.items():
            self._set(name, backend)

    def _set(self, name: str, backend: Backend | None) -> None:
        before = self._by_name.pop(name, None)
        if (
            before is not None
            and self._by_group_version.get((before.group, before.version)) == before
        ):
            del self._by_group_version[(before.group, before.version)]
        if backend is not None:
            self._by_name[name] = backend
            self._by_group_version[(backend.group, backend.version)] = backend
        if before != backend:
            for listener in self._listeners:
                listener(before, backend)
