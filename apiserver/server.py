"""Assembles the apiserver: the etcd client, one store and watch cache per resource, admission,
authorization and flow control (API Priority and Fairness, or the max-in-flight guard), and the
front doors over them (apiserver/endpoints/grpc/door.py: servicers, interceptors, health and
reflection; apiserver/endpoints/rest/door.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from apiserver.admission import (
    certificates,
    default_ingress_class,
    default_toleration_seconds,
    priority,
    runtime_class,
    service_account,
)
from apiserver.admission import plugins as admission_plugins
from apiserver.admission.chain import AdmissionChain
from apiserver.admission.default_ingress_class import DefaultIngressClass
from apiserver.admission.default_storage_class import DefaultStorageClass
from apiserver.admission.default_toleration_seconds import DefaultTolerationSeconds
from apiserver.admission.interfaces import Plugin
from apiserver.admission.lookups import (
    CachedThenStored,
    cached_else_stored,
    cached_then_stored,
    namespace_labels,
)
from apiserver.admission.namespace_lifecycle import NamespaceLifecycle
from apiserver.admission.namespace_limits import namespace_limit_plugins
from apiserver.admission.node_restriction import NodeRestriction
from apiserver.admission.pod_security import PodSecurity
from apiserver.admission.priority import PriorityAdmission
from apiserver.admission.rbac_escalation import RBACEscalation
from apiserver.admission.runtime_class import RuntimeClassAdmission
from apiserver.admission.service_account import ServiceAccountAdmission
from apiserver.admission.storage_object_in_use_protection import StorageObjectInUseProtection
from apiserver.admission.webhooks.plugins import webhook_plugins
from apiserver.aggregator.assembly import Aggregation
from apiserver.auth.authorizer import Attributes, Authorizer
from apiserver.auth.escalation import EscalationCheck
from apiserver.auth.rbac.cache import CacheFeed, PolicyCache
from apiserver.auth.serviceaccount.authenticator import Lookups
from apiserver.auth.user import UserInfo
from apiserver.controlplane import poststart
from apiserver.controlplane.admission_policy import (
    policy_param_authorization,
    policy_status_controller,
    validating_admission_policy,
)
from apiserver.controlplane.flowcontrol_config import flow_control
from apiserver.controlplane.identity import IdentityLease, IdentityLeaseGC
from apiserver.endpoints import health
from apiserver.endpoints.grpc.door import grpc_server
from apiserver.endpoints.metrics import REGISTERED_WATCHERS
from apiserver.endpoints.rest.door import RestServer, rest_application
from apiserver.flowcontrol.max_inflight import (
    DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT,
    DEFAULT_MAX_REQUESTS_INFLIGHT,
    MaxInflight,
)
from apiserver.flowcontrol.priority_and_fairness import DEFAULT_REQUEST_WAIT_LIMIT
from apiserver.objects import T
from apiserver.options.advertise import default_advertise_address, external_address
from apiserver.options.aggregator import AggregatorOptions
from apiserver.options.component_status import ComponentStatusOptions
from apiserver.options.etcd import WatchCacheOptions
from apiserver.options.secure_serving import SecureServing
from apiserver.options.serving import DEFAULT_ACCEPTORS
from apiserver.registry.apiextensions.controllers import DefinitionControllers
from apiserver.registry.apiregistration.autoregister import AutoRegister, DefinitionsFeed
from apiserver.registry.cacher import Cacher
from apiserver.registry.customresource.serving import CustomResourceServing, StorageParts
from apiserver.registry.generic.store import Store
from apiserver.registry.pod import kubelet_client
from apiserver.registry.resource import ResourceAPI
from apiserver.registry.reviews import create_only_apis
from apiserver.registry.scale import SCALABLE_WORKLOADS, WorkloadScaler
from apiserver.registry.scheduling.system_priority_classes import ensure_system_priority_classes
from apiserver.registry.served import ServedResources
from apiserver.registry.service import ipallocator, kubernetes_service, portallocator
from apiserver.registry.service.allocator import ServiceAllocator
from apiserver.registry.service.kubernetes_service import KubernetesService
from apiserver.registry.serviceaccount.token import TokenRequests
from apiserver.registry.strategy import STRATEGIES
from apiserver.registry.uncached import UNCACHED_RESOURCES, Uncached
from apiserver.registry.versions import served_versions
from apiserver.storage.compactor import DEFAULT_INTERVAL, Compactor
from apiserver.storage.etcd import EtcdClient, wait_until_ready
from podplane.api.core.v1 import core_pb2
from podplane.api.rbac.v1 import rbac_pb2
from podplane.componentbase.serving import Server

log = logging.getLogger(__name__)


# Watch cache fields that index watchers: a kubelet's watch (spec.nodeName=<node>) is only offered
# the events of its own node's pods.
_TRIGGER_FIELDS = {"pods": "spec.nodeName"}


@dataclass
class APIServer:
    etcd_endpoints: list[str]
    address: str = "0.0.0.0:6443"
    watch_cache: WatchCacheOptions = field(default_factory=WatchCacheOptions)
    # Seconds between etcd compactions; 0 disables them.
    compaction_interval: float = DEFAULT_INTERVAL
    # TLS and authentication; None serves plaintext with no caller known (in-process tests only:
    # python -m apiserver needs --tls-cert-file, or --insecure-serving said explicitly).
    security: SecureServing | None = None
    # --max-requests-inflight and --max-mutating-requests-inflight: with API Priority and
    # Fairness (--enable-priority-and-fairness, the default), their sum is the server's seats,
    # shared by every priority level; without it, the max-in-flight guard's two limits. 0 and 0:
    # no flow control at all.
    max_requests_inflight: int = DEFAULT_MAX_REQUESTS_INFLIGHT
    max_mutating_requests_inflight: int = DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT
    enable_priority_and_fairness: bool = True
    # The longest a request waits in a priority level's queue before it is rejected.
    request_wait_limit: float = DEFAULT_REQUEST_WAIT_LIMIT
    # gRPC servers on the port (--grpc-acceptors): how many calls of a method the event loop can
    # take up per turn (podplane.componentbase.serving.Server); with too few, calls queue where
    # the overload guard cannot see them.
    acceptors: int = DEFAULT_ACCEPTORS
    # HOST:PORT of the Kubernetes REST API (port 0: any free one); None serves none.
    rest_address: str | None = None
    # The ranges Services' cluster IPs and node ports are allocated from
    # (--service-cluster-ip-range, --service-node-port-range).
    service_cluster_ip_range: str = ipallocator.DEFAULT_SERVICE_CIDR
    service_node_port_range: str = portallocator.DEFAULT_NODE_PORT_RANGE
    # The address pods reach this apiserver at, published as the `kubernetes` Service's
    # endpoint (--advertise-address); None: the bind address, else the default route's.
    advertise_address: str | None = None
    # Admission plugins turned off (--disable-admission-plugins), of admission_plugins.OPTIONAL.
    disable_admission_plugins: frozenset[str] = frozenset()
    # The aggregation layer's proxy certificate and request headers (--proxy-client-*-file).
    aggregator: AggregatorOptions | None = None
    component_status: ComponentStatusOptions = field(default_factory=ComponentStatusOptions)
    etcd: EtcdClient = field(init=False)
    # By plural: every kind, so of no one message type.
    stores: dict[str, Store[Any]] = field(init=False)
    cachers: dict[str, Cacher[Any]] = field(init=False)
    server: Server = field(init=False)

    def __post_init__(self) -> None:
        """The server assembled step by step, as kube-apiserver's completedConfig.New: storage,
        watch caches, authorization, admission, the served resources, authentication, the front
        doors, and what it keeps up about itself in the API."""
        self._storage()
        reads = self._watch_caches()
        authorizer = self._authorization()
        admission = self._admission(authorizer)
        # Flow control: the server's, whichever door a request comes through.
        self.flow_control, self.flow_control_config = flow_control(
            self.max_requests_inflight + self.max_mutating_requests_inflight,
            MaxInflight(self.max_requests_inflight, self.max_mutating_requests_inflight),
            self.request_wait_limit if self.enable_priority_and_fairness else None,
            (self.cachers, self.stores),
        )
        self.compactor = Compactor(self.etcd, self.compaction_interval)
        self._served_resources(reads, admission)
        client_ca = self.security.client_ca_file if self.security else None
        self.aggregation = Aggregation(self.cachers, self.stores, client_ca, self.aggregator)
        self._authentication()
        self._front_doors()
        self._tasks: list[asyncio.Task[None]] = []
        self.kubernetes_service: KubernetesService | None = None
        # Its identity in the API (a Lease named after its host), and the collector of the
        # leases of apiservers gone for good.
        self.identity_lease = IdentityLease(self.stores["leases"], socket.gethostname())
        self.identity_lease_gc = IdentityLeaseGC(self.stores["leases"])

    # ------------------------------------------------------------------ assembly steps
    def _storage(self) -> None:
        """The etcd client, one store per kind, the pools Services take values from."""
        credentials = self.security.etcd_credentials() if self.security else None
        self.etcd = EtcdClient(self.etcd_endpoints, credentials=credentials)
        if self.security and self.security.kubelet_client:  # one per process (python -m apiserver)
            kubelet_client.configure(
                self.security.kubelet_client.credentials(),
                self.security.kubelet_client.ssl_context(),
            )
        self.stores = {plural: Store(self.etcd, s) for plural, s in STRATEGIES.items()}
        self.service_allocator = ServiceAllocator(
            self.etcd, self.service_cluster_ip_range, self.service_node_port_range
        )
        self.stores["services"].allocator = self.service_allocator

    def _watch_caches(self) -> dict[str, Cacher[Any] | Uncached[Any]]:
        """A watch cache per kind (but the uncached ones); what reads each kind, by plural."""
        self.cachers = {
            plural: self._cacher(store, plural)
            for plural, store in self.stores.items()
            if plural not in UNCACHED_RESOURCES
        }
        return {
            plural: self.cachers.get(plural) or Uncached(store)
            for plural, store in self.stores.items()
        }

    def _authorization(self) -> Authorizer:
        """The node authorizer and RBAC, over the RBAC objects followed from their watch
        caches."""
        self.rbac_policy = PolicyCache()
        for plural, message in (
            ("roles", rbac_pb2.Role),
            ("clusterroles", rbac_pb2.ClusterRole),
            ("rolebindings", rbac_pb2.RoleBinding),
            ("clusterrolebindings", rbac_pb2.ClusterRoleBinding),
        ):
            self.cachers[plural].observers.append(CacheFeed(self.rbac_policy, message))
        self.authorizer = Authorizer(
            self._pods_in_namespace,
            lambda namespace, name: self.cachers["persistentvolumeclaims"].peek(namespace, name),
            self.rbac_policy,
        )
        return self.authorizer

    def _admission(self, authorizer: Authorizer) -> AdmissionChain:
        """The admission chain of every store, in kube-apiserver's order
        (apiserver/admission/plugins.py): every plugin's mutating half, then every validating
        half."""

        def may(user: UserInfo, verb: str, plural: str, namespace: str, name: str) -> bool:
            return authorizer.authorize(Attributes(user, verb, plural, "", namespace, name)).allowed

        def may_signer(user: UserInfo, verb: str, signer: str) -> bool:
            attributes = Attributes(user, verb, "signers", "", "", signer, certificates.GROUP)
            return authorizer.authorize(attributes).allowed

        escalation = RBACEscalation(EscalationCheck(authorizer.rbac.resolver, may))
        chain = admission_plugins.ordered_chain(
            {
                admission_plugins.NAMESPACE_LIFECYCLE: NamespaceLifecycle(
                    self.stores["namespaces"], self.cachers["namespaces"]
                ),
                service_account.NAME: ServiceAccountAdmission(
                    self.cachers["serviceaccounts"], self.stores["serviceaccounts"]
                ),
                priority.NAME: PriorityAdmission(self._cluster_objects("priorityclasses")),
                default_toleration_seconds.NAME: DefaultTolerationSeconds(),
                admission_plugins.DEFAULT_STORAGE_CLASS: DefaultStorageClass(
                    lambda: list(self.cachers["storageclasses"].objects.values())
                ),
                admission_plugins.STORAGE_OBJECT_IN_USE_PROTECTION: (
                    StorageObjectInUseProtection()
                ),
                runtime_class.NAME: RuntimeClassAdmission(self._cluster_objects("runtimeclasses")),
                admission_plugins.NODE_RESTRICTION: NodeRestriction(
                    cached_then_stored(self.cachers["pods"], self.stores["pods"])
                ),
                admission_plugins.POD_SECURITY: PodSecurity(self._namespace_labels()),
                certificates.APPROVAL_NAME: certificates.CertificateApproval(may_signer),
                certificates.SIGNING_NAME: certificates.CertificateSigning(may_signer),
                certificates.SUBJECT_RESTRICTION_NAME: (
                    certificates.CertificateSubjectRestriction()
                ),
                default_ingress_class.NAME: DefaultIngressClass(
                    self._cluster_objects("ingressclasses")
                ),
                admission_plugins.VALIDATING_ADMISSION_POLICY: validating_admission_policy(
                    self.cachers, self.stores, lambda: self.apis, authorizer
                ),
                **namespace_limit_plugins(
                    *(self.cachers["limitranges"], self.stores["limitranges"]),
                    *(self.cachers["resourcequotas"], self.stores["resourcequotas"]),
                ),
                **self._webhooks(),
            },
            self.disable_admission_plugins,
            escalation,
            policy_param_authorization(self.cachers, self.stores, lambda: self.apis, authorizer),
        )
        for store in self.stores.values():
            store.admission = chain
        return chain

    def _webhooks(self) -> dict[str, Plugin]:
        """The admission webhooks over the watch caches; their client closed as the server stops."""
        defaults = {plural: store.strategy.default for plural, store in self.stores.items()}
        hooks, self.webhook_client = webhook_plugins(
            self.cachers, defaults, self._namespace_labels()
        )
        return hooks

    def _served_resources(
        self, reads: dict[str, Cacher[Any] | Uncached[Any]], admission: AdmissionChain
    ) -> None:
        """Every resource's verbs, as both doors call them: built-in, computed, and custom."""
        self.apis = ServedResources(
            {
                plural: ResourceAPI(
                    store,
                    reads[plural],
                    scaler=WorkloadScaler() if plural in SCALABLE_WORKLOADS else None,
                )
                for plural, store in self.stores.items()
            }
        )
        self.apis.versions = served_versions(self.etcd, self.stores, self._cacher, self.cachers)
        self.apis.computed = self.component_status.computed_apis(self.etcd)
        self.custom_resources = CustomResourceServing(
            self.apis,
            StorageParts(self.etcd, self._custom_cacher, admission, self.cachers),
        )
        definitions_cache = self.cachers["customresourcedefinitions"]
        definitions_cache.observers.append(self.custom_resources)
        self.definition_controllers = DefinitionControllers(
            definitions_cache, self.stores["customresourcedefinitions"], self.apis
        )
        definitions_cache.observers.append(self.definition_controllers)
        # The local APIService of every group/version served, built-in or a definition's.
        self.autoregister = AutoRegister(
            self.cachers["apiservices"], self.stores["apiservices"], definitions_cache
        )
        self.cachers["apiservices"].observers.append(self.autoregister)
        self.policy_status = policy_status_controller(self.cachers, self.stores, lambda: self.apis)
        definitions_cache.observers.append(DefinitionsFeed(self.autoregister))

    def _authentication(self) -> None:
        """One authenticator for both doors (service account tokens checked against the watch
        cache's accounts, pods, secrets and nodes), the token requests, and the kinds only
        created, never stored: the access and token reviews."""
        sec = self.security
        self.authenticator = sec.authenticator(self._token_lookups()) if sec else None
        self.tokens = (
            TokenRequests(sec.service_accounts.token_issuer(), self.apis)
            if sec and sec.service_accounts
            else None
        )
        self.create_only = create_only_apis(self.authorizer, self.authenticator)

    def _front_doors(self) -> None:
        """The gRPC door, the REST door over the same verbs, authorizer and flow control, and
        the token port."""
        sec = self.security
        self.health = health.ServerHealth(self.etcd, self.cachers)
        self.server = grpc_server(
            self.address,
            self.apis,
            create_only=self.create_only,
            authorizer=self.authorizer,
            flow_control=self.flow_control,
            security=sec,
            acceptors=self.acceptors,
            authenticator=self.authenticator,
            tokens=self.tokens,
        )
        self.rest: RestServer | None = None
        if self.rest_address is not None:
            host, _, port = self.rest_address.rpartition(":")
            self.rest = RestServer(
                rest_application(
                    self.apis,
                    create_only=self.create_only,
                    authorizer=self.authorizer,
                    flow_control=self.flow_control,
                    security=sec,
                    health=self.health.checks(),
                    authenticator=self.authenticator,
                    tokens=self.tokens,
                    aggregation=self.aggregation,
                    external_address=external_address(self.advertise_address, self.rest_address),
                ),
                host.strip("[]") or "0.0.0.0",
                int(port),
                sec,
            )
        # The token port: TLS, no client certificate, bearer tokens (see options/secure_serving).
        self.token_port = (
            self.server.add_port(
                sec.token_address, sec.server_credentials(require_client_cert=False)
            )
            if sec and sec.token_address
            else None
        )

    def _cacher(self, store: Store[T], name: str) -> Cacher[T]:
        opts = self.watch_cache
        return Cacher(
            store,
            capacity=opts.capacity,
            watcher_buffer=opts.watcher_buffer,
            bookmark_interval=opts.bookmark_interval,
            batch_interval=opts.batch_interval,
            trigger_field=_TRIGGER_FIELDS.get(name),
            on_watchers_changed=REGISTERED_WATCHERS.labels(name).set,
        )

    def _custom_cacher(self, store: Store[T]) -> Cacher[T]:
        """A custom resource version's watch cache, counted under <plural>.<group>."""
        return self._cacher(store, f"{store.resource.plural}.{store.resource.group}")

    def _cluster_objects(self, plural: str) -> CachedThenStored[Any]:
        return CachedThenStored(self.cachers[plural], self.stores[plural])

    def _token_lookups(self) -> Lookups:
        kinds = ("serviceaccounts", "pods", "secrets", "nodes")  # Lookups' order
        return Lookups(*(cached_else_stored(self.cachers[k], self.stores[k]) for k in kinds))

    def _namespace_labels(self) -> Callable[[str], Awaitable[dict[str, str] | None]]:
        return namespace_labels(self.cachers["namespaces"], self.stores["namespaces"])

    def _pods_in_namespace(self, namespace: str) -> list[core_pb2.Pod]:
        """The node authorizer's graph: the watch cache's pods of a namespace."""
        cacher = self.cachers["pods"]
        prefix = cacher.store.range_prefix(namespace)
        return [pod for key, pod in list(cacher.objects.items()) if key.startswith(prefix)]

    @property
    def port(self) -> int:
        return int(self.server.port)

    @property
    def rest_port(self) -> int | None:
        return self.rest.port if self.rest is not None else None

    async def start(self, etcd_timeout: float = 60.0) -> None:
        await self.server.start()
        await self.server.set_serving(False)
        await wait_until_ready(self.etcd, etcd_timeout)
        hooks = self.health.hooks  # each one's /readyz check passes once it has run
        namespaces = poststart.ensure_system_namespaces(self.stores["namespaces"])
        await hooks.run("start-system-namespaces-controller", namespaces)
        repair = poststart.repair_service_allocations(self.etcd, self.service_allocator)
        await hooks.run("start-service-ip-repair-controllers", repair)
        for cacher in self.cachers.values():
            cacher.start()
        for cacher in self.cachers.values():
            await cacher.wait_ready(etcd_timeout)
        hooks.done(*health.CACHE_HOOKS)
        rbac = [self.stores[plural] for plural in poststart.RBAC_PLURALS]
        policy = poststart.ensure_bootstrap_policy_seen(self.rbac_policy, etcd_timeout, *rbac)
        await hooks.run("rbac/bootstrap-roles", policy)
        priorities = ensure_system_priority_classes(self.stores["priorityclasses"])
        await hooks.run("scheduling/bootstrap-system-priority-classes", priorities)
        await self.flow_control_config.start(hooks, etcd_timeout)
        if self.rest is not None:
            await self.rest.start()
        await self.server.set_serving(True)
        self._tasks.append(
            asyncio.create_task(poststart.watch_etcd_health(self.etcd, self.server.set_serving))
        )
        self.kubernetes_service = self._kubernetes_service()
        with contextlib.suppress(*kubernetes_service.FAILURES):  # retried every 10 s
            await self.kubernetes_service.reconcile()
        loops = [self.kubernetes_service.run(), self.identity_lease.run()]
        loops += [self.identity_lease_gc.run(), self.definition_controllers.run()]
        loops += [self.autoregister.run(), self.policy_status.run(), *self.aggregation.loops()]
        loops += [poststart.repair_loop(self.etcd, self.service_allocator)]
        loops += self.flow_control_config.loops()
        self._tasks.extend(asyncio.create_task(loop) for loop in loops)
        hooks.done(*health.CONTROLLER_HOOKS)
        if self.compaction_interval > 0:
            self._tasks.append(asyncio.create_task(self.compactor.run()))
        log.info("apiserver serving on port %d (etcd %s)", self.port, ",".join(self.etcd_endpoints))

    def _kubernetes_service(self) -> KubernetesService:
        """The `kubernetes` Service's reconciler: port 443 to the REST door (or, without one,
        the gRPC port, and no address published)."""
        host = (self.rest_address or self.address).rpartition(":")[0]
        address = self.advertise_address or default_advertise_address(host)
        return KubernetesService(
            self.etcd,
            self.stores["services"],
            self.stores["endpoints"],
            self.stores["endpointslices"],
            cluster_ip=self.service_allocator.ip_range.first(),
            address=address if self.rest is not None else None,
            port=self.rest_port or self.port,
        )

    async def stop(self, grace: float = 5.0) -> None:
        for task in self._tasks:
            task.cancel()
        reconciler, self.kubernetes_service = self.kubernetes_service, None
        if reconciler is not None:
            await reconciler.stop()
        await self.server.set_serving(False)
        self.health.shutting_down = True
        for cacher in self.cachers.values():
            await cacher.stop()  # ends the watch streams, so the server stops without waiting
        await self.custom_resources.stop()
        await self.aggregation.close()
        if self.rest is not None:
            await self.rest.stop()
        await self.server.stop(grace)
        await self.webhook_client.close()
        await self.etcd.close()
