"""The kubelet: wires the node's registration and lease, the pod informer, the static pod manifests
and their mirror pods, the pod workers, the PLEG, housekeeping and the kubelet API server together,
and runs them until stopped."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from kubelet import metrics
from kubelet.admission.admitter import PodAdmitter
from kubelet.admission.apparmor import AppArmorAdmission, apparmor_enabled
from kubelet.admission.sysctls import SysctlAllowlist, kernel_version, safe_sysctls
from kubelet.config import KubeletConfig
from kubelet.container.env import ClientObjectGetter
from kubelet.container.security_profiles import NodeSecurity
from kubelet.logs.rotation import ContainerLogManager, LogSource
from kubelet.network.dns import DNSConfigurer
from kubelet.node.lease import NodeLease
from kubelet.node.machine_info import MachineInfo, read_machine_info
from kubelet.node.pressure import read_node_stats
from kubelet.node.status import NodeIdentity, NodeStatusReporter, allocatable, capacity
from kubelet.pod.housekeeping import Housekeeping
from kubelet.pod.pleg import PodLifecycleEventGenerator
from kubelet.pod.sync import NodeContext, PodSyncer
from kubelet.pod.workers import PodWorkers
from kubelet.prober import ProbeManager
from kubelet.runtime.types import ContainerRuntime
from kubelet.runtimeclass.manager import ClientRuntimeClassGetter, RuntimeClassManager
from kubelet.server.auth import WebhookAuth
from kubelet.server.authorization import KubeletAPIAuthorizer
from kubelet.server.https import HTTPSServer
from kubelet.server.https_handlers import Handlers
from kubelet.server.servicer import SERVICE_NAME, KubeletServicer
from kubelet.staticpod.manifests import StaticPodSource
from kubelet.staticpod.mirror import MirrorPods, is_mirror_pod
from kubelet.stats.provider import StatsProvider
from kubelet.status.manager import StatusManager
from kubelet.token.manager import ClientTokenGetter, TokenManager
from kubelet.volume.claims import ClientVolumeGetter
from kubelet.volume.csi_node_info import CSINodeInfo
from kubelet.volume.pod_volumes import PodVolumes
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.kubelet.v1 import kubelet_pb2_grpc
from podplane.client.clientset import Client
from podplane.client.events import EventRecorder
from podplane.client.informer import Informer, object_key
from podplane.componentbase.serving import Server

log = logging.getLogger(__name__)


class Kubelet:
    def __init__(
        self,
        config: KubeletConfig,
        runtime: ContainerRuntime,
        client: Client,
        host_ip: str,
        machine: MachineInfo | None = None,
        listen_host: str = "0.0.0.0",
    ) -> None:
        self.config = config
        self.runtime = runtime
        self.client = client
        self.host_ip = host_ip
        self.machine = machine or read_machine_info(config.root_dir)
        self.informer: Informer[core_pb2.Pod] = Informer(
            client.pods, field_selector=f"spec.nodeName={config.node_name}", name="pods"
        )
        # Every Service, for the containers' service variables (the kubelet's service lister).
        self.services: Informer[service_pb2.Service] = Informer(client.services, name="services")
        self._reservations = (config.kube_reserved, config.system_reserved)
        node_allocatable = allocatable(capacity(self.machine), self._reservations)
        # The service account tokens of this node's pods (projected volumes).
        self.tokens = TokenManager(ClientTokenGetter(client))
        self.volumes = PodVolumes(
            config.root_dir,
            ClientObjectGetter(client),
            ClientVolumeGetter(client),
            self.tokens,
            node_allocatable,
        )
        recorder = EventRecorder(client, "kubelet", instance=config.node_name)
        # A probe result that changes syncs the pod again (its status, or a liveness kill).
        self.probes = ProbeManager(
            runtime, on_change=lambda key: self.workers.enqueue(key), recorder=recorder
        )
        # Static pods come from the manifest directory, not the API; their mirror pods (the
        # API's copies, which the informer sees too) are never run themselves.
        self.static_pods: StaticPodSource | None = None
        if config.pod_manifest_path:
            self.static_pods = StaticPodSource(
                config.pod_manifest_path, config.node_name, on_change=self._on_static_pod
            )
        self.mirror_pods = MirrorPods(
            client.pods,
            config.node_name,
            node_uid=self._node_uid,
            static_pod=self._static_pod,
            api_pod=self.informer.get,
            static_keys=lambda: list(self.static_pods.pods) if self.static_pods else [],
        )
        self.status_manager = StatusManager(client.pods, mirror_of=self._mirror_of)
        self.syncer = self._pod_syncer(node_allocatable, recorder)
        # Whether the API's pods are known (the informer synced): before, only static pods run.
        self._sources_ready = False
        self.workers = PodWorkers(self.syncer, self.pod, ready=self._ready_to_sync)
        self.pleg = PodLifecycleEventGenerator(
            runtime, self.workers.enqueue, evented=config.evented_pleg
        )
        # A CRI runtime writes the pods' logs under --pod-logs-dir: the kubelet rotates them and
        # removes a gone pod's directory (Docker keeps its own logs).
        self.log_manager = (
            ContainerLogManager(runtime, config.log_policy)
            if isinstance(runtime, LogSource)
            else None
        )
        self.housekeeping = Housekeeping(
            self.workers,
            self.pleg,
            self.volumes,
            self.desired_pods,
            pod_logs_dir=config.pod_logs_dir if self.log_manager is not None else "",
        )
        self.lease = NodeLease(client.leases, config.node_name)
        self.csi_node_info = CSINodeInfo(client.csinodes)
        self.pod_starts = metrics.PodStartTracker()
        metrics.NODE_NAME.labels(config.node_name).set(1)
        self.server = self._api_server(listen_host)
        self.stats = StatsProvider(config.node_name, runtime, config.root_dir)
        self.https = self._https_server(listen_host)
        self.reporter: NodeStatusReporter | None = None
        # Set once the node is registered and its Lease made (start() returns after it).
        self._registered = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def _pod_syncer(self, node_allocatable: dict[str, str], recorder: EventRecorder) -> PodSyncer:
        """Syncs one pod: its volumes, admission, DNS, containers and status."""
        config = self.config
        return PodSyncer(
            self.runtime,
            self.volumes,
            self.status_manager,
            NodeContext(
                node_name=config.node_name,
                host_ip=self.host_ip,
                pause_image=config.pause_image,
                pod_cidr=config.pod_cidr,
                allocatable=node_allocatable,
                cluster_domain=config.cluster_domain,
                security=NodeSecurity(config.root_dir, config.seccomp_default),
            ),
            recorder=recorder,
            probes=self.probes,
            admitter=PodAdmitter(
                node_allocatable,
                self.desired_pods,
                # The safe sysctls this kernel has, and the admin's unsafe ones.
                SysctlAllowlist(
                    safe_sysctls(kernel_version(self.machine.kernel_version))
                    + list(config.allowed_unsafe_sysctls)
                ),
                AppArmorAdmission(apparmor_enabled()),
            ),
            dns=DNSConfigurer(config.cluster_dns, config.cluster_domain, config.resolv_conf),
            services=self.services,
            runtime_classes=RuntimeClassManager(
                self.runtime, ClientRuntimeClassGetter(self.client)
            ),
            relisted=lambda container_id: self.pleg.relisted(container_id),
        )

    def _api_server(self, listen_host: str) -> Server:
        """podplane's gRPC kubelet service (logs, exec, attach, port-forward) the apiserver
        proxies to."""
        config = self.config
        servicer = KubeletServicer(self.runtime, self.pod)
        return Server(
            f"{listen_host}:{config.grpc_port}",
            register=lambda s: kubelet_pb2_grpc.add_KubeletServicer_to_server(servicer, s),
            service_names=[SERVICE_NAME],
            credentials=config.serving_credentials(),
            # On TLS, the API is the apiserver's alone (server/authorization.py).
            interceptors=[KubeletAPIAuthorizer()] if config.tls_cert_file else [],
        )

    def _https_server(self, listen_host: str) -> HTTPSServer:
        """Kubernetes' kubelet API (/pods, /stats/summary, /metrics/*, /containerLogs), checked
        with the apiserver's reviews when served over TLS."""
        config = self.config
        handlers = Handlers(self.runtime, self.desired_pods, self.pod, self.stats)
        return HTTPSServer(
            handlers.routes(),
            listen_host,
            config.port,
            config.serving_ssl_context(),
            WebhookAuth(self.client, config.node_name),
        )

    @property
    def port(self) -> int:
        """The HTTPS kubelet API's port (status.daemonEndpoints.kubeletEndpoint)."""
        return self.https.port

    @property
    def grpc_port(self) -> int:
        return int(self.server.port)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=name))

    def _ready_to_sync(self, key: str) -> bool:
        return self._sources_ready or self._static_pod(key) is not None

    def _static_pod(self, key: str) -> core_pb2.Pod | None:
        return self.static_pods.get(key) if self.static_pods is not None else None

    def _node_uid(self) -> str:
        node = self.reporter.node if self.reporter is not None else None
        return node.metadata.uid if node is not None else ""

    def _mirror_of(self, pod: core_pb2.Pod) -> core_pb2.Pod | None:
        mirror = self.informer.get(object_key(pod))
        return mirror if mirror is not None and is_mirror_pod(mirror) else None

    def pod(self, key: str) -> core_pb2.Pod | None:
        """The pod this node should run under the key: a static pod (with the status last
        generated for it), or a pod bound here through the API that is not a mirror."""
        static = self._static_pod(key)
        if static is not None:
            status = self.status_manager.static_status(static.metadata.uid)
            if status is None:
                return static
            with_status = core_pb2.Pod()
            with_status.CopyFrom(static)
            with_status.status.CopyFrom(status)
            return with_status
        pod = self.informer.get(key)
        return None if pod is None or is_mirror_pod(pod) else pod

    def desired_pods(self) -> list[core_pb2.Pod]:
        api_pods = [p for p in self.informer.list() if not is_mirror_pod(p)]
        return api_pods + (self.static_pods.list() if self.static_pods is not None else [])

    def _on_static_pod(self, key: str) -> None:
        self.workers.enqueue(key)
        self.mirror_pods.enqueue(key)

    def _on_pod(self, pod: core_pb2.Pod) -> None:
        key = object_key(pod)
        if is_mirror_pod(pod):
            self.mirror_pods.enqueue(key)
        else:
            self.pod_starts.seen(pod)
        self.workers.enqueue(key)

    def _on_pod_deleted(self, pod: core_pb2.Pod) -> None:
        key = object_key(pod)
        if is_mirror_pod(pod):
            self.mirror_pods.enqueue(key)
        else:
            self.pod_starts.forget(pod)
        self.workers.enqueue(key)

    async def start(self) -> None:
        """Starts the static pods at once, then registers the node and starts everything else;
        returns once the node is registered and the API's pods are synced. As Kubernetes'
        kubelet bootstraps a self-hosted control plane: the static pods (an apiserver among
        them) run before any apiserver answers, the node registers and their mirror pods appear
        once one does."""
        await self.server.start()
        await self.server.set_serving(False)
        await self.https.start()
        runtime_version = await self.runtime.version()
        identity = NodeIdentity(
            name=self.config.node_name,
            pod_cidr=self.config.pod_cidr,
            host_ip=self.host_ip,
            kubelet_port=self.port,
            grpc_port=self.grpc_port,
            labels=self.config.node_labels,
        )
        self.reporter = NodeStatusReporter(
            self.client.nodes,
            identity,
            self.machine,
            runtime_version,
            readiness=self.pleg.not_healthy,
            period=self.config.node_status_update_frequency,
            stats=lambda: read_node_stats(self.config.root_dir),
            reservations=self._reservations,
            images=self.runtime.list_images,
        )
        if self.static_pods is not None:
            # Read before the workers start: a static pod still running from before a restart
            # must not look unwanted.
            self.static_pods.sync()
            self._spawn(self.static_pods.run(), "static-pods")
        await self.pleg.relist()
        self._spawn(self.workers.run(), "pod-workers")
        self._spawn(self.pleg.run(), "pleg")

        self._spawn(self._register(self.reporter), "node-registration")
        # Nothing but static pods is touched before the informer has synced: an empty cache
        # would read as "no pods wanted here" and the workers would remove every running pod.
        self.informer.add_handler(
            on_add=self._on_pod,
            on_update=lambda _, new: self._on_pod(new),
            on_delete=self._on_pod_deleted,
        )
        self._spawn(self.informer.run(), "pod-informer")
        # Not waited for: containers of API pods wait for it themselves (service_env.py).
        self._spawn(self.services.run(), "service-informer")
        await self.informer.wait_synced()
        self._sources_ready = True
        self.workers.release()
        await self._registered.wait()
        self._spawn(self.housekeeping.run(), "housekeeping")
        if self.log_manager is not None:
            self._spawn(self.log_manager.run(), "container-log-rotation")
        if self.stats.calls is not None:
            self._spawn(self._stats_readings(), "stats-readings")
        await self.server.set_serving(True)
        log.info(
            "kubelet for node %s is running (%d pods bound here; kubelet API on port %d, "
            "gRPC kubelet service on port %d)",
            self.config.node_name,
            len(self.informer.keys()),
            self.port,
            self.grpc_port,
        )

    async def _stats_readings(self, period: float = 10.0) -> None:
        """A stats reading every period, so usageNanoCores cover at most that long (the
        eviction manager's ListPodStatsAndUpdateCPUNanoCoreUsage)."""
        while True:
            await asyncio.sleep(period)
            try:
                await self.stats.update()
            except Exception as e:  # noqa: BLE001 - read again next period
                log.debug("stats reading failed: %s", e)

    async def _register(self, reporter: NodeStatusReporter) -> None:
        """Registers the node (trying until an apiserver answers), then keeps its lease and
        status, makes its CSINode, and mirrors the static pods (a mirror pod is owned by its
        Node)."""
        node = await reporter.register_until_done()
        self.lease.node_uid = node.metadata.uid
        try:
            await self.lease.renew()  # the Lease exists once the node is registered
        except Exception as e:  # noqa: BLE001 - the lease loop tries again
            log.warning("creating the lease of node %s failed: %s", self.config.node_name, e)
        self._registered.set()
        self._spawn(self.lease.run(), "node-lease")
        self._spawn(reporter.run(), "node-status")
        self._spawn(self.csi_node_info.ensure_until_done(node), "csi-node")
        # A mirror is made once the API's pods are known (one may be there already).
        await self.informer.wait_synced()
        self._spawn(self.mirror_pods.run(), "mirror-pods")

    async def stop(self, grace: float = 2.0) -> None:
        """Stops the kubelet; the pods keep running, as with Kubernetes."""
        await self.server.set_serving(False)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for uid in {key[0] for key in self.probes.workers}:
            self.probes.remove_pod(uid)
        await self.https.stop()
        await self.server.stop(grace)
