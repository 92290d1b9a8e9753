"""The pods waiting for the cluster to change (kubernetes UnschedulablePods), indexed by the plugins
that rejected them: an event asks only about the pods a plugin that registered for it rejected,
rather than looking at every waiting pod on every pod bound."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from scheduler.backend.queue.queued_pod_info import QueuedPodInfo


class UnschedulablePods:
    def __init__(self) -> None:
        self._pods: dict[str, QueuedPodInfo] = {}
        # Plugin -> the keys of the waiting pods it rejected.
        self._rejected_by: dict[str, set[str]] = {}
        # The waiting pods no plugin rejected (an error): any event may help them.
        self._unexplained: set[str] = set()
        # Each pod's rejecting plugins as indexed (the pod's own set may change meanwhile).
        self._indexed: dict[str, frozenset[str]] = {}

    def __len__(self) -> int:
        return len(self._pods)

    def __contains__(self, key: object) -> bool:
        return key in self._pods

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._pods))

    def get(self, key: str) -> QueuedPodInfo | None:
        return self._pods.get(key)

    def items(self) -> list[tuple[str, QueuedPodInfo]]:
        return list(self._pods.items())

    def add(self, pinfo: QueuedPodInfo) -> None:
        key = pinfo.key
        self.pop(key)
        self._pods[key] = pinfo
        plugins = frozenset(pinfo.unschedulable_plugins)
        self._indexed[key] = plugins
        if not plugins:
            self._unexplained.add(key)
        for plugin in plugins:
            self._rejected_by.setdefault(plugin, set()).add(key)

    def pop(self, key: str) -> QueuedPodInfo | None:
        pinfo = self._pods.pop(key, None)
        if pinfo is None:
            return None
        self._unexplained.discard(key)
        for plugin in self._indexed.pop(key, frozenset()):
            keys = self._rejected_by.get(plugin)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._rejected_by[plugin]
        return pinfo

    def rejected_by_any(self, plugins: Iterable[str]) -> list[QueuedPodInfo]:
        """The waiting pods one of `plugins` rejected, and those no plugin rejected, oldest
        first."""
        keys = set(self._unexplained)
        for plugin in plugins:
            keys |= self._rejected_by.get(plugin, set())
        found = [self._pods[key] for key in keys]
        found.sort(key=lambda pinfo: pinfo.timestamp)
        return found
