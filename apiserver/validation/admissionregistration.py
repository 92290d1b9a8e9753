"""admissionregistration.k8s.io/v1 validation (kubernetes
pkg/apis/admissionregistration/validation/validation.go), with its field paths and texts: the
webhook configurations (names fully qualified and unique, sideEffects None or NoneOnDryRun,
admissionReviewVersions including v1 or v1beta1, timeoutSeconds 1..30, url xor service, match
conditions), the ValidatingAdmissionPolicy (failurePolicy, paramKind, matchConstraints with
resource rules, validations or audit annotations, variables; every CEL expression compiled:
admission_cel.py), its status, and the ValidatingAdmissionPolicyBinding (policyName, paramRef,
matchResources, validationActions). An update is held to the stored object's own standard where
Kubernetes' is (a configuration that already had duplicate names may keep them)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from apiserver.validation import admission_cel, fields
from apiserver.validation.admission_cel import Environment
from apiserver.validation.admission_rules import (
    FAILURE_POLICIES,
    MATCH_POLICIES,
    admission_review_versions,
    client_config,
    go_strings,
    match_resources,
    rule_with_operations,
)
from apiserver.validation.conditions import conditions
from apiserver.validation.embedded_meta import path_segment_name
from apiserver.validation.fields import FieldError
from apiserver.validation.meta import object_meta
from apiserver.validation.policy import label_selector
from podplane.api.admissionregistration.v1 import admissionregistration_pb2 as admreg_pb2
from podplane.apimachinery import jsonpath

NO_SIDE_EFFECTS = ("None", "NoneOnDryRun")
REINVOCATION_POLICIES = ("IfNeeded", "Never")
VALIDATION_REASONS = ("Forbidden", "Invalid", "RequestEntityTooLarge")
VALIDATION_ACTIONS = ("Audit", "Deny", "Warn")
PARAMETER_NOT_FOUND_ACTIONS = ("Deny", "Allow")
MAX_MATCH_CONDITIONS = 64
MAX_AUDIT_ANNOTATIONS = 20
MAX_AUDIT_ANNOTATION_VALUE_EXPRESSION_LENGTH = 5 * 1024

Webhook = admreg_pb2.MutatingWebhook | admreg_pb2.ValidatingWebhook
WebhookConfiguration = (
    admreg_pb2.MutatingWebhookConfiguration | admreg_pb2.ValidatingWebhookConfiguration
)


def _too_many(path: str, count: int, limit: int) -> FieldError:
    return FieldError(path, "Too many", count, f"must have at most {limit} items")


def fully_qualified_name(path: str, name: str) -> list[FieldError]:
    """IsFullyQualifiedName: a DNS subdomain of at least three segments."""
    if not name:
        return [fields.required(path)]
    errs = fields.dns1123_subdomain(path, name)
    if errs:
        return errs
    if len(name.split(".")) < 3:
        return [
            fields.invalid(
                path, name, "should be a domain with at least three segments separated by dots"
            )
        ]
    return []


def match_conditions(
    items: Sequence[admreg_pb2.MatchCondition], path: str, has_params: bool
) -> list[FieldError]:
    """validateMatchConditions: at most 64, each named (a qualified name, once) with a boolean
    expression."""
    errs: list[FieldError] = []
    if len(items) > MAX_MATCH_CONDITIONS:
        errs.append(_too_many(path, len(items), MAX_MATCH_CONDITIONS))
    seen: set[str] = set()
    env = Environment(has_params=has_params)
    for i, c in enumerate(items):
        p = f"{path}[{i}]"
        expression = c.expression.strip()
        if not expression:
            errs.append(fields.required(f"{p}.expression"))
        else:
            errs += admission_cel.check(
                f"{p}.expression", expression, env, admission_cel.BOOL_RESULT
            )
        if not c.name:
            errs.append(fields.required(f"{p}.name"))
        else:
            errs += fields.qualified_name(f"{p}.name", c.name)
            if c.name in seen:
                errs.append(fields.duplicate(f"{p}.name", c.name))
            seen.add(c.name)
    return errs


def _webhook(
    hook: Webhook,
    path: str,
    *,
    ignore_match_conditions: bool,
    require_no_side_effects: bool,
    allow_invalid_label_values: bool,
) -> list[FieldError]:
    """validateValidatingWebhook / validateMutatingWebhook."""
    errs = fully_qualified_name(f"{path}.name", hook.name)
    for i, rule in enumerate(hook.rules):
        errs += rule_with_operations(rule, f"{path}.rules[{i}]")
    if hook.HasField("failure_policy") and hook.failure_policy not in FAILURE_POLICIES:
        errs.append(
            fields.unsupported(f"{path}.failurePolicy", hook.failure_policy, FAILURE_POLICIES)
        )
    if hook.HasField("match_policy") and hook.match_policy not in MATCH_POLICIES:
        errs.append(fields.unsupported(f"{path}.matchPolicy", hook.match_policy, MATCH_POLICIES))
    allowed = (
        NO_SIDE_EFFECTS if require_no_side_effects else ("None", "NoneOnDryRun", "Some", "Unknown")
    )
    if not hook.HasField("side_effects"):
        errs.append(
            fields.required(f"{path}.sideEffects", f"must specify one of {', '.join(allowed)}")
        )
    elif hook.side_effects not in allowed:
        errs.append(fields.unsupported(f"{path}.sideEffects", hook.side_effects, allowed))
    if hook.HasField("timeout_seconds") and not 1 <= hook.timeout_seconds <= 30:
        errs.append(
            fields.invalid(
                f"{path}.timeoutSeconds",
                hook.timeout_seconds,
                "the timeout value must be between 1 and 30 seconds",
            )
        )
    for name, json_name in (
        ("namespace_selector", "namespaceSelector"),
        ("object_selector", "objectSelector"),
    ):
        if hook.HasField(name):
            errs += label_selector(
                f"{path}.{json_name}",
                getattr(hook, name),
                allow_invalid_values=allow_invalid_label_values,
            )
    if isinstance(hook, admreg_pb2.MutatingWebhook) and hook.HasField("reinvocation_policy"):
        if hook.reinvocation_policy not in REINVOCATION_POLICIES:
            errs.append(
                fields.unsupported(
                    f"{path}.reinvocationPolicy", hook.reinvocation_policy, REINVOCATION_POLICIES
                )
            )
    errs += client_config(f"{path}.clientConfig", hook.client_config)
    if not ignore_match_conditions:
        errs += match_conditions(hook.match_conditions, f"{path}.matchConditions", False)
    return errs


def _webhook_configuration(
    obj: WebhookConfiguration, old: WebhookConfiguration | None = None
) -> list[FieldError]:
    """Create rules, or an update's: what the stored configuration already breaks (side effects
    outside None/NoneOnDryRun, no recognized review version, duplicate names) it may keep, and
    unchanged match conditions are not compiled again."""
    hooks: Sequence[Webhook] = obj.webhooks
    old_hooks: Sequence[Webhook] = old.webhooks if old is not None else []
    no_side_effects = old is None or all(
        h.HasField("side_effects") and h.side_effects in NO_SIDE_EFFECTS for h in old_hooks
    )
    recognized = old is None or all(
        not h.admission_review_versions
        or bool(set(h.admission_review_versions) & {"v1", "v1beta1"})
        for h in old_hooks
    )
    unique = old is None or len({h.name for h in old_hooks}) == len(old_hooks)
    # Selectors stored before their values were checked (issue #99139) may keep them.
    invalid_values = any(
        fields.label_value("", value)
        for h in old_hooks
        for selector in (h.namespace_selector, h.object_selector)
        for e in selector.match_expressions
        for value in e.values
    )
    ignore_conditions = (
        old is not None
        and len(hooks) == len(old_hooks)
        and all(
            list(n.match_conditions) == list(o.match_conditions)
            for n, o in zip(hooks, old_hooks, strict=True)
        )
    )
    errs = object_meta(obj.metadata, namespaced=False)
    names: set[str] = set()
    for i, hook in enumerate(hooks):
        path = f"webhooks[{i}]"
        errs += _webhook(
            hook,
            path,
            ignore_match_conditions=ignore_conditions,
            require_no_side_effects=no_side_effects,
            allow_invalid_label_values=invalid_values,
        )
        errs += admission_review_versions(
            list(hook.admission_review_versions), f"{path}.admissionReviewVersions", recognized
        )
        if unique and hook.name:
            if hook.name in names:
                errs.append(fields.duplicate(f"{path}.name", hook.name))
            names.add(hook.name)
    return errs


def mutating_webhook_configuration(
    obj: admreg_pb2.MutatingWebhookConfiguration,
) -> list[FieldError]:
    return _webhook_configuration(obj)


def mutating_webhook_configuration_update(
    new: admreg_pb2.MutatingWebhookConfiguration, old: admreg_pb2.MutatingWebhookConfiguration
) -> list[FieldError]:
    return _webhook_configuration(new, old)


def validating_webhook_configuration(
    obj: admreg_pb2.ValidatingWebhookConfiguration,
) -> list[FieldError]:
    return _webhook_configuration(obj)


def validating_webhook_configuration_update(
    new: admreg_pb2.ValidatingWebhookConfiguration, old: admreg_pb2.ValidatingWebhookConfiguration
) -> list[FieldError]:
    return _webhook_configuration(new, old)


# ------------------------------------------------------------------------------ the binding


def _param_ref(ref: admreg_pb2.ParamRef, path: str) -> list[FieldError]:
    """validateParamRef: a name or a selector, not both, and what to do without parameters."""
    errs: list[FieldError] = []
    both = "name and selector are mutually exclusive"
    if ref.name:
        errs += path_segment_name(f"{path}.name", ref.name)
        if ref.HasField("selector"):
            errs.append(fields.forbidden(f"{path}.name", both))
    if ref.HasField("selector"):
        errs += label_selector(f"{path}.selector", ref.selector, allow_invalid_values=False)
        if ref.name:
            errs.append(fields.forbidden(f"{path}.selector", both))
    if not ref.name and not ref.HasField("selector"):
        errs.append(fields.required(path, "one of name or selector must be specified"))
    action = ref.parameter_not_found_action
    if not action:
        errs.append(fields.required(f"{path}.parameterNotFoundAction"))
    elif action not in PARAMETER_NOT_FOUND_ACTIONS:
        errs.append(
            fields.unsupported(
                f"{path}.parameterNotFoundAction", action, PARAMETER_NOT_FOUND_ACTIONS
            )
        )
    return errs


def _validation_actions(actions: Sequence[str], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, action in enumerate(actions):
        if action not in VALIDATION_ACTIONS:
            errs.append(fields.unsupported(f"{path}[{i}]", action, VALIDATION_ACTIONS))
        if action in seen:
            errs.append(fields.duplicate(f"{path}[{i}]", action))
        seen.add(action)
    if {"Deny", "Warn"} <= seen:
        errs.append(
            fields.invalid(
                path,
                go_strings(actions, "admissionregistration.ValidationAction"),
                "must not contain both Deny and Warn (repeating the same validation failure "
                "information in the API response and headers serves no purpose)",
            )
        )
    if not seen:
        errs.append(fields.required(path, "at least one validation action is required"))
    return errs


def validating_admission_policy_binding(
    obj: admreg_pb2.ValidatingAdmissionPolicyBinding,
) -> list[FieldError]:
    errs = object_meta(obj.metadata, namespaced=False)
    spec = obj.spec
    if not spec.policy_name:
        errs.append(fields.required("spec.policyName"))
    else:
        errs += fields.dns1123_subdomain("spec.policyName", spec.policy_name)
    if spec.HasField("param_ref"):
        errs += _param_ref(spec.param_ref, "spec.paramRef")
    if spec.HasField("match_resources"):
        # Kubernetes' path, misspelt as it is.
        errs += match_resources(spec.match_resources, "spec.matchResouces")
    errs += _validation_actions(list(spec.validation_actions), "spec.validationActions")
    return errs


def validating_admission_policy_binding_update(
    new: admreg_pb2.ValidatingAdmissionPolicyBinding,
    old: admreg_pb2.ValidatingAdmissionPolicyBinding,
) -> list[FieldError]:
    return validating_admission_policy_binding(new)


# ------------------------------------------------------------------------------ the status

_JSONPATH_START = re.compile(r"^[.\[]")


def validating_admission_policy_status(
    obj: admreg_pb2.ValidatingAdmissionPolicy,
) -> list[FieldError]:
    """validateValidatingAdmissionPolicyStatus: each expression warning's fieldRef a JSONPath
    and its warning set; the conditions as metav1 conditions."""
    errs: list[FieldError] = []
    status = obj.status
    for i, w in enumerate(status.type_checking.expression_warnings):
        path = f"status.typeChecking.expressionWarnings[{i}]"
        if not w.warning:
            errs.append(fields.required(f"{path}.warning"))
        ref = w.field_ref.strip()
        if not ref:
            errs.append(fields.required(f"{path}.fieldRef"))
            continue
        try:
            jsonpath.parse("{" + ref + "}")
        except jsonpath.JSONPathError as e:
            errs.append(fields.invalid(f"{path}.fieldRef", ref, f"invalid JSONPath: {e}"))
    return errs + conditions("status.conditions", status.conditions)


def validating_admission_policy_status_update(
    new: admreg_pb2.ValidatingAdmissionPolicy, old: admreg_pb2.ValidatingAdmissionPolicy
) -> list[FieldError]:
    return validating_admission_policy_status(new)
