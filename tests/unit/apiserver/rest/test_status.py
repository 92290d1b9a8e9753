"""Errors as the REST door answers them: each metav1.StatusReason with Kubernetes' HTTP code, and
the Status body kubectl and clients read (reason, message, details with the object and the
causes), whatever the reason the domain code raised."""

from __future__ import annotations

import grpc
import pytest

from apiserver import errors
from apiserver.endpoints.rest.responses import status_response
from apiserver.endpoints.rest.status import failure, http_code, success
from apiserver.validation.fields import invalid, invalid_error, required
from podplane.apimachinery import resources

# Every metav1.StatusReason and its code (k8s.io/apimachinery/pkg/api/errors).
REASONS = [
    ("BadRequest", 400),
    ("Unauthorized", 401),
    ("Forbidden", 403),
    ("NotFound", 404),
    ("MethodNotAllowed", 405),
    ("NotAcceptable", 406),
    ("AlreadyExists", 409),
    ("Conflict", 409),
    ("Gone", 410),
    ("Expired", 410),
    ("RequestEntityTooLarge", 413),
    ("UnsupportedMediaType", 415),
    ("Invalid", 422),
    ("TooManyRequests", 429),
    ("InternalError", 500),
    ("ServerTimeout", 500),
    ("StorageReadError", 500),
    ("ServiceUnavailable", 503),
    ("Timeout", 504),
]


@pytest.mark.parametrize("reason,code", REASONS)
def test_every_reason_has_kubernetes_code(reason: str, code: int) -> None:
    # Whatever gRPC code travels with it: the reason decides.
    err = errors.APIError(grpc.StatusCode.UNKNOWN, reason, "m")
    assert http_code(err) == code
    status_code, body = failure(err)
    assert status_code == code
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "m",
        "reason": reason,
        "code": code,
    }


@pytest.mark.parametrize(
    "grpc_code,code",
    [
        (grpc.StatusCode.INVALID_ARGUMENT, 400),
        (grpc.StatusCode.UNAUTHENTICATED, 401),
        (grpc.StatusCode.PERMISSION_DENIED, 403),
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.ALREADY_EXISTS, 409),
        (grpc.StatusCode.ABORTED, 409),
        (grpc.StatusCode.OUT_OF_RANGE, 410),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
        (grpc.StatusCode.UNAVAILABLE, 503),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
    ],
)
def test_a_reason_rest_does_not_know_is_answered_by_its_grpc_code(
    grpc_code: grpc.StatusCode, code: int
) -> None:
    status_code, body = failure(errors.APIError(grpc_code, "SomethingNew", "m"))
    assert (status_code, body["reason"], body["code"]) == (code, "SomethingNew", code)


def test_an_unknown_failure_is_an_internal_error() -> None:
    status_code, body = failure(errors.APIError(grpc.StatusCode.INTERNAL, "Oops", "broke"))
    assert (status_code, body["reason"], body["message"]) == (500, "InternalError", "broke")


def test_the_domain_errors_map_as_in_kubernetes() -> None:
    pod = resources.POD
    cases = [
        (
            errors.not_found(pod, "web"),
            404,
            "NotFound",
            'pods "web" not found',
            {"name": "web", "kind": "pods"},
        ),
        (
            errors.already_exists(resources.DEPLOYMENT, "web"),
            409,
            "AlreadyExists",
            'deployments.apps "web" already exists',
            {"name": "web", "group": "apps", "kind": "deployments"},
        ),
        (
            errors.conflict(pod, "web"),
            409,
            "Conflict",
            'Operation cannot be fulfilled on pods "web": the object has been modified; please '
            "apply your changes to the latest version and try again",
            {"name": "web", "kind": "pods"},
        ),
        (errors.too_old(5, 9), 410, "Expired", "too old resource version: 5 (9)", None),
        (
            errors.timeout("Too large resource version: 9, current: 5"),
            504,
            "Timeout",
            "Too large resource version: 9, current: 5",
            None,
        ),
        (
            errors.bad_request("limit: Invalid value"),
            400,
            "BadRequest",
            "limit: Invalid value",
            None,
        ),
        (
            errors.request_entity_too_large(3),
            413,
            "RequestEntityTooLarge",
            "Request entity too large: limit is 3",
            None,
        ),
        (
            errors.unavailable("etcd is unreachable"),
            503,
            "ServiceUnavailable",
            "etcd is unreachable",
            None,
        ),
    ]
    for err, code, reason, message, details in cases:
        status_code, body = failure(err)
        assert (status_code, body["reason"], body["message"], body.get("details")) == (
            code,
            reason,
            message,
            details,
        )


def test_invalid_carries_the_kind_and_a_cause_per_field() -> None:
    err = invalid_error(
        "Deployment",
        "web",
        [
            required("spec.template.spec.containers[0].image"),
            invalid("spec.replicas", -1, "must be greater than or equal to 0"),
        ],
        "apps",
    )
    code, body = failure(err)
    assert code == 422 and body["reason"] == "Invalid"
    assert body["message"] == (
        'Deployment.apps "web" is invalid: [spec.template.spec.containers[0].image: Required '
        "value, spec.replicas: Invalid value: -1: must be greater than or equal to 0]"
    )
    # kubectl prints `The Deployment "web" is invalid:` from these, a line per cause.
    assert body["details"] == {
        "name": "web",
        "group": "apps",
        "kind": "Deployment",
        "causes": [
            {
                "reason": "FieldValueRequired",
                "message": "Required value",
                "field": "spec.template.spec.containers[0].image",
            },
            {
                "reason": "FieldValueInvalid",
                "message": "Invalid value: -1: must be greater than or equal to 0",
                "field": "spec.replicas",
            },
        ],
    }


def test_too_many_requests_says_when_to_retry() -> None:
    err = errors.APIError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "TooManyRequests",
        "too many requests, please try again later",
        errors.Details(retry_after_seconds=1),
    )
    response = status_response(err)
    assert response.status == 429 and response.headers["Retry-After"] == "1"
    assert response.content_type == "application/json"
    _, body = failure(err)
    assert body["details"] == {"retryAfterSeconds": 1}


def test_success_of_a_delete() -> None:
    assert success("web", "apps", "deployments", "uid-1") == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": "web", "group": "apps", "kind": "deployments", "uid": "uid-1"},
    }
    assert success() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
