"""The system priority classes stored at start (kubernetes pkg/registry/scheduling/rest
storage_scheduling.go, the scheduling/bootstrap-system-priority-classes post-start hook):
system-node-critical and system-cluster-critical are created when missing; one that exists is left
as it is (its value cannot change; Kubernetes does not reconcile the rest either). Several
apiservers may start at once: a create that finds the class made meanwhile has done its work.
Storage failing is retried every second for 30 s, then the apiserver does not start, as
kube-apiserver does not without them: critical pods name them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from apiserver import errors
from podplane.api.scheduling.v1 import scheduling_pb2
from podplane.apimachinery import priority

log = logging.getLogger(__name__)

RETRY_INTERVAL = 1.0
TIMEOUT = 30.0


class PriorityClassStore(Protocol):
    """The priority classes' Store: NotFound from get, AlreadyExists from create."""

    async def get(self, namespace: str, name: str) -> scheduling_pb2.PriorityClass: ...

    async def create(self, obj: scheduling_pb2.PriorityClass) -> scheduling_pb2.PriorityClass: ...


async def _ensure(store: PriorityClassStore, pc: scheduling_pb2.PriorityClass) -> None:
    try:
        await store.get("", pc.metadata.name)
        return
    except errors.APIError as e:
        if e.reason != "NotFound":
            raise
    try:
        await store.create(pc)
        log.info("created PriorityClass %s with value %d", pc.metadata.name, pc.value)
    except errors.APIError as e:
        if e.reason != "AlreadyExists":  # another apiserver made it meanwhile
            raise


async def ensure_system_priority_classes(
    store: PriorityClassStore,
    *,
    timeout: float = TIMEOUT,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    waited = 0.0
    for pc in priority.system_priority_classes():
        while True:
            try:
                await _ensure(store, pc)
                break
            except errors.APIError as e:
                if waited >= timeout:
                    raise RuntimeError(
                        f"unable to add default system priority classes: {e.message}"
                    ) from e
                log.warning("PriorityClass %s: %s; retrying", pc.metadata.name, e.message)
                await sleep(RETRY_INTERVAL)
                waited += RETRY_INTERVAL
