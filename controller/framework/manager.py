"""Runs the controllers together (kube-controller-manager). They share one SharedInformerFactory,
so that the process holds one watch and one cache per kind (one of pods, not one per controller):
each controller takes its informers from it and registers its handlers; the manager starts it
once every controller is built. One failing stops the manager, so that its supervisor restarts it
rather than leaving a controller silently dead.

The controllers are built once the manager leads (kube-controller-manager's run after
OnStartedLeading), each with the client its ClientBuilder gives its service account: the
manager's own, or with --use-service-account-credentials the account's (client_builder.py). The
informers are always the manager's own."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from controller.framework.client_builder import ClientBuilder, RootClientBuilder
from podplane.client.clientset import Client
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)


class Controller(Protocol):
    async def run(self) -> None: ...


@dataclass(frozen=True)
class ControllerOptions:
    """The settings controllers take from the command line (kube-controller-manager's)."""

    node_monitor_grace_period: float = 50.0
    node_startup_grace_period: float = 60.0
    # Terminated pods kept before the pod garbage collector deletes the oldest (0: all kept).
    terminated_pod_gc_threshold: int = 12500
    cluster_cidr: str = "10.244.0.0/16"
    node_cidr_mask_size: int = 24
    # The local-path provisioner: where its volumes' directories go on the nodes, the image of
    # the helper pods that remove them, and the default class it creates ("" for none).
    local_path_dir: str = "/var/local-path-provisioner"
    local_path_helper_image: str = "busybox"
    default_storage_class: str = "standard"
    # The CA bundle the root CA publisher puts in every namespace's kube-root-ca.crt (PEM text;
    # --root-ca-file, by default the CA the controller-manager verifies the apiserver with).
    root_ca: str = ""
    # The csrsigning controller's CA (--cluster-signing-cert-file, --cluster-signing-key-file;
    # "": no signing) and the longest certificate it issues (--cluster-signing-duration).
    cluster_signing_cert_file: str = ""
    cluster_signing_key_file: str = ""
    cluster_signing_duration: float = 365 * 24 * 3600.0
    # The horizontal pod autoscaler controller: the apiserver's Kubernetes REST address (HOST:PORT,
    # "": none), and its flags (--horizontal-pod-autoscaler-*).
    rest_server: str = ""
    hpa_sync_period: float = 15.0
    hpa_downscale_stabilization: float = 300.0
    hpa_tolerance: float = 0.1
    hpa_cpu_initialization_period: float = 300.0
    hpa_initial_readiness_delay: float = 30.0
    # The service load balancer controller: its address pool (controller/servicelb/pool.py;
    # "": none; "auto": from the network toward `apiserver`, the --server) and the
    # spec.loadBalancerClass it serves ("": Services without one).
    load_balancer_ip_pool: str = ""
    load_balancer_class: str = ""
    apiserver: str = ""


class WithOptions:
    """Marks a controller factory that takes the ControllerOptions as well as the client and the
    shared informers."""

    def __init__(
        self, factory: Callable[[Client, SharedInformerFactory, ControllerOptions], Controller]
    ) -> None:
        self.factory = factory

    def __call__(
        self, client: Client, informers: SharedInformerFactory, options: ControllerOptions
    ) -> Controller:
        return self.factory(client, informers, options)


# How a controller is made: from the client and the shared informers, and the options if it
# takes them.
ControllerFactory = Callable[[Client, SharedInformerFactory], Controller] | WithOptions


class ControllerManager:
    def __init__(
        self,
        client: Client,
        factories: Mapping[str, ControllerFactory],
        options: ControllerOptions | None = None,
        *,
        clients: ClientBuilder | None = None,
        service_accounts: Mapping[str, str] | None = None,
    ) -> None:
        """Runs the controllers `factories` makes, by name, each with the client `clients`
        gives its service account (`service_accounts`' name for it, else its own name); by
        default all with `client`, the manager's own, which the informers use."""
        self.client = client
        self.options = options or ControllerOptions()
        self.informers = SharedInformerFactory(client)
        self.factories = dict(factories)
        self.clients: ClientBuilder = clients or RootClientBuilder(client)
        self.service_accounts = dict(service_accounts or {})
        self.controllers: dict[str, Controller] = {}

    async def build(self) -> None:
        """Builds every controller (each asks the shared factory for its informers)."""
        for name, factory in self.factories.items():
            client = await self.clients.client(self.service_accounts.get(name, name))
            if isinstance(factory, WithOptions):
                self.controllers[name] = factory(client, self.informers, self.options)
            else:
                self.controllers[name] = factory(client, self.informers)

    async def run(self) -> None:
        try:
            await self.build()
            await self._run_controllers()
        finally:
            await self.clients.close()

    async def _run_controllers(self) -> None:
        # Every controller has asked for its informers by now: one start runs them all, before
        # the controllers wait for their caches.
        self.informers.start()
        tasks = []
        for name, c in self.controllers.items():
            log.info("starting the %s controller", name)
            tasks.append(asyncio.create_task(c.run(), name=f"controller-{name}"))
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.informers.shutdown()
