"""One informer per kind per process (client-go's SharedInformerFactory): every consumer of a kind
(each controller of the controller-manager, the scheduler and its plugins) asks the factory for
it and registers its own handlers on the one it gets, so that the process holds one watch and one
cache of the kind however many consumers it has. An informer is keyed by its kind, namespace and
selectors, as client-go's filtered factories key theirs: a filtered watch is a second watch.

The objects in the caches, and those the handlers are given, are shared by every consumer:
read-only; copy one before changing it."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from google.protobuf.message import Message

from podplane.apimachinery.resources import Resource
from podplane.client.informer import Informer, wait_for_sync

if TYPE_CHECKING:
    from podplane.client.clientset import Client

M = TypeVar("M", bound=Message)
log = logging.getLogger(__name__)


class InformerKey(NamedTuple):
    plural: str
    namespace: str
    label_selector: str
    field_selector: str


class SharedInformerFactory:
    def __init__(self, client: Client) -> None:
        self._client = client
        self._informers: dict[InformerKey, Informer[Any]] = {}
        self._running: dict[InformerKey, asyncio.Task[None]] = {}
        self._started = False

    @property
    def client(self) -> Client:
        return self._client

    def informer_for(
        self,
        resource: Resource[M],
        *,
        namespace: str = "",
        label_selector: str = "",
        field_selector: str = "",
    ) -> Informer[M]:
        """The one informer of the kind (in `namespace`, "" for all, with those selectors), made
        on first use. One asked for after start() runs at the next start()."""
        key = self._key(resource, namespace, label_selector, field_selector)
        informer: Informer[M] | None = self._informers.get(key)
        if informer is None:
            name = resource.plural if key[1:] == ("", "", "") else "/".join(k for k in key if k)
            informer = Informer(
                self._client.for_resource(resource),
                namespace=namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                name=name,
            )
            self._informers[key] = informer
        return informer

    @staticmethod
    def _key(
        resource: Resource[M], namespace: str, label_selector: str, field_selector: str
    ) -> InformerKey:
        # A custom resource's plural is its group's alone: it is keyed by its group version too.
        plural = f"{resource.api_version}/{resource.plural}" if resource.custom else resource.plural
        return InformerKey(plural, namespace, label_selector, field_selector)

    def forget(self, resource: Resource[M]) -> None:
        """Stops the kind's unfiltered informer and drops it (a custom resource no longer
        served); asked for again, it is a new one."""
        key = self._key(resource, "", "", "")
        self._informers.pop(key, None)
        task = self._running.pop(key, None)
        if task is not None:
            task.cancel()

    def lister(self, resource: Resource[M]) -> Informer[M]:
        """The kind's informer as a lister (the scheduler framework's Handle)."""
        return self.informer_for(resource)

    def informers(self) -> list[Informer[Any]]:
        """Every informer made so far."""
        return list(self._informers.values())

    @property
    def started(self) -> bool:
        """Whether start() has been called since the last shutdown()."""
        return self._started

    def start(self) -> None:
        """Runs every informer made so far that is not running yet; called again, starts only
        those made since (client-go's Start). Needs a running event loop."""
        self._started = True
        for key, informer in self._informers.items():
            if key not in self._running:
                self._running[key] = asyncio.create_task(
                    informer.run(), name=f"informer-{informer.name}"
                )

    async def wait_for_cache_sync(self, timeout: float | None = None) -> None:
        """Until every started informer has listed once (asyncio.TimeoutError after `timeout`)."""
        started = [self._informers[key] for key in self._running]
        await wait_for_sync(*started, timeout=timeout)

    async def shutdown(self) -> None:
        """Stops every running informer; their caches keep what they hold."""
        tasks = list(self._running.values())
        self._running.clear()
        self._started = False
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
