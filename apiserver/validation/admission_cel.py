"""The CEL expressions of admissionregistration.k8s.io's kinds compiled as Kubernetes compiles
them when they are written (k8s.io/apiserver/pkg/admission/plugin/cel compile.go and
composition.go), with podplane's CEL (podplane.apimachinery.structural.cel): the variables an
expression may name (object, oldObject, request, namespaceObject; params when the policy has a
paramKind; variables, the policy's earlier variables with their types; authorizer and
authorizer.requestResource, with Kubernetes' Authorizer library's functions, where Kubernetes
declares them) and the type it must evaluate to. A problem is a field error worded as Kubernetes
words it: "compilation failed: ERROR: <input>:1:5: ..." or "must evaluate to bool". Only
compiled: podplane evaluates no admission expression yet."""

from __future__ import annotations

from dataclasses import dataclass

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from podplane.apimachinery.structural import cel
from podplane.apimachinery.structural.cel import types as t
from podplane.apimachinery.structural.cel.checker import Declarations
from podplane.apimachinery.structural.cel.library import Overload
from podplane.apimachinery.structural.cel.types import Type


def _object(**members: Type) -> Type:
    return Type("object", fields=members, names={name: name for name in members})


def _request_type() -> Type:
    """BuildRequestType: kubernetes.AdmissionRequest, less uid, object and oldObject."""
    gvk = _object(group=t.STRING, version=t.STRING, kind=t.STRING)
    gvr = _object(group=t.STRING, version=t.STRING, resource=t.STRING)
    user = _object(
        username=t.STRING,
        uid=t.STRING,
        groups=t.list_of(t.STRING),
        extra=t.map_of(t.STRING, t.list_of(t.STRING)),
    )
    return _object(
        kind=gvk,
        resource=gvr,
        subResource=t.STRING,
        requestKind=gvk,
        requestResource=gvr,
        requestSubResource=t.STRING,
        name=t.STRING,
        namespace=t.STRING,
        operation=t.STRING,
        userInfo=user,
        dryRun=t.BOOL,
        options=t.DYN,
    )


def _namespace_type() -> Type:
    """BuildNamespaceType: kubernetes.Namespace, less managedFields and ownerReferences."""
    strings = t.map_of(t.STRING, t.STRING)
    condition = _object(
        status=t.STRING,
        type=t.STRING,
        lastTransitionTime=t.TIMESTAMP,
        message=t.STRING,
        reason=t.STRING,
    )
    metadata = _object(
        name=t.STRING,
        generateName=t.STRING,
        namespace=t.STRING,
        labels=strings,
        annotations=strings,
        UID=t.STRING,
        creationTimestamp=t.TIMESTAMP,
        deletionGracePeriodSeconds=t.INT,
        deletionTimestamp=t.TIMESTAMP,
        generation=t.INT,
        resourceVersion=t.STRING,
        finalizers=t.list_of(t.STRING),
    )
    return _object(
        metadata=metadata,
        spec=_object(finalizers=t.list_of(t.STRING)),
        status=_object(conditions=t.list_of(condition), phase=t.STRING),
    )


def _authz_library() -> Declarations:
    """k8s.io/apiserver/pkg/cel/library/authz.go: authorizer.group(g).resource(r)
    [.subresource(s)][.namespace(n)][.name(n)].check(verb), authorizer.path(p).check(verb),
    authorizer.serviceAccount(namespace, name), and a decision's allowed(), reason(), errored(),
    error()."""
    prefix = "kubernetes.authorization."
    authorizer, path, group, resource, decision = (
        prefix + name
        for name in ("Authorizer", "PathCheck", "GroupCheck", "ResourceCheck", "Decision")
    )

    def member(on: str, result: str, *params: str) -> Overload:
        return Overload(on, params, result)

    functions = {
        "path": (member(authorizer, path, "string"),),
        "group": (member(authorizer, group, "string"),),
        "serviceAccount": (member(authorizer, authorizer, "string", "string"),),
        "resource": (member(group, resource, "string"),),
        "subresource": (member(resource, resource, "string"),),
        "namespace": (member(resource, resource, "string"),),
        "name": (member(resource, resource, "string"),),
        "check": (member(path, decision, "string"), member(resource, decision, "string")),
        "errored": (member(decision, "bool"),),
        "error": (member(decision, "string"),),
        "allowed": (member(decision, "bool"),),
        "reason": (member(decision, "string"),),
    }
    types = {name: Type(name) for name in (authorizer, path, group, resource, decision)}
    return Declarations(functions, types)


AUTHZ = _authz_library()
AUTHORIZER = AUTHZ.types["kubernetes.authorization.Authorizer"]
RESOURCE_CHECK = AUTHZ.types["kubernetes.authorization.ResourceCheck"]
REQUEST = _request_type()
NAMESPACE = _namespace_type()
BOOL_RESULT = (t.BOOL,)
STRING_RESULT = (t.STRING,)
# An audit annotation's value: a string, or null for none.
STRING_OR_NULL = (t.STRING, t.NULL)
ANY_RESULT: tuple[Type, ...] = ()


@dataclass
class Environment:
    """The variables an admission expression may name (mustBuildEnvs' combinations) and, for a
    policy with variables, the composition's `variables` (its fields added as each variable is
    compiled, so that a variable sees those before it)."""

    has_params: bool = False
    # A messageExpression has no authorizer (Kubernetes declares it for the others).
    has_authorizer: bool = True
    # kubernetes.variables, when the policy has variables (NewCompositedCompiler).
    variables: Type | None = None

    def declarations(self) -> dict[str, Type]:
        declared = {
            "object": t.DYN,
            "oldObject": t.DYN,
            "request": REQUEST,
            "namespaceObject": NAMESPACE,
        }
        if self.has_params:
            declared["params"] = t.DYN
        if self.has_authorizer:
            declared["authorizer"] = AUTHORIZER
            declared["authorizer.requestResource"] = RESOURCE_CHECK
        if self.variables is not None:
            declared["variables"] = self.variables
        return declared

    def add_variable(self, name: str, type_: Type) -> None:
        if self.variables is not None:
            self.variables.fields[name] = type_
            self.variables.names[name] = name


def composed(has_params: bool) -> Environment:
    """A policy's environment when it declares variables (NewCompositedCompiler)."""
    return Environment(has_params=has_params, variables=_object())


def compile_into(
    path: str,
    expression: str,
    env: Environment,
    results: tuple[Type, ...],
) -> tuple[list[FieldError], Type | None]:
    """CompileCELExpression: the field errors of `expression` at `path` and its type (None when
    it does not compile)."""
    try:
        program = cel.compile_expression(expression, env.declarations(), AUTHZ)
    except cel.CompileError as e:
        return [fields.invalid(path, expression, f"compilation failed: {e}")], None
    if results and not any(program.type == r for r in results):
        if len(results) == 1:
            reason = f"must evaluate to {results[0]}"
        else:  # cel-go's type names: string, null_type
            reason = f"must evaluate to one of [{' '.join(str(r) for r in results)}]"
        return [fields.invalid(path, expression, reason)], program.type
    return [], program.type


def check(
    path: str, expression: str, env: Environment, results: tuple[Type, ...]
) -> list[FieldError]:
    return compile_into(path, expression, env, results)[0]


def variable(path: str, name: str, expression: str, env: Environment) -> list[FieldError]:
    """CompileAndStoreVariable: a variable's expression, of any type; the composition learns
    its type (dyn when it does not compile) for the expressions after it."""
    errs, type_ = compile_into(path, expression, env, ANY_RESULT)
    env.add_variable(name, type_ if type_ is not None else t.DYN)
    return errs
