"""podplane's components' roles and bindings (plugin/pkg/auth/authorizer/rbac/bootstrappolicy's
system:* roles, cut to the resources podplane serves), which apiserver/auth/rbac/bootstrap.py
stores as ClusterRoles and ClusterRoleBindings at start; the node authorizer reads the
system:node role's rules here.

A rule names verbs and resources; a resource is "pods" or, for a subresource, "pods/status", and
"*" matches every one (rbac.ResourceMatches)."""

from __future__ import annotations

from dataclasses import dataclass

from apiserver.auth.user import MASTERS_GROUP

READ = ("get", "list", "watch")
# Every resource except secrets (the view role's "read-only, no secrets" promise).
_NON_SECRET = (
    "pods",
    "pods/log",
    "pods/status",
    "nodes",
    "nodes/status",
    "namespaces",
    "events",
    "leases",
    "replicationcontrollers",
    "replicationcontrollers/status",
    "replicasets",
    "replicasets/status",
    "deployments",
    "deployments/status",
    "jobs",
    "jobs/status",
    "configmaps",
    "serviceaccounts",
    "podtemplates",
    "limitranges",
    "resourcequotas",
    "resourcequotas/status",
    "persistentvolumes",
    "persistentvolumes/status",
    "persistentvolumeclaims",
    "persistentvolumeclaims/status",
    "storageclasses",
    "services",
    "services/status",
    "endpoints",
    "endpointslices",
    "daemonsets",
    "daemonsets/status",
    "statefulsets",
    "statefulsets/status",
    "controllerrevisions",
    "cronjobs",
    "cronjobs/status",
    "poddisruptionbudgets",
    "poddisruptionbudgets/status",
    "priorityclasses",
    "runtimeclasses",
    "horizontalpodautoscalers",
    "horizontalpodautoscalers/status",
    "ingresses",
    "ingresses/status",
    "ingressclasses",
    "networkpolicies",
)
_WORKLOADS = (
    "replicationcontrollers",
    "replicasets",
    "deployments",
    "jobs",
    "daemonsets",
    "statefulsets",
    "cronjobs",
)


@dataclass(frozen=True)
class PolicyRule:
    verbs: tuple[str, ...]
    resources: tuple[str, ...]
    resource_names: tuple[str, ...] = ()

    def allows(self, verb: str, resource: str, subresource: str, name: str) -> bool:
        """rbac.RuleAllows: verb, resource (with its subresource) and, when the rule names
        objects, the name all match."""
        wanted = f"{resource}/{subresource}" if subresource else resource
        return (
            (verb in self.verbs or "*" in self.verbs)
            and (wanted in self.resources or "*" in self.resources)
            and (not self.resource_names or name in self.resource_names)
        )


def rule(verbs: str | tuple[str, ...], *resources: str, names: tuple[str, ...] = ()) -> PolicyRule:
    return PolicyRule((verbs,) if isinstance(verbs, str) else verbs, resources, names)


CLUSTER_ROLES: dict[str, tuple[PolicyRule, ...]] = {
    "cluster-admin": (rule("*", "*"),),
    # view: read everything but secrets (Kubernetes' view role; no pods/exec, pods/attach).
    "view": (rule(READ, *_NON_SECRET),),
    # system:kube-scheduler: reads what it schedules against, binds pods, writes events and its
    # own leader lease.
    "system:kube-scheduler": (
        rule(("create", "patch", "update"), "events"),
        rule("create", "leases"),
        # Kubernetes' role has get and update; watch too here, as a standby scheduler follows
        # the lease through a watch of it (podplane/client/leaderelection.py).
        rule(("get", "update", "watch"), "leases", names=("kube-scheduler",)),
        rule(READ, "nodes"),
        rule(("get", "list", "watch", "delete"), "pods"),  # delete: preemption
        rule("create", "pods/binding"),
        rule(("patch", "update"), "pods/status"),
        # services: PodTopologySpread's default constraints select what a pod's Services select.
        rule(READ, *_WORKLOADS, "services", "namespaces", "configmaps"),
        # DefaultPreemption respects disruption budgets; the Priority admission plugin is the
        # apiserver's, but the scheduler reads the classes for its queue's order.
        rule(READ, "poddisruptionbudgets", "priorityclasses"),
        # system:volume-scheduler: VolumeBinding reads the storage objects, prebinds volumes to
        # claims and marks claims with the node chosen for their provisioning.
        rule(("get", "list", "watch", "update", "patch"), "persistentvolumes"),
        rule(("get", "list", "watch", "update", "patch"), "persistentvolumeclaims"),
        rule(READ, "storageclasses"),
    ),
    # system:kube-controller-manager with its controllers' roles (Kubernetes runs each controller
    # under its own service account; podplane's controller-manager is one identity).
    "system:kube-controller-manager": (
        rule(("create", "patch", "update"), "events"),
        rule("create", "leases"),
        # The garbage collector's and the namespace controller's reach: every kind, read,
        # updated (owner references, finalizers, node lifecycle's taints and pod conditions)
        # and deleted; they create nothing but pods, workloads, (the local-path provisioner, and
        # the default class it serves) volumes and storage classes, the endpoint slice and
        # endpoints controllers' objects, and each namespace's default service account and
        # kube-root-ca.crt config map.
        rule(("get", "list", "watch", "update", "patch", "delete"), "*"),
        # The cluster role aggregation controller writes aggregated roles' rules, which it does
        # not hold itself (system:controller:clusterrole-aggregation-controller's escalate).
        rule("escalate", "clusterroles"),
        rule(
            "create",
            "pods",
            *_WORKLOADS,
            "persistentvolumes",
            "storageclasses",
            "endpoints",
            "endpointslices",
            "serviceaccounts",
            "configmaps",
            # The DaemonSet and StatefulSet controllers' histories, StatefulSets' claims.
            "controllerrevisions",
            "persistentvolumeclaims",
        ),
        # The disruption controller keeps budgets' status; eviction is the API's way to delete
        # a pod within them (the node lifecycle controller's and drain's).
        rule("create", "pods/eviction"),
        # The resource quota controller keeps each quota's hard and used
        # (system:controller:resourcequota-controller).
        rule("update", "resourcequotas/status"),
        # The horizontal pod autoscaler controller writes autoscalers' status
        # (system:controller:horizontal-pod-autoscaler).
        rule("update", "horizontalpodautoscalers/status"),
    ),
    # system:node: what a kubelet may do at all; the node authorizer and NodeRestriction narrow it
    # to its own node, pods and the objects they reference.
    "system:node": (
        rule(("create", "get", "list", "watch", "update", "patch", "delete"), "nodes"),
        rule(("update", "patch"), "nodes/status"),
        rule(("create", "update", "patch"), "events"),
        rule(READ, "pods"),
        rule(("create", "delete"), "pods"),  # mirror pods; deleting its own pods
        rule(("update", "patch"), "pods/status"),
        rule(("get", "create", "update", "patch", "delete"), "leases"),
        rule("get", "secrets", "configmaps", "persistentvolumeclaims", "persistentvolumes"),
        # The Services of every namespace: their environment variables in containers.
        rule(READ, "services"),
        # The handlers of the pods' RuntimeClasses.
        rule(READ, "runtimeclasses"),
        # Its CSINode (the CSI drivers registered on it) and the drivers' CSIDrivers.
        rule(READ, "csidrivers"),
        rule(("get", "create", "update", "patch", "delete"), "csinodes"),
        # Its client and serving certificates' requests (the kubelet's certificate rotation).
        rule(("create", "get", "list", "watch"), "certificatesigningrequests"),
        # Its HTTPS API's callers checked (webhook authentication and authorization); these
        # creates write nothing.
        rule("create", "tokenreviews"),
        rule("create", "subjectaccessreviews", "localsubjectaccessreviews"),
    ),
    # system:kubelet-api-admin: every call of the kubelets' API (Kubernetes' role, bound to
    # nobody by default; the apiserver's kubelet client and cluster admins are system:masters).
    "system:kubelet-api-admin": (
        rule(READ, "nodes"),
        rule("proxy", "nodes"),
        rule("*", "nodes/proxy", "nodes/metrics", "nodes/spec", "nodes/stats", "nodes/log"),
    ),
    # system:auth-delegator: delegated authentication and authorization, what an aggregated API
    # server's service account is bound to (metrics-server's, the sample-apiserver's).
    "system:auth-delegator": (
        rule("create", "tokenreviews"),
        rule("create", "subjectaccessreviews"),
    ),
    # system:node-proxier: what kube-proxy reads to program a node's service rules (its
    # informers of services and endpoint slices, its node), and its events.
    "system:node-proxier": (
        rule(("list", "watch"), "services", "endpoints"),
        rule(READ, "nodes"),
        rule(("create", "patch", "update"), "events"),
        rule(("list", "watch"), "endpointslices"),
    ),
}

# ClusterRoleBindings: subject -> role. The kubelets' own rights come from the node authorizer
# alone, with the system:node role's rules (as Kubernetes does since 1.8). system:node-proxier is
# bound to the user system:kube-proxy, as in Kubernetes; the cluster's kube-proxy is the
# DaemonSet kube-system/kube-proxy, whose service account the kube-proxy add-on binds to the role
# (docker/addons/kube-proxy.yaml: kubeadm's kubeadm:node-proxier).
GROUP_BINDINGS: dict[str, str] = {
    MASTERS_GROUP: "cluster-admin",
    "viewers": "view",
}
USER_BINDINGS: dict[str, str] = {
    "system:kube-scheduler": "system:kube-scheduler",
    "system:kube-controller-manager": "system:kube-controller-manager",
    "system:kube-proxy": "system:node-proxier",
}


def rules_allow(
    rules: tuple[PolicyRule, ...], verb: str, resource: str, subresource: str, name: str
) -> bool:
    return any(r.allows(verb, resource, subresource, name) for r in rules)


# Non-resource URLs (a rule's nonResourceURLs; "/x/*" matches below /x) of
# system:public-info-viewer (everyone, signed in or not), system:discovery (the signed in) and
# system:monitoring.
PUBLIC_INFO = ("/livez", "/readyz", "/healthz", "/version", "/version/")
DISCOVERY = (
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
    "/openapi",
    "/openapi/*",
    "/version",
    "/version/",
)
MONITORING = (
    "/metrics",
    "/metrics/slis",
    "/healthz",
    "/healthz/*",
    "/livez",
    "/livez/*",
    "/readyz",
    "/readyz/*",
)
MONITORING_GROUP = "system:monitoring"
# The service account issuer discovery documents (apiserver/auth/serviceaccount/openid.py).
ISSUER_DISCOVERY = ("/.well-known/openid-configuration", "/openid/v1/jwks")
