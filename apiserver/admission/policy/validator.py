"""One policy evaluated for one request and one param, as Kubernetes' validator does
(k8s.io/apiserver/pkg/admission/plugin/policy/validating/validator.go Validate and
plugin/cel/filter.go): the match conditions first (a false one: no decisions), then every
validation (a false one denies with its messageExpression's value, its message, or
`failed expression: EXPR`, and its reason, Invalid by default), then the audit annotations. An
expression that fails is an error decision, a denial under failurePolicy Fail and an admission
under Ignore, with Kubernetes' texts (`expression 'EXPR' resulted in error: ...`).

podplane's CEL has no cost model: expressions run without Kubernetes' per-expression and
per-call cost limits (docs/security.md#admission)."""

from __future__ import annotations

from dataclasses import dataclass, field

from apiserver.admission.policy.bindings import LazyVariables
from apiserver.admission.policy.compiled import CompiledPolicy, Expression
from podplane.apimachinery.structural.cel import EvalError
from podplane.apimachinery.structural.cel.runtime import CelValue, type_name

ADMIT, DENY = "admit", "deny"
PUBLISH, EXCLUDE, ERROR = "publish", "exclude", "error"
# celconfig.MaxEvaluatedMessageExpressionSizeBytes
MAX_MESSAGE_BYTES = 5 * 1024


@dataclass(frozen=True)
class PolicyDecision:
    action: str
    message: str = ""
    reason: str = ""
    evaluation_error: bool = False


@dataclass(frozen=True)
class AuditAnnotationResult:
    key: str
    action: str
    value: str = ""
    error: str = ""


@dataclass
class ValidateResult:
    decisions: list[PolicyDecision] = field(default_factory=list)
    audit_annotations: list[AuditAnnotationResult] = field(default_factory=list)


@dataclass(frozen=True)
class Inputs:
    """What the expressions see: object, oldObject, request, namespaceObject, params and the
    authorizer (None: not bound)."""

    object: CelValue
    old_object: CelValue
    request: CelValue
    namespace_object: CelValue
    params: CelValue
    authorizer: CelValue = None
    request_resource: CelValue = None


def _evaluate(expression: Expression, activation: dict[str, CelValue]) -> CelValue:
    """The value, or an EvalError with the filter's text."""
    if expression.program is None:
        raise EvalError(expression.error)
    try:
        return expression.program.evaluate(activation)
    except EvalError as e:
        raise EvalError(f"expression '{expression.source}' resulted in error: {e}") from e


def _aggregate(errors: list[str]) -> str:
    """utilerrors.NewAggregate's text."""
    return errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"


def _matches(policy: CompiledPolicy, activation: dict[str, CelValue]) -> bool | str:
    """matchconditions.Matcher: False at the first false condition, else the errors' aggregate
    (under Fail), else True."""
    errors: list[str] = []
    for _, condition in policy.match_conditions:
        try:
            value = _evaluate(condition, activation)
        except EvalError as e:
            errors.append(str(e))
            continue
        if value is False:
            return False
    if errors:
        return _aggregate(errors) if policy.failure_policy == "Fail" else False
    return True


def _on_error(policy: CompiledPolicy, message: str) -> PolicyDecision:
    action = ADMIT if policy.failure_policy == "Ignore" else DENY
    return PolicyDecision(action, message, evaluation_error=True)


def _message(expression: Expression | None, activation: dict[str, CelValue]) -> str:
    """A messageExpression's value, when it is a one-line string of at most 5 KiB."""
    if expression is None:
        return ""
    try:
        value = _evaluate(expression, activation)
    except EvalError:
        return ""  # logged by Kubernetes, and the message or the expression is used
    if not isinstance(value, str):
        return ""
    value = value.strip()
    if len(value.encode()) > MAX_MESSAGE_BYTES or "\n" in value:
        return ""
    return value


def validate(policy: CompiledPolicy, inputs: Inputs) -> ValidateResult:
    variables = LazyVariables([(n, e.program, e.error) for n, e in policy.variables])
    activation: dict[str, CelValue] = {
        "object": inputs.object,
        "oldObject": inputs.old_object,
        "request": inputs.request,
        "namespaceObject": inputs.namespace_object,
        "params": inputs.params,
        "variables": variables,
        "authorizer": inputs.authorizer,
        "authorizer.requestResource": inputs.request_resource,
    }
    variables.activation = activation
    matched = _matches(policy, activation)
    if isinstance(matched, str):
        return ValidateResult([_on_error(policy, matched)])
    if not matched:
        return ValidateResult()
    result = ValidateResult()
    messages = {**activation, "authorizer": None, "authorizer.requestResource": None}
    for validation in policy.validations:
        try:
            value = _evaluate(validation.expression, activation)
        except EvalError as e:
            result.decisions.append(_on_error(policy, str(e)))
            continue
        if value is True:
            result.decisions.append(PolicyDecision(ADMIT))
            continue
        message = (
            _message(validation.message_expression, messages)
            or validation.message.strip()
            or f"failed expression: {validation.expression.source.strip()}"
        )
        result.decisions.append(PolicyDecision(DENY, message, validation.reason or "Invalid"))
    for annotation in policy.audit_annotations:
        result.audit_annotations.append(
            _audit_annotation(policy, annotation.key, annotation.value, activation)
        )
    return result


def _audit_annotation(
    policy: CompiledPolicy, key: str, expression: Expression, activation: dict[str, CelValue]
) -> AuditAnnotationResult:
    try:
        value = _evaluate(expression, activation)
    except EvalError as e:
        action = EXCLUDE if policy.failure_policy == "Ignore" else ERROR
        return AuditAnnotationResult(key, action, error=str(e))
    if value is None:
        return AuditAnnotationResult(key, EXCLUDE)
    if isinstance(value, str):
        value = value.strip()
        return (
            AuditAnnotationResult(key, PUBLISH, value)
            if value
            else AuditAnnotationResult(key, EXCLUDE)
        )
    return AuditAnnotationResult(
        key,
        ERROR,
        error=f"valueExpression '{expression.source}' resulted in unsupported return type: "
        f"{type_name(value)}. Return type must be either string or null.",
    )
