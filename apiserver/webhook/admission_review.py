"""AdmissionReview v1 as kube-apiserver sends and reads it (k8s.io/apiserver/pkg/admission/plugin/
webhook/request/admissionreview.go): the request built from a typed record, the answer checked
as VerifyAdmissionResponse checks it, and a denial turned into the Status the client gets
(errors/statuserror.go ToStatusErr)."""

from __future__ import annotations

import base64
import binascii
import copy
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from apiserver.webhook.errors import (
    DecodeError,
    InvalidResponse,
    StatusError,
    WebhookCallFailed,
    WebhookRejection,
    bad_request,
)
from podplane.apimachinery.json_types import JSONObject, JSONValue
from podplane.apimachinery.structural.field import go_quote

API_VERSION = "admission.k8s.io/v1"
KIND = "AdmissionReview"
JSON_PATCH = "JSONPatch"


@dataclass(frozen=True)
class GroupVersionKind:
    group: str
    version: str
    kind: str

    def to_json(self) -> JSONObject:
        return {"group": self.group, "version": self.version, "kind": self.kind}


@dataclass(frozen=True)
class GroupVersionResource:
    group: str
    version: str
    resource: str

    def to_json(self) -> JSONObject:
        return {"group": self.group, "version": self.version, "resource": self.resource}


@dataclass(frozen=True)
class UserInfo:
    username: str = ""
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def to_json(self) -> JSONObject:
        """authentication/v1 UserInfo: every field omitted when empty."""
        out: JSONObject = {}
        if self.username:
            out["username"] = self.username
        if self.uid:
            out["uid"] = self.uid
        if self.groups:
            out["groups"] = list(self.groups)
        if self.extra:
            out["extra"] = {k: list(v) for k, v in self.extra.items()}
        return out


@dataclass(frozen=True)
class AdmissionRequest:
    """What one webhook is asked about. `kind`/`resource`/`sub_resource` are what the webhook
    matched (an equivalent resource under matchPolicy Equivalent); the `request_*` ones are what
    the client asked for. `options` is the Create/Update/DeleteOptions JSON."""

    uid: str
    kind: GroupVersionKind
    resource: GroupVersionResource
    operation: str
    user_info: UserInfo
    sub_resource: str = ""
    request_kind: GroupVersionKind | None = None
    request_resource: GroupVersionResource | None = None
    request_sub_resource: str | None = None  # None: sub_resource
    name: str = ""
    namespace: str = ""
    object: JSONObject | None = None
    old_object: JSONObject | None = None
    dry_run: bool = False
    options: JSONObject | None = None


def new_uid() -> str:
    """A request's uid (uuid.NewUUID in Kubernetes: a fresh one per call)."""
    return str(uuid.uuid4())


def review_request(req: AdmissionRequest) -> JSONObject:
    """The AdmissionReview v1 body, field for field as Go's JSON encoding writes it: empty
    subResource, name and namespace left out, object, oldObject and options null when absent."""
    request: JSONObject = {
        "uid": req.uid,
        "kind": req.kind.to_json(),
        "resource": req.resource.to_json(),
    }
    if req.sub_resource:
        request["subResource"] = req.sub_resource
    request["requestKind"] = (req.request_kind or req.kind).to_json()
    request["requestResource"] = (req.request_resource or req.resource).to_json()
    request_sub = req.sub_resource if req.request_sub_resource is None else req.request_sub_resource
    if request_sub:
        request["requestSubResource"] = request_sub
    if req.name:
        request["name"] = req.name
    if req.namespace:
        request["namespace"] = req.namespace
    request.update(
        operation=req.operation,
        userInfo=req.user_info.to_json(),
        object=req.object,
        oldObject=req.old_object,
        dryRun=req.dry_run,
        options=req.options,
    )
    return {"kind": KIND, "apiVersion": API_VERSION, "request": request}


@dataclass(frozen=True)
class AdmissionResponse:
    """VerifyAdmissionResponse's AdmissionResponse: `result` is the webhook's status, if any."""

    allowed: bool
    result: JSONObject | None = None
    patch: bytes = b""
    patch_type: str = ""
    warnings: tuple[str, ...] = ()
    audit_annotations: Mapping[str, str] = field(default_factory=dict)


def _type_error(path: str, value: JSONValue, go_type: str) -> DecodeError:
    kind = "number" if isinstance(value, int | float) and not isinstance(value, bool) else None
    kind = kind or {bool: "bool", str: "string", list: "array", dict: "object"}.get(
        type(value), "string"
    )
    return DecodeError(
        f"json: cannot unmarshal {kind} into Go struct field AdmissionResponse.{path} "
        f"of type {go_type}"
    )


def _typed(response: JSONObject, key: str, kind: type, go_type: str) -> JSONValue:
    value = response.get(key)
    if value is not None and not isinstance(value, kind):
        raise _type_error(f"response.{key}", value, go_type)
    return value


def _patch_bytes(value: JSONValue) -> bytes:
    if value is None:
        return b""
    if not isinstance(value, str):
        raise _type_error("response.patch", value, "[]uint8")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as e:
        bad = next((i for i, c in enumerate(value) if not (c.isalnum() or c in "+/=")), len(value))
        raise DecodeError(f"illegal base64 data at input byte {bad}") from e


def _gvk_string(review: JSONObject) -> str:
    """schema.GroupVersionKind's String() of the review's apiVersion and kind."""
    api_version = str(review.get("apiVersion") or "")
    group, _, version = api_version.rpartition("/")
    if api_version.count("/") > 1:
        group, version = "", ""
    return f"{group}/{version}, Kind={review.get('kind') or ''}"


def verify_admission_response(uid: str, mutating: bool, review: JSONObject) -> AdmissionResponse:
    """The answer's content; InvalidResponse with Kubernetes' text when it is not a valid
    answer to the request `uid` (DecodeError when a field has the wrong JSON type)."""
    response = review.get("response")
    if response is None:
        raise InvalidResponse("webhook response was absent")
    if not isinstance(response, dict):
        raise _type_error("response", response, "v1.AdmissionResponse")
    got_uid = _typed(response, "uid", str, "types.UID") or ""
    if got_uid != uid:
        raise InvalidResponse(f"expected response.uid={go_quote(uid)}, got {go_quote(got_uid)}")
    if review.get("apiVersion") != API_VERSION or review.get("kind") != KIND:
        raise InvalidResponse(
            f"expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, "
            f"got {_gvk_string(review)}"
        )
    allowed = bool(_typed(response, "allowed", bool, "bool"))
    result = _typed(response, "status", dict, "v1.Status")
    warnings = _typed(response, "warnings", list, "[]string") or []
    annotations = _typed(response, "auditAnnotations", dict, "map[string]string") or {}
    patch = _patch_bytes(response.get("patch"))
    patch_type = _typed(response, "patchType", str, "v1.PatchType")
    if mutating:
        if patch and patch_type is None:
            raise InvalidResponse("webhook returned response.patch but not response.patchType")
        if not patch and patch_type is not None:
            raise InvalidResponse("webhook returned response.patchType but not response.patch")
        if patch_type is not None and not patch_type:
            raise InvalidResponse(f"webhook returned invalid response.patchType of {go_quote('')}")
    else:
        if patch:
            raise InvalidResponse("validating webhook may not return response.patch")
        if patch_type is not None:
            raise InvalidResponse("validating webhook may not return response.patchType")
    return AdmissionResponse(
        allowed=allowed,
        result=result,
        patch=patch if mutating else b"",
        patch_type=(patch_type or "") if mutating else "",
        warnings=tuple(str(w) for w in warnings),
        audit_annotations={str(k): str(v) for k, v in annotations.items()},
    )


def to_status_error(webhook_name: str, result: JSONObject | None) -> WebhookRejection:
    """ToStatusErr: the webhook's status, its code at least 400, its status Failure, and its
    message `admission webhook "NAME" denied the request: MESSAGE` (or the reason, or
    `without explanation`)."""
    denied_by = f"admission webhook {go_quote(webhook_name)} denied the request"
    status: JSONObject = copy.deepcopy(result) if result is not None else {"status": "Failure"}
    code = status.get("code")
    if not isinstance(code, int) or code < 400:
        status["code"] = 400
    if status.get("status") in (None, "", "Success"):
        status["status"] = "Failure"
    if status.get("message"):
        status["message"] = f"{denied_by}: {status['message']}"
    elif status.get("reason"):
        status["message"] = f"{denied_by}: {status['reason']}"
    else:
        status["message"] = f"{denied_by} without explanation"
    return WebhookRejection({"kind": "Status", "apiVersion": "v1", "metadata": {}, **status})


def check_dry_run(webhook_name: str, side_effects: str | None, dry_run: bool) -> None:
    """A dry run is sent only to webhooks without side effects (or none on dry run)."""
    if not dry_run:
        return
    if side_effects is None:
        raise WebhookCallFailed(
            webhook_name, "Webhook SideEffects is nil", bad_request("Webhook SideEffects is nil")
        )
    if side_effects not in ("None", "NoneOnDryRun"):
        raise StatusError(
            bad_request(f"admission webhook {go_quote(webhook_name)} does not support dry run")
        )
