"""Compacts etcd's history on a schedule (kubernetes staging/src/k8s.io/apiserver/pkg/storage/
etcd3/compact.go): every interval, compact to the revision seen one interval earlier, so a watcher
can always resume from a resourceVersion up to one interval old and older ones get "too old
resource version" and relist."""

from __future__ import annotations

import asyncio
import logging

from apiserver.storage.etcd import CompactedError, EtcdClient

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 300.0  # kube-apiserver's --etcd-compaction-interval
# A key outside /registry whose read gives the store's current revision.
_PROBE_KEY = b"compact_rev_key"


class Compactor:
    def __init__(self, etcd: EtcdClient, interval: float = DEFAULT_INTERVAL) -> None:
        self.etcd = etcd
        self.interval = interval
        self.compacted = 0  # the last revision compacted to

    async def step(self, previous: int) -> int:
        """Compacts to `previous` (if any); returns the current revision, for the next step."""
        _, current = await self.etcd.get(_PROBE_KEY)
        if previous > self.compacted:
            try:
                await self.etcd.compact(previous)
                log.info("etcd: compacted to revision %d", previous)
            except CompactedError:
                pass  # another apiserver (or an operator) compacted further already
            self.compacted = previous
        return current

    async def run(self) -> None:
        previous = 0
        while True:
            try:
                previous = await self.step(previous)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - etcd unreachable: try again next interval
                log.warning("etcd compaction failed: %s", e)
            await asyncio.sleep(self.interval)
