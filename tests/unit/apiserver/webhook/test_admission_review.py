"""AdmissionReview v1 as kube-apiserver writes and reads it: the request's JSON field for field,
an answer checked as VerifyAdmissionResponse checks it (with its texts), a denial as the Status
the client gets (ToStatusErr), a mutating webhook's JSON patch applied, and dry runs."""

from __future__ import annotations

import base64
import json

import pytest

from apiserver.webhook.admission_review import (
    AdmissionRequest,
    AdmissionResponse,
    GroupVersionKind,
    GroupVersionResource,
    UserInfo,
    check_dry_run,
    review_request,
    to_status_error,
    verify_admission_response,
)
from apiserver.webhook.errors import (
    DecodeError,
    InvalidResponse,
    StatusError,
    WebhookCallFailed,
)
from apiserver.webhook.mutation import apply_patch
from podplane.apimachinery.json_types import JSONObject

UID = "0b8a4a7e-0000-4000-8000-00000000000a"
POD: JSONObject = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "namespace": "default"},
}
PODS = GroupVersionResource("", "v1", "pods")
POD_KIND = GroupVersionKind("", "v1", "Pod")
ALICE = UserInfo("alice", "u-1", ("devs", "system:authenticated"), {"scopes": ("a", "b")})


def test_a_create_is_sent_as_kubernetes_sends_it() -> None:
    req = AdmissionRequest(
        uid=UID,
        kind=POD_KIND,
        resource=PODS,
        operation="CREATE",
        user_info=ALICE,
        name="web",
        namespace="default",
        object=POD,
        options={"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
    )
    assert review_request(req) == {
        "kind": "AdmissionReview",
        "apiVersion": "admission.k8s.io/v1",
        "request": {
            "uid": UID,
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
            "requestResource": {"group": "", "version": "v1", "resource": "pods"},
            "name": "web",
            "namespace": "default",
            "operation": "CREATE",
            "userInfo": {
                "username": "alice",
                "uid": "u-1",
                "groups": ["devs", "system:authenticated"],
                "extra": {"scopes": ["a", "b"]},
            },
            "object": POD,
            "oldObject": None,
            "dryRun": False,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        },
    }


def test_an_equivalent_resource_keeps_what_the_client_asked_for() -> None:
    req = AdmissionRequest(
        uid=UID,
        kind=GroupVersionKind("apps", "v1beta1", "Deployment"),
        resource=GroupVersionResource("apps", "v1beta1", "deployments"),
        sub_resource="scale",
        request_kind=GroupVersionKind("autoscaling", "v1", "Scale"),
        request_resource=GroupVersionResource("apps", "v1", "deployments"),
        operation="UPDATE",
        user_info=UserInfo(),
        dry_run=True,
    )
    request = review_request(req)["request"]
    assert request["subResource"] == request["requestSubResource"] == "scale"
    assert request["requestKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert request["requestResource"]["version"] == "v1"
    assert (request["userInfo"], request["dryRun"]) == ({}, True)
    assert "name" not in request and "namespace" not in request


def review(response: JSONObject | None, **top: str) -> JSONObject:
    out: JSONObject = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", **top}
    if response is not None:
        out["response"] = response
    return out


GOT = "expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got "
DENIED = 'admission webhook "deny.example.com" denied the request'
INTERNAL = "Internal error occurred: "
PATCH = base64.b64encode(b'[{"op":"add","path":"/metadata/labels","value":{"a":"b"}}]').decode()


@pytest.mark.parametrize(
    ("answer", "mutating", "message"),
    [
        (review(None), False, "webhook response was absent"),
        (
            review({"uid": "other", "allowed": True}),
            False,
            f'expected response.uid="{UID}", got "other"',
        ),
        (review({"allowed": True}), False, f'expected response.uid="{UID}", got ""'),
        ({"response": {"uid": UID, "allowed": True}}, False, GOT + "/, Kind="),
        (
            review({"uid": UID}, apiVersion="admission.k8s.io/v1beta1"),
            False,
            GOT + "admission.k8s.io/v1beta1, Kind=AdmissionReview",
        ),
        (review({"uid": UID}, apiVersion="v1", kind="Pod"), False, GOT + "/v1, Kind=Pod"),
        (
            review({"uid": UID, "allowed": True, "patch": PATCH}),
            True,
            "webhook returned response.patch but not response.patchType",
        ),
        (
            review({"uid": UID, "allowed": True, "patchType": "JSONPatch"}),
            True,
            "webhook returned response.patchType but not response.patch",
        ),
        (
            review({"uid": UID, "allowed": True, "patch": PATCH, "patchType": ""}),
            True,
            'webhook returned invalid response.patchType of ""',
        ),
        (
            review({"uid": UID, "allowed": True, "patch": PATCH, "patchType": "JSONPatch"}),
            False,
            "validating webhook may not return response.patch",
        ),
        (
            review({"uid": UID, "allowed": True, "patchType": "JSONPatch"}),
            False,
            "validating webhook may not return response.patchType",
        ),
    ],
)
def test_an_invalid_answer_is_refused_with_kubernetes_text(
    answer: JSONObject, mutating: bool, message: str
) -> None:
    with pytest.raises(InvalidResponse) as caught:
        verify_admission_response(UID, mutating, answer)
    assert str(caught.value) == message


def test_a_field_of_the_wrong_type_fails_as_the_decoder_does() -> None:
    with pytest.raises(DecodeError) as caught:
        verify_admission_response(UID, False, review({"uid": UID, "allowed": "yes"}))
    assert str(caught.value) == (
        "json: cannot unmarshal string into Go struct field AdmissionResponse.response.allowed "
        "of type bool"
    )


def test_a_valid_answer_gives_its_content() -> None:
    answer = review(
        {
            "uid": UID,
            "allowed": True,
            "patch": PATCH,
            "patchType": "JSONPatch",
            "warnings": ["deprecated field"],
            "auditAnnotations": {"checked": "yes"},
        }
    )
    assert verify_admission_response(UID, True, answer) == AdmissionResponse(
        allowed=True,
        patch=base64.b64decode(PATCH),
        patch_type="JSONPatch",
        warnings=("deprecated field",),
        audit_annotations={"checked": "yes"},
    )


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (None, 400, DENIED + " without explanation"),
        ({"message": "no latest tags"}, 400, DENIED + ": no latest tags"),
        ({"code": 403, "reason": "Forbidden"}, 403, DENIED + ": Forbidden"),
        ({"code": 200, "status": "Success", "message": "x"}, 400, DENIED + ": x"),
        ({"code": 422, "message": "bad", "reason": "Invalid"}, 422, DENIED + ": bad"),
    ],
)
def test_a_denial_is_the_status_kubernetes_returns(
    status: JSONObject | None, code: int, message: str
) -> None:
    rejection = to_status_error("deny.example.com", status)
    assert (rejection.status["code"], str(rejection)) == (code, message)
    assert rejection.status["status"] == "Failure"


def patched(obj: JSONObject | None, operations: object, patch_type: str = "JSONPatch") -> object:
    response = AdmissionResponse(True, patch=json.dumps(operations).encode(), patch_type=patch_type)
    return apply_patch("mutate.example.com", obj, response)


def test_a_json_patch_is_applied_to_the_object() -> None:
    ops = [{"op": "add", "path": "/metadata/labels", "value": {"injected": "true"}}]
    labelled = {**POD, "metadata": {**POD["metadata"], "labels": {"injected": "true"}}}
    assert patched(POD, ops) == labelled
    assert POD["metadata"] == {"name": "web", "namespace": "default"}  # not modified
    assert patched(POD, []) is POD
    assert apply_patch("m", POD, AdmissionResponse(True)) is POD


@pytest.mark.parametrize(
    ("obj", "operations", "patch_type", "message"),
    [
        (
            None,
            [{"op": "remove", "path": "/a"}],
            "JSONPatch",
            INTERNAL + 'admission webhook "mutate.example.com" attempted to modify the object, '
            "which is not supported for this operation",
        ),
        (
            POD,
            [{"op": "remove", "path": "/spec"}],
            "JSONPatch",
            INTERNAL + "error in remove for path: '/spec': "
            "Unable to remove nonexistent key: spec: missing value",
        ),
        (
            POD,
            {"op": "add"},
            "JSONPatch",
            INTERNAL + "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
        ),
    ],
)
def test_a_patch_that_cannot_be_applied_fails_the_request(
    obj: JSONObject | None, operations: object, patch_type: str, message: str
) -> None:
    with pytest.raises(StatusError) as caught:
        patched(obj, operations, patch_type)
    assert (caught.value.status["code"], str(caught.value)) == (500, message)


def test_an_unsupported_patch_type_is_a_failed_call() -> None:
    with pytest.raises(WebhookCallFailed) as caught:
        patched(POD, [{"op": "remove", "path": "/metadata"}], "MergePatch")
    assert str(caught.value) == (
        'failed calling webhook "mutate.example.com": unsupported patch type "MergePatch"'
    )


def test_a_dry_run_goes_only_to_webhooks_without_side_effects() -> None:
    check_dry_run("a", "Some", dry_run=False)
    check_dry_run("a", "NoneOnDryRun", dry_run=True)
    with pytest.raises(StatusError) as refused:
        check_dry_run("a.example.com", "Unknown", dry_run=True)
    assert (refused.value.status["code"], str(refused.value)) == (
        400,
        'admission webhook "a.example.com" does not support dry run',
    )
    with pytest.raises(WebhookCallFailed) as unset:
        check_dry_run("a.example.com", None, dry_run=True)
    assert str(unset.value) == 'failed calling webhook "a.example.com": Webhook SideEffects is nil'


def test_a_patch_that_is_not_json_fails_with_gos_text() -> None:
    response = AdmissionResponse(True, patch=b'[{"op": "add",', patch_type="JSONPatch")
    with pytest.raises(StatusError) as caught:
        apply_patch("mutate.example.com", POD, response)
    assert str(caught.value) == INTERNAL + "unexpected end of JSON input"
