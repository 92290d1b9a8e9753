"""ComponentStatus get and list (kubernetes pkg/registry/core/componentstatus/rest.go): each read
probes every server it names (the scheduler, the controller-manager, each etcd server as
etcd-0, etcd-1, ...) at once and reports one Healthy condition per server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from apiserver import errors
from apiserver.registry.componentstatus.validator import Check, Result, Server
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources, selectors

# The warning every response carries: the API is deprecated (Kubernetes sends it for any
# request of a deprecated version's kind).
DEPRECATION_WARNING = "v1 ComponentStatus is deprecated in v1.19+"

_SELECTABLE = frozenset({"metadata.name", "metadata.namespace"})
_CONDITION_STATUS = {Result.SUCCESS: "True", Result.FAILURE: "False"}


def component_status(name: str, check: Check) -> core_pb2.ComponentStatus:
    """getComponentStatus: the server's one Healthy condition, True on success, False on
    failure, Unknown otherwise (a redirect, a probe that could not be made)."""
    out = core_pb2.ComponentStatus(
        api_version=resources.COMPONENT_STATUS.api_version, kind=resources.COMPONENT_STATUS.kind
    )
    out.metadata.name = name
    out.conditions.add(
        type="Healthy",
        status=_CONDITION_STATUS.get(check.result, "Unknown"),
        message=check.message,
        error=check.error,
    )
    return out


class ComponentStatuses:
    """The verbs of componentstatuses over the servers `servers()` names."""

    def __init__(self, servers: Callable[[], Mapping[str, Server]]) -> None:
        self.servers = servers

    async def get(self, name: str) -> core_pb2.ComponentStatus:
        server = self.servers().get(name)
        if server is None:  # Kubernetes answers a plain error here, so a 500
            raise errors.internal(f"Component not found: {name}")
        return component_status(name, await server.check())

    async def list(
        self, label_selector: str = "", field_selector: str = ""
    ) -> core_pb2.ComponentStatusList:
        """Every server's status, probed at once, in name order; the selectors filter them (no
        status has labels, so any label selector that needs one selects none)."""
        servers = sorted(self.servers().items())
        checks = await asyncio.gather(*(server.check() for _, server in servers))
        out = core_pb2.ComponentStatusList()
        try:
            labels = selectors.parse_labels(label_selector)
            fields = selectors.parse_fields(field_selector, _SELECTABLE)
        except selectors.SelectorError as e:
            raise errors.bad_request(str(e)) from e
        for (name, _), check in zip(servers, checks, strict=True):
            if labels.matches({}) and fields.matches(
                {"metadata.name": name, "metadata.namespace": ""}
            ):
                out.items.append(component_status(name, check))
        return out
