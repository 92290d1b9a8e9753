"""What the two webhook plugins share (k8s.io/apiserver/pkg/admission/plugin/webhook/generic and
the dispatchers' bookkeeping): which requests they skip (writes of the webhook configurations and
admission policies themselves), which webhooks a request goes to (apiserver.webhook.matching's
should_call), and one call with Kubernetes' consequences: failurePolicy Ignore goes on without a
webhook that could not be called (counted as failing open), Fail refuses the request with
`Internal error occurred: failed calling webhook "NAME": ...`, a denial is the webhook's Status;
its warnings reach the client (apiserver/admission/warnings.py), its audit annotations the
request; every call is counted under Kubernetes' metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from apiserver.admission import warnings as admission_warnings
from apiserver.admission.attributes import Attributes
from apiserver.admission.webhooks import metrics
from apiserver.admission.webhooks.request import status_error
from apiserver.admission.webhooks.source import ConfiguredWebhook, WebhookSource
from apiserver.webhook.admission_review import AdmissionRequest, AdmissionResponse
from apiserver.webhook.call import call_webhook
from apiserver.webhook.client import WebhookClient
from apiserver.webhook.errors import (
    StatusError,
    WebhookCallFailed,
    WebhookRejection,
    internal_error,
)
from apiserver.webhook.matching import Invocation, NamespaceLabels, should_call

log = logging.getLogger(__name__)

R = TypeVar("R")

ADMISSION_REGISTRATION = "admissionregistration.k8s.io"
_EXEMPT_KINDS = frozenset(
    {
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    }
)


def is_exempt(attrs: Attributes) -> bool:
    """rules.IsExemptAdmissionConfigurationResource: webhooks never see the objects that
    configure admission, so a broken webhook cannot lock its own configuration."""
    r = attrs.resource
    return r.group == ADMISSION_REGISTRATION and r.kind in _EXEMPT_KINDS


@dataclass(frozen=True)
class Called:
    """A webhook a request is sent to: its configuration, its place in the dispatch (for audit
    annotations' keys) and what it matched."""

    hook: ConfiguredWebhook
    index: int
    invocation: Invocation


def invocation_request(request: AdmissionRequest, invocation: Invocation) -> AdmissionRequest:
    """The request as the webhook matched it (an equivalent resource under matchPolicy
    Equivalent), keeping what the client asked for."""
    return replace(
        request,
        kind=invocation.kind,
        resource=invocation.resource,
        sub_resource=invocation.sub_resource,
        request_kind=request.kind,
        request_resource=request.resource,
        request_sub_resource=request.sub_resource,
    )


class WebhookDispatcher:
    """One kind of webhook (mutating: `step` admit; validating: `step` validating), their
    configurations from `source`, called through `client`."""

    def __init__(
        self,
        source: WebhookSource,
        client: WebhookClient,
        namespace_labels: NamespaceLabels,
        step: str,
    ) -> None:
        self.source = source
        self.client = client
        self.namespace_labels = namespace_labels
        self.step = step
        self.mutating = step == metrics.ADMIT

    async def matching(
        self, hook: ConfiguredWebhook, request: AdmissionRequest
    ) -> Invocation | None:
        """should_call, its refusals (no such namespace, a failed match condition under Fail)
        as the request's."""
        try:
            return await should_call(hook.webhook, request, self.namespace_labels)
        except StatusError as e:
            raise status_error(e.status) from None

    async def call(
        self,
        called: Called,
        request: AdmissionRequest,
        attrs: Attributes,
        then: Callable[[AdmissionResponse], R],
        round_: int = 0,
    ) -> R | None:
        """Calls the webhook and gives its allowing answer to `then` (a mutating webhook's
        patch applied); None when it failed open; raises the request's refusal."""
        webhook = called.hook.webhook
        operation = attrs.operation
        started = time.monotonic()
        try:
            response = await call_webhook(
                self.client, webhook, invocation_request(request, called.invocation), self.mutating
            )
            self._note(webhook.name, response.warnings, response.audit_annotations, attrs)
            result = then(response)
        except WebhookCallFailed as e:
            code = _code(e.status)
            if webhook.failure_policy == "Ignore":
                metrics.observe_webhook(
                    webhook.name, self.step, operation, _since(started), False, code
                )
                log.warning("Failed calling webhook, failing open %s: %s", webhook.name, e)
                metrics.observe_fail_open(webhook.name, self.step)
                attrs.add_annotation(self._failed_open_key(called.index, round_), webhook.name)
                return None
            metrics.observe_rejection(
                webhook.name, self.step, operation, metrics.CALLING_WEBHOOK_ERROR, code
            )
            metrics.observe_webhook(webhook.name, self.step, operation, _since(started), True, code)
            log.warning("Failed calling webhook, failing closed %s: %s", webhook.name, e)
            raise status_error(internal_error(e)) from None
        except WebhookRejection as e:
            self._note(webhook.name, e.warnings, e.audit_annotations, attrs)
            code = _code(e.status)
            metrics.observe_rejection(webhook.name, self.step, operation, metrics.NO_ERROR, code)
            metrics.observe_webhook(webhook.name, self.step, operation, _since(started), True, code)
            raise status_error(e.status) from None
        except StatusError as e:
            metrics.observe_rejection(
                webhook.name, self.step, operation, metrics.APISERVER_INTERNAL_ERROR, 0
            )
            metrics.observe_webhook(webhook.name, self.step, operation, _since(started), True, 0)
            raise status_error(e.status) from None
        metrics.observe_webhook(webhook.name, self.step, operation, _since(started), False, 200)
        return result

    def _failed_open_key(self, index: int, round_: int) -> str:
        prefix = "mutation" if self.mutating else "validating"
        return f"failed-open.{prefix}.webhook.admission.k8s.io/round_{round_}_index_{index}"

    @staticmethod
    def _note(
        name: str, warnings: Sequence[str], annotations: Mapping[str, str], attrs: Attributes
    ) -> None:
        for key, value in annotations.items():
            attrs.add_annotation(f"{name}/{key}", value)
        for text in warnings:
            admission_warnings.add_warning(text)


def _code(status: object) -> int:
    code = status.get("code") if isinstance(status, dict) else None
    return code if isinstance(code, int) else 0


def _since(started: float) -> float:
    return time.monotonic() - started
