"""The kinds the REST door reads and writes in Kubernetes' protobuf, declared as data: each kind's
apiVersion and kind (what a runtime.Unknown envelope names) and its message in
podplane/api/k8swire, which carries Kubernetes' field numbers. Every built-in kind served, the
subresources' bodies and meta.k8s.io's Status; custom resources are JSON only, as in
Kubernetes. Also the k8swire types whose JSON is not their message's (times, quantities, ...)."""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import Message

from podplane.api.k8swire.admissionregistration.v1 import admissionregistration_pb2
from podplane.api.k8swire.apiextensions.v1 import apiextensions_pb2
from podplane.api.k8swire.apiregistration.v1 import apiregistration_pb2
from podplane.api.k8swire.apps.v1 import apps_pb2
from podplane.api.k8swire.authentication.v1 import authentication_pb2
from podplane.api.k8swire.authorization.v1 import authorization_pb2
from podplane.api.k8swire.autoscaling.v1 import autoscaling_pb2
from podplane.api.k8swire.autoscaling.v2 import autoscaling_pb2 as autoscaling_v2_pb2
from podplane.api.k8swire.batch.v1 import batch_pb2
from podplane.api.k8swire.certificates.v1 import certificates_pb2
from podplane.api.k8swire.coordination.v1 import coordination_pb2
from podplane.api.k8swire.core.v1 import core_pb2
from podplane.api.k8swire.discovery.v1 import discovery_pb2
from podplane.api.k8swire.events.v1 import events_pb2
from podplane.api.k8swire.flowcontrol.v1 import flowcontrol_pb2
from podplane.api.k8swire.meta.v1 import meta_pb2
from podplane.api.k8swire.networking.v1 import networking_pb2
from podplane.api.k8swire.node.v1 import node_pb2
from podplane.api.k8swire.policy.v1 import policy_pb2
from podplane.api.k8swire.rbac.v1 import rbac_pb2
from podplane.api.k8swire.scheduling.v1 import scheduling_pb2
from podplane.api.k8swire.storage.v1 import storage_pb2

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
# A watch's events, each a length-delimited frame (Kubernetes' protobuf stream serializer).
WATCH_MEDIA_TYPE = f"{MEDIA_TYPE};stream=watch"
MAGIC = b"k8s\x00"

_CORE = "v1"
_APPS = "apps/v1"
_BATCH = "batch/v1"
_RBAC = "rbac.authorization.k8s.io/v1"
_AUTHZ = "authorization.k8s.io/v1"
_AUTHN = "authentication.k8s.io/v1"
_ADMREG = "admissionregistration.k8s.io/v1"
_NETWORKING = "networking.k8s.io/v1"
_FLOWCONTROL = "flowcontrol.apiserver.k8s.io/v1"

KINDS: dict[tuple[str, str], type[Message]] = {
    # core/v1
    (_CORE, "Pod"): core_pb2.Pod,
    (_CORE, "Node"): core_pb2.Node,
    (_CORE, "Namespace"): core_pb2.Namespace,
    (_CORE, "Event"): core_pb2.Event,
    (_CORE, "ComponentStatus"): core_pb2.ComponentStatus,
    (_CORE, "ReplicationController"): core_pb2.ReplicationController,
    (_CORE, "ConfigMap"): core_pb2.ConfigMap,
    (_CORE, "Secret"): core_pb2.Secret,
    (_CORE, "PodTemplate"): core_pb2.PodTemplate,
    (_CORE, "LimitRange"): core_pb2.LimitRange,
    (_CORE, "ResourceQuota"): core_pb2.ResourceQuota,
    (_CORE, "PersistentVolume"): core_pb2.PersistentVolume,
    (_CORE, "PersistentVolumeClaim"): core_pb2.PersistentVolumeClaim,
    (_CORE, "Service"): core_pb2.Service,
    (_CORE, "Endpoints"): core_pb2.Endpoints,
    (_CORE, "ServiceAccount"): core_pb2.ServiceAccount,
    (_CORE, "Binding"): core_pb2.Binding,
    # apps/v1, batch/v1
    (_APPS, "ReplicaSet"): apps_pb2.ReplicaSet,
    (_APPS, "Deployment"): apps_pb2.Deployment,
    (_APPS, "DaemonSet"): apps_pb2.DaemonSet,
    (_APPS, "StatefulSet"): apps_pb2.StatefulSet,
    (_APPS, "ControllerRevision"): apps_pb2.ControllerRevision,
    (_BATCH, "Job"): batch_pb2.Job,
    (_BATCH, "CronJob"): batch_pb2.CronJob,
    # the other groups
    ("coordination.k8s.io/v1", "Lease"): coordination_pb2.Lease,
    ("storage.k8s.io/v1", "StorageClass"): storage_pb2.StorageClass,
    ("storage.k8s.io/v1", "CSIDriver"): storage_pb2.CSIDriver,
    ("storage.k8s.io/v1", "CSINode"): storage_pb2.CSINode,
    ("storage.k8s.io/v1", "CSIStorageCapacity"): storage_pb2.CSIStorageCapacity,
    ("storage.k8s.io/v1", "VolumeAttachment"): storage_pb2.VolumeAttachment,
    ("discovery.k8s.io/v1", "EndpointSlice"): discovery_pb2.EndpointSlice,
    (_NETWORKING, "Ingress"): networking_pb2.Ingress,
    (_NETWORKING, "IngressClass"): networking_pb2.IngressClass,
    (_NETWORKING, "NetworkPolicy"): networking_pb2.NetworkPolicy,
    (_FLOWCONTROL, "FlowSchema"): flowcontrol_pb2.FlowSchema,
    (_FLOWCONTROL, "PriorityLevelConfiguration"): flowcontrol_pb2.PriorityLevelConfiguration,
    (_RBAC, "Role"): rbac_pb2.Role,
    (_RBAC, "ClusterRole"): rbac_pb2.ClusterRole,
    (_RBAC, "RoleBinding"): rbac_pb2.RoleBinding,
    (_RBAC, "ClusterRoleBinding"): rbac_pb2.ClusterRoleBinding,
    ("policy/v1", "PodDisruptionBudget"): policy_pb2.PodDisruptionBudget,
    # kubectl drain's eviction (policy/v1beta1's has the same wire format).
    ("policy/v1", "Eviction"): policy_pb2.Eviction,
    ("policy/v1beta1", "Eviction"): policy_pb2.Eviction,
    ("scheduling.k8s.io/v1", "PriorityClass"): scheduling_pb2.PriorityClass,
    ("node.k8s.io/v1", "RuntimeClass"): node_pb2.RuntimeClass,
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): (
        apiextensions_pb2.CustomResourceDefinition
    ),
    ("certificates.k8s.io/v1", "CertificateSigningRequest"): (
        certificates_pb2.CertificateSigningRequest
    ),
    ("apiregistration.k8s.io/v1", "APIService"): apiregistration_pb2.APIService,
    (
        _ADMREG,
        "MutatingWebhookConfiguration",
    ): admissionregistration_pb2.MutatingWebhookConfiguration,
    (_ADMREG, "ValidatingWebhookConfiguration"): (
        admissionregistration_pb2.ValidatingWebhookConfiguration
    ),
    (_ADMREG, "ValidatingAdmissionPolicy"): admissionregistration_pb2.ValidatingAdmissionPolicy,
    (_ADMREG, "ValidatingAdmissionPolicyBinding"): (
        admissionregistration_pb2.ValidatingAdmissionPolicyBinding
    ),
    ("autoscaling/v1", "Scale"): autoscaling_pb2.Scale,
    ("events.k8s.io/v1", "Event"): events_pb2.Event,
    ("autoscaling/v1", "HorizontalPodAutoscaler"): autoscaling_pb2.HorizontalPodAutoscaler,
    ("autoscaling/v2", "HorizontalPodAutoscaler"): autoscaling_v2_pb2.HorizontalPodAutoscaler,
    # the reviews (create only) and kubectl create token's request
    (_AUTHZ, "SelfSubjectAccessReview"): authorization_pb2.SelfSubjectAccessReview,
    (_AUTHZ, "SelfSubjectRulesReview"): authorization_pb2.SelfSubjectRulesReview,
    (_AUTHZ, "SubjectAccessReview"): authorization_pb2.SubjectAccessReview,
    (_AUTHZ, "LocalSubjectAccessReview"): authorization_pb2.LocalSubjectAccessReview,
    (_AUTHN, "SelfSubjectReview"): authentication_pb2.SelfSubjectReview,
    (_AUTHN, "TokenReview"): authentication_pb2.TokenReview,
    (_AUTHN, "TokenRequest"): authentication_pb2.TokenRequest,
}
# meta.k8s.io's kinds, registered in every group version: named by the version a request came
# through (a client-go DeleteOptions body), or "v1" (a Status).
_META: dict[str, type[Message]] = {
    "Status": meta_pb2.Status,
    "DeleteOptions": meta_pb2.DeleteOptions,
}


@dataclass(frozen=True)
class KindRef:
    """A kind that is no resource of its own (a subresource's body), for negotiation."""

    api_version: str
    kind: str


SCALE = KindRef("autoscaling/v1", "Scale")


def message_of(api_version: str, kind: str) -> type[Message] | None:
    return KINDS.get((api_version, kind)) or _META.get(kind)


def serves(api_version: str, kind: str) -> bool:
    """Whether objects of this kind are written in protobuf (not a custom resource's)."""
    return (api_version, kind) in KINDS


_K8S = "podplane.k8swire."
TIME = _K8S + "meta.v1.Time"
MICRO_TIME = _K8S + "meta.v1.MicroTime"
FIELDS_V1 = _K8S + "meta.v1.FieldsV1"
INT_OR_STRING = _K8S + "intstr.IntOrString"
QUANTITY = _K8S + "resource.Quantity"
RAW_EXTENSION = _K8S + "runtime.RawExtension"
# map[string]ExtraValue: each value a plain list of strings in JSON.
EXTRA_VALUES = frozenset(
    _K8S + f"{group}.v1.ExtraValue" for group in ("authorization", "authentication", "certificates")
)
# A CustomResourceDefinition's schema: free JSON, and the types Go writes as one of two JSON
# forms (an object or a bool, an object or a list).
_APIEXT = _K8S + "apiextensions.v1."
JSON_VALUE = _APIEXT + "JSON"
SCHEMA_OR_BOOL = _APIEXT + "JSONSchemaPropsOrBool"
SCHEMA_OR_ARRAY = _APIEXT + "JSONSchemaPropsOrArray"
SCHEMA_OR_STRINGS = _APIEXT + "JSONSchemaPropsOrStringArray"

# Go's embedded structs: one message field in protobuf, its fields inline in JSON.
INLINE = (
    frozenset(
        _K8S + "core.v1." + name
        for name in (
            "ConfigMapEnvSource.localObjectReference",
            "ConfigMapKeySelector.localObjectReference",
            "ConfigMapProjection.localObjectReference",
            "ConfigMapVolumeSource.localObjectReference",
            "SecretEnvSource.localObjectReference",
            "SecretKeySelector.localObjectReference",
            "SecretProjection.localObjectReference",
            "PersistentVolumeSpec.persistentVolumeSource",
            "Probe.handler",
            "Volume.volumeSource",
            "EphemeralContainer.ephemeralContainerCommon",
        )
    )
    | frozenset(
        _K8S + "admissionregistration.v1." + name
        for name in ("RuleWithOperations.rule", "NamedRuleWithOperations.ruleWithOperations")
    )
    | frozenset({_K8S + "networking.v1.IngressRule.ingressRuleValue"})
)
