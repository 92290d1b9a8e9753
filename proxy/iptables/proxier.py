"""The iptables proxier (pkg/proxy/iptables/proxier.go): informer events update the proxier's
maps (ProxyState) and ask for a sync; the sync runner runs one at most as often as its limits
allow; a sync writes the rules (rules.py) with one `iptables-restore --noflush`.

Syncs are partial when they can be: only the chains of services that changed since the last
successful sync are rewritten (KUBE-SERVICES and the other top-level chains always are). The
first sync, the one after a failure (whose changes are lost with the snapshot), and the one after
something flushed the tables (the canary chains are gone) are full: they hook kube-proxy's
chains into the built-in ones and delete the service chains of a previous run that no service
uses any more. Nothing is synced before both informers have listed, so that a restarted
kube-proxy never replaces working rules with those of an empty cache."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from podplane.api.core.v1 import service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.iptables.runner import Iptables, IptablesError, error_lines
from proxy import metrics
from proxy.healthcheck import ProxierHealth
from proxy.iptables import chains as ch
from proxy.iptables.rules import RulesConfig, RuleSet, build_rules
from proxy.state.tracker import ProxyState
from proxy.sync_runner import BoundedFrequencyRunner

log = logging.getLogger(__name__)


class Proxier:
    def __init__(
        self,
        state: ProxyState,
        iptables: Iptables,
        config: RulesConfig,
        health: ProxierHealth | None = None,
        *,
        min_sync_period: float = 1.0,
        sync_period: float = 30.0,
    ) -> None:
        self.state = state
        self.iptables = iptables
        self.config = config
        self.health = health
        self.sync_period = sync_period
        self.runner = BoundedFrequencyRunner(
            "sync-runner", self._sync, min_sync_period, sync_period, burst=2
        )
        self._lock = threading.Lock()
        self._services_synced = False
        self._slices_synced = False
        self._need_full_sync = True
        self._active_chains: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.last_rules: RuleSet | None = None  # the last rules applied, for tests and logs
        self.syncs = 0

    # ------------------------------------------------------------------ informer events
    def on_service(self, svc: service_pb2.Service, deleted: bool = False) -> None:
        changed = self.state.service_deleted(svc) if deleted else self.state.service_updated(svc)
        self._changed(changed)

    def on_slice(self, endpoint_slice: discovery_pb2.EndpointSlice, deleted: bool = False) -> None:
        state = self.state
        changed = (
            state.slice_deleted(endpoint_slice) if deleted else state.slice_updated(endpoint_slice)
        )
        self._changed(changed)

    def _changed(self, changed: bool) -> None:
        services, endpoints = self.state.pending()
        metrics.SERVICE_CHANGES_PENDING.set(services)
        metrics.ENDPOINT_CHANGES_PENDING.set(endpoints)
        if changed and self.initialized:
            self.request_sync()

    def services_synced(self) -> None:
        self._services_synced = True
        self._maybe_initialized()

    def slices_synced(self) -> None:
        self._slices_synced = True
        self._maybe_initialized()

    def _maybe_initialized(self) -> None:
        if self.initialized:
            self.request_sync()

    @property
    def initialized(self) -> bool:
        return self._services_synced and self._slices_synced

    # ------------------------------------------------------------------ asking for syncs
    def request_sync(self) -> None:
        """A sync as soon as the runner allows (Proxier.Sync)."""
        if self.health is not None:
            self.health.queued_update()
        metrics.SYNC_PROXY_RULES_LAST_QUEUED_TIMESTAMP.set(time.time())
        self.runner.run()

    def force_full_sync(self) -> None:
        with self._lock:
            self._need_full_sync = True
        self.request_sync()

    async def run(self) -> None:
        """The sync loop and the canary monitor, until cancelled."""
        self._loop = asyncio.get_running_loop()
        if self.health is not None:
            self.health.updated()  # in case no sync ever succeeds, healthz starts from now
        metrics.SYNC_PROXY_RULES_LAST_QUEUED_TIMESTAMP.set(time.time())
        monitor = asyncio.create_task(self._monitor(), name="iptables-monitor")
        try:
            await self.runner.loop()
        finally:
            monitor.cancel()

    async def _sync(self) -> None:
        await asyncio.to_thread(self.sync_proxy_rules)

    async def _monitor(self) -> None:
        """Every sync period, whether the canary chains are still there; if something flushed
        a table, a full sync puts everything back (utiliptables.Monitor)."""
        await asyncio.to_thread(self._create_canaries)
        while True:
            await asyncio.sleep(self.sync_period)
            if not await asyncio.to_thread(self._canaries_present):
                log.warning("iptables canary chain missing: the tables were flushed; full resync")
                await asyncio.to_thread(self._create_canaries)
                self.force_full_sync()

    def _create_canaries(self) -> None:
        for table in ch.CANARY_TABLES:
            try:
                self.iptables.ensure_chain(table, ch.KUBE_PROXY_CANARY)
            except IptablesError as e:
                log.error("cannot create the canary chain in %s: %s", table, e)

    def _canaries_present(self) -> bool:
        return all(
            self.iptables.chain_exists(table, ch.KUBE_PROXY_CANARY) for table in ch.CANARY_TABLES
        )

    # ------------------------------------------------------------------ the sync
    def sync_proxy_rules(self) -> bool:
        """One sync (blocking: iptables commands); True when the rules were applied."""
        if not self.initialized:
            log.info("not syncing iptables until Services and EndpointSlices have been listed")
            return False
        with self._lock:
            full = self._need_full_sync
            self._need_full_sync = False
        start = time.monotonic()
        snapshot = self.state.checkout()
        metrics.SERVICE_CHANGES_TOTAL.inc(snapshot.service_changes)
        metrics.ENDPOINT_CHANGES_TOTAL.inc(snapshot.endpoint_changes)
        metrics.SERVICE_CHANGES_PENDING.set(0)
        metrics.ENDPOINT_CHANGES_PENDING.set(0)
        success = False
        try:
            if full:
                self._ensure_jumps()
                existing = self.iptables.chains(ch.NAT)
            else:
                existing = self._active_chains
            rules = build_rules(
                snapshot.services,
                snapshot.endpoints,
                self.config,
                changed=None if full else snapshot.changed,
                existing_nat_chains=existing,
            )
            data = rules.restore_input()
            try:
                self.iptables.restore(data)
            except IptablesError as e:
                context = f"\n{error_lines(data, e.line)}" if e.line else ""
                log.error("failed to execute iptables-restore: %s%s", e, context)
                metrics.IPTABLES_RESTORE_FAILURES.inc()
                if not full:
                    metrics.IPTABLES_PARTIAL_RESTORE_FAILURES.inc()
                return False
            success = True
        except IptablesError as e:
            log.error("sync failed: %s", e)
            return False
        finally:
            elapsed = time.monotonic() - start
            metrics.SYNC_PROXY_RULES_LATENCY.observe(elapsed)
            latency = (
                metrics.SYNC_FULL_PROXY_RULES_LATENCY
                if full
                else metrics.SYNC_PARTIAL_PROXY_RULES_LATENCY
            )
            latency.observe(elapsed)
            if not success:
                # The snapshot's changes are gone: only a full sync can catch up.
                with self._lock:
                    self._need_full_sync = True
                self._retry_after(self.sync_period)
        self._active_chains = rules.active_nat_chains
        self.last_rules = rules
        self.syncs += 1
        self._record(rules, full, elapsed, len(snapshot.services))
        return True

    def _ensure_jumps(self) -> None:
        for jump in (*ch.JUMPS, *(ch.KUBELET_JUMPS if self.config.localhost_nodeports else ())):
            self.iptables.ensure_chain(jump.table, jump.chain)
            self.iptables.ensure_rule(jump.table, jump.source, jump.args())

    def _retry_after(self, interval: float) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.runner.retry_after, interval)

    def _record(self, rules: RuleSet, full: bool, elapsed: float, services: int) -> None:
        filter_rules = len(rules.filter_rules)
        nat_rules = len(rules.nat_rules)
        metrics.IPTABLES_RULES_TOTAL.labels("filter").set(filter_rules)
        metrics.IPTABLES_RULES_LAST_SYNC.labels("filter").set(filter_rules)
        metrics.IPTABLES_RULES_TOTAL.labels("nat").set(
            nat_rules + rules.skipped_nat_rules - rules.deleted_chains
        )
        metrics.IPTABLES_RULES_LAST_SYNC.labels("nat").set(nat_rules - rules.deleted_chains)
        metrics.NO_LOCAL_ENDPOINTS.labels("internal").set(rules.no_local_endpoints_internal)
        metrics.NO_LOCAL_ENDPOINTS.labels("external").set(rules.no_local_endpoints_external)
        if self.health is not None:
            self.health.updated()
        metrics.SYNC_PROXY_RULES_LAST_TIMESTAMP.set(time.time())
        log.debug(
            "synced iptables (%s, %.3fs): %d service ports, %d filter rules, %d nat rules "
            "written, %d chains deleted",
            "full" if full else "partial",
            elapsed,
            services,
            filter_rules,
            nat_rules,
            rules.deleted_chains,
        )
