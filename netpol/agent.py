"""The agent assembled: informers over pods, namespaces and networkpolicies; any change wakes
one sync, which computes this node's rules from the caches and, when they differ from what it
wrote last, writes them with one iptables-restore. Nothing runs between changes (no resync
timer): at rest the agent only holds its three watches open. A failed write is retried with
back-off."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from google.protobuf.message import Message

from netpol.iptables import rules
from netpol.policy.allowed import PolicySet
from netpol.policy.pods import PodInfo, pod_info
from podplane.api.core.v1 import core_pb2
from podplane.api.networking.v1 import networking_pb2
from podplane.client.clientset import Client
from podplane.client.informer import Informer
from podplane.iptables.runner import Iptables

log = logging.getLogger(__name__)
RETRY_MIN, RETRY_MAX = 1.0, 30.0


@dataclass
class SyncStats:
    syncs: int = 0
    writes: int = 0
    last_duration: float = 0.0
    last_written: float = 0.0  # time.monotonic() of the last write


def node_ruleset(
    node: str,
    pod_cidr: str,
    pods: Iterable[core_pb2.Pod],
    namespaces: Iterable[core_pb2.Namespace],
    policies: Sequence[networking_pb2.NetworkPolicy],
    stale: frozenset[str] = frozenset(),
) -> rules.Ruleset:
    """The rules of `node`'s pods, given the cluster's pods, namespaces and policies."""
    infos = [info for pod in pods if (info := pod_info(pod)) is not None]
    labels = {ns.metadata.name: dict(ns.metadata.labels) for ns in namespaces}
    policy_set = PolicySet(policies, infos, labels)
    local: dict[str, PodInfo] = {}
    for info in infos:
        if info.node == node:
            local.setdefault(info.ip, info)
    desired = [policy_set.rules_of(info) for info in local.values()]
    return rules.render(desired, pod_cidr, guard=bool(policies), stale=stale)


class NetworkPolicyAgent:
    def __init__(self, client: Client, node: str, pod_cidr: str, iptables: Iptables) -> None:
        self.node = node
        self.pod_cidr = pod_cidr
        self.iptables = iptables
        self.pods: Informer[core_pb2.Pod] = Informer(client.pods, name="pods")
        self.namespaces: Informer[core_pb2.Namespace] = Informer(
            client.namespaces, name="namespaces"
        )
        self.policies: Informer[networking_pb2.NetworkPolicy] = Informer(
            client.networkpolicies, name="networkpolicies"
        )
        for informer in (self.pods, self.namespaces, self.policies):
            informer.add_handler(self._changed, lambda _, new: self._changed(new), self._changed)
        self._wake = asyncio.Event()
        self._owned: frozenset[str] | None = None
        self._written = ""
        self.stats = SyncStats()

    def _changed(self, _: Message) -> None:
        self._wake.set()

    async def sync(self) -> None:
        """One sync: the rules computed from the caches (here, on the loop, so that no watch
        event changes them meanwhile), written in a worker thread if they changed."""
        started = time.monotonic()
        if self._owned is None:
            chains = await asyncio.to_thread(self.iptables.chains, rules.TABLE)
            self._owned = frozenset(c for c in chains if c.startswith(rules.PREFIXES))
        ruleset = node_ruleset(
            self.node,
            self.pod_cidr,
            self.pods.list(),
            self.namespaces.list(),
            self.policies.list(),
            stale=self._owned,
        )
        if ruleset.text != self._written:
            await asyncio.to_thread(self._write, ruleset)
        self.stats.syncs += 1
        self.stats.last_duration = time.monotonic() - started
        log.debug("sync %d took %.3fs", self.stats.syncs, self.stats.last_duration)

    def _write(self, ruleset: rules.Ruleset) -> None:
        self.iptables.restore(ruleset.text)
        self.iptables.ensure_rule(rules.TABLE, rules.HOOK_CHAIN, rules.HOOK_RULE)
        self._written = ruleset.text
        self._owned = ruleset.chains
        self.stats.writes += 1
        self.stats.last_written = time.monotonic()

    async def run(self) -> None:
        """Until cancelled (or an informer fails)."""
        informers = [
            asyncio.create_task(i.run(), name=f"{i.name}-informer")
            for i in (self.pods, self.namespaces, self.policies)
        ]
        syncing = asyncio.create_task(self._sync_loop(), name="netpol-sync")
        tasks = [*informers, syncing]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _sync_loop(self) -> None:
        await asyncio.gather(
            self.pods.wait_synced(), self.namespaces.wait_synced(), self.policies.wait_synced()
        )
        log.info("caches synced; writing the rules of node %s", self.node)
        retry = RETRY_MIN
        while True:
            self._wake.clear()
            try:
                await self.sync()
                retry = RETRY_MIN
            except Exception:
                log.exception("sync failed; retrying in %.0fs", retry)
                try:
                    async with asyncio.timeout(retry):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                retry = min(retry * 2, RETRY_MAX)
                continue
            await self._wake.wait()
