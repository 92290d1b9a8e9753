"""MutatingAdmissionWebhook (k8s.io/apiserver/pkg/admission/plugin/webhook/mutating): in the
mutating phase, last of the mutating plugins, every matching mutating webhook is called in turn,
in the order of their configurations' names; each allowing answer's JSON patch is applied to the
object (encoded in Kubernetes' JSON by podplane's codec, patched, decoded back and defaulted as
the dispatcher defaults it), so the next webhook sees it. A webhook with reinvocationPolicy
IfNeeded is called once more when a webhook after it changed the object (the reinvocation
context's rules: only webhooks called in the first round, only when a later change happened).
The strategy then validates the object as it validates any other."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from google.protobuf.message import Message

from apiserver.admission.attributes import CONNECT, CREATE, DELETE, UPDATE, Attributes
from apiserver.admission.interfaces import Handler
from apiserver.admission.webhooks import metrics
from apiserver.admission.webhooks.generic import Called, WebhookDispatcher, is_exempt
from apiserver.admission.webhooks.request import (
    admission_request,
    decode_object,
    encode_object,
)
from apiserver.admission.webhooks.source import ConfiguredWebhook, WebhookSource
from apiserver.webhook.admission_review import AdmissionResponse
from apiserver.webhook.client import WebhookClient
from apiserver.webhook.matching import NamespaceLabels
from apiserver.webhook.mutation import apply_patch
from podplane.apimachinery.resources import Resource

NAME = "MutatingAdmissionWebhook"

Defaulter = Callable[[Resource, Message], None]
"""Applies the kind's defaults to an object (the strategy's, as o.GetObjectDefaulter())."""


@dataclass
class ReinvokeContext:
    """webhookReinvokeContext: the IfNeeded webhooks called since the last change, and those to
    call again in the second round."""

    previously_invoked: set[str] = field(default_factory=set)
    reinvoke: set[str] = field(default_factory=set)
    should_reinvoke: bool = False

    def require_reinvoking_previously_invoked(self) -> None:
        if self.previously_invoked:
            self.reinvoke |= self.previously_invoked
            self.previously_invoked = set()


class MutatingWebhooks(Handler):
    def __init__(
        self,
        source: WebhookSource,
        client: WebhookClient,
        namespace_labels: NamespaceLabels,
        default: Defaulter,
    ) -> None:
        super().__init__(CONNECT, CREATE, DELETE, UPDATE)
        self.dispatcher = WebhookDispatcher(source, client, namespace_labels, metrics.ADMIT)
        self.default = default

    async def admit(self, attrs: Attributes) -> None:
        if is_exempt(attrs):
            return
        hooks = self.dispatcher.source.webhooks()
        if not hooks:
            return
        context = ReinvokeContext()
        await self._round(attrs, hooks, context, 0)
        if context.should_reinvoke:
            await self._round(attrs, hooks, context, 1)

    async def _round(
        self,
        attrs: Attributes,
        hooks: Sequence[ConfiguredWebhook],
        context: ReinvokeContext,
        round_: int,
    ) -> None:
        request = admission_request(attrs)
        for index, hook in enumerate(hooks):
            invocation = await self.dispatcher.matching(hook, request)
            if invocation is None:
                continue
            # In the second round only webhooks of the first that asked for it are called.
            if round_ == 1 and hook.uid not in context.reinvoke:
                continue
            called = Called(hook, index, invocation)
            changed = await self.dispatcher.call(
                called, request, attrs, functools.partial(self._patched, attrs, hook), round_
            )
            if changed:
                context.require_reinvoking_previously_invoked()
                context.should_reinvoke = True
                assert attrs.object is not None
                request = replace(request, object=encode_object(attrs.resource, attrs.object))
            if hook.webhook.reinvocation_policy == "IfNeeded":
                context.previously_invoked.add(hook.uid)

    def _patched(
        self, attrs: Attributes, hook: ConfiguredWebhook, response: AdmissionResponse
    ) -> bool:
        """Applies the answer's patch to the object; whether it changed it."""
        current = attrs.object
        document = encode_object(attrs.resource, current) if current is not None else None
        patched = apply_patch(hook.webhook.name, document, response)
        if patched is None or patched is document or current is None:
            return False
        obj = decode_object(attrs.resource, patched)
        self.default(attrs.resource, obj)
        if obj == current:
            return False
        current.CopyFrom(obj)
        return True
