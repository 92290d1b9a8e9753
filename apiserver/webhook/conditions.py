"""A webhook's matchConditions: CEL expressions over `object`, `oldObject` (dyn) and `request`
(the AdmissionRequest without its objects), compiled and evaluated by podplane's CEL
(podplane.apimachinery.structural.cel), with Kubernetes' texts and rules
(k8s.io/apiserver/pkg/admission/plugin/webhook/matchconditions and plugin/cel): every condition
is evaluated; one false skips the webhook; otherwise an error (a condition that did not compile
or failed) fails the request under failurePolicy Fail and skips the webhook under Ignore."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.structural.cel import (
    CompileError,
    EvalError,
    Program,
    compile_expression,
)
from podplane.apimachinery.structural.cel.types import BOOL, DYN, STRING, Type, list_of, map_of


def _object(**fields: Type) -> Type:
    return Type("object", fields=fields, names={name: name for name in fields})


_GVK = _object(group=STRING, version=STRING, kind=STRING)
_GVR = _object(group=STRING, version=STRING, resource=STRING)
_USER_INFO = _object(
    username=STRING, uid=STRING, groups=list_of(STRING), extra=map_of(STRING, list_of(STRING))
)
# plugin/cel BuildRequestType: kubernetes.AdmissionRequest.
REQUEST_TYPE = _object(
    kind=_GVK,
    resource=_GVR,
    subResource=STRING,
    requestKind=_GVK,
    requestResource=_GVR,
    requestSubResource=STRING,
    name=STRING,
    namespace=STRING,
    operation=STRING,
    userInfo=_USER_INFO,
    dryRun=BOOL,
    options=DYN,
)
VARIABLES: dict[str, Type] = {"object": DYN, "oldObject": DYN, "request": REQUEST_TYPE}


@dataclass(frozen=True)
class MatchCondition:
    name: str
    expression: str
    program: Program | None
    error: str  # the compilation's error, as the filter reports it; "" when it compiled


def compile_condition(name: str, expression: str) -> MatchCondition:
    """Compiles once, when the configuration is read; a failure is kept and reported at
    evaluation (`compilation error: compilation failed: ...`, `... must evaluate to bool`)."""
    try:
        program = compile_expression(expression, VARIABLES)
    except CompileError as e:
        return MatchCondition(name, expression, None, f"compilation error: compilation failed: {e}")
    if program.type != BOOL:
        return MatchCondition(name, expression, None, "compilation error: must evaluate to bool")
    return MatchCondition(name, expression, program, "")


def conditions_from_json(items: Sequence[JSONObject]) -> tuple[MatchCondition, ...]:
    return tuple(compile_condition(str(c["name"]), str(c["expression"])) for c in items)


@dataclass(frozen=True)
class MatchResult:
    matches: bool
    error: str = ""  # utilerrors.NewAggregate's text of the errors, under failurePolicy Fail
    failed_condition: str = ""  # the name of the condition that was false


def _aggregate(errors: list[str]) -> str:
    """utilerrors.Aggregate's Error(): one message, or the distinct ones in brackets."""
    distinct = list(dict.fromkeys(errors))
    return distinct[0] if len(distinct) == 1 else "[" + ", ".join(distinct) + "]"


def evaluate(
    conditions: Sequence[MatchCondition],
    obj: JSONObject | None,
    old_obj: JSONObject | None,
    request: JSONObject,
    failure_policy: str,
) -> MatchResult:
    """Whether the request matches the conditions; `request` is the AdmissionRequest JSON."""
    variables = {"object": obj, "oldObject": old_obj, "request": request}
    errors: list[str] = []
    for condition in conditions:
        if condition.program is None:
            errors.append(condition.error)
            continue
        try:
            value = condition.program.evaluate(variables)
        except EvalError as e:
            errors.append(f"expression '{condition.expression}' resulted in error: {e}")
            continue
        if value is False:
            return MatchResult(False, failed_condition=condition.name)
    if errors:
        if failure_policy == "Ignore":
            return MatchResult(False)
        return MatchResult(False, error=_aggregate(errors))
    return MatchResult(True)
