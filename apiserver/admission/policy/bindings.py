"""The values an admission expression is evaluated with, as Kubernetes binds them
(k8s.io/apiserver/pkg/admission/plugin/cel activation, composition.go, and
k8s.io/apiserver/pkg/cel/library/authz.go): `request` (CreateAdmissionRequest's fields),
`namespaceObject` (CreateNamespaceObject's), `variables` evaluated lazily, each once, when an
expression reads it, and the Authorizer library's values (authorizer, its path, group, resource
and decision checks over the apiserver's authorizer)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from apiserver.admission.attributes import Attributes
from apiserver.auth.user import UserInfo
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.serviceaccount import make_group_names, make_username
from podplane.apimachinery.structural.cel import EvalError, Program
from podplane.apimachinery.structural.cel.runtime import CelObject, CelValue, parse_timestamp

# (user, verb, API group, resource, subresource, namespace, name) -> (allowed, reason)
ResourceAuthorize = Callable[[UserInfo, str, str, str, str, str, str], tuple[bool, str]]
# (user, verb, path) -> allowed
PathAuthorize = Callable[[UserInfo, str, str], bool]
_OPTIONS_API_VERSION = "meta.k8s.io/v1"


def gvk(group: str, version: str, kind: str) -> JSONObject:
    return {"group": group, "version": version, "kind": kind}


def gvr(group: str, version: str, resource: str) -> JSONObject:
    return {"group": group, "version": version, "resource": resource}


def user_json(user: UserInfo | None) -> JSONObject:
    if user is None:
        return {"username": "", "uid": "", "groups": [], "extra": {}}
    return {
        "username": user.name,
        "uid": user.uid,
        "groups": sorted(user.groups),
        "extra": {k: list(v) for k, v in user.extra},
    }


def options_json(attrs: Attributes) -> JSONObject:
    options = attrs.options
    out: JSONObject = {"kind": options.kind, "apiVersion": _OPTIONS_API_VERSION}
    if options.dry_run:
        out["dryRun"] = ["All"]
    if options.field_manager:
        out["fieldManager"] = options.field_manager
    if options.propagation_policy:
        out["propagationPolicy"] = options.propagation_policy
    if options.grace_period_seconds is not None:
        out["gracePeriodSeconds"] = options.grace_period_seconds
    return out


def request_json(attrs: Attributes, matched: JSONObject, matched_kind: JSONObject) -> JSONObject:
    """CreateAdmissionRequest: the resource and kind the policy matched, and those requested."""
    r = attrs.resource
    return {
        "kind": matched_kind,
        "resource": matched,
        "subResource": attrs.subresource,
        "requestKind": gvk(r.group, r.version, r.kind),
        "requestResource": gvr(r.group, r.version, r.plural),
        "requestSubResource": attrs.subresource,
        "name": attrs.name,
        "namespace": attrs.namespace,
        "operation": attrs.operation,
        "userInfo": user_json(attrs.user_info),
        "dryRun": attrs.dry_run,
        "options": options_json(attrs),
    }


def _timestamp(value: object) -> CelValue:
    return parse_timestamp(value) if isinstance(value, str) and value else None


def namespace_object(namespace: JSONObject | None) -> JSONObject | None:
    """CreateNamespaceObject: the namespace's metadata (less managed fields and owner
    references), spec and status; null for a cluster-scoped request."""
    if namespace is None:
        return None
    meta = namespace.get("metadata") or {}
    metadata: JSONObject = {
        "name": meta.get("name", ""),
        "generateName": meta.get("generateName", ""),
        "namespace": meta.get("namespace", ""),
        "labels": meta.get("labels") or {},
        "annotations": meta.get("annotations") or {},
        "UID": meta.get("uid", ""),
        "creationTimestamp": _timestamp(meta.get("creationTimestamp")),
        "deletionGracePeriodSeconds": meta.get("deletionGracePeriodSeconds", 0),
        "deletionTimestamp": _timestamp(meta.get("deletionTimestamp")),
        "generation": meta.get("generation", 0),
        "resourceVersion": meta.get("resourceVersion", ""),
        "finalizers": meta.get("finalizers") or [],
    }
    status = namespace.get("status") or {}
    conditions = [
        {**c, "lastTransitionTime": _timestamp(c.get("lastTransitionTime"))}
        for c in status.get("conditions") or ()
    ]
    return {
        "metadata": metadata,
        "spec": {"finalizers": (namespace.get("spec") or {}).get("finalizers") or []},
        "status": {"conditions": conditions, "phase": status.get("phase", "")},
    }


class LazyVariables(dict[str, CelValue]):
    """`variables`: each evaluated when first read, then kept (lazy.MapValue). A variable that
    did not compile, or failed, is an error where it is read."""

    def __init__(self, programs: list[tuple[str, Program | None, str]]) -> None:
        super().__init__((name, None) for name, _, _ in programs)
        self._programs = {name: (program, error) for name, program, error in programs}
        self._values: dict[str, CelValue] = {}
        self.activation: dict[str, CelValue] = {}

    def __getitem__(self, name: str) -> CelValue:
        if name in self._values:
            return self._values[name]
        program, error = self._programs[name]
        if program is None:
            raise EvalError(f'composited variable "{name}" fails to compile: {error}')
        value = program.evaluate(self.activation)
        self._values[name] = value
        return value


@dataclass(frozen=True)
class Decision(CelObject):
    allowed: bool
    reason: str
    type_name = "kubernetes.authorization.Decision"

    def call(self, function: str, args: list[CelValue]) -> CelValue:
        if not args and function == "allowed":
            return self.allowed
        if not args and function == "reason":
            return self.reason
        if not args and function == "errored":
            return False
        if not args and function == "error":
            return ""
        return super().call(function, args)


@dataclass(frozen=True)
class ResourceCheck(CelObject):
    authorize: ResourceAuthorize
    user: UserInfo
    group: str
    resource: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    type_name = "kubernetes.authorization.ResourceCheck"

    def call(self, function: str, args: list[CelValue]) -> CelValue:
        if len(args) == 1 and isinstance(args[0], str):
            if function == "subresource":
                return replace(self, subresource=args[0])
            if function == "namespace":
                return replace(self, namespace=args[0])
            if function == "name":
                return replace(self, name=args[0])
            if function == "check":
                allowed, reason = self.authorize(
                    self.user,
                    args[0],
                    self.group,
                    self.resource,
                    self.subresource,
                    self.namespace,
                    self.name,
                )
                return Decision(allowed, reason)
        return super().call(function, args)


@dataclass(frozen=True)
class GroupCheck(CelObject):
    authorizer: AuthorizerValue
    group: str
    type_name = "kubernetes.authorization.GroupCheck"

    def call(self, function: str, args: list[CelValue]) -> CelValue:
        if function == "resource" and len(args) == 1 and isinstance(args[0], str):
            if not args[0].strip():
                raise EvalError("resource must not be empty")
            a = self.authorizer
            return ResourceCheck(a.authorize, a.user, self.group, args[0])
        return super().call(function, args)


@dataclass(frozen=True)
class PathCheck(CelObject):
    authorizer: AuthorizerValue
    path: str
    type_name = "kubernetes.authorization.PathCheck"

    def call(self, function: str, args: list[CelValue]) -> CelValue:
        if function == "check" and len(args) == 1 and isinstance(args[0], str):
            a = self.authorizer
            return Decision(a.authorize_path(a.user, args[0], self.path), "")
        return super().call(function, args)


@dataclass(frozen=True)
class AuthorizerValue(CelObject):
    """`authorizer`: checks of the requester's (or a service account's) permissions."""

    authorize: ResourceAuthorize
    authorize_path: PathAuthorize
    user: UserInfo
    type_name = "kubernetes.authorization.Authorizer"

    def call(self, function: str, args: list[CelValue]) -> CelValue:
        if function == "group" and len(args) == 1 and isinstance(args[0], str):
            return GroupCheck(self, args[0])
        if function == "path" and len(args) == 1 and isinstance(args[0], str):
            if not args[0]:
                raise EvalError("path must not be empty")
            return PathCheck(self, args[0])
        if function == "serviceAccount" and len(args) == 2:
            namespace, name = args
            if not isinstance(namespace, str) or not isinstance(name, str):
                return super().call(function, args)
            account = UserInfo(
                make_username(namespace, name), frozenset(make_group_names(namespace))
            )
            return replace(self, user=account)
        return super().call(function, args)

    def request_resource(self, attrs: Attributes) -> ResourceCheck:
        """authorizer.requestResource: the request's own resource."""
        r = attrs.resource
        return ResourceCheck(
            self.authorize,
            self.user,
            r.group,
            r.plural,
            attrs.subresource,
            attrs.namespace,
            attrs.name,
        )
