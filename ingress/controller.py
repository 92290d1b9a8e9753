"""The ingress controller's loop (ingress-nginx's sync queue): every change to an Ingress of its
classes, to the IngressClasses, or to a Service, EndpointSlice or Secret one of them names,
queues one key; its sync reads the informers' caches, renders haproxy.cfg and the certificates,
reloads HAProxy when they changed, reports problems as events on the Ingress and writes the
published address to each served Ingress's status. At rest it only waits on its informers."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from ingress import routes
from ingress.haproxy import config
from ingress.haproxy.certificates import fake_certificate, write_if_changed
from ingress.haproxy.process import HAProxy
from ingress.options import Options
from ingress.status import published_addresses, update_status
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.api.networking.v1 import networking_pb2
from podplane.apimachinery import resources
from podplane.client import events
from podplane.client.clientset import Client
from podplane.client.informer import Informer, wait_for_sync
from podplane.client.informer_factory import SharedInformerFactory
from podplane.client.workqueue import WorkQueue

log = logging.getLogger(__name__)

COMPONENT = "ingress-haproxy-controller"
CLASS_ANNOTATION = "kubernetes.io/ingress.class"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
SYNC = "sync"


def class_of(ing: networking_pb2.Ingress) -> str:
    if ing.spec.HasField("ingress_class_name"):
        return ing.spec.ingress_class_name
    return ing.metadata.annotations.get(CLASS_ANNOTATION, "")


def _slice_service(slice_: discovery_pb2.EndpointSlice) -> list[str]:
    name = slice_.metadata.labels.get(SERVICE_NAME_LABEL)
    return [f"{slice_.metadata.namespace}/{name}"] if name else []


class IngressController:
    def __init__(self, client: Client, options: Options) -> None:
        self.client = client
        self.options = options
        self.factory = SharedInformerFactory(client)
        self.ingresses: Informer[networking_pb2.Ingress] = self.factory.informer_for(
            resources.INGRESS
        )
        self.classes: Informer[networking_pb2.IngressClass] = self.factory.informer_for(
            resources.INGRESS_CLASS
        )
        self.services: Informer[service_pb2.Service] = self.factory.informer_for(resources.SERVICE)
        self.slices: Informer[discovery_pb2.EndpointSlice] = self.factory.informer_for(
            resources.ENDPOINT_SLICE
        )
        self.slices.add_index("service", _slice_service)
        self.secrets: Informer[core_pb2.Secret] = self.factory.informer_for(resources.SECRET)
        self.queue: WorkQueue[str] = WorkQueue(base_delay=0.1, max_delay=30.0)
        self.recorder = events.EventRecorder(client, COMPONENT)
        state = Path(options.state_dir)
        self.paths = _Paths(state)
        self.listen = config.Listen(
            options.bind_address or "",
            options.http_port,
            options.https_port,
            options.healthz_port,
            str(state),
        )
        self.haproxy = HAProxy(options.haproxy, self.paths.config, self._haproxy_exited)
        # What the served Ingresses name: a change elsewhere does not queue a sync.
        self._referenced: set[str] = set()
        self._reported: set[tuple[str, str, str]] = set()
        self._unloaded = False
        self.syncs = 0

    # ------------------------------------------------------------------ handlers
    def _enqueue(self, *_: object) -> None:
        self.queue.add(SYNC)

    def _haproxy_exited(self) -> None:
        # Started again by a sync, with back-off when it keeps failing.
        self.queue.add_rate_limited(SYNC)

    def _on_ingress(self, ing: networking_pb2.Ingress) -> None:
        if self.served(ing):
            self.recorder.record(ing, events.NORMAL, "Sync", "Scheduled for sync")
        self.queue.add(SYNC)

    def _on_ingress_update(self, old: networking_pb2.Ingress, new: networking_pb2.Ingress) -> None:
        if old.metadata.generation != new.metadata.generation and self.served(new):
            self.recorder.record(new, events.NORMAL, "Sync", "Scheduled for sync")
        if self.served(old) or self.served(new):
            self.queue.add(SYNC)

    def _on_referenced(self, obj: service_pb2.Service | core_pb2.Secret) -> None:
        if f"{obj.metadata.namespace}/{obj.metadata.name}" in self._referenced:
            self.queue.add(SYNC)

    def _on_slice(self, slice_: discovery_pb2.EndpointSlice) -> None:
        if any(key in self._referenced for key in _slice_service(slice_)):
            self.queue.add(SYNC)

    def _register_handlers(self) -> None:
        self.ingresses.add_handler(self._on_ingress, self._on_ingress_update, self._enqueue)
        self.classes.add_handler(self._enqueue, self._enqueue, self._enqueue)
        for informer in (self.services, self.secrets):
            informer.add_handler(
                self._on_referenced, lambda _o, n: self._on_referenced(n), self._on_referenced
            )
        self.slices.add_handler(self._on_slice, lambda _o, n: self._on_slice(n), self._on_slice)

    # ------------------------------------------------------------------ reads
    def served_classes(self) -> set[str]:
        return {
            c.metadata.name
            for c in self.classes.list()
            if c.spec.controller == self.options.controller_class
        }

    def served(self, ing: networking_pb2.Ingress) -> bool:
        return class_of(ing) in self.served_classes()

    def _cluster(self) -> routes.Cluster:
        return routes.Cluster(
            service=lambda ns, name: self.services.get(f"{ns}/{name}"),
            slices=lambda ns, name: self.slices.by_index("service", f"{ns}/{name}"),
            secret=lambda ns, name: self.secrets.get(f"{ns}/{name}"),
        )

    # ------------------------------------------------------------------ the loop
    async def run(self) -> None:
        self.paths.make()
        write_if_changed(self.paths.default_certificate, fake_certificate())
        self.factory.start()
        try:
            await wait_for_sync(
                self.ingresses, self.classes, self.services, self.slices, self.secrets
            )
            log.info("caches synced")
            self._register_handlers()
            self.queue.add(SYNC)
            await self.queue.run_worker(self._process)
        finally:
            await self.queue.shutdown()
            await self.factory.shutdown()
            await self.haproxy.stop()

    async def _process(self, key: str) -> None:
        try:
            await self.sync()
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - retried with back-off
            log.warning("sync failed: %s (retry %d)", e, self.queue.num_requeues(key) + 1)
            self.queue.add_rate_limited(key)
        else:
            self.queue.forget(key)

    async def sync(self) -> None:
        served = [i for i in self.ingresses.list() if self.served(i)]
        routing = routes.build(served, self._cluster())
        self._referenced = {f"{b.namespace}/{b.service}" for b in routing.backends.values()}
        self._referenced |= {
            f"{i.metadata.namespace}/{t.secret_name}" for i in served for t in i.spec.tls
        }
        if self.options.publish_service is not None:
            self._referenced.add("/".join(self.options.publish_service))
        changed = self._write_certificates(routing)
        rendered = config.render(
            routing,
            self.listen,
            str(self.paths.default_certificate),
            str(self.paths.crt_list),
        )
        # Written files stay to load until a load succeeds: a sync retried after a failed one
        # finds them unchanged.
        self._unloaded |= write_if_changed(self.paths.config, rendered.encode()) or changed
        if self._unloaded or not self.haproxy.running:
            await self.haproxy.apply()
            self._unloaded = False
        self.syncs += 1
        self._report(routing.problems)
        await self._publish(served)

    def _write_certificates(self, routing: routes.Routing) -> bool:
        changed = False
        wanted = {f"{c.name}.pem" for c in routing.certificates}
        for c in routing.certificates:
            changed |= write_if_changed(self.paths.certificates / f"{c.name}.pem", c.pem)
        for stale in self.paths.certificates.iterdir():
            if stale.name not in wanted:
                stale.unlink()
                changed = True
        crt_list = config.crt_list(routing, str(self.paths.certificates))
        return write_if_changed(self.paths.crt_list, crt_list.encode()) or changed

    def _report(self, problems: list[routes.Problem]) -> None:
        """A Warning per problem, once while it lasts."""
        current = set()
        for p in problems:
            key = (p.ingress.metadata.uid, p.reason, p.message)
            current.add(key)
            if key not in self._reported:
                log.warning(
                    "ingress %s/%s: %s",
                    p.ingress.metadata.namespace,
                    p.ingress.metadata.name,
                    p.message,
                )
                self.recorder.record(p.ingress, events.WARNING, p.reason, p.message)
        self._reported = current

    async def _publish(self, served: list[networking_pb2.Ingress]) -> None:
        publish = self.options.publish_service
        service = self.services.get("/".join(publish)) if publish is not None else None
        addresses = published_addresses(self.options.publish_status_address, service)
        if not addresses:
            return
        for ing in served:
            await update_status(self.client, ing, addresses)


class _Paths:
    def __init__(self, state: Path) -> None:
        self.state = state
        self.config = state / "haproxy.cfg"
        self.crt_list = state / "crt-list"
        self.default_certificate = state / "default.pem"
        self.certificates = state / "certificates"

    def make(self) -> None:
        self.certificates.mkdir(parents=True, exist_ok=True)
