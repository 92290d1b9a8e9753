"""One admission webhook called as kube-apiserver's dispatchers call one (validating
dispatcher.go callHook, mutating callAttrMutatingHook): dry runs only to webhooks without side
effects, the AdmissionReview v1 posted within the webhook's timeout, the answer verified, a
denial as ToStatusErr's Status. Every failure to get an answer is a WebhookCallFailed with
Kubernetes' words, which the caller's failurePolicy decides on: Ignore goes on without the
webhook, Fail refuses the request with `internal_error(failure)`."""

from __future__ import annotations

from dataclasses import replace

from apiserver.webhook.admission_review import (
    AdmissionRequest,
    AdmissionResponse,
    check_dry_run,
    new_uid,
    review_request,
    to_status_error,
    verify_admission_response,
)
from apiserver.webhook.client import ClientConfigError, WebhookClient
from apiserver.webhook.errors import (
    CallError,
    InvalidResponse,
    WebhookCallFailed,
    bad_request,
    failed_to_call,
    invalid_response,
)
from apiserver.webhook.matching import Webhook

KNOWN_VERSIONS = ("v1", "v1beta1")


def _check_versions(webhook: Webhook) -> None:
    if not any(v in KNOWN_VERSIONS for v in webhook.admission_review_versions):
        raise WebhookCallFailed(
            webhook.name,
            "could not create admission objects: webhook does not accept known AdmissionReview "
            "versions (v1, v1beta1)",
            bad_request("error creating admission objects"),
        )
    if "v1" not in webhook.admission_review_versions:
        raise WebhookCallFailed(
            webhook.name,
            "could not create admission objects: podplane sends AdmissionReview v1 only",
            bad_request("error creating admission objects"),
        )


async def call_webhook(
    client: WebhookClient,
    webhook: Webhook,
    request: AdmissionRequest,
    mutating: bool,
    timeout: float | None = None,
) -> AdmissionResponse:
    """The webhook's allowing answer (its patch, warnings and audit annotations); raises
    WebhookRejection when it denies, StatusError when the request may not be sent to it (a dry
    run to a webhook with side effects), WebhookCallFailed when there is no usable answer.
    `timeout` (seconds) is the webhook's timeoutSeconds unless the request has less left."""
    check_dry_run(webhook.name, webhook.side_effects, request.dry_run)
    _check_versions(webhook)
    uid = new_uid()
    body = review_request(replace(request, uid=uid))
    seconds = webhook.timeout_seconds if timeout is None else timeout
    try:
        answer = await client.post(webhook.client_config, body, seconds)
        response = verify_admission_response(uid, mutating, answer)
    except ClientConfigError as e:
        reason = str(WebhookCallFailed(webhook.name, str(e), {})) if e.names_webhook else str(e)
        raise WebhookCallFailed(
            webhook.name,
            f"could not get REST client: {reason}",
            bad_request("error getting REST client"),
        ) from e
    except CallError as e:
        raise failed_to_call(webhook.name, e) from e
    except InvalidResponse as e:
        raise invalid_response(webhook.name, e) from e
    if not response.allowed:
        rejection = to_status_error(webhook.name, response.result)
        rejection.warnings = response.warnings
        rejection.audit_annotations = response.audit_annotations
        raise rejection
    return response
