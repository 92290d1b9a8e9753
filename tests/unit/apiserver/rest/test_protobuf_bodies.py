"""Request bodies in Kubernetes' protobuf, built by hand as kubectl's typed clients send them
(the magic k8s\\0, a runtime.Unknown around the object's message), read into the JSON object the
same body would be: each kind's fields, IntOrString both ways, Secret bytes as base64, Go's zero
fields, and every malformed or unreadable body a 4xx naming what is wrong."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf.message import Message

from apiserver import errors
from apiserver.endpoints.rest import bodies
from apiserver.endpoints.rest.protobuf_bodies import MAGIC, decode
from apiserver.endpoints.rest.status import failure
from podplane.api.k8swire.apps.v1 import apps_pb2
from podplane.api.k8swire.batch.v1 import batch_pb2
from podplane.api.k8swire.certificates.v1 import certificates_pb2
from podplane.api.k8swire.core.v1 import core_pb2
from podplane.api.k8swire.intstr import intstr_pb2
from podplane.api.k8swire.meta.v1 import meta_pb2
from podplane.api.k8swire.policy.v1 import policy_pb2
from podplane.api.k8swire.rbac.v1 import rbac_pb2
from podplane.api.k8swire.resource import resource_pb2
from podplane.api.k8swire.runtime import runtime_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.codec import FieldValidation


def body(api_version: str, kind: str, obj: Message | bytes) -> bytes:
    raw = obj if isinstance(obj, bytes) else obj.SerializeToString()
    envelope = runtime_pb2.Unknown(
        typeMeta=runtime_pb2.TypeMeta(apiVersion=api_version, kind=kind),
        raw=raw,
        contentType="application/vnd.kubernetes.protobuf",
    )
    return MAGIC + envelope.SerializeToString()


def meta(**kw: Any) -> meta_pb2.ObjectMeta:
    # Go always sends creationTimestamp (non-pointer): its zero time is an empty message.
    return meta_pb2.ObjectMeta(creationTimestamp=meta_pb2.Time(), **kw)


def port(n: int) -> intstr_pb2.IntOrString:
    return intstr_pb2.IntOrString(type=0, intVal=n)


def named(name: str) -> intstr_pb2.IntOrString:
    return intstr_pb2.IntOrString(type=1, strVal=name)


TEMPLATE = core_pb2.PodTemplateSpec(
    metadata=meta(labels={"app": "web"}),
    spec=core_pb2.PodSpec(
        containers=[
            core_pb2.Container(
                name="busybox",
                image="busybox",
                command=["sleep", "3600"],
                ports=[core_pb2.ContainerPort(containerPort=8080)],
                env=[core_pb2.EnvVar(name="MODE", value="fast")],
                resources=core_pb2.ResourceRequirements(
                    limits={"cpu": resource_pb2.Quantity(string="500m")}
                ),
            )
        ],
        restartPolicy="Never",
    ),
)
TEMPLATE_JSON = {
    "metadata": {"labels": {"app": "web"}, "creationTimestamp": None},
    "spec": {
        "containers": [
            {
                "name": "busybox",
                "image": "busybox",
                "command": ["sleep", "3600"],
                "ports": [{"containerPort": 8080}],
                "env": [{"name": "MODE", "value": "fast"}],
                "resources": {"limits": {"cpu": "500m"}},
            }
        ],
        "restartPolicy": "Never",
    },
}

RBAC_GROUP = "rbac.authorization.k8s.io"
RBAC = f"{RBAC_GROUP}/v1"

# (apiVersion, kind, the object's message, the JSON it reads as): what `kubectl create` builds.
KINDS = [
    (
        "v1",
        "Namespace",
        core_pb2.Namespace(metadata=meta(name="team-a"), spec=core_pb2.NamespaceSpec()),
        {"metadata": {"name": "team-a", "creationTimestamp": None}, "spec": {}},
    ),
    (
        "v1",
        "ConfigMap",
        core_pb2.ConfigMap(
            metadata=meta(name="settings"),
            data={"mode": "fast", "empty": ""},
            binaryData={"blob": b"\x00\xff"},
        ),
        {
            "metadata": {"name": "settings", "creationTimestamp": None},
            "data": {"mode": "fast", "empty": ""},
            "binaryData": {"blob": "AP8="},
        },
    ),
    (
        "v1",
        "Secret",
        core_pb2.Secret(
            metadata=meta(name="creds"),
            data={"password": b"s3cr3t", "none": b""},
            type="Opaque",
            immutable=False,
        ),
        {
            "metadata": {"name": "creds", "creationTimestamp": None},
            "data": {"password": "czNjcjN0", "none": ""},
            "type": "Opaque",
            # A pointer in Go: false is a value, kept.
            "immutable": False,
        },
    ),
    (
        "v1",
        "Service",
        core_pb2.Service(
            metadata=meta(name="web", labels={"app": "web"}),
            spec=core_pb2.ServiceSpec(
                ports=[
                    core_pb2.ServicePort(
                        name="80-8080", protocol="TCP", port=80, targetPort=port(8080)
                    ),
                    core_pb2.ServicePort(name="admin", port=9000, targetPort=named("admin")),
                ],
                selector={"app": "web"},
                type="ClusterIP",
            ),
            status=core_pb2.ServiceStatus(loadBalancer=core_pb2.LoadBalancerStatus()),
        ),
        {
            "metadata": {"name": "web", "labels": {"app": "web"}, "creationTimestamp": None},
            "spec": {
                "ports": [
                    {"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080},
                    {"name": "admin", "port": 9000, "targetPort": "admin"},
                ],
                "selector": {"app": "web"},
                "type": "ClusterIP",
            },
            "status": {"loadBalancer": {}},
        },
    ),
    (
        "apps/v1",
        "Deployment",
        apps_pb2.Deployment(
            metadata=meta(name="web", labels={"app": "web"}),
            spec=apps_pb2.DeploymentSpec(
                replicas=0,
                selector=meta_pb2.LabelSelector(matchLabels={"app": "web"}),
                template=TEMPLATE,
                strategy=apps_pb2.DeploymentStrategy(
                    type="RollingUpdate",
                    rollingUpdate=apps_pb2.RollingUpdateDeployment(
                        maxUnavailable=named("25%"), maxSurge=port(1)
                    ),
                ),
            ),
            status=apps_pb2.DeploymentStatus(),
        ),
        {
            "metadata": {"name": "web", "labels": {"app": "web"}, "creationTimestamp": None},
            "spec": {
                # A pointer in Go: --replicas=0 is kept, not defaulted away.
                "replicas": 0,
                "selector": {"matchLabels": {"app": "web"}},
                "template": TEMPLATE_JSON,
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 1},
                },
            },
            "status": {},
        },
    ),
    (
        "batch/v1",
        "Job",
        batch_pb2.Job(
            metadata=meta(
                name="once",
                ownerReferences=[
                    meta_pb2.OwnerReference(
                        apiVersion="batch/v1",
                        kind="CronJob",
                        name="nightly",
                        uid="u-1",
                        controller=True,
                    )
                ],
            ),
            spec=batch_pb2.JobSpec(template=TEMPLATE, backoffLimit=0),
            status=batch_pb2.JobStatus(),
        ),
        {
            "metadata": {
                "name": "once",
                "ownerReferences": [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "CronJob",
                        "name": "nightly",
                        "uid": "u-1",
                        "controller": True,
                    }
                ],
                "creationTimestamp": None,
            },
            "spec": {"template": TEMPLATE_JSON, "backoffLimit": 0},
            "status": {},
        },
    ),
    (
        "batch/v1",
        "CronJob",
        batch_pb2.CronJob(
            metadata=meta(name="hello"),
            spec=batch_pb2.CronJobSpec(
                schedule="*/1 * * * *",
                jobTemplate=batch_pb2.JobTemplateSpec(
                    metadata=meta(name="hello"),
                    spec=batch_pb2.JobSpec(
                        template=TEMPLATE,
                        podFailurePolicy=batch_pb2.PodFailurePolicy(
                            rules=[
                                batch_pb2.PodFailurePolicyRule(
                                    action="FailJob",
                                    onExitCodes=batch_pb2.PodFailurePolicyOnExitCodesRequirement(
                                        operator="In", values=[42]
                                    ),
                                ),
                                batch_pb2.PodFailurePolicyRule(
                                    action="Ignore",
                                    onPodConditions=[
                                        batch_pb2.PodFailurePolicyOnPodConditionsPattern(
                                            type="DisruptionTarget", status="True"
                                        )
                                    ],
                                ),
                            ]
                        ),
                        successPolicy=batch_pb2.SuccessPolicy(
                            rules=[batch_pb2.SuccessPolicyRule(succeededIndexes="0-2")]
                        ),
                    ),
                ),
                timeZone="Europe/Paris",
                suspend=False,
            ),
            status=batch_pb2.CronJobStatus(),
        ),
        {
            "metadata": {"name": "hello", "creationTimestamp": None},
            "spec": {
                "schedule": "*/1 * * * *",
                "timeZone": "Europe/Paris",
                "suspend": False,
                "jobTemplate": {
                    "metadata": {"name": "hello", "creationTimestamp": None},
                    "spec": {
                        "template": TEMPLATE_JSON,
                        "podFailurePolicy": {
                            "rules": [
                                {
                                    "action": "FailJob",
                                    "onExitCodes": {"operator": "In", "values": [42]},
                                },
                                {
                                    "action": "Ignore",
                                    "onPodConditions": [
                                        {"type": "DisruptionTarget", "status": "True"}
                                    ],
                                },
                            ]
                        },
                        "successPolicy": {"rules": [{"succeededIndexes": "0-2"}]},
                    },
                },
            },
            "status": {},
        },
    ),
    (
        RBAC,
        "Role",
        rbac_pb2.Role(
            metadata=meta(name="pod-reader"),
            rules=[rbac_pb2.PolicyRule(verbs=["get", "list"], apiGroups=[""], resources=["pods"])],
        ),
        {
            "metadata": {"name": "pod-reader", "creationTimestamp": None},
            # The core group "" is a value in a list, kept.
            "rules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}],
        },
    ),
    (
        RBAC,
        "ClusterRole",
        rbac_pb2.ClusterRole(
            metadata=meta(name="monitoring"),
            aggregationRule=rbac_pb2.AggregationRule(
                clusterRoleSelectors=[meta_pb2.LabelSelector(matchLabels={"rbac.example/m": "1"})]
            ),
            rules=[rbac_pb2.PolicyRule(verbs=["get"], nonResourceURLs=["/metrics"])],
        ),
        {
            "metadata": {"name": "monitoring", "creationTimestamp": None},
            "rules": [{"verbs": ["get"], "nonResourceURLs": ["/metrics"]}],
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"rbac.example/m": "1"}}]},
        },
    ),
    (
        RBAC,
        "RoleBinding",
        rbac_pb2.RoleBinding(
            metadata=meta(name="read-pods"),
            subjects=[
                rbac_pb2.Subject(kind="User", apiGroup=RBAC_GROUP, name="jane"),
                rbac_pb2.Subject(kind="ServiceAccount", name="bot", namespace="x"),
            ],
            roleRef=rbac_pb2.RoleRef(apiGroup=RBAC_GROUP, kind="Role", name="pod-reader"),
        ),
        {
            "metadata": {"name": "read-pods", "creationTimestamp": None},
            "subjects": [
                {"kind": "User", "apiGroup": RBAC_GROUP, "name": "jane"},
                {"kind": "ServiceAccount", "name": "bot", "namespace": "x"},
            ],
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "Role", "name": "pod-reader"},
        },
    ),
    (
        RBAC,
        "ClusterRoleBinding",
        rbac_pb2.ClusterRoleBinding(
            metadata=meta(name="ops"),
            subjects=[rbac_pb2.Subject(kind="Group", apiGroup=RBAC_GROUP, name="ops")],
            roleRef=rbac_pb2.RoleRef(apiGroup=RBAC_GROUP, kind="ClusterRole", name="view"),
        ),
        {
            "metadata": {"name": "ops", "creationTimestamp": None},
            "subjects": [{"kind": "Group", "apiGroup": RBAC_GROUP, "name": "ops"}],
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "view"},
        },
    ),
    # What kubectl certificate approve puts to .../approval: the request it read, a condition
    # added (Go's zero lastTransitionTime an empty Time, null in JSON).
    (
        "certificates.k8s.io/v1",
        "CertificateSigningRequest",
        certificates_pb2.CertificateSigningRequest(
            metadata=meta(name="alice", resourceVersion="42"),
            spec=certificates_pb2.CertificateSigningRequestSpec(
                request=b"-----BEGIN CERTIFICATE REQUEST-----",
                signerName="kubernetes.io/kube-apiserver-client",
                expirationSeconds=0,
                usages=["client auth"],
                username="kubernetes-admin",
                groups=["system:masters", "system:authenticated"],
                extra={"scopes": certificates_pb2.ExtraValue(items=["a", "b"])},
            ),
            status=certificates_pb2.CertificateSigningRequestStatus(
                conditions=[
                    certificates_pb2.CertificateSigningRequestCondition(
                        type="Approved",
                        status="True",
                        reason="KubectlApprove",
                        message="This CSR was approved by kubectl certificate approve.",
                        lastUpdateTime=meta_pb2.Time(seconds=1700000000),
                        lastTransitionTime=meta_pb2.Time(),
                    )
                ]
            ),
        ),
        {
            "metadata": {"name": "alice", "resourceVersion": "42", "creationTimestamp": None},
            "spec": {
                "request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0=",
                "signerName": "kubernetes.io/kube-apiserver-client",
                "expirationSeconds": 0,
                "usages": ["client auth"],
                "username": "kubernetes-admin",
                "groups": ["system:masters", "system:authenticated"],
                "extra": {"scopes": ["a", "b"]},
            },
            "status": {
                "conditions": [
                    {
                        "type": "Approved",
                        "status": "True",
                        "reason": "KubectlApprove",
                        "message": "This CSR was approved by kubectl certificate approve.",
                        "lastUpdateTime": "2023-11-14T22:13:20Z",
                        "lastTransitionTime": None,
                    }
                ]
            },
        },
    ),
]


@pytest.mark.parametrize("api_version,kind,obj,want", KINDS, ids=[k[1] for k in KINDS])
def test_each_kind_reads_as_its_json(
    api_version: str, kind: str, obj: Message, want: dict[str, Any]
) -> None:
    assert decode(body(api_version, kind, obj)) == {
        "apiVersion": api_version,
        "kind": kind,
        **want,
    }


@pytest.mark.parametrize("api_version,kind,obj,want", KINDS, ids=[k[1] for k in KINDS])
def test_each_kind_decodes_strictly_as_the_served_kind(
    api_version: str, kind: str, obj: Message, want: dict[str, Any]
) -> None:
    """What a protobuf body reads as takes the JSON path, Strict as kubectl asks, unrefused."""
    resource = next(r for r in resources.ALL if (r.api_version, r.kind) == (api_version, kind))
    data = decode(body(api_version, kind, obj))
    _, warnings = bodies.decode_object(resource, data, [], FieldValidation.STRICT)
    assert warnings == []


def test_go_zero_fields_read_as_absent() -> None:
    """Go sends every non-pointer field, zero or not: an empty string (name, field 1), an
    empty creationTimestamp, and a zero field this server does not read (ObjectMeta's number 15,
    the clusterName of old, is not read; an empty one says nothing) are all as if absent."""
    name_empty = b"\x0a\x00"
    unread_empty = b"\x7a\x00"  # field 15, length-delimited, empty
    generate = b"\x12\x02ab"  # generateName "ab"
    metadata = name_empty + unread_empty + generate + b"\x42\x00"
    namespace = b"\x0a" + bytes([len(metadata)]) + metadata
    assert decode(body("v1", "Namespace", namespace)) == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"generateName": "ab", "creationTimestamp": None},
    }


def test_a_time_reads_as_rfc3339_to_the_second() -> None:
    obj = core_pb2.Namespace(
        metadata=meta_pb2.ObjectMeta(
            name="x",
            creationTimestamp=meta_pb2.Time(seconds=1700000000, nanos=5),
            deletionTimestamp=meta_pb2.Time(seconds=0),
        )
    )
    assert decode(body("v1", "Namespace", obj))["metadata"] == {
        "name": "x",
        "creationTimestamp": "2023-11-14T22:13:20Z",
        "deletionTimestamp": "1970-01-01T00:00:00Z",
    }


def test_managed_fields_read_with_their_set_as_json() -> None:
    """What kubectl sends back after reading an object (kubectl auth reconcile's update): its
    managedFields, field 17, each set as FieldsV1's JSON text."""
    entry = meta_pb2.ManagedFieldsEntry(
        manager="kubectl-create",
        operation="Update",
        apiVersion="v1",
        time=meta_pb2.Time(seconds=1700000000),
        fieldsType="FieldsV1",
        fieldsV1=meta_pb2.FieldsV1(Raw=b'{"f:metadata":{"f:labels":{"f:a":{}}}}'),
    )
    obj = core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name="x", managedFields=[entry]))
    assert decode(body("v1", "Namespace", obj))["metadata"]["managedFields"] == [
        {
            "manager": "kubectl-create",
            "operation": "Update",
            "apiVersion": "v1",
            "time": "2023-11-14T22:13:20Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:metadata": {"f:labels": {"f:a": {}}}},
        }
    ]
    broken = meta_pb2.ObjectMeta(
        name="x", managedFields=[meta_pb2.ManagedFieldsEntry(fieldsV1=meta_pb2.FieldsV1(Raw=b"{"))]
    )
    with pytest.raises(errors.APIError) as refused:
        decode(body("v1", "Namespace", core_pb2.Namespace(metadata=broken)))
    assert refused.value.reason == "BadRequest"


def test_inlined_structs_read_inline() -> None:
    """Go's embedded structs (LocalObjectReference, VolumeSource, ProbeHandler) are one message
    in protobuf and their fields in JSON."""
    pod = core_pb2.PodSpec(
        containers=[
            core_pb2.Container(
                name="c",
                env=[
                    core_pb2.EnvVar(
                        name="K",
                        valueFrom=core_pb2.EnvVarSource(
                            configMapKeyRef=core_pb2.ConfigMapKeySelector(
                                localObjectReference=core_pb2.LocalObjectReference(name="cm"),
                                key="k",
                            )
                        ),
                    )
                ],
                livenessProbe=core_pb2.Probe(
                    handler=core_pb2.ProbeHandler(
                        httpGet=core_pb2.HTTPGetAction(path="/healthz", port=named("http"))
                    ),
                    periodSeconds=5,
                ),
            )
        ],
        volumes=[
            core_pb2.Volume(
                name="scratch",
                volumeSource=core_pb2.VolumeSource(emptyDir=core_pb2.EmptyDirVolumeSource()),
            )
        ],
    )
    job = batch_pb2.Job(spec=batch_pb2.JobSpec(template=core_pb2.PodTemplateSpec(spec=pod)))
    assert decode(body("batch/v1", "Job", job))["spec"]["template"]["spec"] == {
        "containers": [
            {
                "name": "c",
                "env": [
                    {"name": "K", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}
                ],
                "livenessProbe": {
                    "httpGet": {"path": "/healthz", "port": "http"},
                    "periodSeconds": 5,
                },
            }
        ],
        # An empty pointer struct is a value: the volume is an emptyDir.
        "volumes": [{"name": "scratch", "emptyDir": {}}],
    }


def test_projected_and_downward_api_volumes_read_with_kubernetes_field_numbers() -> None:
    """VolumeSource's downwardAPI (16) and projected (26), with their sources."""
    namespace_file = core_pb2.DownwardAPIVolumeFile(
        path="namespace",
        fieldRef=core_pb2.ObjectFieldSelector(apiVersion="v1", fieldPath="metadata.namespace"),
    )
    pod = core_pb2.PodSpec(
        volumes=[
            core_pb2.Volume(
                name="token",
                volumeSource=core_pb2.VolumeSource(
                    projected=core_pb2.ProjectedVolumeSource(
                        sources=[
                            core_pb2.VolumeProjection(
                                serviceAccountToken=core_pb2.ServiceAccountTokenProjection(
                                    audience="vault", expirationSeconds=600, path="token"
                                )
                            ),
                            core_pb2.VolumeProjection(
                                configMap=core_pb2.ConfigMapProjection(
                                    localObjectReference=core_pb2.LocalObjectReference(
                                        name="kube-root-ca.crt"
                                    ),
                                    items=[core_pb2.KeyToPath(key="ca.crt", path="ca.crt")],
                                )
                            ),
                            core_pb2.VolumeProjection(
                                downwardAPI=core_pb2.DownwardAPIProjection(items=[namespace_file])
                            ),
                        ],
                        defaultMode=0o644,
                    )
                ),
            ),
            core_pb2.Volume(
                name="podinfo",
                volumeSource=core_pb2.VolumeSource(
                    downwardAPI=core_pb2.DownwardAPIVolumeSource(items=[namespace_file])
                ),
            ),
        ],
    )
    job = batch_pb2.Job(spec=batch_pb2.JobSpec(template=core_pb2.PodTemplateSpec(spec=pod)))
    namespace_json = {
        "path": "namespace",
        "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
    }
    assert decode(body("batch/v1", "Job", job))["spec"]["template"]["spec"]["volumes"] == [
        {
            "name": "token",
            "projected": {
                "sources": [
                    {
                        "serviceAccountToken": {
                            "audience": "vault",
                            "expirationSeconds": 600,
                            "path": "token",
                        }
                    },
                    {
                        "configMap": {
                            "name": "kube-root-ca.crt",
                            "items": [{"key": "ca.crt", "path": "ca.crt"}],
                        }
                    },
                    {"downwardAPI": {"items": [namespace_json]}},
                ],
                "defaultMode": 420,
            },
        },
        {"name": "podinfo", "downwardAPI": {"items": [namespace_json]}},
    ]


def _answer(raw: bytes) -> tuple[int, str, str]:
    with pytest.raises(errors.APIError) as caught:
        decode(raw)
    code, status = failure(caught.value)
    return code, status["reason"], status["message"]


NAMESPACE = core_pb2.Namespace(metadata=meta(name="x")).SerializeToString()
ENVELOPE = body("v1", "Namespace", NAMESPACE)[len(MAGIC) :]


@pytest.mark.parametrize(
    "raw,code,reason,says",
    [
        (b"", 400, "BadRequest", "magic prefix"),
        (b'{"kind": "Namespace"}', 400, "BadRequest", "magic prefix"),
        (MAGIC, 400, "BadRequest", "names no apiVersion and kind"),
        (MAGIC + ENVELOPE[:-5], 400, "BadRequest", "the envelope (runtime.Unknown)"),
        (body("v1", "Namespace", NAMESPACE[:-1]), 400, "BadRequest", "the Namespace"),
        (body("v1", "Namespace", b"\x0a\x03\x0a"), 400, "BadRequest", "the Namespace"),
        (body("v1", "Gadget", NAMESPACE), 400, "BadRequest", 'no kind "Gadget" is registered'),
        (body("v2", "Namespace", NAMESPACE), 400, "BadRequest", 'for version "v2"'),
        # A field this server does not read, set: refused, never dropped (PodSpec 41,
        # hostnameOverride, which podplane's Pod does not carry).
        (
            body("batch/v1", "Job", b"\x12\x08\x32\x06\x12\x04\xca\x02\x01x"),
            400,
            "BadRequest",
            "spec.template.spec: field 41 of PodSpec is not read",
        ),
        (body("v1", "Pod", b"\x12\x04\xca\x02\x01x"), 400, "BadRequest", "spec: field 41"),
        (
            body("v1", "Service", b"\x12\x06\x0a\x04\x22\x02\x08\x07"),
            400,
            "BadRequest",
            "spec.ports[0].targetPort: 7 is not an IntOrString type",
        ),
    ],
)
def test_a_malformed_or_unreadable_body_is_a_4xx(
    raw: bytes, code: int, reason: str, says: str
) -> None:
    got_code, got_reason, message = _answer(raw)
    assert (got_code, got_reason) == (code, reason)
    assert says in message


# The body kubectl 1.36 sent for `kubectl create pdb web --selector=app=web --min-available=2`.
KUBECTL_CREATE_PDB = bytes.fromhex(
    "6b387300 0a200a09 706f6c69 63792f76 31121350 6f644469 73727570 74696f6e"
    "42756467 65741239 0a130a03 77656212 001a0022 002a0032 00380042 0012160a"
    "06080010 021a0012 0c0a0a0a 03617070 12037765 621a0a08 00180020 00280030"
    "001a0022 00"
)


def test_kubectls_poddisruptionbudget_reads_as_its_json() -> None:
    data = decode(KUBECTL_CREATE_PDB)
    assert data == {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web", "creationTimestamp": None},
        "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}},
        "status": {},
    }
    _, warnings = bodies.decode_object(
        resources.POD_DISRUPTION_BUDGET, data, [], FieldValidation.STRICT
    )
    assert warnings == []


@pytest.mark.parametrize("api_version", ["policy/v1", "policy/v1beta1"])
def test_an_eviction_reads_with_its_delete_options(api_version: str) -> None:
    eviction = policy_pb2.Eviction(
        metadata=meta(name="web-1", namespace="default"),
        deleteOptions=meta_pb2.DeleteOptions(
            gracePeriodSeconds=0,
            preconditions=meta_pb2.Preconditions(uid="u-1"),
            dryRun=["All"],
        ),
    )
    assert decode(body(api_version, "Eviction", eviction)) == {
        "apiVersion": api_version,
        "kind": "Eviction",
        "metadata": {"name": "web-1", "namespace": "default", "creationTimestamp": None},
        "deleteOptions": {
            "gracePeriodSeconds": 0,
            "preconditions": {"uid": "u-1"},
            "dryRun": ["All"],
        },
    }
