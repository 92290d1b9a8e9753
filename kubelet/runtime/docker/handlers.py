"""RuntimeClass handlers on Docker: a handler is the name of one of the engine's OCI runtimes
(`docker info`'s Runtimes: runc, io.containerd.runc.v2, ...), which the pod's sandbox and every
container of it run with; "" is the engine's default runtime. Docker 20.10 has neither recursive
read-only bind mounts (Docker 25's ReadOnlyForceRecursive) nor user namespaces per container
(only the daemon-wide --userns-remap), so no handler has those features."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kubelet.runtime.types import ContainerRuntimeError, RuntimeHandler
from podplane.apimachinery.json_types import JSONValue


def handlers_from_info(info: Mapping[str, JSONValue]) -> list[RuntimeHandler]:
    """The default handler, then one per runtime the engine has."""
    names = sorted((info.get("Runtimes") or {}).keys())
    return [RuntimeHandler(""), *(RuntimeHandler(name) for name in names)]


def docker_runtime(handler: str, available: Iterable[str]) -> str | None:
    """The engine runtime a handler names; None for the default. A handler the engine does not
    have fails the sandbox as containerd words it (the CRI runtime most clusters run)."""
    if not handler:
        return None
    if handler not in set(available):
        raise ContainerRuntimeError(
            f'failed to get sandbox runtime: no runtime for "{handler}" is configured'
        )
    return handler
