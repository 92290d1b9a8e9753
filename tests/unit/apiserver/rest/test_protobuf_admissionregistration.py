"""admissionregistration.k8s.io/v1 in Kubernetes' protobuf, as client-go (kubectl's typed
clients) writes it: read with Kubernetes' field numbers (written out by hand here, from k8s.io/api
admissionregistration/v1 generated.proto) into the JSON the same object is, strictly, Go's
embedded Rule and RuleWithOperations inline; and written back in those numbers."""

from __future__ import annotations

from apiserver.endpoints.rest import bodies, protobuf_encode
from apiserver.endpoints.rest.protobuf_bodies import MAGIC, decode
from podplane.api.k8swire.admissionregistration.v1 import admissionregistration_pb2 as wire
from podplane.api.k8swire.runtime import runtime_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.codec import FieldValidation

GROUP = "admissionregistration.k8s.io/v1"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, value: bytes | int) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _envelope(kind: str, raw: bytes) -> bytes:
    envelope = runtime_pb2.Unknown(
        typeMeta=runtime_pb2.TypeMeta(apiVersion=GROUP, kind=kind),
        raw=raw,
        contentType="application/vnd.kubernetes.protobuf",
    )
    return MAGIC + envelope.SerializeToString()


def test_a_mutating_webhook_configuration_reads_as_its_json() -> None:
    # Rule: apiGroups 1, apiVersions 2, resources 3, scope 4; RuleWithOperations: operations 1,
    # rule 2; ServiceReference: namespace 1, name 2, path 3, port 4; WebhookClientConfig:
    # service 1, caBundle 2, url 3; MutatingWebhook: name 1, clientConfig 2, rules 3,
    # failurePolicy 4, namespaceSelector 5, sideEffects 6, timeoutSeconds 7,
    # admissionReviewVersions 8, matchPolicy 9, reinvocationPolicy 10, objectSelector 11,
    # matchConditions 12 (MatchCondition: name 1, expression 2).
    rule = _field(1, b"apps") + _field(2, b"v1") + _field(3, b"deployments") + _field(4, b"*")
    rule_with_operations = _field(1, b"CREATE") + _field(2, rule)
    service = _field(1, b"policy") + _field(2, b"hook") + _field(3, b"/mutate") + _field(4, 8443)
    client_config = _field(1, service) + _field(2, b"PEM")
    hook = (
        _field(1, b"deployments.policy.example.com")
        + _field(2, client_config)
        + _field(3, rule_with_operations)
        + _field(4, b"Ignore")
        + _field(5, b"")
        + _field(6, b"None")
        + _field(7, 5)
        + _field(8, b"v1")
        + _field(9, b"Exact")
        + _field(10, b"IfNeeded")
        + _field(11, b"")
        + _field(12, _field(1, b"labelled") + _field(2, b"has(object.metadata.labels)"))
    )
    raw = _field(1, _field(1, b"policy")) + _field(2, hook)
    data = decode(_envelope("MutatingWebhookConfiguration", raw))
    assert data == {
        "apiVersion": GROUP,
        "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": "policy"},
        "webhooks": [
            {
                "name": "deployments.policy.example.com",
                "clientConfig": {
                    "service": {
                        "namespace": "policy",
                        "name": "hook",
                        "path": "/mutate",
                        "port": 8443,
                    },
                    "caBundle": "UEVN",
                },
                "rules": [
                    {
                        "operations": ["CREATE"],
                        "apiGroups": ["apps"],
                        "apiVersions": ["v1"],
                        "resources": ["deployments"],
                        "scope": "*",
                    }
                ],
                "failurePolicy": "Ignore",
                "namespaceSelector": {},
                "sideEffects": "None",
                "timeoutSeconds": 5,
                "admissionReviewVersions": ["v1"],
                "matchPolicy": "Exact",
                "reinvocationPolicy": "IfNeeded",
                "objectSelector": {},
                "matchConditions": [
                    {"name": "labelled", "expression": "has(object.metadata.labels)"}
                ],
            }
        ],
    }
    obj, warnings = bodies.decode_object(
        resources.MUTATING_WEBHOOK_CONFIGURATION, data, [], FieldValidation.STRICT
    )
    assert warnings == []
    assert obj.webhooks[0].client_config.ca_bundle == b"PEM"


def test_a_binding_is_written_at_kubernetes_field_numbers() -> None:
    binding = {
        "apiVersion": GROUP,
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": "replicas"},
        "spec": {
            "policyName": "replicas",
            "paramRef": {"name": "limits", "parameterNotFoundAction": "Deny"},
            "matchResources": {
                "resourceRules": [
                    {"resourceNames": ["web"], "operations": ["UPDATE"], "resources": ["pods"]}
                ],
                "matchPolicy": "Equivalent",
            },
            "validationActions": ["Deny", "Audit"],
        },
    }
    raw = protobuf_encode.encode_object(GROUP, "ValidatingAdmissionPolicyBinding", binding)
    envelope = runtime_pb2.Unknown.FromString(raw[len(MAGIC) :])
    got = wire.ValidatingAdmissionPolicyBinding.FromString(envelope.raw)
    spec = got.spec
    assert (spec.policyName, spec.paramRef.name, spec.paramRef.parameterNotFoundAction) == (
        "replicas",
        "limits",
        "Deny",
    )
    named = spec.matchResources.resourceRules[0]
    assert list(named.resourceNames) == ["web"]
    assert list(named.ruleWithOperations.operations) == ["UPDATE"]
    assert list(named.ruleWithOperations.rule.resources) == ["pods"]
    assert spec.matchResources.matchPolicy == "Equivalent"
    assert list(spec.validationActions) == ["Deny", "Audit"]
    # Kubernetes' numbers: spec 2 of the binding; policyName 1, paramRef 2, matchResources 3,
    # validationActions 4 of its spec; matchPolicy 7 of MatchResources.
    spec_bytes = wire.ValidatingAdmissionPolicyBinding(spec=spec).SerializeToString()
    assert spec_bytes[0] == (2 << 3 | 2)
    assert _field(7, b"Equivalent") in spec.matchResources.SerializeToString()
