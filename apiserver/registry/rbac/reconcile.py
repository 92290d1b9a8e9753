"""The bootstrap policy stored at start (pkg/registry/rbac/rest/storage_rbac.go's PostStartHook
and pkg/registry/rbac/reconciliation): each bootstrap ClusterRole, ClusterRoleBinding, Role and
RoleBinding is created when missing; one that exists gets the labels, annotations, rules (or
aggregation selectors) and subjects it lacks, unless annotated
rbac.authorization.kubernetes.io/autoupdate: "false" (an object without the annotation is
reconciled, and gets it: computeReconciledRole protects only "false"); what it has beyond them
stays. A binding whose roleRef differs is deleted and made again (roleRef cannot change). Several
apiservers may start at once: a conflict or a create that finds the object made meanwhile is read
and reconciled again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import TypeVar

from apiserver import errors
from apiserver.auth import bootstrap_policy as bootstrap
from apiserver.auth.escalation import missing_rules
from apiserver.registry.generic.store import Store
from podplane.api.rbac.v1 import rbac_pb2

log = logging.getLogger(__name__)

ATTEMPTS = 8
R = TypeVar(
    "R", rbac_pb2.ClusterRole, rbac_pb2.ClusterRoleBinding, rbac_pb2.Role, rbac_pb2.RoleBinding
)
RoleT = TypeVar("RoleT", rbac_pb2.ClusterRole, rbac_pb2.Role)
BindingT = TypeVar("BindingT", rbac_pb2.ClusterRoleBinding, rbac_pb2.RoleBinding)
Roles = (rbac_pb2.ClusterRole, rbac_pb2.Role)
Bindings = (rbac_pb2.ClusterRoleBinding, rbac_pb2.RoleBinding)


def _merge_meta(out: R, expected: R) -> None:
    for k, v in expected.metadata.labels.items():
        out.metadata.labels.setdefault(k, v)
    for k, v in expected.metadata.annotations.items():
        out.metadata.annotations.setdefault(k, v)


def reconciled_role(existing: RoleT, expected: RoleT) -> RoleT:
    """computeReconciledRole without removing anything: missing labels, annotations and rules;
    for an aggregated role, the missing selectors (its rules are the aggregation controller's)."""
    out = type(existing)()
    out.CopyFrom(existing)
    _merge_meta(out, expected)
    if (
        isinstance(out, rbac_pb2.ClusterRole)
        and isinstance(expected, rbac_pb2.ClusterRole)
        and (expected.HasField("aggregation_rule"))
    ):
        selectors = out.aggregation_rule.cluster_role_selectors
        for sel in expected.aggregation_rule.cluster_role_selectors:
            if sel not in selectors:
                selectors.append(sel)
    else:
        out.rules.extend(missing_rules(list(out.rules), expected.rules))
    return out


def reconciled_binding(existing: BindingT, expected: BindingT) -> BindingT:
    """computeReconciledRoleBinding without removing anything: missing labels, annotations and
    subjects."""
    out = type(existing)()
    out.CopyFrom(existing)
    _merge_meta(out, expected)
    for s in expected.subjects:
        if s not in out.subjects:
            out.subjects.append(s)
    return out


def _protected(obj: R) -> bool:
    return obj.metadata.annotations.get(bootstrap.AUTOUPDATE) == "false"


async def _ensure(store: Store[R], expected: R) -> None:
    namespace, name = expected.metadata.namespace, expected.metadata.name
    for _ in range(ATTEMPTS):
        try:
            existing = await store.get(namespace, name)
        except errors.APIError as e:
            if e.reason != "NotFound":
                raise
            try:
                obj = type(expected)()
                obj.CopyFrom(expected)
                await store.create(obj)
                log.info("created %s %s", expected.kind, name)
                return
            except errors.APIError as e:
                if e.reason == "AlreadyExists":  # another apiserver made it meanwhile
                    continue
                raise
        if _protected(existing):
            return
        wanted: R
        if isinstance(existing, Bindings) and isinstance(expected, Bindings):
            if existing.role_ref != expected.role_ref:
                await _recreate(store, existing, expected)
                return
            wanted = reconciled_binding(existing, expected)
        elif isinstance(existing, Roles) and isinstance(expected, Roles):
            wanted = reconciled_role(existing, expected)
        else:
            raise TypeError(f"not a bootstrap kind: {type(expected).__name__}")
        if wanted == existing:
            return
        try:
            await store.update(wanted)
            log.info("reconciled %s %s", expected.kind, name)
            return
        except errors.APIError as e:
            if e.reason not in ("Conflict", "NotFound"):
                raise
    log.warning("gave up reconciling %s %s after %d attempts", expected.kind, name, ATTEMPTS)


async def _recreate(store: Store[R], existing: R, expected: R) -> None:
    try:
        await store.delete(existing.metadata.namespace, existing.metadata.name)
    except errors.APIError as e:
        if e.reason != "NotFound":
            raise
    await _ensure(store, expected)


async def _ensure_all(store: Store[R], expected: Iterable[R]) -> None:
    """Each of one kind at once (about 150 objects in all, one at a time took the apiserver 1.6 s
    at its start, while the components that had waited for its port were refused): the group
    commit writes a turn's creates in one etcd call."""
    await asyncio.gather(*(_ensure(store, e) for e in expected))


async def ensure_bootstrap_policy(
    cluster_roles: Store[rbac_pb2.ClusterRole],
    cluster_role_bindings: Store[rbac_pb2.ClusterRoleBinding],
    roles: Store[rbac_pb2.Role],
    role_bindings: Store[rbac_pb2.RoleBinding],
) -> None:
    """Roles first, so a binding never names a role that is not there yet (storage_rbac.go's
    order: cluster roles, cluster role bindings, roles, role bindings); kubeadm's node bootstrap
    bindings once the roles they name exist (the certificates API's). The namespaces of the
    Roles (kube-system, kube-public) are the system namespaces made before this hook."""
    await _ensure_all(cluster_roles, bootstrap.cluster_roles())
    await _ensure_all(cluster_role_bindings, bootstrap.cluster_role_bindings())
    await _ensure_all(roles, bootstrap.roles())
    await _ensure_all(role_bindings, bootstrap.role_bindings())
    for binding in bootstrap.kubeadm_cluster_role_bindings():
        try:
            await cluster_roles.get("", binding.role_ref.name)
        except errors.APIError as e:
            if e.reason != "NotFound":
                raise
            log.info(
                "ClusterRoleBinding %s waits for ClusterRole %s",
                binding.metadata.name,
                binding.role_ref.name,
            )
            continue
        await _ensure(cluster_role_bindings, binding)
