"""podplane's own roles beside Kubernetes' bootstrap policy (what its scheduler and
controller-manager do beyond Kubernetes' roles for them, and the "viewers" group's), which
apiserver/auth/bootstrap_policy.py stores as podplane:* ClusterRoles at start, and the rules the
node authorizer decides kubelets' requests from.

A rule names verbs and resources; a resource is "pods" or, for a subresource, "pods/status", and
"*" matches every one (rbac.ResourceMatches)."""

from __future__ import annotations

from dataclasses import dataclass

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


# podplane's own ClusterRoles, beside Kubernetes' bootstrap policy (bootstrap_policy.py stores
# them as podplane:* ClusterRoles): what its components do beyond Kubernetes' roles of the same
# component, and the "viewers" group's read-everything-but-secrets.
PODPLANE_ROLES: dict[str, tuple[PolicyRule, ...]] = {
    # podplane:viewer: read everything but secrets (no pods/exec, pods/attach).
    "podplane:viewer": (rule(READ, *_NON_SECRET),),
    # podplane:kube-scheduler, beside Kubernetes' system:kube-scheduler and
    # system:volume-scheduler: what podplane's scheduler reads besides.
    "podplane:kube-scheduler": (
        # A standby scheduler follows the lease through a watch of it
        # (podplane/client/leaderelection.py).
        rule(("get", "update", "watch"), "leases", names=("kube-scheduler",)),
        # PodTopologySpread's default constraints select what a pod's workloads select.
        rule(READ, *_WORKLOADS, "services", "namespaces", "configmaps"),
        # The Priority admission plugin is the apiserver's, but the scheduler reads the classes
        # for its queue's order.
        rule(READ, "poddisruptionbudgets", "priorityclasses"),
        rule(READ, "storageclasses"),
    ),
    # podplane:kube-controller-manager, beside Kubernetes' system:kube-controller-manager:
    # podplane's controller-manager runs every controller as itself (Kubernetes' without
    # --use-service-account-credentials), so it holds what its controllers' roles hold.
    "podplane:kube-controller-manager": (
        rule(("create", "patch", "update"), "events"),
        rule("create", "leases"),
        rule(("get", "update", "watch"), "leases", names=("kube-controller-manager",)),
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
        rule("update", "resourcequotas/status"),
        rule("update", "horizontalpodautoscalers/status"),
    ),
}

# What podplane's controllers do beyond their Kubernetes roles, by the service account each runs
# as with the controller-manager's --use-service-account-credentials (controller/controllers.py's
# SERVICE_ACCOUNTS): stored as podplane:controller:<name> ClusterRoles bound to
# kube-system/<name>, beside Kubernetes' system:controller:<name>. Mostly an update where
# Kubernetes' controller sends a patch; the local-path provisioner, which Kubernetes lacks,
# holds its whole role here.
PODPLANE_CONTROLLER_ROLES: dict[str, tuple[PolicyRule, ...]] = {
    # Adopting and releasing pods (controller/framework/controller_ref.py): a read of the
    # live pod, then an update with the owner reference added or removed.
    "replicaset-controller": (rule(("get", "update"), "pods"),),
    "replication-controller": (rule(("get", "update"), "pods"),),
    # The same, and the job-tracking finalizer removed from finished pods.
    "job-controller": (rule(("get", "update"), "pods"),),
    # The same, and old pods relabelled with their current revision's hash.
    "daemon-set-controller": (rule(("get", "update"), "pods"),),
    # An orphaned or unreachable pod's DisruptionTarget condition, before its deletion.
    "pod-garbage-collector": (rule("update", "pods/status"),),
    # A namespace's kubernetes finalizer removed with an update of the namespace (Kubernetes
    # writes namespaces/finalize).
    "namespace-controller": (rule("update", "namespaces"),),
    # The service load balancer controller's finalizer on a Service it gave an address.
    "service-controller": (rule("update", "services"),),
    # The local-path provisioner: a volume (and a directory on the node) for each claim of its
    # class, the default class, a helper pod that removes a released volume's directory.
    "local-path-provisioner": (
        rule(("create", "delete"), "persistentvolumes"),
        rule("create", "storageclasses"),
        rule("get", "nodes"),
        rule(("get", "create", "delete"), "pods"),
        rule(("create", "update", "patch"), "events"),
    ),
}

# What a kubelet may do at all, as podplane's node authorizer decides it (Kubernetes' NodeRules
# cut to what podplane's kubelet does); the node authorizer and NodeRestriction narrow it to its
# own node, pods and the objects they reference. The stored ClusterRole system:node is
# Kubernetes' own (bootstrap_system_roles.py), bound to nobody, as on Kubernetes.
NODE_RULES: tuple[PolicyRule, ...] = (
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
)

# podplane's ClusterRoleBindings of its own roles.
GROUP_BINDINGS: dict[str, str] = {"viewers": "podplane:viewer"}
USER_BINDINGS: dict[str, str] = {
    "system:kube-scheduler": "podplane:kube-scheduler",
    "system:kube-controller-manager": "podplane:kube-controller-manager",
}


def rules_allow(
    rules: tuple[PolicyRule, ...], verb: str, resource: str, subresource: str, name: str
) -> bool:
    return any(r.allows(verb, resource, subresource, name) for r in rules)
