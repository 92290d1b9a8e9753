"""ValidatingAdmissionWebhook (k8s.io/apiserver/pkg/admission/plugin/webhook/validating): in
the validating phase, after ValidatingAdmissionPolicy's place, every matching validating webhook
is called at once; when all have answered, the first refusal that arrived is the request's
(dispatcher.go waits for every call, then returns the first error of its channel)."""

from __future__ import annotations

import asyncio

from apiserver import errors
from apiserver.admission.attributes import CONNECT, CREATE, DELETE, UPDATE, Attributes
from apiserver.admission.interfaces import Handler
from apiserver.admission.webhooks import metrics
from apiserver.admission.webhooks.generic import Called, WebhookDispatcher, is_exempt
from apiserver.admission.webhooks.request import admission_request
from apiserver.admission.webhooks.source import WebhookSource
from apiserver.webhook.admission_review import AdmissionRequest
from apiserver.webhook.client import WebhookClient
from apiserver.webhook.matching import NamespaceLabels

NAME = "ValidatingAdmissionWebhook"


class ValidatingWebhooks(Handler):
    def __init__(
        self, source: WebhookSource, client: WebhookClient, namespace_labels: NamespaceLabels
    ) -> None:
        super().__init__(CONNECT, CREATE, DELETE, UPDATE)
        self.dispatcher = WebhookDispatcher(source, client, namespace_labels, metrics.VALIDATING)

    async def validate(self, attrs: Attributes) -> None:
        if is_exempt(attrs):
            return
        hooks = self.dispatcher.source.webhooks()
        if not hooks:
            return
        request = admission_request(attrs)
        relevant: list[Called] = []
        for hook in hooks:
            invocation = await self.dispatcher.matching(hook, request)
            if invocation is not None:
                relevant.append(Called(hook, len(relevant), invocation))
        if not relevant:
            return
        calls = [self._call(called, request, attrs) for called in relevant]
        refusals: list[errors.APIError] = []
        for finished in asyncio.as_completed(calls):
            refusal = await finished
            if refusal is not None:
                refusals.append(refusal)
        if refusals:
            raise refusals[0]

    async def _call(
        self, called: Called, request: AdmissionRequest, attrs: Attributes
    ) -> errors.APIError | None:
        try:
            await self.dispatcher.call(called, request, attrs, lambda response: None)
        except errors.APIError as e:
            return e
        return None
