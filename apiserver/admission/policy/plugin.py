"""The ValidatingAdmissionPolicy admission plugin (k8s.io/apiserver/pkg/admission/plugin/policy/
validating plugin.go and dispatcher.go), in the validating phase at its place in the order: for
every policy the request matches (matchConstraints), every binding of it that matches
(matchResources), with every param the binding names, the policy's match conditions,
validations and audit annotations are evaluated; a failed validation is acted on as the binding
says: Deny refuses the request (`ValidatingAdmissionPolicy 'P' with binding 'B' denied request:
MSG`, with the validation's reason and its code), Warn adds a warning to the answer, Audit an
audit annotation. Policies and bindings are the apiserver's watch caches'; a policy is compiled
once per stored version of it. The admission configuration kinds' own requests are not checked."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

import grpc
from google.protobuf.message import Message

from apiserver import errors
from apiserver.admission import warnings
from apiserver.admission.attributes import Attributes
from apiserver.admission.interfaces import Handler
from apiserver.admission.policy import bindings as cel_bindings
from apiserver.admission.policy.compiled import CompiledPolicy, compile_policy
from apiserver.admission.policy.matching import (
    Matched,
    MatchError,
    NamespaceLabels,
    Request,
    matches,
)
from apiserver.admission.policy.params import ParamError, ParamSource, collect_params
from apiserver.admission.policy.validator import (
    DENY,
    ERROR,
    PUBLISH,
    Inputs,
    PolicyDecision,
    ValidateResult,
    validate,
)
from apiserver.auth.user import UserInfo
from apiserver.objects import object_meta
from podplane.apimachinery import codec
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.resources import Resource

NAME = "ValidatingAdmissionPolicy"
GROUP = "admissionregistration.k8s.io"
EXCLUDED = frozenset(
    {
        "validatingadmissionpolicies",
        "validatingadmissionpolicybindings",
        "mutatingadmissionpolicies",
        "mutatingadmissionpolicybindings",
    }
)
VALIDATION_FAILURE_KEY = "validation.policy.admission.k8s.io/validation_failure"
MAX_AUDIT_ANNOTATION_VALUE_LENGTH = 10 * 1024
_CODES = {
    "Forbidden": grpc.StatusCode.PERMISSION_DENIED,
    "Unauthorized": grpc.StatusCode.UNAUTHENTICATED,
    "RequestEntityTooLarge": grpc.StatusCode.RESOURCE_EXHAUSTED,
}
# The resources serving the same objects as a resource (EquivalentResourcesFor), with kinds.
Equivalents = Callable[[Resource], Sequence[Matched]]
# A namespace's JSON by name; None when there is none.
NamespaceGetter = Callable[[str], Awaitable[JSONObject | None]]


def object_json(resource: Resource, obj: Message | None) -> JSONObject | None:
    """An object as CEL sees it: Kubernetes' JSON with its apiVersion and kind."""
    if obj is None:
        return None
    out = codec.encode(obj)
    out["apiVersion"], out["kind"] = resource.api_version, resource.kind
    return out


@dataclass
class Denial:
    policy: str
    binding: str
    message: str
    reason: str = "Invalid"


@dataclass
class Sources:
    """Where the plugin reads what it needs (the apiserver's watch caches)."""

    policies: Callable[[], Iterable[Message]]
    bindings: Callable[[], Iterable[Message]]
    namespace: NamespaceGetter
    params: ParamSource
    equivalents: Equivalents = lambda _: ()
    authorize: cel_bindings.ResourceAuthorize | None = None
    authorize_path: cel_bindings.PathAuthorize | None = None


@dataclass
class _Compiled:
    version: str
    policy: CompiledPolicy


@dataclass
class _Request:
    attrs: Attributes
    match: Request
    denials: list[Denial] = field(default_factory=list)
    namespace: JSONObject | None = None
    namespace_read: bool = False


class ValidatingAdmissionPolicy(Handler):
    def __init__(self, sources: Sources) -> None:
        super().__init__("CREATE", "UPDATE", "DELETE", "CONNECT")
        self.sources = sources
        self._compiled: dict[str, _Compiled] = {}
        self._bindings: dict[tuple[str, str], JSONObject] = {}

    def _policy(self, policy: Message) -> CompiledPolicy:
        meta = object_meta(policy)
        found = self._compiled.get(meta.name)
        if found is None or found.version != meta.resource_version:
            found = _Compiled(meta.resource_version, compile_policy(codec.encode(policy)))
            self._compiled[meta.name] = found
        return found.policy

    def _binding(self, binding: Message) -> JSONObject:
        """The binding's JSON, encoded once per stored version of it."""
        meta = object_meta(binding)
        key = (meta.name, meta.resource_version)
        found = self._bindings.get(key)
        if found is None:
            found = self._bindings[key] = codec.encode(binding)
        return found

    async def validate(self, attrs: Attributes) -> None:
        r = attrs.resource
        if r.group == GROUP and r.plural in EXCLUDED:
            return
        policies = sorted(self.sources.policies(), key=lambda p: object_meta(p).name)
        if not policies:
            return
        by_policy: dict[str, list[JSONObject]] = {}
        stored = sorted(self.sources.bindings(), key=lambda b: object_meta(b).name)
        live_bindings = {(object_meta(b).name, object_meta(b).resource_version) for b in stored}
        for key in [k for k in self._bindings if k not in live_bindings]:
            del self._bindings[key]
        for b in stored:
            encoded = self._binding(b)
            by_policy.setdefault(str(encoded["spec"].get("policyName", "")), []).append(encoded)
        match = Request(
            attrs,
            object_json(r, attrs.object),
            object_json(r, attrs.old_object),
            self.sources.equivalents(r),
        )
        request = _Request(attrs, match)
        live = {object_meta(p).name for p in policies}
        for name in list(self._compiled):
            if name not in live:
                del self._compiled[name]
        for policy in policies:
            compiled = self._policy(policy)
            await self._dispatch(request, compiled, by_policy.get(compiled.name, []))
        if request.denials:
            raise _refusal(attrs, request.denials[0])

    async def _namespace_labels(self, name: str) -> dict[str, str] | None:
        ns = await self.sources.namespace(name)
        if ns is None:
            return None
        return dict((ns.get("metadata") or {}).get("labels") or {})

    def _config_error(
        self, request: _Request, policy: CompiledPolicy, binding: str, err: str
    ) -> None:
        if policy.failure_policy == "Ignore":
            return
        prefix = "failed to configure binding" if binding else "failed to configure policy"
        request.denials.append(Denial(policy.name, binding, f"{prefix}: {err}"))

    async def _dispatch(
        self, request: _Request, policy: CompiledPolicy, bindings: list[JSONObject]
    ) -> None:
        labels: NamespaceLabels = self._namespace_labels
        try:
            matched = await matches(policy.match_constraints, request.match, labels)
        except MatchError as e:
            self._config_error(request, policy, "", str(e))
            return
        if matched is None:
            return
        if (
            policy.param_kind is not None
            and self.sources.params.resource(policy.param_kind) is None
        ):
            self._config_error(
                request,
                policy,
                "",
                f"failed to find resource referenced by paramKind: '{policy.param_kind}'",
            )
            return
        collected: dict[str, list[str]] = {}
        for binding in bindings:
            await self._bind(request, policy, binding, matched, collected)
        for key, values in collected.items():
            warnings.add_annotation(f"{policy.name}/{key}", ", ".join(values))

    async def _bind(
        self,
        request: _Request,
        policy: CompiledPolicy,
        binding: JSONObject,
        matched: Matched,
        annotations: dict[str, list[str]],
    ) -> None:
        name = str(binding["metadata"]["name"])
        spec = binding.get("spec") or {}
        attrs = request.attrs
        try:
            criteria = spec.get("matchResources")
            if (
                criteria is not None
                and await matches(criteria, request.match, self._namespace_labels) is None
            ):
                return
            params = await collect_params(
                policy.param_kind, spec.get("paramRef"), attrs.namespace, self.sources.params
            )
        except (MatchError, ParamError) as e:
            self._config_error(request, policy, name, str(e))
            return
        namespace = await self._namespace_object(request)
        for param in params:
            result = validate(policy, self._inputs(request, matched, namespace, param))
            self._act(request, policy, name, spec, result, annotations)

    async def _namespace_object(self, request: _Request) -> JSONObject | None:
        attrs = request.attrs
        r = attrs.resource
        name = "" if (r.group, r.version, r.kind) == ("", "v1", "Namespace") else attrs.namespace
        if not name:
            return None
        if not request.namespace_read:
            found = await self.sources.namespace(name)
            if found is None:
                raise errors.APIError(
                    grpc.StatusCode.NOT_FOUND,
                    "NotFound",
                    f'namespaces "{name}" not found',
                    errors.Details(name=name, kind="namespaces"),
                )
            request.namespace, request.namespace_read = found, True
        return request.namespace

    def _inputs(
        self,
        request: _Request,
        matched: Matched,
        namespace: JSONObject | None,
        param: JSONObject | None,
    ) -> Inputs:
        attrs = request.attrs
        authorizer: cel_bindings.AuthorizerValue | None = None
        sources = self.sources
        if sources.authorize is not None and sources.authorize_path is not None:
            user = attrs.user_info or UserInfo("")
            authorizer = cel_bindings.AuthorizerValue(
                sources.authorize, sources.authorize_path, user
            )
        return Inputs(
            object=request.match.object,
            old_object=request.match.old_object,
            request=cel_bindings.request_json(
                attrs,
                cel_bindings.gvr(matched.group, matched.version, matched.resource),
                cel_bindings.gvk(matched.group, matched.version, matched.kind),
            ),
            namespace_object=cel_bindings.namespace_object(namespace),
            params=param,
            authorizer=authorizer,
            request_resource=authorizer.request_resource(attrs) if authorizer else None,
        )

    def _act(
        self,
        request: _Request,
        policy: CompiledPolicy,
        binding: str,
        spec: JSONObject,
        result: ValidateResult,
        annotations: dict[str, list[str]],
    ) -> None:
        actions = list(spec.get("validationActions") or ())
        for index, decision in enumerate(result.decisions):
            if decision.action != DENY:
                continue
            for action in actions:
                if action == "Deny":
                    request.denials.append(
                        Denial(policy.name, binding, decision.message, decision.reason or "Invalid")
                    )
                elif action == "Audit":
                    _publish_failure(binding, policy.name, index, decision, actions)
                elif action == "Warn":
                    warnings.add_warning(
                        f"Validation failed for ValidatingAdmissionPolicy '{policy.name}' with "
                        f"binding '{binding}': {decision.message}"
                    )
        for annotation in result.audit_annotations:
            if annotation.action == PUBLISH:
                value = annotation.value[:MAX_AUDIT_ANNOTATION_VALUE_LENGTH]
                values = annotations.setdefault(annotation.key, [])
                if value not in values:
                    values.append(value)
            elif annotation.action == ERROR:
                request.denials.append(Denial(policy.name, binding, annotation.error))


def _publish_failure(
    binding: str, policy: str, index: int, decision: PolicyDecision, actions: list[str]
) -> None:
    """publishValidationFailureAnnotation: the failure as a JSON list of one."""
    value = [
        {
            "message": decision.message,
            "policy": policy,
            "binding": binding,
            "expressionIndex": index,
            "validationActions": actions,
        }
    ]
    warnings.add_annotation(VALIDATION_FAILURE_KEY, json.dumps(value, separators=(",", ":")))


def _refused_name(attrs: Attributes) -> str:
    """extractResourceName: the request's name, else the object's name or generateName."""
    if attrs.name:
        return attrs.name
    if attrs.object is None:
        return "Unknown"
    meta = object_meta(attrs.object)
    return str(meta.name or meta.generate_name or "Unknown")


def _refusal(attrs: Attributes, denial: Denial) -> errors.APIError:
    """admission.NewForbidden's error with the decision's reason and its code."""
    if denial.binding:
        message = (
            f"ValidatingAdmissionPolicy '{denial.policy}' with binding '{denial.binding}' "
            f"denied request: {denial.message}"
        )
    else:
        message = f"ValidatingAdmissionPolicy '{denial.policy}' denied request: {denial.message}"
    name = _refused_name(attrs)
    resource = attrs.resource
    return errors.APIError(
        _CODES.get(denial.reason, grpc.StatusCode.INVALID_ARGUMENT),
        denial.reason,
        f'{errors.qualified(resource)} "{name}" is forbidden: {message}',
        errors.Details(
            name=name,
            group=resource.group,
            kind=resource.plural,
            causes=(errors.Cause("", message),),
        ),
    )
