"""Whether a webhook is called for a request, as kube-apiserver's generic webhook plugin decides
(k8s.io/apiserver/pkg/admission/plugin/webhook/generic/webhook.go ShouldCallHook): the
namespaceSelector over the labels of the request's namespace (a Namespace by its own labels; a
cluster-scoped object always matches), the objectSelector over the new or the old object's
labels, the rules (or, under matchPolicy Equivalent, the rules against an equivalent resource),
then the matchConditions. Label selectors are podplane's (podplane.apimachinery.selectors)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from google.protobuf import json_format

from apiserver.webhook.admission_review import (
    AdmissionRequest,
    GroupVersionKind,
    GroupVersionResource,
    review_request,
)
from apiserver.webhook.conditions import MatchCondition, conditions_from_json, evaluate
from apiserver.webhook.config import ClientConfig, client_config_from_json
from apiserver.webhook.errors import StatusError, forbidden, internal_error
from apiserver.webhook.rules import RequestedResource, Rule, rule_from_json, rule_matches
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.selectors import (
    LabelSelector,
    SelectorError,
    from_label_selector_message,
)
from podplane.apimachinery.structural.field import go_quote

NamespaceLabels = Callable[[str], Awaitable[Mapping[str, str] | None]]
"""The labels of a namespace by name; None when there is no such namespace (the apiserver's
admission lookups read the watch cache, then storage, as Kubernetes reads its lister, then the
API). Asked only when a webhook's namespaceSelector is not empty."""


@dataclass(frozen=True)
class Webhook:
    """A ValidatingWebhook or MutatingWebhook with the API's defaults applied."""

    name: str
    client_config: ClientConfig
    rules: tuple[Rule, ...] = ()
    failure_policy: str = "Fail"
    match_policy: str = "Equivalent"
    namespace_selector: JSONObject = field(default_factory=dict)
    object_selector: JSONObject = field(default_factory=dict)
    side_effects: str | None = None
    timeout_seconds: int = 10
    admission_review_versions: tuple[str, ...] = ("v1",)
    match_conditions: tuple[MatchCondition, ...] = ()
    reinvocation_policy: str = "Never"


def webhook_from_json(obj: JSONObject) -> Webhook:
    """A webhook of a Validating/MutatingWebhookConfiguration's JSON."""
    return Webhook(
        name=str(obj["name"]),
        client_config=client_config_from_json(obj.get("clientConfig") or {}),
        rules=tuple(rule_from_json(r) for r in obj.get("rules") or ()),
        failure_policy=obj.get("failurePolicy") or "Fail",
        match_policy=obj.get("matchPolicy") or "Equivalent",
        namespace_selector=obj.get("namespaceSelector") or {},
        object_selector=obj.get("objectSelector") or {},
        side_effects=obj.get("sideEffects"),
        timeout_seconds=int(obj.get("timeoutSeconds") or 10),
        admission_review_versions=tuple(obj.get("admissionReviewVersions") or ("v1",)),
        match_conditions=conditions_from_json(obj.get("matchConditions") or ()),
        reinvocation_policy=obj.get("reinvocationPolicy") or "Never",
    )


@dataclass(frozen=True)
class Equivalent:
    """A resource that serves the same objects as the request's (deployments in apps/v1 and
    in another version), with the kind it has there."""

    resource: GroupVersionResource
    kind: GroupVersionKind


@dataclass(frozen=True)
class Invocation:
    """What the webhook is called with: the resource and kind it matched."""

    webhook: Webhook
    resource: GroupVersionResource
    sub_resource: str
    kind: GroupVersionKind


def _parsed(selector: JSONObject) -> LabelSelector:
    try:
        message = json_format.ParseDict(selector, meta_pb2.LabelSelector())
        return from_label_selector_message(message)
    except (json_format.ParseError, SelectorError) as e:
        raise StatusError(internal_error(e)) from e


def _labels(obj: JSONObject | None) -> Mapping[str, str] | None:
    if not isinstance(obj, dict):
        return None
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return labels if isinstance(labels, dict) else {}


def _is_namespace_request(attrs: AdmissionRequest) -> bool:
    """Kubernetes looks at the resource's name only (namespace/matcher.go)."""
    return attrs.resource.resource == "namespaces"


async def namespace_matches(
    webhook: Webhook, attrs: AdmissionRequest, namespace_labels: NamespaceLabels
) -> bool:
    """MatchNamespaceSelector. A request for a Namespace is about the namespace it names."""
    is_namespace = _is_namespace_request(attrs)
    namespace = attrs.namespace or (attrs.name if is_namespace else "")
    if not namespace and not is_namespace:
        return True  # cluster-scoped objects are never exempted
    selector = _parsed(webhook.namespace_selector)
    if selector.empty:
        return True
    if is_namespace and not attrs.sub_resource and attrs.operation in ("CREATE", "UPDATE"):
        labels = _labels(attrs.object) or {}
    else:
        found = await namespace_labels(namespace)
        if found is None:
            status = {**internal_error(""), "code": 404, "reason": "NotFound"}
            status["message"] = f"namespaces {go_quote(namespace)} not found"
            status["details"] = {"name": namespace, "kind": "namespaces"}
            raise StatusError(status)
        labels = found
    return selector.matches(labels)


def object_matches(webhook: Webhook, attrs: AdmissionRequest) -> bool:
    """MatchObjectSelector: the new or the old object's labels."""
    selector = _parsed(webhook.object_selector)
    if selector.empty:
        return True
    return any(
        labels is not None and selector.matches(labels)
        for labels in (_labels(attrs.object), _labels(attrs.old_object))
    )


def _requested(attrs: AdmissionRequest, resource: GroupVersionResource) -> RequestedResource:
    return RequestedResource(
        resource.group,
        resource.version,
        resource.resource,
        attrs.sub_resource,
        attrs.operation,
        attrs.namespace,
    )


def _invocation(
    webhook: Webhook, attrs: AdmissionRequest, equivalents: Sequence[Equivalent]
) -> Invocation | None:
    requested = _requested(attrs, attrs.resource)
    if any(rule_matches(rule, requested) for rule in webhook.rules):
        return Invocation(webhook, attrs.resource, attrs.sub_resource, attrs.kind)
    if webhook.match_policy != "Equivalent":
        return None
    for rule in webhook.rules:  # earlier rules first
        for equivalent in equivalents:
            if equivalent.resource == attrs.resource:
                continue
            if rule_matches(rule, _requested(attrs, equivalent.resource)):
                return Invocation(webhook, equivalent.resource, attrs.sub_resource, equivalent.kind)
    return None


async def should_call(
    webhook: Webhook,
    attrs: AdmissionRequest,
    namespace_labels: NamespaceLabels,
    equivalents: Sequence[Equivalent] = (),
) -> Invocation | None:
    """The invocation when the webhook applies to the request, None when it does not; raises
    StatusError when it cannot tell (no such namespace, a selector that does not parse, a match
    condition that failed under failurePolicy Fail). The selectors' errors count only for a
    webhook whose rules match, as in Kubernetes."""
    try:
        namespace_ok: bool | StatusError = await namespace_matches(webhook, attrs, namespace_labels)
    except StatusError as e:
        namespace_ok = e
    if namespace_ok is False:
        return None
    try:
        object_ok: bool | StatusError = object_matches(webhook, attrs)
    except StatusError as e:
        object_ok = e
    if object_ok is False:
        return None
    invocation = _invocation(webhook, attrs, equivalents)
    if invocation is None:
        return None
    for outcome in (namespace_ok, object_ok):
        if isinstance(outcome, StatusError):
            raise outcome
    if webhook.match_conditions and not _conditions_match(webhook, attrs, invocation):
        return None
    return invocation


def _conditions_match(webhook: Webhook, attrs: AdmissionRequest, invocation: Invocation) -> bool:
    request = review_request(attrs)["request"]
    request.update(uid="", kind=invocation.kind.to_json(), resource=invocation.resource.to_json())
    del request["object"], request["oldObject"]
    result = evaluate(
        webhook.match_conditions, attrs.object, attrs.old_object, request, webhook.failure_policy
    )
    if result.error:
        resource = attrs.resource
        raise StatusError(forbidden(resource.group, resource.resource, attrs.name, result.error))
    return result.matches
