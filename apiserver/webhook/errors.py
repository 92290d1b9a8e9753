"""The ways a webhook call fails, each an exception whose str() is the text Kubernetes gives.

A transport failure (`CallError`) reads as Go's *url.Error does (`Post "https://svc.ns.svc:443/
path?timeout=10s": context deadline exceeded`); the dispatchers wrap it, as
k8s.io/apiserver/pkg/util/webhook.ErrCallingWebhook does, into `failed calling webhook "NAME":
failed to call webhook: <that>`, and a response they cannot use into `failed calling webhook
"NAME": received invalid webhook response: <why>`. A webhook that answers "no" is a
`WebhookRejection` carrying the metav1.Status Kubernetes returns (errors/statuserror.go)."""

from __future__ import annotations

from collections.abc import Mapping

from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.structural.field import go_quote


class CallError(Exception):
    """The call did not produce a usable HTTP answer; str() is Go's error text. `status` is the
    metav1.Status Kubernetes keeps beside it (for metrics and the failure's code)."""

    def __init__(self, text: str, status: JSONObject | None = None) -> None:
        super().__init__(text)
        self.status = status if status is not None else bad_request("error calling webhook")


class DeadlineExceeded(CallError):
    """The call outlived its timeout (context deadline exceeded)."""


class TLSError(CallError):
    """The server's certificate was not trusted, or the handshake failed."""


class DialError(CallError):
    """No connection: refused, unreachable, or the name did not resolve."""


class ResolveError(CallError):
    """The Service has no usable endpoint (`no endpoints available for service "name"`)."""


class ServerError(CallError):
    """The webhook answered with an HTTP error; `status` is the error's Status."""


class DecodeError(CallError):
    """The answer's body could not be decoded into an AdmissionReview (client-go's decoder)."""


class InvalidResponse(Exception):
    """The AdmissionReview decoded but is not a valid answer (VerifyAdmissionResponse); str() is
    its text, which dispatchers give as `received invalid webhook response: <text>`."""


class WebhookCallFailed(Exception):
    """ErrCallingWebhook: `failed calling webhook "NAME": REASON`. The webhook's failurePolicy
    decides: Ignore goes on without it, Fail refuses the request with `internal_error(self)`."""

    def __init__(self, webhook_name: str, reason: str, status: JSONObject) -> None:
        super().__init__(f"failed calling webhook {go_quote(webhook_name)}: {reason}")
        self.webhook_name = webhook_name
        self.reason = reason
        self.status = status


class StatusError(Exception):
    """apierrors.StatusError: the request is refused with `status` (a metav1.Status, its code
    the HTTP code), whatever the webhook's failurePolicy; str() is its message."""

    def __init__(self, status: JSONObject) -> None:
        super().__init__(str(status.get("message", "")))
        self.status = status


class WebhookRejection(StatusError):
    """ErrWebhookRejection: the webhook denied the request; the warnings and audit annotations
    of its answer reach the client and the request as an allowing answer's do."""

    warnings: tuple[str, ...] = ()
    audit_annotations: Mapping[str, str] = {}


def failed_to_call(webhook_name: str, err: CallError) -> WebhookCallFailed:
    return WebhookCallFailed(webhook_name, f"failed to call webhook: {err}", err.status)


def invalid_response(webhook_name: str, err: InvalidResponse) -> WebhookCallFailed:
    return WebhookCallFailed(
        webhook_name,
        f"received invalid webhook response: {err}",
        service_unavailable("error validating webhook response"),
    )


# ---------------------------------------------------------------- metav1.Status shapes


def _status(code: int, reason: str, message: str) -> JSONObject:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def bad_request(message: str) -> JSONObject:
    """apierrors.NewBadRequest."""
    return _status(400, "BadRequest", message)


def service_unavailable(message: str) -> JSONObject:
    """apierrors.NewServiceUnavailable."""
    return _status(503, "ServiceUnavailable", message)


def internal_error(err: Exception | str) -> JSONObject:
    """apierrors.NewInternalError: how a webhook that failed closed refuses the request."""
    status = _status(500, "InternalError", f"Internal error occurred: {err}")
    status["details"] = {"causes": [{"message": str(err)}]}
    return status


def forbidden(group: str, resource: str, name: str, err: Exception | str) -> JSONObject:
    """apierrors.NewForbidden for a group and resource (schema.GroupResource's String())."""
    qualified = f"{resource}.{group}" if group else resource
    if not qualified:
        message = f"forbidden: {err}"
    elif not name:
        message = f"{qualified} is forbidden: {err}"
    else:
        message = f"{qualified} {go_quote(name)} is forbidden: {err}"
    status = _status(403, "Forbidden", message)
    status["details"] = {"name": name, "group": group, "kind": resource}
    return status
