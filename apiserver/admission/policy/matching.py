"""Whether a policy's matchConstraints or a binding's matchResources match a request, as
Kubernetes' policy matcher decides (k8s.io/apiserver/pkg/admission/plugin/policy/matching):
the namespaceSelector over the labels of the request's namespace (a Namespace by its own; a
cluster-scoped object always matches), the objectSelector over the new or the old object's
labels, excludeResourceRules, then resourceRules with their resourceNames (none: every name),
and under matchPolicy Equivalent the rules against the resources that serve the same objects.
The rules are the webhooks' (apiserver/webhook/rules.py)."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from google.protobuf import json_format

from apiserver.admission.attributes import Attributes
from apiserver.webhook.rules import RequestedResource, rule_from_json, rule_matches
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.selectors import LabelSelector, from_label_selector_message


class MatchError(Exception):
    """The request cannot be matched (a namespace that does not exist, a selector that does
    not parse): a configuration error of the policy or binding."""


# The labels of a namespace by name; None when there is none.
NamespaceLabels = Callable[[str], Awaitable[Mapping[str, str] | None]]


@dataclass(frozen=True)
class Matched:
    """The resource and kind a rule matched (an equivalent one's under Equivalent)."""

    group: str
    version: str
    resource: str
    kind: str


@dataclass(frozen=True)
class Request:
    """What the matcher reads of a request."""

    attrs: Attributes
    object: JSONObject | None
    old_object: JSONObject | None
    # The resources serving the same objects, with their kinds (EquivalentResourcesFor).
    equivalents: Sequence[Matched] = ()

    @property
    def requested(self) -> Matched:
        r = self.attrs.resource
        return Matched(r.group, r.version, r.plural, r.kind)


@functools.lru_cache(maxsize=1024)
def _parsed(selector: str) -> LabelSelector:
    """A selector's JSON (sorted) parsed once."""
    message = json_format.ParseDict(json.loads(selector), meta_pb2.LabelSelector())
    return from_label_selector_message(message)


def _selector_matches(selector: JSONObject | None, labels: Mapping[str, str]) -> bool:
    try:
        parsed = _parsed(json.dumps(selector or {}, sort_keys=True))
    except (json_format.ParseError, ValueError) as e:
        raise MatchError(str(e)) from e
    return parsed.matches(labels)


def _labels(obj: JSONObject | None) -> Mapping[str, str] | None:
    if not isinstance(obj, dict):
        return None
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return labels if isinstance(labels, dict) else {}


async def _namespace_matches(
    selector: JSONObject | None, request: Request, namespace_labels: NamespaceLabels
) -> bool:
    attrs = request.attrs
    is_namespace = attrs.resource.plural == "namespaces"
    namespace = attrs.namespace or (attrs.name if is_namespace else "")
    if not namespace and not is_namespace:
        return True
    if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        return True
    if is_namespace and not attrs.subresource and attrs.operation in ("CREATE", "UPDATE"):
        labels = _labels(request.object) or {}
    else:
        found = await namespace_labels(namespace)
        if found is None:
            raise MatchError(f'namespaces "{namespace}" not found')
        labels = found
    return _selector_matches(selector, labels)


def _object_matches(selector: JSONObject | None, request: Request) -> bool:
    if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        return True
    return any(
        labels is not None and _selector_matches(selector, labels)
        for labels in (_labels(request.object), _labels(request.old_object))
    )


def _named_rule_matches(rule: JSONObject, request: Request, resource: Matched) -> bool:
    attrs = request.attrs
    requested = RequestedResource(
        resource.group,
        resource.version,
        resource.resource,
        attrs.subresource,
        attrs.operation,
        attrs.namespace,
    )
    if not rule_matches(rule_from_json(rule), requested):
        return False
    names = rule.get("resourceNames") or ()
    return not names or attrs.name in names


def _rules_match(rules: Sequence[JSONObject], policy: str, request: Request) -> Matched | None:
    """matchesResourceRules: the resource the rules match, None if none."""
    requested = request.requested
    for rule in rules:
        if _named_rule_matches(rule, request, requested):
            return requested
    if policy != "Equivalent":
        return None
    for rule in rules:
        for equivalent in request.equivalents:
            if equivalent == requested:
                continue
            if _named_rule_matches(rule, request, equivalent):
                return equivalent
    return None


async def matches(
    criteria: JSONObject, request: Request, namespace_labels: NamespaceLabels
) -> Matched | None:
    """The resource matched when the criteria (MatchResources) match the request, None when
    they do not; raises MatchError when it cannot tell for criteria whose rules match."""
    try:
        namespace_ok: bool | MatchError = await _namespace_matches(
            criteria.get("namespaceSelector"), request, namespace_labels
        )
    except MatchError as e:
        namespace_ok = e
    if namespace_ok is False:
        return None
    try:
        object_ok: bool | MatchError = _object_matches(criteria.get("objectSelector"), request)
    except MatchError as e:
        object_ok = e
    if object_ok is False:
        return None
    policy = str(criteria.get("matchPolicy") or "Equivalent")
    if _rules_match(criteria.get("excludeResourceRules") or (), policy, request) is not None:
        return None
    rules = criteria.get("resourceRules") or ()
    matched = _rules_match(rules, policy, request) if rules else request.requested
    if matched is None:
        return None
    for outcome in (namespace_ok, object_ok):
        if isinstance(outcome, MatchError):
            raise outcome
    return matched
