"""RBAC defaults (kubernetes pkg/apis/rbac/v1/defaults.go): a binding's roleRef and its User and
Group subjects are in rbac.authorization.k8s.io unless they say otherwise."""

from __future__ import annotations

from podplane.api.rbac.v1 import rbac_pb2

GROUP = "rbac.authorization.k8s.io"


def binding(obj: rbac_pb2.RoleBinding | rbac_pb2.ClusterRoleBinding) -> None:
    if not obj.role_ref.api_group:
        obj.role_ref.api_group = GROUP
    for s in obj.subjects:
        if not s.api_group and s.kind in ("User", "Group"):
            s.api_group = GROUP
