"""The controllers' roles (bootstrappolicy's controller_policy.go, as of 1.31 with its default
feature gates): one ClusterRole system:controller:<name> per controller, bound to the service
account kube-system/<name> that kube-controller-manager runs it as with
--use-service-account-credentials."""

from __future__ import annotations

from apiserver.auth.bootstrap_objects import (
    READ,
    cluster_role,
    cluster_role_binding,
    events_rule,
    rule,
)
from podplane.api.rbac.v1 import rbac_pb2

PREFIX = "system:controller:"
NAMESPACE = "kube-system"

APPS_EXTENSIONS = ("apps", "extensions")
AUTOSCALING = "autoscaling"
BATCH = "batch"
CERTIFICATES = "certificates.k8s.io"
DISCOVERY = "discovery.k8s.io"
POLICY = "policy"
STORAGE = "storage.k8s.io"
ADMISSION_REGISTRATION = "admissionregistration.k8s.io"
LEGACY_TOKEN_TRACKING = "kube-apiserver-legacy-service-account-token-tracking"

Rules = list[rbac_pb2.PolicyRule]


def _workload_controllers() -> dict[str, Rules]:
    return {
        "cronjob-controller": [
            rule((*READ, "update"), (BATCH,), ("cronjobs",)),
            rule((*READ, "create", "update", "delete", "patch"), (BATCH,), ("jobs",)),
            rule(("update",), (BATCH,), ("cronjobs/status",)),
            rule(("update",), (BATCH,), ("cronjobs/finalizers",)),
            rule(("list", "watch", "delete"), ("",), ("pods",)),
            events_rule(),
        ],
        "daemon-set-controller": [
            rule(READ, APPS_EXTENSIONS, ("daemonsets",)),
            rule(("update",), APPS_EXTENSIONS, ("daemonsets/status",)),
            rule(("update",), APPS_EXTENSIONS, ("daemonsets/finalizers",)),
            rule(("list", "watch"), ("",), ("nodes",)),
            rule(("list", "watch", "create", "delete", "patch"), ("",), ("pods",)),
            rule(("create",), ("",), ("pods/binding",)),
            rule(
                (*READ, "create", "delete", "update", "patch"), ("apps",), ("controllerrevisions",)
            ),
            events_rule(),
        ],
        "deployment-controller": [
            rule((*READ, "update"), APPS_EXTENSIONS, ("deployments",)),
            rule(("update",), APPS_EXTENSIONS, ("deployments/status",)),
            rule(("update",), APPS_EXTENSIONS, ("deployments/finalizers",)),
            rule((*READ, "create", "update", "patch", "delete"), APPS_EXTENSIONS, ("replicasets",)),
            rule((*READ, "update"), ("",), ("pods",)),
            events_rule(),
        ],
        "disruption-controller": [
            rule(READ, APPS_EXTENSIONS, ("deployments",)),
            rule(READ, APPS_EXTENSIONS, ("replicasets",)),
            rule(READ, ("",), ("replicationcontrollers",)),
            rule(READ, (POLICY,), ("poddisruptionbudgets",)),
            rule(READ, ("apps",), ("statefulsets",)),
            rule(("update",), (POLICY,), ("poddisruptionbudgets/status",)),
            rule(("patch", "update"), ("",), ("pods/status",)),
            rule(("get",), ("*",), ("*/scale",)),
            events_rule(),
        ],
        "job-controller": [
            rule((*READ, "update", "patch"), (BATCH,), ("jobs",)),
            rule(("update",), (BATCH,), ("jobs/status",)),
            rule(("update",), (BATCH,), ("jobs/finalizers",)),
            rule(("list", "watch", "create", "delete", "patch"), ("",), ("pods",)),
            events_rule(),
        ],
        "replicaset-controller": [
            rule((*READ, "update"), APPS_EXTENSIONS, ("replicasets",)),
            rule(("update",), APPS_EXTENSIONS, ("replicasets/status",)),
            rule(("update",), APPS_EXTENSIONS, ("replicasets/finalizers",)),
            rule(("list", "watch", "patch", "create", "delete"), ("",), ("pods",)),
            events_rule(),
        ],
        "replication-controller": [
            rule((*READ, "update"), ("",), ("replicationcontrollers",)),
            rule(("update",), ("",), ("replicationcontrollers/status",)),
            rule(("update",), ("",), ("replicationcontrollers/finalizers",)),
            rule(("list", "watch", "patch", "create", "delete"), ("",), ("pods",)),
            events_rule(),
        ],
        "statefulset-controller": [
            rule(("list", "watch"), ("",), ("pods",)),
            rule(READ, ("apps",), ("statefulsets",)),
            rule(("update",), ("apps",), ("statefulsets/status",)),
            rule(("update",), ("apps",), ("statefulsets/finalizers",)),
            rule(("get", "create", "delete", "update", "patch"), ("",), ("pods",)),
            rule(
                ("get", "create", "delete", "update", "patch", "list", "watch"),
                ("apps",),
                ("controllerrevisions",),
            ),
            rule(("get", "create", "list", "watch"), ("",), ("persistentvolumeclaims",)),
            rule(("update", "delete"), ("",), ("persistentvolumeclaims",)),
            rule(("update",), ("",), ("pods/finalizers",)),
            events_rule(),
        ],
        "ttl-after-finished-controller": [
            rule((*READ, "delete"), (BATCH,), ("jobs",)),
            events_rule(),
        ],
    }


def _network_controllers() -> dict[str, Rules]:
    return {
        "endpoint-controller": [
            rule(READ, ("",), ("services", "pods")),
            rule((*READ, "create", "update", "delete"), ("",), ("endpoints",)),
            rule(("create",), ("",), ("endpoints/restricted",)),
            events_rule(),
        ],
        "endpointslice-controller": [
            rule(READ, ("",), ("services", "pods", "nodes")),
            # Owning a slice with blockOwnerDeletion takes updating the Service's finalizers.
            rule(("update",), ("",), ("services/finalizers",)),
            rule((*READ, "create", "update", "delete"), (DISCOVERY,), ("endpointslices",)),
            events_rule(),
        ],
        "endpointslicemirroring-controller": [
            rule(READ, ("",), ("services", "endpoints")),
            rule(("update",), ("",), ("services/finalizers",)),
            rule(("update",), ("",), ("endpoints/finalizers",)),
            rule((*READ, "create", "update", "delete"), (DISCOVERY,), ("endpointslices",)),
            events_rule(),
        ],
        "route-controller": [
            rule(("list", "watch"), ("",), ("nodes",)),
            rule(("patch",), ("",), ("nodes/status",)),
            events_rule(),
        ],
        "service-controller": [
            rule(READ, ("",), ("services",)),
            rule(("patch", "update"), ("",), ("services/status",)),
            rule(("list", "watch"), ("",), ("nodes",)),
            events_rule(),
        ],
    }


def _storage_controllers() -> dict[str, Rules]:
    return {
        "attachdetach-controller": [
            rule(("list", "watch"), ("",), ("persistentvolumes", "persistentvolumeclaims")),
            rule(READ, ("",), ("nodes",)),
            rule(("patch", "update"), ("",), ("nodes/status",)),
            rule(("list", "watch"), ("",), ("pods",)),
            events_rule(),
            rule(("get", "create", "delete", "list", "watch"), (STORAGE,), ("volumeattachments",)),
            rule(READ, (STORAGE,), ("csidrivers",)),
            rule(READ, (STORAGE,), ("csinodes",)),
        ],
        "expand-controller": [
            rule((*READ, "update", "patch"), ("",), ("persistentvolumes",)),
            rule(("update", "patch"), ("",), ("persistentvolumeclaims/status",)),
            rule(READ, ("",), ("persistentvolumeclaims",)),
            events_rule(),
            # The portworx volume plugin.
            rule(("get",), ("",), ("services",)),
        ],
        "ephemeral-volume-controller": [
            rule(READ, ("",), ("pods",)),
            rule(("update",), ("",), ("pods/finalizers",)),
            rule((*READ, "create"), ("",), ("persistentvolumeclaims",)),
            events_rule(),
        ],
        "persistent-volume-binder": [
            rule((*READ, "update", "create", "delete"), ("",), ("persistentvolumes",)),
            rule(("update",), ("",), ("persistentvolumes/status",)),
            rule((*READ, "update"), ("",), ("persistentvolumeclaims",)),
            rule(("update",), ("",), ("persistentvolumeclaims/status",)),
            rule(("list", "watch", "get", "create", "delete"), ("",), ("pods",)),
            rule(READ, (STORAGE,), ("storageclasses",)),
            rule(("list", "watch"), ("",), ("nodes",)),
            events_rule(),
            # The recycler watches its pod's events.
            rule(("watch",), ("",), ("events",)),
            # The portworx volume plugin.
            rule(("get",), ("",), ("services",)),
        ],
        "pvc-protection-controller": [
            rule((*READ, "update"), ("",), ("persistentvolumeclaims",)),
            rule(READ, ("",), ("pods",)),
            events_rule(),
        ],
        "pv-protection-controller": [
            rule((*READ, "update"), ("",), ("persistentvolumes",)),
            events_rule(),
        ],
    }


def _cluster_controllers() -> dict[str, Rules]:
    return {
        "clusterrole-aggregation-controller": [
            # It writes aggregated roles' rules, which it need not hold itself.
            rule(
                ("escalate", "get", "list", "watch", "update", "patch"),
                ("rbac.authorization.k8s.io",),
                ("clusterroles",),
            ),
        ],
        "generic-garbage-collector": [
            rule((*READ, "patch", "update", "delete"), ("*",), ("*",)),
            events_rule(),
        ],
        "horizontal-pod-autoscaler": [
            rule(READ, (AUTOSCALING,), ("horizontalpodautoscalers",)),
            rule(("update",), (AUTOSCALING,), ("horizontalpodautoscalers/status",)),
            rule(("get", "update"), ("*",), ("*/scale",)),
            rule(("list",), ("",), ("pods",)),
            # The resource, custom and external metrics APIs.
            rule(("list",), ("metrics.k8s.io",), ("pods",)),
            rule(("get", "list"), ("custom.metrics.k8s.io",), ("*",)),
            rule(("get", "list"), ("external.metrics.k8s.io",), ("*",)),
            events_rule(),
        ],
        "namespace-controller": [
            rule((*READ, "delete"), ("",), ("namespaces",)),
            rule(("update",), ("",), ("namespaces/finalize", "namespaces/status")),
            rule((*READ, "delete", "deletecollection"), ("*",), ("*",)),
        ],
        "node-controller": [
            rule((*READ, "update", "delete", "patch"), ("",), ("nodes",)),
            rule(("patch", "update"), ("",), ("nodes/status",)),
            # Deleting pods.
            rule(("patch", "update"), ("",), ("pods/status",)),
            rule(("list", "watch", "get", "delete"), ("",), ("pods",)),
            events_rule(),
        ],
        "pod-garbage-collector": [
            rule(("list", "watch", "delete"), ("",), ("pods",)),
            rule(READ, ("",), ("nodes",)),
            rule(("patch",), ("",), ("pods/status",)),
        ],
        "resourcequota-controller": [
            # Quota counts anything, so it lists everything.
            rule(("list", "watch"), ("*",), ("*",)),
            rule(("update",), ("",), ("resourcequotas/status",)),
            events_rule(),
        ],
        "service-account-controller": [
            rule(("create",), ("",), ("serviceaccounts",)),
            events_rule(),
        ],
        "ttl-controller": [
            rule(("update", "patch", "list", "watch"), ("",), ("nodes",)),
            events_rule(),
        ],
    }


def _credential_controllers() -> dict[str, Rules]:
    """The controllers of certificates, CA bundles, admission policies' status and tokens."""
    return {
        "certificate-controller": [
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
                names=("kubernetes.io/kube-apiserver-client-kubelet",),
            ),
            rule(
                ("sign",),
                (CERTIFICATES,),
                ("signers",),
                names=(
                    "kubernetes.io/legacy-unknown",
                    "kubernetes.io/kube-apiserver-client",
                    "kubernetes.io/kube-apiserver-client-kubelet",
                    "kubernetes.io/kubelet-serving",
                ),
            ),
            rule(("create",), ("authorization.k8s.io",), ("subjectaccessreviews",)),
            events_rule(),
        ],
        "root-ca-cert-publisher": [
            rule(("create", "update"), ("",), ("configmaps",)),
            events_rule(),
        ],
        "validatingadmissionpolicy-status-controller": [
            rule(READ, (ADMISSION_REGISTRATION,), ("validatingadmissionpolicies",)),
            rule(
                ("get", "patch", "update"),
                (ADMISSION_REGISTRATION,),
                ("validatingadmissionpolicies/status",),
            ),
            events_rule(),
        ],
        "legacy-service-account-token-cleaner": [
            rule(("get",), ("",), ("configmaps",), names=(LEGACY_TOKEN_TRACKING,)),
            rule(("patch", "delete"), ("",), ("secrets",)),
        ],
    }


def controller_rules() -> dict[str, Rules]:
    """Each controller's rules by its service account's name."""
    return {
        **_workload_controllers(),
        **_network_controllers(),
        **_storage_controllers(),
        **_cluster_controllers(),
        **_credential_controllers(),
    }


def controller_roles() -> list[rbac_pb2.ClusterRole]:
    return [cluster_role(PREFIX + name, rules) for name, rules in controller_rules().items()]


def controller_role_bindings() -> list[rbac_pb2.ClusterRoleBinding]:
    """addControllerRole's binding: each role to its controller's service account."""
    return [
        cluster_role_binding(PREFIX + name, service_accounts=((NAMESPACE, name),))
        for name in controller_rules()
    ]
