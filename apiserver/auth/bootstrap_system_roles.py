"""Kubernetes' system:* ClusterRoles and the ClusterRoleBindings of its bootstrap policy
(bootstrappolicy's policy.go, as of 1.31 with its default feature gates): discovery, basic-user,
public-info-viewer and monitoring for everyone, the components' own roles (kube-scheduler,
volume-scheduler, kube-controller-manager, node-proxier, kube-dns, node, ...), the roles
delegation, aggregation and certificates need, each rule as Kubernetes writes it."""

from __future__ import annotations

from apiserver.auth.bootstrap_objects import (
    READ,
    READ_UPDATE,
    cluster_role,
    cluster_role_binding,
    events_rule,
    rule,
)
from apiserver.auth.user import (
    AUTHENTICATED_GROUP,
    MASTERS_GROUP,
    UNAUTHENTICATED_GROUP,
)
from podplane.api.rbac.v1 import rbac_pb2
from podplane.apimachinery.serviceaccount import ALL_SERVICE_ACCOUNTS_GROUP

AUTHENTICATION = "authentication.k8s.io"
AUTHORIZATION = "authorization.k8s.io"
CERTIFICATES = "certificates.k8s.io"
COORDINATION = "coordination.k8s.io"
STORAGE = "storage.k8s.io"

KUBE_APISERVER_CLIENT = "kubernetes.io/kube-apiserver-client"
KUBE_APISERVER_CLIENT_KUBELET = "kubernetes.io/kube-apiserver-client-kubelet"
KUBELET_SERVING = "kubernetes.io/kubelet-serving"
LEGACY_UNKNOWN = "kubernetes.io/legacy-unknown"
NODE_CLIENT_ROLE = "system:certificates.k8s.io:certificatesigningrequests:nodeclient"
SELF_NODE_CLIENT_ROLE = "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"

MONITORING_GROUP = "system:monitoring"
KUBE_PROXY_USER = "system:kube-proxy"
KUBE_CONTROLLER_MANAGER_USER = "system:kube-controller-manager"
KUBE_SCHEDULER_USER = "system:kube-scheduler"
ISSUER_DISCOVERY = "system:service-account-issuer-discovery"
NODE_ROLE = "system:node"

DISCOVERY_URLS = (
    "/livez",
    "/readyz",
    "/healthz",
    "/version",
    "/version/",
    "/openapi",
    "/openapi/*",
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
)
MONITORING_URLS = (
    "/metrics",
    "/metrics/slis",
    "/livez",
    "/readyz",
    "/healthz",
    "/livez/*",
    "/readyz/*",
    "/healthz/*",
)
PUBLIC_INFO_URLS = ("/livez", "/readyz", "/healthz", "/version", "/version/")
ISSUER_DISCOVERY_URLS = (
    "/.well-known/openid-configuration",
    "/.well-known/openid-configuration/",
    "/openid/v1/jwks",
    "/openid/v1/jwks/",
)


def node_rules() -> list[rbac_pb2.PolicyRule]:
    """NodeRules: what a kubelet may do at all (the Node authorizer and NodeRestriction narrow
    it to its own node, pods and what they reference)."""
    return [
        rule(("create",), (AUTHENTICATION,), ("tokenreviews",)),
        rule(("create",), (AUTHORIZATION,), ("subjectaccessreviews", "localsubjectaccessreviews")),
        rule(READ, ("",), ("services",)),
        rule(("create", "get", "list", "watch"), ("",), ("nodes",)),
        rule(("update", "patch"), ("",), ("nodes/status",)),
        rule(("update", "patch"), ("",), ("nodes",)),
        rule(("create", "update", "patch"), ("",), ("events",)),
        rule(READ, ("",), ("pods",)),
        rule(("create", "delete"), ("",), ("pods",)),
        rule(("update", "patch"), ("",), ("pods/status",)),
        rule(("create",), ("",), ("pods/eviction",)),
        rule(READ, ("",), ("secrets", "configmaps")),
        rule(("get",), ("",), ("persistentvolumeclaims", "persistentvolumes")),
        rule(("get",), ("",), ("endpoints",)),
        rule(("create", "get", "list", "watch"), (CERTIFICATES,), ("certificatesigningrequests",)),
        rule(("get", "create", "update", "patch", "delete"), (COORDINATION,), ("leases",)),
        rule(("get",), (STORAGE,), ("volumeattachments",)),
        rule(("create",), ("",), ("serviceaccounts/token",)),
        rule(("get", "update", "patch"), ("",), ("persistentvolumeclaims/status",)),
        rule(("get", "watch", "list"), (STORAGE,), ("csidrivers",)),
        rule(("get", "create", "update", "patch", "delete"), (STORAGE,), ("csinodes",)),
        rule(READ, ("node.k8s.io",), ("runtimeclasses",)),
    ]


def _kube_scheduler_rules() -> list[rbac_pb2.PolicyRule]:
    return [
        events_rule(),
        # Its leader election lease.
        rule(("create",), (COORDINATION,), ("leases",)),
        rule(("get", "update"), (COORDINATION,), ("leases",), names=("kube-scheduler",)),
        rule(READ, ("",), ("nodes",)),
        rule((*READ, "delete"), ("",), ("pods",)),
        rule(("create",), ("",), ("pods/binding", "bindings")),
        rule(("patch", "update"), ("",), ("pods/status",)),
        # What selects pods.
        rule(READ, ("",), ("services", "replicationcontrollers")),
        rule(READ, ("apps", "extensions"), ("replicasets",)),
        rule(READ, ("apps",), ("statefulsets",)),
        # What pods use or what applies to them.
        rule(READ, ("policy",), ("poddisruptionbudgets",)),
        rule(READ, ("",), ("persistentvolumeclaims", "persistentvolumes")),
        rule(("create",), (AUTHENTICATION,), ("tokenreviews",)),
        rule(("create",), (AUTHORIZATION,), ("subjectaccessreviews",)),
        rule(READ, (STORAGE,), ("csinodes",)),
        rule(READ, ("",), ("namespaces",)),
        rule(READ, (STORAGE,), ("csidrivers",)),
        rule(READ, (STORAGE,), ("csistoragecapacities",)),
    ]


def _kube_controller_manager_rules() -> list[rbac_pb2.PolicyRule]:
    """Enough to start the shared informers and to give each controller its own service
    account's credentials (--use-service-account-credentials)."""
    return [
        events_rule(),
        rule(("create",), (COORDINATION,), ("leases",)),
        rule(("get", "update"), (COORDINATION,), ("leases",), names=("kube-controller-manager",)),
        rule(("create",), ("",), ("secrets", "serviceaccounts")),
        rule(("delete",), ("",), ("secrets",)),
        rule(("get",), ("",), ("namespaces", "secrets", "serviceaccounts", "configmaps")),
        rule(("update",), ("",), ("secrets", "serviceaccounts")),
        rule(("create",), (AUTHENTICATION,), ("tokenreviews",)),
        rule(("create",), (AUTHORIZATION,), ("subjectaccessreviews",)),
        rule(("list", "watch"), ("*",), ("*",)),
        rule(("create",), ("",), ("serviceaccounts/token",)),
    ]


def _approver(signer: str) -> rbac_pb2.ClusterRole:
    name = f"system:certificates.k8s.io:{signer.removeprefix('kubernetes.io/')}-approver"
    return cluster_role(name, [rule(("approve",), (CERTIFICATES,), ("signers",), names=(signer,))])


def system_roles() -> list[rbac_pb2.ClusterRole]:
    return [*_access_roles(), *_component_roles()]


def _access_roles() -> list[rbac_pb2.ClusterRole]:
    """Discovery, basic users, nodes and delegated authentication."""
    return [
        cluster_role("system:discovery", [rule(("get",), urls=DISCOVERY_URLS)]),
        cluster_role("system:monitoring", [rule(("get",), urls=MONITORING_URLS)]),
        cluster_role(
            "system:basic-user",
            [
                rule(
                    ("create",),
                    (AUTHORIZATION,),
                    ("selfsubjectaccessreviews", "selfsubjectrulesreviews"),
                ),
                rule(("create",), (AUTHENTICATION,), ("selfsubjectreviews",)),
            ],
        ),
        cluster_role("system:public-info-viewer", [rule(("get",), urls=PUBLIC_INFO_URLS)]),
        cluster_role(
            "system:heapster",
            [
                rule(READ, ("",), ("events", "pods", "nodes", "namespaces")),
                rule(READ, ("extensions",), ("deployments",)),
            ],
        ),
        cluster_role(NODE_ROLE, node_rules()),
        cluster_role(
            "system:node-problem-detector",
            [
                rule(("get",), ("",), ("nodes",)),
                rule(("patch",), ("",), ("nodes/status",)),
                events_rule(),
            ],
        ),
        cluster_role(
            "system:node-bootstrapper",
            [
                rule(
                    ("create", "get", "list", "watch"),
                    (CERTIFICATES,),
                    ("certificatesigningrequests",),
                )
            ],
        ),
        cluster_role(
            "system:auth-delegator",
            [
                rule(("create",), (AUTHENTICATION,), ("tokenreviews",)),
                rule(("create",), (AUTHORIZATION,), ("subjectaccessreviews",)),
            ],
        ),
    ]


def _component_roles() -> list[rbac_pb2.ClusterRole]:
    """The components' and add-ons' roles, and the signers' approvers."""
    return [
        cluster_role("system:kube-aggregator", [rule(READ, ("",), ("services", "endpoints"))]),
        cluster_role("system:kube-controller-manager", _kube_controller_manager_rules()),
        cluster_role(
            "system:kube-dns", [rule(("list", "watch"), ("",), ("endpoints", "services"))]
        ),
        cluster_role(
            "system:persistent-volume-provisioner",
            [
                rule((*READ, "create", "delete"), ("",), ("persistentvolumes",)),
                # update: the lock annotations on claims.
                rule((*READ, "update"), ("",), ("persistentvolumeclaims",)),
                rule(READ, (STORAGE,), ("storageclasses",)),
                # Watching provisioning's success and failure events.
                rule(("watch",), ("",), ("events",)),
                events_rule(),
            ],
        ),
        cluster_role(
            NODE_CLIENT_ROLE,
            [rule(("create",), (CERTIFICATES,), ("certificatesigningrequests/nodeclient",))],
        ),
        cluster_role(
            SELF_NODE_CLIENT_ROLE,
            [rule(("create",), (CERTIFICATES,), ("certificatesigningrequests/selfnodeclient",))],
        ),
        cluster_role(
            "system:volume-scheduler",
            [
                rule(READ_UPDATE, ("",), ("persistentvolumes",)),
                rule(READ, (STORAGE,), ("storageclasses",)),
                rule(READ_UPDATE, ("",), ("persistentvolumeclaims",)),
            ],
        ),
        _approver(LEGACY_UNKNOWN),
        _approver(KUBELET_SERVING),
        _approver(KUBE_APISERVER_CLIENT),
        _approver(KUBE_APISERVER_CLIENT_KUBELET),
        cluster_role(ISSUER_DISCOVERY, [rule(("get",), urls=ISSUER_DISCOVERY_URLS)]),
        cluster_role(
            "system:kubelet-api-admin",
            [
                rule(READ, ("",), ("nodes",)),
                rule(("proxy",), ("",), ("nodes",)),
                rule(("*",), ("",), ("nodes/proxy", "nodes/metrics", "nodes/stats", "nodes/log")),
            ],
        ),
        cluster_role(
            "system:node-proxier",
            [
                rule(("list", "watch"), ("",), ("services", "endpoints")),
                rule(READ, ("",), ("nodes",)),
                events_rule(),
                rule(("list", "watch"), ("discovery.k8s.io",), ("endpointslices",)),
            ],
        ),
        cluster_role("system:kube-scheduler", _kube_scheduler_rules()),
    ]


def system_role_bindings() -> list[rbac_pb2.ClusterRoleBinding]:
    """ClusterRoleBindings(): system:node's binding is kept with no subjects (the Node
    authorizer decides for kubelets since 1.8)."""
    return [
        cluster_role_binding("cluster-admin", groups=(MASTERS_GROUP,)),
        cluster_role_binding("system:monitoring", groups=(MONITORING_GROUP,)),
        cluster_role_binding("system:discovery", groups=(AUTHENTICATED_GROUP,)),
        cluster_role_binding("system:basic-user", groups=(AUTHENTICATED_GROUP,)),
        cluster_role_binding(
            "system:public-info-viewer", groups=(AUTHENTICATED_GROUP, UNAUTHENTICATED_GROUP)
        ),
        cluster_role_binding("system:node-proxier", users=(KUBE_PROXY_USER,)),
        cluster_role_binding(
            "system:kube-controller-manager", users=(KUBE_CONTROLLER_MANAGER_USER,)
        ),
        cluster_role_binding("system:kube-dns", service_accounts=(("kube-system", "kube-dns"),)),
        cluster_role_binding("system:kube-scheduler", users=(KUBE_SCHEDULER_USER,)),
        cluster_role_binding("system:volume-scheduler", users=(KUBE_SCHEDULER_USER,)),
        cluster_role_binding(NODE_ROLE),
        cluster_role_binding(ISSUER_DISCOVERY, groups=(ALL_SERVICE_ACCOUNTS_GROUP,)),
    ]
