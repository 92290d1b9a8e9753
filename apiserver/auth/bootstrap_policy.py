"""The bootstrap policy as objects (plugin/pkg/auth/authorizer/rbac/bootstrappolicy): Kubernetes'
user-facing roles (cluster-admin, and admin, edit and view aggregated from the
system:aggregate-to-* roles), the system:* roles every identity needs (basic-user, discovery,
public-info-viewer, monitoring, service-account-issuer-discovery) and podplane's components'
roles of apiserver/auth/policy.py, with their ClusterRoleBindings. Every object is labelled
kubernetes.io/bootstrapping: rbac-defaults and annotated
rbac.authorization.kubernetes.io/autoupdate: "true". Besides them, the bindings `kubeadm init`
makes for nodes joining with a bootstrap token (kubeadm_cluster_role_bindings). The objects are
built by bootstrap_objects.py; the user-facing roles are bootstrap_aggregated_roles.py's."""

from __future__ import annotations

from collections.abc import Iterable

from apiserver.auth import policy
from apiserver.auth.bootstrap_aggregated_roles import AUTOSCALING, user_facing_roles
from apiserver.auth.bootstrap_objects import AUTOUPDATE as AUTOUPDATE
from apiserver.auth.bootstrap_objects import (
    GROUP,
    READ,
    cluster_role,
    cluster_role_binding,
    rule,
)
from apiserver.auth.rbac.cache import PolicyCache
from apiserver.auth.user import (
    AUTHENTICATED_GROUP,
    MASTERS_GROUP,
    NODES_GROUP,
    SERVICE_ACCOUNTS_GROUP,
    UNAUTHENTICATED_GROUP,
)
from podplane.api.meta.v1 import meta_pb2
from podplane.api.rbac.v1 import rbac_pb2
from podplane.apimachinery import resources
from podplane.bootstraptoken.api import KUBEADM_NODE_GROUP
from podplane.rbac.aggregation import aggregated_rules

# Who may read the service account issuer discovery documents: service accounts, by default.
ISSUER_DISCOVERY = "system:service-account-issuer-discovery"
# The role of the "viewers" group: today's read-everything-but-secrets (policy.py's view).
VIEWER_ROLE = "podplane:viewer"
_GROUPS = {r.plural: r.api_version.rpartition("/")[0] for r in resources.SERVED}


def from_static(rules: Iterable[policy.PolicyRule]) -> list[rbac_pb2.PolicyRule]:
    """policy.py's rules, which name resources without their group, as rbac/v1 rules: one rule
    per API group of the resources it names ("*": every group)."""
    out: list[rbac_pb2.PolicyRule] = []
    for r in rules:
        by_group: dict[str, list[str]] = {}
        for res in r.resources:
            group = "*" if res == "*" else _GROUPS.get(res.partition("/")[0], "")
            by_group.setdefault(group, []).append(res)
        for group, names in by_group.items():
            out.append(rule(r.verbs, (group,), names, names=r.resource_names))
    return out


def _system_roles() -> list[rbac_pb2.ClusterRole]:
    return [
        cluster_role(
            "system:basic-user",
            [
                rule(("create",), ("authentication.k8s.io",), ("selfsubjectreviews",)),
                rule(
                    ("create",),
                    ("authorization.k8s.io",),
                    ("selfsubjectaccessreviews", "selfsubjectrulesreviews"),
                ),
            ],
        ),
        cluster_role("system:discovery", [rule(("get",), urls=policy.DISCOVERY)]),
        cluster_role("system:public-info-viewer", [rule(("get",), urls=policy.PUBLIC_INFO)]),
        cluster_role("system:monitoring", [rule(("get",), urls=policy.MONITORING)]),
        cluster_role(ISSUER_DISCOVERY, [rule(("get",), urls=policy.ISSUER_DISCOVERY)]),
    ]


CERTIFICATES = "certificates.k8s.io"
KUBE_APISERVER_CLIENT = "kubernetes.io/kube-apiserver-client"
KUBE_APISERVER_CLIENT_KUBELET = "kubernetes.io/kube-apiserver-client-kubelet"
KUBELET_SERVING = "kubernetes.io/kubelet-serving"
LEGACY_UNKNOWN = "kubernetes.io/legacy-unknown"
NODE_CLIENT_ROLE = "system:certificates.k8s.io:certificatesigningrequests:nodeclient"
SELF_NODE_CLIENT_ROLE = "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"
# The controller-manager's certificate controllers' role (csrapproving, csrsigning, csrcleaner
# run as system:controller:certificate-controller in Kubernetes).
CERTIFICATE_CONTROLLER_ROLE = "system:controller:certificate-controller"


def _certificate_roles() -> list[rbac_pb2.ClusterRole]:
    """The certificates API's roles (bootstrappolicy's ClusterRoles and controller roles):
    TLS bootstrapping's (a bootstrapping node requests certificates; nodeclient and
    selfnodeclient are what the csrapproving controller asks a SubjectAccessReview about), the
    approvers' of each Kubernetes signer, and the certificate controller's."""
    approver = "system:certificates.k8s.io:{}-approver"
    return [
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
            NODE_CLIENT_ROLE,
            [rule(("create",), (CERTIFICATES,), ("certificatesigningrequests/nodeclient",))],
        ),
        cluster_role(
            SELF_NODE_CLIENT_ROLE,
            [rule(("create",), (CERTIFICATES,), ("certificatesigningrequests/selfnodeclient",))],
        ),
        *(
            cluster_role(
                approver.format(signer.removeprefix("kubernetes.io/")),
                [rule(("approve",), (CERTIFICATES,), ("signers",), names=(signer,))],
            )
            for signer in (
                KUBE_APISERVER_CLIENT,
                KUBE_APISERVER_CLIENT_KUBELET,
                KUBELET_SERVING,
                LEGACY_UNKNOWN,
            )
        ),
        cluster_role(
            CERTIFICATE_CONTROLLER_ROLE,
            [
                rule((*READ, "delete"), (CERTIFICATES,), ("certificatesigningrequests",)),
                rule(
                    ("update",),
                    (CERTIFICATES,),
                    ("certificatesigningrequests/status", "certificatesigningrequests/approval"),
                ),
                rule(
                    ("approve",),
                    (CERTIFICATES,),
                    ("signers",),
                    names=(KUBE_APISERVER_CLIENT_KUBELET,),
                ),
                rule(
                    ("sign",),
                    (CERTIFICATES,),
                    ("signers",),
                    names=(
                        LEGACY_UNKNOWN,
                        KUBE_APISERVER_CLIENT,
                        KUBE_APISERVER_CLIENT_KUBELET,
                        KUBELET_SERVING,
                    ),
                ),
                rule(("create",), ("authorization.k8s.io",), ("subjectaccessreviews",)),
                rule(("create", "patch", "update"), ("", "events.k8s.io"), ("events",)),
            ],
        ),
    ]


ADMISSION_REGISTRATION = "admissionregistration.k8s.io"
# The controller that type-checks ValidatingAdmissionPolicies and writes their status
# (bootstrappolicy's controller role; podplane does not run it yet, a user may).
VAP_STATUS_CONTROLLER = "validatingadmissionpolicy-status-controller"
VAP_STATUS_CONTROLLER_ROLE = f"system:controller:{VAP_STATUS_CONTROLLER}"


def _admission_roles() -> list[rbac_pb2.ClusterRole]:
    """admissionregistration.k8s.io's: only cluster-admin writes its kinds (Kubernetes' view,
    edit and admin do not name them); the policy status controller reads policies and writes
    their status."""
    return [
        cluster_role(
            VAP_STATUS_CONTROLLER_ROLE,
            [
                rule(READ, (ADMISSION_REGISTRATION,), ("validatingadmissionpolicies",)),
                rule(
                    ("get", "patch", "update"),
                    (ADMISSION_REGISTRATION,),
                    ("validatingadmissionpolicies/status",),
                ),
                rule(("create", "update", "patch"), ("", "events.k8s.io"), ("events",)),
            ],
        )
    ]


HPA_CONTROLLER_ROLE = "system:controller:horizontal-pod-autoscaler"


def _autoscaling_roles() -> list[rbac_pb2.ClusterRole]:
    """The horizontal pod autoscaler controller's (controller_policy.go): it reads autoscalers
    and writes their status, reads and writes its targets' scale, lists pods, reads the
    resource, custom and external metrics APIs, and writes events."""
    return [
        cluster_role(
            HPA_CONTROLLER_ROLE,
            [
                rule(READ, (AUTOSCALING,), ("horizontalpodautoscalers",)),
                rule(("update",), (AUTOSCALING,), ("horizontalpodautoscalers/status",)),
                rule(("get", "update"), ("*",), ("*/scale",)),
                rule(("list",), ("",), ("pods",)),
                rule(("list",), ("metrics.k8s.io",), ("pods",)),
                rule(("get", "list"), ("custom.metrics.k8s.io",), ("*",)),
                rule(("get", "list"), ("external.metrics.k8s.io",), ("*",)),
                rule(("create", "patch", "update"), ("", "events.k8s.io"), ("events",)),
            ],
        )
    ]


def _controller_service_account_binding(role: str, account: str) -> rbac_pb2.ClusterRoleBinding:
    """addControllerRole's binding: the role to the controller's service account."""
    binding = cluster_role_binding(role)
    binding.subjects.append(
        rbac_pb2.Subject(kind="ServiceAccount", name=account, namespace="kube-system")
    )
    return binding


def _component_roles() -> list[rbac_pb2.ClusterRole]:
    return [
        cluster_role(VIEWER_ROLE if name == "view" else name, from_static(rules))
        for name, rules in policy.CLUSTER_ROLES.items()
        if name != "cluster-admin"  # Kubernetes' own, above
    ]


def cluster_roles() -> list[rbac_pb2.ClusterRole]:
    return (
        user_facing_roles()
        + _system_roles()
        + _component_roles()
        + _certificate_roles()
        + _admission_roles()
        + _autoscaling_roles()
    )


def cluster_role_bindings() -> list[rbac_pb2.ClusterRoleBinding]:
    bindings = [
        cluster_role_binding("cluster-admin", groups=(MASTERS_GROUP,)),
        cluster_role_binding("system:basic-user", groups=(AUTHENTICATED_GROUP,)),
        cluster_role_binding("system:discovery", groups=(AUTHENTICATED_GROUP,)),
        cluster_role_binding(
            "system:public-info-viewer", groups=(AUTHENTICATED_GROUP, UNAUTHENTICATED_GROUP)
        ),
        cluster_role_binding("system:monitoring", groups=(policy.MONITORING_GROUP,)),
        cluster_role_binding(ISSUER_DISCOVERY, groups=(SERVICE_ACCOUNTS_GROUP,)),
    ]
    # podplane's controller-manager runs its controllers as one identity.
    for role in (CERTIFICATE_CONTROLLER_ROLE, HPA_CONTROLLER_ROLE):
        bindings.append(cluster_role_binding(role, users=("system:kube-controller-manager",)))
    bindings.append(
        _controller_service_account_binding(VAP_STATUS_CONTROLLER_ROLE, VAP_STATUS_CONTROLLER)
    )
    for user, role in policy.USER_BINDINGS.items():
        bindings.append(cluster_role_binding(role, users=(user,)))
    for group, role in policy.GROUP_BINDINGS.items():
        if group == MASTERS_GROUP:
            continue  # cluster-admin, above
        if role == "view":
            bindings.append(
                cluster_role_binding(VIEWER_ROLE, groups=(group,), name="podplane:viewers")
            )
        else:
            bindings.append(cluster_role_binding(role, groups=(group,)))
    return bindings


# kubeadm init's bindings for joining nodes (cmd/kubeadm/app/phases/bootstraptoken/node/
# tlsbootstrap.go): a bootstrap token of kubeadm's group may post a node's certificate signing
# request and have it approved, a node may have its own renewal approved. The ClusterRoles they
# name are the certificates API's (system:node-bootstrapper and the two certificatesigningrequests
# roles); kubeadm makes these objects through the API, without the rbac-defaults label. Each is
# stored once the role it names exists, so that it never points at nothing: RBAC would add "role
# not found" to every refusal of its subjects (every node's, for system:nodes).
_KUBEADM_BINDINGS = (
    ("kubeadm:kubelet-bootstrap", "system:node-bootstrapper", KUBEADM_NODE_GROUP),
    (
        "kubeadm:node-autoapprove-bootstrap",
        "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
        KUBEADM_NODE_GROUP,
    ),
    (
        "kubeadm:node-autoapprove-certificate-rotation",
        "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
        NODES_GROUP,
    ),
)


def kubeadm_cluster_role_bindings() -> list[rbac_pb2.ClusterRoleBinding]:
    return [
        rbac_pb2.ClusterRoleBinding(
            api_version=f"{GROUP}/v1",
            kind="ClusterRoleBinding",
            metadata=meta_pb2.ObjectMeta(name=name),
            subjects=[rbac_pb2.Subject(kind="Group", api_group=GROUP, name=group)],
            role_ref=rbac_pb2.RoleRef(api_group=GROUP, kind="ClusterRole", name=role),
        )
        for name, role, group in _KUBEADM_BINDINGS
    ]


def static_policy() -> PolicyCache:
    """The bootstrap policy in memory, aggregated as the controller-manager would aggregate it:
    what an apiserver without a watch cache (an in-process test's) decides from."""
    cache = PolicyCache()
    roles = {r.metadata.name: r for r in cluster_roles()}
    # Aggregated roles select others' rules, which may be aggregated themselves (view within
    # edit within admin): resolve until nothing changes.
    for _ in range(len(roles)):
        changed = False
        for role in roles.values():
            if role.HasField("aggregation_rule"):
                rules = aggregated_rules(role, roles)
                if list(role.rules) != rules:
                    del role.rules[:]
                    role.rules.extend(rules)
                    changed = True
        if not changed:
            break
    for role in roles.values():
        cache.put(role)
    for binding in cluster_role_bindings():
        cache.put(binding)
    for binding in kubeadm_cluster_role_bindings():
        if binding.role_ref.name in roles:
            cache.put(binding)
    return cache
