"""A ValidatingAdmissionPolicy's expressions compiled as the plugin compiles them when it reads
the policy (k8s.io/apiserver/pkg/admission/plugin/policy/validating/plugin.go compilePolicy):
match conditions, variables (composed: each sees those before it), validations with their
messageExpressions (no authorizer there), audit annotations, all with podplane's CEL and the
environment the write-time validation compiled them in (apiserver/validation/admission_cel.py).
A policy is compiled once per stored version of it; an expression that does not compile keeps
its error, reported when it is evaluated (`compilation error: ...`)."""

from __future__ import annotations

from dataclasses import dataclass

from apiserver.validation import admission_cel
from apiserver.validation.admission_cel import Environment
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.structural import cel
from podplane.apimachinery.structural.cel import types as t
from podplane.apimachinery.structural.cel.types import Type


@dataclass(frozen=True)
class Expression:
    source: str
    program: cel.Program | None
    # Kubernetes' text when it did not compile ("compilation error: compilation failed: ...").
    error: str = ""


@dataclass(frozen=True)
class Validation:
    expression: Expression
    message: str
    message_expression: Expression | None
    reason: str  # "" for the default, Invalid


@dataclass(frozen=True)
class AuditAnnotation:
    key: str
    value: Expression


@dataclass(frozen=True)
class ParamKind:
    api_version: str
    kind: str

    def __str__(self) -> str:
        """schema.GroupVersionKind's String(), as Kubernetes' texts print a paramKind."""
        group, _, version = self.api_version.rpartition("/")
        return f"{group}/{version}, Kind={self.kind}"


@dataclass(frozen=True)
class CompiledPolicy:
    name: str
    failure_policy: str
    param_kind: ParamKind | None
    match_constraints: JSONObject
    match_conditions: tuple[tuple[str, Expression], ...]
    variables: tuple[tuple[str, Expression], ...]
    validations: tuple[Validation, ...]
    audit_annotations: tuple[AuditAnnotation, ...]


def _compile(source: str, env: Environment, result: Type | None = None) -> Expression:
    try:
        program = cel.compile_expression(source, env.declarations(), admission_cel.AUTHZ)
    except cel.CompileError as e:
        return Expression(source, None, f"compilation error: compilation failed: {e}")
    if result is not None and program.type not in (result,):
        return Expression(source, None, f"compilation error: must evaluate to {result}")
    return Expression(source, program)


def compile_policy(policy: JSONObject) -> CompiledPolicy:
    """The policy's JSON (Kubernetes' encoding of the stored object) compiled."""
    spec = policy.get("spec") or {}
    kind = spec.get("paramKind")
    has_params = kind is not None
    env = admission_cel.composed(has_params) if spec.get("variables") else Environment(has_params)
    conditions_env = Environment(has_params)  # match conditions see no variables
    conditions = tuple(
        (str(c["name"]), _compile(str(c["expression"]), conditions_env, t.BOOL))
        for c in spec.get("matchConditions") or ()
    )
    variables: list[tuple[str, Expression]] = []
    for v in spec.get("variables") or ():
        compiled = _compile(str(v["expression"]), env)
        program = compiled.program
        env.add_variable(str(v["name"]), program.type if program else t.DYN)
        variables.append((str(v["name"]), compiled))
    messages_env = Environment(has_params, has_authorizer=False, variables=env.variables)
    validations = tuple(
        Validation(
            _compile(str(v["expression"]), env, t.BOOL),
            str(v.get("message") or ""),
            _compile(str(v["messageExpression"]), messages_env, t.STRING)
            if v.get("messageExpression")
            else None,
            str(v.get("reason") or ""),
        )
        for v in spec.get("validations") or ()
    )
    annotations = tuple(
        AuditAnnotation(str(a["key"]), _compile(str(a["valueExpression"]), env))
        for a in spec.get("auditAnnotations") or ()
    )
    return CompiledPolicy(
        name=str((policy.get("metadata") or {}).get("name") or ""),
        failure_policy=str(spec.get("failurePolicy") or "Fail"),
        param_kind=ParamKind(str(kind.get("apiVersion") or ""), str(kind.get("kind") or ""))
        if isinstance(kind, dict)
        else None,
        match_constraints=spec.get("matchConstraints") or {},
        match_conditions=conditions,
        variables=tuple(variables),
        validations=validations,
        audit_annotations=annotations,
    )
