"""The metrics server assembled: the trust read from kube-system's
extension-apiserver-authentication ConfigMap, the HTTPS API, informers on the nodes and pods
(as metrics-server's, so a cluster at rest costs it a watch, not a list every tick), and the
scrape loop, which every --metric-resolution reads every node's kubelet at once and stores the
points (metrics-server's server.go tick). Ready once a scrape has stored something."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from pathlib import Path

from aiohttp import web

from metricsserver.api.auth import Authenticator, Authorizer, trust_of
from metricsserver.api.server import MetricsAPI, Snapshot
from metricsserver.options import Options
from metricsserver.scraper.decode import Batch
from metricsserver.scraper.kubelet import KubeletClient, ScrapeError
from metricsserver.storage import Storage
from podplane.api.core.v1 import core_pb2
from podplane.client.clientset import Client
from podplane.client.informer import Informer
from podplane.componentbase import pki

log = logging.getLogger(__name__)
AUTHENTICATION_CONFIG_MAP = ("kube-system", "extension-apiserver-authentication")
SERVICE_NAME = "metrics-server.kube-system.svc"


def serving_certificate(cert_dir: Path) -> tuple[Path, Path]:
    """apiserver.crt and .key in --cert-dir, made at start when no --tls-cert-file is given, as
    metrics-server makes its self-signed one (the APIService then skips verifying it)."""
    cert_dir.mkdir(parents=True, exist_ok=True)
    ca, ca_key = pki.ensure_ca(cert_dir, "metrics-server-ca", "ca")
    names = (SERVICE_NAME, "localhost")
    pki.issue(
        cert_dir, pki.CertSpec("apiserver", names[0], dns_names=names, server=True), ca, ca_key
    )
    return cert_dir / "apiserver.crt", cert_dir / "apiserver.key"


class MetricsServer:
    def __init__(self, options: Options, client: Client) -> None:
        self.options = options
        self.client = client
        self.storage = Storage(options.metric_resolution)
        self.snapshot = Snapshot()
        self.kubelets = KubeletClient(
            options.token_file,
            options.kubelet_ca_file,
            options.kubelet_insecure_tls,
            options.address_types,
            options.kubelet_request_timeout,
        )
        self.nodes: Informer[core_pb2.Node] = Informer(client.nodes, name="nodes")
        self.pods: Informer[core_pb2.Pod] = Informer(client.pods, name="pods")
        self._stored = False
        self._runner: web.AppRunner | None = None

    def ready(self) -> bool:
        return self._stored

    async def _tls(self) -> tuple[ssl.SSLContext, Authenticator]:
        namespace, name = AUTHENTICATION_CONFIG_MAP
        config_map = await self.client.configmaps.get(name, namespace)
        trust = trust_of(dict(config_map.data))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        cert, key = self.options.tls_cert_file, self.options.tls_key_file
        if cert is None or key is None:
            cert, key = serving_certificate(self.options.cert_dir)
        context.load_cert_chain(cert, key)
        context.load_verify_locations(cadata=trust.ca_pem.decode())
        context.verify_mode = ssl.CERT_OPTIONAL
        return context, Authenticator(trust, self.client)

    async def start(self) -> None:
        context, authenticator = await self._tls()
        api = MetricsAPI(
            self.storage, self.snapshot, authenticator, Authorizer(self.client), self.ready
        )
        self._runner = web.AppRunner(api.application(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, self.options.bind_address, self.options.secure_port, ssl_context=context
        )
        await site.start()
        log.info(
            "serving metrics.k8s.io on %s:%d", self.options.bind_address, self.options.secure_port
        )

    async def scrape_once(self) -> None:
        nodes, pods = self.nodes.list(), self.pods.list()
        self.snapshot.nodes = {n.metadata.name: dict(n.metadata.labels) for n in nodes}
        self.snapshot.pods = {
            (p.metadata.namespace, p.metadata.name): dict(p.metadata.labels) for p in pods
        }
        results = await asyncio.gather(
            *(self.kubelets.scrape(n) for n in nodes), return_exceptions=True
        )
        batch = Batch()
        for node, result in zip(nodes, results, strict=True):
            if isinstance(result, ScrapeError):
                log.error("Failed to scrape node %s: %s", node.metadata.name, result)
                continue
            if isinstance(result, BaseException):
                raise result
            batch.nodes.update(result.nodes)
            batch.pods.update(result.pods)
        self.storage.store(batch)
        self._stored = self._stored or bool(batch.nodes)

    async def run(self) -> None:
        """Until cancelled (or an informer fails): the informers, and a scrape every tick once
        both have synced."""
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self.nodes.run(), name="nodes-informer")
            tasks.create_task(self.pods.run(), name="pods-informer")
            await self.nodes.wait_synced()
            await self.pods.wait_synced()
            tasks.create_task(self._scrape_every_tick(), name="scraper")

    async def _scrape_every_tick(self) -> None:
        while True:
            started = time.monotonic()
            try:
                await self.scrape_once()
            except Exception as e:  # noqa: BLE001 - a failed tick is logged, the next one runs
                log.error("scrape failed: %s", e)
            elapsed = time.monotonic() - started
            await asyncio.sleep(max(self.options.metric_resolution - elapsed, 0.0))

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        await self.kubelets.close()
