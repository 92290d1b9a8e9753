"""What the apiserver does once it can reach etcd, before it reports ready, and keeps doing
(kube-apiserver's post-start hooks): the system namespaces (the bootstrap controller), the RBAC
bootstrap policy stored and seen by the authorizer (rbac/bootstrap-roles), the Services' pools
checked against the Services (the cluster IP and node port repair loops)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from apiserver import errors
from apiserver.auth import bootstrap_policy as rbac_bootstrap
from apiserver.auth.rbac.cache import PolicyCache
from apiserver.registry.generic.store import Store
from apiserver.registry.rbac.reconcile import ensure_bootstrap_policy
from apiserver.registry.service import kubernetes_service
from apiserver.registry.service.allocator import ServiceAllocator
from apiserver.registry.service.repair import REPAIR_INTERVAL, repair
from apiserver.storage.etcd import EtcdClient
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.rbac.v1 import rbac_pb2

log = logging.getLogger(__name__)

# The stores ensure_bootstrap_policy_seen takes, in its order.
RBAC_PLURALS = ("clusterroles", "clusterrolebindings", "roles", "rolebindings")
# Namespaces every cluster has (kube-node-lease holds the nodes' heartbeat leases).
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


async def ensure_system_namespaces(namespaces: Store[core_pb2.Namespace]) -> None:
    for name in SYSTEM_NAMESPACES:
        with contextlib.suppress(errors.APIError):  # already there
            await namespaces.create(core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=name)))


async def ensure_bootstrap_policy_seen(
    policy: PolicyCache,
    timeout: float,
    cluster_roles: Store[rbac_pb2.ClusterRole],
    cluster_role_bindings: Store[rbac_pb2.ClusterRoleBinding],
    roles: Store[rbac_pb2.Role],
    role_bindings: Store[rbac_pb2.RoleBinding],
) -> None:
    """The RBAC bootstrap policy stored (Kubernetes' rbac/bootstrap-roles post-start hook), then
    seen by the authorizer's cache, before the apiserver reports ready: components that connect
    at once are authorized by it."""
    await ensure_bootstrap_policy(cluster_roles, cluster_role_bindings, roles, role_bindings)
    wanted = {b.metadata.name for b in rbac_bootstrap.cluster_role_bindings()}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        cached = {b.metadata.name for b in policy.objects(rbac_pb2.ClusterRoleBinding)}
        if wanted <= cached:
            return
        await asyncio.sleep(0.05)
    log.warning("the bootstrap RBAC policy is not in the watch cache after %.0fs", timeout)


async def repair_service_allocations(etcd: EtcdClient, allocator: ServiceAllocator) -> None:
    """The cluster IPs and node ports taken in etcd, checked against the Services."""
    try:
        await repair(etcd, allocator)
    except kubernetes_service.FAILURES as e:
        log.warning("checking the services' allocations: %s", e)


async def repair_loop(etcd: EtcdClient, allocator: ServiceAllocator) -> None:
    while True:
        await asyncio.sleep(REPAIR_INTERVAL)
        await repair_service_allocations(etcd, allocator)


async def watch_etcd_health(
    etcd: EtcdClient, set_serving: Callable[[bool], Awaitable[None]], period: float = 5.0
) -> None:
    """Calls `set_serving(False)` once etcd stops answering, `set_serving(True)` once it answers
    again, so health checks and balancers see it (kube-apiserver's etcd readiness check)."""
    serving = True
    while True:
        await asyncio.sleep(period)
        try:
            async with asyncio.timeout(period):
                await etcd.status()
            ok = True
        except Exception:  # noqa: BLE001 - any failure means unreachable; logged below
            ok = False
        if ok != serving:
            log.warning("etcd %s", "reachable again" if ok else "unreachable")
            await set_serving(ok)
            serving = ok
