"""Kubernetes' user-facing roles (bootstrappolicy's ClusterRoles in policy.go, as of 1.31):
cluster-admin, and admin, edit and view, each aggregated from the system:aggregate-to-* roles
(view within edit within admin), whose rules name what a namespace's users read and write,
including the kinds of groups podplane does not serve (extensions), as Kubernetes names them."""

from __future__ import annotations

from apiserver.auth.bootstrap_objects import (
    GROUP,
    READ,
    READ_WRITE,
    WRITE,
    cluster_role,
    rule,
)
from podplane.api.rbac.v1 import rbac_pb2
from podplane.rbac.aggregation import AGGREGATE_TO_ADMIN, AGGREGATE_TO_EDIT, AGGREGATE_TO_VIEW

AUTOSCALING = "autoscaling"
NETWORKING = "networking.k8s.io"
EXTENSIONS = "extensions"


def _aggregate_to_edit() -> list[rbac_pb2.PolicyRule]:
    return [
        # Read access to escalating resources.
        rule(
            READ,
            ("",),
            (
                "pods/attach",
                "pods/proxy",
                "pods/exec",
                "pods/portforward",
                "secrets",
                "services/proxy",
            ),
        ),
        rule(("impersonate",), ("",), ("serviceaccounts",)),
        rule(WRITE, ("",), ("pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward")),
        rule(("create",), ("",), ("pods/eviction",)),
        rule(
            WRITE,
            ("",),
            (
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/proxy",
                "persistentvolumeclaims",
                "configmaps",
                "secrets",
                "events",
            ),
        ),
        rule(("create",), ("",), ("serviceaccounts/token",)),
        rule(
            WRITE,
            ("apps",),
            (
                "statefulsets",
                "statefulsets/scale",
                "daemonsets",
                "deployments",
                "deployments/scale",
                "deployments/rollback",
                "replicasets",
                "replicasets/scale",
            ),
        ),
        rule(WRITE, (AUTOSCALING,), ("horizontalpodautoscalers",)),
        rule(WRITE, ("batch",), ("jobs", "cronjobs")),
        rule(
            WRITE,
            (EXTENSIONS,),
            (
                "daemonsets",
                "deployments",
                "deployments/scale",
                "deployments/rollback",
                "ingresses",
                "replicasets",
                "replicasets/scale",
                "replicationcontrollers/scale",
                "networkpolicies",
            ),
        ),
        rule(WRITE, ("policy",), ("poddisruptionbudgets",)),
        rule(WRITE, (NETWORKING,), ("networkpolicies", "ingresses")),
        rule(READ_WRITE, ("coordination.k8s.io",), ("leases",)),
    ]


def _aggregate_to_view() -> list[rbac_pb2.PolicyRule]:
    return [
        rule(
            READ,
            ("",),
            (
                "pods",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/status",
                "endpoints",
                "persistentvolumeclaims",
                "persistentvolumeclaims/status",
                "configmaps",
            ),
        ),
        rule(
            READ,
            ("",),
            (
                "limitranges",
                "resourcequotas",
                "bindings",
                "events",
                "pods/status",
                "resourcequotas/status",
                "namespaces/status",
                "replicationcontrollers/status",
                "pods/log",
            ),
        ),
        # Reading namespaces at namespace scope reads *this* namespace.
        rule(READ, ("",), ("namespaces",)),
        rule(READ, ("discovery.k8s.io",), ("endpointslices",)),
        rule(
            READ,
            ("apps",),
            (
                "controllerrevisions",
                "statefulsets",
                "statefulsets/status",
                "statefulsets/scale",
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/status",
                "deployments/scale",
                "replicasets",
                "replicasets/status",
                "replicasets/scale",
            ),
        ),
        rule(READ, (AUTOSCALING,), ("horizontalpodautoscalers", "horizontalpodautoscalers/status")),
        rule(READ, ("batch",), ("jobs", "cronjobs", "cronjobs/status", "jobs/status")),
        rule(
            READ,
            (EXTENSIONS,),
            (
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "ingresses",
                "ingresses/status",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
                "replicationcontrollers/scale",
                "networkpolicies",
            ),
        ),
        rule(READ, ("policy",), ("poddisruptionbudgets", "poddisruptionbudgets/status")),
        rule(READ, (NETWORKING,), ("networkpolicies", "ingresses", "ingresses/status")),
    ]


def user_facing_roles() -> list[rbac_pb2.ClusterRole]:
    return [
        cluster_role("cluster-admin", [rule(("*",), ("*",), ("*",)), rule(("*",), urls=("*",))]),
        cluster_role("admin", [], aggregate_from=AGGREGATE_TO_ADMIN),
        cluster_role(
            "edit", [], labels={AGGREGATE_TO_ADMIN: "true"}, aggregate_from=AGGREGATE_TO_EDIT
        ),
        cluster_role(
            "view", [], labels={AGGREGATE_TO_EDIT: "true"}, aggregate_from=AGGREGATE_TO_VIEW
        ),
        cluster_role(
            "system:aggregate-to-admin",
            [
                rule(("create",), ("authorization.k8s.io",), ("localsubjectaccessreviews",)),
                rule(READ_WRITE, (GROUP,), ("roles", "rolebindings")),
            ],
            labels={AGGREGATE_TO_ADMIN: "true"},
        ),
        cluster_role(
            "system:aggregate-to-edit", _aggregate_to_edit(), labels={AGGREGATE_TO_EDIT: "true"}
        ),
        cluster_role(
            "system:aggregate-to-view", _aggregate_to_view(), labels={AGGREGATE_TO_VIEW: "true"}
        ),
    ]
