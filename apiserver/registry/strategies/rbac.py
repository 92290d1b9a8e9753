"""Roles, ClusterRoles and their bindings (kubernetes pkg/registry/rbac/)."""

from __future__ import annotations

from typing import Any

from apiserver.defaulting import rbac as rbac_defaulting
from apiserver.registry.strategies.base import Strategy
from apiserver.validation import rbac as rbac_validation
from apiserver.validation.fields import FieldError
from podplane.api.rbac.v1 import rbac_pb2
from podplane.apimachinery import resources


def _role_binding_update(new: rbac_pb2.RoleBinding, old: rbac_pb2.RoleBinding) -> list[FieldError]:
    # A binding has no spec, so the store does not default it on update (see Secret's).
    rbac_defaulting.binding(new)
    return rbac_validation.role_binding_update(new, old)


def _cluster_role_binding_update(
    new: rbac_pb2.ClusterRoleBinding, old: rbac_pb2.ClusterRoleBinding
) -> list[FieldError]:
    rbac_defaulting.binding(new)
    return rbac_validation.cluster_role_binding_update(new, old)


STRATEGIES: tuple[Strategy[Any], ...] = (
    Strategy(resources.ROLE, rbac_validation.role, rbac_validation.role_update),
    Strategy(
        resources.CLUSTER_ROLE,
        rbac_validation.cluster_role,
        rbac_validation.cluster_role_update,
    ),
    Strategy(
        resources.ROLE_BINDING,
        rbac_validation.role_binding,
        _role_binding_update,
        default=rbac_defaulting.binding,
    ),
    Strategy(
        resources.CLUSTER_ROLE_BINDING,
        rbac_validation.cluster_role_binding,
        _cluster_role_binding_update,
        default=rbac_defaulting.binding,
    ),
)
