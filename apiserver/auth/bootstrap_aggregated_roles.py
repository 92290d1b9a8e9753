"""Kubernetes' user-facing roles (bootstrappolicy's ClusterRoles in policy.go): cluster-admin,
and admin, edit and view, each aggregated from the system:aggregate-to-* roles (view within
edit within admin), whose rules name what a namespace's users read and write, cut to the kinds
podplane serves."""

from __future__ import annotations

from apiserver.auth.bootstrap_objects import GROUP, READ, WRITE, cluster_role, rule
from podplane.api.rbac.v1 import rbac_pb2
from podplane.rbac.aggregation import AGGREGATE_TO_ADMIN, AGGREGATE_TO_EDIT, AGGREGATE_TO_VIEW

AUTOSCALING = "autoscaling"
NETWORKING = "networking.k8s.io"

_VIEW_CORE = (
    "pods",
    "pods/log",
    "pods/status",
    "replicationcontrollers",
    "replicationcontrollers/scale",
    "replicationcontrollers/status",
    "services",
    "services/status",
    "endpoints",
    "persistentvolumeclaims",
    "persistentvolumeclaims/status",
    "configmaps",
    "serviceaccounts",
    "events",
    "namespaces",
    "namespaces/status",
    "limitranges",
    "resourcequotas",
    "resourcequotas/status",
)
_VIEW_APPS = (
    "controllerrevisions",
    "daemonsets",
    "daemonsets/status",
    "deployments",
    "deployments/scale",
    "deployments/status",
    "replicasets",
    "replicasets/scale",
    "replicasets/status",
    "statefulsets",
    "statefulsets/scale",
    "statefulsets/status",
)
_EDIT_APPS = (
    "daemonsets",
    "deployments",
    "deployments/rollback",
    "deployments/scale",
    "replicasets",
    "replicasets/scale",
    "statefulsets",
    "statefulsets/scale",
)
_EDIT_CORE = (
    "pods",
    "pods/attach",
    "pods/exec",
    "pods/portforward",
    "pods/proxy",
    "pods/eviction",
    "replicationcontrollers",
    "replicationcontrollers/scale",
    "services",
    "endpoints",
    "persistentvolumeclaims",
    "configmaps",
    "secrets",
    "serviceaccounts",
)


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
                rule((*READ, *WRITE), (GROUP,), ("rolebindings", "roles")),
            ],
            labels={AGGREGATE_TO_ADMIN: "true"},
        ),
        cluster_role(
            "system:aggregate-to-edit",
            [
                rule(("impersonate",), ("",), ("serviceaccounts",)),
                rule((*READ, *WRITE), ("",), _EDIT_CORE),
                rule(("create",), ("",), ("serviceaccounts/token",)),
                rule((*READ, *WRITE), ("apps",), _EDIT_APPS),
                rule((*READ, *WRITE), ("batch",), ("jobs", "cronjobs")),
                rule((*READ, *WRITE), ("policy",), ("poddisruptionbudgets",)),
                rule((*READ, *WRITE), (AUTOSCALING,), ("horizontalpodautoscalers",)),
                rule((*READ, *WRITE), (NETWORKING,), ("networkpolicies", "ingresses")),
            ],
            labels={AGGREGATE_TO_EDIT: "true"},
        ),
        cluster_role(
            "system:aggregate-to-view",
            [
                rule(READ, ("",), _VIEW_CORE),
                rule(READ, ("apps",), _VIEW_APPS),
                rule(READ, ("batch",), ("cronjobs", "cronjobs/status", "jobs", "jobs/status")),
                rule(READ, ("discovery.k8s.io",), ("endpointslices",)),
                rule(READ, ("policy",), ("poddisruptionbudgets", "poddisruptionbudgets/status")),
                rule(
                    READ,
                    (AUTOSCALING,),
                    ("horizontalpodautoscalers", "horizontalpodautoscalers/status"),
                ),
                rule(READ, (NETWORKING,), ("networkpolicies", "ingresses", "ingresses/status")),
            ],
            labels={AGGREGATE_TO_VIEW: "true"},
        ),
    ]
