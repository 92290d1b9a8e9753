"""Request bodies in Kubernetes' protobuf (application/vnd.kubernetes.protobuf, what kubectl's
typed clients send: kubectl 1.36's create generators): the magic `k8s\\0`, then a runtime.Unknown
naming the object's apiVersion and kind around the object's own message (k8s.io/apimachinery's
protobuf serializer). The object is read with Kubernetes' field numbers (podplane/api/k8swire)
into the JSON object the same body would be as JSON, which then takes the JSON path: nothing is
validated or stored differently. Answers stay JSON (kubectl accepts it after protobuf)."""

from __future__ import annotations

import base64
import datetime
from typing import Any

import grpc
from google.protobuf import unknown_fields
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from apiserver import errors
from podplane.api.k8swire.apps.v1 import apps_pb2
from podplane.api.k8swire.authentication.v1 import authentication_pb2, token_request_pb2
from podplane.api.k8swire.authorization.v1 import authorization_pb2
from podplane.api.k8swire.batch.v1 import batch_pb2
from podplane.api.k8swire.certificates.v1 import certificates_pb2
from podplane.api.k8swire.core.v1 import core_pb2
from podplane.api.k8swire.policy.v1 import policy_pb2
from podplane.api.k8swire.rbac.v1 import rbac_pb2
from podplane.api.k8swire.runtime import runtime_pb2
from podplane.api.k8swire.scheduling.v1 import scheduling_pb2
from podplane.apimachinery import json_text, resources
from podplane.apimachinery.json_types import JSONObject, JSONValue

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

# The kinds read from protobuf: those kubectl's generators build (kubectl create namespace,
# configmap, secret, service, serviceaccount, deployment, job (--from=cronjob/... too), cronjob,
# poddisruptionbudget, priorityclass, role, clusterrole, rolebinding, clusterrolebinding, token),
# the reviews kubectl auth can-i (--list) and whoami send, the eviction kubectl drain may send, and
# the certificate signing request kubectl certificate approve/deny put to its approval subresource.
KINDS: dict[tuple[str, str], type[Message]] = {
    ("v1", "Namespace"): core_pb2.Namespace,
    ("v1", "ConfigMap"): core_pb2.ConfigMap,
    ("v1", "Secret"): core_pb2.Secret,
    ("v1", "Service"): core_pb2.Service,
    ("v1", "ServiceAccount"): core_pb2.ServiceAccount,
    ("authentication.k8s.io/v1", "TokenRequest"): token_request_pb2.TokenRequest,
    ("apps/v1", "Deployment"): apps_pb2.Deployment,
    ("batch/v1", "Job"): batch_pb2.Job,
    ("batch/v1", "CronJob"): batch_pb2.CronJob,
    ("policy/v1", "PodDisruptionBudget"): policy_pb2.PodDisruptionBudget,
    # kubectl drain's eviction (policy/v1beta1's has the same wire format).
    ("policy/v1", "Eviction"): policy_pb2.Eviction,
    ("policy/v1beta1", "Eviction"): policy_pb2.Eviction,
    (
        "authorization.k8s.io/v1",
        "SelfSubjectAccessReview",
    ): authorization_pb2.SelfSubjectAccessReview,
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"): (
        authorization_pb2.SelfSubjectRulesReview
    ),
    ("authorization.k8s.io/v1", "SubjectAccessReview"): authorization_pb2.SubjectAccessReview,
    ("authorization.k8s.io/v1", "LocalSubjectAccessReview"): (
        authorization_pb2.LocalSubjectAccessReview
    ),
    ("authentication.k8s.io/v1", "SelfSubjectReview"): authentication_pb2.SelfSubjectReview,
    ("authentication.k8s.io/v1", "TokenReview"): authentication_pb2.TokenReview,
    ("rbac.authorization.k8s.io/v1", "Role"): rbac_pb2.Role,
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): rbac_pb2.ClusterRole,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): rbac_pb2.RoleBinding,
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): rbac_pb2.ClusterRoleBinding,
    ("scheduling.k8s.io/v1", "PriorityClass"): scheduling_pb2.PriorityClass,
    ("certificates.k8s.io/v1", "CertificateSigningRequest"): (
        certificates_pb2.CertificateSigningRequest
    ),
}

# Kinds this server reads from JSON only: a protobuf one is a 415, so the client can tell it is
# the media type that is refused (the subresources' bodies among them).
_JSON_ONLY = frozenset((r.api_version, r.kind) for r in resources.ALL) | {
    ("autoscaling/v1", "Scale"),
    ("v1", "Binding"),
}

# Go's embedded structs: one message field in protobuf, its fields inline in JSON.
_INLINE = frozenset({"localObjectReference", "volumeSource", "handler"})

_TIME = "podplane.k8swire.meta.v1.Time"
_FIELDS_V1 = "podplane.k8swire.meta.v1.FieldsV1"
_INT_OR_STRING = "podplane.k8swire.intstr.IntOrString"
_QUANTITY = "podplane.k8swire.resource.Quantity"
# map[string]ExtraValue: each value a plain list of strings in JSON.
_EXTRA_VALUES = frozenset(
    {
        "podplane.k8swire.authorization.v1.ExtraValue",
        "podplane.k8swire.authentication.v1.ExtraValue",
        "podplane.k8swire.certificates.v1.ExtraValue",
    }
)
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


class _Undecodable(Exception):
    """What in the body cannot be read, with its field path."""


def _invalid(detail: str) -> errors.APIError:
    return errors.bad_request(f"the request body is not a valid {MEDIA_TYPE} object: {detail}")


def decode(raw: bytes) -> JSONObject:
    """The JSON object a protobuf body is. A body that is not Kubernetes' protobuf, is cut
    short, or sets a field this server does not read is a 400; a kind read from JSON only is a
    415."""
    if not raw.startswith(MAGIC):
        raise _invalid(f"it does not start with the magic prefix {MAGIC!r}")
    envelope = runtime_pb2.Unknown()
    try:
        envelope.ParseFromString(raw[len(MAGIC) :])
    except DecodeError as e:
        raise _invalid(f"the envelope (runtime.Unknown): {e}") from None
    api_version, kind = envelope.typeMeta.apiVersion, envelope.typeMeta.kind
    if not api_version or not kind:
        raise _invalid("the envelope (runtime.Unknown) names no apiVersion and kind")
    message = KINDS.get((api_version, kind))
    if message is None:
        raise _unreadable_kind(api_version, kind)
    obj = message()
    try:
        obj.ParseFromString(envelope.raw)
        out = _object(obj, "")
    except DecodeError as e:
        raise _invalid(f"the {kind}: {e}") from None
    except _Undecodable as e:
        raise _invalid(str(e)) from None
    # The type lives in the envelope, not in the object's message.
    return {"apiVersion": api_version, "kind": kind, **out}


def _unreadable_kind(api_version: str, kind: str) -> errors.APIError:
    if (api_version, kind) in _JSON_ONLY:
        return errors.APIError(
            grpc.StatusCode.INVALID_ARGUMENT,
            "UnsupportedMediaType",
            f'{kind} in version "{api_version}" is not read from {MEDIA_TYPE} by this server - '
            "accepted media types include: application/json, application/yaml",
        )
    # As Kubernetes' scheme answers a kind it does not know.
    return errors.bad_request(f'no kind "{kind}" is registered for version "{api_version}"')


def _object(message: Message, path: str) -> JSONObject:
    _refuse_unread(message, path)
    out: JSONObject = {}
    # proto3: ListFields leaves out the zero values of plain fields, as Go's JSON does (omitempty
    # or not, a zero non-pointer field decodes the same as an absent one).
    for field, value in message.ListFields():
        at = f"{path}.{field.name}" if path else field.name
        if field.name in _INLINE:
            out.update(_object(value, path))
        elif field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            out[field.name] = {k: _value(value_field, v, f"{at}[{k}]") for k, v in value.items()}
        elif field.is_repeated:
            out[field.name] = [_value(field, v, f"{at}[{i}]") for i, v in enumerate(value)]
        else:
            out[field.name] = _value(field, value, at)
    return out


def _value(field: FieldDescriptor, value: Any, path: str) -> JSONValue:
    """One value in its JSON form (Kubernetes' types that marshal as scalars included)."""
    if field.type == FieldDescriptor.TYPE_BYTES:
        return base64.b64encode(value).decode("ascii")
    if field.message_type is None:
        return value
    name = field.message_type.full_name
    if name == _TIME:
        return _time(value, path)
    if name == _INT_OR_STRING:
        return _int_or_string(value, path)
    if name == _FIELDS_V1:
        return _fields_v1(value, path)
    if name == _QUANTITY:
        _refuse_unread(value, path)
        return str(value.string)
    if name in _EXTRA_VALUES:
        _refuse_unread(value, path)
        return list(value.items)
    return _object(value, path)


def _time(value: Any, path: str) -> str | None:
    """A metav1.Time as RFC 3339 to the second (Kubernetes drops the nanoseconds too); an empty
    one is Go's zero time, null in JSON."""
    _refuse_unread(value, path)
    if not value.HasField("seconds"):
        return None
    try:
        when = _EPOCH + datetime.timedelta(seconds=value.seconds)
    except OverflowError:
        raise _Undecodable(f"{path}: {value.seconds} seconds is not a time") from None
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _fields_v1(value: Any, path: str) -> JSONValue:
    """A managed fields entry's set: its JSON text, as JSON."""
    _refuse_unread(value, path)
    try:
        return json_text.loads(value.Raw)
    except ValueError as e:
        raise _Undecodable(f"{path}: {e}") from None


def _int_or_string(value: Any, path: str) -> int | str:
    _refuse_unread(value, path)
    if value.type == 0:
        return int(value.intVal)
    if value.type == 1:
        return str(value.strVal)
    raise _Undecodable(f"{path}: {value.type} is not an IntOrString type (0 int, 1 string)")


def _refuse_unread(message: Message, path: str) -> None:
    """A field this server does not read is refused rather than dropped, unless it is zero: Go
    sends every non-pointer field, zero or not, and a zero one says nothing."""
    unread = unknown_fields.UnknownFieldSet(message)
    for i in range(len(unread)):
        field = unread[i]
        if field.data not in (0, b""):
            name = message.DESCRIPTOR.name
            raise _Undecodable(
                f"{path or 'the object'}: field {field.field_number} of {name} is not read "
                "from protobuf by this server (send the object as application/json)"
            )
